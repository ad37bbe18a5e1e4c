"""``tradestore partitions``: the time partitions of the history tables (PostgreSQL)."""

from __future__ import annotations

import click
from rich.table import Table

from tradestore.cli._common import (
    console,
    handle_errors,
    json_option,
    open_database,
    print_json,
    url_option,
)
from tradestore.db.partitioning import INTERVALS
from tradestore.ops.partitions import PartitionsReport


@click.group("partitions")
def partitions() -> None:
    """List, create ahead and re-cut the time partitions of fills and portfolio snapshots.

    Only a PostgreSQL database upgraded with partitioning (the default) has any; see
    docs/operations/partitioning.md.
    """


def _print(report: PartitionsReport, title: str) -> None:
    out = console()
    if not report.policies:
        out.print("no partitioned tables in this database")
        return
    for policy in report.policies:
        table = Table(
            "partition",
            "from",
            "to",
            "rows (est.)",
            "size",
            title=f"{policy.table}: by {policy.column}, {policy.interval}ly, "
            f"{policy.premake} ahead{title}",
        )
        for column in (3, 4):
            table.columns[column].justify = "right"
        for partition in report.partitions:
            if partition.table != policy.table:
                continue
            mark = " (new)" if partition.name in report.created else ""
            table.add_row(
                partition.name + mark,
                str(partition.lower or "DEFAULT"),
                str(partition.upper or ""),
                f"{max(partition.estimated_rows, 0):,}",
                f"{partition.total_bytes / 1e6:,.1f} MB",
            )
        out.print(table)
    if report.rows_in_default():
        out.print(
            f"note: about {report.rows_in_default():,} rows are in a DEFAULT partition; "
            "`tradestore partitions ensure` gives them partitions of their own"
        )


@partitions.command("list")
@url_option
@json_option
@handle_errors
def list_command(url: str | None, as_json: bool) -> None:
    """Each partitioned table's policy and partitions."""
    from tradestore.ops.partitions import list_partitions

    with open_database(url) as database:
        report = list_partitions(database)
    if as_json:
        print_json(report)
        return
    _print(report, "")


@partitions.command("ensure")
@url_option
@click.option("--dry-run", is_flag=True, help="Report what would be created; create nothing.")
@json_option
@handle_errors
def ensure_command(url: str | None, dry_run: bool, as_json: bool) -> None:
    """Create the current interval's partition and those ahead (idempotent; run from cron)."""
    from tradestore.ops.partitions import ensure_partitions

    with open_database(url) as database:
        report = ensure_partitions(database, dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    _print(report, ", dry run" if dry_run else "")
    verb = "would create" if dry_run else "created"
    console().print(f"{verb} {len(report.created)} partitions")


@partitions.command("set-policy")
@url_option
@click.argument("table")
@click.option("--interval", type=click.Choice(INTERVALS), help="Span of partitions created next.")
@click.option("--premake", type=click.IntRange(0, 120), help="Intervals created ahead of today.")
@json_option
@handle_errors
def set_policy_command(
    url: str | None, table: str, interval: str | None, premake: int | None, as_json: bool
) -> None:
    """Change how TABLE's partitions are cut from now on (existing partitions stay)."""
    from tradestore.ops.partitions import set_partition_policy

    with open_database(url) as database:
        policy = set_partition_policy(database, table, interval=interval, premake=premake)
    if as_json:
        print_json(policy)
        return
    console().print(
        f"{policy.table}: {policy.interval}ly partitions, {policy.premake} ahead, from the next "
        "one created"
    )
