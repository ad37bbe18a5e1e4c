"""Nothing tradestore does leaves session state on a pooled server connection, and nothing
another client leaves there changes what tradestore reads.

This module's pgbouncer has two server connections per database: every client shares them,
so after tradestore's work the test opens two transactions at once through pgbouncer (one
on each server connection, their backend pids proving it) and inspects what each carries:
settings, advisory locks, prepared statements, open cursors, LISTEN channels, temporary
tables (tradestore's COPY staging tables are kept, empty, by design: ON COMMIT DELETE ROWS).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from typing import Any

import bouncer_support
import pytest
from bouncer_support import PgBouncer
from sqlalchemy import text

from tradestore import Database
from tradestore.aio import AsyncDatabase

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
SERVERS = 2
#: Settings a client could change for its session; each must read as the server default.
SETTINGS = (
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "search_path",
    "default_transaction_read_only",
    "default_transaction_isolation",
    "synchronous_commit",
    "work_mem",
)


@pytest.fixture(scope="module")
def two_servers(
    postgres_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgBouncer]:
    yield from bouncer_support.running(
        tmp_path_factory.mktemp("pgbouncer"), postgres_server.admin_url, pool_size=SERVERS
    )


def _defaults(postgres_server: Any, database: str) -> dict[str, str]:
    import psycopg2

    url = postgres_server.admin_url
    connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=database)
    try:
        with connection.cursor() as cursor:
            return {name: _show(cursor, name) for name in SETTINGS}
    finally:
        connection.close()


def _show(cursor: Any, name: str) -> str:
    cursor.execute(f"SHOW {name}")
    return str(cursor.fetchone()[0])


def _server_state(bouncer: PgBouncer, database: str) -> list[dict[str, Any]]:
    """What each of the pool's server connections carries, seen by two clients at once."""
    clients = [bouncer.connect(database) for _ in range(SERVERS)]
    try:
        states = []
        for client in clients:  # each stays in its transaction: the next gets the other server
            with client.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                    (pid,),
                )
                advisory = cursor.fetchone()[0]
                cursor.execute("SELECT name FROM pg_prepared_statements")
                prepared = [row[0] for row in cursor.fetchall()]
                cursor.execute("SELECT name FROM pg_cursors")
                cursors = [row[0] for row in cursor.fetchall()]
                cursor.execute("SELECT pg_listening_channels()")
                channels = [row[0] for row in cursor.fetchall()]
                cursor.execute(
                    "SELECT c.relname FROM pg_class c "
                    "WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r'"
                )
                temporary = sorted(row[0] for row in cursor.fetchall())
                rows = 0
                for name in temporary:
                    cursor.execute(f'SELECT count(*) FROM pg_temp."{name}"')
                    rows += cursor.fetchone()[0]
                states.append(
                    {
                        "pid": pid,
                        "settings": {name: _show(cursor, name) for name in SETTINGS},
                        "time zone": _show(cursor, "TimeZone"),
                        "advisory locks": advisory,
                        "prepared statements": prepared,
                        "cursors": cursors,
                        "channels": channels,
                        "temporary tables": temporary,
                        "temporary rows": rows,
                    }
                )
        assert len({state["pid"] for state in states}) == SERVERS  # both servers inspected
        return states
    finally:
        for client in clients:
            client.rollback()
            client.close()


def _work(db: Database, bot: str) -> None:
    """A bot's work touching everything that could leave state: units of work, the COPY
    staging table, the ensemble advisory lock, a streamed export and an upgrade (no-op)."""
    with db.unit_of_work(bot_id=bot) as uow:
        uow.bots.register(bot)
        order = uow.orders.submit(
            client_order_id=f"{bot}-1",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=D(3),
            submitted_at=T0,
        )
        uow.orders.ingest_fills(
            [
                {
                    "fill_id": f"{bot}-f{k}",
                    "order_id": order.order_id,
                    "quantity": D(1),
                    "price": D(100),
                    "filled_at": T0,
                }
                for k in range(3)
            ]
        )
        uow.training.start_run("ppo", "m", run_id=f"{bot}-run")
        uow.training.log_episodes(  # COPY through the staging table
            f"{bot}-run", [{"episode_number": n, "episode_reward": float(n)} for n in range(50)]
        )
        uow.ensembles.set_weights(f"{bot}-e", {f"{bot}-run": 1.0})


def test_tradestore_leaves_no_session_state_on_server_connections(
    two_servers: PgBouncer, postgres_server: Any, migrated_database: str, tmp_path: Any
) -> None:
    from tradestore.ops import export

    defaults = _defaults(postgres_server, migrated_database)
    url = two_servers.url(migrated_database)
    db = Database(url, pgbouncer=True)  # the upgrade's migration lock needs to know
    try:
        _work(db, "state-sync")
        export.export_table(db, "fills", tmp_path / "fills.csv", format="csv", batch_size=1)
        db.upgrade()  # at head already: takes and releases the migration lock
    finally:
        db.dispose()

    async def main() -> None:
        async with AsyncDatabase(url, pgbouncer=True) as adb:
            async with adb.unit_of_work(bot_id="state-async") as uow:
                await uow.bots.register("state-async")
                await uow.training.start_run("ppo", "m", run_id="state-async-run")
                await uow.training.log_episodes(
                    "state-async-run", [{"episode_number": 0, "episode_reward": 1.0}]
                )
                await uow.ensembles.set_weights("e-async", {"state-async-run": 1.0})
            async with adb.unit_of_work(bot_id="state-async", readonly=True) as uow:
                assert (await uow.bots.get("state-async")).bot_id == "state-async"

    asyncio.run(main())
    states = _server_state(two_servers, migrated_database)
    for state in states:
        assert state["settings"] == defaults
        assert state["advisory locks"] == 0
        assert state["prepared statements"] == []
        assert state["cursors"] == []
        assert state["channels"] == []
        assert state["temporary rows"] == 0
        assert all(name.startswith("tradestore_stage_") for name in state["temporary tables"])
    staged = {name for state in states for name in state["temporary tables"]}
    assert staged  # the staging path really ran (and its table stays, empty)


def test_asyncpg_without_the_option_leaves_prepared_statements(
    two_servers: PgBouncer, migrated_database: str
) -> None:
    """Why ``pgbouncer=True`` exists: asyncpg's named statements outlive its transaction on
    the server connection, where the next client of that connection meets them."""
    url = two_servers.url(migrated_database)

    async def main() -> None:
        async with AsyncDatabase(url) as adb, adb.unit_of_work(readonly=True) as uow:
            await uow.bots.list()

    asyncio.run(main())
    names = [
        n for s in _server_state(two_servers, migrated_database) for n in s["prepared statements"]
    ]
    assert any(name.startswith("__asyncpg_") for name in names)


def test_another_clients_session_settings_do_not_reach_tradestore(
    two_servers: PgBouncer, migrated_database: str
) -> None:
    """A client that sets its session's time zone (PgBouncer tracks TimeZone and restores
    each client's own on every server connection it hands out) leaves tradestore on UTC."""
    others = [two_servers.connect(migrated_database) for _ in range(SERVERS)]
    try:
        for other in others:
            other.autocommit = True
            with other.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
        url = two_servers.url(migrated_database)
        db = Database(url)
        try:
            for _ in range(2 * SERVERS):
                with db.unit_of_work(readonly=True) as uow:
                    assert uow.session.execute(text("SHOW TIME ZONE")).scalar() == "UTC"
        finally:
            db.dispose()

        async def main() -> list[str]:
            async with AsyncDatabase(url, pgbouncer=True) as adb:
                zones = []
                for _ in range(2 * SERVERS):
                    async with adb.unit_of_work(readonly=True) as uow:
                        zones.append(
                            await uow.run_sync(
                                lambda u: u.session.execute(text("SHOW TIME ZONE")).scalar()
                            )
                        )
                return zones

        assert asyncio.run(main()) == ["UTC"] * (2 * SERVERS)
        for other in others:
            with other.cursor() as cursor:
                assert _show(cursor, "TimeZone") == "Asia/Tokyo"
    finally:
        for other in others:
            other.close()


#: Processes, and tasks in each, of the asyncpg test below: more clients than servers.
ASYNC_PROCESSES = 3
ASYNC_TASKS = 4


def _async_bots(url: str, process: int, start: Any, results: Any) -> None:
    """One process of asyncpg bots: each task registers its bot, writes and reads orders."""

    async def bot(adb: AsyncDatabase, name: str) -> None:
        async with adb.unit_of_work(bot_id=name) as uow:
            await uow.bots.register(name)
        for n in range(5):
            async with adb.unit_of_work(bot_id=name) as uow:
                await uow.orders.submit(
                    client_order_id=f"{name}-{n}",
                    ticker="AAPL",
                    side="buy",
                    order_type="market",
                    quantity=D(1),
                    submitted_at=T0,
                )
            async with adb.unit_of_work(bot_id=name, readonly=True) as uow:
                await uow.bots.get(name)
                await uow.orders.list_open()

    async def main() -> None:
        async with AsyncDatabase(url, pgbouncer=True, pool_size=ASYNC_TASKS) as adb:
            await asyncio.gather(
                *(bot(adb, f"apg-{process}-{task}") for task in range(ASYNC_TASKS))
            )

    try:
        start.wait(timeout=60)
        asyncio.run(main())
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_asyncpg_bots_in_several_processes_share_two_servers(
    two_servers: PgBouncer, migrated_database: str
) -> None:
    """Twelve asyncpg clients in three processes, two server connections: with
    ``pgbouncer=True`` (and asyncpg >= 0.31) no statement is named, so none collides with
    another client's of the same number on a shared server connection, and none is left."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    start = ctx.Barrier(ASYNC_PROCESSES)
    results = ctx.Queue()
    url = two_servers.url(migrated_database)
    workers = [
        ctx.Process(target=_async_bots, args=(url, p, start, results))
        for p in range(ASYNC_PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=240) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert outcomes == ["ok"] * ASYNC_PROCESSES
    for state in _server_state(two_servers, migrated_database):
        assert state["prepared statements"] == []
