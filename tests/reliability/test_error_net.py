"""Issue 16, item 5: every public repository, analytics and ops call raises only tradestore
errors, whatever the driver throws at it and wherever in the call it throws.

The methods are found by introspection (every public method of every repository a unit of
work offers, of ``uow.analytics``, and every function ``tradestore.ops`` exports), and each
must have one valid call in ``CALLS`` / ``OPS``: a method added without one fails
``test_every_public_method_has_a_call``, so none escapes the net.

The fault is raised by the driver itself: the engine's connections are made with a sqlite3
connection class / psycopg2 cursor class whose ``execute`` (and ``executemany``,
``copy_expert``, ...) raises the driver's own exception at the k-th statement of the call,
for every k of the call's statements (a spread of MAX_FAILED of them in a longer call). Nothing
above the DBAPI cursor can skip it: SQLAlchemy's execution, a compiled fast path on the raw
cursor, ``exec_driver_sql``, COPY, SAVEPOINT and RELEASE all meet it. Inside a unit of work
the statement fails once, and the call must raise, the block must end in a tradestore error
or commit, and nothing may be written; an ops call meets a disk that stays broken from that
statement on (a fault SQLAlchemy's own fallbacks cannot retry around), and must raise or
report a failed check. Two kinds of error: an I/O failure
(``DatabaseUnavailable``) and a missing table (``SchemaError``, not an outage); the latter is
also provoked for real, by renaming a table away, for one method per repository.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import itertools
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
from reliability_support import database_state
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import tradestore.ops
from tradestore import Database
from tradestore.errors import DatabaseUnavailable, SchemaError, TradestoreError
from tradestore.unit_of_work import UnitOfWork

pytestmark = pytest.mark.reliability

BOT = "alpha"
D = Decimal
T0 = dt.datetime(2024, 3, 1, 14, 30, tzinfo=dt.UTC)
DAY1, DAY2, DAY3 = dt.date(2024, 3, 1), dt.date(2024, 3, 4), dt.date(2024, 3, 5)
#: A call of more statements has its first and last ones and a spread between them failed
#: (``verify_database`` reflects the whole schema: hundreds).
MAX_FAILED = 16


# --- the fault, at the DBAPI ------------------------------------------------------------


class _Fault:
    """Raises ``make()`` at the ``at``-th statement any connection of the engine runs: once,
    or, ``sticky``, at every statement from there on (a disk that stays broken)."""

    def __init__(self) -> None:
        self.at = 0
        self.seen = 0
        self.make: Callable[[], Exception] | None = None
        self.fired: Exception | None = None
        self.sticky = False

    def arm(self, at: int, make: Callable[[], Exception], *, sticky: bool = False) -> None:
        self.at, self.seen, self.make, self.fired, self.sticky = at, 0, make, None, sticky

    def disarm(self) -> None:
        self.at = 0

    def check(self) -> None:
        if self.at == 0 or self.make is None:
            return
        self.seen += 1
        if self.seen == self.at or (self.sticky and self.seen > self.at):
            error = self.make()
            if self.fired is None:
                self.fired = error
            if not self.sticky:
                self.at = 0
            raise error


FAULT = _Fault()
#: ``arm(NEVER, ...)`` counts statements without failing one.
NEVER = 10**9


class _FaultySqliteCursor(sqlite3.Cursor):
    def execute(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        FAULT.check()
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        FAULT.check()
        return super().executemany(*args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        FAULT.check()
        return super().executescript(*args)


class _FaultySqliteConnection(sqlite3.Connection):
    """``Connection.execute`` is overridden too: its C code does not go through ``cursor()``."""

    def cursor(self, factory: Any = _FaultySqliteCursor) -> Any:
        return super().cursor(factory)

    def execute(self, *args: Any) -> sqlite3.Cursor:
        FAULT.check()
        return super().execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        FAULT.check()
        return super().executemany(*args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        FAULT.check()
        return super().executescript(*args)


class _FaultyPgCursor(psycopg2.extensions.cursor):  # type: ignore[misc]
    def execute(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().executemany(*args, **kwargs)

    def callproc(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().callproc(*args, **kwargs)

    def copy_expert(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().copy_expert(*args, **kwargs)

    def copy_from(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().copy_from(*args, **kwargs)

    def copy_to(self, *args: Any, **kwargs: Any) -> Any:
        FAULT.check()
        return super().copy_to(*args, **kwargs)


class _PgUndefinedTable(psycopg2.errors.UndefinedTable):  # type: ignore[misc]
    """What psycopg2 raises for a missing relation; ``pgcode`` is set by libpq's result
    otherwise, so the class carries it."""

    pgcode = "42P01"


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str
    sqlite: Callable[[], Exception]
    postgresql: Callable[[], Exception]
    expected: type[TradestoreError]
    refused: tuple[type[TradestoreError], ...] = ()


KINDS = (
    Kind(
        "io",
        lambda: sqlite3.OperationalError("disk I/O error"),
        lambda: psycopg2.OperationalError(
            'could not write to file "base/16384/2619": No space left on device'
        ),
        DatabaseUnavailable,
    ),
    Kind(
        "missing_table",
        lambda: sqlite3.OperationalError("no such table: positions"),
        lambda: _PgUndefinedTable('relation "positions" does not exist'),
        SchemaError,
        refused=(DatabaseUnavailable,),
    ),
)


def _faulty_connections(engine: Any) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        if dialect.name == "sqlite":
            params["factory"] = _FaultySqliteConnection
        else:
            params["cursor_factory"] = _FaultyPgCursor


# --- the scenario every call runs against -------------------------------------------------


@dataclasses.dataclass
class Scenario:
    evaluation_id: int
    directory: Path
    backup: Path | None = None  # made by the ops tests' fixture
    exports: Iterator[int] = dataclasses.field(default_factory=itertools.count)
    session_id: int = 0
    intraday_id: int = 0

    def export_path(self) -> Path:
        return self.directory / f"export-{next(self.exports)}.csv"


def _set_up(db: Database, directory: Path) -> Scenario:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.bots.register(BOT, starting_balance=D(10_000))
        uow.bots.register("idle")  # a bot without orders: its position keeping may switch
        uow.positions.open(
            "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id="p-open"
        )
        uow.positions.open(
            "MSFT", side="long", quantity=D(5), entry_price=D(50), position_id="p-closed"
        )
        uow.positions.close("p-closed", exit_price=D(55), exit_reason="take_profit")
        for order_id in ("o-1", "o-2"):
            uow.orders.submit(
                client_order_id=f"c-{order_id}",
                order_id=order_id,
                ticker="AAPL",
                side="buy",
                order_type="limit",
                quantity=D(10),
                limit_price=D(100),
                reference_price=D(100),
                # o-1's fills keep a position: the calls below fill it through the keeper's
                # statements too
                keep_position=order_id == "o-1",
            )
        uow.orders.record_fill("o-1", fill_id="f-1", quantity=D(2), price=D(100))
        uow.snapshots.record(total_equity=D(10_000), cash_balance=D(5000), snapshot_date=DAY1)
        uow.snapshots.record(total_equity=D(10_100), cash_balance=D(5000), snapshot_date=DAY2)
        uow.metrics.compute(DAY2)
        uow.training.start_run(
            "ppo", "m", run_id="r-done", hyperparameters={"learning_rate": 0.001}
        )
        uow.training.log_episodes(
            "r-done", [{"episode_number": n, "episode_reward": float(n)} for n in range(3)]
        )
        uow.training.finish("r-done", "completed", final_reward=2.0)
        uow.training.start_run("ppo", "m", run_id="r-live")
        evaluation = uow.evaluations.record("r-done", "validation", sharpe_ratio=1.5)
        uow.ensembles.set_weights("e-1", {"r-done": 1.0})
        uow.bots.set_status(BOT, "running")
        session = uow.sessions.current()
        assert session is not None
        intraday = uow.snapshots.record_intraday(
            total_equity=D(10_050),
            cash_balance=D(5000),
            snapshot_time=T0,
            by_symbol={"AAPL": {"quantity": D(10), "unrealized_pnl": D(5)}},
        )
    scenario = Scenario(evaluation.performance_id, directory)
    scenario.session_id = session.session_id
    scenario.intraday_id = intraday.snapshot_id
    return scenario


Call = Callable[[UnitOfWork, Scenario], object]

_NEW_ORDER: dict[str, Any] = {
    "client_order_id": "c-new",
    "ticker": "AAPL",
    "side": "buy",
    "order_type": "market",
    "quantity": D(1),
}

#: One valid call per public method reachable from a unit of work.
CALLS: dict[str, Call] = {
    # bots
    "bots.register": lambda u, s: u.bots.register("beta"),
    "bots.get": lambda u, s: u.bots.get(BOT),
    "bots.list": lambda u, s: u.bots.list(),
    "bots.heartbeat": lambda u, s: u.bots.heartbeat(BOT),
    "bots.stale": lambda u, s: u.bots.stale(older_than=dt.timedelta(hours=1)),
    "bots.set_status": lambda u, s: u.bots.set_status(BOT, "stopped"),
    "bots.set_balance": lambda u, s: u.bots.set_balance(BOT, current_balance=D(9000)),
    "bots.set_position_keeping": lambda u, s: u.bots.set_position_keeping("idle", "netting"),
    "bots.refresh_totals": lambda u, s: u.bots.refresh_totals(BOT),
    "bots.recover": lambda u, s: u.bots.recover(BOT),
    "bots.recovery_state": lambda u, s: u.bots.recovery_state(BOT),
    "bots.start_session": lambda u, s: u.bots.start_session(BOT, starting_equity=D(10_000)),
    "bots.end_session": lambda u, s: u.bots.end_session(BOT),
    # sessions
    "sessions.current": lambda u, s: u.sessions.current(),
    "sessions.get": lambda u, s: u.sessions.get(s.session_id),
    "sessions.find": lambda u, s: u.sessions.find(s.session_id),
    "sessions.list": lambda u, s: u.sessions.list(),
    "sessions.figures": lambda u, s: u.sessions.figures(s.session_id),
    # positions
    "positions.open": lambda u, s: u.positions.open(
        "TSLA", side="short", quantity=D(1), entry_price=D(200)
    ),
    "positions.mark_to_market": lambda u, s: u.positions.mark_to_market({"AAPL": D(101)}),
    "positions.close": lambda u, s: u.positions.close(
        "p-open", exit_price=D(110), exit_reason="take_profit"
    ),
    "positions.update": lambda u, s: u.positions.update(
        "p-open", stop_loss_price=D(95), metadata={"note": "x"}
    ),
    "positions.trail_stop": lambda u, s: u.positions.trail_stop(
        "p-open", price=D(99), distance=D(2)
    ),
    "positions.stops_hit": lambda u, s: u.positions.stops_hit({"AAPL": D(101)}),
    "positions.scale_in": lambda u, s: u.positions.scale_in(
        "p-open", quantity=D(2), price=D(98), commission=D(1)
    ),
    "positions.scale_out": lambda u, s: u.positions.scale_out(
        "p-open", quantity=D(2), price=D(105), exit_reason="take_profit"
    ),
    "positions.get": lambda u, s: u.positions.get("p-open"),
    "positions.find": lambda u, s: u.positions.find("p-open"),
    "positions.list_open": lambda u, s: u.positions.list_open(),
    "positions.oldest_first": lambda u, s: u.positions.oldest_first(),
    "positions.list_closed": lambda u, s: u.positions.list_closed(),
    "positions.total_unrealized_pnl": lambda u, s: u.positions.total_unrealized_pnl(),
    "positions.win_rate": lambda u, s: u.positions.win_rate(),
    "positions.average_holding_period_by_exit_reason": (
        lambda u, s: u.positions.average_holding_period_by_exit_reason()
    ),
    "positions.best_performers": lambda u, s: u.positions.best_performers(),
    "positions.total_realized_pnl": lambda u, s: u.positions.total_realized_pnl(),
    "positions.closed_totals": lambda u, s: u.positions.closed_totals(),
    "positions.performance": lambda u, s: u.positions.performance(per_strategy=True),
    # orders
    "orders.submit": lambda u, s: u.orders.submit(**_NEW_ORDER),
    "orders.set_status": lambda u, s: u.orders.set_status("o-2", "accepted"),
    "orders.acknowledge": lambda u, s: u.orders.acknowledge("o-2", broker_order_id="B-2"),
    "orders.cancel": lambda u, s: u.orders.cancel("o-2"),
    "orders.reject": lambda u, s: u.orders.reject("o-2", reason="no margin"),
    "orders.expire": lambda u, s: u.orders.expire("o-2"),
    "orders.record_fill": lambda u, s: u.orders.record_fill(
        "o-1", fill_id="f-2", quantity=D(1), price=D(101)
    ),
    "orders.submit_many": lambda u, s: u.orders.submit_many(
        [_NEW_ORDER, {**_NEW_ORDER, "client_order_id": "c-many"}]
    ),
    "orders.set_statuses": lambda u, s: u.orders.set_statuses(
        [{"order_id": "o-2", "status": "accepted"}, {"order_id": "o-2", "status": "cancelled"}]
    ),
    "orders.record_fills": lambda u, s: u.orders.record_fills(
        [{"order_id": "o-1", "fill_id": "f-4", "quantity": D(1), "price": D(98)}]
    ),
    "orders.ingest_fills": lambda u, s: u.orders.ingest_fills(
        [{"fill_id": "f-3", "order_id": "o-1", "quantity": D(1), "price": D(99), "filled_at": T0}]
    ),
    "orders.get": lambda u, s: u.orders.get("o-1"),
    "orders.find": lambda u, s: u.orders.find(client_order_id="c-o-1"),
    "orders.list_open": lambda u, s: u.orders.list_open(),
    "orders.fills": lambda u, s: u.orders.fills("o-1"),
    "orders.daily_fill_rate": lambda u, s: u.orders.daily_fill_rate(),
    "orders.average_slippage_by_order_type": (
        lambda u, s: u.orders.average_slippage_by_order_type()
    ),
    "orders.fill_stats": lambda u, s: u.orders.fill_stats(),
    # snapshots
    "snapshots.record": lambda u, s: u.snapshots.record(
        total_equity=D(10_200), cash_balance=D(5000), snapshot_date=DAY3
    ),
    "snapshots.get": lambda u, s: u.snapshots.get(DAY1),
    "snapshots.find": lambda u, s: u.snapshots.find(DAY1),
    "snapshots.latest": lambda u, s: u.snapshots.latest(),
    "snapshots.history": lambda u, s: u.snapshots.history(),
    "snapshots.equity_curve": lambda u, s: u.snapshots.equity_curve(),
    "snapshots.record_intraday": lambda u, s: u.snapshots.record_intraday(
        total_equity=D(10_060),
        cash_balance=D(5000),
        snapshot_time=T0,  # replaces the scenario's, and its lines
        by_symbol={"AAPL": {"quantity": D(10)}, "MSFT": {"quantity": D(-1)}},
    ),
    "snapshots.intraday_history": lambda u, s: u.snapshots.intraday_history(),
    "snapshots.by_symbol": lambda u, s: u.snapshots.by_symbol(s.intraday_id),
    "snapshots.intraday_equity_curve": lambda u, s: u.snapshots.intraday_equity_curve(),
    "snapshots.symbol_pnl": lambda u, s: u.snapshots.symbol_pnl("AAPL"),
    # metrics
    "metrics.record": lambda u, s: u.metrics.record(DAY3),
    "metrics.compute": lambda u, s: u.metrics.compute(DAY2),
    "metrics.get": lambda u, s: u.metrics.get(DAY2),
    "metrics.find": lambda u, s: u.metrics.find(DAY2),
    "metrics.latest": lambda u, s: u.metrics.latest(),
    "metrics.history": lambda u, s: u.metrics.history(),
    "metrics.strategies": lambda u, s: u.metrics.strategies(),
    "metrics.compute_periods": lambda u, s: u.metrics.compute_periods(DAY2),
    "metrics.find_period": lambda u, s: u.metrics.find_period("weekly", DAY2),
    "metrics.period_history": lambda u, s: u.metrics.period_history("daily"),
    # training
    "training.start_run": lambda u, s: u.training.start_run("a2c", "m2"),
    "training.finish": lambda u, s: u.training.finish("r-live", "completed"),
    "training.get": lambda u, s: u.training.get("r-done"),
    "training.count": lambda u, s: u.training.count(),
    "training.delete": lambda u, s: u.training.delete("r-live"),
    "training.hyperparameters": lambda u, s: u.training.hyperparameters("r-done"),
    "training.best": lambda u, s: u.training.best("ppo"),
    "training.log_episodes": lambda u, s: u.training.log_episodes(
        "r-live", [{"episode_number": 0, "episode_reward": 1.0}]
    ),
    "training.episodes": lambda u, s: u.training.episodes("r-done"),
    "training.iter_episodes": lambda u, s: list(u.training.iter_episodes("r-done")),
    "training.reward_curve": lambda u, s: u.training.reward_curve("r-done", window=2),
    "training.episode_count": lambda u, s: u.training.episode_count("r-done"),
    "training.delete_episodes": lambda u, s: u.training.delete_episodes("r-done"),
    "training.list": lambda u, s: u.training.list(),
    # evaluations
    "evaluations.record": lambda u, s: u.evaluations.record("r-done", "test"),
    "evaluations.get": lambda u, s: u.evaluations.get(s.evaluation_id),
    "evaluations.latest": lambda u, s: u.evaluations.latest("r-done"),
    "evaluations.list": lambda u, s: u.evaluations.list(),
    # ensembles
    "ensembles.set_weights": lambda u, s: u.ensembles.set_weights("e-2", {"r-done": 1.0}),
    "ensembles.current": lambda u, s: u.ensembles.current("e-1"),
    "ensembles.history": lambda u, s: u.ensembles.history("e-1"),
    "ensembles.retire": lambda u, s: u.ensembles.retire("e-1"),
    # analytics
    "analytics.position_summary": lambda u, s: u.analytics.position_summary(),
    "analytics.recent_closed_trades": lambda u, s: u.analytics.recent_closed_trades(),
    "analytics.active_positions": lambda u, s: u.analytics.active_positions(),
    "analytics.total_unrealized_pnl": lambda u, s: u.analytics.total_unrealized_pnl(),
    "analytics.total_pnl": lambda u, s: u.analytics.total_pnl(),
    "analytics.win_rate": lambda u, s: u.analytics.win_rate(),
    "analytics.holding_period_by_exit_reason": (
        lambda u, s: u.analytics.holding_period_by_exit_reason()
    ),
    "analytics.best_performers": lambda u, s: u.analytics.best_performers(),
    "analytics.trade_statistics": lambda u, s: u.analytics.trade_statistics(),
    "analytics.recent_orders": lambda u, s: u.analytics.recent_orders(),
    "analytics.order_fill_stats": lambda u, s: u.analytics.order_fill_stats(),
    "analytics.orders_last_24h": lambda u, s: u.analytics.orders_last_24h(),
    "analytics.daily_summary": lambda u, s: u.analytics.daily_summary(),
    "analytics.daily_fill_rate": lambda u, s: u.analytics.daily_fill_rate(),
    "analytics.slippage_by_order_type": lambda u, s: u.analytics.slippage_by_order_type(),
    "analytics.fill_rate": lambda u, s: u.analytics.fill_rate("AAPL"),
    "analytics.fill_rate_by_symbol": lambda u, s: u.analytics.fill_rate_by_symbol(),
    "analytics.slippage_analysis": lambda u, s: u.analytics.slippage_analysis(),
    "analytics.equity_curve": lambda u, s: u.analytics.equity_curve(),
    "analytics.intraday_equity_curve": lambda u, s: u.analytics.intraday_equity_curve(),
    "analytics.symbol_pnl": lambda u, s: u.analytics.symbol_pnl(ticker="AAPL"),
    "analytics.performance_summary": lambda u, s: u.analytics.performance_summary(),
    "analytics.current_risk": lambda u, s: u.analytics.current_risk(),
    "analytics.performance_over_time": lambda u, s: u.analytics.performance_over_time(),
    "analytics.returns": lambda u, s: u.analytics.returns(),
    "analytics.report": lambda u, s: u.analytics.report(runs=["r-done"]),
    "analytics.agent_leaderboard": lambda u, s: u.analytics.agent_leaderboard(),
    "analytics.best_agents": lambda u, s: u.analytics.best_agents(),
    "analytics.runs_with_hyperparameters": lambda u, s: u.analytics.runs_with_hyperparameters(),
    "analytics.runs_by_hyperparameter": (
        lambda u, s: u.analytics.runs_by_hyperparameter("learning_rate")
    ),
    "analytics.current_ensemble": lambda u, s: u.analytics.current_ensemble(),
    "analytics.training_summary": lambda u, s: u.analytics.training_summary(),
    "analytics.hyperparameter_results": lambda u, s: u.analytics.hyperparameter_results(),
    "analytics.algorithm_comparison": lambda u, s: u.analytics.algorithm_comparison(),
    "analytics.best_hyperparameters": lambda u, s: u.analytics.best_hyperparameters(),
    "analytics.ensemble_weight_history": (
        lambda u, s: u.analytics.ensemble_weight_history(ensemble_id="e-1")
    ),
}

OpsCall = Callable[[Database, Scenario], object]


def _set_policy(db: Database) -> object:
    try:
        return tradestore.ops.set_partition_policy(db, "fills", premake=3)
    except tradestore.errors.ValidationError:
        assert db.dialect_name != "postgresql"
        return None


def _backup(scenario: Scenario) -> Path:
    assert scenario.backup is not None
    return scenario.backup


#: How many statements of an ops call to fail, where the default (6) would take long.
OPS_FAILED = {"restore_database": 2}

#: One valid call per function ``tradestore.ops`` exports.
OPS: dict[str, OpsCall] = {
    # PostgreSQL's archiver state; elsewhere it refuses before any statement (skipped here).
    "archive_state": lambda db, s: (
        tradestore.ops.archive_state(db) if db.dialect_name == "postgresql" else None
    ),
    "backup_database": lambda db, s: tradestore.ops.backup_database(
        db, directory=s.directory / "backups"
    ),
    "database_stats": lambda db, s: tradestore.ops.database_stats(db, indexes=True),
    # a dry run: the same statements every time (a real run creates nothing the second time)
    "ensure_partitions": lambda db, s: tradestore.ops.ensure_partitions(db, dry_run=True),
    "export_table": lambda db, s: tradestore.ops.export_table(
        db, "positions", s.export_path(), format="csv"
    ),
    "list_partitions": lambda db, s: tradestore.ops.list_partitions(db),
    # Not fills: its partitions step creates partitions on the first call only, so later
    # calls would run fewer statements than counted (ensure_partitions has its own entry).
    "maintain_database": lambda db, s: tradestore.ops.maintain_database(
        db, tables=["orders", "positions"], reindex="all", min_index_bytes=0
    ),
    "prune": lambda db, s: tradestore.ops.prune(db, older_than=dt.timedelta(days=1), dry_run=True),
    "prune_backups": lambda db, s: tradestore.ops.prune_backups(
        s.directory / "backups", stem="tradestore", keep_days=1
    ),
    "restore_database": lambda db, s: tradestore.ops.restore_database(
        db, _backup(s), safety_backup=False
    ),
    "rebuild_totals": lambda db, s: tradestore.ops.rebuild_totals(db),
    "row_counts": lambda db, s: tradestore.ops.row_counts(db),
    "schema_status": lambda db, s: tradestore.ops.schema_status(db),
    # Refused by name on a database where fills is not partitioned (SQLite): still a call.
    "set_partition_policy": lambda db, s: _set_policy(db),
    "verify_backup": lambda db, s: tradestore.ops.verify_backup(_backup(s)),
    "verify_database": lambda db, s: tradestore.ops.verify_database(db),
}


# --- enumeration -------------------------------------------------------------------------


def _is_api_object(value: object) -> bool:
    """A repository or query namespace: a tradestore object offering methods (not a record)."""
    kind = type(value)
    return (
        kind.__module__.startswith("tradestore.")
        and not dataclasses.is_dataclass(kind)
        and any(not name.startswith("_") and callable(getattr(kind, name)) for name in dir(kind))
    )


def _surface(obj: object, path: str) -> Iterator[str]:
    """Dotted names of every public method of ``obj`` and of the API objects it holds."""
    for name in dir(type(obj)):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(type(obj), name)
        if isinstance(static, property | cached_property):
            value = getattr(obj, name)
            if _is_api_object(value):
                yield from _surface(value, f"{path}{name}.")
        elif callable(static) or isinstance(static, staticmethod | classmethod):
            yield f"{path}{name}"
    for name, value in vars(obj).items():
        if not name.startswith("_") and _is_api_object(value):
            yield from _surface(value, f"{path}{name}.")


def public_methods() -> list[str]:
    engine = create_engine("sqlite://")  # never connected: building repositories reads nothing
    try:
        return sorted(set(_surface(UnitOfWork(Session(engine), bot_id=BOT), "")))
    finally:
        engine.dispose()


def public_ops() -> list[str]:
    return sorted(
        name for name in tradestore.ops.__all__ if inspect.isfunction(getattr(tradestore.ops, name))
    )


#: Public methods the net cannot reach, and where their failures are tested instead.
OUTSIDE_THE_NET = {
    # Called after its block has ended, and only a Database with replicas reads anything.
    "commit_token": "tests/db/test_replicas.py",
}

#: ops functions that send no statement through the Database's engine.
OPS_OUTSIDE_THE_NET = {
    "archive_settings": "builds postgresql.conf lines; tests/ops/test_pitr.py",
    "base_backup": "runs pg_basebackup against the server; tests/ops/test_pitr.py",
    "restore_to_time": "prepares a data directory from files; tests/ops/test_pitr.py",
}


def test_every_public_method_has_a_call() -> None:
    methods = set(public_methods()) - set(OUTSIDE_THE_NET)
    assert len(methods) > 80  # the enumeration itself works
    assert sorted(methods - set(CALLS)) == [], "public methods with no call in CALLS"
    assert sorted(set(CALLS) - methods) == [], "calls of methods that no longer exist"
    assert set(OUTSIDE_THE_NET) <= set(public_methods()), "exemptions of methods that are gone"


def test_every_ops_function_has_a_call() -> None:
    functions = set(public_ops()) - set(OPS_OUTSIDE_THE_NET)
    assert sorted(functions - set(OPS)) == [], "ops functions with no call in OPS"
    assert sorted(set(OPS) - functions) == [], "calls of ops functions that are gone"
    assert set(OPS_OUTSIDE_THE_NET) <= set(public_ops()), "exemptions of functions that are gone"


# --- the net -------------------------------------------------------------------------------


class _Undo(Exception):
    """Ends a block that must commit nothing."""


@pytest.fixture(scope="module")
def store(
    backend: str,
    _migrated: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Database, Scenario]]:
    """A database of its own with the scenario, shared by the module's tests: each of them
    asserts it wrote nothing, so the next one finds the same rows."""
    directory = tmp_path_factory.mktemp("error_net")
    server = None
    if backend == "sqlite":
        shutil.copyfile(make_url(_migrated).database or "", directory / "tradestore.db")
        url = f"sqlite:///{directory / 'tradestore.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        created = server.create_database()
        url = created.render_as_string(hide_password=False)
        migrating = Database(url, check_schema=False)
        migrating.upgrade()
        migrating.dispose()
    database = Database(url)
    _faulty_connections(database.engine)  # before its first connection
    try:
        yield database, _set_up(database, directory)
    finally:
        FAULT.disarm()
        database.dispose()
        if server is not None:
            server.drop_database(created)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _only_tradestore(error: BaseException, where: str, kind: Kind) -> None:
    assert isinstance(error, TradestoreError), (
        f"{where} raised {type(error).__module__}.{type(error).__name__}: {error}"
    )
    assert not isinstance(error, kind.refused), f"{where}: {type(error).__name__}: {error}"


def _failing(statements: int, most: int = MAX_FAILED) -> list[int]:
    """Which statements of a call to fail: every one, or the first, the last and a spread."""
    if statements <= most:
        return list(range(1, statements + 1))
    step = (statements - 1) / (most - 1)
    return sorted({1 + round(i * step) for i in range(most)})


def _statements(db: Database, scenario: Scenario, call: Call) -> int:
    """How many statements the call runs (counted at the cursor), in a block undone after."""
    with pytest.raises(_Undo), db.unit_of_work(bot_id=BOT) as uow:
        FAULT.arm(NEVER, lambda: AssertionError("never raised"))
        try:
            call(uow, scenario)
        finally:
            FAULT.disarm()
        raise _Undo
    return FAULT.seen


def _fail_statement(
    db: Database, scenario: Scenario, call: Call, at: int, kind: Kind, backend: str, where: str
) -> None:
    """Statement ``at`` of the call fails; the caller catches it and lets the block end."""
    raised: BaseException | None = None
    try:
        with db.unit_of_work(bot_id=BOT) as uow:
            FAULT.arm(at, getattr(kind, backend))
            try:
                call(uow, scenario)
            except BaseException as exc:  # what escapes is the point
                raised = exc
            finally:
                fired = FAULT.fired
                FAULT.disarm()
    except BaseException as exc:  # a refused call leaves a unit of work that cannot commit
        _only_tradestore(exc, f"{where}: the end of the block", kind)
    assert fired is not None, f"{where}: the statement was not run"
    assert raised is not None, f"{where}: the call went on as if the statement had run"
    _only_tradestore(raised, where, kind)
    assert isinstance(raised, kind.expected), f"{where}: {raised!r}"
    assert fired in _chain(raised), f"{where}: {raised!r} is not about the driver's error"


@pytest.mark.parametrize("method", sorted(CALLS))
def test_a_driver_error_in_any_statement_is_a_tradestore_error(
    store: tuple[Database, Scenario], backend: str, method: str
) -> None:
    db, scenario = store
    call = CALLS[method]
    before = database_state(db)
    statements = _statements(db, scenario, call)
    assert statements >= 1, f"{method} ran no statement: the fault cannot reach it"
    for kind in KINDS:
        for at in _failing(statements):
            where = f"{method}, {kind.name} at statement {at} of {statements}"
            _fail_statement(db, scenario, call, at, kind, backend, where)
    # Uncaught, the error leaves the block as it left the call, and nothing is committed.
    kind = KINDS[0]
    with pytest.raises(kind.expected), db.unit_of_work(bot_id=BOT) as uow:
        FAULT.arm(1, getattr(kind, backend))
        try:
            call(uow, scenario)
        finally:
            FAULT.disarm()
    assert database_state(db) == before, f"{method} wrote something"


@pytest.fixture(scope="module")
def with_backup(store: tuple[Database, Scenario]) -> tuple[Database, Scenario]:
    db, scenario = store
    if scenario.backup is None:
        made = tradestore.ops.backup_database(
            db, directory=scenario.directory / "made", keep_days=None
        )
        scenario.backup = made.backup.path
    return db, scenario


@pytest.mark.parametrize("function", sorted(OPS))
def test_a_driver_error_in_an_ops_function_is_a_tradestore_error(
    with_backup: tuple[Database, Scenario], backend: str, function: str
) -> None:
    db, scenario = with_backup
    call = OPS[function]
    before = database_state(db)
    FAULT.arm(NEVER, lambda: AssertionError("never raised"))
    try:
        call(db, scenario)
    finally:
        statements = FAULT.seen
        FAULT.disarm()
    if statements == 0:
        pytest.skip(f"{function} does not use the engine's connections on {backend}")
    for kind in KINDS:
        points = _failing(statements, OPS_FAILED.get(function, 6))
        for at in points:
            where = f"{function}, {kind.name} from statement {at} of {statements}"
            FAULT.arm(at, getattr(kind, backend), sticky=True)
            raised: BaseException | None = None
            try:
                result = call(db, scenario)
            except BaseException as exc:
                raised = exc
            finally:
                fired = FAULT.fired
                FAULT.disarm()
            if fired is None:
                # A call that makes new connections (restore) may run one SET fewer.
                assert at == points[-1], f"{where}: not run ({raised!r})"
                assert raised is None, f"{where}: not run ({raised!r})"
                continue
            if raised is not None:
                _only_tradestore(raised, where, kind)
            else:  # verify (and restore, which verifies) may report a failed check instead
                assert getattr(result, "ok", True) is False, (
                    f"{where}: the call went on as if the statement had run"
                )
    assert database_state(db) == before, f"{function} wrote something"


#: A table each of these methods reads, renamed away for real: the driver's own error for a
#: missing table, on the paths the simulated one above stands in for (the compiled fast
#: path of positions.open, a generator, the read side).
RENAMED = {
    "positions.open": "positions",
    "orders.record_fill": "fills",
    "snapshots.latest": "portfolio_snapshots",
    "snapshots.by_symbol": "intraday_snapshot_symbols",
    "sessions.current": "trading_sessions",
    "metrics.latest": "performance_metrics",
    "metrics.find_period": "period_metrics",
    "training.hyperparameters": "hyperparameters",
    "training.iter_episodes": "training_episodes",
    "evaluations.list": "agent_performance",
    "ensembles.current": "ensemble_weights",
    "analytics.win_rate": "closed_positions",
    "analytics.agent_leaderboard": "agent_performance",
}


@pytest.mark.parametrize(("method", "table"), sorted(RENAMED.items()))
def test_a_table_really_missing_is_a_schema_error(
    store: tuple[Database, Scenario], method: str, table: str
) -> None:
    db, scenario = store
    engine = create_engine(db.url)
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        raised: BaseException | None = None
        with pytest.raises(TradestoreError) as ended:  # noqa: SIM117 - two exits, both checked
            with db.unit_of_work(bot_id=BOT) as uow:
                try:
                    CALLS[method](uow, scenario)
                except BaseException as exc:
                    raised = exc
        assert isinstance(raised, SchemaError), f"{method}: {raised!r}"
        assert not isinstance(raised, DatabaseUnavailable)
        assert "tradestore db upgrade" in str(raised)
        assert isinstance(ended.value, TradestoreError)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
        engine.dispose()
