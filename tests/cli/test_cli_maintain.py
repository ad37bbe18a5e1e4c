from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

from tradestore import Database

Cli = Callable[..., Result]


def test_maintain_dry_run_prints_the_plan_and_json(cli: Cli, db: Database, db_url: str) -> None:
    plan = cli("maintain", "--url", db_url, "--dry-run", "--table", "fills")
    assert plan.exit_code == 0, plan.output
    assert "dry run" in plan.stdout
    expected = "VACUUM (ANALYZE) fills" if db.dialect_name == "postgresql" else "ANALYZE fills"
    assert expected in plan.stdout
    assert "would run" in plan.stdout

    result = cli("maintain", "--url", db_url, "--json", "--reindex", "all", "--table", "orders")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    assert report["backend"] == db.dialect_name
    assert all(step["seconds"] is not None for step in report["steps"])
    if db.dialect_name == "postgresql":
        assert any(s["statement"].startswith("REINDEX INDEX CONCURRENTLY") for s in report["steps"])


def test_maintain_usage_errors(cli: Cli, db_url: str) -> None:
    for bad in (
        ["--table", "nope"],
        ["--reindex", "some"],
        ["--bloat-ratio", "1"],
        ["--min-index-size", "-1"],
    ):
        result = cli("maintain", "--url", db_url, *bad)
        assert result.exit_code == 2, (bad, result.output)
