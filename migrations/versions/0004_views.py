"""Read side: the ten views, the paper-trading views and two functions, query indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Every view carries ``bot_id`` where its rows belong to a bot, so ``WHERE bot_id = 'alpha'``
scopes it; views that keep "the last N" rows keep them per bot. Training views have no bot.

The SQL lives in this file and nowhere else, deliberately: a revision must create the same
objects on the day it is applied as on the day it was written, so it imports nothing from
tradestore. The read side (``tradestore.analytics``) declares the columns it reads and a test
compares those declarations with the views this file creates. A later revision that changes
a table under these views keeps them alive with ``tradestore.db.view_ddl.preserved_views`` (see
that module), and a later revision that changes a view writes the new SQL out in full.

Indexes: the ones ``benchmarks/bench_indexes.py`` showed the common queries need at scale
(see docs/performance.md), plus, on PostgreSQL only, an expression index on the
UTC trading day of ``orders.submitted_at`` so that ``v_paper_daily_summary`` filtered by
``trade_date`` is an index range scan. SQLite cannot reflect expression indexes (SQLAlchemy
warns and Alembic cannot compare them), so that one index exists on PostgreSQL only and
``tradestore.migrate`` tells autogenerate to ignore it; the others are declared in the models.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (name, table, columns) of the indexes this revision adds on both backends.
INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("idx_orders_bot_submitted_at", "orders", ["bot_id", "submitted_at", "status"]),
    ("idx_orders_bot_ticker_submitted_at", "orders", ["bot_id", "ticker", "submitted_at"]),
    ("idx_orders_bot_order_type_slippage", "orders", ["bot_id", "order_type", "slippage"]),
    ("idx_orders_filled_at", "orders", ["filled_at"]),
    ("idx_closed_positions_bot_realized_pnl", "closed_positions", ["bot_id", "realized_pnl"]),
    (
        "idx_closed_positions_bot_exit_reason",
        "closed_positions",
        ["bot_id", "exit_reason", "holding_period_hours"],
    ),
)
PG_TRADE_DATE_INDEX = "idx_orders_trade_date"


@dataclass(frozen=True)
class _Dialect:
    """The handful of expressions SQLite and PostgreSQL spell differently."""

    #: An instant as 'YYYY-MM-DD HH:MM:SS' text in UTC (the views' formatted timestamps).
    text_ts: Callable[[str], str]
    #: The UTC calendar day of an instant, as a DATE (text 'YYYY-MM-DD' on SQLite).
    utc_date: Callable[[str], str]
    #: Hours from an instant until now, as a double.
    hours_since: Callable[[str], str]
    #: Seconds from instant a to instant b, as a double.
    seconds_between: Callable[[str, str], str]
    #: The instant ``hours`` hours before now, comparable with a stored instant.
    hours_ago: Callable[[int], str]
    #: Today's UTC date minus ``days`` days, comparable with a stored DATE.
    days_before_today: Callable[[int], str]
    #: A derived amount at the scale money is stored with (no-op on SQLite, where it is a double).
    money: Callable[[str], str]
    #: A ratio as a double.
    ratio: Callable[[str, str], str]
    #: FROM clause: ``bots b`` joined to the last ``n`` rows of ``table`` (alias) per bot,
    #: ordered by ``order`` over alias ``x``; (table, alias, key column, order, n).
    last_per_bot: Callable[[str, str, str, str, int], str]


_POSTGRESQL = _Dialect(
    text_ts=lambda c: f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    utc_date=lambda c: f"CAST({c} AT TIME ZONE 'UTC' AS DATE)",
    hours_since=lambda c: f"CAST(EXTRACT(EPOCH FROM (now() - {c})) / 3600 AS DOUBLE PRECISION)",
    seconds_between=lambda a, b: f"CAST(EXTRACT(EPOCH FROM ({b} - {a})) AS DOUBLE PRECISION)",
    hours_ago=lambda hours: f"(now() - INTERVAL '{hours} hours')",
    days_before_today=lambda days: f"(CAST(now() AT TIME ZONE 'UTC' AS DATE) - {days})",
    money=lambda e: f"CAST({e} AS NUMERIC(38, 18))",
    ratio=lambda n, d: f"CAST({n} AS DOUBLE PRECISION) / {d}",
    # LATERAL: per bot, an index scan that stops after n rows.
    last_per_bot=lambda table, alias, key, order, n: (
        f"bots b CROSS JOIN LATERAL (SELECT * FROM {table} x WHERE x.bot_id = b.bot_id "
        f"ORDER BY {order} LIMIT {n}) {alias}"
    ),
)

_SQLITE = _Dialect(
    text_ts=lambda c: f"strftime('%Y-%m-%d %H:%M:%S', {c})",
    utc_date=lambda c: f"date({c})",
    hours_since=lambda c: f"((julianday('now') - julianday({c})) * 24.0)",
    seconds_between=lambda a, b: f"((julianday({b}) - julianday({a})) * 86400.0)",
    # Stored instants are 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text: compare as text.
    hours_ago=lambda hours: f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{hours} hours')",
    days_before_today=lambda days: f"date('now', '-{days} days')",
    money=lambda e: e,
    ratio=lambda n, d: f"CAST({n} AS REAL) / {d}",
    # No LATERAL in SQLite: a correlated IN list, evaluated once per bot, then key lookups.
    last_per_bot=lambda table, alias, key, order, n: (
        f"bots b JOIN {table} {alias} ON {alias}.{key} IN (SELECT x.{key} FROM {table} x "
        f"WHERE x.bot_id = b.bot_id ORDER BY {order} LIMIT {n})"
    ),
)

# A float statistic with NaN read as unknown: NULLIF(x, 'NaN') is NULL for NaN on both backends
# (PostgreSQL compares NaN equal to NaN; SQLite stores NaN as the text 'NaN').


def _views(d: _Dialect) -> list[tuple[str, str, str]]:
    """(name, comment, SELECT) for every view, in creation order."""
    return [
        (
            "v_position_summary",
            "Open positions with calculated fields (seed 000).",
            f"""
SELECT p.bot_id, p.position_id, p.ticker, p.side, p.quantity, p.entry_price, p.current_price,
       p.unrealized_pnl, p.unrealized_pnl_pct,
       {d.money("CASE WHEN p.side = 'short' THEN (p.entry_price - p.current_price) * p.quantity ELSE (p.current_price - p.entry_price) * p.quantity END")} AS pnl_dollars,
       p.strategy, p.opened_at,
       {d.text_ts("p.opened_at")} AS opened_datetime,
       {d.hours_since("p.opened_at")} AS hours_held
FROM positions p""",
        ),
        (
            "v_recent_closed_trades",
            "The last 100 closed trades of each bot with outcome WIN/LOSS/BREAKEVEN (seed 000).",
            f"""
SELECT b.bot_id, cp.closed_position_id, cp.position_id, cp.ticker, cp.side, cp.quantity,
       cp.entry_price, cp.exit_price, cp.realized_pnl, cp.realized_pnl_pct, cp.exit_reason,
       cp.holding_period_hours, cp.strategy, cp.opened_at, cp.closed_at,
       {d.text_ts("cp.closed_at")} AS closed_datetime,
       CASE WHEN cp.realized_pnl > 0 THEN 'WIN' WHEN cp.realized_pnl < 0 THEN 'LOSS'
            ELSE 'BREAKEVEN' END AS outcome
FROM {
                d.last_per_bot(
                    "closed_positions",
                    "cp",
                    "closed_position_id",
                    "x.closed_at DESC, x.closed_position_id DESC",
                    100,
                )
            }""",
        ),
        (
            "v_recent_orders",
            "The last 100 orders of each bot with formatted timestamps (seed 000).",
            f"""
SELECT b.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.time_in_force, o.status, o.filled_quantity,
       o.filled_avg_price, o.commission, o.slippage, o.strategy, o.position_id,
       o.submitted_at, {d.text_ts("o.submitted_at")} AS submitted_datetime,
       o.filled_at, {d.text_ts("o.filled_at")} AS filled_datetime
FROM {d.last_per_bot("orders", "o", "order_id", "x.submitted_at DESC, x.order_id DESC", 100)}""",
        ),
        (
            "v_order_fill_stats",
            "Fill statistics per order that has fills: count, VWAP, best and worst price "
            "for the order's side (seed 000).",
            f"""
SELECT o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.status,
       o.quantity, o.filled_quantity,
       COUNT(*) AS num_fills,
       SUM(f.quantity) AS fill_quantity,
       {d.money("SUM(f.quantity * f.price) / SUM(f.quantity)")} AS avg_fill_price,
       CASE WHEN o.side = 'buy' THEN MIN(f.price) ELSE MAX(f.price) END AS best_fill_price,
       CASE WHEN o.side = 'buy' THEN MAX(f.price) ELSE MIN(f.price) END AS worst_fill_price,
       SUM(f.commission) AS total_commission,
       MIN(f.filled_at) AS first_fill_at,
       MAX(f.filled_at) AS last_fill_at
FROM orders o
JOIN fills f ON f.order_id = o.order_id
GROUP BY o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.status,
         o.quantity, o.filled_quantity""",
        ),
        (
            "v_equity_curve",
            "Portfolio value over time, one row per bot and day (seed 000).",
            """
SELECT s.bot_id, s.snapshot_date, s.snapshot_time, s.total_equity, s.cash_balance,
       s.daily_pnl, s.daily_return_pct, s.cumulative_pnl, s.cumulative_return_pct
FROM portfolio_snapshots s""",
        ),
        (
            "v_performance_summary",
            "Performance metrics of the last 30 days (seed 000).",
            f"""
SELECT m.bot_id, m.metric_date, m.strategy, m.sharpe_ratio, m.sortino_ratio, m.calmar_ratio,
       m.max_drawdown, m.max_drawdown_pct, m.current_drawdown, m.current_drawdown_pct,
       m.days_in_drawdown, m.return_1d, m.return_7d, m.return_30d, m.volatility_annualized,
       m.total_trades_30d, m.winning_trades_30d, m.win_rate_30d AS win_rate,
       m.profit_factor_30d AS profit_factor, m.expectancy_30d
FROM performance_metrics m
WHERE m.metric_date >= {d.days_before_today(30)}""",
        ),
        (
            "v_agent_leaderboard",
            "Evaluations of completed training runs, best Sharpe ratio first; NaN and NULL "
            "Sharpe ratios are not ranked (seed 000).",
            """
SELECT ap.performance_id, tr.run_id, tr.algorithm, tr.model_name, ap.evaluation_type,
       ap.evaluation_date, ap.sharpe_ratio, ap.total_return_pct, ap.max_drawdown_pct,
       ap.win_rate, ap.total_trades
FROM agent_performance ap
JOIN training_runs tr ON tr.run_id = ap.run_id
WHERE tr.status = 'completed' AND NULLIF(ap.sharpe_ratio, 'NaN') IS NOT NULL
ORDER BY ap.sharpe_ratio DESC, ap.performance_id""",
        ),
        (
            "v_current_ensemble",
            "Active ensemble composition (seed 000).",
            """
SELECT ew.ensemble_id, ew.version, ew.run_id, ew.algorithm, tr.model_name, ew.weight,
       ew.performance_score, ew.sharpe_ratio, ew.win_rate, ew.weighting_method,
       ew.update_time AS last_updated
FROM ensemble_weights ew
JOIN training_runs tr ON tr.run_id = ew.run_id
WHERE ew.is_active""",
        ),
        (
            "v_training_summary",
            "One row per training run with its learning rate and the metrics of its latest "
            "validation evaluation, else its latest evaluation of any type (seed 000).",
            f"""
SELECT tr.run_id, tr.algorithm, tr.model_name, tr.status, tr.start_time, tr.end_time,
       COALESCE(tr.duration_seconds, {d.seconds_between("tr.start_time", "tr.end_time")})
           / 3600.0 AS duration_hours,
       tr.total_timesteps, tr.final_reward, tr.best_reward,
       ev.evaluation_type, ev.sharpe_ratio, ev.win_rate, ev.total_return_pct,
       hp.learning_rate
FROM training_runs tr
LEFT JOIN (SELECT ap.run_id, ap.evaluation_type, ap.sharpe_ratio, ap.win_rate,
                  ap.total_return_pct,
                  ROW_NUMBER() OVER (PARTITION BY ap.run_id
                                     ORDER BY CASE WHEN ap.evaluation_type = 'validation'
                                                   THEN 0 ELSE 1 END,
                                              ap.evaluation_date DESC,
                                              ap.performance_id DESC) AS pick
           FROM agent_performance ap) ev ON ev.run_id = tr.run_id AND ev.pick = 1
LEFT JOIN hyperparameters hp ON hp.run_id = tr.run_id""",
        ),
        (
            "v_hyperparameter_results",
            "Hyperparameters with each evaluation of their run, best Sharpe ratio first, "
            "NaN and NULL last (seed 000).",
            """
SELECT ap.performance_id, hp.run_id, hp.algorithm, tr.model_name, hp.learning_rate,
       hp.batch_size, hp.n_steps, hp.gamma, ap.evaluation_type, ap.evaluation_date,
       ap.sharpe_ratio, ap.win_rate, ap.total_return_pct
FROM hyperparameters hp
JOIN agent_performance ap ON ap.run_id = hp.run_id
JOIN training_runs tr ON tr.run_id = hp.run_id
ORDER BY NULLIF(ap.sharpe_ratio, 'NaN') IS NULL, NULLIF(ap.sharpe_ratio, 'NaN') DESC,
         ap.performance_id""",
        ),
        (
            "v_paper_recent_orders",
            "Orders submitted in the last 24 hours (seed 003).",
            f"""
SELECT o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.quantity,
       o.limit_price, o.status, o.filled_quantity, o.filled_avg_price, o.slippage,
       o.commission, o.submitted_at, o.filled_at
FROM orders o
WHERE o.submitted_at >= {d.hours_ago(24)}""",
        ),
        (
            "v_paper_active_positions",
            "Open positions with unrealized, realized (closed parts) and total P&L (seed 003).",
            # position_id is the open row's primary key, so it alone finds the closed parts
            # (and SQLite, without statistics, then cannot pick a bot_id index instead).
            f"""
SELECT bot_id, position_id, ticker, side, quantity, signed_quantity, entry_price,
       current_price, market_value, unrealized_pnl, unrealized_pnl_pct, realized_pnl,
       unrealized_pnl + realized_pnl AS total_pnl, strategy, opened_at, updated_at
FROM (SELECT p.bot_id, p.position_id, p.ticker, p.side, p.quantity,
             CASE WHEN p.side = 'short' THEN -p.quantity ELSE p.quantity END
                 AS signed_quantity,
             p.entry_price, p.current_price,
             {d.money("p.quantity * p.current_price")} AS market_value,
             p.unrealized_pnl, p.unrealized_pnl_pct,
             COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp
                       WHERE cp.position_id = p.position_id), 0) AS realized_pnl,
             p.strategy, p.opened_at, p.updated_at
      FROM positions p) open_positions""",
        ),
        (
            "v_paper_daily_summary",
            "Orders per bot, UTC trading day and ticker (seed 003).",
            f"""
SELECT o.bot_id, {d.utc_date("o.submitted_at")} AS trade_date, o.ticker,
       COUNT(*) AS total_orders,
       SUM(CASE WHEN o.status = 'filled' THEN 1 ELSE 0 END) AS filled_orders,
       SUM(CASE WHEN o.status = 'partially_filled' THEN 1 ELSE 0 END)
           AS partially_filled_orders,
       SUM(CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled_orders,
       SUM(CASE WHEN o.status = 'rejected' THEN 1 ELSE 0 END) AS rejected_orders,
       {d.ratio("SUM(CASE WHEN o.status = 'filled' THEN 1 ELSE 0 END)", "COUNT(*)")}
           AS fill_rate,
       SUM(o.filled_quantity) AS filled_quantity,
       {d.money("SUM(o.filled_quantity * o.filled_avg_price)")} AS filled_notional,
       AVG(o.slippage) AS avg_slippage,
       SUM(o.commission) AS total_commission
FROM orders o
GROUP BY o.bot_id, {d.utc_date("o.submitted_at")}, o.ticker""",
        ),
    ]


# The paper-trading functions, PostgreSQL only (SQLite has no stored functions: tradestore.analytics
# answers the same questions there). PL/pgSQL so each branch is planned on its own and the
# bot-scoped one uses the (bot_id, ...) indexes; no BEGIN ATOMIC body, so the functions hold
# no dependency on the tables and never block a later ALTER TABLE. Parameters are qualified
# with the function's name, columns with their table's alias.
_FUNCTIONS = (
    (
        "get_paper_total_pnl(text)",
        """
CREATE FUNCTION get_paper_total_pnl(bot_id text DEFAULT NULL) RETURNS numeric
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    IF get_paper_total_pnl.bot_id IS NULL THEN
        RETURN COALESCE((SELECT SUM(p.unrealized_pnl) FROM positions p), 0)
             + COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp), 0);
    END IF;
    RETURN COALESCE((SELECT SUM(p.unrealized_pnl) FROM positions p
                     WHERE p.bot_id = get_paper_total_pnl.bot_id), 0)
         + COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp
                     WHERE cp.bot_id = get_paper_total_pnl.bot_id), 0);
END
$fn$""",
        "Realized (closed positions) plus unrealized (open positions) P&L of one bot, or of "
        "all bots when bot_id is NULL (seed 003).",
    ),
    (
        "get_paper_fill_rate(text, integer, text)",
        """
CREATE FUNCTION get_paper_fill_rate(symbol text, days integer DEFAULT 7, bot_id text DEFAULT NULL)
RETURNS double precision
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    since timestamptz := now() - make_interval(days => get_paper_fill_rate.days);
    total bigint;
    filled bigint;
BEGIN
    IF get_paper_fill_rate.bot_id IS NULL THEN
        SELECT COUNT(*), COUNT(*) FILTER (WHERE o.status = 'filled') INTO total, filled
        FROM orders o
        WHERE o.ticker = get_paper_fill_rate.symbol AND o.submitted_at >= since;
    ELSE
        SELECT COUNT(*), COUNT(*) FILTER (WHERE o.status = 'filled') INTO total, filled
        FROM orders o
        WHERE o.ticker = get_paper_fill_rate.symbol AND o.submitted_at >= since
          AND o.bot_id = get_paper_fill_rate.bot_id;
    END IF;
    IF total = 0 THEN
        RETURN NULL;
    END IF;
    RETURN filled::double precision / total;
END
$fn$""",
        "Filled orders / all orders submitted for symbol in the last days days, of one bot or "
        "of all bots when bot_id is NULL; NULL when there were no orders (seed 003).",
    ),
)


def _dialect() -> tuple[str, _Dialect]:
    name = op.get_bind().dialect.name
    if name == "postgresql":
        return name, _POSTGRESQL
    if name == "sqlite":
        return name, _SQLITE
    raise NotImplementedError(f"revision 0004 has no SQL for the {name} dialect")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _execute(sql: str) -> None:
    """Run literal SQL; colons are escaped so 'HH24:MI:SS' is not read as a bind parameter."""
    op.execute(sa.text(sql.replace(":", "\\:")))


def upgrade() -> None:
    name, dialect = _dialect()
    for index_name, table, columns in INDEXES:
        op.create_index(index_name, table, columns, unique=False)
    for view, comment, select in _views(dialect):
        if name == "postgresql":
            _execute(f"CREATE VIEW {view} AS{select}")
            _execute(f"COMMENT ON VIEW {view} IS {_quote(comment)}")
        else:
            # SQLite keeps the statement's text, comment included: `.schema v_...` shows it.
            _execute(f"CREATE VIEW {view} AS /* {comment} */{select}")
    if name == "postgresql":
        _execute(
            f"CREATE INDEX {PG_TRADE_DATE_INDEX} ON orders ({dialect.utc_date('submitted_at')})"
        )
        for signature, body, comment in _FUNCTIONS:
            _execute(body)
            _execute(f"COMMENT ON FUNCTION {signature} IS {_quote(comment)}")


def downgrade() -> None:
    name, dialect = _dialect()
    if name == "postgresql":
        for signature, _body, _comment in reversed(_FUNCTIONS):
            _execute(f"DROP FUNCTION IF EXISTS {signature}")
        _execute(f"DROP INDEX IF EXISTS {PG_TRADE_DATE_INDEX}")
    for view, _comment, _select in reversed(_views(dialect)):
        _execute(f"DROP VIEW IF EXISTS {view}")
    for index_name, table, _columns in reversed(INDEXES):
        op.drop_index(index_name, table_name=table)
