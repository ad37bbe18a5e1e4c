"""Every "Common Queries" statement of the source schema (docs/lineage.md) against the
analytics method that answers it.

Each statement is run as its source wrote it, adapted only for our table and column names
and for what a dialect cannot say:

* ``bot_id`` scoping is added (``{where}`` / ``{and_bot}``): our tables hold several bots;
* time: the sources' ``NOW()`` / ``CURRENT_DATE`` become the bound ``:now`` / ``:today`` the
  method is given, so the two never straddle a window edge; SQLite gets its date functions
  where the source used PostgreSQL's (or the reverse), and a window-function median where
  the paper-trading source used ``PERCENTILE_CONT``, which SQLite lacks;
* paper-trading names: ``symbol`` -> ``ticker``, ``*_usdt`` / ``slippage_pct`` -> our money columns,
  ``'FILLED'`` -> ``'filled'``, ``paper_*`` tables -> ours.

Raw values are read the way tradestore reads them (money through ``fit_aggregate``, see
``tradestore.analytics._sql.DerivedMoney``), then compared: same rows, same values, same order
wherever the source's ORDER BY determines one. Values are compared with ``==``, except a float
that the database averaged, which may differ in its last bit when the source's plan and ours
feed the rows to AVG in a different order; those must agree to 1e-15 relative.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from readside_data import Dataset
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.db.types import UTCDateTime, from_db_number
from tradestore.domain.money import fit, fit_aggregate

BOTS = ["alpha", "beta", "gamma", None]


def run(session: Session, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    used = set(re.findall(r"(?<!:):(\w+)", sql))
    statement = text(sql)
    if "now" in used:
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    values = {name: value for name, value in params.items() if name in used}
    return [tuple(row) for row in session.execute(statement, values)]


def same_rows(theirs: Sequence[tuple[Any, ...]], ours: Sequence[tuple[Any, ...]]) -> bool:
    """Equal, floats to 1e-15 relative (a database average's last bit depends on row order)."""
    if len(theirs) != len(ours):
        return False
    for left, right in zip(theirs, ours, strict=True):
        for a, b in zip(left, right, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-15):
                    return False
            elif a != b:
                return False
    return True


def scoped(sql: str, bot_id: str | None, column: str = "bot_id") -> str:
    return sql.format(
        where=f"WHERE {column} = :bot_id" if bot_id else "",
        and_bot=f"AND {column} = :bot_id" if bot_id else "",
    )


class Read:
    """Convert a raw SQL value the way tradestore reads that kind of column."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def money(self, value: Any) -> Decimal | None:
        amount = from_db_number(value)
        return None if amount is None else fit_aggregate(amount, self.dialect)

    @staticmethod
    def ratio(value: Any) -> float | None:
        return None if value is None else float(value)

    @staticmethod
    def day(value: Any) -> dt.date:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    @staticmethod
    def same(value: Any) -> Any:
        return value

    @staticmethod
    def text(value: Any) -> Any:
        return None if value is None else str(value)


def convert(
    rows: Sequence[tuple[Any, ...]], *converters: Callable[[Any], Any]
) -> list[tuple[Any, ...]]:
    return [tuple(c(v) for c, v in zip(converters, row, strict=True)) for row in rows]


def project(rows: Sequence[Any], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(_plain(getattr(row, f)) for f in fields) for row in rows]


def _plain(value: Any) -> Any:
    # Enum members compare equal to their values, but keep the tuples printable as text.
    return value.value if hasattr(value, "value") and isinstance(value, str) else value


@pytest.fixture
def read(db: Database) -> Read:
    return Read(db.dialect_name)


# --- the source statements, adapted (shared with test_repository_written) ------------------

TOTAL_UNREALIZED_PNL_SQL = "SELECT SUM(unrealized_pnl) as total_pnl FROM positions {where}"
WIN_RATE_SQL = """
        SELECT
            COUNT(CASE WHEN realized_pnl > 0 THEN 1 END) * 1.0 / COUNT(*) as win_rate
        FROM closed_positions {where}
        """
HOLDING_PERIOD_SQL = """
        SELECT exit_reason, AVG(holding_period_hours) as avg_hours
        FROM closed_positions {where}
        GROUP BY exit_reason
        """
BEST_PERFORMERS_SQL = """
        SELECT ticker, realized_pnl, realized_pnl_pct
        FROM closed_positions {where}
        ORDER BY realized_pnl DESC
        LIMIT 10
        """
CURRENT_RISK_SQL = """
        SELECT sharpe_ratio, max_drawdown_pct, current_drawdown_pct
        FROM performance_metrics
        WHERE bot_id = :bot_id AND strategy = 'all'
        ORDER BY metric_date DESC LIMIT 1
    """
SLIPPAGE_BY_ORDER_TYPE_SQL = """
        SELECT order_type, AVG(slippage) as avg_slippage
        FROM orders
        WHERE slippage IS NOT NULL {and_bot}
        GROUP BY order_type
        """
COMPARE_ALGORITHMS_SQL = """
        SELECT
            algorithm,
            COUNT(*) as runs,
            AVG(sharpe_ratio) as avg_sharpe,
            MAX(sharpe_ratio) as best_sharpe
        FROM training_runs tr
        JOIN agent_performance ap ON tr.run_id = ap.run_id
        WHERE tr.status = 'completed' AND ap.evaluation_type = 'validation'
        GROUP BY algorithm
        ORDER BY avg_sharpe DESC
    """
BEST_HYPERPARAMETERS_SQL = """
        SELECT learning_rate, batch_size, n_steps, AVG(sharpe_ratio) as avg_sharpe
        FROM hyperparameters hp
        JOIN agent_performance ap ON hp.run_id = ap.run_id
        WHERE hp.algorithm = 'PPO' AND ap.evaluation_type = 'validation'
        GROUP BY learning_rate, batch_size, n_steps
        ORDER BY avg_sharpe DESC
        LIMIT 5
    """
ENSEMBLE_WEIGHT_HISTORY_SQL = """
        SELECT update_date, algorithm, weight, sharpe_ratio
        FROM ensemble_weights
        WHERE ensemble_id = 'production'
        ORDER BY update_time DESC
        LIMIT 20
    """
BEST_AGENTS_SQL = "SELECT * FROM v_agent_leaderboard LIMIT 10"


def daily_fill_rate_sql(dialect: str, *, bot_id: str | None, days: int | None) -> str:
    """The daily fill rate query; ``days`` adds the 7-day window (bound ``:today``)."""
    day = {
        "sqlite": "DATE(submitted_at)",
        "postgresql": "CAST(submitted_at AT TIME ZONE 'UTC' AS DATE)",
    }[dialect]
    window = {
        "sqlite": "submitted_at >= date(:today, '-7 days')",
        "postgresql": "submitted_at >= CAST(:today AS DATE) - 7",
    }[dialect]
    conditions = [c for c in ("bot_id = :bot_id" if bot_id else "", window if days else "") if c]
    return f"""
        SELECT
            {day} as date,
            COUNT(*) as orders,
            COUNT(CASE WHEN status = 'filled' THEN 1 END) as filled,
            COUNT(CASE WHEN status = 'filled' THEN 1 END) * 1.0 / COUNT(*) as fill_rate
        FROM orders
        {"WHERE " + " AND ".join(conditions) if conditions else ""}
        GROUP BY date
        ORDER BY date DESC
    """


# --- positions -----------------------------------------------------------------------------


@pytest.mark.parametrize("bot_id", BOTS)
def test_total_unrealized_pnl(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    with db.session(readonly=True) as session:
        theirs = run(
            session,
            scoped(TOTAL_UNREALIZED_PNL_SQL, bot_id),
            bot_id=bot_id,
        )
        ours = Analytics(session, bot_id=bot_id).total_unrealized_pnl()
    assert (read.money(theirs[0][0]) or Decimal(0)) == ours
    expected = sum((p["unrealized_pnl"] for p in seeded.of(seeded.positions, bot_id)), Decimal(0))
    assert ours == fit(expected, db.dialect_name)


@pytest.mark.parametrize("bot_id", BOTS)
def test_win_rate(db: Database, seeded: Dataset, bot_id: str | None):
    sql = scoped(
        WIN_RATE_SQL,
        bot_id,
    )
    with db.session(readonly=True) as session:
        ours = Analytics(session, bot_id=bot_id).win_rate()
    closed = seeded.of(seeded.closed, bot_id)
    if not closed:
        # The source statement divides by zero: NULL on SQLite, an error on PostgreSQL.
        assert ours is None
        return
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id)
    assert Read.ratio(theirs[0][0]) == ours
    assert ours == sum(1 for c in closed if c["realized_pnl"] > 0) / len(closed)


@pytest.mark.parametrize("bot_id", BOTS)
def test_holding_period_by_exit_reason(
    db: Database, seeded: Dataset, read: Read, bot_id: str | None
):
    sql = scoped(
        HOLDING_PERIOD_SQL,
        bot_id,
    )
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id)
        ours = Analytics(session, bot_id=bot_id).holding_period_by_exit_reason()
    assert same_rows(sorted(theirs), project(ours, "exit_reason", "avg_hours"))
    closed = seeded.of(seeded.closed, bot_id)
    assert [r.trades for r in ours] == [
        sum(1 for c in closed if c["exit_reason"] == r.exit_reason) for r in ours
    ]
    for row in ours:
        hours = [c["holding_period_hours"] for c in closed if c["exit_reason"] == row.exit_reason]
        assert row.avg_hours == pytest.approx(statistics.fmean(hours), rel=1e-12)


@pytest.mark.parametrize("bot_id", BOTS)
def test_best_performers(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    sql = scoped(
        BEST_PERFORMERS_SQL,
        bot_id,
    )
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id)
        ours = Analytics(session, bot_id=bot_id).best_performers()
    assert convert(theirs, Read.same, read.money, Read.same) == project(
        ours, "ticker", "realized_pnl", "realized_pnl_pct"
    )
    expected = sorted(seeded.of(seeded.closed, bot_id), key=lambda c: c["realized_pnl"])[::-1]
    assert [r.realized_pnl for r in ours] == [c["realized_pnl"] for c in expected[:10]]


# --- trading -------------------------------------------------------------------------------


@pytest.mark.parametrize("bot_id", ["alpha", "beta", "gamma"])
def test_current_sharpe_and_drawdown(db: Database, seeded: Dataset, bot_id: str):
    sql = CURRENT_RISK_SQL
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id)
        ours = Analytics(session, bot_id=bot_id).current_risk()
    assert theirs == project(ours, "sharpe_ratio", "max_drawdown_pct", "current_drawdown_pct")
    assert [r.metric_date for r in ours] == ([seeded.now.date()] if bot_id != "gamma" else [])


def test_current_sharpe_and_drawdown_of_every_bot(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        everyone = Analytics(session).current_risk()
        per_bot = [Analytics(session, bot_id=b).current_risk().first() for b in ("alpha", "beta")]
    assert list(everyone) == per_bot


@pytest.mark.parametrize("bot_id", BOTS)
@pytest.mark.parametrize("days", [None, 7])
def test_daily_fill_rate(db: Database, seeded: Dataset, bot_id: str | None, days: int | None):
    sql = daily_fill_rate_sql(db.dialect_name, bot_id=bot_id, days=days)
    with db.session(readonly=True) as session:
        if db.dialect_name == "postgresql":
            # A timestamptz compares with a date at midnight in the session's time zone:
            # make that UTC, as the method's window is.
            session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        theirs = run(session, sql, bot_id=bot_id, today=seeded.now.date().isoformat())
        ours = Analytics(session, bot_id=bot_id).daily_fill_rate(days=days, now=seeded.now)
    assert convert(theirs, Read.day, Read.same, Read.same, Read.ratio) == project(
        ours, "date", "orders", "filled", "fill_rate"
    )
    assert sum(r.orders for r in ours) == sum(
        1
        for o in seeded.of(seeded.orders, bot_id)
        if days is None or o["submitted_at"].date() >= seeded.now.date() - dt.timedelta(days)
    )


@pytest.mark.parametrize("bot_id", BOTS)
def test_average_slippage_by_order_type(
    db: Database, seeded: Dataset, read: Read, bot_id: str | None
):
    sql = scoped(
        SLIPPAGE_BY_ORDER_TYPE_SQL,
        bot_id,
    )
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id)
        ours = Analytics(session, bot_id=bot_id).slippage_by_order_type()
    assert sorted(convert(theirs, Read.same, read.money)) == project(
        ours, "order_type", "avg_slippage"
    )
    for row in ours:
        values = [
            o["slippage"]
            for o in seeded.of(seeded.orders, bot_id)
            if o["order_type"] == row.order_type and o["slippage"] is not None
        ]
        assert row.orders == len(values)
        assert abs(row.avg_slippage - sum(values) / len(values)) < Decimal("1e-12")


# --- ML training ---------------------------------------------------------------------------


def test_best_performing_agents(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        theirs = session.execute(text(BEST_AGENTS_SQL)).mappings()
        their_rows = [dict(row) for row in theirs]
        # the view ranks every evaluation; the default leaderboard, each run's latest
        ours = Analytics(session).agent_leaderboard(
            limit=10, evaluation_type=None, latest_only=False
        )
    assert len(ours) == 10
    assert [r["performance_id"] for r in their_rows] == [r.performance_id for r in ours]
    assert [r["sharpe_ratio"] for r in their_rows] == [r.sharpe_ratio for r in ours]
    completed = {r["run_id"] for r in seeded.runs if r["status"] == "completed"}
    expected = sorted(
        (e["sharpe_ratio"] for e in seeded.evaluations if e["run_id"] in completed),
        reverse=True,
    )
    assert [r.sharpe_ratio for r in ours] == expected[:10]


def test_compare_algorithms(db: Database, seeded: Dataset):
    sql = COMPARE_ALGORITHMS_SQL
    with db.session(readonly=True) as session:
        theirs = run(session, sql)
        ours = Analytics(session).algorithm_comparison()
    assert same_rows(theirs, project(ours, "algorithm", "evaluations", "avg_sharpe", "best_sharpe"))
    assert [r.algorithm for r in ours] == ["SAC", "PPO", "A2C"]  # 1.70 > 1.698 > 0.88
    assert ours[1].evaluations == 5  # four completed PPO runs, one validated twice


def test_best_hyperparameters_for_ppo(db: Database, seeded: Dataset):
    sql = BEST_HYPERPARAMETERS_SQL
    with db.session(readonly=True) as session:
        theirs = run(session, sql)
        ours = Analytics(session).best_hyperparameters()
    assert same_rows(theirs, project(ours, "learning_rate", "batch_size", "n_steps", "average"))
    group = next(r for r in ours if (r.learning_rate, r.batch_size) == (3e-4, 64))
    assert group.evaluations == 3
    assert group.average == pytest.approx((1.82 + 1.77 + 1.64) / 3, rel=1e-12)


def test_ensemble_weight_history(db: Database, seeded: Dataset, read: Read):
    sql = ENSEMBLE_WEIGHT_HISTORY_SQL
    with db.session(readonly=True) as session:
        theirs = run(session, sql)
        ours = Analytics(session).ensemble_weight_history()
    mine = project(ours, "update_date", "algorithm", "weight", "sharpe_ratio")
    # Rows of one version share update_time, so the source query leaves their order open.
    assert sorted(convert(theirs, Read.day, Read.same, Read.same, Read.same)) == sorted(mine)
    assert [r.update_time for r in ours] == sorted((r.update_time for r in ours), reverse=True)
    assert [r.version for r in ours[:3]] == [4, 4, 4]
    assert all(r.is_active for r in ours[:3])


# --- paper trading -------------------------------------------------------------------------


@pytest.mark.parametrize("bot_id", BOTS)
def test_daily_summary(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    since = {
        "postgresql": "CAST(:today AS DATE) - INTERVAL '7 days'",
        "sqlite": "date(:today, '-7 days')",
    }[db.dialect_name]
    sql = scoped(
        f"""
        SELECT * FROM v_paper_daily_summary
        WHERE trade_date >= {since} {{and_bot}}
        ORDER BY trade_date DESC, ticker
        """,
        bot_id,
    )
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id, today=seeded.now.date().isoformat())
        ours = Analytics(session, bot_id=bot_id).daily_summary(days=7, now=seeded.now)
    m = read.money
    their_rows = convert(
        theirs, Read.same, Read.day, Read.same, int, int, int, int, int, Read.ratio,
        m, m, m, m,
    )  # fmt: skip
    fields = (
        "bot_id", "trade_date", "ticker", "total_orders", "filled_orders",
        "partially_filled_orders", "cancelled_orders", "rejected_orders", "fill_rate",
        "filled_quantity", "filled_notional", "avg_slippage", "total_commission",
    )  # fmt: skip
    mine = project(ours, *fields)
    if bot_id is None:  # the source orders by day and ticker only: bots tie
        their_rows, mine = sorted(their_rows, key=repr), sorted(mine, key=repr)
    assert their_rows == mine
    # independently: counts per (bot, day, ticker) from what was written
    window = seeded.now.date() - dt.timedelta(days=7)
    orders = [o for o in seeded.of(seeded.orders, bot_id) if o["submitted_at"].date() >= window]
    assert sum(r.total_orders for r in ours) == len(orders)
    assert sum(r.filled_orders for r in ours) == sum(o["status"] == "filled" for o in orders)
    assert sum(r.total_commission for r in ours) == sum(o["commission"] for o in orders)


@pytest.mark.parametrize("bot_id", BOTS)
def test_active_positions(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    sql = scoped("SELECT * FROM v_paper_active_positions {where} ORDER BY total_pnl DESC", bot_id)
    with db.session(readonly=True) as session:
        theirs = session.execute(text(sql), {"bot_id": bot_id}).mappings().all()
        ours = Analytics(session, bot_id=bot_id).active_positions()
    assert [r["position_id"] for r in theirs] == [r.position_id for r in ours]
    assert [read.money(r["total_pnl"]) for r in theirs] == [r.total_pnl for r in ours]
    assert [read.money(r["realized_pnl"]) for r in theirs] == [r.realized_pnl for r in ours]
    assert {r.position_id for r in ours} == {
        p["position_id"] for p in seeded.of(seeded.positions, bot_id)
    }


def _fill_rate_sql(dialect: str, bot_id: str | None) -> str:
    if dialect == "postgresql":
        scope = ", bot_id => :bot_id" if bot_id else ""
        return scoped(
            f"""
            SELECT
                ticker,
                get_paper_fill_rate(ticker, 7{scope}) as fill_rate_7d,
                get_paper_fill_rate(ticker, 30{scope}) as fill_rate_30d
            FROM (SELECT DISTINCT ticker FROM orders {{where}}) symbols
            ORDER BY fill_rate_7d DESC
            """,
            bot_id,
        )
    # SQLite has no stored functions: the function's body, inlined per symbol.
    rate = """(SELECT CAST(COUNT(CASE WHEN o.status = 'filled' THEN 1 END) AS REAL)
                      / NULLIF(COUNT(*), 0)
               FROM orders o
               WHERE o.ticker = symbols.ticker
                 AND o.submitted_at >= strftime('%Y-%m-%d %H:%M:%f', :now, '-{days} days')
                 {and_o_bot})"""
    and_o_bot = "AND o.bot_id = :bot_id" if bot_id else ""
    return scoped(
        f"""
        SELECT
            ticker,
            {rate.format(days=7, and_o_bot=and_o_bot)} as fill_rate_7d,
            {rate.format(days=30, and_o_bot=and_o_bot)} as fill_rate_30d
        FROM (SELECT DISTINCT ticker FROM orders {{where}}) symbols
        ORDER BY fill_rate_7d DESC
        """,
        bot_id,
    )


@pytest.mark.parametrize("bot_id", BOTS)
def test_fill_rate_by_symbol(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        theirs = run(
            session, _fill_rate_sql(db.dialect_name, bot_id), bot_id=bot_id, now=seeded.now
        )
        ours = Analytics(session, bot_id=bot_id).fill_rate_by_symbol(now=seeded.now)
    mine = project(ours, "ticker", "fill_rate_7d", "fill_rate_30d")
    # The source's ORDER BY puts NULL first on PostgreSQL and last on SQLite: compare by ticker.
    assert sorted(theirs, key=repr) == sorted(mine, key=repr)
    rates = [r.fill_rate_7d for r in ours if r.fill_rate_7d is not None]
    assert rates == sorted(rates, reverse=True)
    if bot_id != "gamma":
        assert ("MSFT", None, None) in mine  # ordered only 35 days ago
    for row in ours:
        orders = [
            o
            for o in seeded.of(seeded.orders, bot_id)
            if o["ticker"] == row.ticker and o["submitted_at"] >= seeded.now - dt.timedelta(7)
        ]
        expected = sum(o["status"] == "filled" for o in orders) / len(orders) if orders else None
        assert row.fill_rate_7d == expected


@pytest.mark.parametrize("bot_id", BOTS)
def test_performance_over_time(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    since = {
        "postgresql": "CAST(:now AS TIMESTAMPTZ) - INTERVAL '30 days'",
        "sqlite": "strftime('%Y-%m-%d %H:%M:%f', :now, '-30 days')",
    }[db.dialect_name]
    # Given now=, the call answers as of that instant: today's snapshot, stamped 21:05 UTC,
    # is after it for most of the day.
    until = {
        "postgresql": "CAST(:now AS TIMESTAMPTZ)",
        "sqlite": "strftime('%Y-%m-%d %H:%M:%f', :now)",
    }[db.dialect_name]
    sql = scoped(
        f"""
        SELECT
            snapshot_date as date,
            cumulative_pnl as total_pnl,
            wins_today * 1.0 / NULLIF(wins_today + losses_today, 0) as win_rate,
            trades_today as total_trades
        FROM portfolio_snapshots
        WHERE snapshot_time >= {since} AND snapshot_time <= {until} {{and_bot}}
        ORDER BY snapshot_time
        """,
        bot_id,
    )
    with db.session(readonly=True) as session:
        theirs = run(session, sql, bot_id=bot_id, now=seeded.now)
        ours = Analytics(session, bot_id=bot_id).performance_over_time(days=30, now=seeded.now)
    their_rows = convert(theirs, Read.day, read.money, Read.ratio, Read.same)
    mine = project(ours, "date", "total_pnl", "win_rate", "total_trades")
    if bot_id is None:  # two bots snapshot at the same time
        their_rows, mine = sorted(their_rows, key=repr), sorted(mine, key=repr)
    assert their_rows == mine
    expected = [
        s
        for s in seeded.of(seeded.snapshots, bot_id)
        if seeded.now - dt.timedelta(days=30) <= s["snapshot_time"] <= seeded.now
    ]
    assert len(ours) == len(expected)


def _slippage_sql(dialect: str, bot_id: str | None) -> str:
    if dialect == "postgresql":
        return scoped(
            """
            SELECT
                ticker,
                AVG(slippage) as avg_slippage,
                PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY slippage) as median_slippage,
                MAX(slippage) as max_slippage
            FROM orders
            WHERE status = 'filled'
              AND filled_at >= CAST(:now AS TIMESTAMPTZ) - INTERVAL '7 days' {and_bot}
            GROUP BY ticker
            ORDER BY avg_slippage DESC
            """,
            bot_id,
        )
    # No PERCENTILE_CONT in SQLite: the median as the mean of the middle one or two values.
    return scoped(
        """
        WITH filled AS (
            SELECT ticker, slippage,
                   ROW_NUMBER() OVER (PARTITION BY ticker
                                      ORDER BY slippage IS NULL, slippage) AS position,
                   COUNT(slippage) OVER (PARTITION BY ticker) AS n
            FROM orders
            WHERE status = 'filled'
              AND filled_at >= strftime('%Y-%m-%d %H:%M:%f', :now, '-7 days') {and_bot}
        )
        SELECT
            ticker,
            AVG(slippage) as avg_slippage,
            AVG(CASE WHEN slippage IS NOT NULL AND position IN ((n + 1) / 2, (n + 2) / 2)
                     THEN slippage END) as median_slippage,
            MAX(slippage) as max_slippage
        FROM filled
        GROUP BY ticker
        ORDER BY avg_slippage DESC
        """,
        bot_id,
    )


@pytest.mark.parametrize("bot_id", BOTS)
def test_slippage_analysis(db: Database, seeded: Dataset, read: Read, bot_id: str | None):
    with db.session(readonly=True) as session:
        theirs = run(session, _slippage_sql(db.dialect_name, bot_id), bot_id=bot_id, now=seeded.now)
        ours = Analytics(session, bot_id=bot_id).slippage_analysis(days=7, now=seeded.now)
    m = read.money
    their_rows = convert(theirs, Read.same, m, m, m)
    mine = project(ours, "ticker", "avg_slippage", "median_slippage", "max_slippage")
    # The source's ORDER BY puts a ticker without any slippage (NULL average) first on
    # PostgreSQL and last on SQLite; ours puts it last on both.
    nulls_last = sorted(their_rows, key=lambda r: r[1] is None)
    assert nulls_last == mine
    unknown = [r.avg_slippage is None for r in ours]
    assert unknown == sorted(unknown)
    assert any(unknown) == (bot_id != "gamma")  # the data set has such a ticker per bot
    cutoff = seeded.now - dt.timedelta(days=7)
    for row in ours:
        values = [
            o["slippage"]
            for o in seeded.of(seeded.orders, bot_id)
            if o["ticker"] == row.ticker
            and o["status"] == "filled"
            and o["filled_at"] >= cutoff
            and o["slippage"] is not None
        ]
        assert row.orders == len(values)
        if not values:
            assert (row.avg_slippage, row.median_slippage, row.max_slippage) == (None,) * 3
            continue
        assert row.max_slippage == max(values)
        assert row.median_slippage is not None
        assert abs(row.median_slippage - statistics.median(values)) < Decimal("1e-12")
