"""AsyncDatabase keeps the sync Database's rules: errors, scoping, transactions, retries,
the one-writer rule (per task), the schema check, the clock, and the bulk paths."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from decimal import Decimal
from typing import Any

import pytest
from aio_support import ARun, run_async
from sqlalchemy import event, text

from tradestore import Database
from tradestore.aio import AsyncDatabase, AsyncUnitOfWork
from tradestore.config import parse_url
from tradestore.db.retry import RetryPolicy
from tradestore.errors import (
    DuplicateFill,
    IntegrityViolation,
    MissingDependency,
    NestedUnitOfWork,
    OrderNotFound,
    SchemaError,
    SchemaOutOfDate,
    TradestoreError,
    TransactionAborted,
    TransientDatabaseError,
    ValidationError,
)
from tradestore.unit_of_work import UnitOfWork

D = Decimal
BOT = "alpha"
T0 = dt.datetime(2024, 3, 1, 14, 30, tzinfo=dt.UTC)
ORDER: dict[str, Any] = {
    "client_order_id": "c-1",
    "ticker": "AAPL",
    "side": "buy",
    "order_type": "limit",
    "quantity": D(10),
    "limit_price": D(100),
}


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT)
    return BOT


def _count(db: Database, table: str) -> int:
    with db.session(readonly=True) as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- URLs and drivers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://u:pw@h/db", "postgresql+asyncpg"),
        ("postgresql+psycopg2://u:pw@h/db", "postgresql+asyncpg"),
        ("postgres://u:pw@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:pw@h/db", "postgresql+asyncpg"),
    ],
)
def test_the_sync_spellings_map_to_the_async_driver(given: str, driver: str) -> None:
    db = AsyncDatabase(given, check_schema=False)  # nothing connects until a unit of work
    try:
        assert db.url.drivername == driver
        assert "pw" not in repr(db)
        assert "pw" not in db.safe_url
    finally:
        asyncio.run(db.dispose())


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite+aiosqlite:///x.db", "sqlite"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg2"),
    ],
)
def test_an_async_url_given_to_the_sync_api_maps_back(given: str, driver: str) -> None:
    assert parse_url(given).drivername == driver


@pytest.mark.parametrize(
    ("url", "module"),
    [("sqlite:///x.db", "aiosqlite"), ("postgresql://u@h/db", "asyncpg")],
)
def test_a_missing_driver_names_the_extra(
    url: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(MissingDependency, match=r"pip install 'tradestore\[async\]'") as caught:
        AsyncDatabase(url)
    assert module in str(caught.value)
    assert isinstance(caught.value, TradestoreError)


def test_an_unmigrated_database_is_refused(fresh_url: str) -> None:
    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work():
            pass

    with pytest.raises(SchemaOutOfDate, match="upgrade"):
        run_async(fresh_url, body)

    async def upgrade_then_use(adb: AsyncDatabase) -> str | None:
        await adb.upgrade()
        async with adb.unit_of_work() as uow:
            await uow.bots.register(BOT)
        return await adb.current_revision()

    assert run_async(fresh_url, upgrade_then_use, check_schema=False) is not None
    check = Database(fresh_url)
    try:
        check.check_schema()  # the async upgrade left the schema at head
    finally:
        check.dispose()


# --- repositories, errors --------------------------------------------------------------


def test_a_unit_of_work_commits_fills_idempotently(arun: ARun, db: Database, bot: str) -> None:
    async def body(adb: AsyncDatabase) -> tuple[Any, ...]:
        async with adb.unit_of_work(bot_id=bot) as uow:
            order = await uow.orders.submit(**ORDER)
            first = await uow.orders.record_fill(
                order.order_id, fill_id="f-1", quantity=D(4), price=D(99), filled_at=T0
            )
        async with adb.unit_of_work(bot_id=bot) as uow:
            replay = await uow.orders.record_fill(
                order.order_id, fill_id="f-1", quantity=D(4), price=D(99), filled_at=T0
            )
            curve = await uow.analytics.equity_curve()
        return first, replay, curve

    first, replay, curve = arun(body)
    assert not first.replayed
    assert replay.replayed
    assert replay.order.filled_quantity == D(4)
    assert list(curve) == []
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.orders.get(client_order_id="c-1").filled_quantity == D(4)
        assert len(uow.orders.fills(first.fill.order_id)) == 1


def test_refusals_are_the_sync_ones(arun: ARun, db: Database, bot: str) -> None:
    def sync_errors(call: Any) -> tuple[type[BaseException], str]:
        with pytest.raises(TradestoreError) as caught, db.unit_of_work(bot_id=bot) as uow:
            call(uow)
        return type(caught.value), str(caught.value)

    bad_quantity = {**ORDER, "quantity": D(-1)}
    with db.unit_of_work(bot_id=bot) as uow:
        order_id = uow.orders.submit(**ORDER).order_id
        uow.orders.record_fill(order_id, fill_id="f-1", quantity=D(1), price=D(100))
    expected = [
        sync_errors(lambda u: u.orders.submit(**bad_quantity)),
        sync_errors(lambda u: u.orders.get("o-missing")),
        sync_errors(
            lambda u: u.orders.record_fill(order_id, fill_id="f-1", quantity=D(2), price=D(100))
        ),
    ]

    async def body(adb: AsyncDatabase) -> list[tuple[type[BaseException], str]]:
        found = []
        calls = [
            lambda u: u.orders.submit(**bad_quantity),
            lambda u: u.orders.get("o-missing"),
            lambda u: u.orders.record_fill(order_id, fill_id="f-1", quantity=D(2), price=D(100)),
        ]
        for call in calls:
            try:
                async with adb.unit_of_work(bot_id=bot) as uow:
                    await call(uow)
            except TradestoreError as error:
                found.append((type(error), str(error)))
        return found

    got = arun(body)
    assert got == expected
    assert [kind for kind, _ in got] == [ValidationError, OrderNotFound, DuplicateFill]
    assert "quantity" in got[0][1]
    assert "-1" in got[0][1]


def test_a_bot_scoped_repository_needs_a_bot_id(arun: ARun) -> None:
    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work() as uow:
            await uow.orders.list_open()

    with pytest.raises(ValidationError, match="bot_id"):
        arun(body)


def test_a_block_that_raises_writes_nothing(arun: ARun, db: Database, bot: str) -> None:
    class Boom(Exception):
        pass

    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work(bot_id=bot) as uow:
            await uow.orders.submit(**ORDER)
            raise Boom

    with pytest.raises(Boom):
        arun(body)
    assert _count(db, "orders") == 0


def test_a_caught_database_refusal_aborts_the_block(arun: ARun, db: Database, bot: str) -> None:
    async def body(adb: AsyncDatabase) -> BaseException:
        async with adb.unit_of_work(bot_id=bot) as uow:
            await uow.orders.submit(**ORDER)
            try:
                await uow.run_sync(
                    lambda u: u.executor.execute(text("SELECT * FROM no_such_table"))
                )
            except SchemaError as error:  # a failed statement: tradestore's error, not raw
                caught = error
            await asyncio.sleep(0)
        return caught

    with pytest.raises(TransactionAborted, match="no_such_table") as aborted:
        arun(body)
    assert isinstance(aborted.value.first_error, SchemaError)
    assert _count(db, "orders") == 0


# --- run, retries, the one-writer rule -------------------------------------------------


def test_run_reruns_the_whole_work_on_a_transient_error(arun: ARun, db: Database, bot: str) -> None:
    attempts: list[int] = []

    async def work(uow: AsyncUnitOfWork) -> str:
        attempts.append(len(attempts))
        order = await uow.orders.submit(**{**ORDER, "client_order_id": f"c-{len(attempts)}"})
        if len(attempts) == 1:
            raise TransientDatabaseError("the server went away")
        return str(order.client_order_id)

    async def body(adb: AsyncDatabase) -> str:
        return await adb.run(work, bot_id=bot, retry=RetryPolicy(attempts=3, base_delay=0.001))

    assert arun(body) == "c-2"
    assert len(attempts) == 2
    with db.unit_of_work(bot_id=bot) as uow:  # the first attempt was rolled back
        assert [o.client_order_id for o in uow.orders.list_open()] == ["c-2"]


def test_run_gives_up_under_the_policy(arun: ARun) -> None:
    async def work(uow: AsyncUnitOfWork) -> None:
        raise TransientDatabaseError("still down")

    async def body(adb: AsyncDatabase) -> None:
        await adb.run(work, retry=RetryPolicy(attempts=2, base_delay=0.001))

    with pytest.raises(TransientDatabaseError, match="after 2 attempt"):
        arun(body)


def test_a_nested_write_unit_of_work_in_one_task_is_refused(arun: ARun, db: Database) -> None:
    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work() as outer:
            await outer.bots.register("outer")
            with pytest.raises(NestedUnitOfWork, match="already open in this task"):
                async with adb.unit_of_work():
                    pass
            with pytest.raises(NestedUnitOfWork):
                await adb.run(lambda uow: uow.bots.register("run"))
            async with adb.unit_of_work(readonly=True) as reader:  # reads may nest
                await reader.bots.list()
        async with adb.unit_of_work() as after:  # the task may open one again
            await after.bots.register("after")

    arun(body)
    with db.unit_of_work() as uow:
        assert sorted(b.bot_id for b in uow.bots.list()) == ["after", "outer"]


def test_two_tasks_each_get_their_own_unit_of_work(arun: ARun, db: Database) -> None:
    async def body(adb: AsyncDatabase) -> None:
        first_open = asyncio.Event()

        async def first() -> None:
            async with adb.unit_of_work() as uow:
                await uow.bots.register("first")
                first_open.set()
                for _ in range(5):
                    await asyncio.sleep(0)  # the other task runs while this one is open

        async def second() -> None:
            await first_open.wait()
            async with adb.unit_of_work() as uow:  # another task: not nested
                await uow.bots.register("second")

        await asyncio.gather(first(), second())

    arun(body)
    with db.unit_of_work() as uow:
        assert sorted(b.bot_id for b in uow.bots.list()) == ["first", "second"]


# --- typed calls, streams, bulk, clock -------------------------------------------------


def test_run_sync_and_the_session(arun: ARun, bot: str) -> None:
    def typed(uow: UnitOfWork) -> int:
        uow.orders.submit(**ORDER)
        return int(uow.session.execute(text("SELECT count(*) FROM orders")).scalar_one())

    async def body(adb: AsyncDatabase) -> int:
        async with adb.unit_of_work(bot_id=bot) as uow:
            return await uow.run_sync(typed)

    assert arun(body) == 1


def test_bulk_paths_and_streaming(arun: ARun, db: Database, bot: str) -> None:
    episodes = [{"episode_number": n, "episode_reward": float(n)} for n in range(1200)]
    statements: list[str] = []

    async def body(adb: AsyncDatabase) -> tuple[Any, ...]:
        event.listen(
            adb.engine.sync_engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *rest: statements.append(statement),
        )
        async with adb.unit_of_work(bot_id=bot) as uow:
            order = await uow.orders.submit(**{**ORDER, "quantity": D(100)})
            await uow.training.start_run("ppo", "m", run_id="r-1")
        async with adb.unit_of_work(bot_id=bot) as uow:
            logged = await uow.training.log_episodes("r-1", episodes)
            report = await uow.orders.ingest_fills(
                [
                    {
                        "fill_id": f"f-{n}",
                        "order_id": order.order_id,
                        "quantity": D(1),
                        "price": D(100),
                        "filled_at": T0,
                    }
                    for n in range(30)
                ]
            )
        async with adb.unit_of_work(readonly=True) as uow:
            numbers = [e.episode_number async for e in uow.training.iter_episodes("r-1")]
        return logged, report, numbers

    logged, report, numbers = arun(body)
    assert logged == 1200
    assert numbers == list(range(1200))  # more than one chunk, in order
    assert _count(db, "fills") == 30
    assert _count(db, "training_episodes") == 1200
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.orders.get(client_order_id="c-1").filled_quantity == D(30)
    assert report is not None
    if db.dialect_name == "postgresql":  # asyncpg's COPY, announced to the cursor events
        assert sum(s.startswith("COPY") for s in statements) >= 2


def test_the_clock_is_injected(arun: ARun, bot: str) -> None:
    at = dt.datetime(2021, 1, 4, 9, 30, tzinfo=dt.UTC)

    async def body(adb: AsyncDatabase) -> Any:
        async with adb.unit_of_work(bot_id=bot) as uow:
            return await uow.orders.submit(**ORDER)

    order = arun(body, clock=lambda: at)
    assert order.submitted_at == at
    assert order.updated_at == at


def test_a_refused_statement_is_tradestores_error_naming_the_constraint(
    arun: ARun, db: Database, bot: str
) -> None:
    insert = text(
        "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
        "VALUES (:id, 'paper', 'running', 0, 0)"
    )

    async def body(adb: AsyncDatabase) -> None:
        async with adb.unit_of_work() as uow:
            await uow.run_sync(lambda u: u.executor.execute(insert, {"id": bot}))

    with pytest.raises(IntegrityViolation) as caught:
        arun(body)
    assert caught.value.constraint is not None
    assert "bots" in caught.value.constraint


def test_a_cancelled_task_rolls_back_and_the_database_goes_on(
    arun: ARun, db: Database, bot: str
) -> None:
    async def body(adb: AsyncDatabase) -> list[str]:
        inside = asyncio.Event()

        async def writer() -> None:
            async with adb.unit_of_work(bot_id=bot) as uow:
                await uow.orders.submit(**ORDER)
                inside.set()
                await asyncio.sleep(30)  # cancelled here, inside the block

        task = asyncio.create_task(writer())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with adb.unit_of_work(bot_id=bot) as uow:
            await uow.orders.submit(**{**ORDER, "client_order_id": "c-after"})
            return [o.client_order_id for o in await uow.orders.list_open()]

    assert arun(body) == ["c-after"]
    assert _count(db, "orders") == 1


@pytest.mark.postgres_only
def test_run_rides_out_a_connection_the_server_ended(arun: ARun, db: Database, bot: str) -> None:
    """A real transient failure on asyncpg: the server ends the backend mid-work; the error
    is classified as the sync API classifies psycopg2's, and the work runs again."""
    attempts: list[int] = []

    def end_backend(pid: int) -> None:
        with db.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def work(uow: AsyncUnitOfWork) -> str:
        attempts.append(len(attempts))
        order = await uow.orders.submit(**ORDER)
        if len(attempts) == 1:
            pid = await uow.run_sync(
                lambda u: u.executor.execute(text("SELECT pg_backend_pid()")).scalar_one()
            )
            end_backend(int(pid))
            await uow.orders.get(order.order_id)  # the connection is gone
        return str(order.client_order_id)

    async def body(adb: AsyncDatabase) -> str:
        return await adb.run(work, bot_id=bot, retry=RetryPolicy(attempts=3, base_delay=0.01))

    assert arun(body) == "c-1"
    assert len(attempts) == 2
    assert _count(db, "orders") == 1


def test_from_env_reads_the_sync_apis_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADESTORE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://bot:secret@db.example:5432/trading")
    db = AsyncDatabase.from_env(check_schema=False)
    try:
        assert db.url.drivername == "postgresql+asyncpg"
        assert db.url.database == "trading"
        assert repr(db) == "AsyncDatabase('postgresql+asyncpg://bot:***@db.example:5432/trading')"
    finally:
        asyncio.run(db.dispose())
