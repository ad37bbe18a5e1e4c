"""Bots: the owners of trading data.

A row per bot instance (bot instances, docs/lineage.md), and its trading sessions: a bot has
many, one per run from start to stop (``trading_sessions``).
Positions, orders, fills, snapshots and metrics all carry ``bot_id`` so several bots can share
one database without seeing each other's rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import Money, MoneyTotal, OpenChoice, Real, enum_column
from tradestore.domain.enums import BotMode, BotStatus, PositionKeeping, SessionEndReason
from tradestore.models.base import Base, BigIntPK, Timestamps

#: Width of trading_sessions.end_reason (free text with common values).
END_REASON_LENGTH = 64


class Bot(Timestamps, Base):
    __tablename__ = "bots"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    mode: Mapped[BotMode] = mapped_column(enum_column(BotMode, "mode"), default=BotMode.PAPER)
    broker: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[BotStatus] = mapped_column(
        enum_column(BotStatus, "status"), default=BotStatus.STARTING
    )
    config_file: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    last_heartbeat: Mapped[dt.datetime | None]
    starting_balance: Mapped[Decimal | None] = mapped_column(Money())
    current_balance: Mapped[Decimal | None] = mapped_column(Money())
    total_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    total_commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    config: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    notes: Mapped[str | None] = mapped_column(Text)
    #: Whether the fills of the bot's orders move its positions (revision 0012): 'manual'
    #: (they do not) or 'netting' (docs/guide/positions.md).
    #: Only a server default: an INSERT that leaves it out (older code, a Prepared insert
    #: of chosen columns) gets 'manual', with nothing computed per execution in Python.
    position_keeping: Mapped[PositionKeeping] = mapped_column(
        enum_column(PositionKeeping, "position_keeping"), server_default=text("'manual'")
    )

    __table_args__ = (
        CheckConstraint("bot_id <> ''", name="bot_id_not_empty"),
        CheckConstraint(
            "starting_balance IS NULL OR starting_balance >= 0", name="starting_balance"
        ),
        CheckConstraint("total_commission >= 0", name="total_commission"),
        CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
            name="ended_after_started",
        ),
        Index("idx_bots_status_heartbeat", "status", "last_heartbeat"),
    )


class TradingSession(Timestamps, Base):
    """One run of a bot, from its start to its stop (or to the next start, if it never said).

    The figures (trades, wins, losses, win rate, P&L, commission, drawdown) are NULL while
    the session is open and are written when it ends, computed from the bot's closed
    positions closed in [started_at, ended_at) and its snapshots taken in that window
    (``SessionRepository.figures``): stored, so they survive the pruning of old closed
    positions and snapshots.
    """

    __tablename__ = "trading_sessions"

    session_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(OpenChoice(SessionEndReason, END_REASON_LENGTH))
    starting_balance: Mapped[Decimal | None] = mapped_column(Money())
    ending_balance: Mapped[Decimal | None] = mapped_column(Money())
    starting_equity: Mapped[Decimal | None] = mapped_column(Money())
    ending_equity: Mapped[Decimal | None] = mapped_column(Money())
    total_trades: Mapped[int | None] = mapped_column(Integer)
    winning_trades: Mapped[int | None] = mapped_column(Integer)
    losing_trades: Mapped[int | None] = mapped_column(Integer)
    win_rate: Mapped[float | None] = mapped_column(Real())
    total_pnl: Mapped[Decimal | None] = mapped_column(Money())
    total_commission: Mapped[Decimal | None] = mapped_column(Money())
    max_drawdown: Mapped[Decimal | None] = mapped_column(Money())
    max_drawdown_pct: Mapped[float | None] = mapped_column(Real())
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    notes: Mapped[str | None] = mapped_column(Text)
    #: The bot's closed rows closed before started_at, as the running totals give them
    #: (revision 0014): kept equal to that sum while the session is open (a close dated
    #: before the start adds to them, retention's delete of such a row subtracts), so the
    #: session's figures at its end are the totals minus these, not a recount of its rows.
    #: NULL for a session opened before 0014 (its end recounts).
    prior_trades: Mapped[int | None] = mapped_column(BigInteger)
    prior_wins: Mapped[int | None] = mapped_column(BigInteger)
    prior_losses: Mapped[int | None] = mapped_column(BigInteger)
    prior_realized_pnl: Mapped[Decimal | None] = mapped_column(MoneyTotal())
    prior_commission: Mapped[Decimal | None] = mapped_column(MoneyTotal())

    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ended_after_started"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="end_reason_when_ended"),
        CheckConstraint(
            "total_trades IS NULL OR (winning_trades >= 0 AND losing_trades >= 0"
            " AND winning_trades + losing_trades <= total_trades)",
            name="wins_losses_le_trades",
        ),
        CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)", name="win_rate_fraction"
        ),
        CheckConstraint(
            "total_commission IS NULL OR total_commission >= 0", name="total_commission"
        ),
        Index("idx_trading_sessions_bot_started", "bot_id", "started_at"),
        # At most one open session per bot, whoever writes the table (the repositories also
        # serialise session writers on the bot's row).
        Index(
            "uq_trading_sessions_open",
            "bot_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
