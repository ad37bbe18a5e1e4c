"""Test data for the operations, written with Core inserts through the models.

Deliberately not through the repositories: the operations must work on any data the schema
admits, and the tests must not depend on repository code other helpers are writing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from tradestore import Database
from tradestore.db.executor import Executor
from tradestore.domain.trade_totals import TradeTotals
from tradestore.models import (
    Base,
    Bot,
    ClosedPosition,
    EnsembleWeight,
    Fill,
    IntradaySnapshot,
    IntradaySnapshotSymbol,
    Order,
    PerformanceMetric,
    PeriodMetric,
    PortfolioSnapshot,
    Position,
    TrainingEpisode,
    TrainingRun,
)
from tradestore.repositories import position_totals

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
RETENTION = dt.timedelta(days=90)
CUTOFF = NOW - RETENTION
OLD = NOW - dt.timedelta(days=200)
RECENT = NOW - dt.timedelta(days=10)
WRITER = Path(__file__).with_name("ops_writer.py")


def add_bot(conn: Connection, bot_id: str) -> None:
    conn.execute(insert(Bot), {"bot_id": bot_id, "name": bot_id})


def add_position(conn: Connection, position_id: str, bot_id: str, opened: dt.datetime) -> None:
    conn.execute(
        insert(Position),
        {
            "position_id": position_id,
            "bot_id": bot_id,
            "ticker": "AAPL",
            "side": "long",
            "quantity": Decimal("10"),
            "entry_price": Decimal("150.25"),
            "current_price": Decimal("151.5"),
            "opened_at": opened,
            "updated_at": opened,
        },
    )


def add_order(
    conn: Connection,
    order_id: str,
    *,
    bot_id: str = "alpha",
    status: str,
    updated: dt.datetime,
    position_id: str | None = None,
    fills: int = 0,
    fill_position_id: str | None = None,
) -> None:
    quantity = Decimal("10")
    filled = quantity if status == "filled" else (Decimal("4") if fills else Decimal(0))
    conn.execute(
        insert(Order),
        {
            "order_id": order_id,
            "bot_id": bot_id,
            "client_order_id": f"c-{order_id}",
            "ticker": "AAPL",
            "order_type": "market",
            "side": "buy",
            "quantity": quantity,
            "status": status,
            "submitted_at": updated - dt.timedelta(minutes=5),
            "updated_at": updated,
            "filled_quantity": filled,
            "position_id": position_id,
        },
    )
    for number in range(fills):
        conn.execute(
            insert(Fill),
            {
                "bot_id": bot_id,
                "fill_id": f"{order_id}-f{number}",
                "order_id": order_id,
                "ticker": "AAPL",
                "side": "buy",
                "quantity": filled / fills,
                "price": Decimal("150.125"),
                "filled_at": updated - dt.timedelta(minutes=1),
                "position_id": fill_position_id,
            },
        )


def add_closed(
    conn: Connection, position_id: str, *, bot_id: str = "alpha", closed: dt.datetime
) -> None:
    conn.execute(
        insert(ClosedPosition),
        {
            "position_id": position_id,
            "bot_id": bot_id,
            "ticker": "MSFT",
            "side": "long",
            "quantity": Decimal("5"),
            "entry_price": Decimal("300"),
            "exit_price": Decimal("310.5"),
            "realized_pnl": Decimal("52.5"),
            "realized_pnl_pct": 3.5,
            "opened_at": closed - dt.timedelta(days=2),
            "closed_at": closed,
            "updated_at": closed,
            "holding_period_hours": 48.0,
            "exit_reason": "take_profit",
        },
    )
    # What positions.close does in the same transaction: the running totals follow the row.
    position_totals.apply(
        Executor.of(conn),
        {(bot_id, "MSFT", None): TradeTotals.of_trade(Decimal("52.5"), Decimal(0))},
    )


def add_run(
    conn: Connection,
    run_id: str,
    *,
    status: str,
    ended: dt.datetime | None,
    episodes: int,
) -> None:
    start = (ended or OLD) - dt.timedelta(hours=3)
    conn.execute(
        insert(TrainingRun),
        {
            "run_id": run_id,
            "algorithm": "PPO",
            "model_name": f"model-{run_id}",
            "start_time": start,
            "end_time": ended,
            "status": status,
        },
    )
    if episodes:
        conn.execute(
            insert(TrainingEpisode),
            [
                {
                    "run_id": run_id,
                    "episode_number": n,
                    "episode_reward": float(n) * 1.5,
                    "episode_length": 100,
                    "episode_time": start + dt.timedelta(minutes=n),
                }
                for n in range(episodes)
            ],
        )


def add_weight(conn: Connection, run_id: str, *, active: bool, version: int) -> None:
    conn.execute(
        insert(EnsembleWeight),
        {
            "ensemble_id": "main",
            "version": version,
            "update_time": OLD,
            "update_date": OLD.date(),
            "run_id": run_id,
            "algorithm": "PPO",
            "weight": 0.5,
            "is_active": active,
            "weighting_method": "equal",
        },
    )


def add_snapshot(conn: Connection, bot_id: str, at: dt.datetime) -> None:
    conn.execute(
        insert(PortfolioSnapshot),
        {
            "bot_id": bot_id,
            "snapshot_date": at.date(),
            "snapshot_time": at,
            "total_equity": Decimal("100000.5"),
            "cash_balance": Decimal("50000.25"),
        },
    )


def add_metric(conn: Connection, bot_id: str, day: dt.date, strategy: str = "all") -> None:
    conn.execute(
        insert(PerformanceMetric),
        {"bot_id": bot_id, "metric_date": day, "strategy": strategy, "sharpe_ratio": 1.25},
    )


def add_intraday(conn: Connection, bot_id: str, at: dt.datetime, symbols: int = 2) -> None:
    """An hourly snapshot at ``at`` with ``symbols`` per-symbol lines."""
    [snapshot_id] = conn.execute(
        insert(IntradaySnapshot).returning(IntradaySnapshot.snapshot_id),
        {
            "bot_id": bot_id,
            "snapshot_kind": "hourly",
            "snapshot_time": at,
            "total_equity": Decimal("100000.5"),
            "cash_balance": Decimal("50000.25"),
        },
    ).scalars()
    for n in range(symbols):
        conn.execute(
            insert(IntradaySnapshotSymbol),
            {"snapshot_id": snapshot_id, "ticker": f"SYM{n}", "realized_pnl": Decimal("1.5")},
        )


def add_period_metric(
    conn: Connection, bot_id: str, period: str, start: dt.date, as_of: dt.date
) -> None:
    conn.execute(
        insert(PeriodMetric),
        {
            "bot_id": bot_id,
            "period": period,
            "period_start": start,
            "as_of": as_of,
            "strategy": "all",
            "total_trades": 3,
            "winning_trades": 2,
            "losing_trades": 1,
            "net_pnl": Decimal("12.5"),
        },
    )


@dataclass
class RetentionScenario:
    """What a prune at ``CUTOFF`` must delete, and the keys it must keep."""

    expected: dict[str, int]
    kept_orders: set[str] = field(default_factory=set)
    kept_fills: set[str] = field(default_factory=set)
    kept_closed: set[str] = field(default_factory=set)
    kept_episode_runs: dict[str, int] = field(default_factory=dict)


def build_retention_scenario(database: Database) -> RetentionScenario:
    """Old and recent rows of every prunable table, plus every protected case."""
    with database.engine.begin() as conn:
        add_bot(conn, "alpha")
        add_bot(conn, "beta")
        add_position(conn, "pos-open", "alpha", OLD)
        # orders: 4 terminal and old (one with 2 fills) go; the rest stay
        add_order(conn, "o-filled-old", status="filled", updated=OLD, fills=2)
        add_order(conn, "o-cancelled-old", bot_id="beta", status="cancelled", updated=OLD)
        add_order(conn, "o-rejected-old", status="rejected", updated=OLD)
        add_order(conn, "o-expired-old", status="expired", updated=OLD)
        add_order(conn, "o-pending-old", status="pending", updated=OLD)
        add_order(conn, "o-partial-old", status="partially_filled", updated=OLD, fills=1)
        add_order(conn, "o-filled-recent", status="filled", updated=RECENT, fills=1)
        add_order(
            conn, "o-open-position", status="filled", updated=OLD, position_id="pos-open", fills=1
        )
        add_order(
            conn,
            "o-fill-open-position",
            status="filled",
            updated=OLD,
            fills=1,
            fill_position_id="pos-open",
        )
        add_order(conn, "o-at-cutoff", status="cancelled", updated=CUTOFF)
        # closed positions: 2 old go; recent and the closed part of an open position stay
        add_closed(conn, "pos-closed-1", closed=OLD)
        add_closed(conn, "pos-closed-2", bot_id="beta", closed=OLD)
        add_closed(conn, "pos-closed-recent", closed=RECENT)
        add_closed(conn, "pos-open", closed=OLD)
        # training: episodes of finished, old runs outside an active ensemble go
        add_run(conn, "run-done-old", status="completed", ended=OLD, episodes=5)
        add_run(conn, "run-running", status="running", ended=None, episodes=3)
        add_run(conn, "run-done-recent", status="completed", ended=RECENT, episodes=2)
        add_run(conn, "run-in-ensemble", status="completed", ended=OLD, episodes=4)
        add_run(conn, "run-failed-old", status="failed", ended=OLD, episodes=2)
        add_weight(conn, "run-in-ensemble", active=True, version=2)
        add_weight(conn, "run-failed-old", active=False, version=1)
        # snapshots: 3 old of alpha and 1 of beta go, 2 recent stay
        for days in (200, 150, 91):
            add_snapshot(conn, "alpha", NOW - dt.timedelta(days=days))
        add_snapshot(conn, "beta", OLD)
        add_snapshot(conn, "alpha", RECENT)
        add_snapshot(conn, "alpha", CUTOFF)
        # metrics: days entirely before the cut-off go
        add_metric(conn, "alpha", OLD.date(), "all")
        add_metric(conn, "alpha", OLD.date(), "momentum")
        add_metric(conn, "beta", OLD.date(), "all")
        add_metric(conn, "alpha", CUTOFF.date() - dt.timedelta(days=1))
        add_metric(conn, "alpha", CUTOFF.date())
        add_metric(conn, "alpha", RECENT.date())
        # intraday snapshots (with their per-symbol lines): the 2 old ones go
        add_intraday(conn, "alpha", OLD)
        add_intraday(conn, "beta", NOW - dt.timedelta(days=91), symbols=1)
        add_intraday(conn, "alpha", CUTOFF)
        add_intraday(conn, "alpha", RECENT, symbols=0)
        # period metrics, aged by as_of: a period that ended before the cut-off's day goes,
        # one running into it (or beyond) stays, whenever it started; all-time rows stay
        cutoff_day = CUTOFF.date()
        add_period_metric(conn, "alpha", "daily", OLD.date(), OLD.date())
        add_period_metric(conn, "beta", "all_time", dt.date(1, 1, 1), OLD.date())
        add_period_metric(
            conn, "alpha", "monthly", cutoff_day.replace(day=1), cutoff_day - dt.timedelta(days=1)
        )
        add_period_metric(conn, "alpha", "weekly", cutoff_day - dt.timedelta(days=3), cutoff_day)
        add_period_metric(conn, "alpha", "all_time", dt.date(1, 1, 1), RECENT.date())
    return RetentionScenario(
        expected={
            "fills": 2,
            "orders": 4,
            "closed_positions": 2,
            "training_episodes": 7,
            "portfolio_snapshots": 4,
            "intraday_snapshot_symbols": 3,
            "intraday_snapshots": 2,
            "performance_metrics": 4,
            "period_metrics": 2,
        },
        kept_orders={
            "o-pending-old",
            "o-partial-old",
            "o-filled-recent",
            "o-open-position",
            "o-fill-open-position",
            "o-at-cutoff",
        },
        kept_fills={
            "o-partial-old-f0",
            "o-filled-recent-f0",
            "o-open-position-f0",
            "o-fill-open-position-f0",
        },
        kept_closed={"pos-closed-recent", "pos-open"},
        kept_episode_runs={"run-running": 3, "run-done-recent": 2, "run-in-ensemble": 4},
    )


def add_bulk(database: Database, *, bots: int, prefix: str = "bulk") -> None:
    """Many bots with a snapshot each: enough pages to make a backup take several steps."""
    with database.engine.begin() as conn:
        conn.execute(
            insert(Bot),
            [
                {"bot_id": f"{prefix}-{n:06d}", "name": "x" * 200, "notes": "y" * 300}
                for n in range(bots)
            ],
        )


def content_digest(database: Database) -> str:
    """A hash of every row of every model table: equal digests mean an untouched database."""
    digest = hashlib.sha256()
    with database.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            statement = select(table).order_by(*table.primary_key.columns)
            for row in conn.execute(statement):
                digest.update(repr(tuple(row)).encode())
        conn.rollback()
    return digest.hexdigest()


def count(database: Database, model: Any, *where: Any) -> int:
    with database.engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        conn.rollback()
    return int(value)


def writer_rows(database: Database) -> list[int]:
    """The sequence numbers the writer process committed (bots named ``w-<n>``).

    One statement (one snapshot on PostgreSQL too): every bot must come with its snapshot,
    a torn transaction would show as a bot without one.
    """
    statement = (
        select(Bot.bot_id, func.count(PortfolioSnapshot.snapshot_id))
        .outerjoin(PortfolioSnapshot, PortfolioSnapshot.bot_id == Bot.bot_id)
        .where(Bot.bot_id.like("w-%"))
        .group_by(Bot.bot_id)
    )
    with database.engine.connect() as conn:
        rows = conn.execute(statement).all()
        conn.rollback()
    torn = [bot_id for bot_id, snapshots in rows if snapshots != 1]
    assert not torn, torn
    return sorted(int(bot_id.split("-")[1]) for bot_id, _ in rows)


class Writer:
    """A writer process committing (bot, snapshot) pairs until ``stop()``."""

    def __init__(self, url: str, tmp_path: Path, database: Database) -> None:
        self.stop_file = tmp_path / "writer.stop"
        self.errors = tmp_path / "writer.err"
        self.database = database
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, str(WRITER), url, str(self.stop_file)],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.kill()
            raise RuntimeError(f"writer did not start: {line!r} {self.errors.read_text()}")

    def committed(self) -> list[int]:
        return writer_rows(self.database)

    def wait_for(self, rows: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.committed()) < rows:
            if time.monotonic() > deadline:
                raise TimeoutError(f"writer committed fewer than {rows} rows")
            time.sleep(0.01)

    def stop(self) -> int:
        self.stop_file.touch()
        out, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, self.errors.read_text()
        return int(out.split()[-1])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
