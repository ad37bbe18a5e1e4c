"""Issue 11, item 2: the next unit of work after a failed COMMIT starts clean.

When COMMIT fails in the driver (SQLite's "database or disk is full" leaves its transaction
open, holding the write lock), SQLAlchemy marks its Transaction done and skips the pool's
rollback-on-return. SQLite's per-thread Session then failed every later unit of work of its
thread; on PostgreSQL the pooled connection carried the uncommitted rows into the next unit
of work, which committed them as its own. The failure is injected in the dialect's
``do_commit``, where the driver's own COMMIT would raise it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest
from reliability_support import record_figure
from sqlalchemy import text

from tradestore import Database
from tradestore.db.retry import NO_RETRY
from tradestore.errors import DatabaseUnavailable

pytestmark = pytest.mark.reliability

INSERT_BOT = text(
    "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
    "VALUES (:id, 'paper', 'running', 0, 0)"
)
ROUNDS = 5


def _fail_commits(db: Database, backend: str) -> Callable[[], None]:
    """Make the next COMMIT fail as the driver reports a full disk; returns the trigger."""
    dialect: Any = db.engine.dialect
    real = dialect.do_commit
    armed: list[bool] = []

    def do_commit(dbapi_connection: Any) -> None:
        if armed:
            armed.clear()
            if backend == "sqlite":
                raise sqlite3.OperationalError("database or disk is full")
            raise psycopg2.OperationalError("could not write to file: No space left on device")
        real(dbapi_connection)

    dialect.do_commit = do_commit
    return lambda: armed.append(True)


def _bots(db: Database) -> list[str]:
    with db.session(readonly=True) as session:
        return sorted(session.execute(text("SELECT bot_id FROM bots")).scalars())


def test_next_unit_of_work_after_a_failed_commit_starts_clean(db: Database, backend: str) -> None:
    arm = _fail_commits(db, backend)
    for n in range(ROUNDS):
        arm()
        with (
            pytest.raises(DatabaseUnavailable, match=r"No space|disk is full"),
            db.unit_of_work() as uow,
        ):
            uow.session.execute(INSERT_BOT, {"id": f"failed-{n}"})
        with db.unit_of_work() as uow:  # the same thread: its SQLite session
            uow.session.execute(INSERT_BOT, {"id": f"next-{n}"})
        db.run(lambda uow, n=n: uow.session.execute(INSERT_BOT, {"id": f"run-{n}"}))
    # the failed units left nothing behind, and no later unit committed their rows
    expected = sorted([f"next-{n}" for n in range(ROUNDS)] + [f"run-{n}" for n in range(ROUNDS)])
    assert _bots(db) == expected
    record_figure(f"failed_commit_{backend}", "failed_commits", ROUNDS)
    record_figure(f"failed_commit_{backend}", "rows_lost", len(set(expected) - set(_bots(db))))


@pytest.mark.sqlite_only
def test_a_failed_commit_releases_the_sqlite_write_lock(db: Database, backend: str) -> None:
    """Another Database (another process, in effect) can write right after the failure."""
    arm = _fail_commits(db, backend)
    arm()
    with pytest.raises(DatabaseUnavailable), db.unit_of_work() as uow:
        uow.session.execute(INSERT_BOT, {"id": "failed"})
    other = Database(db.url, busy_timeout_ms=100, retry=NO_RETRY)
    try:
        with other.unit_of_work() as uow:
            uow.session.execute(INSERT_BOT, {"id": "other"})
    finally:
        other.dispose()
    assert _bots(db) == ["other"]
