from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tradestore import Database
from tradestore.migrate import head_revision, known_revisions

HEAD = head_revision()

Cli = Callable[..., Result]
Run = Callable[..., CompletedProcess[str]]


def test_upgrade_current_status_verify(cli: Cli, fresh_url: str, backend: str) -> None:
    result = cli("db", "status", "--url", fresh_url)
    assert result.exit_code == 1  # not at head (SQLite: no file yet)
    if backend == "postgresql":
        assert "pending:  0001" in result.stdout
    else:
        assert "does not exist" in result.stderr

    result = cli("db", "upgrade", "--url", fresh_url)
    assert result.exit_code == 0, result.output
    assert f"empty -> {HEAD}" in result.stdout
    assert cli("db", "upgrade", "--url", fresh_url).stdout.strip().endswith(f"already at {HEAD}")

    result = cli("db", "current", "--url", fresh_url)
    assert result.stdout.strip() == f"{HEAD} (head)"

    result = cli("db", "status", "--url", fresh_url)
    assert result.exit_code == 0
    assert f"current:  {HEAD} (at head)" in result.stdout
    assert "pending:  none" in result.stdout
    assert "migration_history" in result.stdout

    result = cli("db", "verify", "--url", fresh_url)
    assert result.exit_code == 0, result.output
    assert "verify: all checks passed" in result.stdout
    assert "\x1b[" not in result.output  # no colour codes when not on a terminal


def test_status_and_verify_as_json(cli: Cli, db_url: str) -> None:
    status = json.loads(cli("db", "status", "--url", db_url, "--json").stdout)
    assert status["current"] == status["head"] == HEAD
    assert status["up_to_date"] is True
    assert [entry["status"] for entry in status["history"]][:3] == ["applied"] * 3
    report = json.loads(cli("db", "verify", "--url", db_url, "--json").stdout)
    assert report["ok"] is True
    assert {check["name"] for check in report["checks"]} >= {"revision", "schema", "views"}


def test_verify_fails_with_exit_1_and_says_why(cli: Cli, fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    with database.engine.begin() as conn:
        conn.execute(text("DROP INDEX idx_fills_position_id"))
    database.dispose()
    result = cli("db", "verify", "--url", fresh_url)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "missing index fills.idx_fills_position_id" in result.stdout
    assert "verify: 1 failed (schema)" in result.stdout


def test_downgrade_needs_confirmation(cli: Cli, fresh_url: str) -> None:
    assert cli("db", "upgrade", "--url", fresh_url).exit_code == 0
    refused = cli("db", "downgrade", "base", "--url", fresh_url)
    assert refused.exit_code == 2
    assert "pass --yes" in refused.output
    declined = cli("db", "downgrade", "0002", "--url", fresh_url, input="n\n")
    assert declined.exit_code == 1  # click.Abort
    assert cli("db", "current", "--url", fresh_url).stdout.strip() == f"{HEAD} (head)"
    accepted = cli("db", "downgrade", "0002", "--url", fresh_url, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"{HEAD} -> 0002" in accepted.stdout
    gone = cli("db", "downgrade", "base", "--yes", "--url", fresh_url)
    assert gone.exit_code == 0
    assert cli("db", "current", "--url", fresh_url).stdout.strip() == "<none> (empty)"


def test_upgrade_can_take_a_backup_first(cli: Cli, db_url: str, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "pre"
    result = cli("db", "upgrade", "--url", db_url, "--backup-dir", str(folder))
    assert result.exit_code == 0, result.output
    assert "verified" in result.stdout
    assert len([p for p in folder.iterdir() if not p.name.endswith(".sha256")]) == 1


def test_history_lists_revisions(cli: Cli) -> None:
    result = cli("db", "history")
    assert result.exit_code == 0
    for revision in sorted(known_revisions()):
        assert revision in result.stdout


def test_errors_are_one_line_and_debug_shows_the_traceback(cli: Cli, tmp_path: object) -> None:
    bad = "mysql://user:pw@host/db"
    result = cli("db", "status", "--url", bad)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unsupported database 'mysql'")
    assert "Traceback" not in result.output
    assert ":pw@" not in result.output
    debug = cli("--debug", "db", "status", "--url", bad)
    assert debug.exit_code == 1
    assert debug.exception is not None  # propagated: click's runner holds the traceback


def test_password_is_masked_in_output_and_errors(
    cli: Cli, run: Run, db_url: str, backend: str
) -> None:
    if backend != "postgresql":
        return  # SQLite URLs carry no password
    secret = "S3cretPW-do-not-print"
    with_password = make_url(db_url).set(password=secret).render_as_string(hide_password=False)
    for args in (("db", "status"), ("db", "verify"), ("stats",)):
        result = cli(*args, "--url", with_password)
        assert result.exit_code == 0, result.output
        assert secret not in result.output
    assert "***" in cli("db", "status", "--url", with_password).stdout
    missing = (
        make_url(with_password).set(database="ts_no_such_db").render_as_string(hide_password=False)
    )
    for process in (run("db", "status", "--url", missing), run("db", "verify", "--url", missing)):
        assert process.returncode == 1
        assert secret not in process.stdout + process.stderr
        assert process.stderr.startswith("error: ")
        assert len(process.stderr.strip().splitlines()) == 1


def test_read_commands_do_not_create_a_missing_sqlite_file(
    cli: Cli, tmp_path: object, backend: str
) -> None:
    if backend != "sqlite":
        return
    from pathlib import Path

    missing = Path(str(tmp_path)) / "typo.db"
    for args in (("db", "status"), ("db", "verify"), ("stats",), ("backup",), ("export", "bots")):
        result = cli(*args, "--url", f"sqlite:///{missing}")
        assert result.exit_code == 1, (args, result.output)
        assert "does not exist" in result.stderr
    assert not missing.exists()
    assert cli("db", "upgrade", "--url", f"sqlite:///{missing}").exit_code == 0
    assert missing.exists()


def test_alembic_config_in_a_checkout_is_the_checkout_s(cli: Cli) -> None:
    """Run from a checkout the packaged migrations do not exist: the checkout's ini finds
    ``migrations/``. (From a wheel: tests/migrations/test_installed_wheel.py.)"""
    from pathlib import Path

    from tradestore.migrate import script_location

    result = cli("db", "alembic-config")
    assert result.exit_code == 0, result.output
    printed = Path(result.stdout.strip())
    assert printed == script_location().parent / "alembic.ini"
    assert printed.is_file()


def test_rebuild_totals(cli: Cli, db: Database, db_url: str, scenario: Any) -> None:
    """`db rebuild-totals --dry-run` names the keys that differ and exits 1; the rebuild
    rewrites them, after which `db verify` passes; `--bot` limits it to one bot."""
    assert cli("db", "rebuild-totals", "--url", db_url, "--dry-run").exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE position_totals SET trades = trades + 1"))
    failed = cli("db", "verify", "--url", db_url, "--json")
    assert failed.exit_code == 1
    [check] = [c for c in json.loads(failed.stdout)["checks"] if c["name"] == "position_totals"]
    beta = "(bot 'beta', ticker 'MSFT', strategy None): trades 2 stored, 1 recomputed"
    assert beta in check["detail"]
    dry = cli("db", "rebuild-totals", "--url", db_url, "--dry-run", "--bot", "beta")
    assert dry.exit_code == 1
    assert "position_totals of bot beta: 1 keys differ (dry run, nothing written)" in dry.stdout
    report = json.loads(
        cli("db", "rebuild-totals", "--url", db_url, "--bot", "beta", "--json").stdout
    )
    assert (report["bot_id"], report["ok"], len(report["differences"])) == ("beta", False, 1)
    assert report["differences"][0]["recomputed"]["trades"] == 1
    everything = cli("db", "rebuild-totals", "--url", db_url)
    assert everything.exit_code == 0, everything.output
    assert "position_totals of every bot: 1 keys rewritten" in everything.stdout
    assert cli("db", "verify", "--url", db_url).exit_code == 0
    unknown = cli("db", "rebuild-totals", "--url", db_url, "--bot", "nobody")
    assert unknown.exit_code == 1
    assert "bot 'nobody' not found" in unknown.output
