"""Every statement a bot-scoped call sends constrains bot_id to a bound value.

This backs the claim of docs/scaling.md that every trading query is scoped by bot_id (and so
would stay on one node of a PostgreSQL sharded by bot_id). A ``before_cursor_execute``
listener on the engine (the one every statement goes through, tests/db/test_statement_counts.py)
records what each call sends; ``bot_predicates.Checker`` applies the rule written in its
module docstring: each reference to a table or view with a bot_id column is pinned by
``bot_id = <bind>`` in its WHERE/ON (or joined on bot_id to one that is), each INSERT binds
bot_id, each COPY carries it, on both backends.

The calls are ``bot_scoped_workload.CALLS``: one per public method of every
``BotScopedRepository`` subclass and of ``Analytics`` (bot-scoped unit of work). The methods are
found by introspection, so a method added without a call fails
``test_every_bot_scoped_method_is_driven``. Analytics' training methods read tables without
bot_id, shared by every bot: they are run too, and must not touch any bot's table at all.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import bot_scoped_workload as workload
import pytest
from bot_predicates import Checker, Schema
from sqlalchemy import event
from sqlalchemy import inspect as inspect_schema

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.models import Base
from tradestore.repositories._scoped import BotScopedRepository
from tradestore.unit_of_work import UnitOfWork

#: Analytics methods over the training tables (no bot_id: runs, episodes, evaluations and
#: ensembles are shared by every bot), with one call each. Not bot-scoped; checked to touch
#: no bot's table.
SHARED: dict[str, workload.Call] = {
    "agent_leaderboard": lambda u, s: u.analytics.agent_leaderboard(),
    "best_agents": lambda u, s: u.analytics.best_agents(),
    "algorithm_comparison": lambda u, s: u.analytics.algorithm_comparison(),
    "best_hyperparameters": lambda u, s: u.analytics.best_hyperparameters(),
    "current_ensemble": lambda u, s: u.analytics.current_ensemble(),
    "ensemble_weight_history": lambda u, s: u.analytics.ensemble_weight_history(),
    "hyperparameter_results": lambda u, s: u.analytics.hyperparameter_results(),
    "runs_by_hyperparameter": lambda u, s: u.analytics.runs_by_hyperparameter("learning_rate"),
    "runs_with_hyperparameters": lambda u, s: u.analytics.runs_with_hyperparameters(),
    "training_summary": lambda u, s: u.analytics.training_summary(),
}

#: (repository, method, relation) -> why a statement of that call on that relation may go
#: without the predicate. Kept short: each entry is a place a sharded deployment must know.
EXCLUSIONS: dict[tuple[str, str, str], str] = {
    ("snapshots", "record_intraday", "intraday_snapshot_symbols"): (
        "the per-symbol lines have no bot_id column: they are deleted and inserted by the "
        "snapshot_id that the same call's upsert of the bot's own intraday_snapshots row "
        "(pinned by bot_id) returned, a globally unique key; docs/scaling.md lists the table "
        "as needing a bot_id column before it can be co-located"
    ),
}


def bot_scoped_methods() -> set[tuple[str, str]]:
    """(unit-of-work attribute, method) for every public method of every bot-scoped class."""
    attributes = {
        cls: name
        for name, value in inspect.getmembers(UnitOfWork)
        if (cls := _returned_class(value)) is not None
    }
    found: set[tuple[str, str]] = set()
    classes: list[type] = [*_subclasses(BotScopedRepository), Analytics]
    for cls in classes:
        assert cls in attributes, f"{cls.__name__} is not reachable from a unit of work"
        for name, _member in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_"):
                found.add((attributes[cls], name))
    return found


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _returned_class(member: Any) -> type | None:
    function = getattr(member, "func", None)  # functools.cached_property
    if function is None:
        return None
    annotation = inspect.signature(function, eval_str=True).return_annotation
    return annotation if isinstance(annotation, type) else None


def test_every_bot_scoped_method_is_driven() -> None:
    methods = bot_scoped_methods()
    shared = {("analytics", name) for name in SHARED}
    driven = set(workload.CALLS) | shared
    assert methods - driven == set(), "add a call to bot_scoped_workload.CALLS"
    assert driven - methods == set(), "a call of a method that no longer exists"
    assert not set(workload.CALLS) & shared


@dataclass
class Recorded:
    #: (call, statement) in the order sent
    statements: list[tuple[tuple[str, str], str]] = field(default_factory=list)
    current: tuple[str, str] | None = None

    def __call__(self, _conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        assert self.current is not None, f"a statement outside any call: {statement[:80]}"
        self.statements.append((self.current, statement))


def schema_of(db: Database) -> Schema:
    """The bot relations (tables and views with bot_id) and the child tables, from the
    database itself, so a new table or view is covered without editing the test."""
    with db.connect() as connection:
        reflected = inspect_schema(connection)
        names = reflected.get_table_names() + reflected.get_view_names()
        bots = frozenset(
            name
            for name in names
            if any(column["name"] == "bot_id" for column in reflected.get_columns(name))
        )
    children: dict[str, tuple[str, str, str]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in bots:
            continue
        for key in table.foreign_keys:
            if key.column.table.name in bots:
                children[table.name] = (key.parent.name, key.column.table.name, key.column.name)
    return Schema(bots, children)


def run_calls(db: Database, calls: dict[tuple[str, str], workload.Call]) -> Recorded:
    state = workload.set_up(db)
    recorded = Recorded()
    event.listen(db.engine, "before_cursor_execute", recorded)
    try:
        for key, call in calls.items():
            recorded.current = key
            with db.unit_of_work(bot_id=workload.BOT) as uow:
                call(uow, state)
            recorded.current = None
    finally:
        event.remove(db.engine, "before_cursor_execute", recorded)
    return recorded


def test_every_statement_of_a_bot_scoped_call_constrains_bot_id(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pandas")  # analytics.returns
    pytest.importorskip("matplotlib")  # analytics.report
    # The report's charts are drawn after its reads and send nothing; drawing them for this
    # history of three days takes matplotlib half a minute (the rolling Sharpe chart of a
    # series still warming up), so the PNG step is skipped here.
    monkeypatch.setattr("tradestore.analytics.charts._png", lambda figure: b"")
    recorded = run_calls(db, workload.CALLS)
    checker = Checker(schema_of(db))
    seen_calls = {key for key, _ in recorded.statements}
    # every call sent something (a call that sends nothing proves nothing)
    assert set(workload.CALLS) - seen_calls == set()
    failures: list[str] = []
    used: set[tuple[str, str, str]] = set()
    for (repository, method), statement in recorded.statements:
        for reason in checker.check(statement):
            excused = [
                key
                for key in EXCLUSIONS
                if key[:2] == (repository, method) and key[2] in re.findall(r"\w+", reason)
            ]
            if excused:
                used.update(excused)
                continue
            failures.append(f"{repository}.{method}: {reason}\n    {' '.join(statement.split())}")
    assert failures == []
    assert used == set(EXCLUSIONS), "an exclusion no statement needs any more: remove it"


def test_shared_analytics_touch_no_bot_table(db: Database) -> None:
    calls = {("analytics", name): call for name, call in SHARED.items()}
    recorded = run_calls(db, calls)
    schema = schema_of(db)
    checker = Checker(schema)
    bot_owned = schema.bot_relations | set(schema.children)
    touched: set[str] = set()
    for (_, method), statement in recorded.statements:
        assert checker.check(statement) == [], (method, statement)  # a shape it knows
        assert checker.touched & bot_owned == set(), (method, statement)
        touched |= checker.touched
    assert {"training_runs", "agent_performance"} <= touched  # the calls did read


# --- the checker itself -------------------------------------------------------------------

SCHEMA = Schema(
    frozenset({"orders", "fills", "bots", "v_recent_orders", "intraday_snapshots"}),
    {"intraday_snapshot_symbols": ("snapshot_id", "intraday_snapshots", "snapshot_id")},
)

ACCEPTED = [
    "SELECT orders.order_id FROM orders WHERE orders.bot_id = ? AND orders.order_id = ?",
    "SELECT * FROM orders WHERE bot_id = %(bot_id)s",
    "SELECT * FROM v_recent_orders WHERE v_recent_orders.bot_id = CAST(%(b)s AS TEXT)",
    "SELECT * FROM orders WHERE orders.bot_id = %(b)s::VARCHAR AND (orders.status = 'a' OR 1=1)",
    # joined on bot_id to a pinned relation, in a join's ON or in WHERE
    "SELECT * FROM orders JOIN fills ON fills.bot_id = orders.bot_id "
    "AND fills.order_id = orders.order_id WHERE orders.bot_id = ?",
    "SELECT * FROM orders o, fills f WHERE f.bot_id = o.bot_id AND o.bot_id = ?",
    # a child table through its parent
    "SELECT * FROM intraday_snapshots s JOIN intraday_snapshot_symbols y "
    "ON s.snapshot_id = y.snapshot_id WHERE s.bot_id = ?",
    # correlated subquery; CTE; derived table; table function; shared table
    "SELECT * FROM orders WHERE orders.bot_id = ? AND NOT (EXISTS (SELECT * FROM fills "
    "WHERE fills.bot_id = orders.bot_id))",
    "WITH x AS (SELECT * FROM fills WHERE fills.bot_id = ?) SELECT * FROM x",
    "SELECT a.n FROM (SELECT count(*) AS n FROM fills WHERE bot_id = ?) AS a",
    "SELECT * FROM orders WHERE orders.bot_id = ? AND orders.order_id IN "
    "(SELECT anon_1.value FROM json_each(?) AS anon_1)",
    "SELECT * FROM training_runs WHERE run_id = ?",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY o.slippage) FROM orders AS o "
    "WHERE o.bot_id = ? GROUP BY o.ticker ORDER BY o.ticker FOR UPDATE",
    # writes
    "INSERT INTO orders (bot_id, order_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    "INSERT INTO fills (bot_id, fill_id) VALUES (%(a)s, %(b)s), (%(c)s, %(d)s)",
    "INSERT INTO fills (bot_id, fill_id) SELECT CAST(%(bot)s AS TEXT) AS b, v.f FROM "
    "unnest(%(ids)s) AS v(f)",
    "INSERT INTO fills (bot_id, fill_id) SELECT orders.bot_id, ? FROM orders "
    "WHERE orders.bot_id = ?",
    "UPDATE orders SET status = ? WHERE orders.bot_id = ? AND orders.order_id = ?",
    "UPDATE orders SET status = v.s FROM unnest(?) AS v(i, s) WHERE orders.bot_id = ? "
    "AND orders.order_id = v.i",
    "DELETE FROM orders WHERE bot_id = ? AND order_id = ? RETURNING orders.order_id",
    "COPY fills (bot_id, fill_id) FROM STDIN WITH (FORMAT csv)",
    "SAVEPOINT sa_savepoint_1",
    "TRUNCATE pg_temp.tradestore_stage_fills",
    "SELECT 1",
]

REFUSED = [
    "SELECT * FROM orders",
    "SELECT * FROM orders WHERE orders.order_id = ?",
    "SELECT * FROM orders WHERE orders.bot_id = ? OR orders.order_id = ?",
    "SELECT * FROM orders WHERE orders.bot_id = 'alpha'",
    "SELECT * FROM orders WHERE orders.bot_id = ANY (%(bots)s)",
    "SELECT * FROM orders WHERE orders.bot_id IN (?, ?)",
    # the predicate in a column list, ORDER BY or a CASE, not a condition
    "SELECT orders.bot_id FROM orders ORDER BY orders.bot_id",
    "SELECT CASE WHEN orders.bot_id = ? THEN 1 END FROM orders",
    # one pinned, the other not joined on bot_id
    "SELECT * FROM orders JOIN fills ON fills.order_id = orders.order_id WHERE orders.bot_id = ?",
    "SELECT * FROM orders LEFT OUTER JOIN v_recent_orders ON true WHERE orders.bot_id = ?",
    # a subquery, a CTE, a derived table without
    "SELECT * FROM orders WHERE orders.bot_id = ? AND EXISTS (SELECT 1 FROM fills)",
    "WITH x AS (SELECT * FROM fills) SELECT * FROM x",
    "SELECT * FROM (SELECT * FROM fills) AS a WHERE a.bot_id = ?",
    "SELECT * FROM intraday_snapshot_symbols WHERE snapshot_id = ?",
    "INSERT INTO orders (order_id) VALUES (?)",
    "INSERT INTO orders (bot_id, order_id) VALUES ('alpha', ?)",
    "INSERT INTO fills (bot_id, fill_id) SELECT orders.bot_id, ? FROM orders",
    "UPDATE orders SET status = ? WHERE orders.order_id = ?",
    "DELETE FROM fills WHERE fills.order_id = ?",
    "COPY fills (fill_id) FROM STDIN",
    "DROP TABLE orders",
]


@pytest.mark.parametrize("sql", ACCEPTED)
def test_checker_accepts(sql: str) -> None:
    assert Checker(SCHEMA).check(sql) == []


@pytest.mark.parametrize("sql", REFUSED)
def test_checker_refuses(sql: str) -> None:
    assert Checker(SCHEMA).check(sql) != []
