"""The async API's answers where the drivers differ from the sync ones: aborted
transactions, failed COMMITs, connect failures, libpq URL parameters, pool exhaustion,
in-memory databases, the one-writer rule in child tasks, cancellation mid-statement."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aio_support import ARun
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tradestore import Database
from tradestore.aio import AsyncDatabase
from tradestore.db.connections import driver_in_transaction
from tradestore.db.retry import NO_RETRY, RetryPolicy
from tradestore.errors import (
    ConfigurationError,
    NestedUnitOfWork,
    TransactionAborted,
    TransientDatabaseError,
)
from tradestore.unit_of_work import UnitOfWork


def _bots(db: Database) -> list[str]:
    with db.unit_of_work(readonly=True) as uow:
        return sorted(b.bot_id for b in uow.bots.list())


def _write_then_fail_on_the_session(bot_id: str) -> Any:
    def body(uow: UnitOfWork) -> None:
        uow.bots.register(bot_id)
        # The bot catches its own failed statement and goes on.
        with contextlib.suppress(DBAPIError):
            uow.session.execute(text("SELECT * FROM no_such_table"))

    return body


def test_a_caught_failed_session_statement_is_answered_as_the_sync_api_does(
    arun: ARun, db: Database, backend: str
) -> None:
    """PostgreSQL aborts the transaction at the failed statement and its COMMIT would roll
    back silently (asyncpg raises nothing there): TransactionAborted, as psycopg2's status
    says. SQLite goes on with the transaction: both commit."""
    outcomes: dict[str, str] = {}
    try:
        with db.unit_of_work() as uow:
            _write_then_fail_on_the_session("sync")(uow)
        outcomes["sync"] = "committed"
    except TransactionAborted:
        outcomes["sync"] = "aborted"

    async def body(adb: AsyncDatabase) -> str:
        try:
            async with adb.unit_of_work() as uow:
                await uow.run_sync(_write_then_fail_on_the_session("async"))
        except TransactionAborted:
            return "aborted"
        return "committed"

    outcomes["async"] = arun(body)
    expected = "aborted" if backend == "postgresql" else "committed"
    assert outcomes == {"sync": expected, "async": expected}
    assert _bots(db) == ([] if expected == "aborted" else ["async", "sync"])


def test_a_failure_undone_by_its_savepoint_still_commits(arun: ARun, db: Database) -> None:
    def body(uow: UnitOfWork) -> None:
        uow.bots.register("kept")
        try:
            with uow.session.begin_nested():
                uow.session.execute(text("SELECT * FROM no_such_table"))
        except DBAPIError:
            pass

    async def main(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work() as uow:
            await uow.run_sync(body)

    arun(main)
    assert _bots(db) == ["kept"]


def test_the_driver_transaction_is_seen_through_the_async_adapter(arun: ARun) -> None:
    async def body(adb: AsyncDatabase) -> tuple[bool, bool]:
        async with adb.unit_of_work() as uow:

            def probe(u: UnitOfWork) -> bool:
                u.bots.register("probe")
                return driver_in_transaction(u.executor.connection.connection.dbapi_connection)

            inside = await uow.run_sync(probe)
            raw = await uow.run_sync(lambda u: u.executor.connection.connection.dbapi_connection)
        return inside, driver_in_transaction(raw)

    assert arun(body) == (True, False)


@pytest.mark.sqlite_only
def test_a_failed_commit_on_aiosqlite_gives_back_the_write_lock(tmp_path: Path) -> None:
    """A deferred foreign key makes COMMIT fail; sqlite3 keeps the transaction (and the
    write lock) open. The pool's reset must end it, on the adapted connection too."""
    path = tmp_path / "deferred.db"
    setup = sqlite3.connect(path)
    setup.executescript(
        "PRAGMA journal_mode=WAL; CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id) "
        "DEFERRABLE INITIALLY DEFERRED);"
    )
    setup.close()

    async def body() -> None:
        adb = AsyncDatabase(f"sqlite:///{path}", check_schema=False, pool_size=1)
        try:
            with pytest.raises(Exception, match="FOREIGN KEY"):
                async with adb.unit_of_work() as uow:
                    await uow.run_sync(
                        lambda u: u.executor.execute(text("INSERT INTO child VALUES (1, 99)"))
                    )
            other = sqlite3.connect(path, timeout=0.2)
            try:
                other.execute("BEGIN IMMEDIATE")  # "database is locked" while it is held
                other.rollback()
            finally:
                other.close()
        finally:
            await adb.dispose()

    asyncio.run(body())


@pytest.mark.postgres_only
def test_a_refused_asyncpg_connect_is_transient_and_retried(db_url: str) -> None:
    url = make_url(db_url).set(port=1).render_as_string(hide_password=False)
    policy = RetryPolicy(attempts=2, base_delay=0.001)

    async def body() -> list[BaseException]:
        adb = AsyncDatabase(url, retry=policy)
        caught: list[BaseException] = []
        try:
            try:
                async with adb.unit_of_work():
                    pass
            except BaseException as exc:
                caught.append(exc)

            async def work(_uow: object) -> None:
                return None

            try:
                await adb.run(work)
            except BaseException as exc:
                caught.append(exc)
        finally:
            await adb.dispose()
        return caught

    caught = asyncio.run(body())
    assert [type(e) for e in caught] == [TransientDatabaseError, TransientDatabaseError]
    assert all("after 2 attempt" in str(e) and "could not connect" in str(e) for e in caught)


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "query",
    [
        "sslmode=disable",
        "sslmode=prefer",
        "options=-csearch_path%3Dpublic",
        "options=-c%20statement_timeout%3D5000",
        "connect_timeout=5",
        "target_session_attrs=read-write",
    ],
)
def test_libpq_url_parameters_work_on_asyncpg(db_url: str, query: str) -> None:
    async def body() -> int:
        adb = AsyncDatabase(f"{db_url}?{query}")
        try:
            async with adb.unit_of_work(readonly=True) as uow:
                return int(
                    await uow.run_sync(lambda u: u.executor.execute(text("SELECT 1")).scalar())
                )
        finally:
            await adb.dispose()

    assert asyncio.run(body()) == 1


def test_the_options_parameter_reaches_the_server() -> None:
    from tradestore.db.engine import EngineOptions, engine_arguments

    url = make_url(
        "postgresql+asyncpg://u:pw@h/db?options=-c%20search_path%3Dx%20--lock-timeout%3D5s"
    )
    target, arguments = engine_arguments(url, EngineOptions())
    assert "options" not in target.query
    assert arguments["connect_args"]["server_settings"] == {
        "search_path": "x",
        "lock_timeout": "5s",
        "application_name": "tradestore",
    }


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("sslmode=sometimes", "sslmode='sometimes'"),
        ("options=-x", "options='-x'"),
        ("connect_timeout=soon", "connect_timeout='soon'"),
        ("sslrootcert=/ca.pem", "sslrootcert='/ca.pem'"),
    ],
)
def test_a_libpq_parameter_asyncpg_cannot_take_is_refused_by_name(query: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named.replace("(", r"\(")) as refused:
        AsyncDatabase(f"postgresql://bot:hunter2secret@h/db?{query}", check_schema=False)
    assert "hunter2secret" not in str(refused.value)


@pytest.mark.postgres_only
def test_an_exhausted_async_pool_is_tradestores_error_naming_the_settings(db_url: str) -> None:
    async def body() -> list[Any]:
        adb = AsyncDatabase(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
        held = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with adb.unit_of_work(readonly=True) as uow:
                await uow.run_sync(lambda u: u.executor.execute(text("SELECT 1")))
                held.set()
                await release.wait()

        async def waiter() -> None:
            await held.wait()
            try:
                async with adb.unit_of_work(readonly=True, retry=NO_RETRY):
                    pass
            finally:
                release.set()

        try:
            return await asyncio.gather(holder(), waiter(), return_exceptions=True)
        finally:
            await adb.dispose()

    outcomes = asyncio.run(body())
    assert outcomes[0] is None
    assert isinstance(outcomes[1], TransientDatabaseError)
    assert "pool_size" in str(outcomes[1])
    assert "pool_timeout" in str(outcomes[1])


def test_in_memory_units_of_work_take_turns() -> None:
    """One shared connection: a task's rollback must not undo another task's writes."""

    async def body() -> list[Any]:
        adb = AsyncDatabase("sqlite://", check_schema=False)
        try:
            async with adb.unit_of_work() as uow:
                await uow.run_sync(
                    lambda u: u.executor.execute(text("CREATE TABLE t(id int primary key)"))
                )

            async def writer(n: int, fail: bool) -> None:
                async with adb.unit_of_work() as uow:
                    await uow.run_sync(
                        lambda u: u.executor.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                    )
                    await asyncio.sleep(0.01)
                    if fail:
                        raise RuntimeError(f"task {n} gives up")

            results = await asyncio.gather(
                writer(1, False), writer(2, True), return_exceptions=True
            )
            assert results[0] is None
            assert isinstance(results[1], RuntimeError)
            async with adb.unit_of_work(readonly=True) as uow:
                return list(
                    await uow.run_sync(
                        lambda u: u.executor.execute(text("SELECT id FROM t")).scalars().all()
                    )
                )
        finally:
            await adb.dispose()

    assert asyncio.run(body()) == [1]


def test_a_task_started_in_a_unit_of_work_may_write_once_it_ended(arun: ARun, db: Database) -> None:
    async def body(adb: AsyncDatabase) -> None:
        started = asyncio.Event()
        parent_done = asyncio.Event()

        async def heartbeat() -> None:
            with pytest.raises(NestedUnitOfWork):  # while the parent's unit is open
                async with adb.unit_of_work():
                    pass
            started.set()
            await parent_done.wait()
            async with adb.unit_of_work() as uow:  # the parent's unit has committed
                await uow.bots.register("heartbeat")

        async with adb.unit_of_work() as uow:
            await uow.bots.register("parent")
            child = asyncio.create_task(heartbeat())
            await started.wait()
        parent_done.set()
        await child

    arun(body)
    assert _bots(db) == ["heartbeat", "parent"]


def test_both_spellings_of_the_awaiting_function_import() -> None:
    from sqlalchemy.util import await_, await_only

    from tradestore.aio import _greenlet

    assert _greenlet._await in (await_, await_only)


@pytest.mark.sqlite_only
def test_a_task_cancelled_mid_statement_gives_back_the_write_lock(db_url: str) -> None:
    """The cancelled statement is still running in aiosqlite's thread: it is interrupted
    and its transaction rolled back, so another writer gets the file at once."""
    path = make_url(db_url).database

    async def body() -> None:
        adb = AsyncDatabase(db_url, pool_size=1)
        try:
            running = asyncio.Event()

            async def writer() -> None:
                async with adb.unit_of_work() as uow:
                    await uow.bots.register("cancelled")
                    running.set()
                    await uow.run_sync(
                        lambda u: u.executor.execute(
                            text(
                                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                "WHERE x < 100000000) SELECT count(*) FROM c"
                            )
                        ).scalar()
                    )

            task = asyncio.create_task(writer())
            await running.wait()
            await asyncio.sleep(0.2)  # inside the long statement
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            other = sqlite3.connect(str(path), timeout=2)
            try:
                other.execute("BEGIN IMMEDIATE")  # "database is locked" while it is held
                assert other.execute("SELECT count(*) FROM bots").fetchone() == (0,)
                other.rollback()
            finally:
                other.close()
            async with adb.unit_of_work() as uow:  # and the pool goes on
                await uow.bots.register("after")
        finally:
            await adb.dispose()

    asyncio.run(body())


@pytest.mark.postgres_only
def test_a_connection_dropped_mid_copy_is_tradestores_error(
    arun: ARun, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    from tradestore.errors import TradestoreError

    with db.unit_of_work(bot_id="alpha") as uow:
        uow.bots.register("alpha")
        uow.training.start_run("ppo", "m", run_id="r-1")

    async def reset(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(asyncpg.Connection, "copy_to_table", reset)
    episodes = [{"episode_number": n, "episode_reward": 1.0} for n in range(600)]

    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work(bot_id="alpha") as uow:
            await uow.training.log_episodes("r-1", episodes)

    with pytest.raises(TradestoreError, match="Connection reset by peer") as caught:
        arun(body)
    assert isinstance(caught.value, TransientDatabaseError)  # nothing was applied


@pytest.mark.sqlite_only
def test_a_transaction_sqlite_ended_itself_is_aborted_on_aiosqlite_too(
    arun: ARun, db: Database
) -> None:
    """SQLite rolls a transaction back on its own (a full disk, an I/O error); a ROLLBACK
    sent past SQLAlchemy stands in for it here. Whether it did is read from the driver
    under aiosqlite's adapter, as from sqlite3."""

    def body(uow: UnitOfWork) -> None:
        uow.bots.register("lost")
        uow.executor.connection.exec_driver_sql("ROLLBACK")

    with pytest.raises(TransactionAborted, match="database aborted"), db.unit_of_work() as uow:
        body(uow)

    async def main(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work() as uow:
            await uow.run_sync(body)

    with pytest.raises(TransactionAborted, match="database aborted"):
        arun(main)
    assert _bots(db) == []
