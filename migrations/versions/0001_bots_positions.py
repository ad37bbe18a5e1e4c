"""Bots and positions: bots, positions, closed_positions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Mirrors the source schema's migration 001_create_positions_tables (docs/lineage.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "mode",
            sa.Enum(
                "paper", "live", "backtest", name="mode", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("broker", sa.String(length=50), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "starting",
                "running",
                "paused",
                "stopped",
                "error",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("config_file", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starting_balance", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("current_balance", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("total_pnl", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("total_commission", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("bot_id <> ''", name=op.f("ck_bots_bot_id_not_empty")),
        sa.CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_bots_ended_after_started"),
        ),
        sa.CheckConstraint(
            "starting_balance IS NULL OR starting_balance >= 0",
            name=op.f("ck_bots_starting_balance"),
        ),
        sa.CheckConstraint("total_commission >= 0", name=op.f("ck_bots_total_commission")),
        sa.PrimaryKeyConstraint("bot_id", name=op.f("pk_bots")),
    )
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.create_index(
            "idx_bots_status_heartbeat", ["status", "last_heartbeat"], unique=False
        )

    op.create_table(
        "positions",
        sa.Column("position_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum("long", "short", name="side", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("entry_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("current_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("unrealized_pnl", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("unrealized_pnl_pct", sa.Double(), nullable=False),
        sa.Column("stop_loss_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("take_profit_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("max_favorable_excursion", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("max_adverse_excursion", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("commission", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("strategy", sa.String(length=100), nullable=True),
        sa.Column("signal_score", sa.Double(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "(stop_loss_price IS NULL OR (side = 'long' AND stop_loss_price < entry_price) OR (side = 'short' AND stop_loss_price > entry_price)) AND (take_profit_price IS NULL OR (side = 'long' AND take_profit_price > entry_price) OR (side = 'short' AND take_profit_price < entry_price))",
            name=op.f("ck_positions_stops_by_side"),
        ),
        sa.CheckConstraint("commission >= 0", name=op.f("ck_positions_commission_non_negative")),
        sa.CheckConstraint("current_price > 0", name=op.f("ck_positions_current_price_positive")),
        sa.CheckConstraint("entry_price > 0", name=op.f("ck_positions_entry_price_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_positions_quantity_positive")),
        sa.CheckConstraint(
            "signal_score IS NULL OR (signal_score >= 0 AND signal_score <= 1)",
            name=op.f("ck_positions_signal_score_range"),
        ),
        sa.CheckConstraint(
            "stop_loss_price IS NULL OR stop_loss_price > 0",
            name=op.f("ck_positions_stop_loss_positive"),
        ),
        sa.CheckConstraint(
            "take_profit_price IS NULL OR take_profit_price > 0",
            name=op.f("ck_positions_take_profit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.bot_id"], name=op.f("fk_positions_bot_id_bots"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("position_id", name=op.f("pk_positions")),
    )
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.create_index("idx_positions_bot_ticker", ["bot_id", "ticker"], unique=False)
        batch_op.create_index("idx_positions_opened_at", ["opened_at"], unique=False)
        batch_op.create_index("idx_positions_strategy", ["strategy"], unique=False)
        batch_op.create_index("idx_positions_ticker", ["ticker"], unique=False)
        batch_op.create_index("idx_positions_ticker_side", ["ticker", "side"], unique=False)
        batch_op.create_index("idx_positions_unrealized_pnl", ["unrealized_pnl"], unique=False)

    op.create_table(
        "closed_positions",
        sa.Column(
            "closed_position_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("position_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum("long", "short", name="side", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("entry_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("exit_price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("current_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("realized_pnl", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("realized_pnl_pct", sa.Double(), nullable=False),
        sa.Column("stop_loss_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("take_profit_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holding_period_hours", sa.Double(), nullable=False),
        sa.Column(
            "exit_reason",
            sa.Enum(
                "stop_loss",
                "take_profit",
                "trailing_stop",
                "time_exit",
                "manual",
                "risk_limit",
                "circuit_breaker",
                "market_close",
                name="exit_reason",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("commission", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("slippage", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("max_favorable_excursion", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("max_adverse_excursion", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("strategy", sa.String(length=100), nullable=True),
        sa.Column("signal_score", sa.Double(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "closed_at >= opened_at", name=op.f("ck_closed_positions_closed_after_opened")
        ),
        sa.CheckConstraint(
            "commission >= 0", name=op.f("ck_closed_positions_commission_non_negative")
        ),
        sa.CheckConstraint(
            "entry_price > 0", name=op.f("ck_closed_positions_entry_price_positive")
        ),
        sa.CheckConstraint("exit_price > 0", name=op.f("ck_closed_positions_exit_price_positive")),
        sa.CheckConstraint(
            "holding_period_hours >= 0",
            name=op.f("ck_closed_positions_holding_period_non_negative"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_closed_positions_quantity_positive")),
        sa.CheckConstraint(
            "signal_score IS NULL OR (signal_score >= 0 AND signal_score <= 1)",
            name=op.f("ck_closed_positions_signal_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_closed_positions_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("closed_position_id", name=op.f("pk_closed_positions")),
    )
    with op.batch_alter_table("closed_positions", schema=None) as batch_op:
        batch_op.create_index(
            "idx_closed_positions_bot_closed_at", ["bot_id", "closed_at"], unique=False
        )
        batch_op.create_index("idx_closed_positions_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("idx_closed_positions_exit_reason", ["exit_reason"], unique=False)
        batch_op.create_index(
            "idx_closed_positions_holding_period", ["holding_period_hours"], unique=False
        )
        batch_op.create_index("idx_closed_positions_opened_at", ["opened_at"], unique=False)
        batch_op.create_index("idx_closed_positions_position_id", ["position_id"], unique=False)
        batch_op.create_index("idx_closed_positions_realized_pnl", ["realized_pnl"], unique=False)
        batch_op.create_index("idx_closed_positions_strategy", ["strategy"], unique=False)
        batch_op.create_index("idx_closed_positions_ticker", ["ticker"], unique=False)
        batch_op.create_index("idx_closed_positions_ticker_side", ["ticker", "side"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("closed_positions", schema=None) as batch_op:
        batch_op.drop_index("idx_closed_positions_ticker_side")
        batch_op.drop_index("idx_closed_positions_ticker")
        batch_op.drop_index("idx_closed_positions_strategy")
        batch_op.drop_index("idx_closed_positions_realized_pnl")
        batch_op.drop_index("idx_closed_positions_position_id")
        batch_op.drop_index("idx_closed_positions_opened_at")
        batch_op.drop_index("idx_closed_positions_holding_period")
        batch_op.drop_index("idx_closed_positions_exit_reason")
        batch_op.drop_index("idx_closed_positions_closed_at")
        batch_op.drop_index("idx_closed_positions_bot_closed_at")

    op.drop_table("closed_positions")

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_index("idx_positions_unrealized_pnl")
        batch_op.drop_index("idx_positions_ticker_side")
        batch_op.drop_index("idx_positions_ticker")
        batch_op.drop_index("idx_positions_strategy")
        batch_op.drop_index("idx_positions_opened_at")
        batch_op.drop_index("idx_positions_bot_ticker")

    op.drop_table("positions")

    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_index("idx_bots_status_heartbeat")

    op.drop_table("bots")
