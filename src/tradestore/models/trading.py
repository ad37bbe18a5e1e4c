"""Orders, fills, portfolio snapshots and performance metrics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import Money, Real, enum_column
from tradestore.domain.enums import (
    Liquidity,
    MetricPeriod,
    OrderSide,
    OrderStatus,
    OrderType,
    SnapshotKind,
    TimeInForce,
)
from tradestore.models.base import Base, BigIntPK, Timestamps

#: The portfolio-wide row of performance_metrics, as opposed to one strategy's row. A sentinel
#: rather than NULL so that (bot_id, metric_date, strategy) is unique on both backends.
ALL_STRATEGIES = "all"

_PRICES_BY_TYPE = (
    "(order_type <> 'limit' OR limit_price IS NOT NULL)"
    " AND (order_type <> 'stop' OR stop_price IS NOT NULL)"
    " AND (order_type <> 'stop_limit' OR (limit_price IS NOT NULL AND stop_price IS NOT NULL))"
    " AND (order_type <> 'post_only' OR limit_price IS NOT NULL)"
)


class Order(Base):
    __tablename__ = "orders"

    #: Unique per bot (revision 0005), like client_order_id: another bot's order ids behave
    #: exactly like unknown ones.
    order_id: Mapped[str] = mapped_column(String(64))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    client_order_id: Mapped[str] = mapped_column(String(128))
    #: The broker's id, unique per bot once known (revision 0008: ``idx_orders_broker_order_id``;
    #: NULLs are distinct in a unique index on both backends, so any number of orders may
    #: wait for theirs).
    broker_order_id: Mapped[str | None] = mapped_column(String(128))
    ticker: Mapped[str] = mapped_column(String(32))
    order_type: Mapped[OrderType] = mapped_column(enum_column(OrderType, "order_type"))
    side: Mapped[OrderSide] = mapped_column(enum_column(OrderSide, "side"))
    quantity: Mapped[Decimal] = mapped_column(Money())
    limit_price: Mapped[Decimal | None] = mapped_column(Money())
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    #: The price the bot decided on (quote, mid, last) when it submitted the order: the
    #: slippage reference of market orders, which have no price of their own. Limit and stop
    #: orders fall back to their limit / stop price (see tradestore.domain.fill_accounting).
    reference_price: Mapped[Decimal | None] = mapped_column(Money())
    time_in_force: Mapped[TimeInForce] = mapped_column(
        enum_column(TimeInForce, "time_in_force"), default=TimeInForce.DAY
    )
    #: The order may only shrink a position, never open or grow one (revision 0006).
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "status"), default=OrderStatus.PENDING
    )
    submitted_at: Mapped[dt.datetime] = mapped_column()
    accepted_at: Mapped[dt.datetime | None]
    filled_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    rejected_at: Mapped[dt.datetime | None]
    expired_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]
    filled_quantity: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    filled_avg_price: Mapped[Decimal | None] = mapped_column(Money())
    commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    slippage: Mapped[Decimal | None] = mapped_column(Money())
    #: ``slippage`` in basis points of the reference price, so tickers compare (revision
    #: 0009; the rule is tradestore.domain.fill_accounting.slippage_bps).
    slippage_bps: Mapped[float | None] = mapped_column(Real())
    #: Lineage key of the position this order opened or closed; no foreign key because the
    #: position moves from ``positions`` to ``closed_positions`` (see docs/reference/schema.md).
    position_id: Mapped[str | None] = mapped_column(String(64))
    strategy: Mapped[str | None] = mapped_column(String(100))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    #: Whether this order's fills move the bot's position of its ticker and strategy
    #: (revision 0012); NULL follows the bot's ``position_keeping`` when each fill is recorded.
    keep_position: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        PrimaryKeyConstraint("bot_id", "order_id"),
        CheckConstraint("client_order_id <> ''", name="client_order_id_not_empty"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("limit_price IS NULL OR limit_price > 0", name="limit_price_positive"),
        CheckConstraint("stop_price IS NULL OR stop_price > 0", name="stop_price_positive"),
        CheckConstraint(
            "reference_price IS NULL OR reference_price > 0", name="reference_price_positive"
        ),
        CheckConstraint(_PRICES_BY_TYPE, name="prices_by_type"),
        CheckConstraint(
            "filled_quantity >= 0 AND filled_quantity <= quantity", name="filled_quantity_range"
        ),
        CheckConstraint(
            "filled_avg_price IS NULL OR filled_avg_price > 0", name="filled_avg_price_positive"
        ),
        CheckConstraint("commission >= 0", name="commission_non_negative"),
        CheckConstraint(
            "status <> 'filled' OR filled_quantity = quantity", name="filled_means_complete"
        ),
        Index("idx_orders_client_order_id", "bot_id", "client_order_id", unique=True),
        Index("idx_orders_broker_order_id", "bot_id", "broker_order_id", unique=True),
        Index("idx_orders_ticker", "ticker"),
        Index("idx_orders_status", "status"),
        # Descending where the source schema declares it (revision 0008): newest first.
        Index("idx_orders_submitted_at", submitted_at.desc()),
        Index("idx_orders_position_id", "position_id"),
        Index("idx_orders_strategy", "strategy"),
        Index("idx_orders_bot_status", "bot_id", "status"),
        # Revision 0004 (read side): a bot's recent orders, time windows and daily fill rate
        # (status makes the all-history fill rate index-only), fill rate and tickers by bot,
        # slippage by order type, slippage of recent fills. See docs/performance.md.
        Index("idx_orders_bot_submitted_at", "bot_id", "submitted_at", "status"),
        Index("idx_orders_bot_ticker_submitted_at", "bot_id", "ticker", "submitted_at"),
        Index("idx_orders_bot_order_type_slippage", "bot_id", "order_type", "slippage"),
        Index("idx_orders_filled_at", "filled_at"),
    )


class Fill(Base):
    __tablename__ = "fills"

    bot_id: Mapped[str] = mapped_column(
        ForeignKey("bots.bot_id", ondelete="RESTRICT"), primary_key=True
    )
    #: Broker fill ids are unique per account, so per bot: two paper bots may both say "f-1".
    fill_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64))
    ticker: Mapped[str] = mapped_column(String(32))
    side: Mapped[OrderSide] = mapped_column(enum_column(OrderSide, "side"))
    quantity: Mapped[Decimal] = mapped_column(Money())
    price: Mapped[Decimal] = mapped_column(Money())
    filled_at: Mapped[dt.datetime]
    liquidity: Mapped[Liquidity] = mapped_column(
        enum_column(Liquidity, "liquidity"), default=Liquidity.UNKNOWN
    )
    commission: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    position_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The order is found by (bot_id, order_id): order ids are unique per bot only.
        ForeignKeyConstraint(
            ["bot_id", "order_id"], ["orders.bot_id", "orders.order_id"], ondelete="CASCADE"
        ),
        CheckConstraint("fill_id <> ''", name="fill_id_not_empty"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("commission >= 0", name="commission_non_negative"),
        # An order's fills, found by (bot_id, order_id) as the key says (revision 0017).
        Index("idx_fills_bot_order_id", "bot_id", "order_id"),
        Index("idx_fills_ticker_filled_at", "ticker", "filled_at"),
        Index("idx_fills_filled_at", "filled_at"),
        Index("idx_fills_position_id", "position_id"),
    )


class PortfolioSnapshot(Timestamps, Base):
    __tablename__ = "portfolio_snapshots"

    snapshot_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    snapshot_date: Mapped[dt.date] = mapped_column(Date)
    snapshot_time: Mapped[dt.datetime] = mapped_column()
    total_equity: Mapped[Decimal] = mapped_column(Money())
    cash_balance: Mapped[Decimal] = mapped_column(Money())
    long_market_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    short_market_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    positions_count: Mapped[int] = mapped_column(Integer, default=0)
    daily_pnl: Mapped[Decimal | None] = mapped_column(Money())
    daily_return_pct: Mapped[float | None] = mapped_column(Real())
    cumulative_pnl: Mapped[Decimal | None] = mapped_column(Money())
    cumulative_return_pct: Mapped[float | None] = mapped_column(Real())
    buying_power: Mapped[Decimal | None] = mapped_column(Money())
    leverage: Mapped[float | None] = mapped_column(Real())
    unrealized_pnl: Mapped[Decimal | None] = mapped_column(Money())
    realized_pnl_today: Mapped[Decimal | None] = mapped_column(Money())
    trades_today: Mapped[int] = mapped_column(Integer, default=0)
    wins_today: Mapped[int] = mapped_column(Integer, default=0)
    losses_today: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("positions_count >= 0", name="positions_count_non_negative"),
        CheckConstraint(
            "trades_today >= 0 AND wins_today >= 0 AND losses_today >= 0",
            name="trade_counts_non_negative",
        ),
        CheckConstraint("wins_today + losses_today <= trades_today", name="wins_losses_le_trades"),
        CheckConstraint("leverage IS NULL OR leverage >= 0", name="leverage_non_negative"),
        Index("idx_portfolio_snapshots_bot_date", "bot_id", "snapshot_date", unique=True),
        Index("idx_portfolio_snapshots_date", snapshot_date.desc()),
        Index("idx_portfolio_snapshots_time", snapshot_time.desc()),
    )


class IntradaySnapshot(Timestamps, Base):
    """Hourly, intraday and manual snapshots of one bot's portfolio.

    A table of its own rather than a kind column on ``portfolio_snapshots``: the daily
    snapshot keeps its one row per bot and date (its unique index, the views and the
    metrics read it unchanged), and an intraday equity curve reads this table's
    ``(bot_id, snapshot_time)`` index without a filter every daily reader would need.
    """

    __tablename__ = "intraday_snapshots"

    snapshot_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    snapshot_kind: Mapped[SnapshotKind] = mapped_column(enum_column(SnapshotKind, "snapshot_kind"))
    snapshot_time: Mapped[dt.datetime] = mapped_column()
    total_equity: Mapped[Decimal] = mapped_column(Money())
    cash_balance: Mapped[Decimal] = mapped_column(Money())
    long_market_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    short_market_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    positions_count: Mapped[int] = mapped_column(Integer, default=0)
    realized_pnl: Mapped[Decimal | None] = mapped_column(Money())
    unrealized_pnl: Mapped[Decimal | None] = mapped_column(Money())
    total_trades: Mapped[int] = mapped_column(Integer, default=0)
    winning_trades: Mapped[int] = mapped_column(Integer, default=0)
    losing_trades: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("positions_count >= 0", name="positions_count_non_negative"),
        CheckConstraint(
            "total_trades >= 0 AND winning_trades >= 0 AND losing_trades >= 0",
            name="trade_counts_non_negative",
        ),
        CheckConstraint(
            "winning_trades + losing_trades <= total_trades", name="wins_losses_le_trades"
        ),
        Index(
            "idx_intraday_snapshots_bot_time",
            "bot_id",
            "snapshot_time",
            "snapshot_kind",
            unique=True,
        ),
    )


class IntradaySnapshotSymbol(Base):
    """One symbol's line of an intraday snapshot: the per-symbol P&L breakdown.

    A child table rather than a JSON document: "AAPL's P&L through the day" is then a join on
    the snapshot's key with exact NUMERIC money, the same SQL on both backends, where a JSON
    document would be parsed row by row (and its numbers are not NUMERIC).
    """

    __tablename__ = "intraday_snapshot_symbols"

    snapshot_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("intraday_snapshots.snapshot_id", ondelete="CASCADE")
    )
    ticker: Mapped[str] = mapped_column(String(32))
    #: Signed: positive long, negative short, 0 for a symbol closed out earlier in the day.
    quantity: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    market_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    unrealized_pnl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))

    __table_args__ = (
        PrimaryKeyConstraint("snapshot_id", "ticker"),
        CheckConstraint("ticker <> ''", name="ticker_not_empty"),
    )


class PerformanceMetric(Timestamps, Base):
    __tablename__ = "performance_metrics"

    metric_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    metric_date: Mapped[dt.date] = mapped_column(Date)
    strategy: Mapped[str] = mapped_column(String(100), default=ALL_STRATEGIES)
    # risk-adjusted returns
    sharpe_ratio: Mapped[float | None] = mapped_column(Real())
    sortino_ratio: Mapped[float | None] = mapped_column(Real())
    calmar_ratio: Mapped[float | None] = mapped_column(Real())
    omega_ratio: Mapped[float | None] = mapped_column(Real())
    # drawdown
    max_drawdown: Mapped[Decimal | None] = mapped_column(Money())
    max_drawdown_pct: Mapped[float | None] = mapped_column(Real())
    current_drawdown: Mapped[Decimal | None] = mapped_column(Money())
    current_drawdown_pct: Mapped[float | None] = mapped_column(Real())
    days_in_drawdown: Mapped[int | None] = mapped_column(Integer)
    # rolling returns (percent)
    return_1d: Mapped[float | None] = mapped_column(Real())
    return_7d: Mapped[float | None] = mapped_column(Real())
    return_30d: Mapped[float | None] = mapped_column(Real())
    return_ytd: Mapped[float | None] = mapped_column(Real())
    return_inception: Mapped[float | None] = mapped_column(Real())
    # volatility
    volatility_daily: Mapped[float | None] = mapped_column(Real())
    volatility_annualized: Mapped[float | None] = mapped_column(Real())
    downside_deviation: Mapped[float | None] = mapped_column(Real())
    # 30-day trade statistics
    total_trades_30d: Mapped[int | None] = mapped_column(Integer)
    winning_trades_30d: Mapped[int | None] = mapped_column(Integer)
    losing_trades_30d: Mapped[int | None] = mapped_column(Integer)
    win_rate_30d: Mapped[float | None] = mapped_column(Real())
    avg_win_30d: Mapped[Decimal | None] = mapped_column(Money())
    avg_loss_30d: Mapped[Decimal | None] = mapped_column(Money())
    profit_factor_30d: Mapped[float | None] = mapped_column(Real())
    expectancy_30d: Mapped[Decimal | None] = mapped_column(Money())
    #: Revision 0009; NULL on rows computed before it (``compute`` again fills them).
    largest_win_30d: Mapped[Decimal | None] = mapped_column(Money())
    largest_loss_30d: Mapped[Decimal | None] = mapped_column(Money())
    # benchmark comparison
    benchmark_return: Mapped[float | None] = mapped_column(Real())
    alpha: Mapped[float | None] = mapped_column(Real())
    beta: Mapped[float | None] = mapped_column(Real())
    correlation_to_benchmark: Mapped[float | None] = mapped_column(Real())

    __table_args__ = (
        CheckConstraint("strategy <> ''", name="strategy_not_empty"),
        CheckConstraint(
            "days_in_drawdown IS NULL OR days_in_drawdown >= 0",
            name="days_in_drawdown_non_negative",
        ),
        CheckConstraint(
            "win_rate_30d IS NULL OR (win_rate_30d >= 0 AND win_rate_30d <= 1)",
            name="win_rate_range",
        ),
        CheckConstraint(
            "total_trades_30d IS NULL OR winning_trades_30d IS NULL"
            " OR winning_trades_30d <= total_trades_30d",
            name="wins_le_trades",
        ),
        Index(
            "idx_performance_metrics_bot_date_strategy",
            "bot_id",
            "metric_date",
            "strategy",
            unique=True,
        ),
        Index("idx_performance_metrics_date", metric_date.desc()),
        Index("idx_performance_metrics_strategy", "strategy"),
    )


class PeriodMetric(Timestamps, Base):
    """Trade statistics of one period (day, ISO week, month, all time) up to ``as_of``
    (revision 0009). One row per (bot, period, period_start, strategy): computing the period
    again later in it replaces the row, so a week's row is "the week to date" until the week
    ends. ``performance_metrics`` keeps the daily risk row with its 30-day trade window."""

    __tablename__ = "period_metrics"

    period_metric_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.bot_id", ondelete="RESTRICT"))
    period: Mapped[MetricPeriod] = mapped_column(enum_column(MetricPeriod, "period"))
    #: The period's first day (``0001-01-01`` for all time).
    period_start: Mapped[dt.date] = mapped_column(Date)
    #: The last day counted: the trades closed from period_start to as_of, both included.
    as_of: Mapped[dt.date] = mapped_column(Date)
    strategy: Mapped[str] = mapped_column(String(100), default=ALL_STRATEGIES)
    total_trades: Mapped[int] = mapped_column(Integer)
    winning_trades: Mapped[int] = mapped_column(Integer)
    losing_trades: Mapped[int] = mapped_column(Integer)
    win_rate: Mapped[float | None] = mapped_column(Real())
    #: Sum of the period's realized P&L (net of commission).
    net_pnl: Mapped[Decimal] = mapped_column(Money())
    avg_win: Mapped[Decimal | None] = mapped_column(Money())
    avg_loss: Mapped[Decimal | None] = mapped_column(Money())
    largest_win: Mapped[Decimal | None] = mapped_column(Money())
    largest_loss: Mapped[Decimal | None] = mapped_column(Money())
    profit_factor: Mapped[float | None] = mapped_column(Real())
    expectancy: Mapped[Decimal | None] = mapped_column(Money())

    __table_args__ = (
        CheckConstraint("strategy <> ''", name="strategy_not_empty"),
        CheckConstraint("as_of >= period_start", name="as_of_in_period"),
        CheckConstraint(
            "winning_trades >= 0 AND losing_trades >= 0"
            " AND winning_trades + losing_trades <= total_trades",
            name="trade_counts",
        ),
        CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)", name="win_rate_range"
        ),
        Index(
            "idx_period_metrics_bot_period_start_strategy",
            "bot_id",
            "period",
            "period_start",
            "strategy",
            unique=True,
        ),
    )
