"""Read-side queries on portfolio snapshots and performance metrics.

The equity curve and performance summary views, the "current Sharpe ratio and drawdown"
query and "Performance Over Time".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import ColumnElement, func, select

from tradestore.analytics import schema
from tradestore.db.executor import Executor
from tradestore.db.results import Rows
from tradestore.domain import validation
from tradestore.domain.enums import SnapshotKind
from tradestore.domain.money import MONEY_CONTEXT
from tradestore.errors import ValidationError
from tradestore.models import (
    ALL_STRATEGIES,
    IntradaySnapshot,
    IntradaySnapshotSymbol,
    PerformanceMetric,
    PortfolioSnapshot,
)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """A row of v_equity_curve."""

    bot_id: str
    snapshot_date: dt.date
    snapshot_time: dt.datetime
    total_equity: Decimal
    cash_balance: Decimal
    daily_pnl: Decimal | None
    daily_return_pct: float | None
    cumulative_pnl: Decimal | None
    cumulative_return_pct: float | None


def equity_curve(
    session: Executor,
    *,
    bot_id: str | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Rows[EquityPoint]:
    """Portfolio value per day, oldest first, optionally between two dates (inclusive)."""
    view = schema.v_equity_curve
    query = select(*view.c).order_by(view.c.bot_id, view.c.snapshot_date)
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    if start is not None:
        query = query.where(view.c.snapshot_date >= start)
    if end is not None:
        query = query.where(view.c.snapshot_date <= end)
    return Rows.from_result(EquityPoint, session.execute(query))


def snapshot_kinds(field: str, value: Any) -> frozenset[SnapshotKind] | None:
    """None (every kind), one kind, or several, validated (``ValidationError`` naming it)."""
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({validation.choice(field, value, SnapshotKind)})
    try:
        items = list(value)
    except TypeError:
        raise ValidationError(field, value, "expected a snapshot kind or several") from None
    if not items:
        raise ValidationError(field, value, "names no snapshot kind")
    return frozenset(validation.choice(field, item, SnapshotKind) for item in items)


def instant_window(start: Any, end: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) as aware UTC instants, either bound optional; end before start refused."""
    first = validation.instant("start", start, allow_none=True)
    last = validation.instant("end", end, allow_none=True)
    if first is not None and last is not None and last < first:
        raise ValidationError("end", last, f"before start {first}")
    return first, last


@dataclass(frozen=True, slots=True)
class IntradayEquityPoint:
    """A point of the intraday equity curve: one hourly, intraday or manual snapshot."""

    bot_id: str
    snapshot_id: int
    snapshot_kind: SnapshotKind
    snapshot_time: dt.datetime
    total_equity: Decimal
    cash_balance: Decimal
    realized_pnl: Decimal | None
    unrealized_pnl: Decimal | None


def intraday_equity_curve(
    session: Executor,
    *,
    bot_id: str | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    kinds: frozenset[SnapshotKind] | None = None,
) -> Rows[IntradayEquityPoint]:
    """Intraday snapshots taken in [start, end) (either bound optional), oldest first; every
    kind unless ``kinds`` names some. The daily curve is ``equity_curve``."""
    s = IntradaySnapshot.__table__.c
    query = select(
        s.bot_id,
        s.snapshot_id,
        s.snapshot_kind,
        s.snapshot_time,
        s.total_equity,
        s.cash_balance,
        s.realized_pnl,
        s.unrealized_pnl,
    ).order_by(s.bot_id, s.snapshot_time, s.snapshot_kind)
    if bot_id is not None:
        query = query.where(s.bot_id == bot_id)
    if start is not None:
        query = query.where(s.snapshot_time >= start)
    if end is not None:
        query = query.where(s.snapshot_time < end)
    if kinds is not None:
        query = query.where(s.snapshot_kind.in_(sorted(kinds)))
    return Rows.from_result(IntradayEquityPoint, session.execute(query))


@dataclass(frozen=True, slots=True)
class SymbolPnl:
    """One symbol's line of an intraday snapshot."""

    bot_id: str
    snapshot_id: int
    snapshot_kind: SnapshotKind
    snapshot_time: dt.datetime
    ticker: str
    #: Signed: positive long, negative short.
    quantity: Decimal
    market_value: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal

    @property
    def total_pnl(self) -> Decimal:
        """realized_pnl + unrealized_pnl, exact."""
        with localcontext(MONEY_CONTEXT):
            return self.realized_pnl + self.unrealized_pnl


def symbol_pnl(
    session: Executor,
    *,
    bot_id: str | None,
    ticker: str | None = None,
    snapshot_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    kinds: frozenset[SnapshotKind] | None = None,
) -> Rows[SymbolPnl]:
    """Per-symbol lines of intraday snapshots taken in [start, end), oldest snapshot first
    and by ticker within one: one symbol's P&L through the day (``ticker``), or one
    snapshot's breakdown (``snapshot_id``)."""
    s = IntradaySnapshot.__table__.c
    y = IntradaySnapshotSymbol.__table__.c
    query = (
        select(
            s.bot_id,
            s.snapshot_id,
            s.snapshot_kind,
            s.snapshot_time,
            y.ticker,
            y.quantity,
            y.market_value,
            y.realized_pnl,
            y.unrealized_pnl,
        )
        .select_from(IntradaySnapshot.__table__.join(IntradaySnapshotSymbol.__table__))
        .order_by(s.bot_id, s.snapshot_time, s.snapshot_kind, y.ticker)
    )
    if bot_id is not None:
        query = query.where(s.bot_id == bot_id)
    if ticker is not None:
        query = query.where(y.ticker == ticker)
    if snapshot_id is not None:
        query = query.where(s.snapshot_id == snapshot_id)
    if start is not None:
        query = query.where(s.snapshot_time >= start)
    if end is not None:
        query = query.where(s.snapshot_time < end)
    if kinds is not None:
        query = query.where(s.snapshot_kind.in_(sorted(kinds)))
    return Rows.from_result(SymbolPnl, session.execute(query))


@dataclass(frozen=True, slots=True)
class PerformanceSummary:
    """A row of v_performance_summary (metrics of the last 30 days)."""

    bot_id: str
    metric_date: dt.date
    strategy: str
    sharpe_ratio: float | None
    sortino_ratio: float | None
    calmar_ratio: float | None
    max_drawdown: Decimal | None
    max_drawdown_pct: float | None
    current_drawdown: Decimal | None
    current_drawdown_pct: float | None
    days_in_drawdown: int | None
    return_1d: float | None
    return_7d: float | None
    return_30d: float | None
    volatility_annualized: float | None
    total_trades_30d: int | None
    winning_trades_30d: int | None
    win_rate: float | None
    profit_factor: float | None
    expectancy_30d: Decimal | None


def performance_summary(
    session: Executor,
    *,
    bot_id: str | None,
    strategy: str | None = None,
    now: dt.datetime | None = None,
) -> Rows[PerformanceSummary]:
    """The last 30 days of performance metrics, newest first; one strategy's or all rows.

    Without ``now`` these are the rows of v_performance_summary, whose window the database's
    clock places. A view takes no parameter, so with ``now`` (a backtest's simulated present)
    the same columns come from performance_metrics with the window as bound values, from 30
    days before now's UTC date through that date: rows dated after it are the backtest's
    future and are left out. Both are a range on the (bot_id, metric_date, strategy) index.
    """
    source: Any
    if now is None:
        source = schema.v_performance_summary
    else:
        m = PerformanceMetric
        today = now.astimezone(dt.UTC).date()
        source = (
            select(
                *(getattr(m, name) for name in _SUMMARY_COLUMNS),
                m.win_rate_30d.label("win_rate"),
                m.profit_factor_30d.label("profit_factor"),
                m.expectancy_30d,
            )
            .where(m.metric_date >= today - dt.timedelta(days=30), m.metric_date <= today)
            # the bot's filter inside the subquery too, not only on it: every bot-scoped
            # statement constrains the table itself (tests/repositories/test_bot_id_predicates.py)
            .where(*(() if bot_id is None else (m.bot_id == bot_id,)))
            .subquery("v_performance_summary")
        )
    query = select(*source.c).order_by(
        source.c.metric_date.desc(), source.c.bot_id, source.c.strategy
    )
    if bot_id is not None:
        query = query.where(source.c.bot_id == bot_id)
    if strategy is not None:
        query = query.where(source.c.strategy == strategy)
    return Rows.from_result(PerformanceSummary, session.execute(query))


#: v_performance_summary's columns that are performance_metrics' columns under the same name.
_SUMMARY_COLUMNS = (
    "bot_id",
    "metric_date",
    "strategy",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown",
    "max_drawdown_pct",
    "current_drawdown",
    "current_drawdown_pct",
    "days_in_drawdown",
    "return_1d",
    "return_7d",
    "return_30d",
    "volatility_annualized",
    "total_trades_30d",
    "winning_trades_30d",
)


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """The latest risk figures of one bot ("current Sharpe ratio and drawdown")."""

    bot_id: str
    metric_date: dt.date
    strategy: str
    sharpe_ratio: float | None
    sortino_ratio: float | None
    max_drawdown_pct: float | None
    current_drawdown_pct: float | None


def current_risk(
    session: Executor,
    *,
    bot_id: str | None,
    strategy: str = ALL_STRATEGIES,
    now: dt.datetime | None = None,
) -> Rows[RiskSnapshot]:
    """The newest metrics row of ``strategy`` (default: the portfolio-wide row), one per bot.

    Bot-scoped this is the source query's ``ORDER BY metric_date DESC LIMIT 1``, served by the
    (bot_id, metric_date, strategy) index. With ``now``, the newest row dated on or before
    now's UTC date: what a backtest knew at its simulated present.
    """
    m = PerformanceMetric
    columns = (
        m.bot_id,
        m.metric_date,
        m.strategy,
        m.sharpe_ratio,
        m.sortino_ratio,
        m.max_drawdown_pct,
        m.current_drawdown_pct,
    )
    dated: list[ColumnElement[bool]] = [m.strategy == strategy]
    if now is not None:
        dated.append(m.metric_date <= now.astimezone(dt.UTC).date())
    if bot_id is not None:
        query = (
            select(*columns)
            .where(m.bot_id == bot_id, *dated)
            .order_by(m.metric_date.desc())
            .limit(1)
        )
    else:
        newest = (
            select(m.bot_id, func.max(m.metric_date).label("metric_date"))
            .where(*dated)
            .group_by(m.bot_id)
            .subquery()
        )
        query = (
            select(*columns)
            .join(newest, (newest.c.bot_id == m.bot_id) & (newest.c.metric_date == m.metric_date))
            .where(m.strategy == strategy)
            .order_by(m.bot_id)
        )
    return Rows.from_result(RiskSnapshot, session.execute(query))


@dataclass(frozen=True, slots=True)
class PerformancePoint:
    """One daily snapshot in "Performance Over Time".

    ``total_pnl`` is the snapshot's cumulative P&L; ``win_rate`` is the day's wins over
    decided (won or lost) trades, None on a day without any; ``total_trades`` the day's trades.
    """

    bot_id: str
    date: dt.date
    snapshot_time: dt.datetime
    total_pnl: Decimal | None
    win_rate: float | None
    total_trades: int
    total_equity: Decimal
    daily_pnl: Decimal | None


def performance_over_time(
    session: Executor, *, bot_id: str | None, days: int = 30, now: dt.datetime, as_of: bool = False
) -> Rows[PerformancePoint]:
    """Daily snapshots taken in the ``days`` days before ``now``, oldest first (``as_of``:
    none taken after ``now`` either)."""
    s = PortfolioSnapshot
    query = (
        select(
            s.bot_id,
            s.snapshot_date,
            s.snapshot_time,
            s.cumulative_pnl,
            s.wins_today,
            s.losses_today,
            s.trades_today,
            s.total_equity,
            s.daily_pnl,
        )
        .where(s.snapshot_time >= now - dt.timedelta(days=days))
        .order_by(s.snapshot_time, s.bot_id)
    )
    if as_of:
        query = query.where(s.snapshot_time <= now)
    if bot_id is not None:
        query = query.where(s.bot_id == bot_id)
    points = []
    for row in session.execute(query):
        decided = row.wins_today + row.losses_today
        points.append(
            PerformancePoint(
                bot_id=row.bot_id,
                date=row.snapshot_date,
                snapshot_time=row.snapshot_time,
                total_pnl=row.cumulative_pnl,
                win_rate=row.wins_today / decided if decided else None,
                total_trades=row.trades_today,
                total_equity=row.total_equity,
                daily_pnl=row.daily_pnl,
            )
        )
    return Rows(PerformancePoint, points)
