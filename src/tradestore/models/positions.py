"""Open and closed positions.

A position lives in ``positions`` while open and moves to ``closed_positions`` when closed; a
partial close moves the closed part and shrinks the open row. ``position_id`` is kept on every
closed part, so it stays a valid lineage key for ``orders.position_id`` and ``fills.position_id``
after the open row is gone (see docs/reference/schema.md). Position ids are unique per bot: the
key is (bot_id, position_id), and every lineage join includes bot_id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import Money, MoneyTotal, OpenChoice, Real, enum_column
from tradestore.domain.enums import MAX_EXIT_REASON_LENGTH, ExitReason, PositionSide
from tradestore.models.base import Base, BigIntPK

#: Width of the strategy columns (positions, closed_positions).
MAX_STRATEGY_LENGTH: Final = 100
#: Width of the entry / exit logic columns: the name of the rule that opened or closed a trade.
MAX_LOGIC_LENGTH: Final = 100
#: Width of the interval columns: a bar interval such as "5m", "1h", "1d".
MAX_INTERVAL_LENGTH: Final = 16
#: ``position_totals.strategy`` of closed rows without a strategy: a key column cannot be
#: NULL, and tradestore refuses an empty strategy, so '' names nothing else.
NO_STRATEGY: Final = ""

#: The target's side rule against the entry price. The stop's side rule is the repository's,
#: against the price when the stop is set (revision 0009): a trailing stop that locks in a
#: profit sits beyond the entry, and a stored mark moves on without the stop, so no row-level
#: rule can hold it; the schema keeps it positive (``ck_positions_stop_loss_positive``).
_STOPS_BY_SIDE = (
    "take_profit_price IS NULL"
    " OR (side = 'long' AND take_profit_price > entry_price)"
    " OR (side = 'short' AND take_profit_price < entry_price)"
)


class Position(Base):
    __tablename__ = "positions"

    #: Unique per bot (revision 0005): another bot's ids behave exactly like unknown ones,
    #: so no write can tell bot A that bot B uses an id.
    position_id: Mapped[str] = mapped_column(String(64))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    ticker: Mapped[str] = mapped_column(String(32))
    side: Mapped[PositionSide] = mapped_column(enum_column(PositionSide, "side"))
    quantity: Mapped[Decimal] = mapped_column(Money())
    entry_price: Mapped[Decimal] = mapped_column(Money())
    current_price: Mapped[Decimal] = mapped_column(Money())
    unrealized_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    unrealized_pnl_pct: Mapped[float] = mapped_column(Real(), default=0.0)
    stop_loss_price: Mapped[Decimal | None] = mapped_column(Money())
    take_profit_price: Mapped[Decimal | None] = mapped_column(Money())
    #: Best and worst market price seen while open ("best price achieved").
    max_favorable_excursion: Mapped[Decimal | None] = mapped_column(Money())
    max_adverse_excursion: Mapped[Decimal | None] = mapped_column(Money())
    #: Entry commission not yet attributed to a closed part.
    commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    opened_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    strategy: Mapped[str | None] = mapped_column(String(MAX_STRATEGY_LENGTH))
    signal_score: Mapped[float | None] = mapped_column(Real())
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    #: The strategy rule that opened the position (revision 0009).
    entry_logic: Mapped[str | None] = mapped_column(String(MAX_LOGIC_LENGTH))
    #: The bar interval the strategy trades on, e.g. "5m" (revision 0009).
    interval: Mapped[str | None] = mapped_column(String(MAX_INTERVAL_LENGTH))
    #: Kept from fills (revision 0012): the netting position of its bot, ticker and strategy,
    #: moved by each fill of a keeping order. At most one per key (the uq_positions_kept_* indexes).
    kept_from_fills: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        PrimaryKeyConstraint("bot_id", "position_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("entry_price > 0", name="entry_price_positive"),
        CheckConstraint("current_price > 0", name="current_price_positive"),
        CheckConstraint(
            "stop_loss_price IS NULL OR stop_loss_price > 0", name="stop_loss_positive"
        ),
        CheckConstraint(
            "take_profit_price IS NULL OR take_profit_price > 0", name="take_profit_positive"
        ),
        CheckConstraint(_STOPS_BY_SIDE, name="stops_by_side"),
        CheckConstraint(
            "signal_score IS NULL OR (signal_score >= 0 AND signal_score <= 1)",
            name="signal_score_range",
        ),
        CheckConstraint("commission >= 0", name="commission_non_negative"),
        Index("idx_positions_ticker", "ticker"),
        Index("idx_positions_strategy", "strategy"),
        Index("idx_positions_opened_at", "opened_at"),
        Index("idx_positions_unrealized_pnl", "unrealized_pnl"),
        Index("idx_positions_ticker_side", "ticker", "side"),
        Index("idx_positions_bot_ticker", "bot_id", "ticker"),
        # One fill-kept position per netting key (bot, ticker, strategy; no strategy is a key
        # of its own), whoever writes the table: two fills racing to open it insert one row
        # (ON CONFLICT DO NOTHING), the other then locks it. Two plain partial indexes rather
        # than one on COALESCE(strategy, ''): SQLite cannot reflect an expression index.
        Index(
            "uq_positions_kept_by_strategy",
            "bot_id",
            "ticker",
            "strategy",
            unique=True,
            sqlite_where=text("kept_from_fills AND strategy IS NOT NULL"),
            postgresql_where=text("kept_from_fills AND strategy IS NOT NULL"),
        ),
        Index(
            "uq_positions_kept_without_strategy",
            "bot_id",
            "ticker",
            unique=True,
            sqlite_where=text("kept_from_fills AND strategy IS NULL"),
            postgresql_where=text("kept_from_fills AND strategy IS NULL"),
        ),
    )


class ClosedPosition(Base):
    __tablename__ = "closed_positions"

    closed_position_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    position_id: Mapped[str] = mapped_column(String(64))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    ticker: Mapped[str] = mapped_column(String(32))
    side: Mapped[PositionSide] = mapped_column(enum_column(PositionSide, "side"))
    quantity: Mapped[Decimal] = mapped_column(Money())
    entry_price: Mapped[Decimal] = mapped_column(Money())
    exit_price: Mapped[Decimal] = mapped_column(Money())
    current_price: Mapped[Decimal | None] = mapped_column(Money())
    realized_pnl: Mapped[Decimal] = mapped_column(Money())
    realized_pnl_pct: Mapped[float] = mapped_column(Real())
    stop_loss_price: Mapped[Decimal | None] = mapped_column(Money())
    take_profit_price: Mapped[Decimal | None] = mapped_column(Money())
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    holding_period_hours: Mapped[float] = mapped_column(Real())
    #: Free text since revision 0006; the common values read back as ExitReason members.
    exit_reason: Mapped[str] = mapped_column(OpenChoice(ExitReason, MAX_EXIT_REASON_LENGTH))
    commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    slippage: Mapped[Decimal | None] = mapped_column(Money())
    max_favorable_excursion: Mapped[Decimal | None] = mapped_column(Money())
    max_adverse_excursion: Mapped[Decimal | None] = mapped_column(Money())
    strategy: Mapped[str | None] = mapped_column(String(MAX_STRATEGY_LENGTH))
    signal_score: Mapped[float | None] = mapped_column(Real())
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    #: Revision 0009: the price P&L before commission, side x (exit - entry) x quantity;
    #: ``realized_pnl`` is this less ``commission`` (docs/guide/positions.md).
    gross_pnl: Mapped[Decimal | None] = mapped_column(Money())
    #: Revision 0009: ``slippage`` in basis points of the exit price (docs/guide/positions.md);
    #: a ratio, so a double like every ratio: a tiny price would overflow a money column.
    slippage_bps: Mapped[float | None] = mapped_column(Real())
    entry_logic: Mapped[str | None] = mapped_column(String(MAX_LOGIC_LENGTH))
    #: The strategy rule that closed the position (revision 0009).
    exit_logic: Mapped[str | None] = mapped_column(String(MAX_LOGIC_LENGTH))
    interval: Mapped[str | None] = mapped_column(String(MAX_INTERVAL_LENGTH))

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("entry_price > 0", name="entry_price_positive"),
        CheckConstraint("exit_price > 0", name="exit_price_positive"),
        CheckConstraint("commission >= 0", name="commission_non_negative"),
        CheckConstraint("closed_at >= opened_at", name="closed_after_opened"),
        CheckConstraint("holding_period_hours >= 0", name="holding_period_non_negative"),
        CheckConstraint(
            "signal_score IS NULL OR (signal_score >= 0 AND signal_score <= 1)",
            name="signal_score_range",
        ),
        Index("idx_closed_positions_ticker", "ticker"),
        Index("idx_closed_positions_strategy", "strategy"),
        Index("idx_closed_positions_opened_at", "opened_at"),
        Index("idx_closed_positions_closed_at", "closed_at"),
        Index("idx_closed_positions_realized_pnl", "realized_pnl"),
        Index("idx_closed_positions_ticker_side", "ticker", "side"),
        Index("idx_closed_positions_exit_reason", "exit_reason"),
        Index("idx_closed_positions_holding_period", "holding_period_hours"),
        Index("idx_closed_positions_position_id", "position_id"),
        Index("idx_closed_positions_bot_closed_at", "bot_id", "closed_at"),
        # Revision 0004 (read side): covering indexes for a bot's win rate, best performers,
        # total P&L and holding period by exit reason. See docs/performance.md.
        Index("idx_closed_positions_bot_realized_pnl", "bot_id", "realized_pnl"),
        Index(
            "idx_closed_positions_bot_exit_reason", "bot_id", "exit_reason", "holding_period_hours"
        ),
    )


class PositionTotal(Base):
    """Running totals of a bot's closed rows per ticker and strategy (revision 0011).

    Kept by the transaction that writes or deletes a closed row (``positions.close``,
    ``ops.retention.prune``), so they always equal a sum over the closed rows that remain:
    ``recover``, ``total_realized_pnl`` and ``performance`` read a row per (ticker, strategy)
    instead of a row per trade. Money sums are ``MoneyTotal`` (exact text on SQLite).
    """

    __tablename__ = "position_totals"

    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    ticker: Mapped[str] = mapped_column(String(32))
    #: ``NO_STRATEGY`` ('') for closed rows whose strategy is NULL.
    strategy: Mapped[str] = mapped_column(String(MAX_STRATEGY_LENGTH))
    trades: Mapped[int] = mapped_column(BigInteger())
    wins: Mapped[int] = mapped_column(BigInteger())
    losses: Mapped[int] = mapped_column(BigInteger())
    realized_pnl: Mapped[Decimal] = mapped_column(MoneyTotal())
    commission: Mapped[Decimal] = mapped_column(MoneyTotal())
    gross_profit: Mapped[Decimal] = mapped_column(MoneyTotal())
    gross_loss: Mapped[Decimal] = mapped_column(MoneyTotal())

    __table_args__ = (
        PrimaryKeyConstraint("bot_id", "ticker", "strategy"),
        # trades >= 0 follows: wins and losses are >= 0 and add up to at most trades
        CheckConstraint(
            "wins >= 0 AND losses >= 0 AND wins + losses <= trades", name="outcomes_within_trades"
        ),
    )
