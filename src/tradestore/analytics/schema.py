"""The views as the read side sees them: names, columns and the types to read them with.

These declare, they do not define: the views' SQL is frozen in revision 0004 (and in any later
revision that redefines one). ``tests/analytics/test_schema.py`` compares every declaration
here with the view the migrations created, on both backends, so the two cannot drift.

Types matter on SQLite, where a view hands back doubles and text: ``Money`` turns a stored
double back into the Decimal it stood for, ``DerivedMoney`` does the same for an amount the
view computed and rounds away the noise of arithmetic done in doubles, ``UTCDateTime`` parses
the stored UTC text, ``Real`` reads the text 'NaN', and the enum types give enum members.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Date, Integer, String, TableClause, column, table

from tradestore.analytics._sql import DerivedMoney
from tradestore.db.types import Money, OpenChoice, Real, UTCDateTime, enum_column
from tradestore.domain.enums import (
    MAX_ALGORITHM_LENGTH,
    MAX_EXIT_REASON_LENGTH,
    Algorithm,
    EvaluationType,
    ExitReason,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    RunStatus,
    TimeInForce,
    WeightingMethod,
)

v_position_summary: TableClause = table(
    "v_position_summary",
    column("bot_id", String()),
    column("position_id", String()),
    column("ticker", String()),
    column("side", enum_column(PositionSide, "side")),
    column("quantity", Money()),
    column("entry_price", Money()),
    column("current_price", Money()),
    column("unrealized_pnl", Money()),
    column("unrealized_pnl_pct", Real()),
    column("pnl_dollars", DerivedMoney()),
    column("strategy", String()),
    column("opened_at", UTCDateTime()),
    column("opened_datetime", String()),
    column("hours_held", Real()),
)

v_recent_closed_trades: TableClause = table(
    "v_recent_closed_trades",
    column("bot_id", String()),
    column("closed_position_id", Integer()),
    column("position_id", String()),
    column("ticker", String()),
    column("side", enum_column(PositionSide, "side")),
    column("quantity", Money()),
    column("entry_price", Money()),
    column("exit_price", Money()),
    column("realized_pnl", Money()),
    column("realized_pnl_pct", Real()),
    column("exit_reason", OpenChoice(ExitReason, MAX_EXIT_REASON_LENGTH)),
    column("holding_period_hours", Real()),
    column("strategy", String()),
    column("opened_at", UTCDateTime()),
    column("closed_at", UTCDateTime()),
    column("closed_datetime", String()),
    column("outcome", String()),
)

v_recent_orders: TableClause = table(
    "v_recent_orders",
    column("bot_id", String()),
    column("order_id", String()),
    column("client_order_id", String()),
    column("ticker", String()),
    column("side", enum_column(OrderSide, "side")),
    column("order_type", enum_column(OrderType, "order_type")),
    column("quantity", Money()),
    column("limit_price", Money()),
    column("stop_price", Money()),
    column("time_in_force", enum_column(TimeInForce, "time_in_force")),
    column("status", enum_column(OrderStatus, "status")),
    column("filled_quantity", Money()),
    column("filled_avg_price", Money()),
    column("commission", Money()),
    column("slippage", Money()),
    column("strategy", String()),
    column("position_id", String()),
    column("submitted_at", UTCDateTime()),
    column("submitted_datetime", String()),
    column("filled_at", UTCDateTime()),
    column("filled_datetime", String()),
)

v_order_fill_stats: TableClause = table(
    "v_order_fill_stats",
    column("bot_id", String()),
    column("order_id", String()),
    column("client_order_id", String()),
    column("ticker", String()),
    column("side", enum_column(OrderSide, "side")),
    column("order_type", enum_column(OrderType, "order_type")),
    column("status", enum_column(OrderStatus, "status")),
    column("quantity", Money()),
    column("filled_quantity", Money()),
    column("num_fills", Integer()),
    column("fill_quantity", DerivedMoney()),
    column("avg_fill_price", DerivedMoney()),
    column("best_fill_price", Money()),
    column("worst_fill_price", Money()),
    column("total_commission", DerivedMoney()),
    column("first_fill_at", UTCDateTime()),
    column("last_fill_at", UTCDateTime()),
)

v_equity_curve: TableClause = table(
    "v_equity_curve",
    column("bot_id", String()),
    column("snapshot_date", Date()),
    column("snapshot_time", UTCDateTime()),
    column("total_equity", Money()),
    column("cash_balance", Money()),
    column("daily_pnl", Money()),
    column("daily_return_pct", Real()),
    column("cumulative_pnl", Money()),
    column("cumulative_return_pct", Real()),
)

v_performance_summary: TableClause = table(
    "v_performance_summary",
    column("bot_id", String()),
    column("metric_date", Date()),
    column("strategy", String()),
    column("sharpe_ratio", Real()),
    column("sortino_ratio", Real()),
    column("calmar_ratio", Real()),
    column("max_drawdown", Money()),
    column("max_drawdown_pct", Real()),
    column("current_drawdown", Money()),
    column("current_drawdown_pct", Real()),
    column("days_in_drawdown", Integer()),
    column("return_1d", Real()),
    column("return_7d", Real()),
    column("return_30d", Real()),
    column("volatility_annualized", Real()),
    column("total_trades_30d", Integer()),
    column("winning_trades_30d", Integer()),
    column("win_rate", Real()),
    column("profit_factor", Real()),
    column("expectancy_30d", Money()),
)

v_agent_leaderboard: TableClause = table(
    "v_agent_leaderboard",
    column("performance_id", Integer()),
    column("run_id", String()),
    column("algorithm", OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH)),
    column("model_name", String()),
    column("evaluation_type", enum_column(EvaluationType, "evaluation_type")),
    column("evaluation_date", Date()),
    column("sharpe_ratio", Real()),
    column("total_return_pct", Real()),
    column("max_drawdown_pct", Real()),
    column("win_rate", Real()),
    column("total_trades", Integer()),
)

v_current_ensemble: TableClause = table(
    "v_current_ensemble",
    column("ensemble_id", String()),
    column("version", Integer()),
    column("run_id", String()),
    column("algorithm", OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH)),
    column("model_name", String()),
    column("weight", Real()),
    column("performance_score", Real()),
    column("sharpe_ratio", Real()),
    column("win_rate", Real()),
    column("weighting_method", enum_column(WeightingMethod, "weighting_method")),
    column("last_updated", UTCDateTime()),
)

v_training_summary: TableClause = table(
    "v_training_summary",
    column("run_id", String()),
    column("algorithm", OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH)),
    column("model_name", String()),
    column("status", enum_column(RunStatus, "status")),
    column("start_time", UTCDateTime()),
    column("end_time", UTCDateTime()),
    column("duration_hours", Real()),
    column("total_timesteps", Integer()),
    column("final_reward", Real()),
    column("best_reward", Real()),
    column("evaluation_type", enum_column(EvaluationType, "evaluation_type")),
    column("sharpe_ratio", Real()),
    column("win_rate", Real()),
    column("total_return_pct", Real()),
    column("learning_rate", Real()),
)

v_hyperparameter_results: TableClause = table(
    "v_hyperparameter_results",
    column("performance_id", Integer()),
    column("run_id", String()),
    column("algorithm", OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH)),
    column("model_name", String()),
    column("learning_rate", Real()),
    column("batch_size", Integer()),
    column("n_steps", Integer()),
    column("gamma", Real()),
    column("evaluation_type", enum_column(EvaluationType, "evaluation_type")),
    column("evaluation_date", Date()),
    column("sharpe_ratio", Real()),
    column("win_rate", Real()),
    column("total_return_pct", Real()),
)

v_paper_recent_orders: TableClause = table(
    "v_paper_recent_orders",
    column("bot_id", String()),
    column("order_id", String()),
    column("client_order_id", String()),
    column("ticker", String()),
    column("side", enum_column(OrderSide, "side")),
    column("order_type", enum_column(OrderType, "order_type")),
    column("quantity", Money()),
    column("limit_price", Money()),
    column("status", enum_column(OrderStatus, "status")),
    column("filled_quantity", Money()),
    column("filled_avg_price", Money()),
    column("slippage", Money()),
    column("commission", Money()),
    column("submitted_at", UTCDateTime()),
    column("filled_at", UTCDateTime()),
)

v_paper_active_positions: TableClause = table(
    "v_paper_active_positions",
    column("bot_id", String()),
    column("position_id", String()),
    column("ticker", String()),
    column("side", enum_column(PositionSide, "side")),
    column("quantity", Money()),
    column("signed_quantity", Money()),
    column("entry_price", Money()),
    column("current_price", Money()),
    column("market_value", DerivedMoney()),
    column("unrealized_pnl", Money()),
    column("unrealized_pnl_pct", Real()),
    column("realized_pnl", DerivedMoney()),
    column("total_pnl", DerivedMoney()),
    column("strategy", String()),
    column("opened_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)

v_paper_daily_summary: TableClause = table(
    "v_paper_daily_summary",
    column("bot_id", String()),
    column("trade_date", Date()),
    column("ticker", String()),
    column("total_orders", Integer()),
    column("filled_orders", Integer()),
    column("partially_filled_orders", Integer()),
    column("cancelled_orders", Integer()),
    column("rejected_orders", Integer()),
    column("fill_rate", Real()),
    column("filled_quantity", DerivedMoney()),
    column("filled_notional", DerivedMoney()),
    column("avg_slippage", DerivedMoney()),
    column("total_commission", DerivedMoney()),
)

#: Every view revision 0004 creates, in creation order.
VIEWS: tuple[TableClause, ...] = (
    v_position_summary,
    v_recent_closed_trades,
    v_recent_orders,
    v_order_fill_stats,
    v_equity_curve,
    v_performance_summary,
    v_agent_leaderboard,
    v_current_ensemble,
    v_training_summary,
    v_hyperparameter_results,
    v_paper_recent_orders,
    v_paper_active_positions,
    v_paper_daily_summary,
)


@dataclass(frozen=True)
class SqlFunction:
    """A PostgreSQL function revision 0004 creates, as ``pg_proc`` describes it."""

    name: str
    #: ``pg_get_function_identity_arguments``: the parameters that identify it (no defaults).
    arguments: str
    #: ``pg_get_function_result``.
    returns: str
    #: The ``Analytics`` method that answers the same question on either backend (on SQLite,
    #: which has no stored functions, instead of the function).
    stands_in: str


#: The paper-trading PostgreSQL functions, in creation order.
SQL_FUNCTIONS: tuple[SqlFunction, ...] = (
    SqlFunction("get_paper_total_pnl", "bot_id text", "numeric", "Analytics.total_pnl()"),
    SqlFunction(
        "get_paper_fill_rate",
        "symbol text, days integer, bot_id text",
        "double precision",
        "Analytics.fill_rate(ticker, days=...)",
    ),
)
POSTGRESQL_FUNCTIONS = tuple(function.name for function in SQL_FUNCTIONS)
