"""A bot's whole workflow through PgBouncer in transaction mode answers as it does directly.

Every public method of a unit of work (the error net's one valid call per method, found by
introspection, tests/reliability/test_error_net.py) runs against the net's scenario: once
directly on PostgreSQL, once through pgbouncer on psycopg2 (no option needed) and once
through pgbouncer on asyncpg with ``pgbouncer=True``. Each call runs in a unit of work that
is rolled back; results (or errors, type and message) must be equal, generated ids aside.
Then a workflow that commits (bot, orders, fills, positions opened and closed, snapshots,
episodes, analytics) runs through pgbouncer on both drivers and is read back directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal as D  # noqa: N817
from pathlib import Path
from typing import Any

import pytest
from bouncer_support import PgBouncer
from sqlalchemy import func, select, text

from sibling import load
from tradestore import Database
from tradestore.aio import AsyncDatabase, AsyncUnitOfWork
from tradestore.models import Fill, Order, TrainingEpisode
from tradestore.unit_of_work import UnitOfWork

same = load("aio/test_same_answers.py")
net = same.net

T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def _direct(postgres_server: Any, database: str, **options: Any) -> Database:
    return Database(postgres_server.admin_url.set(database=database), **options)


def test_every_call_answers_the_same_through_pgbouncer(
    bouncer: PgBouncer, postgres_server: Any, migrated_database: str, tmp_path: Path
) -> None:
    through = Database(bouncer.url(migrated_database), clock=same.fixed_clock)
    direct = _direct(postgres_server, migrated_database, clock=same.fixed_clock)
    try:
        scenario = net._set_up(through, tmp_path)  # written through pgbouncer, committed
        calls = {name: same.recorded(name, scenario) for name in sorted(net.CALLS)}
        expected = {name: same.sync_outcome(direct, call) for name, call in calls.items()}
        synced = {name: same.sync_outcome(through, call) for name, call in calls.items()}
    finally:
        through.dispose()
        direct.dispose()

    async def main() -> dict[str, Any]:
        async with AsyncDatabase(
            bouncer.url(migrated_database), clock=same.fixed_clock, pgbouncer=True
        ) as adb:
            return {name: await same.async_outcome(adb, call) for name, call in calls.items()}

    awaited = asyncio.run(main())
    assert sum(1 for o in expected.values() if o[0] == "ok") > 80  # the calls really ran
    for label, got in (("psycopg2", synced), ("asyncpg", awaited)):
        different = {n: (expected[n], got[n]) for n in calls if got[n] != expected[n]}
        assert not different, f"through pgbouncer on {label}:\n" + "\n".join(
            f"{k}: {v[0]!r}\n  != {v[1]!r}" for k, v in different.items()
        )


def _sync_workflow(uow: UnitOfWork, bot: str) -> None:
    uow.bots.register(bot, starting_balance=D(10_000))
    for n in range(3):
        order = uow.orders.submit(
            client_order_id=f"{bot}-c{n}",
            ticker="AAPL",
            side="buy",
            order_type="limit",
            quantity=D(4),
            limit_price=D(100),
            reference_price=D(100),
            submitted_at=T0,
        )
        for k in range(2):
            uow.orders.record_fill(
                order.order_id,
                fill_id=f"{bot}-f{n}-{k}",
                quantity=D(2),
                price=D(100) + k,
                filled_at=T0 + dt.timedelta(seconds=k),
            )
    uow.orders.ingest_fills(  # the COPY path and its staging table
        [
            {
                "fill_id": f"{bot}-i{k}",
                "order_id": uow.orders.submit(
                    client_order_id=f"{bot}-ci{k}",
                    ticker="MSFT",
                    side="buy",
                    order_type="market",
                    quantity=D(1),
                    submitted_at=T0,
                ).order_id,
                "quantity": D(1),
                "price": D(50),
                "filled_at": T0,
            }
            for k in range(3)
        ]
    )
    uow.positions.open("AAPL", side="long", quantity=D(12), entry_price=D(100), position_id="p1")
    uow.positions.open("MSFT", side="long", quantity=D(3), entry_price=D(50), position_id="p2")
    uow.positions.close("p2", exit_price=D(55), exit_reason="take_profit")
    uow.snapshots.record(total_equity=D(10_015), cash_balance=D(8650), snapshot_date=T0.date())
    uow.training.start_run("ppo", "m", run_id=f"{bot}-run")
    uow.training.log_episodes(
        f"{bot}-run", [{"episode_number": n, "episode_reward": float(n)} for n in range(5)]
    )
    uow.training.finish(f"{bot}-run", "completed", final_reward=4.0)


async def _async_workflow(uow: AsyncUnitOfWork, bot: str) -> None:
    """``_sync_workflow``, awaited."""
    await uow.bots.register(bot, starting_balance=D(10_000))
    for n in range(3):
        order = await uow.orders.submit(
            client_order_id=f"{bot}-c{n}",
            ticker="AAPL",
            side="buy",
            order_type="limit",
            quantity=D(4),
            limit_price=D(100),
            reference_price=D(100),
            submitted_at=T0,
        )
        for k in range(2):
            await uow.orders.record_fill(
                order.order_id,
                fill_id=f"{bot}-f{n}-{k}",
                quantity=D(2),
                price=D(100) + k,
                filled_at=T0 + dt.timedelta(seconds=k),
            )
    rows = []
    for k in range(3):
        order = await uow.orders.submit(
            client_order_id=f"{bot}-ci{k}",
            ticker="MSFT",
            side="buy",
            order_type="market",
            quantity=D(1),
            submitted_at=T0,
        )
        rows.append(
            {
                "fill_id": f"{bot}-i{k}",
                "order_id": order.order_id,
                "quantity": D(1),
                "price": D(50),
                "filled_at": T0,
            }
        )
    await uow.orders.ingest_fills(rows)
    await uow.positions.open(
        "AAPL", side="long", quantity=D(12), entry_price=D(100), position_id="p1"
    )
    await uow.positions.open(
        "MSFT", side="long", quantity=D(3), entry_price=D(50), position_id="p2"
    )
    await uow.positions.close("p2", exit_price=D(55), exit_reason="take_profit")
    await uow.snapshots.record(
        total_equity=D(10_015), cash_balance=D(8650), snapshot_date=T0.date()
    )
    await uow.training.start_run("ppo", "m", run_id=f"{bot}-run")
    await uow.training.log_episodes(
        f"{bot}-run", [{"episode_number": n, "episode_reward": float(n)} for n in range(5)]
    )
    await uow.training.finish(f"{bot}-run", "completed", final_reward=4.0)


def _counts(db: Database, bot: str) -> dict[str, Any]:
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        session = uow.session
        return {
            "orders": session.scalar(select(func.count()).where(Order.bot_id == bot)),
            "fills": session.scalar(select(func.count()).where(Fill.bot_id == bot)),
            "filled": session.scalar(select(func.sum(Fill.quantity)).where(Fill.bot_id == bot)),
            "open": [p.position_id for p in uow.positions.list_open()],
            "closed": [p.position_id for p in uow.positions.list_closed()],
            "episodes": session.scalar(
                select(func.count()).where(TrainingEpisode.run_id == f"{bot}-run")
            ),
            "realized": uow.positions.total_realized_pnl(),
            "equity": [p.total_equity for p in uow.snapshots.equity_curve()],
            "statistics": uow.analytics.trade_statistics(),
            "time zone": session.execute(text("SHOW TIME ZONE")).scalar(),
        }


@pytest.mark.parametrize("driver", ["psycopg2", "asyncpg"])
def test_a_committed_workflow_through_pgbouncer(
    bouncer: PgBouncer, postgres_server: Any, migrated_database: str, driver: str
) -> None:
    bot = f"bouncer-{driver}"
    url = bouncer.url(migrated_database)
    if driver == "psycopg2":
        through = Database(url)
        try:
            with through.unit_of_work(bot_id=bot) as uow:
                _sync_workflow(uow, bot)
            answered = _counts(through, bot)
        finally:
            through.dispose()
    else:

        async def main() -> None:
            async with (
                AsyncDatabase(url, pgbouncer=True) as adb,
                adb.unit_of_work(bot_id=bot) as uow,
            ):
                await _async_workflow(uow, bot)

        asyncio.run(main())
        answered = None
    direct = _direct(postgres_server, migrated_database)
    try:
        found = _counts(direct, bot)
    finally:
        direct.dispose()
    assert found["orders"] == 6
    assert found["fills"] == 9
    assert found["filled"] == D(15)
    assert (found["open"], found["closed"]) == (["p1"], ["p2"])
    assert found["episodes"] == 5
    assert found["realized"] == D(15)
    assert found["equity"] == [D(10_015)]
    assert found["time zone"] == "UTC"
    if answered is not None:
        assert answered == found  # read back through pgbouncer: the same answers
