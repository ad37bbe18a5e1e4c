"""Transient failures: which are retried, and Database.run re-running a whole unit of work."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tradestore import Database
from tradestore.errors import TransientDatabaseError
from tradestore.retry import RetryPolicy, is_transient
from tradestore.unit_of_work import UnitOfWork

INSERT_BOT = text(
    "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
    "VALUES (:id, 'paper', 'running', 0, 0)"
)


class _PgError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: x"), False),
        (_PgError("40001"), True),  # serialization failure
        (_PgError("40P01"), True),  # deadlock
        (_PgError("57P01"), True),  # terminated by administrator
        (_PgError("23505"), False),  # unique violation: retrying cannot help
        (_PgError("42P01"), False),
    ],
)
def test_transient_classification(orig: Exception, expected: bool) -> None:
    assert is_transient(OperationalError("stmt", {}, orig)) is expected


def test_backoff_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=0.5)
    delays = [policy.delay(attempt) for attempt in range(1, 7) for _ in range(50)]
    assert all(0 <= d <= 0.5 for d in delays)
    assert len({round(d, 6) for d in delays}) > 10
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


def test_run_reruns_the_whole_unit_of_work(db: Database) -> None:
    calls: list[int] = []

    def work(uow: UnitOfWork) -> str:
        calls.append(1)
        uow.session.execute(INSERT_BOT, {"id": f"attempt-{len(calls)}"})
        if len(calls) < 3:
            raise TransientDatabaseError("simulated lock timeout")
        return "done"

    assert db.run(work, retry=RetryPolicy(attempts=3, base_delay=0)) == "done"
    with db.session(readonly=True) as session:
        rows = session.execute(text("SELECT bot_id FROM bots")).scalars().all()
    assert rows == ["attempt-3"]  # the failed attempts left nothing behind


def test_run_gives_up_after_the_last_attempt(db: Database) -> None:
    def work(uow: UnitOfWork) -> None:
        raise TransientDatabaseError("always busy")

    with pytest.raises(TransientDatabaseError):
        db.run(work, retry=RetryPolicy(attempts=2, base_delay=0))


def test_run_does_not_retry_other_errors(db: Database) -> None:
    calls: list[int] = []

    def work(uow: UnitOfWork) -> None:
        calls.append(1)
        raise ValueError("a bug, not a lock")

    with pytest.raises(ValueError, match="a bug"):
        db.run(work)
    assert calls == [1]


def test_sqlite_writer_waits_out_a_held_lock(tmp_path: Path) -> None:
    """busy_timeout shorter than the lock: the unit of work is retried until it gets in."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    Database(url, check_schema=False).upgrade()
    holder = Database(url)
    writer = Database(
        url, busy_timeout_ms=50, retry=RetryPolicy(attempts=50, base_delay=0.02, max_delay=0.1)
    )
    locked = threading.Event()

    def hold_lock() -> None:
        with holder.session() as session:
            session.execute(INSERT_BOT, {"id": "holder"})
            locked.set()
            time.sleep(0.6)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    locked.wait(5)
    writer.run(lambda uow: uow.session.execute(INSERT_BOT, {"id": "writer"}))
    thread.join()
    with writer.session(readonly=True) as session:
        ids = set(session.execute(text("SELECT bot_id FROM bots")).scalars())
    assert ids == {"holder", "writer"}
    holder.dispose()
    writer.dispose()


@pytest.mark.postgres_only
def test_postgres_connection_killed_mid_transaction_is_retried(db: Database) -> None:
    calls: list[int] = []

    def work(uow: UnitOfWork) -> None:
        calls.append(1)
        uow.session.execute(INSERT_BOT, {"id": "survivor"})
        if len(calls) == 1:
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
            uow.session.execute(text("SELECT 1"))  # fails: connection is gone

    db.run(work, retry=RetryPolicy(attempts=3, base_delay=0))
    assert len(calls) == 2
    with db.session(readonly=True) as session:
        assert session.execute(text("SELECT bot_id FROM bots")).scalars().all() == ["survivor"]
