"""``tradestore prune``: retention of old history."""

from __future__ import annotations

import click
from rich.table import Table

from tradestore.cli._common import (
    console,
    handle_errors,
    json_option,
    open_database,
    parse_or_usage,
    print_json,
    progress_bar,
    url_option,
    when,
)
from tradestore.ops.retention import DEFAULT_BATCH_SIZE, PRUNABLE
from tradestore.ops.timespec import parse_duration, parse_instant


@click.command("prune")
@url_option
@click.option(
    "--older-than",
    metavar="AGE",
    help="Cut-off age, e.g. 90d, 12w, 36h (units s, m, h, d, w).",
)
@click.option(
    "--before",
    metavar="WHEN",
    help="Cut-off instant instead of an age: 2025-01-31 (midnight UTC) or an ISO date-time.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--yes",
    is_flag=True,
    help="Confirm a --before in the future (every terminal row is then old enough).",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    type=click.Choice(PRUNABLE),
    help=(
        "Prune only this table (repeatable; fills go with orders, intraday_snapshot_symbols "
        "with intraday_snapshots). Default: all."
    ),
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows deleted per transaction.",
)
@json_option
@handle_errors
def prune_command(
    url: str | None,
    older_than: str | None,
    before: str | None,
    dry_run: bool,
    yes: bool,
    tables: tuple[str, ...],
    batch_size: int,
    as_json: bool,
) -> None:
    """Delete history older than AGE (or before WHEN), in short batches.

    Terminal orders with their fills, closed positions, episodes of finished training runs,
    daily and intraday portfolio snapshots (with their per-symbol lines), performance metrics
    and period metrics. Never open positions, non-terminal orders,
    running training runs or runs in an active ensemble. See docs/operations.md for the
    timestamp each table is aged by.
    """
    from tradestore.errors import ValidationError
    from tradestore.ops.retention import prune

    if (older_than is None) == (before is None):
        raise click.UsageError("give either --older-than AGE or --before WHEN")
    # ``is not None``: an empty value is a bad value, not a missing option.
    age = (
        parse_or_usage("--older-than", parse_duration, older_than)
        if older_than is not None
        else None
    )
    cutoff = parse_or_usage("--before", parse_instant, before) if before is not None else None
    with open_database(url) as database, progress_bar() as progress:
        try:
            report = prune(
                database,
                older_than=age,
                cutoff=cutoff,
                dry_run=dry_run,
                tables=tables or None,
                batch_size=batch_size,
                progress=progress,
                allow_future=yes,
            )
        except ValidationError as exc:
            hints = {"cutoff": "--before", "older_than": "--older-than"}
            if exc.field in hints:
                raise click.BadParameter(exc.reason, param_hint=hints[exc.field]) from None
            raise
    if as_json:
        print_json(report)
        return
    verb = "would delete" if dry_run else "deleted"
    title = f"prune rows older than {when(report.cutoff)}"
    table = Table(
        "table",
        "rows to delete" if dry_run else "rows deleted",
        title=title + (", dry run" if dry_run else ""),
    )
    table.columns[1].justify = "right"
    for name, count in report.counts.items():
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]total[/]", f"[bold]{report.total:,}[/]")
    out = console()
    out.print(table)
    out.print(f"{verb} {report.total:,} rows in {report.seconds:.1f}s")
