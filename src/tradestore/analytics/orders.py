"""Read-side queries on orders and fills: recency, fill statistics, fill rates, slippage.

The trading views and "Common Queries", the paper-trading recent orders, daily summary, fill
rate (``get_paper_fill_rate``) and slippage analysis. Time windows are computed from ``now``
(default: the current time) so that a backtest can ask about its own simulated week; every
window is a range on a stored instant, which is what lets it use an index.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, case, cast, func, select, type_coerce

from tradestore.analytics import schema
from tradestore.analytics._sql import DerivedMoney, recent, utc_date
from tradestore.db.executor import Executor
from tradestore.db.results import Rows, paginate
from tradestore.db.types import Real, from_db_number
from tradestore.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradestore.domain.money import fit_aggregate
from tradestore.models import Order


def _derived(value: Decimal | None, dialect: str) -> Decimal | None:
    """An amount the database computed (an AVG), fitted as such (``money.fit_aggregate``)."""
    return None if value is None else fit_aggregate(value, dialect)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight UTC opening ``day``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecentOrder:
    """A row of v_recent_orders; ``*_datetime`` are 'YYYY-MM-DD HH:MM:SS' UTC text."""

    bot_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: Decimal
    filled_avg_price: Decimal | None
    commission: Decimal
    slippage: Decimal | None
    strategy: str | None
    position_id: str | None
    submitted_at: dt.datetime
    submitted_datetime: str
    filled_at: dt.datetime | None
    filled_datetime: str | None


def recent_orders(session: Executor, *, bot_id: str | None, limit: int = 100) -> Rows[RecentOrder]:
    """The most recently submitted orders, newest first (the view keeps 100 per bot)."""
    view = schema.v_recent_orders
    query = (
        select(*view.c).order_by(view.c.submitted_at.desc(), view.c.order_id.desc()).limit(limit)
    )
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    return Rows.from_result(RecentOrder, session.execute(query))


@dataclass(frozen=True, slots=True)
class OrderFillStats:
    """A row of v_order_fill_stats.

    ``avg_fill_price`` is the quantity-weighted average (VWAP) of the fills; best and worst
    are judged from the order's side (lowest price is best for a buy, highest for a sell).
    """

    bot_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: OrderSide
    order_type: OrderType
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    num_fills: int
    fill_quantity: Decimal
    avg_fill_price: Decimal
    best_fill_price: Decimal
    worst_fill_price: Decimal
    total_commission: Decimal
    first_fill_at: dt.datetime
    last_fill_at: dt.datetime

    @property
    def commission(self) -> Decimal:
        """Deprecated: ``total_commission`` (the name ``OrderRepository.fill_stats`` used)."""
        warnings.warn(
            "OrderFillStats.commission is deprecated: use total_commission",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.total_commission


def order_fill_stats(
    session: Executor,
    *,
    bot_id: str | None,
    order_id: str | None = None,
    ticker: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Rows[OrderFillStats]:
    """Fill statistics of every order that has fills (or of one order, or of one ticker's),
    latest fill first."""
    view = schema.v_order_fill_stats
    query = select(*view.c).order_by(view.c.last_fill_at.desc(), view.c.order_id, view.c.bot_id)
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    if order_id is not None:
        query = query.where(view.c.order_id == order_id)
    if ticker is not None:
        query = query.where(view.c.ticker == ticker)
    return Rows.from_result(
        OrderFillStats, session.execute(paginate(query, limit=limit, offset=offset))
    )


@dataclass(frozen=True, slots=True)
class PaperRecentOrder:
    """A row of v_paper_recent_orders: orders of the last 24 hours."""

    bot_id: str
    order_id: str
    client_order_id: str
    ticker: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    filled_quantity: Decimal
    filled_avg_price: Decimal | None
    slippage: Decimal | None
    commission: Decimal
    submitted_at: dt.datetime
    filled_at: dt.datetime | None


def orders_last_24h(
    session: Executor, *, bot_id: str | None, now: dt.datetime | None = None
) -> Rows[PaperRecentOrder]:
    """Orders submitted in the 24 hours before now, newest first.

    Without ``now`` these are the rows of v_paper_recent_orders, whose window the database's
    clock places. A view takes no parameter, so with ``now`` (a backtest's simulated present)
    the same columns come from ``orders`` with the window [now - 24 h, now] as bound values:
    a range on (bot_id, submitted_at), as the view's is.
    """
    source: Any
    if now is None:
        source = schema.v_paper_recent_orders
    else:
        window = [
            recent(Order.submitted_at >= now - dt.timedelta(hours=24), session.dialect_name),
            Order.submitted_at <= now,
        ]
        if bot_id is not None:
            window.append(Order.bot_id == bot_id)
        source = (
            select(*(getattr(Order, c.name) for c in schema.v_paper_recent_orders.c))
            .where(*window)
            .subquery("v_paper_recent_orders")
        )
    query = select(*source.c).order_by(source.c.submitted_at.desc(), source.c.order_id.desc())
    if bot_id is not None:
        query = query.where(source.c.bot_id == bot_id)
    return Rows.from_result(PaperRecentOrder, session.execute(query))


@dataclass(frozen=True, slots=True)
class DailySummary:
    """A row of v_paper_daily_summary: one bot's orders of one UTC day in one ticker."""

    bot_id: str
    trade_date: dt.date
    ticker: str
    total_orders: int
    filled_orders: int
    partially_filled_orders: int
    cancelled_orders: int
    rejected_orders: int
    fill_rate: float
    filled_quantity: Decimal
    filled_notional: Decimal | None
    avg_slippage: Decimal | None
    total_commission: Decimal


def daily_summary(
    session: Executor, *, bot_id: str | None, days: int = 7, now: dt.datetime, as_of: bool = False
) -> Rows[DailySummary]:
    """The Daily Summary: days from ``days`` days before today (UTC) through today,
    newest first, tickers alphabetically within a day.

    The rows of v_paper_daily_summary, computed from ``orders`` with the same SQL so that the
    window is a range on ``submitted_at`` (an index range scan on both backends; the view's
    ``trade_date`` can only be indexed on PostgreSQL). A test holds the two equal. ``as_of``
    also leaves out orders submitted after ``now``: a backtest asking about its simulated
    present, whose future is already stored.
    """
    dialect = session.dialect_name
    day = utc_date(Order.submitted_at)
    status = Order.status

    def count(value: OrderStatus) -> ColumnElement[int]:
        return func.sum(case((status == value, 1), else_=0))

    notional: ColumnElement[Decimal] = func.sum(Order.filled_quantity * Order.filled_avg_price)
    if dialect == "postgresql":  # as the view: amounts at money's scale
        notional = cast(notional, Numeric(38, 18))
    query = (
        select(
            Order.bot_id,
            day.label("trade_date"),
            Order.ticker,
            func.count().label("total_orders"),
            count(OrderStatus.FILLED).label("filled_orders"),
            count(OrderStatus.PARTIALLY_FILLED).label("partially_filled_orders"),
            count(OrderStatus.CANCELLED).label("cancelled_orders"),
            count(OrderStatus.REJECTED).label("rejected_orders"),
            type_coerce(func.sum(Order.filled_quantity), DerivedMoney()).label("filled_quantity"),
            type_coerce(notional, DerivedMoney()).label("filled_notional"),
            type_coerce(func.avg(Order.slippage), DerivedMoney()).label("avg_slippage"),
            type_coerce(func.sum(Order.commission), DerivedMoney()).label("total_commission"),
        )
        .where(recent(Order.submitted_at >= start_of_day(now.date() - dt.timedelta(days)), dialect))
        .group_by(Order.bot_id, day, Order.ticker)
        .order_by(day.desc(), Order.ticker, Order.bot_id)
    )
    if as_of:
        query = query.where(Order.submitted_at <= now)
    if bot_id is not None:
        query = query.where(Order.bot_id == bot_id)
    return Rows(
        DailySummary,
        (
            DailySummary(
                bot_id=row.bot_id,
                trade_date=row.trade_date,
                ticker=row.ticker,
                total_orders=row.total_orders,
                filled_orders=row.filled_orders,
                partially_filled_orders=row.partially_filled_orders,
                cancelled_orders=row.cancelled_orders,
                rejected_orders=row.rejected_orders,
                fill_rate=row.filled_orders / row.total_orders,
                filled_quantity=row.filled_quantity,
                filled_notional=row.filled_notional,
                avg_slippage=row.avg_slippage,
                total_commission=row.total_commission,
            )
            for row in session.execute(query)
        ),
    )


# --- common queries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DailyFillRate:
    """The "daily fill rate": orders submitted on ``date`` (UTC) and how many ended filled."""

    date: dt.date
    orders: int
    filled: int
    fill_rate: float

    @property
    def day(self) -> dt.date:
        """Deprecated: ``date`` (the name ``OrderRepository.daily_fill_rate`` used)."""
        warnings.warn("DailyFillRate.day is deprecated: use date", DeprecationWarning, stacklevel=2)
        return self.date


def daily_fill_rate(
    session: Executor,
    *,
    bot_id: str | None,
    days: int | None = None,
    now: dt.datetime | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
    as_of: bool = False,
) -> Rows[DailyFillRate]:
    """Orders submitted per UTC day, how many ended filled, and the ratio; newest day first.

    ``days=None`` covers all history like the source query; ``days=n`` covers today (the day
    of ``now``) and the ``n`` days before it, as a range on ``submitted_at`` (an index range
    scan). ``since`` / ``until`` bound ``submitted_at`` as [since, until); ``limit`` keeps
    the newest days; ``as_of`` leaves out orders submitted after ``now``. Shared with
    ``OrderRepository.daily_fill_rate``.
    """
    day = utc_date(Order.submitted_at).label("date")
    filled = func.count(case((Order.status == OrderStatus.FILLED, 1)))
    query = (
        select(day, func.count().label("orders"), filled.label("filled"))
        .group_by(day)
        .order_by(day.desc())
    )
    if bot_id is not None:
        query = query.where(Order.bot_id == bot_id)
    if days is not None:
        if now is None:
            raise TypeError("daily_fill_rate: days needs now")
        since = start_of_day(now.date() - dt.timedelta(days))
    if since is not None:
        query = query.where(recent(Order.submitted_at >= since, session.dialect_name))
    if until is not None:
        query = query.where(Order.submitted_at < until)
    if as_of:
        if now is None:
            raise TypeError("daily_fill_rate: as_of needs now")
        query = query.where(Order.submitted_at <= now)
    if limit is not None:
        query = query.limit(limit)
    return Rows(
        DailyFillRate,
        (
            DailyFillRate(row.date, row.orders, row.filled, row.filled / row.orders)
            for row in session.execute(query)
        ),
    )


@dataclass(frozen=True, slots=True)
class SlippageByOrderType:
    order_type: OrderType
    #: Price units: comparable within one ticker only.
    avg_slippage: Decimal
    orders: int
    #: The mean of ``orders.slippage_bps``: comparable across tickers of any price. None only
    #: when the type's orders predate the basis-point column and none was derived.
    avg_slippage_bps: float | None = None


def slippage_by_order_type(session: Executor, *, bot_id: str | None) -> Rows[SlippageByOrderType]:
    """Average slippage per order type, over orders that recorded one, in price units and in
    basis points of each order's reference price."""
    query = (
        select(
            Order.order_type,
            type_coerce(func.avg(Order.slippage), DerivedMoney()).label("avg_slippage"),
            func.count().label("orders"),
            type_coerce(func.avg(Order.slippage_bps), Real()).label("avg_slippage_bps"),
        )
        .where(Order.slippage.is_not(None))
        .group_by(Order.order_type)
        .order_by(Order.order_type)
    )
    if bot_id is not None:
        query = query.where(Order.bot_id == bot_id)
    return Rows.from_result(SlippageByOrderType, session.execute(query))


def fill_rate(
    session: Executor,
    *,
    bot_id: str | None,
    ticker: str,
    days: int = 7,
    now: dt.datetime,
    as_of: bool = False,
) -> float | None:
    """Filled / all orders submitted for ``ticker`` in the ``days`` days before ``now``;
    None when there were none. PostgreSQL's ``get_paper_fill_rate(ticker, days, bot_id)``.
    ``as_of`` leaves out orders submitted after ``now``."""
    query = select(func.count(), func.count(case((Order.status == OrderStatus.FILLED, 1)))).where(
        Order.ticker == ticker, Order.submitted_at >= now - dt.timedelta(days=days)
    )
    if as_of:
        query = query.where(Order.submitted_at <= now)
    if bot_id is not None:
        query = query.where(Order.bot_id == bot_id)
    orders, fills = session.execute(query).one()
    return fills / orders if orders else None


def distinct_tickers(session: Executor, *, bot_id: str | None) -> list[str]:
    """Every ticker ever ordered (by one bot), in order, read as a loose index scan.

    ``SELECT DISTINCT ticker`` reads every order (an index-only scan at best); a recursive
    query that asks for the next ticker after the previous one touches one index entry per
    ticker, on the (bot_id, ticker, ...) index or, for every bot, on idx_orders_ticker.
    """
    scope = [Order.bot_id == bot_id] if bot_id is not None else []
    found = (
        select(func.min(Order.ticker).label("ticker")).where(*scope).cte("tickers", recursive=True)
    )
    following = select(
        select(func.min(Order.ticker))
        .where(Order.ticker > found.c.ticker, *scope)
        .scalar_subquery()
        .label("ticker")
    ).where(found.c.ticker.is_not(None))
    found = found.union_all(following)
    query = select(found.c.ticker).where(found.c.ticker.is_not(None))
    return list(session.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class SymbolFillRate:
    ticker: str
    fill_rate_7d: float | None
    fill_rate_30d: float | None


def fill_rate_by_symbol(
    session: Executor, *, bot_id: str | None, now: dt.datetime, as_of: bool = False
) -> Rows[SymbolFillRate]:
    """Fill Rate by Symbol: every ticker ever ordered with its 7- and 30-day fill
    rates (None without orders in the window); best 7-day rate first, None last. ``as_of``
    leaves out orders submitted after ``now`` (the ticker list is every ticker still)."""
    since_7 = now - dt.timedelta(days=7)
    since_30 = now - dt.timedelta(days=30)
    in_7 = Order.submitted_at >= since_7
    filled = Order.status == OrderStatus.FILLED
    query = (
        select(
            Order.ticker,
            func.count(case((in_7, 1))).label("orders_7d"),
            func.count(case((in_7 & filled, 1))).label("filled_7d"),
            func.count().label("orders_30d"),
            func.count(case((filled, 1))).label("filled_30d"),
        )
        .where(recent(Order.submitted_at >= since_30, session.dialect_name))
        .group_by(Order.ticker)
    )
    if as_of:
        query = query.where(Order.submitted_at <= now)
    if bot_id is not None:
        query = query.where(Order.bot_id == bot_id)
    counts = {row.ticker: row for row in session.execute(query)}
    rows = []
    for ticker in distinct_tickers(session, bot_id=bot_id):
        row = counts.get(ticker)
        rate_7 = row.filled_7d / row.orders_7d if row is not None and row.orders_7d else None
        rate_30 = row.filled_30d / row.orders_30d if row is not None else None
        rows.append(SymbolFillRate(ticker, rate_7, rate_30))
    rows.sort(key=lambda r: (r.fill_rate_7d is None, -(r.fill_rate_7d or 0.0), r.ticker))
    return Rows(SymbolFillRate, rows)


@dataclass(frozen=True, slots=True)
class SlippageStats:
    """Slippage of one ticker's filled orders; ``orders`` counts those with a slippage."""

    ticker: str
    avg_slippage: Decimal | None
    median_slippage: Decimal | None
    max_slippage: Decimal | None
    orders: int


def slippage_analysis(
    session: Executor, *, bot_id: str | None, days: int = 7, now: dt.datetime, as_of: bool = False
) -> Rows[SlippageStats]:
    """Slippage Analysis: average, median and maximum slippage per ticker of the
    orders filled in the last ``days`` days; highest average first.

    The median is PostgreSQL's ``percentile_cont(0.5)`` (interpolated, computed in double
    precision); SQLite has no percentile function, so there it is the mean of the middle
    one or two values, found with window functions: the same number.
    """
    dialect = session.dialect_name
    conditions = [
        Order.status == OrderStatus.FILLED,
        recent(Order.filled_at >= now - dt.timedelta(days), dialect),
    ]
    if as_of:  # fills after now are a backtest's future
        conditions.append(Order.filled_at <= now)
    if bot_id is not None:
        conditions.append(Order.bot_id == bot_id)
    if dialect == "postgresql":
        query = (
            select(
                Order.ticker,
                type_coerce(func.avg(Order.slippage), DerivedMoney()).label("avg_slippage"),
                type_coerce(func.percentile_cont(0.5).within_group(Order.slippage), Real()).label(
                    "median_slippage"
                ),
                type_coerce(func.max(Order.slippage), DerivedMoney()).label("max_slippage"),
                func.count(Order.slippage).label("orders"),
            )
            .where(*conditions)
            .group_by(Order.ticker)
        )
    else:
        ranked = (
            select(
                Order.ticker,
                Order.slippage,
                func.row_number()
                .over(
                    partition_by=Order.ticker,
                    order_by=(Order.slippage.is_(None), Order.slippage),
                )
                .label("position"),
                func.count(Order.slippage).over(partition_by=Order.ticker).label("n"),
            )
            .where(*conditions)
            .subquery()
        )
        middle = ranked.c.position.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
        query = select(
            ranked.c.ticker,
            type_coerce(func.avg(ranked.c.slippage), DerivedMoney()).label("avg_slippage"),
            type_coerce(
                func.avg(case((middle & ranked.c.slippage.is_not(None), ranked.c.slippage))),
                Real(),
            ).label("median_slippage"),
            type_coerce(func.max(ranked.c.slippage), DerivedMoney()).label("max_slippage"),
            func.count(ranked.c.slippage).label("orders"),
        ).group_by(ranked.c.ticker)
    rows = [
        SlippageStats(
            ticker=row.ticker,
            avg_slippage=row.avg_slippage,
            median_slippage=_derived(from_db_number(row.median_slippage), dialect),
            max_slippage=row.max_slippage,
            orders=row.orders,
        )
        for row in session.execute(query)
    ]
    rows.sort(key=lambda r: (r.avg_slippage is None, -(r.avg_slippage or 0), r.ticker))
    return Rows(SlippageStats, rows)
