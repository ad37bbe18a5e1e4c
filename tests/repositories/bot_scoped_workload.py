"""A realistic day of one bot, one call per public method of every bot-scoped repository and
of the bot-scoped analytics, each in its own unit of work (tests/repositories/
test_bot_id_predicates.py checks every statement they send).

Another bot (``beta``) writes the same kinds of rows first, so a statement that forgot its
bot_id would have someone else's rows to find.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradestore import Database
from tradestore.domain.metrics import MetricValues
from tradestore.unit_of_work import UnitOfWork

BOT = "alpha"
OTHER = "beta"
D = Decimal
T0 = dt.datetime(2024, 3, 1, 14, 30, tzinfo=dt.UTC)
DAY1, DAY2, DAY3 = dt.date(2024, 3, 1), dt.date(2024, 3, 4), dt.date(2024, 3, 5)


@dataclass
class State:
    session_id: int = 0
    intraday_id: int = 0


def _trading_day(uow: UnitOfWork, prefix: str) -> None:
    """What both bots write before the traced calls (not traced)."""
    uow.positions.open(
        "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id=f"{prefix}-open"
    )
    uow.positions.open(
        "MSFT", side="long", quantity=D(5), entry_price=D(50), position_id=f"{prefix}-closed"
    )
    uow.positions.close(f"{prefix}-closed", exit_price=D(55), exit_reason="take_profit")
    for order_id in ("o-1", "o-2", "o-3", "o-4", "o-5"):
        uow.orders.submit(
            client_order_id=f"c-{order_id}",
            order_id=f"{prefix}-{order_id}",
            ticker="AAPL",
            side="buy",
            order_type="limit",
            quantity=D(10),
            limit_price=D(100),
            reference_price=D(100),
        )
    uow.orders.record_fill(f"{prefix}-o-1", fill_id=f"{prefix}-f-1", quantity=D(2), price=D(100))
    uow.snapshots.record(total_equity=D(10_000), cash_balance=D(5000), snapshot_date=DAY1)
    uow.snapshots.record(total_equity=D(10_100), cash_balance=D(5000), snapshot_date=DAY2)


def set_up(db: Database) -> State:
    state = State()
    for bot in (OTHER, BOT):
        with db.unit_of_work(bot_id=bot) as uow:
            uow.bots.register(bot, starting_balance=D(10_000))
            uow.bots.set_status(bot, "running")
            _trading_day(uow, bot[0])
            session = uow.sessions.current()
            assert session is not None
            state.session_id = session.session_id
            intraday = uow.snapshots.record_intraday(
                total_equity=D(10_050),
                cash_balance=D(5000),
                snapshot_time=T0,
                by_symbol={"AAPL": {"quantity": D(10), "unrealized_pnl": D(5)}},
            )
            state.intraday_id = intraday.snapshot_id
            uow.metrics.compute(DAY2)
    return state


Call = Callable[[UnitOfWork, State], object]
_NEW: dict[str, Any] = {
    "client_order_id": "c-new",
    "ticker": "AAPL",
    "side": "buy",
    "order_type": "market",
    "quantity": D(1),
}

#: one fill by order_id, one by the order's client_order_id
_INGESTED = [
    {"fill_id": "a-f-3", "order_id": "a-o-1", "quantity": D(1), "price": D(99), "filled_at": T0},
    {
        "fill_id": "a-f-5",
        "client_order_id": "c-o-2",
        "quantity": D(1),
        "price": D(99),
        "filled_at": T0,
    },
]

#: (repository, method) -> the call, in the order they run (each in its own unit of work).
CALLS: dict[tuple[str, str], Call] = {
    # positions
    ("positions", "open"): lambda u, s: u.positions.open(
        "TSLA", side="short", quantity=D(1), entry_price=D(200), position_id="a-tsla"
    ),
    ("positions", "get"): lambda u, s: u.positions.get("a-open"),
    ("positions", "find"): lambda u, s: u.positions.find("a-open"),
    ("positions", "list_open"): lambda u, s: u.positions.list_open(ticker="AAPL"),
    ("positions", "oldest_first"): lambda u, s: u.positions.oldest_first(),
    ("positions", "mark_to_market"): lambda u, s: u.positions.mark_to_market(
        {"AAPL": D(101), "TSLA": D(199)}
    ),
    ("positions", "update"): lambda u, s: u.positions.update(
        "a-open", stop_loss_price=D(95), metadata={"note": "x"}
    ),
    ("positions", "trail_stop"): lambda u, s: u.positions.trail_stop(
        "a-open", price=D(103), distance=D(2)
    ),
    ("positions", "stops_hit"): lambda u, s: u.positions.stops_hit({"AAPL": D(90)}),
    ("positions", "scale_in"): lambda u, s: u.positions.scale_in(
        "a-open", quantity=D(2), price=D(98), commission=D(1)
    ),
    ("positions", "scale_out"): lambda u, s: u.positions.scale_out(
        "a-open", quantity=D(2), price=D(105), exit_reason="take_profit"
    ),
    ("positions", "close"): lambda u, s: u.positions.close(
        "a-tsla", exit_price=D(190), exit_reason="signal"
    ),
    ("positions", "list_closed"): lambda u, s: u.positions.list_closed(ticker="MSFT"),
    ("positions", "total_unrealized_pnl"): lambda u, s: u.positions.total_unrealized_pnl(),
    ("positions", "win_rate"): lambda u, s: u.positions.win_rate(),
    ("positions", "average_holding_period_by_exit_reason"): (
        lambda u, s: u.positions.average_holding_period_by_exit_reason(since=T0)
    ),
    ("positions", "best_performers"): lambda u, s: u.positions.best_performers(),
    ("positions", "total_realized_pnl"): lambda u, s: u.positions.total_realized_pnl(),
    ("positions", "closed_totals"): lambda u, s: u.positions.closed_totals(),
    ("positions", "performance"): lambda u, s: u.positions.performance(per_strategy=True),
    # orders
    ("orders", "submit"): lambda u, s: u.orders.submit(**_NEW),
    ("orders", "acknowledge"): lambda u, s: u.orders.acknowledge("a-o-2", broker_order_id="B-2"),
    ("orders", "set_status"): lambda u, s: u.orders.set_status("a-o-2", "accepted"),
    ("orders", "record_fill"): lambda u, s: u.orders.record_fill(
        "a-o-1", fill_id="a-f-2", quantity=D(1), price=D(101)
    ),
    ("orders", "record_fills"): lambda u, s: u.orders.record_fills(
        [{"order_id": "a-o-1", "fill_id": "a-f-4", "quantity": D(1), "price": D(98)}]
    ),
    ("orders", "ingest_fills"): lambda u, s: u.orders.ingest_fills(_INGESTED),
    ("orders", "submit_many"): lambda u, s: u.orders.submit_many(
        [_NEW, {**_NEW, "client_order_id": "c-many"}]
    ),
    ("orders", "set_statuses"): lambda u, s: u.orders.set_statuses(
        [{"order_id": "a-o-3", "status": "accepted"}, {"order_id": "a-o-4", "status": "accepted"}]
    ),
    ("orders", "cancel"): lambda u, s: u.orders.cancel("a-o-3"),
    ("orders", "reject"): lambda u, s: u.orders.reject("a-o-4", reason="no margin"),
    ("orders", "expire"): lambda u, s: u.orders.expire("a-o-5"),
    ("orders", "get"): lambda u, s: u.orders.get("a-o-1"),
    ("orders", "find"): lambda u, s: u.orders.find(broker_order_id="B-2"),
    ("orders", "list_open"): lambda u, s: u.orders.list_open(ticker="AAPL"),
    ("orders", "fills"): lambda u, s: u.orders.fills("a-o-1"),
    ("orders", "daily_fill_rate"): lambda u, s: u.orders.daily_fill_rate(),
    ("orders", "average_slippage_by_order_type"): (
        lambda u, s: u.orders.average_slippage_by_order_type()
    ),
    ("orders", "fill_stats"): lambda u, s: u.orders.fill_stats(ticker="AAPL"),
    # snapshots
    ("snapshots", "record"): lambda u, s: u.snapshots.record(
        total_equity=D(10_200), cash_balance=D(5000), snapshot_date=DAY3
    ),
    ("snapshots", "get"): lambda u, s: u.snapshots.get(DAY1),
    ("snapshots", "find"): lambda u, s: u.snapshots.find(DAY1),
    ("snapshots", "latest"): lambda u, s: u.snapshots.latest(),
    ("snapshots", "history"): lambda u, s: u.snapshots.history(DAY1),
    ("snapshots", "equity_curve"): lambda u, s: u.snapshots.equity_curve(),
    ("snapshots", "record_intraday"): lambda u, s: u.snapshots.record_intraday(
        total_equity=D(10_060),
        cash_balance=D(5000),
        snapshot_time=T0,  # replaces the one of set_up, and its lines
        by_symbol={"AAPL": {"quantity": D(10)}, "MSFT": {"quantity": D(-1)}},
    ),
    ("snapshots", "intraday_history"): lambda u, s: u.snapshots.intraday_history(),
    ("snapshots", "by_symbol"): lambda u, s: u.snapshots.by_symbol(s.intraday_id),
    ("snapshots", "intraday_equity_curve"): lambda u, s: u.snapshots.intraday_equity_curve(),
    ("snapshots", "symbol_pnl"): lambda u, s: u.snapshots.symbol_pnl("AAPL"),
    # sessions
    ("sessions", "current"): lambda u, s: u.sessions.current(),
    ("sessions", "get"): lambda u, s: u.sessions.get(s.session_id),
    ("sessions", "find"): lambda u, s: u.sessions.find(s.session_id),
    ("sessions", "list"): lambda u, s: u.sessions.list(),
    ("sessions", "figures"): lambda u, s: u.sessions.figures(s.session_id),
    # metrics
    ("metrics", "record"): lambda u, s: u.metrics.record(
        DAY3, MetricValues(sharpe_ratio=1.2, total_trades_30d=3)
    ),
    ("metrics", "compute"): lambda u, s: u.metrics.compute(DAY2, window_days=30),
    ("metrics", "get"): lambda u, s: u.metrics.get(DAY2),
    ("metrics", "find"): lambda u, s: u.metrics.find(DAY2),
    ("metrics", "latest"): lambda u, s: u.metrics.latest(),
    ("metrics", "history"): lambda u, s: u.metrics.history(),
    ("metrics", "strategies"): lambda u, s: u.metrics.strategies(),
    ("metrics", "compute_periods"): lambda u, s: u.metrics.compute_periods(DAY2),
    ("metrics", "find_period"): lambda u, s: u.metrics.find_period("weekly", DAY2),
    ("metrics", "period_history"): lambda u, s: u.metrics.period_history("daily"),
    # analytics, the bot's side
    ("analytics", "position_summary"): lambda u, s: u.analytics.position_summary(),
    ("analytics", "recent_closed_trades"): lambda u, s: u.analytics.recent_closed_trades(),
    ("analytics", "active_positions"): lambda u, s: u.analytics.active_positions(),
    ("analytics", "total_unrealized_pnl"): lambda u, s: u.analytics.total_unrealized_pnl(),
    ("analytics", "total_pnl"): lambda u, s: u.analytics.total_pnl(),
    ("analytics", "win_rate"): lambda u, s: u.analytics.win_rate(),
    ("analytics", "holding_period_by_exit_reason"): (
        lambda u, s: u.analytics.holding_period_by_exit_reason()
    ),
    ("analytics", "best_performers"): lambda u, s: u.analytics.best_performers(),
    ("analytics", "trade_statistics"): lambda u, s: u.analytics.trade_statistics(),
    ("analytics", "recent_orders"): lambda u, s: u.analytics.recent_orders(),
    ("analytics", "order_fill_stats"): lambda u, s: u.analytics.order_fill_stats(),
    ("analytics", "orders_last_24h"): lambda u, s: u.analytics.orders_last_24h(),
    ("analytics", "daily_summary"): lambda u, s: u.analytics.daily_summary(),
    ("analytics", "daily_fill_rate"): lambda u, s: u.analytics.daily_fill_rate(days=30),
    ("analytics", "slippage_by_order_type"): lambda u, s: u.analytics.slippage_by_order_type(),
    ("analytics", "fill_rate"): lambda u, s: u.analytics.fill_rate("AAPL"),
    ("analytics", "fill_rate_by_symbol"): lambda u, s: u.analytics.fill_rate_by_symbol(),
    ("analytics", "slippage_analysis"): lambda u, s: u.analytics.slippage_analysis(),
    ("analytics", "equity_curve"): lambda u, s: u.analytics.equity_curve(),
    ("analytics", "intraday_equity_curve"): lambda u, s: u.analytics.intraday_equity_curve(),
    ("analytics", "symbol_pnl"): lambda u, s: u.analytics.symbol_pnl(ticker="AAPL"),
    ("analytics", "performance_summary"): lambda u, s: u.analytics.performance_summary(),
    ("analytics", "current_risk"): lambda u, s: u.analytics.current_risk(),
    ("analytics", "performance_over_time"): lambda u, s: u.analytics.performance_over_time(),
    ("analytics", "returns"): lambda u, s: u.analytics.returns(),
    ("analytics", "report"): lambda u, s: u.analytics.report(),
}
