"""Indexes proven at scale: every read-side query's plan and time on 1M orders / fills.

    python -m benchmarks.bench_indexes [--small] [--backend sqlite|postgresql] [--repeat N]
                                       [--no-plans] [--no-write-cost]
    python -m benchmarks.bench_indexes      # full size (1M orders), both backends
    python -m benchmarks indexes            # the same
    TRADESTORE_BENCH_SMALL=1 python -m benchmarks indexes

Loads 1,000,000 orders, 1,000,000 fills and 500,000 closed positions (``--small``: 1/100)
with the fast bulk paths (PostgreSQL ``COPY`` through the SQLAlchemy connection, SQLite
``executemany`` on the driver connection), plus the smaller tables, then ``ANALYZE``s. For
each common query and view of the source schema it:

* runs the ``Analytics`` method, capturing the SQL it sends, and prints that SQL's plan
  (``EXPLAIN`` / ``EXPLAIN QUERY PLAN``) reduced to one line per table access, with a verdict:
  ``index`` (every large table reached through an index), ``index-only`` for a covering
  index read in full, or ``FULL SCAN``;
* times the method against the hand-written SQL on the raw driver (psycopg2 /
  sqlite3), same database, same run, and prints a ``Result`` line (medians): the per-call
  ratio.

It ends with one line per backend (and one over both): the number of calls, the median and
worst ratio, and how many are above the target (1.5x at full size, 3x at ``--small``).

Queries are scoped to bot ``alpha``, the largest (40% of the rows), which is where a planner
is most tempted to scan. docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from benchmarks.harness import (
    Result,
    fresh_database,
    median_seconds,
    note,
    postgres_admin_url,
    report,
)
from tradestore import Database
from tradestore.analytics import Analytics

BOTS = ("alpha", "beta", "gamma", "delta")
BOT_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
TICKERS = [f"T{i:02d}" for i in range(48)] + ["AAPL", "BTCUSD"]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HISTORY_DAYS = 730
LARGE_TABLES = {"orders", "fills", "closed_positions"}
#: SQLite's plans name a view's tables by their aliases in revision 0004.
ALIASES = {"o": "orders", "f": "fills", "cp": "closed_positions", "x": "orders"}


@dataclass(frozen=True)
class Scale:
    orders: int
    fills: int
    closed: int
    positions: int
    runs: int

    @classmethod
    def of(cls, small: bool) -> Scale:
        if small:
            return cls(orders=10_000, fills=10_000, closed=5_000, positions=200, runs=200)
        return cls(orders=1_000_000, fills=1_000_000, closed=500_000, positions=2_000, runs=2_000)


# --- data ------------------------------------------------------------------------------------


class Rows:
    """Column names and value tuples of one table, with backend-specific literals."""

    def __init__(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]):
        self.table = table
        self.columns = list(columns)
        self.rows = rows


def _ts(dialect: str, instant: dt.datetime) -> str:
    if dialect == "sqlite":  # how UTCDateTime stores it: naive UTC with microseconds
        return instant.strftime("%Y-%m-%d %H:%M:%S.%f")
    return instant.isoformat()


def _bool(dialect: str, value: bool) -> Any:
    return int(value) if dialect == "sqlite" else ("t" if value else "f")


def _money(dialect: str, value: float, places: int = 4) -> Any:
    rounded = round(value, places)
    return rounded if dialect == "sqlite" else f"{rounded:.{places}f}"


def generate(scale: Scale, dialect: str) -> Iterator[Rows]:
    rng = random.Random(42)
    ts = lambda instant: _ts(dialect, instant)  # noqa: E731
    money = lambda value, places=4: _money(dialect, value, places)  # noqa: E731
    span = HISTORY_DAYS * 86_400

    def bot() -> str:
        return rng.choices(BOTS, BOT_WEIGHTS)[0]

    yield Rows("bots", ["bot_id", "mode", "status", "total_pnl", "total_commission"],
               [(b, "paper", "running", 0, 0) for b in BOTS])  # fmt: skip

    order_cols = [
        "order_id", "bot_id", "client_order_id", "ticker", "order_type", "side", "quantity",
        "limit_price", "stop_price", "time_in_force", "status", "submitted_at", "filled_at",
        "updated_at", "filled_quantity", "filled_avg_price", "commission", "slippage",
        "strategy",
    ]  # fmt: skip
    statuses = ["filled"] * 12 + ["cancelled"] * 3 + ["partially_filled", "rejected", "new",
                                                       "accepted", "expired"]  # fmt: skip
    types = ["market", "market", "limit", "limit", "stop", "stop_limit", "trailing_stop"]
    orders: list[tuple[Any, ...]] = []
    fillable: list[tuple[str, str, str, str, float, float, dt.datetime]] = []
    for i in range(scale.orders):
        owner = bot()
        ticker = rng.choice(TICKERS)
        order_type = rng.choice(types)
        status = rng.choice(statuses)
        submitted = NOW - dt.timedelta(seconds=rng.randrange(span))
        quantity = rng.randint(1, 500)
        price = rng.uniform(5, 900)
        limit_price = price if order_type in ("limit", "stop_limit") else None
        stop_price = price * 0.98 if order_type in ("stop", "stop_limit") else None
        filled_quantity = {"filled": quantity, "partially_filled": quantity // 2}.get(status, 0)
        filled_at = submitted + dt.timedelta(seconds=rng.randint(1, 90))
        slippage = rng.gauss(0.01, 0.02) if filled_quantity and rng.random() < 0.8 else None
        side = rng.choice(("buy", "sell"))
        order_id = f"o{i:08d}"
        orders.append(
            (
                order_id, owner, f"c{i:08d}", ticker, order_type, side, quantity,
                None if limit_price is None else money(limit_price),
                None if stop_price is None else money(stop_price),
                "day", status, ts(submitted),
                ts(filled_at) if status == "filled" else None,
                ts(filled_at), filled_quantity,
                money(price) if filled_quantity else None,
                money(0.005 * filled_quantity, 3),
                None if slippage is None else money(slippage),
                rng.choice(("ppo_agent", "sac_agent", None)),
            )
        )  # fmt: skip
        if filled_quantity:
            fillable.append((order_id, owner, ticker, side, filled_quantity, price, filled_at))
    yield Rows("orders", order_cols, orders)
    del orders

    fills: list[tuple[Any, ...]] = []
    index = 0
    while len(fills) < scale.fills and fillable:
        order_id, owner, ticker, side, quantity, price, filled_at = fillable[index % len(fillable)]
        part = index // len(fillable)
        fills.append(
            (
                owner, f"f{index:08d}", order_id, ticker, side, max(1, quantity // 2),
                money(price * (1 + rng.uniform(-0.001, 0.001))),
                ts(filled_at + dt.timedelta(seconds=part)), rng.choice(("maker", "taker")),
                money(0.0025 * quantity, 3),
            )
        )  # fmt: skip
        index += 1
    yield Rows(
        "fills",
        ["bot_id", "fill_id", "order_id", "ticker", "side", "quantity", "price", "filled_at",
         "liquidity", "commission"],
        fills,
    )  # fmt: skip
    del fills, fillable

    reasons = ["take_profit", "stop_loss", "trailing_stop", "time_exit", "manual",
               "risk_limit", "circuit_breaker", "market_close"]  # fmt: skip
    closed: list[tuple[Any, ...]] = []
    for i in range(scale.closed):
        entry = rng.uniform(5, 900)
        exit_price = entry * (1 + rng.gauss(0.002, 0.03))
        quantity = rng.randint(1, 300)
        side = rng.choice(("long", "short"))
        pnl = (exit_price - entry) * quantity * (1 if side == "long" else -1)
        closed_at = NOW - dt.timedelta(seconds=rng.randrange(span))
        hours = rng.uniform(0.1, 240)
        opened = closed_at - dt.timedelta(hours=hours)
        closed.append(
            (
                f"p{i:08d}", bot(), rng.choice(TICKERS), side, quantity, money(entry),
                money(exit_price), money(pnl), pnl / (entry * quantity) * 100, ts(opened),
                ts(closed_at), ts(closed_at), hours, rng.choice(reasons), money(1.0, 2),
                rng.choice(("ppo_agent", "sac_agent")),
            )
        )  # fmt: skip
    yield Rows(
        "closed_positions",
        ["position_id", "bot_id", "ticker", "side", "quantity", "entry_price", "exit_price",
         "realized_pnl", "realized_pnl_pct", "opened_at", "closed_at", "updated_at",
         "holding_period_hours", "exit_reason", "commission", "strategy"],
        closed,
    )  # fmt: skip
    del closed

    positions = []
    for i in range(scale.positions):
        entry = rng.uniform(5, 900)
        current = entry * (1 + rng.gauss(0, 0.02))
        quantity = rng.randint(1, 300)
        side = rng.choice(("long", "short"))
        pnl = (current - entry) * quantity * (1 if side == "long" else -1)
        opened = NOW - dt.timedelta(seconds=rng.randrange(30 * 86_400))
        positions.append(
            (
                f"open{i:06d}", bot(), rng.choice(TICKERS), side, quantity, money(entry),
                money(current), money(pnl), pnl / (entry * quantity) * 100, money(1.0, 2),
                ts(opened), ts(NOW), "ppo_agent",
            )
        )  # fmt: skip
    yield Rows(
        "positions",
        ["position_id", "bot_id", "ticker", "side", "quantity", "entry_price", "current_price",
         "unrealized_pnl", "unrealized_pnl_pct", "commission", "opened_at", "updated_at",
         "strategy"],
        positions,
    )  # fmt: skip

    snapshots, metrics = [], []
    for owner in BOTS:
        equity = 100_000.0
        for k in range(HISTORY_DAYS, -1, -1):
            day = NOW.date() - dt.timedelta(days=k)
            daily = rng.gauss(50, 400)
            equity += daily
            trades = rng.randint(0, 30)
            wins = rng.randint(0, trades)
            snapshots.append(
                (
                    owner, day.isoformat(),
                    ts(dt.datetime.combine(day, dt.time(21), tzinfo=dt.UTC)),
                    money(equity, 2), money(equity / 2, 2), money(equity / 2, 2), money(0, 2),
                    trades % 10, money(daily, 2), daily / 1000, money(equity - 100_000, 2),
                    (equity - 100_000) / 1000, trades, wins, trades - wins,
                )
            )  # fmt: skip
            for strategy in ("all", "ppo_agent"):
                metrics.append(
                    (
                        owner, day.isoformat(), strategy, rng.gauss(1.2, 0.5),
                        rng.uniform(2, 20), rng.uniform(0, 10), rng.uniform(0.3, 0.7),
                        rng.uniform(0.8, 2.5),
                    )
                )  # fmt: skip
    yield Rows(
        "portfolio_snapshots",
        ["bot_id", "snapshot_date", "snapshot_time", "total_equity", "cash_balance",
         "long_market_value", "short_market_value", "positions_count", "daily_pnl",
         "daily_return_pct", "cumulative_pnl", "cumulative_return_pct", "trades_today",
         "wins_today", "losses_today"],
        snapshots,
    )  # fmt: skip
    yield Rows(
        "performance_metrics",
        ["bot_id", "metric_date", "strategy", "sharpe_ratio", "max_drawdown_pct",
         "current_drawdown_pct", "win_rate_30d", "profit_factor_30d"],
        metrics,
    )  # fmt: skip

    algorithms = ["PPO", "PPO", "SAC", "A2C", "TD3", "DQN", "DDPG"]
    runs, hyper, evaluations, weights = [], [], [], []
    for i in range(scale.runs):
        run_id = f"run{i:06d}"
        algorithm = rng.choice(algorithms)
        start = NOW - dt.timedelta(seconds=rng.randrange(span))
        hours = rng.uniform(0.5, 12)
        status = rng.choice(("completed", "completed", "completed", "failed", "stopped"))
        runs.append(
            (
                run_id, algorithm, f"{algorithm.lower()}_{i}", ts(start),
                ts(start + dt.timedelta(hours=hours)), hours * 3600, status,
                _bool(dialect, status == "completed"), "cpu",
            )
        )  # fmt: skip
        lr = rng.choice((1e-4, 3e-4, 7e-4, 1e-3))
        hyper.append(
            (
                run_id, algorithm, lr, rng.choice((32, 64, 128, 256)),
                rng.choice((512, 1024, 2048)), 0.99, json.dumps({"learning_rate": lr}),
            )
        )  # fmt: skip
        for evaluation_type in ("train", "validation", "test", "backtest", "validation"):
            evaluations.append(
                (
                    run_id, (start.date() + dt.timedelta(days=1)).isoformat(), evaluation_type,
                    rng.gauss(1.0, 0.6), rng.gauss(8, 10), rng.uniform(2, 30),
                    rng.uniform(0.3, 0.8), rng.randint(10, 500),
                )
            )  # fmt: skip
    for version in range(1, scale.runs // 4 + 1):
        update = NOW - dt.timedelta(hours=scale.runs // 4 - version)
        for j in range(4):
            weights.append(
                (
                    "production" if version % 2 else "staging", version, ts(update),
                    update.date().isoformat(), f"run{(version * 4 + j) % scale.runs:06d}",
                    "PPO", 0.25, 0.5, 1.2, 0.55,
                    _bool(dialect, version >= scale.runs // 4 - 1), "equal",
                )
            )  # fmt: skip
    yield Rows(
        "training_runs",
        ["run_id", "algorithm", "model_name", "start_time", "end_time", "duration_seconds",
         "status", "convergence_achieved", "device"],
        runs,
    )  # fmt: skip
    yield Rows(
        "hyperparameters",
        ["run_id", "algorithm", "learning_rate", "batch_size", "n_steps", "gamma",
         "params_json"],
        hyper,
    )  # fmt: skip
    yield Rows(
        "agent_performance",
        ["run_id", "evaluation_date", "evaluation_type", "sharpe_ratio", "total_return_pct",
         "max_drawdown_pct", "win_rate", "total_trades"],
        evaluations,
    )  # fmt: skip
    yield Rows(
        "ensemble_weights",
        ["ensemble_id", "version", "update_time", "update_date", "run_id", "algorithm",
         "weight", "performance_score", "sharpe_ratio", "win_rate", "is_active",
         "weighting_method"],
        weights,
    )  # fmt: skip


def load(database: Database, scale: Scale) -> None:
    """Bulk-load through the fast paths, then refresh the planner's statistics."""
    dialect = database.dialect_name
    for rows in generate(scale, dialect):
        started = time.perf_counter()
        # One transaction per table, begun by SQLAlchemy (BEGIN IMMEDIATE on SQLite), the
        # rows handed to the driver underneath it.
        columns = ", ".join(rows.columns)
        with database.engine.begin() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            if dialect == "postgresql":
                buffer = io.StringIO()
                csv.writer(buffer).writerows(rows.rows)
                buffer.seek(0)
                with driver.cursor() as cursor:
                    cursor.copy_expert(
                        f"COPY {rows.table} ({columns}) FROM STDIN WITH (FORMAT csv)",
                        buffer,
                    )
            else:
                placeholders = ", ".join("?" for _ in rows.columns)
                driver.executemany(
                    f"INSERT INTO {rows.table} ({columns}) VALUES ({placeholders})",
                    rows.rows,
                )
        elapsed = time.perf_counter() - started
        print(
            f"  loaded {len(rows.rows):>9,} {rows.table:<20} {elapsed:6.1f} s "
            f"({len(rows.rows) / max(elapsed, 1e-9):,.0f} rows/s)",
            flush=True,
        )
    if dialect == "postgresql":  # VACUUM sets the visibility map index-only scans rely on
        autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


# --- plans -------------------------------------------------------------------------------------


@contextmanager
def capture(database: Database) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)


def _pg_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child)


def explain(raw: Any, dialect: str, statement: str, parameters: Any) -> tuple[str, list[str]]:
    """(verdict, one line per table access) for a statement on the raw driver connection."""
    cursor = raw.cursor()
    try:
        accesses: list[tuple[str, str]] = []  # (table, how)
        if dialect == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]["Plan"]
            for node in _pg_nodes(plan):
                kind = node["Node Type"]
                if kind in ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"):
                    how = kind + (f" {node['Index Name']}" if "Index Name" in node else "")
                    if kind == "Bitmap Heap Scan":
                        names = [
                            n["Index Name"]
                            for n in _pg_nodes(node)
                            if n["Node Type"] == "Bitmap Index Scan"
                        ]
                        how = f"Bitmap Heap Scan via {'+'.join(names)}"
                    accesses.append((node["Relation Name"], how))
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters or ())
            for row in cursor.fetchall():
                detail = str(row[-1])
                words = detail.split()
                if words and words[0] in ("SCAN", "SEARCH") and len(words) > 1:
                    accesses.append((words[1], detail))
    finally:
        cursor.close()
    large = [(t, h) for t, h in accesses if ALIASES.get(t, t) in LARGE_TABLES]
    lines = [f"{t}: {h}" for t, h in accesses]
    if any(
        h.startswith("Seq Scan") or (h.startswith("SCAN") and "INDEX" not in h) for _, h in large
    ):
        return "FULL SCAN", lines
    if large and all("COVERING INDEX" in h or h.startswith("Index Only Scan") for _, h in large):
        return "index-only", lines  # answered from indexes: no table rows touched
    return "index", lines


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    ours: Callable[[Analytics], object]
    raw_sql: dict[str, str]  # dialect -> the source query's SQL as a user would type it
    params: Callable[[], dict[str, Any]] = lambda: {}


def same(sql: str) -> dict[str, str]:
    return {"sqlite": sql, "postgresql": sql}


BOT = "alpha"


def _queries() -> list[Query]:
    pg_day = "CAST(submitted_at AT TIME ZONE 'UTC' AS DATE)"
    return [
        Query("total unrealized P&L", lambda a: a.total_unrealized_pnl(),
              same("SELECT SUM(unrealized_pnl) FROM positions WHERE bot_id = 'alpha'")),
        Query("win rate", lambda a: a.win_rate(),
              same("SELECT COUNT(CASE WHEN realized_pnl > 0 THEN 1 END) * 1.0 / COUNT(*) "
                   "FROM closed_positions WHERE bot_id = 'alpha'")),
        Query("holding period by exit reason", lambda a: a.holding_period_by_exit_reason(),
              same("SELECT exit_reason, AVG(holding_period_hours) FROM closed_positions "
                   "WHERE bot_id = 'alpha' GROUP BY exit_reason")),
        Query("best performers", lambda a: a.best_performers(),
              same("SELECT ticker, realized_pnl, realized_pnl_pct FROM closed_positions "
                   "WHERE bot_id = 'alpha' ORDER BY realized_pnl DESC LIMIT 10")),
        Query("current Sharpe and drawdown", lambda a: a.current_risk(),
              same("SELECT sharpe_ratio, max_drawdown_pct, current_drawdown_pct "
                   "FROM performance_metrics WHERE bot_id = 'alpha' AND strategy = 'all' "
                   "ORDER BY metric_date DESC LIMIT 1")),
        Query("daily fill rate (all history)", lambda a: a.daily_fill_rate(),
              {"sqlite": "SELECT DATE(submitted_at) AS date, COUNT(*), COUNT(CASE WHEN "
                         "status = 'filled' THEN 1 END) FROM orders WHERE bot_id = 'alpha' "
                         "GROUP BY date ORDER BY date DESC",
               "postgresql": f"SELECT {pg_day} AS date, COUNT(*), COUNT(CASE WHEN status = "
                             "'filled' THEN 1 END) FROM orders WHERE bot_id = 'alpha' "
                             "GROUP BY date ORDER BY date DESC"}),
        Query("daily fill rate (7 days)", lambda a: a.daily_fill_rate(days=7),
              {"sqlite": "SELECT DATE(submitted_at) AS date, COUNT(*) FROM orders "
                         "WHERE bot_id = 'alpha' AND submitted_at >= date('now', '-7 days') "
                         "GROUP BY date ORDER BY date DESC",
               "postgresql": f"SELECT {pg_day} AS date, COUNT(*) FROM orders "
                             "WHERE bot_id = 'alpha' AND submitted_at >= CURRENT_DATE - 7 "
                             "GROUP BY date ORDER BY date DESC"}),
        Query("slippage by order type", lambda a: a.slippage_by_order_type(),
              same("SELECT order_type, AVG(slippage) FROM orders WHERE slippage IS NOT NULL "
                   "AND bot_id = 'alpha' GROUP BY order_type")),
        Query("best agents", lambda a: a.agent_leaderboard(limit=10),
              same("SELECT * FROM v_agent_leaderboard LIMIT 10")),
        Query("compare algorithms", lambda a: a.algorithm_comparison(),
              same("SELECT algorithm, COUNT(*), AVG(sharpe_ratio), MAX(sharpe_ratio) "
                   "FROM training_runs tr JOIN agent_performance ap ON tr.run_id = ap.run_id "
                   "WHERE tr.status = 'completed' AND ap.evaluation_type = 'validation' "
                   "GROUP BY algorithm ORDER BY 3 DESC")),
        Query("best PPO hyperparameters", lambda a: a.best_hyperparameters(),
              same("SELECT learning_rate, batch_size, n_steps, AVG(sharpe_ratio) AS s "
                   "FROM hyperparameters hp JOIN agent_performance ap ON hp.run_id = ap.run_id "
                   "WHERE hp.algorithm = 'PPO' AND ap.evaluation_type = 'validation' "
                   "GROUP BY learning_rate, batch_size, n_steps ORDER BY s DESC LIMIT 5")),
        Query("ensemble weight history", lambda a: a.ensemble_weight_history(),
              same("SELECT update_date, algorithm, weight, sharpe_ratio FROM ensemble_weights "
                   "WHERE ensemble_id = 'production' ORDER BY update_time DESC LIMIT 20")),
        Query("v_position_summary", lambda a: a.position_summary(),
              same("SELECT * FROM v_position_summary WHERE bot_id = 'alpha'")),
        Query("v_recent_closed_trades", lambda a: a.recent_closed_trades(),
              same("SELECT * FROM v_recent_closed_trades WHERE bot_id = 'alpha'")),
        Query("v_recent_orders", lambda a: a.recent_orders(),
              same("SELECT * FROM v_recent_orders WHERE bot_id = 'alpha'")),
        Query("v_order_fill_stats (one order)", lambda a: a.order_fill_stats(order_id="o00000042"),
              same("SELECT * FROM v_order_fill_stats WHERE order_id = 'o00000042'")),
        Query("v_equity_curve", lambda a: a.equity_curve(),
              same("SELECT * FROM v_equity_curve WHERE bot_id = 'alpha'")),
        Query("v_performance_summary", lambda a: a.performance_summary(),
              same("SELECT * FROM v_performance_summary WHERE bot_id = 'alpha'")),
        Query("v_current_ensemble", lambda a: a.current_ensemble(),
              same("SELECT * FROM v_current_ensemble")),
        Query("v_training_summary", lambda a: a.training_summary(),
              same("SELECT * FROM v_training_summary")),
        Query("v_hyperparameter_results", lambda a: a.hyperparameter_results(limit=10),
              same("SELECT * FROM v_hyperparameter_results LIMIT 10")),
        Query("v_paper_recent_orders", lambda a: a.orders_last_24h(),
              same("SELECT * FROM v_paper_recent_orders WHERE bot_id = 'alpha'")),
        Query("daily summary (7 days)", lambda a: a.daily_summary(days=7),
              {"sqlite": "SELECT * FROM v_paper_daily_summary WHERE bot_id = 'alpha' AND "
                         "trade_date >= date('now', '-7 days') ORDER BY trade_date DESC, ticker",
               "postgresql": "SELECT * FROM v_paper_daily_summary WHERE bot_id = 'alpha' AND "
                             "trade_date >= CURRENT_DATE - INTERVAL '7 days' "
                             "ORDER BY trade_date DESC, ticker"}),
        Query("active positions", lambda a: a.active_positions(),
              same("SELECT * FROM v_paper_active_positions WHERE bot_id = 'alpha' "
                   "ORDER BY total_pnl DESC")),
        Query("fill rate by symbol", lambda a: a.fill_rate_by_symbol(),
              {"sqlite": "SELECT DISTINCT ticker FROM orders WHERE bot_id = 'alpha'",
               "postgresql": "SELECT ticker, get_paper_fill_rate(ticker, 7, bot_id => 'alpha'), "
                             "get_paper_fill_rate(ticker, 30, bot_id => 'alpha') FROM "
                             "(SELECT DISTINCT ticker FROM orders WHERE bot_id = 'alpha') s"}),
        Query("performance over time (30 days)", lambda a: a.performance_over_time(),
              {"sqlite": "SELECT snapshot_date, cumulative_pnl, trades_today FROM "
                         "portfolio_snapshots WHERE bot_id = 'alpha' AND snapshot_time >= "
                         "strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 days') ORDER BY snapshot_time",
               "postgresql": "SELECT snapshot_date, cumulative_pnl, trades_today FROM "
                             "portfolio_snapshots WHERE bot_id = 'alpha' AND snapshot_time >= "
                             "NOW() - INTERVAL '30 days' ORDER BY snapshot_time"}),
        Query("slippage analysis (7 days)", lambda a: a.slippage_analysis(),
              {"sqlite": "SELECT ticker, AVG(slippage), MAX(slippage) FROM orders WHERE "
                         "status = 'filled' AND bot_id = 'alpha' AND filled_at >= "
                         "strftime('%Y-%m-%d %H:%M:%f', 'now', '-7 days') GROUP BY ticker",
               "postgresql": "SELECT ticker, AVG(slippage), PERCENTILE_CONT(0.5) WITHIN GROUP "
                             "(ORDER BY slippage), MAX(slippage) FROM orders WHERE status = "
                             "'filled' AND bot_id = 'alpha' AND filled_at >= NOW() - "
                             "INTERVAL '7 days' GROUP BY ticker"}),
        Query("total P&L (get_paper_total_pnl)", lambda a: a.total_pnl(),
              {"sqlite": "SELECT (SELECT SUM(unrealized_pnl) FROM positions WHERE bot_id = "
                         "'alpha') + (SELECT SUM(realized_pnl) FROM closed_positions WHERE "
                         "bot_id = 'alpha')",
               "postgresql": "SELECT get_paper_total_pnl('alpha')"}),
        Query("fill rate (get_paper_fill_rate)", lambda a: a.fill_rate("AAPL", days=7),
              {"sqlite": "SELECT COUNT(*), COUNT(CASE WHEN status = 'filled' THEN 1 END) FROM "
                         "orders WHERE ticker = 'AAPL' AND bot_id = 'alpha' AND submitted_at "
                         ">= strftime('%Y-%m-%d %H:%M:%f', 'now', '-7 days')",
               "postgresql": "SELECT get_paper_fill_rate('AAPL', 7, bot_id => 'alpha')"}),
    ]  # fmt: skip


# --- the run -------------------------------------------------------------------------------------


def raw_connection(database: Database) -> Any:
    if database.dialect_name == "postgresql":
        import psycopg2

        url = database.url
        return psycopg2.connect(
            host=url.host, port=url.port, user=url.username, password=url.password,
            dbname=url.database,
        )  # fmt: skip
    connection = sqlite3.connect(str(database.url.database))
    # the settings tradestore's engine uses, so the comparison is about the query path
    connection.execute("PRAGMA cache_size=-40000")
    connection.execute("PRAGMA temp_store=MEMORY")
    connection.execute("PRAGMA mmap_size=30000000000")
    return connection


#: Every analytics call against its raw SQL (issue 16): full size, and ``--small``, where the
#: queries take microseconds and the per-call fixed cost shows.
CALL_TARGET = {False: 1.5, True: 3.0}


def ratio_summary(backend: str, results: Sequence[Result], target: float) -> str:
    """One line: how many calls, their median and worst ratio, how many miss the target."""
    ratios = sorted(r.ratio for r in results)
    if not ratios:
        return f"analytics vs raw SQL on {backend}: no calls"
    worst = max(results, key=lambda r: r.ratio)
    missed = sum(ratio > target for ratio in ratios)
    return (
        f"analytics vs raw SQL on {backend}: {len(ratios)} calls, median ratio "
        f"{statistics.median(ratios):.2f}x, worst {worst.ratio:.2f}x ({worst.benchmark}), "
        f"{missed} above the target {target:.1f}x"
    )


def run_backend(
    backend: str, scale: Scale, *, show_plans: bool, repeat: int, target: float | None = None
) -> tuple[list[str], list[Result]]:
    print(f"-- {backend}: {scale}", flush=True)
    full_scans: list[str] = []
    with fresh_database(backend) as database:
        load(database, scale)
        raw = raw_connection(database)
        results: list[Result] = []
        try:
            for query in _queries():
                with database.session(readonly=True) as session:
                    analytics = Analytics(session, bot_id=BOT)
                    with capture(database) as statements:
                        query.ours(analytics)
                verdicts = []
                lines: list[str] = []
                for statement, parameters in statements:
                    verdict, accesses = explain(raw, backend, statement, parameters)
                    verdicts.append(verdict)
                    lines.extend(accesses)
                if backend == "postgresql":
                    raw.rollback()
                verdict = "FULL SCAN" if "FULL SCAN" in verdicts else (
                    "index-only" if "index-only" in verdicts else "index"
                )  # fmt: skip
                if verdict == "FULL SCAN":
                    full_scans.append(query.name)

                # Both sides run inside an open read transaction: what is timed is the query
                # path (statement, execution, rows to typed records), not session set-up.
                with database.session(readonly=True) as session:
                    analytics = Analytics(session, bot_id=BOT)
                    ours_s = median_seconds(lambda q=query, a=analytics: q.ours(a), repeat=repeat)
                cursor = raw.cursor()

                def hand_written(query: Query = query, cursor: Any = cursor) -> None:
                    cursor.execute(query.raw_sql[backend])
                    cursor.fetchall()

                raw_s = median_seconds(hand_written, repeat=repeat)
                cursor.close()
                if backend == "postgresql":
                    raw.rollback()
                result = Result(
                    f"{query.name} [{verdict}]", backend, ours_s, raw_s, "raw SQL", target
                )
                results.append(result)
                report([result])
                if show_plans:
                    for line in dict.fromkeys(lines):
                        print(f"      {line}", flush=True)
        finally:
            raw.close()
    return full_scans, results


def _insert(database: Database, rows: Rows) -> float:
    """Seconds to bulk-insert ``rows`` the way ``load`` does (one transaction)."""
    columns = ", ".join(rows.columns)
    started = time.perf_counter()
    with database.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        if database.dialect_name == "postgresql":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows.rows)
            buffer.seek(0)
            with driver.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY {rows.table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
                )
        else:
            placeholders = ", ".join("?" for _ in rows.columns)
            driver.executemany(
                f"INSERT INTO {rows.table} ({columns}) VALUES ({placeholders})", rows.rows
            )
    return time.perf_counter() - started


def write_cost(backend: str, orders: int) -> Result:
    """What revision 0004's indexes cost a bulk insert of orders (0004 vs 0003)."""
    timings = {}
    for revision in ("0003", "head"):
        with fresh_database(backend) as database:
            if revision != "head":
                database.downgrade(revision)
            tables = generate(Scale(orders=orders, fills=0, closed=0, positions=0, runs=0), backend)
            bots, order_rows = next(tables), next(tables)
            _insert(database, bots)
            timings[revision] = _insert(database, order_rows)
    return Result(
        f"insert {orders:,} orders (0004 indexes)",
        backend,
        timings["head"],
        timings["0003"],
        "same, 0003 indexes",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", action="store_true", help="1/100 of the rows")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-plans", action="store_true", help="do not print the plans")
    parser.add_argument(
        "--no-write-cost", action="store_true", help="skip the 0003-vs-0004 insert cost"
    )
    args = parser.parse_args(list(argv) if argv is not None else [])
    small = args.small or bool(os.environ.get("TRADESTORE_BENCH_SMALL"))
    backends: Iterable[str] = args.backend or (
        ("sqlite", "postgresql") if postgres_admin_url() else ("sqlite",)
    )
    backends = list(backends)
    summary = {}
    calls: dict[str, list[Result]] = {}
    target = CALL_TARGET[small]
    for backend in backends:
        summary[backend], calls[backend] = run_backend(
            backend,
            Scale.of(small),
            show_plans=not args.no_plans,
            repeat=args.repeat,
            target=target,
        )
    if not args.no_write_cost:
        for backend in backends:
            report([write_cost(backend, 10_000 if small else 200_000)])
    size = "small" if small else "full"
    for backend, names in summary.items():
        note("indexes", backend, f"full scans on {backend}: {', '.join(names) or 'none'}")
        note("indexes", backend, f"{ratio_summary(backend, calls[backend], target)} ({size})")
    everything = [result for results in calls.values() for result in results]
    if len(calls) > 1:
        note("indexes", "all", f"{ratio_summary('all backends', everything, target)} ({size})")


if __name__ == "__main__":
    main(sys.argv[1:])
