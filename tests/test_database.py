"""Database: engine set-up, transactions, the schema check and error translation."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.db.engine import _enable_wal
from tradestore.errors import (
    DatabaseUnavailable,
    IntegrityViolation,
    SchemaOutOfDate,
    SchemaTooNew,
    TradestoreError,
)
from tradestore.migrate import VERSION_TABLE, head_revision


def test_sqlite_pragmas_are_in_force_on_every_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}", check_schema=False, busy_timeout_ms=12_345)
    with db.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "cache_size",
                "temp_store",
                "mmap_size",
            )
        }
    db.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 12_345,
        "cache_size": -40_000,
        "temp_store": 2,  # MEMORY
        # the source schema asks for 30 GB; SQLite caps it at its compile-time SQLITE_MAX_MMAP_SIZE
        "mmap_size": pragma["mmap_size"],
    }
    assert pragma["mmap_size"] > 0


class _LockedThenWal:
    """A driver cursor whose first ``failures`` journal-mode switches hit a racing connection."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.mode = "delete"
        self.statements: list[str] = []

    def execute(self, statement: str) -> _LockedThenWal:
        self.statements.append(statement)
        if statement == "PRAGMA journal_mode=WAL":
            if self.failures:
                self.failures -= 1
                raise sqlite3.OperationalError("database is locked")
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_switching_to_wal_waits_out_a_racing_connection() -> None:
    # Several processes opening a new file at once: SQLite refuses the switch at once, without
    # its busy handler (seen in CI as one of three concurrent upgrades failing).
    cursor = _LockedThenWal(failures=3)
    _enable_wal(cursor, timeout_s=5)  # type: ignore[arg-type]
    assert cursor.mode == "wal"
    assert cursor.statements.count("PRAGMA journal_mode=WAL") == 4


def test_switching_to_wal_is_skipped_once_the_file_is_wal() -> None:
    cursor = _LockedThenWal(failures=0)
    cursor.mode = "wal"
    _enable_wal(cursor, timeout_s=5)  # type: ignore[arg-type]
    assert cursor.statements == ["PRAGMA journal_mode"]


def test_switching_to_wal_gives_up_after_the_busy_timeout() -> None:
    cursor = _LockedThenWal(failures=10**9)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _enable_wal(cursor, timeout_s=0.05)  # type: ignore[arg-type]


def test_sqlite_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    """A unit of work begins IMMEDIATE: a second writer waits instead of deadlocking."""
    db = Database(f"sqlite:///{tmp_path / 'l.db'}", check_schema=False, busy_timeout_ms=100)
    other = Database(f"sqlite:///{tmp_path / 'l.db'}", check_schema=False, busy_timeout_ms=100)
    with db.engine.connect() as first:
        first.execute(text("SELECT 1"))  # the begin event ran: write lock held
        with pytest.raises(DatabaseUnavailable, match="locked"), other.connect() as second:
            second.execute(text("SELECT 1"))
        first.rollback()
    with other.connect() as second:
        second.execute(text("SELECT 1"))
    db.dispose()
    other.dispose()


def test_readonly_sessions_do_not_take_the_write_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    Database(url, check_schema=False).upgrade()
    writer = Database(url, busy_timeout_ms=100)
    reader = Database(url, busy_timeout_ms=100)
    with writer.session() as session:
        session.execute(
            text(
                "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
                "VALUES ('w', 'paper', 'running', 0, 0)"
            )
        )
        with reader.session(readonly=True) as read:
            assert read.execute(text("SELECT COUNT(*) FROM bots")).scalar_one() == 0
    writer.dispose()
    reader.dispose()


def test_in_memory_sqlite_is_shared_by_sessions_and_threads() -> None:
    db = Database("sqlite://", check_schema=False)
    db.upgrade()
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
                "VALUES ('mem', 'backtest', 'running', 0, 0)"
            )
        )
    seen: list[int] = []

    def read() -> None:
        with db.session(readonly=True) as session:
            seen.append(session.execute(text("SELECT COUNT(*) FROM bots")).scalar_one())

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [1]
    assert db.current_revision() == head_revision()
    db.dispose()


def test_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    insert = text(
        "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
        "VALUES (:id, 'paper', 'running', 0, 0)"
    )
    with db.session() as session:
        session.execute(insert, {"id": "kept"})
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(insert, {"id": "dropped"})
        raise RuntimeError("boom")
    with db.session(readonly=True) as session:
        ids = session.execute(text("SELECT bot_id FROM bots")).scalars().all()
    assert ids == ["kept"]


def test_integrity_errors_become_tradestore_errors(db: Database) -> None:
    insert = text(
        "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
        "VALUES ('dup', 'paper', 'running', 0, 0)"
    )
    with pytest.raises(IntegrityViolation) as info, db.session() as session:
        session.execute(insert)
        session.execute(insert)
    assert isinstance(info.value, TradestoreError)
    with db.session(readonly=True) as session:
        assert session.execute(text("SELECT COUNT(*) FROM bots")).scalar_one() == 0


def test_empty_database_is_refused_with_the_command_to_run(fresh_url: str) -> None:
    db = Database(fresh_url)
    with pytest.raises(SchemaOutOfDate) as info, db.session():
        pass
    assert "tradestore db upgrade" in str(info.value)
    assert "alembic upgrade head" in str(info.value)
    db.dispose()


def test_database_behind_the_code_is_refused(fresh_url: str) -> None:
    db = Database(fresh_url, check_schema=False)
    db.upgrade("0002")
    checked = Database(fresh_url)
    with pytest.raises(SchemaOutOfDate, match="0002"), checked.unit_of_work():
        pass
    db.upgrade()
    with checked.unit_of_work():  # a new check passes once the database is at head
        pass
    db.dispose()
    checked.dispose()


def test_database_ahead_of_the_code_is_refused(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dfeed'"))
    fresh = Database(db.url)
    try:
        with pytest.raises(SchemaTooNew, match="f00dfeed"), fresh.session():
            pass
    finally:
        fresh.dispose()
        with db.engine.begin() as conn:  # the PostgreSQL test database is shared: restore it
            conn.execute(
                text(f"UPDATE {VERSION_TABLE} SET version_num = :head"),
                {"head": head_revision()},
            )


def test_unreachable_server_gives_one_masked_line() -> None:
    db = Database("postgresql://bot:hunter2@127.0.0.1:1/nowhere", connect_timeout=2)
    with pytest.raises(DatabaseUnavailable) as info:
        db.current_revision()
    message = str(info.value)
    assert "hunter2" not in message
    assert "bot:***@127.0.0.1:1" in message
    assert "hunter2" not in repr(db)
    db.dispose()


def test_unit_of_work_scoped_repository_needs_a_bot(db: Database) -> None:
    from tradestore.errors import ValidationError

    with pytest.raises(ValidationError, match="bot_id"), db.unit_of_work() as uow:
        uow._require_bot("positions")
