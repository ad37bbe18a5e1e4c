"""What a frozen release database holds, as JSON: every row of every table, every view's rows,
and the figures the library derives from them (order totals, P&L, metrics, analytics).

This one module runs twice in a release's life: with the release's own code when
``make_frozen.py`` freezes its database (the expected figures), and with the current code in
``tests/migrations/test_frozen_releases.py`` after the upgrade (the actual ones). It may only
call what both have; a later release that renames a call maps it here, once, for both sides.

Values are written so that comparing them is exact: ``Decimal`` as ``"D:<str>"``, floats as
``"F:<repr>"`` (NaN and infinities included), instants as ``"T:<ISO 8601 in UTC>"``, dates as
``"d:<ISO date>"``. Records (dataclasses, named tuples) become objects of their fields.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from inspect import signature as inspect_signature
from typing import Any

from sqlalchemy import Connection, MetaData, inspect, select, text

#: What a leaf becomes when it moved between two readings at generation time: it follows the
#: wall clock (hours held, "last 24 hours"), so no later reading can equal it.
CLOCK = "<clock>"


def canon(value: Any) -> Any:
    """A JSON value that equals another reading's if and only if the values are exactly equal."""
    if isinstance(value, enum.Enum):
        return canon(value.value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        return f"D:{value}"
    if isinstance(value, float):
        return f"F:{value!r}"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return f"T:{value.isoformat()} (naive)"
        return f"T:{value.astimezone(dt.UTC).isoformat()}"
    if isinstance(value, dt.date):
        return f"d:{value.isoformat()}"
    if isinstance(value, dt.timedelta):
        return f"S:{value.total_seconds()!r}"
    if isinstance(value, str):
        return value
    if isinstance(value, uuid.UUID | bytes | memoryview):
        return str(value) if isinstance(value, uuid.UUID) else bytes(value).hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canon(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return {k: canon(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(k): canon(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, Iterable):
        return [canon(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def mask(first: Any, second: Any) -> Any:
    """``first`` with every leaf that differs in ``second`` replaced by :data:`CLOCK`."""
    if isinstance(first, dict) and isinstance(second, dict) and first.keys() == second.keys():
        return {k: mask(first[k], second[k]) for k in first}
    if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
        return [mask(a, b) for a, b in zip(first, second, strict=True)]
    return first if first == second else CLOCK


def matches(expected: Any, actual: Any) -> bool:
    """``actual`` equals ``expected`` everywhere ``expected`` is not :data:`CLOCK`.

    Two Decimals match when their values are equal: a figure computed again may carry more
    trailing zeros (an average on PostgreSQL: ``-0.043888888888888889`` then, now
    ``-0.04388888888888888900``), which is the same amount. Stored rows are compared as
    exact strings instead (``tests/migrations/test_frozen_releases.py``).
    """
    if expected == CLOCK:
        return True
    if isinstance(expected, str) and isinstance(actual, str) and expected[:2] == "D:" == actual[:2]:
        return Decimal(expected[2:]) == Decimal(actual[2:])
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() <= actual.keys()
            and all(matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(a, b) for a, b in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


# --- rows -------------------------------------------------------------------------------------


def table_rows(conn: Connection, metadata: MetaData, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every row of every table the database holds, read through the code's own column types.

    For each table: its columns (those the model and the database both have), its primary key
    and its rows sorted by the key, each a list in column order.
    """
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    out: dict[str, Any] = {}
    for table in metadata.sorted_tables:
        if table.name not in present or table.name in skip:
            continue
        in_db = {c["name"] for c in inspector.get_columns(table.name)}
        columns = [c for c in table.columns if c.name in in_db]
        key = [c.name for c in table.primary_key.columns]
        rows = conn.execute(select(*columns)).all()
        canonical = [[canon(v) for v in row] for row in rows]
        positions = [i for i, c in enumerate(columns) if c.name in key]
        canonical.sort(key=lambda r: [str(r[i]) for i in positions] or [str(r)])
        out[table.name] = {
            "columns": [c.name for c in columns],
            "primary_key": key,
            "rows": canonical,
        }
    return out


def view_rows(conn: Connection) -> dict[str, Any]:
    """Every view's rows as the driver returns them (``SELECT *``), sorted."""
    out: dict[str, Any] = {}
    for name in sorted(inspect(conn).get_view_names()):
        result = conn.execute(text(f"SELECT * FROM {name}"))
        columns = list(result.keys())
        rows = sorted(([canon(v) for v in row] for row in result), key=str)
        out[name] = {"columns": columns, "rows": rows}
    return out


# --- figures ----------------------------------------------------------------------------------

Figure = Callable[[Any], Any]


def _on(repository: str, method: str, *args: Any, **kwargs: Any) -> Figure:
    """``uow.<repository>.<method>(*args, **kwargs)`` as a figure."""

    def figure(uow: Any) -> Any:
        return getattr(getattr(uow, repository), method)(*args, **kwargs)

    return figure


def _bot_figures(order_ids: list[str], run_ids: list[str]) -> dict[str, Figure]:
    figures: dict[str, Figure] = {
        "bots.get": lambda uow: uow.bots.get(uow.bot_id),
        "bots.recover": lambda uow: uow.bots.recover(uow.bot_id),
        "orders.list_open": lambda uow: uow.orders.list_open(),
        "orders.fill_stats": lambda uow: uow.orders.fill_stats(),
        "orders.average_slippage_by_order_type": lambda uow: (
            uow.orders.average_slippage_by_order_type()
        ),
        "orders.daily_fill_rate": lambda uow: uow.orders.daily_fill_rate(),
        "positions.list_open": lambda uow: uow.positions.list_open(),
        "positions.list_closed": lambda uow: uow.positions.list_closed(),
        "positions.total_realized_pnl": lambda uow: uow.positions.total_realized_pnl(),
        "positions.total_unrealized_pnl": lambda uow: uow.positions.total_unrealized_pnl(),
        "positions.win_rate": lambda uow: uow.positions.win_rate(),
        "positions.best_performers": lambda uow: uow.positions.best_performers(),
        "positions.average_holding_period_by_exit_reason": lambda uow: (
            uow.positions.average_holding_period_by_exit_reason()
        ),
        "snapshots.history": lambda uow: uow.snapshots.history(),
        "snapshots.latest": lambda uow: uow.snapshots.latest(),
        "snapshots.equity_curve": lambda uow: uow.snapshots.equity_curve(),
        "metrics.latest": lambda uow: uow.metrics.latest(),
        "metrics.history": lambda uow: uow.metrics.history(),
        "metrics.strategies": lambda uow: uow.metrics.strategies(),
        "analytics.position_summary": lambda uow: uow.analytics.position_summary(),
        "analytics.recent_closed_trades": lambda uow: uow.analytics.recent_closed_trades(),
        "analytics.active_positions": lambda uow: uow.analytics.active_positions(),
        "analytics.total_unrealized_pnl": lambda uow: uow.analytics.total_unrealized_pnl(),
        "analytics.total_pnl": lambda uow: uow.analytics.total_pnl(),
        "analytics.win_rate": lambda uow: uow.analytics.win_rate(),
        "analytics.holding_period_by_exit_reason": lambda uow: (
            uow.analytics.holding_period_by_exit_reason()
        ),
        "analytics.best_performers": lambda uow: uow.analytics.best_performers(),
        "analytics.recent_orders": lambda uow: uow.analytics.recent_orders(),
        "analytics.order_fill_stats": lambda uow: uow.analytics.order_fill_stats(),
        "analytics.slippage_by_order_type": lambda uow: uow.analytics.slippage_by_order_type(),
        "analytics.equity_curve": lambda uow: uow.analytics.equity_curve(),
        "analytics.performance_summary": lambda uow: uow.analytics.performance_summary(),
        "analytics.current_risk": lambda uow: uow.analytics.current_risk(),
    }
    for order_id in order_ids:
        figures[f"orders.get({order_id})"] = _on("orders", "get", order_id)
        figures[f"orders.fills({order_id})"] = _on("orders", "fills", order_id)
    del run_ids
    return figures


def _shared_figures(run_ids: list[str], ensemble_ids: list[str]) -> dict[str, Figure]:
    figures: dict[str, Figure] = {
        # Every evaluation of every type: the rows of v_agent_leaderboard (0.1.0's default;
        # since then the default is each run's latest validation, and latest_only=False asks
        # for every row).
        "analytics.agent_leaderboard": lambda uow: _call(
            uow.analytics.agent_leaderboard, evaluation_type=None, latest_only=False
        ),
        "analytics.training_summary": lambda uow: uow.analytics.training_summary(),
        "analytics.hyperparameter_results": lambda uow: uow.analytics.hyperparameter_results(),
        "analytics.algorithm_comparison": lambda uow: uow.analytics.algorithm_comparison(),
        "analytics.best_hyperparameters(PPO)": lambda uow: uow.analytics.best_hyperparameters(
            algorithm="PPO"
        ),
        "analytics.current_ensemble": lambda uow: uow.analytics.current_ensemble(),
        "evaluations.list": lambda uow: uow.evaluations.list(),
    }
    for run_id in run_ids:
        figures[f"training.get({run_id})"] = _on("training", "get", run_id)
        figures[f"training.hyperparameters({run_id})"] = _on("training", "hyperparameters", run_id)
        figures[f"training.episode_count({run_id})"] = _on("training", "episode_count", run_id)
    for ensemble_id in ensemble_ids:
        figures[f"ensembles.current({ensemble_id})"] = _on("ensembles", "current", ensemble_id)
        figures[f"ensembles.history({ensemble_id})"] = _on("ensembles", "history", ensemble_id)
        figures[f"analytics.ensemble_weight_history({ensemble_id})"] = _on(
            "analytics", "ensemble_weight_history", ensemble_id=ensemble_id
        )
    return figures


def _call(method: Callable[..., Any], **arguments: Any) -> Any:
    """``method`` with those of ``arguments`` it takes: an argument a later release added to
    ask for what an earlier one did by default is left out on the earlier one."""
    accepted = inspect_signature(method).parameters
    return method(**{k: v for k, v in arguments.items() if k in accepted})


def _ids(conn: Connection, sql: str) -> list[Any]:
    return [tuple(row) if len(row) > 1 else row[0] for row in conn.execute(text(sql))]


def derived(database: Any) -> dict[str, Any]:
    """The library's figures, by bot and shared, read through its public API only."""
    with database.engine.connect() as conn:
        bots = _ids(conn, "SELECT bot_id FROM bots ORDER BY bot_id")
        orders = _ids(conn, "SELECT bot_id, order_id FROM orders ORDER BY bot_id, order_id")
        runs = _ids(conn, "SELECT run_id FROM training_runs ORDER BY run_id")
        ensembles = _ids(
            conn, "SELECT DISTINCT ensemble_id FROM ensemble_weights ORDER BY ensemble_id"
        )
        pg_totals: dict[str, Any] = {}
        if conn.dialect.name == "postgresql":
            for bot in [None, *bots]:
                total = conn.execute(text("SELECT get_paper_total_pnl(:b)"), {"b": bot}).scalar()
                pg_totals[f"get_paper_total_pnl({bot})"] = canon(total)
    out: dict[str, Any] = {"bots": {}, "shared": {}, "sql_functions": pg_totals}
    for bot in bots:
        mine = [order_id for owner, order_id in orders if owner == bot]
        with database.unit_of_work(bot_id=bot) as uow:
            out["bots"][bot] = {
                name: canon(figure(uow)) for name, figure in _bot_figures(mine, runs).items()
            }
    with database.unit_of_work() as uow:
        out["shared"] = {
            name: canon(figure(uow)) for name, figure in _shared_figures(runs, ensembles).items()
        }
    return out


def everything(database: Any, metadata: MetaData) -> dict[str, Any]:
    """Rows, views and derived figures of one database."""
    with database.engine.connect() as conn:
        tables = table_rows(conn, metadata)
        views = view_rows(conn)
    return {"tables": tables, "views": views, "figures": derived(database)}
