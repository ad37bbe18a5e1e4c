"""One clock (issue 16.6): a backtest's simulated clock reaches every timestamp tradestore writes.

A bot's whole session runs through the public API on a Database whose clock is a simulated
week in January 2020 (answering in UTC+05:00, so the conversion to UTC is exercised too).
Every date and timestamp column of every table is then read back and must lie in that
week: a path that still takes the host's clock, the database server's, or a server default
writes 2025 or later and fails. Each timestamp column must also have been written at least
once, so a column the session forgot to reach fails as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, select
from sqlalchemy.types import TypeDecorator

from tradestore import Database
from tradestore.domain.metrics import MetricValues
from tradestore.errors import NaiveDatetimeError
from tradestore.models import Base
from tradestore.repositories.training import Episode

START = dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC)
#: The session takes a few hundred ticks of a second; the week leaves room for explicit times.
END = START + dt.timedelta(days=7)
ZONE = dt.timezone(dt.timedelta(hours=5))
BOT = "sim"
#: Written by ``tradestore db upgrade`` when the schema is created, not by a unit of work.
#: Not a bot session's: the audit log, and how partitioned tables are cut (revision 0016 writes
#: it once, on PostgreSQL only; it holds no timestamp).
NOT_SESSION_TABLES = {"migration_history", "partition_policies"}
#: Dates that are not the clock's but a calendar boundary derived from it: the first day of
#: the week, month or history that contains ``as_of`` (which is the clock's and is checked).
PERIOD_BOUNDARIES = {"period_metrics.period_start"}


class SimulatedClock:
    """Advances one second per reading; ``jump`` moves it on like a backtest's next bar."""

    def __init__(self) -> None:
        self.current = START
        self.readings = 0

    def __call__(self) -> dt.datetime:
        self.current += dt.timedelta(seconds=1)
        self.readings += 1
        assert self.current < END, "the session ran out of simulated week"
        return self.current.astimezone(ZONE)

    def jump(self, delta: dt.timedelta) -> None:
        self.current += delta


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def simulated(db_url: str, clock: SimulatedClock) -> Iterator[Database]:
    database = Database(db_url, clock=clock)
    yield database
    database.dispose()


def _is_instant(column: Any) -> bool:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, DateTime)


def _is_date(column: Any) -> bool:
    return isinstance(column.type, Date) and not _is_instant(column)


def _session(db: Database, clock: SimulatedClock) -> None:
    """Everything a trading and training bot writes, each default time left to the clock."""
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, mode="backtest", starting_balance=D(100_000))
        uow.bots.set_status(BOT, "running")
        uow.bots.heartbeat(BOT)
    with db.unit_of_work(bot_id=BOT) as uow:
        orders = uow.orders
        first = orders.submit(
            client_order_id="c1", ticker="AAPL", side="buy", order_type="market", quantity=D(10)
        )
        orders.set_status(first.order_id, "accepted")
        orders.record_fill(first.order_id, fill_id="f1", quantity=D(4), price=D(150))
        orders.record_fill(first.order_id, fill_id="f2", quantity=D(6), price=D(151))
        for client_id, end in (("c2", orders.cancel), ("c3", orders.reject), ("c4", orders.expire)):
            order = orders.submit(
                client_order_id=client_id,
                ticker="MSFT",
                side="sell",
                order_type="limit",
                quantity=D(1),
                limit_price=D(300),
            )
            end(order.order_id)
        orders.submit(
            client_order_id="c5",
            ticker="TSLA",
            side="buy",
            order_type="market",
            quantity=D(3),
            status="accepted",
        )
        orders.ingest_fills(
            [
                {
                    "client_order_id": "c5",
                    "fill_id": f"i{k}",
                    "quantity": D(1),
                    "price": D(200),
                    "filled_at": clock.current + dt.timedelta(seconds=k),
                }
                for k in range(3)
            ]
        )
    with db.unit_of_work(bot_id=BOT) as uow:
        positions = uow.positions
        positions.open("AAPL", side="long", quantity=D(10), entry_price=D(150), position_id="p1")
        positions.open("MSFT", side="short", quantity=D(5), entry_price=D(300), position_id="p2")
        positions.open("AAPL", side="long", quantity=D(2), entry_price=D(151), position_id="p3")
        assert positions.mark_to_market({"AAPL": D(152), "MSFT": D(298)}) == 3
        positions.update("p3", take_profit_price=D(160), metadata={"dca": 1})
        positions.trail_stop("p3", price=D(152), distance=D(3))
        positions.scale_in("p3", quantity=D(1), price=D(152))
        positions.scale_out("p3", quantity=D(1), price=D(153), exit_reason="scale_out")
        positions.close("p1", exit_price=D(153), exit_reason="take_profit", quantity=D(4))
        positions.close("p1", exit_price=D(154), exit_reason="signal", quantity=D(6))
        positions.close("p2", exit_price=D(297), exit_reason="manual")
    clock.jump(dt.timedelta(hours=6))
    with db.unit_of_work(bot_id=BOT) as uow:
        today = clock.current.date()
        uow.snapshots.record(total_equity=D(100_010), cash_balance=D(100_010))
        uow.snapshots.record(total_equity=D(100_020), cash_balance=D(100_020))  # the upsert
        uow.snapshots.record_intraday(
            total_equity=D(100_015), cash_balance=D(100_000), by_symbol={"AAPL": {}}
        )
        uow.snapshots.record_intraday(kind="manual", total_equity=D(100_016), cash_balance=D(1))
        uow.metrics.record(today, MetricValues(sharpe_ratio=1.0))
        uow.metrics.compute(today)  # replaces that row
        uow.metrics.compute_periods(today)
        uow.bots.heartbeat(BOT)
    with db.unit_of_work() as uow:
        uow.bots.recover(BOT)  # ends the running session as interrupted, opens another
        uow.bots.start_session(BOT)
    with db.unit_of_work() as uow:
        training = uow.training
        runs = []
        for name in ("a", "b"):
            run = training.start_run("PPO", f"model-{name}", hyperparameters={"gamma": 0.99})
            training.log_episodes(
                run.run_id,
                [Episode(n, episode_reward=float(n), episode_time=clock.current) for n in range(3)],
            )
            training.finish(run.run_id, "completed", final_reward=2.0)
            uow.evaluations.record(run.run_id, "validation", sharpe_ratio=1.5)
            runs.append(run.run_id)
        uow.ensembles.set_weights("e1", {runs[0]: 0.5, runs[1]: 0.5})
        uow.ensembles.set_weights("e1", {runs[0]: 0.7, runs[1]: 0.3})
    with db.unit_of_work() as uow:
        uow.bots.set_status(BOT, "stopped")


def test_a_simulated_clock_reaches_every_timestamp(
    simulated: Database, clock: SimulatedClock
) -> None:
    _session(simulated, clock)
    last = clock.current
    outside: list[str] = []
    never_written: list[str] = []
    with simulated.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_SESSION_TABLES:
                continue
            rows = connection.execute(select(table)).mappings().all()
            assert rows, f"the session wrote nothing to {table.name}: extend it"
            for column in table.columns:
                values = [row[column.name] for row in rows if row[column.name] is not None]
                where = f"{table.name}.{column.name}"
                if _is_instant(column):
                    if not values:
                        never_written.append(where)
                    outside += [f"{where}={v}" for v in values if not START <= v <= last]
                elif _is_date(column) and where not in PERIOD_BOUNDARIES:
                    outside += [
                        f"{where}={v}" for v in values if not START.date() <= v <= last.date()
                    ]
    assert outside == []
    assert never_written == []


def test_liveness_is_judged_by_the_simulated_clock(
    simulated: Database, clock: SimulatedClock
) -> None:
    """By the database server's clock, a heartbeat from 2020 is years stale."""
    with simulated.unit_of_work() as uow:
        uow.bots.register(BOT, mode="backtest")
        uow.bots.set_status(BOT, "running")
        beat = uow.bots.heartbeat(BOT)
        assert uow.bots.stale(older_than=dt.timedelta(minutes=5)) == []
    assert START < beat < END
    clock.jump(dt.timedelta(minutes=10))
    with simulated.unit_of_work() as uow:
        assert [b.bot_id for b in uow.bots.stale(older_than=dt.timedelta(minutes=5))] == [BOT]


def test_analytics_windows_end_at_the_simulated_present(
    simulated: Database, clock: SimulatedClock
) -> None:
    with simulated.unit_of_work() as uow:
        uow.bots.register(BOT, mode="backtest")
    with simulated.unit_of_work(bot_id=BOT) as uow:
        uow.orders.submit(
            client_order_id="c1", ticker="AAPL", side="buy", order_type="market", quantity=D(1)
        )
        uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(10))
    clock.jump(dt.timedelta(hours=3))
    with simulated.unit_of_work(bot_id=BOT) as uow:
        # Submitted in the simulated past: by the host's clock these are years old.
        assert [o.client_order_id for o in uow.analytics.orders_last_24h()] == ["c1"]
        [held] = uow.analytics.position_summary()
        assert 3 < held.hours_held < 3.1
        [day] = uow.analytics.daily_summary(days=0)
        assert day.trade_date == START.date()
    clock.jump(dt.timedelta(days=2))
    with simulated.unit_of_work(bot_id=BOT) as uow:
        assert len(uow.analytics.orders_last_24h()) == 0


def test_a_naive_clock_is_refused(db_url: str) -> None:
    database = Database(db_url, clock=lambda: dt.datetime(2020, 1, 6, 9, 30))
    try:
        with pytest.raises(NaiveDatetimeError, match="clock"), database.unit_of_work() as uow:
            uow.bots.register(BOT)
    finally:
        database.dispose()
