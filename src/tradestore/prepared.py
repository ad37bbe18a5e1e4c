"""Hot-path statements: compiled once by SQLAlchemy, executed on the driver's cursor.

Why this exists. A bot records an order and its fills thousands of times a day, each in its
own short transaction. On SQLite such a statement costs the driver 2-4 microseconds, and
``Connection.execute()`` adds about 20 more per call (cache-key generation, execution
context, result wrapping; measured in docs/performance.md). Five statements per unit
of work put the whole unit far outside the 2x-of-sqlite3 budget, whatever else is done.

What is kept from SQLAlchemy. The SQL text comes from a Core statement compiled for the
connection's dialect (quoting, ``ON CONFLICT``, ``RETURNING``, ``FOR UPDATE OF``), so it is
written once, in typed Core, for both backends. Every bound value and every result value goes
through the column type's own dialect processors (``Money``, ``UTCDateTime``, ``Enum``,
JSON), exactly as ``Connection.execute()`` would apply them. Driver errors are wrapped into
SQLAlchemy's exception classes (``IntegrityError``...), so ``translate_errors`` maps them.

What is skipped: per-call compilation-cache lookups, the execution context and events
(``before_cursor_execute`` listeners do not see these statements; DEBUG logging on this
module's logger does). The statement runs on the Session's own DBAPI connection, so it is part
of the unit of work's transaction like any other. A lost PostgreSQL connection surfaces as
``OperationalError``; the unit of work's rollback then invalidates the connection through
SQLAlchemy's normal path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import ReturnsRows
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

Processor = Callable[[Any], Any] | None
#: Marks a bind parameter with no value of its own: the caller must pass it.
_REQUIRED: Any = object()
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Executed:
    """Rows (already converted to Python values) and the driver's rowcount."""

    rows: list[Row]
    rowcount: int


class _Compiled:
    """One statement compiled for one dialect, with its value processors."""

    __slots__ = (
        "_bind_plan",
        "_result_types",
        "_results_by_codes",
        "dialect",
        "names",
        "positional",
        "sql",
    )

    def __init__(self, statement: Executable, dialect: Dialect, *, validated: bool) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        late = [name for name, bind in compiled.binds.items() if bind.expanding]
        if late or compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError(
                f"a Prepared statement needs fixed SQL; these parameters are rendered per "
                f"execution: {late or list(compiled.post_compile_params)}"
            )
        self.dialect = dialect
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.names: tuple[str, ...] = (
            tuple(compiled.positiontup or ()) if self.positional else tuple(compiled.binds)
        )
        binds = compiled.binds
        # A bind the statement gave a value itself (``.limit(1)``, ``literal(...)``) takes
        # that value unless the caller passes one; every other name must be passed.
        self._bind_plan = tuple(
            (
                name,
                _bind_processor(binds[name].type, dialect, validated=validated),
                _REQUIRED if binds[name].required else binds[name].effective_value,
            )
            for name in self.names
        )
        self._result_types = (
            [column.type for column in statement.exported_columns]
            if isinstance(statement, ReturnsRows)
            else []
        )
        self._results_by_codes: dict[tuple[Any, ...], list[tuple[int, Processor]]] = {}

    def bind(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = [
            value if binder is None or value is None else binder(value)
            for name, binder, default in self._bind_plan
            for value in (params[name] if default is _REQUIRED else params.get(name, default),)
        ]
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))

    def result_processors(self, description: Any) -> list[tuple[int, Processor]]:
        """(column index, processor) for the columns that need one.

        PostgreSQL's processors depend on the type codes the driver reports; SQLite reports
        none, so its plan is computed once.
        """
        codes = () if self.dialect.name == "sqlite" else tuple(c[1] for c in description)
        plan = self._results_by_codes.get(codes)
        if plan is None:
            type_codes = codes or (None,) * len(self._result_types)
            processors = [
                type_.dialect_impl(self.dialect).result_processor(self.dialect, code)
                for type_, code in zip(self._result_types, type_codes, strict=True)
            ]
            plan = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
            self._results_by_codes[codes] = plan
        return plan

    def convert(self, description: Any, raw_rows: Sequence[Any]) -> list[Row]:
        plan = self.result_processors(description)
        if not plan:
            return [tuple(raw) for raw in raw_rows]
        rows = []
        for raw in raw_rows:
            row = list(raw)
            for index, proc in plan:
                value = row[index]
                if value is not None:
                    row[index] = proc(value)  # type: ignore[misc]
            rows.append(tuple(row))
        return rows


def _bind_processor(type_: Any, dialect: Dialect, *, validated: bool) -> Processor:
    """The processor Core would apply; with ``validated``, minus TypeDecorator re-checks.

    ``validated`` is for repositories that have already put every value in the canonical
    form the type's ``process_bind_param`` checks for (``validation.money`` Decimals, aware
    UTC datetimes from ``validation.instant``): the dialect's own conversion (Decimal to
    float on SQLite, datetime to text) still runs, the second validation does not.
    """
    impl = type_.dialect_impl(dialect)
    if validated and isinstance(impl, TypeDecorator):
        return cast(Processor, impl.impl_instance.bind_processor(dialect))
    return cast(Processor, impl.bind_processor(dialect))


class Prepared:
    """A Core statement run with the driver's cursor; compiled on first use per dialect.

    ``statement`` is a Core statement, or a function of the dialect name returning one (for
    dialect-specific constructs such as ``sqlite.insert(...).on_conflict_do_nothing()``).
    Build instances at import time (module constants) and share them: compilation is cached
    per dialect and guarded for threads.
    """

    __slots__ = ("_build", "_by_dialect", "_lock", "name", "validated")

    def __init__(
        self,
        statement: Executable | Callable[[str], Executable],
        *,
        name: str,
        validated: bool = False,
    ) -> None:
        self._build = statement
        self.name = name
        #: Bound values are canonical already (see ``_bind_processor``).
        self.validated = validated
        self._by_dialect: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key)
                if found is None:
                    build = self._build
                    statement = build(dialect.name) if callable(build) else build
                    found = _Compiled(statement, dialect, validated=self.validated)
                    self._by_dialect[key] = found
        return found

    def sql(self, dialect: Dialect) -> str:
        return self.compiled(dialect).sql

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Executed:
        """Run once with ``params`` (Python values, converted by the column types)."""
        compiled = self.compiled(connection.dialect)
        args = compiled.bind(params)
        cursor = connection.connection.cursor()
        try:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s: %s %r", self.name, compiled.sql, args)
            _run(cursor.execute, compiled, args)
            description = cursor.description
            if description is None:
                return Executed([], cursor.rowcount)
            return Executed(compiled.convert(description, cursor.fetchall()), cursor.rowcount)
        finally:
            cursor.close()

    def executemany(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> int:
        """Run for every row of *driver-ready* values, in ``compiled(...).names`` order.

        The bulk caller converts values itself (it has already validated them and a per-value
        processor call is the cost being avoided). Returns the driver's total rowcount.
        """
        compiled = self.compiled(connection.dialect)
        if not compiled.positional:
            raise NotImplementedError(
                f"{self.name}: executemany is for positional drivers; use COPY or unnest"
            )
        cursor = connection.connection.cursor()
        try:
            log.debug("%s: %s x %d", self.name, compiled.sql, len(rows))
            _run(cursor.executemany, compiled, rows)
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _run(method: Callable[[str, Any], Any], compiled: _Compiled, args: Any) -> None:
    # ``driver_errors`` inlined: a generator context manager per statement is measurable here.
    try:
        method(compiled.sql, args)
    except compiled.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(compiled.dialect, compiled.sql, exc) from exc


@contextmanager
def driver_errors(dialect: Dialect, statement: str) -> Iterator[None]:
    """Wrap DBAPI exceptions raised inside into SQLAlchemy's (``IntegrityError``, ...).

    For code that talks to the driver directly (these statements, ``COPY``), so that
    ``translate_errors`` maps its failures like any other; parameters stay out of messages.
    """
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(dialect, statement, exc) from exc


def _wrapped(dialect: Dialect, statement: str, exc: Exception) -> StatementError:
    return DBAPIError.instance(
        statement, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
    )
