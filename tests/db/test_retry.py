"""Transient failures: which are retried, and Database.run re-running a whole unit of work."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tradestore import Database
from tradestore.db.retry import RetryPolicy, is_connection_lost, is_transient
from tradestore.errors import DatabaseUnavailable, TransientDatabaseError
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


@pytest.mark.parametrize(
    "message",
    [
        "SSL SYSCALL error: EOF detected",
        "SSL SYSCALL error: Operation timed out",
        "SSL error: decryption failed or bad record mac",
        "server closed the connection unexpectedly",
    ],
)
def test_a_tls_connection_dying_is_a_lost_connection(message: str) -> None:
    """The compiled hot path reports driver errors without SQLAlchemy's dialect check, so
    tradestore must know the TLS spellings of a dropped connection itself."""
    error = OperationalError("stmt", {}, Exception(message))
    assert is_connection_lost(error)
    assert is_transient(error)


@pytest.mark.parametrize(
    "message",
    [
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs the '
        "server running on that host and accepting TCP/IP connections?",
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  the database system '
        "is shutting down",
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  the database system '
        "is starting up",
        "FATAL:  the database system is not yet accepting connections",
        "could not connect to server: Connection refused",
        'connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: No such file '
        "or directory\n\tIs the server running locally and accepting connections?",
    ],
)
def test_connect_failures_are_transient(message: str) -> None:
    """Issue 11: psycopg2 gives connection-time failures no SQLSTATE; a restart is one."""
    assert is_transient(OperationalError("connect", {}, Exception(message))) is True


def test_a_mistyped_host_is_not_waited_for() -> None:
    error = Exception('could not translate host name "db.exmaple" to address: Name unknown')
    assert is_transient(OperationalError("connect", {}, error)) is False


def test_default_policy_has_a_deadline_sized_for_a_restart() -> None:
    policy = RetryPolicy()
    assert policy.attempts is None
    assert policy.deadline is not None
    assert policy.deadline >= 30
    with pytest.raises(ValueError, match="attempts or a deadline"):
        RetryPolicy(attempts=None, deadline=None)
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(deadline=-1)


def test_a_spent_deadline_stops_at_once_and_attempts_still_count() -> None:
    assert RetryPolicy(deadline=0).start().backoff() is None
    progress = RetryPolicy(attempts=3, deadline=None, base_delay=0).start()
    assert [progress.backoff(), progress.backoff(), progress.backoff()] == [0, 0, None]


@pytest.mark.postgres_only
def test_run_waits_for_a_server_that_is_down_then_says_so(backend: str) -> None:
    """A refused connection was reported after one attempt; now it is retried until the
    policy is spent, and the error says how long it tried."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/x", connect_timeout=2)
    calls: list[int] = []
    try:
        with pytest.raises(DatabaseUnavailable, match=r"still failing after [2-9]\d* attempt"):
            db.run(lambda uow: calls.append(1), retry=RetryPolicy(attempts=4, base_delay=0))
        with (
            pytest.raises(DatabaseUnavailable, match=r"still failing after 4 attempt"),
            db.unit_of_work(retry=RetryPolicy(attempts=4, base_delay=0)),
        ):
            pass
    finally:
        db.dispose()
    assert calls == []


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
