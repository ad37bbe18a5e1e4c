from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from click.testing import Result

Cli = Callable[..., Result]
Run = Callable[..., CompletedProcess[str]]


def test_stats_table_and_json(cli: Cli, run: Run, db_url: str, scenario: Any) -> None:
    result = cli("stats", "--url", db_url, "--indexes")
    assert result.exit_code == 0, result.output
    assert "idx_orders_ticker" in result.stdout
    assert "database size:" in result.stdout
    process = run("stats", "--url", db_url, "--json")
    assert process.returncode == 0, process.stderr
    stats = json.loads(process.stdout)
    rows = {table["name"]: table["rows"] for table in stats["tables"]}
    assert rows["orders"] == 10
    assert rows["training_episodes"] == 16
    assert stats["total_rows"] == sum(rows.values())
    assert stats["size_bytes"] > 0


def test_export_csv_to_stdout(cli: Cli, db_url: str, scenario: Any) -> None:
    result = cli("export", "orders", "--url", db_url, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 10
    assert "exported 10 rows of orders as csv to stdout" in result.stderr


def test_export_jsonl_as_a_process_with_since(run: Run, db_url: str, scenario: Any) -> None:
    process = run("export", "fills", "--url", db_url, "--format", "jsonl", "--since", "2025-03-01")
    assert process.returncode == 0, process.stderr
    records = [json.loads(line, parse_float=Decimal) for line in process.stdout.splitlines()]
    assert {r["fill_id"] for r in records} == {"o-filled-recent-f0"}
    assert records[0]["price"] == Decimal("150.125")


def test_export_parquet_to_a_file(cli: Cli, db_url: str, scenario: Any, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "episodes.parquet"
    result = cli(
        "export", "training_episodes", "--url", db_url, "--format", "parquet", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(target).num_rows == 16
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_usage_errors(cli: Cli, db_url: str) -> None:
    for args in (
        ["nope"],
        ["orders", "--format", "xml"],
        ["orders", "--since", "last tuesday"],
        ["hyperparameters", "--since", "7d"],
    ):
        result = cli("export", *args, "--url", db_url)
        assert result.exit_code == 2, (args, result.output)


def test_export_refuses_an_existing_file_unless_forced(
    cli: Cli, db_url: str, scenario: Any, tmp_path: Path
) -> None:
    target = tmp_path / "orders.csv"
    target.write_text("old\n")
    result = cli("export", "orders", "--url", db_url, "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "--force" in result.output
    assert target.read_text() == "old\n"
    result = cli("export", "orders", "--url", db_url, "-o", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == 10
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []
