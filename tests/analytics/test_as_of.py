"""A backtest asks about its own time: every time-relative call takes ``now=`` (issue 13.3).

The history here is backfilled far in the past (2023), so any call that measures from the
real clock, or that sees rows stamped after the simulated present, gives the wrong answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from typing import Any

import pytest
from sqlalchemy import event, text

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.domain.metrics import MetricValues
from tradestore.models import ALL_STRATEGIES

BOT = "bt"
NOW = dt.datetime(2023, 6, 15, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, mode="backtest")
    return BOT


def _metrics(db: Database) -> None:
    """A metrics row per day from 40 days before NOW to 10 days after (the future)."""
    with db.unit_of_work(bot_id=BOT) as uow:
        for k in range(-40, 11):
            day = TODAY + dt.timedelta(days=k)
            uow.metrics.record(day, MetricValues(sharpe_ratio=float(k)))
            if k % 2 == 0:
                uow.metrics.record(day, MetricValues(sharpe_ratio=-float(k)), strategy="ppo")


def test_performance_summary_as_of_a_backtest_date(db: Database, bot: str) -> None:
    _metrics(db)
    with db.unit_of_work(bot_id=BOT) as uow:
        assert len(uow.analytics.performance_summary()) == 0  # 2023 is not the last 30 days
        rows = uow.analytics.performance_summary(now=NOW)
        portfolio = uow.analytics.performance_summary(strategy=ALL_STRATEGIES, now=NOW)
    # metric_date in [TODAY - 30, TODAY], newest first, every strategy's rows
    expected = sorted(
        (
            (TODAY + dt.timedelta(days=k), s)
            for k in range(-30, 1)
            for s in ((ALL_STRATEGIES, "ppo") if k % 2 == 0 else (ALL_STRATEGIES,))
        ),
        key=lambda key: (-key[0].toordinal(), key[1]),
    )
    assert [(r.metric_date, r.strategy) for r in rows] == expected
    assert [r.metric_date for r in portfolio] == [TODAY - dt.timedelta(days=k) for k in range(31)]
    assert portfolio[0].sharpe_ratio == 0.0  # today's row, not the future's


def test_performance_summary_with_now_has_the_view_columns(db: Database, bot: str) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with db.unit_of_work(bot_id=BOT) as uow:
        for k in (0, 3, 31):
            uow.metrics.record(
                today - dt.timedelta(days=k),
                MetricValues(
                    sharpe_ratio=1.5,
                    max_drawdown=D("12.5"),
                    win_rate_30d=0.25,
                    profit_factor_30d=2.0,
                    expectancy_30d=D("3.75"),
                    total_trades_30d=4,
                ),
            )
    with db.session(readonly=True) as session:
        analytics = Analytics(session, bot_id=BOT)
        view = analytics.performance_summary()
        computed = analytics.performance_summary(now=dt.datetime.now(dt.UTC))
    assert len(view) == 2
    assert computed == view


def test_current_risk_as_of(db: Database, bot: str) -> None:
    _metrics(db)
    with db.unit_of_work(bot_id=BOT) as uow:
        [latest] = uow.analytics.current_risk()
        [then] = uow.analytics.current_risk(now=NOW)
        [everyone] = Analytics(uow.session).current_risk(now=NOW)
    assert latest.metric_date == TODAY + dt.timedelta(days=10)
    assert (then.metric_date, then.sharpe_ratio) == (TODAY, 0.0)
    assert everyone == then


def _orders(db: Database, offsets_hours: list[float]) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        for i, hours in enumerate(offsets_hours):
            uow.orders.submit(
                client_order_id=f"c-{i}",
                ticker="AAPL",
                side="buy",
                order_type="market",
                quantity=D(1),
                submitted_at=NOW + dt.timedelta(hours=hours),
            )


def test_orders_last_24h_as_of(db: Database, bot: str) -> None:
    offsets = [-30.0, -24.0, -23.5, -1.0, 0.0, 0.5, 30.0]
    _orders(db, offsets)
    with db.unit_of_work(bot_id=BOT) as uow:
        assert len(uow.analytics.orders_last_24h()) == 0
        rows = uow.analytics.orders_last_24h(now=NOW)
        everyone = Analytics(uow.session).orders_last_24h(now=NOW)
    # [NOW - 24 h, NOW], newest first
    assert [r.client_order_id for r in rows] == ["c-4", "c-3", "c-2", "c-1"]
    assert everyone == rows


def test_orders_last_24h_with_now_has_the_view_columns(db: Database, bot: str) -> None:
    real_now = dt.datetime.now(dt.UTC)
    with db.unit_of_work(bot_id=BOT) as uow:
        for i, hours in enumerate((1, 5, 30)):
            order = uow.orders.submit(
                client_order_id=f"v-{i}",
                ticker="MSFT",
                side="sell",
                order_type="limit",
                quantity=D("2.5"),
                limit_price=D("410.25"),
                submitted_at=real_now - dt.timedelta(hours=hours),
            )
            uow.orders.record_fill(
                order.order_id, fill_id=f"f-{i}", quantity=D("1"), price=D("410.5")
            )
    with db.session(readonly=True) as session:
        analytics = Analytics(session, bot_id=BOT)
        view = analytics.orders_last_24h()
        computed = analytics.orders_last_24h(now=dt.datetime.now(dt.UTC))
    assert len(view) == 2
    assert computed == view


def test_position_summary_hours_held_to_now(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL",
            side="long",
            quantity=D(10),
            entry_price=D(150),
            opened_at=NOW - dt.timedelta(hours=7, minutes=30),
        )
        live = uow.analytics.position_summary()
        [then] = uow.analytics.position_summary(now=NOW)
    assert then.hours_held == 7.5
    assert live[0].hours_held > 24 * 365  # measured to the real clock
    assert then.pnl_dollars == live[0].pnl_dollars


def test_windows_given_now_leave_out_the_backtests_future(db: Database, bot: str) -> None:
    """Before: daily_summary, fill_rate, ... given now= counted rows stamped after it."""
    _orders(db, [-2.0, -1.0, 1.0, 2.0, 3.0])
    with db.unit_of_work(bot_id=BOT) as uow:
        a = uow.analytics
        [day] = a.daily_summary(days=0, now=NOW)
        assert day.total_orders == 2
        assert sum(r.orders for r in a.daily_fill_rate(now=NOW)) == 2
        assert a.fill_rate("AAPL", days=1, now=NOW) == 0.0
        [symbol] = a.fill_rate_by_symbol(now=NOW)
        assert symbol.fill_rate_7d == 0.0
        # Without now=, windows still end at the present: every order is before it.
        assert sum(r.orders for r in a.daily_fill_rate()) == 5


def test_performance_over_time_as_of(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        for k in range(-5, 6):
            uow.snapshots.record(
                snapshot_date=TODAY + dt.timedelta(days=k),
                snapshot_time=NOW + dt.timedelta(days=k),
                total_equity=D(1000 + k),
                cash_balance=D(0),
            )
        points = uow.analytics.performance_over_time(days=3, now=NOW)
    assert [p.date for p in points] == [TODAY + dt.timedelta(days=k) for k in range(-3, 1)]


# --- the plans stay index plans ----------------------------------------------------------


#: Indexes PostgreSQL may equally use for the same bounded range on an empty table.
_SAME_RANGE = {"idx_orders_bot_submitted_at": ("idx_orders_submitted_at",)}


@pytest.fixture
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        # a read-only block's framing on SQLite (query_only on and off), not the read's
        if not statement.startswith("PRAGMA query_only"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    yield captured
    event.remove(db.engine, "before_cursor_execute", capture)


@pytest.mark.parametrize(
    ("call", "index"),
    [
        ("performance_summary", "performance_metrics"),
        ("orders_last_24h", "idx_orders_bot_submitted_at"),
    ],
)
def test_as_of_reads_are_index_range_scans(
    db: Database, bot: str, statements: list[tuple[str, Any]], call: str, index: str
) -> None:
    if db.dialect_name == "postgresql" and call == "orders_last_24h":
        # A planner choosing between indexes needs statistics: on an empty table every index
        # led by bot_id costs the same (the broker id's one included), so give it the shape
        # of a real history (a few orders a day for 200 days, each with a broker id) and
        # ANALYZE, as autovacuum would.
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.orders.submit_many(
                {
                    "client_order_id": f"h-{n}",
                    "broker_order_id": f"B-{n}",
                    "ticker": "AAPL",
                    "side": "buy",
                    "order_type": "market",
                    "quantity": D(1),
                    "submitted_at": NOW - dt.timedelta(hours=2 * n),
                }
                for n in range(2_400)
            )
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE orders"))
            conn.commit()
        statements.clear()
    with db.session(readonly=True) as session:
        getattr(Analytics(session, bot_id=BOT), call)(now=NOW)
    [(sql, parameters)] = statements
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if db.dialect_name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "INDEX" in plan, plan
            assert index in plan, plan
            assert "SCAN" not in plan.replace("USING INDEX", ""), plan
        else:
            cursor.execute("SET enable_seqscan = off")  # the tables are tiny here
            cursor.execute(f"EXPLAIN {sql}", parameters)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan, plan
            assert "Seq Scan" not in plan, plan
            # On these empty tables the bot's (bot_id, submitted_at, status) index and the
            # descending submitted_at index cost the same, and PostgreSQL may take either; both
            # are range scans bounded by the as-of window. With statistics on real data it
            # takes the bot's index (benchmarks/bench_indexes.py prints the plans).
            alternatives = {index, *_SAME_RANGE.get(index, ())}
            assert any(name in plan for name in alternatives) or index == "performance_metrics", (
                plan
            )
            if index in _SAME_RANGE:
                condition = plan.split("Index Cond: ", 1)[1]
                assert "submitted_at >= " in condition, plan
                assert "submitted_at <= " in condition, plan
        conn.execute(text("SELECT 1"))
