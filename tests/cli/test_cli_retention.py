from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import ops_scenario as sm
from click.testing import Result

from tradestore import Database

Cli = Callable[..., Result]
Run = Callable[..., CompletedProcess[str]]


CUTOFF = sm.CUTOFF.isoformat()  # the scenario's rows are dated around 2025-06-01


def test_prune_dry_run_counts_equal_the_real_run(
    cli: Cli, run: Run, db: Database, db_url: str, scenario: Any
) -> None:
    dry = cli("prune", "--url", db_url, "--before", CUTOFF, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    dry_counts = json.loads(dry.stdout)["counts"]
    assert dry_counts == scenario.expected
    assert sm.count(db, sm.Order) == 10

    real = run("prune", "--url", db_url, "--before", CUTOFF, "--json")
    assert real.returncode == 0, real.stderr
    report = json.loads(real.stdout)
    assert report["dry_run"] is False
    assert report["counts"] == dry_counts
    assert report["total"] == 30

    table = cli("prune", "--url", db_url, "--before", CUTOFF, "--dry-run")
    assert table.exit_code == 0
    assert "would delete 0 rows" in table.stdout
    assert "dry run" in table.stdout


def test_prune_table_option_and_usage_errors(cli: Cli, db_url: str, scenario: Any) -> None:
    only = cli(
        "prune", "--url", db_url, "--before", CUTOFF, "--table", "portfolio_snapshots", "--json"
    )
    assert json.loads(only.stdout)["counts"] == {"portfolio_snapshots": 4}
    # an age long enough to reach back before every row of the scenario
    assert (
        json.loads(cli("prune", "--url", db_url, "--older-than", "5000d", "--json").stdout)["total"]
        == 0
    )
    for bad in (
        ["--older-than", "ninety"],
        ["--older-than", "0d"],
        ["--before", "soon"],
        ["--older-than", "9d", "--before", "2025-01-01"],
        ["--older-than", "9d", "--table", "fills"],
        [],
    ):
        result = cli("prune", "--url", db_url, *bad)
        assert result.exit_code == 2, (bad, result.output)
