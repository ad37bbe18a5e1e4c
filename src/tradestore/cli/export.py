"""``tradestore export``: one table or view as CSV, JSON Lines or Parquet, streaming."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from tradestore.cli._common import (
    console,
    handle_errors,
    open_database,
    parse_or_usage,
    progress_bar,
    url_option,
)
from tradestore.errors import ValidationError
from tradestore.ops.export import DEFAULT_BATCH_SIZE, FORMATS
from tradestore.ops.timespec import parse_instant


@click.command("export")
@url_option
@click.argument("table")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="Output format (parquet needs pyarrow: pip install 'tradestore[parquet]').",
)
@click.option(
    "--since",
    metavar="WHEN",
    default=None,
    help="Only rows at or after WHEN: 2024-01-31, an ISO date-time (UTC unless an offset is "
    "given) or an age such as 7d.",
)
@click.option(
    "--time-column",
    default=None,
    help="Column --since filters on (default: the table's event time, see docs).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    default=Path("-"),
    show_default=True,
    help="File to write (mode 0600, renamed into place when complete); '-' is stdout.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace FILE if it exists (a symbolic link is replaced, never followed).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Rows fetched per round trip.",
)
@handle_errors
def export_command(
    url: str | None,
    table: str,
    fmt: str,
    since: str | None,
    time_column: str | None,
    output: Path,
    force: bool,
    batch_size: int,
) -> None:
    """Export TABLE (a table or a v_* view) without loading it into memory."""
    from tradestore.ops.export import export_table

    instant = parse_or_usage("--since", parse_instant, since) if since is not None else None
    to_stdout = str(output) == "-"
    if to_stdout and fmt == "parquet" and sys.stdout.isatty():
        raise click.UsageError("parquet is binary: pass --output FILE or redirect stdout")
    destination = (sys.stdout.buffer if fmt == "parquet" else sys.stdout) if to_stdout else output
    with open_database(url) as database, progress_bar() as progress:
        database.check_schema()
        try:
            result = export_table(
                database,
                table,
                destination,
                format=fmt,
                since=instant,
                time_column=time_column,
                batch_size=batch_size,
                progress=progress,
                force=force,
            )
        except ValidationError as exc:
            if exc.field in ("table", "since"):
                raise click.BadParameter(exc.reason, param_hint=exc.field.upper()) from None
            if exc.field == "output":
                raise click.BadParameter(
                    f"{exc.value}: {exc.reason}", param_hint="'-o' / '--output'"
                ) from None
            raise
    where = "stdout" if to_stdout else str(output)
    console(stderr=True).print(
        f"exported {result.rows:,} rows of {escape(result.table)} as {fmt} to {escape(where)}"
    )
