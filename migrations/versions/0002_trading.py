"""Trading: orders, fills, portfolio_snapshots, performance_metrics.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Mirrors the source schema's migration 002_create_trading_tables (docs/lineage.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("client_order_id", sa.String(length=128), nullable=False),
        sa.Column("broker_order_id", sa.String(length=128), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column(
            "order_type",
            sa.Enum(
                "market",
                "limit",
                "stop",
                "stop_limit",
                "trailing_stop",
                name="order_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "side",
            sa.Enum("buy", "sell", name="side", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("limit_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("stop_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("reference_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column(
            "time_in_force",
            sa.Enum(
                "day",
                "gtc",
                "ioc",
                "fok",
                "opg",
                "cls",
                name="time_in_force",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "new",
                "accepted",
                "partially_filled",
                "filled",
                "cancelled",
                "rejected",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filled_quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("filled_avg_price", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("commission", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("slippage", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("position_id", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=100), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "(order_type <> 'limit' OR limit_price IS NOT NULL) AND (order_type <> 'stop' OR stop_price IS NOT NULL) AND (order_type <> 'stop_limit' OR (limit_price IS NOT NULL AND stop_price IS NOT NULL))",
            name=op.f("ck_orders_prices_by_type"),
        ),
        sa.CheckConstraint(
            "client_order_id <> ''", name=op.f("ck_orders_client_order_id_not_empty")
        ),
        sa.CheckConstraint(
            "status <> 'filled' OR filled_quantity = quantity",
            name=op.f("ck_orders_filled_means_complete"),
        ),
        sa.CheckConstraint("commission >= 0", name=op.f("ck_orders_commission_non_negative")),
        sa.CheckConstraint(
            "filled_avg_price IS NULL OR filled_avg_price > 0",
            name=op.f("ck_orders_filled_avg_price_positive"),
        ),
        sa.CheckConstraint(
            "filled_quantity >= 0 AND filled_quantity <= quantity",
            name=op.f("ck_orders_filled_quantity_range"),
        ),
        sa.CheckConstraint(
            "limit_price IS NULL OR limit_price > 0", name=op.f("ck_orders_limit_price_positive")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_orders_quantity_positive")),
        sa.CheckConstraint(
            "reference_price IS NULL OR reference_price > 0",
            name=op.f("ck_orders_reference_price_positive"),
        ),
        sa.CheckConstraint(
            "stop_price IS NULL OR stop_price > 0", name=op.f("ck_orders_stop_price_positive")
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.bot_id"], name=op.f("fk_orders_bot_id_bots"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("idx_orders_bot_status", ["bot_id", "status"], unique=False)
        batch_op.create_index(
            "idx_orders_client_order_id", ["bot_id", "client_order_id"], unique=True
        )
        batch_op.create_index("idx_orders_position_id", ["position_id"], unique=False)
        batch_op.create_index("idx_orders_status", ["status"], unique=False)
        batch_op.create_index("idx_orders_strategy", ["strategy"], unique=False)
        batch_op.create_index("idx_orders_submitted_at", ["submitted_at"], unique=False)
        batch_op.create_index("idx_orders_ticker", ["ticker"], unique=False)

    op.create_table(
        "fills",
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("fill_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum("buy", "sell", name="side", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("price", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "liquidity",
            sa.Enum(
                "maker",
                "taker",
                "unknown",
                name="liquidity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("commission", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("position_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("fill_id <> ''", name=op.f("ck_fills_fill_id_not_empty")),
        sa.CheckConstraint("commission >= 0", name=op.f("ck_fills_commission_non_negative")),
        sa.CheckConstraint("price > 0", name=op.f("ck_fills_price_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fills_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.bot_id"], name=op.f("fk_fills_bot_id_bots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name=op.f("fk_fills_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bot_id", "fill_id", name=op.f("pk_fills")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index("idx_fills_filled_at", ["filled_at"], unique=False)
        batch_op.create_index("idx_fills_order_id", ["order_id"], unique=False)
        batch_op.create_index("idx_fills_position_id", ["position_id"], unique=False)
        batch_op.create_index("idx_fills_ticker_filled_at", ["ticker", "filled_at"], unique=False)

    op.create_table(
        "portfolio_snapshots",
        sa.Column(
            "snapshot_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("snapshot_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_equity", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("cash_balance", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("long_market_value", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("short_market_value", sa.Numeric(precision=38, scale=18), nullable=False),
        sa.Column("positions_count", sa.Integer(), nullable=False),
        sa.Column("daily_pnl", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("daily_return_pct", sa.Double(), nullable=True),
        sa.Column("cumulative_pnl", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("cumulative_return_pct", sa.Double(), nullable=True),
        sa.Column("buying_power", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("leverage", sa.Double(), nullable=True),
        sa.Column("unrealized_pnl", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("realized_pnl_today", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("trades_today", sa.Integer(), nullable=False),
        sa.Column("wins_today", sa.Integer(), nullable=False),
        sa.Column("losses_today", sa.Integer(), nullable=False),
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
        sa.CheckConstraint(
            "leverage IS NULL OR leverage >= 0",
            name=op.f("ck_portfolio_snapshots_leverage_non_negative"),
        ),
        sa.CheckConstraint(
            "positions_count >= 0", name=op.f("ck_portfolio_snapshots_positions_count_non_negative")
        ),
        sa.CheckConstraint(
            "trades_today >= 0 AND wins_today >= 0 AND losses_today >= 0",
            name=op.f("ck_portfolio_snapshots_trade_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "wins_today + losses_today <= trades_today",
            name=op.f("ck_portfolio_snapshots_wins_losses_le_trades"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_portfolio_snapshots_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_portfolio_snapshots")),
    )
    with op.batch_alter_table("portfolio_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "idx_portfolio_snapshots_bot_date", ["bot_id", "snapshot_date"], unique=True
        )
        batch_op.create_index("idx_portfolio_snapshots_date", ["snapshot_date"], unique=False)
        batch_op.create_index("idx_portfolio_snapshots_time", ["snapshot_time"], unique=False)

    op.create_table(
        "performance_metrics",
        sa.Column(
            "metric_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("metric_date", sa.Date(), nullable=False),
        sa.Column("strategy", sa.String(length=100), nullable=False),
        sa.Column("sharpe_ratio", sa.Double(), nullable=True),
        sa.Column("sortino_ratio", sa.Double(), nullable=True),
        sa.Column("calmar_ratio", sa.Double(), nullable=True),
        sa.Column("omega_ratio", sa.Double(), nullable=True),
        sa.Column("max_drawdown", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("max_drawdown_pct", sa.Double(), nullable=True),
        sa.Column("current_drawdown", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("current_drawdown_pct", sa.Double(), nullable=True),
        sa.Column("days_in_drawdown", sa.Integer(), nullable=True),
        sa.Column("return_1d", sa.Double(), nullable=True),
        sa.Column("return_7d", sa.Double(), nullable=True),
        sa.Column("return_30d", sa.Double(), nullable=True),
        sa.Column("return_ytd", sa.Double(), nullable=True),
        sa.Column("return_inception", sa.Double(), nullable=True),
        sa.Column("volatility_daily", sa.Double(), nullable=True),
        sa.Column("volatility_annualized", sa.Double(), nullable=True),
        sa.Column("downside_deviation", sa.Double(), nullable=True),
        sa.Column("total_trades_30d", sa.Integer(), nullable=True),
        sa.Column("winning_trades_30d", sa.Integer(), nullable=True),
        sa.Column("losing_trades_30d", sa.Integer(), nullable=True),
        sa.Column("win_rate_30d", sa.Double(), nullable=True),
        sa.Column("avg_win_30d", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("avg_loss_30d", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("profit_factor_30d", sa.Double(), nullable=True),
        sa.Column("expectancy_30d", sa.Numeric(precision=38, scale=18), nullable=True),
        sa.Column("benchmark_return", sa.Double(), nullable=True),
        sa.Column("alpha", sa.Double(), nullable=True),
        sa.Column("beta", sa.Double(), nullable=True),
        sa.Column("correlation_to_benchmark", sa.Double(), nullable=True),
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
        sa.CheckConstraint(
            "strategy <> ''", name=op.f("ck_performance_metrics_strategy_not_empty")
        ),
        sa.CheckConstraint(
            "days_in_drawdown IS NULL OR days_in_drawdown >= 0",
            name=op.f("ck_performance_metrics_days_in_drawdown_non_negative"),
        ),
        sa.CheckConstraint(
            "total_trades_30d IS NULL OR winning_trades_30d IS NULL OR winning_trades_30d <= total_trades_30d",
            name=op.f("ck_performance_metrics_wins_le_trades"),
        ),
        sa.CheckConstraint(
            "win_rate_30d IS NULL OR (win_rate_30d >= 0 AND win_rate_30d <= 1)",
            name=op.f("ck_performance_metrics_win_rate_range"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_performance_metrics_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("metric_id", name=op.f("pk_performance_metrics")),
    )
    with op.batch_alter_table("performance_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "idx_performance_metrics_bot_date_strategy",
            ["bot_id", "metric_date", "strategy"],
            unique=True,
        )
        batch_op.create_index("idx_performance_metrics_date", ["metric_date"], unique=False)
        batch_op.create_index("idx_performance_metrics_strategy", ["strategy"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("performance_metrics", schema=None) as batch_op:
        batch_op.drop_index("idx_performance_metrics_strategy")
        batch_op.drop_index("idx_performance_metrics_date")
        batch_op.drop_index("idx_performance_metrics_bot_date_strategy")

    op.drop_table("performance_metrics")

    with op.batch_alter_table("portfolio_snapshots", schema=None) as batch_op:
        batch_op.drop_index("idx_portfolio_snapshots_time")
        batch_op.drop_index("idx_portfolio_snapshots_date")
        batch_op.drop_index("idx_portfolio_snapshots_bot_date")

    op.drop_table("portfolio_snapshots")

    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index("idx_fills_ticker_filled_at")
        batch_op.drop_index("idx_fills_position_id")
        batch_op.drop_index("idx_fills_order_id")
        batch_op.drop_index("idx_fills_filled_at")

    op.drop_table("fills")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("idx_orders_ticker")
        batch_op.drop_index("idx_orders_submitted_at")
        batch_op.drop_index("idx_orders_strategy")
        batch_op.drop_index("idx_orders_status")
        batch_op.drop_index("idx_orders_position_id")
        batch_op.drop_index("idx_orders_client_order_id")
        batch_op.drop_index("idx_orders_bot_status")

    op.drop_table("orders")
