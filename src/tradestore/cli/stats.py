"""``tradestore stats``: rows and size per table, database size."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from tradestore.cli._common import (
    console,
    handle_errors,
    human_bytes,
    json_option,
    open_database,
    print_json,
    progress_bar,
    url_option,
)


@click.command("stats")
@url_option
@click.option("--indexes", is_flag=True, help="Also list every index (size; scans on PostgreSQL).")
@json_option
@handle_errors
def stats_command(url: str | None, indexes: bool, as_json: bool) -> None:
    """Rows and size of every table, and the database's size."""
    from tradestore.ops.stats import database_stats

    with open_database(url) as database, progress_bar() as progress:
        result = database_stats(database, indexes=indexes, progress=progress)
    if as_json:
        print_json(result)
        return
    out = console()
    table = Table("table", "rows", "total", "data", "indexes", title=escape(result.database))
    for column in table.columns[1:]:
        column.justify = "right"
    for entry in sorted(result.tables, key=lambda t: (-(t.total_bytes or 0), t.name)):
        table.add_row(
            entry.name,
            f"{entry.rows:,}",
            human_bytes(entry.total_bytes),
            human_bytes(entry.table_bytes),
            human_bytes(entry.index_bytes),
        )
    out.print(table)
    if indexes and result.indexes:
        index_table = Table("table", "index", "size", "scans")
        for column in index_table.columns[2:]:
            column.justify = "right"
        for index in result.indexes:
            index_table.add_row(
                index.table,
                index.name,
                human_bytes(index.size_bytes),
                "-" if index.scans is None else f"{index.scans:,}",
            )
        out.print(index_table)
    size = f"database size: {human_bytes(result.size_bytes)}"
    if result.wal_bytes is not None:
        size += f" (+ WAL {human_bytes(result.wal_bytes)})"
    out.print(f"{size}; {result.total_rows:,} rows in {len(result.tables)} tables")
