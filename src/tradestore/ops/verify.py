"""Is this database what tradestore expects? (the ``migrate verify`` of migration runners)

Every check returns a finding instead of raising, so the CLI and the init script can print all
of them at once and exit non-zero when any failed:

* ``revision``: the database is at the code's head revision;
* ``schema``: Alembic's autogenerate compare finds no difference between the database and the
  models (the same comparison as ``alembic check``);
* ``check_constraints``: every named CHECK constraint of the models exists (Alembic's compare
  does not look at CHECK constraints);
* ``views``: every view in :data:`EXPECTED_VIEWS` exists and can be queried;
* ``functions``: on PostgreSQL, every SQL function of ``analytics.schema.SQL_FUNCTIONS``
  exists with its parameters and result type and answers a call that matches no row (a
  PL/pgSQL body is planned only when called, so a function whose column was renamed away
  still exists and fails only then); on SQLite, which has no stored functions, the check
  names the ``Analytics`` methods that answer the same questions;
* ``foreign_objects``: no trigger, rule, view, function, table, index, constraint or policy
  that tradestore's migrations did not create (see ``tradestore.ops.schema_objects``): such
  an object can change what tradestore's own statements do while every table still matches;
* ``position_totals``: the running totals equal a recomputation over closed_positions, key
  by key and exactly (``repositories.position_totals.compare``); every key that differs is
  named, with what is stored and what the closed rows give (``tradestore db rebuild-totals``
  rewrites them);
* SQLite: ``integrity_check`` (or ``quick_check``) and ``foreign_key_check``;
* PostgreSQL: no constraint left ``NOT VALID`` and no invalid index (e.g. from a failed
  ``CREATE INDEX CONCURRENTLY``).

Reads run in a deferred transaction: verifying a SQLite database never blocks a bot's writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from tradestore.analytics.schema import SQL_FUNCTIONS, VIEWS, SqlFunction
from tradestore.database import Database
from tradestore.db.executor import Executor
from tradestore.errors import TradestoreError
from tradestore.migrate import compare_schema, current_heads, head_revision
from tradestore.models import Base
from tradestore.ops._common import read_connection
from tradestore.ops.schema_objects import describe, foreign, postgres_objects, sqlite_objects
from tradestore.repositories import position_totals

#: Views that revisions create and ``verify`` requires: the read side's declarations.
EXPECTED_VIEWS: tuple[str, ...] = tuple(view.name for view in VIEWS)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    database: str = ""
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def verify_database(
    database: Database, *, views: Sequence[str] | None = None, quick: bool = False
) -> VerifyReport:
    """Run every check against ``database``.

    ``views`` defaults to :data:`EXPECTED_VIEWS`. ``quick=True`` runs SQLite's
    ``quick_check`` (O(N), skips index content verification) instead of ``integrity_check``.
    """
    expected_views = EXPECTED_VIEWS if views is None else tuple(views)
    report = VerifyReport(database=database.safe_url)
    with read_connection(database) as connection:
        _check_revision(connection, report)
        _check_schema(connection, report)
        _check_check_constraints(connection, report)
        _check_views(connection, expected_views, report)
        _check_functions(connection, report)
        _check_foreign_objects(connection, expected_views, report)
        _check_position_totals(connection, report)
        if connection.dialect.name == "sqlite":
            _check_sqlite_integrity(connection, report, quick=quick)
        elif connection.dialect.name == "postgresql":
            _check_postgres_validity(connection, report)
    return report


def verify_structure(database: Database) -> VerifyReport:
    """The full :func:`verify` (the name ``scripts/init_database.py`` imports)."""
    return verify_database(database)


# --- checks ------------------------------------------------------------------------------------


def _check_revision(connection: Connection, report: VerifyReport) -> None:
    expected = head_revision()
    heads = current_heads(connection)
    current = heads[0] if len(heads) == 1 else None
    if not heads:
        detail = f"no tradestore schema (head is {expected}): run `tradestore db upgrade`"
    elif current == expected:
        detail = f"at head {expected}"
    else:
        detail = f"at {', '.join(heads)}, head is {expected}: run `tradestore db upgrade`"
    report.add("revision", current == expected, detail)


def _check_schema(connection: Connection, report: VerifyReport) -> None:
    diffs = _flatten(compare_schema(connection))
    # A missing table implies its missing indexes and constraints: name the table only.
    missing_tables = {diff[1].name for diff in diffs if diff[0] == "add_table"}
    differences = [
        _describe(diff)
        for diff in diffs
        if _table_of(diff) not in missing_tables or diff[0] == "add_table"
    ]
    if differences:
        shown = "; ".join(differences[:10])
        more = f" (and {len(differences) - 10} more)" if len(differences) > 10 else ""
        report.add("schema", False, f"{len(differences)} differences: {shown}{more}")
    else:
        report.add("schema", True, f"matches the models ({len(Base.metadata.tables)} tables)")


def _check_check_constraints(connection: Connection, report: VerifyReport) -> None:
    inspector = inspect(connection)
    present_tables = set(inspector.get_table_names())
    preparer = connection.dialect.identifier_preparer
    missing: list[str] = []
    count = 0
    for table in Base.metadata.sorted_tables:
        if table.name not in present_tables:
            continue  # reported by the schema check
        have = {ck["name"] for ck in inspector.get_check_constraints(table.name)}
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and constraint.name is not None:
                count += 1
                name = preparer.format_constraint(constraint)
                if name is not None and name.strip('"') not in have:
                    missing.append(f"{table.name}.{name}")
    report.add(
        "check_constraints",
        not missing,
        f"missing: {', '.join(missing)}" if missing else f"{count} present",
    )


def _check_views(connection: Connection, expected: Sequence[str], report: VerifyReport) -> None:
    if not expected:
        report.add("views", True, "no views expected")
        return
    present = set(inspect(connection).get_view_names())
    missing = [name for name in expected if name not in present]
    broken: list[str] = []
    for name in expected:
        if name in missing:
            continue
        # A view whose underlying column was dropped or renamed still exists on SQLite and
        # fails only when queried; running it with LIMIT 0 is the cheap way to find out.
        savepoint = connection.begin_nested()
        try:
            quoted = _quoted(connection, name)
            connection.execute(text(f"SELECT * FROM {quoted} LIMIT 0"))  # noqa: S608 - quoted view name from our metadata
        except DBAPIError as exc:
            broken.append(f"{name} ({str(exc.orig).strip().splitlines()[0]})")
        finally:
            savepoint.rollback()
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    if broken:
        problems.append(f"cannot be queried: {', '.join(broken)}")
    report.add(
        "views", not problems, "; ".join(problems) if problems else f"{len(expected)} present"
    )


#: A call of each function on input that matches no row (bot ids are never empty:
#: ``ck_bots_bot_id_not_empty``), and the answer it must give.
_FUNCTION_PROBES: dict[str, tuple[str, object]] = {
    "get_paper_total_pnl": ("SELECT get_paper_total_pnl(CAST('' AS text))", Decimal(0)),
    "get_paper_fill_rate": (
        "SELECT get_paper_fill_rate(CAST('' AS text), 7, CAST('' AS text))",
        None,
    ),
}


def _check_functions(connection: Connection, report: VerifyReport) -> None:
    if connection.dialect.name != "postgresql":
        standing_in = ", ".join(f"{f.name}: {f.stands_in}" for f in SQL_FUNCTIONS)
        report.add("functions", True, f"SQLite has no stored functions; instead {standing_in}")
        return
    rows = connection.execute(
        text(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid), "
            "pg_get_function_result(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname = ANY(:names) ORDER BY 1, 2"
        ),
        {"names": [function.name for function in SQL_FUNCTIONS]},
    ).all()
    present: dict[str, list[tuple[str, str]]] = {}
    for name, arguments, returns in rows:
        present.setdefault(str(name), []).append((str(arguments), str(returns)))
    problems: list[str] = []
    for function in SQL_FUNCTIONS:
        problem = _function_problem(connection, function, present.get(function.name, []))
        if problem:
            problems.append(problem)
    report.add(
        "functions",
        not problems,
        "; ".join(problems) if problems else f"{len(SQL_FUNCTIONS)} present and answering",
    )


def _function_problem(
    connection: Connection, function: SqlFunction, found: list[tuple[str, str]]
) -> str:
    """What is wrong with ``function`` in the database, or ""."""
    signature = f"{function.name}({function.arguments}) RETURNS {function.returns}"
    if not found:
        return f"missing: {signature}"
    if (function.arguments, function.returns) not in found:
        have = ", ".join(f"{function.name}({a}) RETURNS {r}" for a, r in found)
        return f"{have} instead of {signature}"
    probe, expected = _FUNCTION_PROBES[function.name]
    savepoint = connection.begin_nested()
    try:
        answer = connection.execute(text(probe)).scalar()
    except DBAPIError as exc:
        return f"{function.name} fails: {str(exc.orig).strip().splitlines()[0]}"
    finally:
        savepoint.rollback()
    if answer != expected:
        return f"{function.name} on no rows answers {answer!r}, expected {expected!r}"
    return ""


def _check_foreign_objects(
    connection: Connection, expected_views: Sequence[str], report: VerifyReport
) -> None:
    if connection.dialect.name == "postgresql":
        present = postgres_objects(connection)
    else:
        present = sqlite_objects(connection)
    strangers = foreign(present, also_views=expected_views)
    report.add(
        "foreign_objects",
        not strangers,
        describe(strangers) if strangers else f"{len(present)} objects, all tradestore's",
    )


def _check_position_totals(connection: Connection, report: VerifyReport) -> None:
    present = set(inspect(connection).get_table_names())
    if not {"position_totals", "closed_positions"} <= present:
        report.add("position_totals", True, "no running totals in this schema (see revision)")
        return
    savepoint = connection.begin_nested()
    try:
        comparison = position_totals.compare(Executor.of(connection))
    except TradestoreError as exc:  # a column gone (the schema check names it), a bad text
        report.add("position_totals", False, f"cannot be read: {str(exc).splitlines()[0]}")
        return
    finally:
        savepoint.rollback()
    differences = comparison.differences
    if differences:
        listed = "; ".join(difference.describe() for difference in differences)
        report.add(
            "position_totals",
            False,
            f"{len(differences)} of the running totals' keys differ from closed_positions: "
            f"{listed} (run `tradestore db rebuild-totals`)",
        )
    else:
        report.add("position_totals", True, f"{comparison.keys} keys equal closed_positions' sums")


def _check_sqlite_integrity(connection: Connection, report: VerifyReport, *, quick: bool) -> None:
    pragma = "quick_check" if quick else "integrity_check"
    result = [str(row[0]) for row in connection.execute(text(f"PRAGMA {pragma}"))]
    report.add(pragma, result == ["ok"], "ok" if result == ["ok"] else "; ".join(result[:5]))
    violations = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    tables = sorted({str(row[0]) for row in violations})
    report.add(
        "foreign_key_check",
        not violations,
        f"{len(violations)} rows violate foreign keys (in {', '.join(tables)})"
        if violations
        else "ok",
    )


def _check_postgres_validity(connection: Connection, report: VerifyReport) -> None:
    constraints = connection.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE NOT c.convalidated AND n.nspname = current_schema() ORDER BY 1, 2"
        )
    ).fetchall()
    report.add(
        "valid_constraints",
        not constraints,
        "NOT VALID: " + ", ".join(f"{t}.{c}" for t, c in constraints)
        if constraints
        else "all validated",
    )
    indexes = connection.execute(
        text(
            "SELECT i.indrelid::regclass::text, c.relname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE (NOT i.indisvalid OR NOT i.indisready) AND n.nspname = current_schema() "
            "ORDER BY 1, 2"
        )
    ).fetchall()
    report.add(
        "valid_indexes",
        not indexes,
        "invalid: " + ", ".join(f"{t}.{i}" for t, i in indexes) if indexes else "all valid",
    )


# --- rendering Alembic's diffs ---------------------------------------------------------------


def _flatten(diffs: Iterable[Any]) -> list[tuple[Any, ...]]:
    flat: list[tuple[Any, ...]] = []
    for diff in diffs:
        if isinstance(diff, list):
            flat.extend(diff)
        else:
            flat.append(diff)
    return flat


def _table_of(diff: tuple[Any, ...]) -> str | None:
    kind = diff[0]
    if kind in ("add_index", "remove_index"):
        return str(diff[1].table.name)
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        return getattr(diff[1].table, "name", None)
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return str(diff[2])
    return None


def _describe(diff: tuple[Any, ...]) -> str:
    """One diff in the database's terms: "add_index" means the database lacks the index."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1]
        return f"{'missing' if kind == 'add_table' else 'unexpected'} table {table.name}"
    if kind in ("add_column", "remove_column"):
        column = diff[3]
        state = "missing" if kind == "add_column" else "unexpected"
        return f"{state} column {diff[2]}.{column.name}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        state = "missing" if kind == "add_index" else "unexpected"
        return f"{state} index {index.table.name}.{index.name}"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        state = "missing" if kind.startswith("add") else "unexpected"
        what = "foreign key" if kind.endswith("fk") else "constraint"
        table = getattr(constraint.table, "name", "?")
        return f"{state} {what} {table}.{constraint.name or '(unnamed)'}"
    if kind.startswith("modify_"):
        _, _schema, table_name, column_name, _info, existing, new = diff
        attribute = kind.removeprefix("modify_")
        return f"{table_name}.{column_name} {attribute} is {existing!r}, models say {new!r}"
    return str(diff)


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


__all__ = [
    "EXPECTED_VIEWS",
    "Check",
    "VerifyReport",
    "verify_database",
    "verify_structure",
]
