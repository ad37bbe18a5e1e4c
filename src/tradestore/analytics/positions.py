"""Read-side queries on positions: open, closed, and their P&L.

The positions views and "Common Queries", the paper-trading active positions and
``get_paper_total_pnl``. Every function takes ``bot_id``: a bot's rows, or every bot's when
None (rows then carry ``bot_id`` to tell them apart).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, type_coerce

from tradestore.analytics import schema
from tradestore.analytics._sql import DerivedMoney
from tradestore.db.executor import Executor
from tradestore.db.money_sums import exact_sums
from tradestore.db.results import Rows
from tradestore.db.types import Real
from tradestore.domain import metrics, validation
from tradestore.domain.enums import ExitReason, PositionSide
from tradestore.domain.metrics import TradeStatistics
from tradestore.domain.money import fit, fit_aggregate
from tradestore.models import ClosedPosition, Position
from tradestore.models.positions import MAX_STRATEGY_LENGTH

# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionSummary:
    """A row of v_position_summary.

    ``pnl_dollars`` is computed from the row's prices now ((current - entry) x quantity, sign
    reversed for shorts); ``unrealized_pnl`` is what the last mark-to-market stored.
    """

    bot_id: str
    position_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    current_price: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_pct: float
    pnl_dollars: Decimal
    strategy: str | None
    opened_at: dt.datetime
    opened_datetime: str
    hours_held: float


def position_summary(
    session: Executor, *, bot_id: str | None, now: dt.datetime | None = None
) -> Rows[PositionSummary]:
    """Open positions with calculated fields, oldest first.

    ``hours_held`` is measured to the database's clock by the view, or to ``now`` when given
    (a backtest's simulated present): a view takes no parameter, so that one column is then
    computed here from ``opened_at``, exactly.
    """
    view = schema.v_position_summary
    columns = [c for c in view.c if c.name != "hours_held" or now is None]
    query = select(*columns).order_by(view.c.opened_at, view.c.position_id)
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    if now is None:
        return Rows.from_result(PositionSummary, session.execute(query))
    hour = dt.timedelta(hours=1)
    return Rows(
        PositionSummary,
        (
            PositionSummary(**row._mapping, hours_held=(now - row.opened_at) / hour)
            for row in session.execute(query)
        ),
    )


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A row of v_recent_closed_trades; ``outcome`` is 'WIN', 'LOSS' or 'BREAKEVEN'."""

    bot_id: str
    closed_position_id: int
    position_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    realized_pnl: Decimal
    realized_pnl_pct: float
    exit_reason: ExitReason | str
    holding_period_hours: float
    strategy: str | None
    opened_at: dt.datetime
    closed_at: dt.datetime
    closed_datetime: str
    outcome: str


def recent_closed_trades(
    session: Executor, *, bot_id: str | None, limit: int = 100
) -> Rows[ClosedTrade]:
    """The most recent closed trades, newest first (the view keeps 100 per bot)."""
    view = schema.v_recent_closed_trades
    query = (
        select(*view.c)
        .order_by(view.c.closed_at.desc(), view.c.closed_position_id.desc())
        .limit(limit)
    )
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    return Rows.from_result(ClosedTrade, session.execute(query))


@dataclass(frozen=True, slots=True)
class ActivePosition:
    """A row of v_paper_active_positions.

    ``realized_pnl`` is what the position's partial closes already realized; ``total_pnl``
    adds the open remainder's ``unrealized_pnl``. ``signed_quantity`` is negative for shorts.
    """

    bot_id: str
    position_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    signed_quantity: Decimal
    entry_price: Decimal
    current_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_pct: float
    realized_pnl: Decimal
    total_pnl: Decimal
    strategy: str | None
    opened_at: dt.datetime
    updated_at: dt.datetime


def active_positions(session: Executor, *, bot_id: str | None) -> Rows[ActivePosition]:
    """Open positions with their P&L, largest total P&L first ("Active Positions")."""
    view = schema.v_paper_active_positions
    query = select(*view.c).order_by(view.c.total_pnl.desc(), view.c.position_id)
    if bot_id is not None:
        query = query.where(view.c.bot_id == bot_id)
    return Rows.from_result(ActivePosition, session.execute(query))


# --- common queries ------------------------------------------------------------------------


def total_unrealized_pnl(session: Executor, *, bot_id: str | None) -> Decimal:
    """SUM(unrealized_pnl) of open positions, exact on both backends; 0 when there are none.

    SQLite's SUM() adds doubles, so there the exact Decimals read back are added in Python
    (``repositories._money``); the total is fitted like any derived amount.
    """
    criteria = [] if bot_id is None else [Position.bot_id == bot_id]
    [total] = exact_sums(session, session.dialect_name, (Position.unrealized_pnl,), *criteria)
    return total


def closed_criteria(
    *,
    bot_id: str | None,
    strategy: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The closed rows of a bot (every bot's when None), of a strategy, closed in
    [since, until); arguments validated (``ValidationError`` naming the field)."""
    criteria: list[ColumnElement[bool]] = []
    if bot_id is not None:
        criteria.append(ClosedPosition.bot_id == bot_id)
    if strategy is not None:
        name = validation.required_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)
        criteria.append(ClosedPosition.strategy == name)
    start = validation.instant("since", since, allow_none=True)
    end = validation.instant("until", until, allow_none=True)
    if start is not None:
        criteria.append(ClosedPosition.closed_at >= start)
    if end is not None:
        criteria.append(ClosedPosition.closed_at < end)
    return criteria


def total_pnl(session: Executor, *, bot_id: str | None) -> Decimal:
    """Realized P&L of closed positions plus unrealized P&L of open ones.

    What PostgreSQL's ``get_paper_total_pnl(bot_id)`` returns, on either backend.
    """
    unrealized = select(func.sum(Position.unrealized_pnl))
    realized = select(func.sum(ClosedPosition.realized_pnl))
    if bot_id is not None:
        unrealized = unrealized.where(Position.bot_id == bot_id)
        realized = realized.where(ClosedPosition.bot_id == bot_id)
    query = select(
        type_coerce(unrealized.scalar_subquery(), DerivedMoney()).label("unrealized"),
        type_coerce(realized.scalar_subquery(), DerivedMoney()).label("realized"),
    )
    row = session.execute(query).one()
    total = (row.unrealized or Decimal(0)) + (row.realized or Decimal(0))
    # Two amounts SQLite summed in doubles: their sum is cleaned up like each of them.
    return fit_aggregate(total, session.dialect_name)


def win_rate(
    session: Executor,
    *,
    bot_id: str | None,
    strategy: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> float | None:
    """Share of closed trades with realized_pnl > 0; None when nothing was closed.

    Every closed row counts as one trade, so a position closed in three parts is three
    trades, as in the source query over closed_positions.
    """
    query = (
        select(
            func.count(case((ClosedPosition.realized_pnl > 0, 1))).label("wins"),
            func.count().label("trades"),
        )
        .select_from(ClosedPosition)
        .where(*closed_criteria(bot_id=bot_id, strategy=strategy, since=since, until=until))
    )
    wins, trades = session.execute(query).one()
    return wins / trades if trades else None


def trade_statistics(
    session: Executor,
    *,
    bot_id: str | None,
    strategy: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> TradeStatistics:
    """Win rate, average and largest win and loss, profit factor and expectancy of the closed
    trades (every closed row is one trade, as in ``win_rate``) closed in [since, until).

    The computation is ``domain.metrics.trade_statistics``, the one behind the stored
    ``*_30d`` metric columns, over the whole history by default. The P&L values are read
    exactly and combined in Decimal, so SQLite's double-precision SUM/AVG never touch them;
    averages are then fitted to what the backend stores, like every derived amount.
    """
    query = select(ClosedPosition.realized_pnl).where(
        *closed_criteria(bot_id=bot_id, strategy=strategy, since=since, until=until)
    )
    stats = metrics.trade_statistics(session.execute(query).scalars())
    dialect = session.dialect_name
    return dataclasses.replace(
        stats,
        avg_win=_fitted(stats.avg_win, dialect),
        avg_loss=_fitted(stats.avg_loss, dialect),
        expectancy=_fitted(stats.expectancy, dialect),
    )


def _fitted(value: Decimal | None, dialect: str) -> Decimal | None:
    return None if value is None else fit(value, dialect)


@dataclass(frozen=True, slots=True)
class ExitReasonHolding:
    exit_reason: ExitReason | str
    avg_hours: float
    trades: int


def holding_period_by_exit_reason(
    session: Executor,
    *,
    bot_id: str | None,
    strategy: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Rows[ExitReasonHolding]:
    """Average holding period (hours) and trade count per exit reason."""
    query = (
        select(
            ClosedPosition.exit_reason,
            type_coerce(func.avg(ClosedPosition.holding_period_hours), Real()).label("avg_hours"),
            func.count().label("trades"),
        )
        .where(*closed_criteria(bot_id=bot_id, strategy=strategy, since=since, until=until))
        .group_by(ClosedPosition.exit_reason)
        .order_by(ClosedPosition.exit_reason)
    )
    return Rows.from_result(ExitReasonHolding, session.execute(query))


@dataclass(frozen=True, slots=True)
class BestPerformer:
    bot_id: str
    closed_position_id: int
    position_id: str
    ticker: str
    side: PositionSide
    realized_pnl: Decimal
    realized_pnl_pct: float
    exit_reason: ExitReason | str
    closed_at: dt.datetime


def best_performers_query(
    *columns: Any, criteria: Sequence[ColumnElement[bool]], limit: int | None
) -> Select[Any]:
    """``columns`` of the closed rows matching ``criteria`` with the largest realized P&L
    (ties: earliest closed row first). Shared with ``PositionRepository.best_performers``,
    which reads whole rows."""
    query = (
        select(*columns)
        .where(*criteria)
        .order_by(ClosedPosition.realized_pnl.desc(), ClosedPosition.closed_position_id)
    )
    return query if limit is None else query.limit(limit)


def best_performers(
    session: Executor,
    *,
    bot_id: str | None,
    limit: int = 10,
    strategy: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Rows[BestPerformer]:
    """The closed trades with the largest realized P&L (ties: earliest closed row first)."""
    query = best_performers_query(
        ClosedPosition.bot_id,
        ClosedPosition.closed_position_id,
        ClosedPosition.position_id,
        ClosedPosition.ticker,
        ClosedPosition.side,
        ClosedPosition.realized_pnl,
        ClosedPosition.realized_pnl_pct,
        ClosedPosition.exit_reason,
        ClosedPosition.closed_at,
        criteria=closed_criteria(bot_id=bot_id, strategy=strategy, since=since, until=until),
        limit=limit,
    )
    return Rows.from_result(BestPerformer, session.execute(query))
