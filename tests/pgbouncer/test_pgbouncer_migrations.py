"""Migrations through PgBouncer in transaction mode: upgrade, downgrade, and several at once.

Each revision commits in its own transaction, and consecutive transactions of one client
may run on different server connections: the migration lock must not be a session-level
advisory lock (its unlock would go to a connection that does not hold it, and the lock would
stay held on a pooled server connection). These run on a throwaway database of their own.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bouncer_support
import pytest
from bouncer_support import PgBouncer
from sqlalchemy import create_engine, select, text

from tradestore import Database
from tradestore.aio import AsyncDatabase
from tradestore.db.engine import create_engine_for
from tradestore.domain.enums import MigrationStatus
from tradestore.errors import MigrationError
from tradestore.migrate import (
    ADVISORY_LOCK_KEY,
    compare_schema,
    head_revision,
    known_revisions,
    migration_lock,
)
from tradestore.models import MigrationHistory


def _advisory_locks(postgres_server: Any, database: str) -> list[tuple[Any, ...]]:
    """Advisory locks anyone holds or waits for in ``database`` (read directly)."""
    engine = create_engine(postgres_server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT l.pid, l.granted, l.classid, l.objid FROM pg_locks l "
                        "JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND d.datname = :name"
                    ),
                    {"name": database},
                )
            )
    finally:
        engine.dispose()


def _history(db: Database) -> Counter[tuple[str, MigrationStatus]]:
    with db.connect() as connection:
        rows = connection.execute(
            select(MigrationHistory.migration_id, MigrationHistory.status)
        ).all()
        connection.rollback()
    return Counter((row[0], row[1]) for row in rows)


def test_upgrade_and_downgrade_through_pgbouncer(
    bouncer: PgBouncer, postgres_server: Any, fresh_database: str
) -> None:
    db = Database(bouncer.url(fresh_database, pgbouncer="true"), check_schema=False)
    try:
        assert db.current_revision() is None
        db.upgrade()
        assert db.current_revision() == head_revision()
        with db.connect() as connection:
            assert compare_schema(connection) == []
            connection.rollback()
        assert _advisory_locks(postgres_server, fresh_database) == []
        db.downgrade("base")
        assert db.current_revision() is None
        db.upgrade()
        assert db.current_revision() == head_revision()
        applied = _history(db)
    finally:
        db.dispose()
    revisions = known_revisions()
    assert {rid for (rid, status) in applied if status == MigrationStatus.APPLIED} == revisions
    assert all(applied[(rid, MigrationStatus.APPLIED)] == 2 for rid in revisions)
    assert _advisory_locks(postgres_server, fresh_database) == []
    # The lock is free: a session-level lock left on a pooled server connection would make
    # this wait forever (pg_advisory_lock) or report it taken (pg_try_advisory_xact_lock).
    probe = bouncer.connect(fresh_database)
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            assert cursor.fetchone() == (True,)
        probe.rollback()
    finally:
        probe.close()


def test_async_upgrade_through_pgbouncer(
    bouncer: PgBouncer, postgres_server: Any, fresh_database: str
) -> None:
    async def main() -> str | None:
        async with AsyncDatabase(
            bouncer.url(fresh_database, pgbouncer="true"), check_schema=False
        ) as adb:
            await adb.upgrade()
            return await adb.current_revision()

    assert asyncio.run(main()) == head_revision()
    assert _advisory_locks(postgres_server, fresh_database) == []


def _upgrade(url: str, start: Any, results: Any) -> None:
    try:
        db = Database(url, check_schema=False)
        start.wait(timeout=60)
        db.upgrade()
        db.dispose()
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def _upgrade_at_once(url: str, processes: int) -> list[str]:
    """``processes`` processes upgrade ``url`` at once; what each said. (Processes, not
    threads: Alembic's ``context`` and ``op`` proxies are per process.)"""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [ctx.Process(target=_upgrade, args=(url, start, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        return [results.get(timeout=240) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()


def test_concurrent_upgrades_through_pgbouncer_apply_each_revision_once(
    bouncer: PgBouncer, postgres_server: Any, fresh_database: str
) -> None:
    """Four processes start at once on an empty database, each a pgbouncer client of its
    own: the lock serialises them, the later ones find nothing to do."""
    assert _upgrade_at_once(bouncer.url(fresh_database, pgbouncer="true"), 4) == ["ok"] * 4
    _assert_applied_once(bouncer, postgres_server, fresh_database)


@pytest.fixture
def two_servers(postgres_server: Any, tmp_path: Path) -> Iterator[PgBouncer]:
    """A pgbouncer with two server connections, whose clients wait at most 5 s for one."""
    yield from bouncer_support.running(
        tmp_path / "pgbouncer",
        postgres_server.admin_url,
        pool_size=2,
        settings={"query_wait_timeout": 5},
    )


def test_more_upgraders_than_server_connections_all_succeed(
    two_servers: PgBouncer, postgres_server: Any, fresh_database: str
) -> None:
    """Six processes, two server connections. The winner needs both (one holds the lock,
    one runs the revisions); a waiter inside ``pg_advisory_xact_lock`` would hold one for
    as long as it waits, and the winner's next revision would wait for a server past
    ``query_wait_timeout`` and fail. Waiters poll in short transactions instead: all six
    succeed, the first from empty, the others at head (then again, all at head)."""
    url = two_servers.url(fresh_database, pgbouncer="true")
    assert _upgrade_at_once(url, 6) == ["ok"] * 6
    _assert_applied_once(two_servers, postgres_server, fresh_database)
    assert _upgrade_at_once(url, 6) == ["ok"] * 6
    _assert_applied_once(two_servers, postgres_server, fresh_database)


@pytest.fixture
def idle_timeout(postgres_server: Any, tmp_path: Path) -> Iterator[PgBouncer]:
    """A pgbouncer ending a client idle in a transaction for more than two seconds."""
    yield from bouncer_support.running(
        tmp_path / "pgbouncer",
        postgres_server.admin_url,
        pool_size=4,
        settings={"idle_transaction_timeout": 2},
    )


def test_a_lock_ended_by_idle_transaction_timeout_is_noticed(
    idle_timeout: PgBouncer, migrated_database: str
) -> None:
    """PgBouncer closes the lock's connection while the revisions run (one that took longer
    than its idle_transaction_timeout): the next revision's check says so instead of
    running without the lock; a check within the timeout keeps the connection."""
    engine = create_engine_for(idle_timeout.url(migrated_database, pgbouncer="true"))
    try:
        with engine.connect() as connection, migration_lock(connection) as lock:
            lock.check("revision a")
            time.sleep(0.5)
            lock.check("revision b")  # touched: PgBouncer's idle timer starts again
            time.sleep(4.5)
            with pytest.raises(MigrationError, match="lost before revision d") as lost:
                lock.check("revision d")
        assert "idle_transaction_timeout" in str(lost.value)
    finally:
        engine.dispose()


def _assert_applied_once(bouncer: PgBouncer, postgres_server: Any, database: str) -> None:
    db = Database(bouncer.url(database, pgbouncer="true"))
    try:
        db.check_schema()
        history = _history(db)
    finally:
        db.dispose()
    assert history == Counter({(rid, MigrationStatus.APPLIED): 1 for rid in known_revisions()})
    assert _advisory_locks(postgres_server, database) == []
