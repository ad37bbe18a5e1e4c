"""Bots: the owners of trading data.

A row per bot instance (bot instances and their trading session, docs/lineage.md).
Positions, orders, fills, snapshots and metrics all carry ``bot_id`` so several bots can share
one database without seeing each other's rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import Money, enum_column
from tradestore.domain.enums import BotMode, BotStatus
from tradestore.models.base import Base, Timestamps


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
