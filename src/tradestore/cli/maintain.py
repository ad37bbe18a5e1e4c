"""``tradestore maintain``: VACUUM / ANALYZE / REINDEX CONCURRENTLY, or SQLite's equivalents."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from tradestore.cli._common import (
    console,
    handle_errors,
    json_option,
    open_database,
    print_json,
    progress_bar,
    url_option,
)
from tradestore.ops.maintain import (
    DEFAULT_BLOAT_RATIO,
    DEFAULT_MIN_INDEX_BYTES,
    REINDEX_CHOICES,
)


@click.command("maintain")
@url_option
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (one statement per step); run nothing."
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="TABLE",
    help="Maintain only this table (repeatable). Default: every table.",
)
@click.option(
    "--reindex",
    type=click.Choice(REINDEX_CHOICES),
    default="bloated",
    show_default=True,
    help="PostgreSQL: which indexes REINDEX INDEX CONCURRENTLY rebuilds.",
)
@click.option(
    "--analyze-only",
    is_flag=True,
    help="Only refresh the planner's statistics (ANALYZE); no vacuum, reindex or checkpoint.",
)
@click.option(
    "--bloat-ratio",
    type=click.FloatRange(min=1, min_open=True),
    default=DEFAULT_BLOAT_RATIO,
    show_default=True,
    help="An index is bloated above this multiple of its estimated size.",
)
@click.option(
    "--min-index-size",
    "min_index_bytes",
    type=click.IntRange(min=0),
    default=DEFAULT_MIN_INDEX_BYTES,
    show_default=True,
    help="Bytes: smaller indexes are never counted as bloated.",
)
@json_option
@handle_errors
def maintain_command(
    url: str | None,
    dry_run: bool,
    tables: tuple[str, ...],
    reindex: str,
    analyze_only: bool,
    bloat_ratio: float,
    min_index_bytes: int,
    as_json: bool,
) -> None:
    """Vacuum, analyze and reindex, safely while bots write.

    PostgreSQL: VACUUM (ANALYZE) per table and REINDEX INDEX CONCURRENTLY of bloated indexes
    (never VACUUM FULL or a plain REINDEX: no step takes a lock that stops reads or writes).
    SQLite: PRAGMA optimize, incremental vacuum when enabled, ANALYZE per table and a TRUNCATE
    checkpoint of the WAL. See docs/operations.md, Maintenance, for each step's lock.
    """
    from tradestore.errors import ValidationError
    from tradestore.ops.maintain import maintain_database

    with open_database(url) as database, progress_bar() as progress:
        try:
            report = maintain_database(
                database,
                tables=tables or None,
                reindex=reindex,  # type: ignore[arg-type]  # click.Choice checked it
                analyze_only=analyze_only,
                dry_run=dry_run,
                bloat_ratio=bloat_ratio,
                min_index_bytes=min_index_bytes,
                progress=progress,
            )
        except ValidationError as exc:
            if exc.field == "tables":
                raise click.BadParameter(exc.reason, param_hint="--table") from None
            raise
    if as_json:
        print_json(report)
        return
    out = console()
    title = (
        f"maintenance plan ({report.backend}), dry run"
        if dry_run
        else (f"maintenance ({report.backend})")
    )
    table = Table("step", "target", "statement", "lock", "seconds", title=title)
    table.columns[4].justify = "right"
    for step in report.steps:
        seconds = "-" if step.seconds is None else f"{step.seconds:.2f}"
        statement = escape(step.statement)
        if step.reason:
            statement += f"\n[dim]{escape(step.reason)}[/]"
        if step.result:
            statement += f"\n[dim]{escape(step.result)}[/]"
        table.add_row(
            step.action, escape(step.target or "(database)"), statement, step.lock, seconds
        )
    out.print(table)
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    verb = "would run" if dry_run else "ran"
    out.print(f"{verb} {len(report.steps)} statements in {report.seconds:.1f}s")
