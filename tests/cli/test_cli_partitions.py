"""``tradestore partitions`` and ``tradestore db upgrade --partitioning`` (PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from sqlalchemy import text

from tradestore import Database

Cli = Callable[..., Result]


@pytest.mark.postgres_only
def test_upgrade_chooses_the_partitioning_and_the_commands_show_it(
    cli: Cli, fresh_url: str
) -> None:
    result = cli("db", "upgrade", "--url", fresh_url, "--partitioning", "week")
    assert result.exit_code == 0, result.output

    listed = cli("partitions", "list", "--url", fresh_url, "--json")
    assert listed.exit_code == 0, listed.output
    report = json.loads(listed.stdout)
    assert {p["interval"] for p in report["policies"]} == {"week"}
    names = [p["name"] for p in report["partitions"]]
    assert "fills_default" in names
    assert "portfolio_snapshots_default" in names

    dry = cli("partitions", "ensure", "--url", fresh_url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would create 0 partitions" in dry.stdout

    changed = cli("partitions", "set-policy", "fills", "--url", fresh_url, "--premake", "6")
    assert changed.exit_code == 0, changed.output
    ensured = cli("partitions", "ensure", "--url", fresh_url)
    assert ensured.exit_code == 0, ensured.output
    assert "created 3 partitions" in ensured.stdout  # weeks 4, 5 and 6 ahead

    refused = cli("partitions", "set-policy", "orders", "--url", fresh_url, "--premake", "1")
    assert refused.exit_code == 1
    assert "orders" in refused.stderr


def test_unpartitioned_databases_list_nothing(cli: Cli, fresh_url: str, backend: str) -> None:
    options = ("--partitioning", "none") if backend == "postgresql" else ()
    assert cli("db", "upgrade", "--url", fresh_url, *options).exit_code == 0
    listed = cli("partitions", "list", "--url", fresh_url)
    assert listed.exit_code == 0, listed.output
    assert "no partitioned tables" in listed.stdout
    database = Database(fresh_url)
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM partition_policies")).scalar() == 0
            connection.rollback()
    finally:
        database.dispose()
