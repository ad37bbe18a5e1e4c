"""The PostgreSQL migration lock on whatever engine a caller migrates with, on the test server.

Directly (no ``pgbouncer`` flag) the lock is a session-level advisory lock on the migrating
connection itself, so it holds for every pool and isolation level: one connection, even when
the pool has only one (``pool_size=1``, ``StaticPool``, ``SingletonThreadPool``,
``AssertionPool``) or the engine autocommits. With the flag (``pgbouncer=True``; PgBouncer is
not needed to exercise the scheme, the test server answers the same) a second connection
holds a transaction-scoped lock: refused at once when the pool cannot give one, held in
READ COMMITTED on an autocommit engine, its loss noticed before the next revision, and a
wait for another process's migration bounded.

Every case checks what matters: the lock is held when the revisions begin (read from
``pg_locks`` by a connection of its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import AssertionPool, SingletonThreadPool, StaticPool

import tradestore.migrate as migrate
from tradestore import Database
from tradestore.db.engine import PGBOUNCER
from tradestore.errors import MigrationError
from tradestore.migrate import ADVISORY_LOCK_KEY, alembic_config, head_revision

#: tests/conftest.py's PostgresServer (not importable by name: both files are "conftest").
PostgresServer = Any


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[URL]:
    url: URL = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def _raw(url: URL) -> Any:
    return psycopg2.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
    )


def _lock_holders(url: URL) -> int:
    """How many backends hold the migration lock in ``url``'s database."""
    connection = _raw(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s "
                "AND d.datname = %s",
                (ADVISORY_LOCK_KEY & 0xFFFFFFFF, url.database),
            )
            row = cursor.fetchone()
            assert row is not None
            return int(row[0])
    finally:
        connection.close()


@pytest.fixture
def held_when_migrating(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records, each time revisions are about to run, how many backends hold the lock."""
    seen: list[int] = []
    original = migrate._migrate

    def spy(context: Any, connection: Any, *args: Any, **kwargs: Any) -> None:
        url = connection.engine.url
        seen.append(_lock_holders(url))
        original(context, connection, *args, **kwargs)

    monkeypatch.setattr(migrate, "_migrate", spy)
    return seen


ENGINES: dict[str, dict[str, Any]] = {
    "pool_size=1": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 3},
    "StaticPool": {"poolclass": StaticPool},
    "SingletonThreadPool": {"poolclass": SingletonThreadPool},
    "AssertionPool": {"poolclass": AssertionPool},
    "AUTOCOMMIT": {"isolation_level": "AUTOCOMMIT"},
}


@pytest.mark.parametrize("kind", list(ENGINES))
def test_a_callers_engine_of_any_pool_migrates_holding_the_lock(
    database: URL, held_when_migrating: list[int], kind: str
) -> None:
    engine = create_engine(database, **ENGINES[kind])
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
        with engine.connect() as connection:
            assert migrate.current_heads(connection) == (head_revision(),)
    finally:
        engine.dispose()
    assert held_when_migrating == [1]
    assert _lock_holders(database) == 0


def test_a_database_with_a_pool_of_one_upgrades(
    database: URL, held_when_migrating: list[int]
) -> None:
    db = Database(database, check_schema=False, pool_size=1, max_overflow=0, pool_timeout=3)
    try:
        db.upgrade()
        assert db.current_revision() == head_revision()
        db.upgrade()  # at head: takes and releases the lock again
    finally:
        db.dispose()
    assert held_when_migrating == [1, 1]
    assert _lock_holders(database) == 0


def test_a_waiting_upgrade_directly_waits_for_the_holder(database: URL) -> None:
    """Directly the wait is PostgreSQL's own (no deadline of tradestore's): the upgrade
    starts when the holder lets go."""
    holder = _raw(database)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        holder.commit()
        engine = create_engine(database)
        try:
            with engine.connect() as connection:
                connection.execute(text("SET lock_timeout = '1s'"))
                connection.commit()
                with (
                    pytest.raises(Exception, match="lock timeout"),
                    migrate.migration_lock(connection),
                ):
                    pass  # pragma: no cover - never reached
        finally:
            engine.dispose()
    finally:
        holder.close()


# --- the PgBouncer scheme (pgbouncer=True) ------------------------------------------------------


def _bouncer_engine(url: URL, **options: Any) -> Any:
    return create_engine(url, execution_options={PGBOUNCER: True}, **options)


@pytest.mark.parametrize("kind", ["pool_size=1", "StaticPool", "SingletonThreadPool"])
def test_the_pgbouncer_scheme_refuses_a_pool_without_a_second_connection(
    database: URL, kind: str
) -> None:
    options = {**ENGINES[kind], "pool_timeout": 30} if kind == "pool_size=1" else ENGINES[kind]
    engine = _bouncer_engine(database, **options)
    try:
        started = time.monotonic()
        with engine.connect() as connection, pytest.raises(MigrationError) as refused:
            command.upgrade(alembic_config(connection=connection), "head")
        assert time.monotonic() - started < 20  # refused, not after pool_timeout (30 s)
    finally:
        engine.dispose()
    assert "second connection" in str(refused.value)
    assert "pool" in str(refused.value)
    assert "migration_history" not in str(refused.value)


def test_a_database_pool_of_one_behind_pgbouncer_is_refused_by_name(database: URL) -> None:
    db = Database(
        database, check_schema=False, pgbouncer=True, pool_size=1, max_overflow=0, pool_timeout=30
    )
    try:
        with pytest.raises(MigrationError, match="pool_size \\+ max_overflow >= 2") as refused:
            db.upgrade()
    finally:
        db.dispose()
    assert "recorded in migration_history" not in str(refused.value)


def test_the_pgbouncer_scheme_holds_the_lock_on_an_autocommit_engine(
    database: URL, held_when_migrating: list[int]
) -> None:
    engine = _bouncer_engine(database, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
    finally:
        engine.dispose()
    assert held_when_migrating == [1]
    assert _lock_holders(database) == 0


def test_the_pgbouncer_scheme_upgrades_and_releases(
    database: URL, held_when_migrating: list[int]
) -> None:
    db = Database(database, check_schema=False, pgbouncer=True)
    try:
        assert db.pgbouncer
        db.upgrade()
        db.downgrade("base")
        db.upgrade()
        assert db.current_revision() == head_revision()
    finally:
        db.dispose()
    assert held_when_migrating == [1, 1, 1]
    assert _lock_holders(database) == 0


def test_a_lost_lock_connection_stops_the_migration_before_the_next_revision(
    database: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder is ended under the migration (as PgBouncer's idle_transaction_timeout or
    a pg_terminate_backend would): the next revision does not run unlocked."""
    original = migrate._ensure_history_table

    def then_end_the_holder(connection: Any) -> None:
        original(connection)
        killer = _raw(database)
        try:
            killer.autocommit = True
            with killer.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                    "JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.objid = %s AND d.datname = %s",
                    (ADVISORY_LOCK_KEY & 0xFFFFFFFF, database.database),
                )
                assert cursor.rowcount == 1
        finally:
            killer.close()

    monkeypatch.setattr(migrate, "_ensure_history_table", then_end_the_holder)
    db = Database(database, check_schema=False, pgbouncer=True)
    try:
        with pytest.raises(MigrationError, match="lock was lost before revision ") as stopped:
            db.upgrade()
        assert "idle_transaction_timeout" in str(stopped.value)
        assert db.current_revision() is None  # not even the first revision ran
    finally:
        db.dispose()


def test_waiting_behind_pgbouncer_ends_at_its_deadline(
    database: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the lock (a session lock here, as a stuck migration would):
    the waiter gives up after MIGRATION_LOCK_WAIT_SECONDS, saying why, having migrated
    nothing. PostgreSQL cannot see a deadlock across the PgBouncer scheme's two
    connections; this deadline is what ends one."""
    monkeypatch.setattr(migrate, "MIGRATION_LOCK_WAIT_SECONDS", 0.5)
    holder = _raw(database)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        holder.commit()
        db = Database(database, check_schema=False, pgbouncer=True)
        try:
            with pytest.raises(MigrationError, match="stayed held by another process") as waited:
                db.upgrade()
            assert "0.5 s" in str(waited.value)
            assert db.current_revision() is None
        finally:
            db.dispose()
    finally:
        holder.close()
    assert _lock_holders(database) == 0
