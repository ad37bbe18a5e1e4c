"""Issue 11, items 4, 10, 11, 12, 14 and 15: the operations attacked from outside.

Each test reproduces one attack that hurt before its fix: ``export`` writing onto the live
database, a restore onto a full disk reported as a damaged backup (and a gzip bomb filling the
disk), failed backups leaving SQLite journals behind, a backup carrying a foreign trigger
passing ``verify``, retention keyed on another bot's open position, and time specs that crashed
or silently deleted everything. Every test is bounded to seconds.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import importlib.util
import os
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result
from reliability_support import database_state, record_figure

from tradestore import Database
from tradestore.cli import main
from tradestore.config import sqlite_path
from tradestore.ops.verify import verify_database

pytestmark = pytest.mark.reliability


def _load_scenario() -> ModuleType:
    if "ops_scenario" in sys.modules:
        return sys.modules["ops_scenario"]
    path = Path(__file__).parents[1] / "ops" / "ops_scenario.py"
    spec = importlib.util.spec_from_file_location("ops_scenario", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ops_scenario"] = module
    spec.loader.exec_module(module)
    return module


scenario = _load_scenario()

Cli = Callable[..., Result]


@pytest.fixture
def cli() -> Cli:
    def invoke(*args: str) -> Result:
        env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None, "COLUMNS": "200"}
        return CliRunner().invoke(main, list(args), env=env)  # type: ignore[arg-type]

    return invoke


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _with_orders(db: Database) -> None:
    with db.engine.begin() as conn:
        scenario.add_bot(conn, "alpha")
        for number in range(3):
            scenario.add_order(conn, f"o-{number}", status="filled", updated=scenario.OLD, fills=1)


# --- item 4: export never writes onto the live database ------------------------------------------


def test_export_never_writes_onto_the_live_database(
    db: Database, db_url: str, cli: Cli, tmp_path: Path
) -> None:
    """Every spelling of the live database (and its -wal/-shm) as ``-o`` is refused, with and
    without --force; the file's bytes and every row are unchanged and it still verifies."""
    if db.dialect_name != "sqlite":
        pytest.skip("PostgreSQL has no database file an export could overwrite")
    _with_orders(db)
    live = sqlite_path(db.url)
    assert live is not None
    before_rows = database_state(db)
    holder = sqlite3.connect(live, isolation_level=None)  # keeps the -wal and -shm in place
    try:
        holder.execute("SELECT count(*) FROM orders").fetchone()
        before_bytes = _digest(live)
        (tmp_path / "sub").mkdir()
        hard = tmp_path / "hard.db"
        os.link(live, hard)
        link = tmp_path / "link.db"
        link.symlink_to(live)
        spellings = [
            str(live),
            str(tmp_path / "sub" / ".." / live.name),
            f"{live}-wal",
            f"{live}-shm",
            str(hard),
            str(link),
        ]
        tried = 0
        for spelling in spellings:
            for force in ((), ("--force",)):
                result = cli("export", "orders", "--url", db_url, "-o", spelling, *force)
                tried += 1
                assert result.exit_code == 2, (spelling, force, result.output)
                assert "live database" in result.output, result.output
                assert "Traceback" not in result.output
        assert _digest(live) == before_bytes
    finally:
        holder.close()
    assert database_state(db) == before_rows
    assert verify_database(db).ok
    assert not list(tmp_path.glob(".*.tmp"))
    record_figure("export_live_database", "spellings_tried", tried)
    record_figure("export_live_database", "rows_lost", 0)


def test_export_refuses_an_existing_file_and_never_follows_a_link(
    db: Database, db_url: str, cli: Cli, tmp_path: Path
) -> None:
    _with_orders(db)
    existing = tmp_path / "orders.csv"
    existing.write_text("keep me\n")
    os.chmod(existing, 0o640)
    result = cli("export", "orders", "--url", db_url, "-o", str(existing))
    assert result.exit_code == 2, result.output
    assert "exists" in result.output
    assert "--force" in result.output
    assert existing.read_text() == "keep me\n"

    # --force replaces the file atomically and keeps the mode the operator gave it.
    result = cli("export", "orders", "--url", db_url, "-o", str(existing), "--force")
    assert result.exit_code == 0, result.output
    assert existing.read_text().startswith("order_id,")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640

    # A link is never followed: refused, and with --force the link itself is replaced.
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    os.chmod(precious, 0o644)
    link = tmp_path / "out.csv"
    link.symlink_to(precious)
    result = cli("export", "orders", "--url", db_url, "-o", str(link))
    assert result.exit_code == 2, result.output
    result = cli("export", "orders", "--url", db_url, "-o", str(link), "--force")
    assert result.exit_code == 0, result.output
    assert not link.is_symlink()
    assert link.read_text().startswith("order_id,")
    assert precious.read_text() == "precious\n"
    assert stat.S_IMODE(precious.stat().st_mode) == 0o644

    # A dangling link, a directory and a device are refused too.
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    for target in (dangling, tmp_path, Path("/dev/null")):
        result = cli("export", "orders", "--url", db_url, "-o", str(target), "--force")
        if target == dangling:
            assert result.exit_code == 0, result.output  # replaced, never followed
            assert not dangling.is_symlink()
            assert not (tmp_path / "nowhere").exists()
        else:
            assert result.exit_code == 2, (target, result.output)
    assert Path("/dev/null").is_char_device()


def test_a_new_export_is_private_and_a_failed_one_leaves_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradestore.ops import export as export_module

    _with_orders(db)
    old_umask = os.umask(0)
    try:
        target = tmp_path / "orders.jsonl"
        result = export_module.export_table(db, "orders", target, format="jsonl")
    finally:
        os.umask(old_umask)
    assert result.rows == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    previous = target.read_bytes()

    def broken(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_jsonl", broken)
    with pytest.raises(OSError, match="No space left"):
        export_module.export_table(db, "orders", target, format="jsonl", force=True)
    assert target.read_bytes() == previous
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="No space left"):
        export_module.export_table(db, "orders", out / "new.jsonl", format="jsonl")
    assert not [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp")]
    assert list(out.iterdir()) == []
