"""The one way tradestore runs a statement: ``Executor.execute`` on the unit of work's Connection.

Every repository and analytics call hands its Core statement to the unit of work's
``Executor``. It runs it on the unit of work's one Connection, translates a refusal into a
``tradestore.errors`` exception (``db.errors``), and notes a refusal that broke the
transaction so the block cannot commit what is left of it (see ``failure``).

Two kinds of statement, one path:

* an ad-hoc Core statement (built per call: a filter, a page) goes through
  ``Connection.execute``, with SQLAlchemy's compiled cache;
* a ``Prepared`` statement (a module constant of the hot path: insert an order, apply a fill)
  is compiled once per dialect. When nothing listens to the engine's statement events it runs
  on the connection's DBAPI cursor with the column types' own bind and result processors:
  ``Connection.execute`` costs 20-50 microseconds per call (cache key, execution context,
  result object), several times the statement itself on SQLite, and a bot runs these all day.
  As soon as a listener is attached to the engine (OpenTelemetry, Sentry, Datadog, a test
  counting statements, ``echo``), the same compiled SQL and bound values go through
  ``Connection.exec_driver_sql`` instead, so every listener and the engine's log see every
  statement with a real execution context. Either way the SQL text, the bound values and
  the rows are the same (``tests/db/test_executor.py`` holds both ways to that).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVarTuple, cast, overload

from sqlalchemy import Connection, CursorResult, RootTransaction, event
from sqlalchemy.engine import Dialect, Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import ReturnsRows
from sqlalchemy.types import TypeDecorator

from tradestore.db.errors import raise_translated
from tradestore.domain.timestamps import ensure_aware
from tradestore.errors import ReadOnlyUnitOfWork, TradestoreError, TransactionAborted

if TYPE_CHECKING:
    from sqlalchemy.sql.selectable import TypedReturnsRows

log = logging.getLogger(__name__)
#: The statement events instrumentation listens to; any listener sends Prepared statements
#: through ``Connection.execute``.
_STATEMENT_EVENTS = (
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)

Clock = Callable[[], dt.datetime]
_Ts = TypeVarTuple("_Ts")
Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]
#: Marks a bind parameter with no value of its own: the caller must pass it.
_REQUIRED: Any = object()


def utc_now() -> dt.datetime:
    """The default clock: the host's, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Executed:
    """A ``Prepared`` statement's rows (Python values) and the driver's rowcount."""

    rows: list[Row]
    rowcount: int

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class Executor:
    """One unit of work's connection and transaction, and the state that goes with them.

    Repositories hold it and never commit; the unit of work that made it does. ``now()`` is
    the Database's clock: every timestamp the library writes is taken from it.
    """

    __slots__ = (
        "_failure",
        "_nested",
        "_raw_ok",
        "_transaction",
        "clock",
        "connection",
        "dialect",
        "dialect_name",
        "readonly",
    )

    def __init__(
        self,
        connection: Connection,
        *,
        clock: Clock = utc_now,
        transaction: RootTransaction | None = None,
        readonly: bool = False,
    ) -> None:
        self.connection = connection
        #: A ``readonly=True`` unit of work's: every write is refused before it runs
        #: (``ReadOnlyUnitOfWork``), since the block rolls back at its end.
        self.readonly = readonly
        self.dialect: Dialect = connection.dialect
        self.dialect_name: str = connection.dialect.name
        self.clock = clock
        #: The unit of work's transaction: a statement after it ended (``uow.session.rollback()``
        #: rolls it back) is refused, never run outside it. None: autobegin, as Core does.
        self._transaction = transaction
        self._failure: tuple[Any, BaseException] | None = None
        self._nested = 0
        dispatch = connection.dispatch
        handlers = connection.dialect.dispatch.handle_error
        self._raw_ok = not (
            any(getattr(dispatch, name) for name in _STATEMENT_EVENTS)
            # tradestore's own handle_error listener needs no statement of this path: the
            # executor notes its own refusals (see ``note_failed_statements``).
            or (handlers and any(fn is not _note_failed_statement for fn in handlers))
            or connection.engine.logger.isEnabledFor(logging.INFO)  # echo=True
        )

    @classmethod
    def of(cls, target: Executor | Session | Connection) -> Executor:
        """``target`` itself, or an executor over a Session's or Connection's transaction.

        For code that holds a Session of its own (``db.session()``, a bot's framework) and
        builds a repository or ``Analytics`` on it: the statements join that transaction.
        """
        if isinstance(target, Executor):
            return target
        if isinstance(target, Session):
            return cls(target.connection())
        if isinstance(target, Connection):
            return cls(target)
        raise TypeError(f"expected an Executor, Session or Connection, got {type(target).__name__}")

    @property
    def in_savepoint(self) -> bool:
        return self._nested > 0

    def now(self) -> dt.datetime:
        """The clock's time as an aware UTC datetime, the form every statement binds.

        A clock that answers in another zone is converted; a naive answer is refused
        (``NaiveDatetimeError``), since the zone it means cannot be known.
        """
        value = self.clock()
        if type(value) is dt.datetime and value.tzinfo is dt.UTC:
            return value
        return ensure_aware("clock", value)

    # --- statements -------------------------------------------------------------------------

    @overload
    def execute(
        self, statement: TypedReturnsRows[*_Ts], params: Any = None
    ) -> CursorResult[*_Ts]: ...

    @overload
    def execute(
        self, statement: Executable, params: Any = None
    ) -> CursorResult[*tuple[Any, ...]]: ...

    def execute(self, statement: Executable, params: Any = None) -> CursorResult[*tuple[Any, ...]]:
        """Run an ad-hoc Core statement (``params``: a dict, or a list of dicts for many)."""
        self.refuse_if_failed()
        if self.readonly:
            verb = _writes(statement)
            if verb is not None:
                self.refuse_write(None, verb)
        try:
            return self.connection.execute(statement, params)
        except DBAPIError as exc:
            self._refused(exc)
            raise  # pragma: no cover - _refused always raises
        except StatementError as exc:
            # A column type refused a value while binding it (``NaiveDatetimeError``):
            # SQLAlchemy wraps it; the caller gets tradestore's own error.
            if isinstance(exc.orig, TradestoreError):
                raise exc.orig from None
            raise

    def run(self, prepared: Prepared, params: Mapping[str, Any]) -> Executed:
        """Run a ``Prepared`` statement once with ``params`` (Python values)."""
        self.refuse_if_failed()
        if self.readonly and prepared.writes(self.dialect_name):
            self.refuse_write(None, prepared.name)
        if not self._raw_ok:
            return self._through_connection(prepared, params)
        compiled = prepared.compiled(self.dialect)
        args = compiled.bind(params)
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, args)
            description = cursor.description
            if description is None:
                return Executed([], cursor.rowcount)
            return Executed(compiled.convert(description, cursor.fetchall()), cursor.rowcount)
        except self.dialect.loaded_dbapi.Error as exc:
            self._refused(self._wrapped(compiled.sql, exc, cursor))
            raise  # pragma: no cover
        finally:
            cursor.close()

    def run_many(self, prepared: Prepared, rows: Iterable[Sequence[Any]]) -> int:
        """Run a ``Prepared`` statement for every row of *driver-ready* values, in
        ``prepared.names(dialect)`` order: the bulk callers have validated and converted
        every value already (a processor call per value is the cost being avoided). Returns
        the driver's total rowcount."""
        self.refuse_if_failed()
        if self.readonly and prepared.writes(self.dialect_name):
            self.refuse_write(None, prepared.name)
        compiled = prepared.compiled(self.dialect)
        if not compiled.positional:
            raise NotImplementedError(f"{prepared.name}: run_many is for positional drivers")
        if not self._raw_ok:
            batch = [tuple(r) for r in rows]
            if not batch:
                return 0  # exec_driver_sql would run the statement once, without parameters
            try:
                result = self.connection.exec_driver_sql(compiled.sql, batch)
            except DBAPIError as exc:
                self._refused(exc)
                raise  # pragma: no cover
            return int(result.rowcount)
        cursor = self.connection.connection.cursor()
        try:
            cursor.executemany(compiled.sql, rows)  # type: ignore[arg-type]  # any iterable
            return int(cursor.rowcount)
        except self.dialect.loaded_dbapi.Error as exc:
            self._refused(self._wrapped(compiled.sql, exc, cursor))
            raise  # pragma: no cover
        finally:
            cursor.close()

    def _through_connection(self, prepared: Prepared, params: Mapping[str, Any]) -> Executed:
        """The same SQL and bound values, sent with ``Connection.exec_driver_sql``: the
        engine's events and logging see it, and the rows are converted as on the fast path."""
        compiled = prepared.compiled(self.dialect)
        args = compiled.bind(params)
        try:
            result = self.connection.exec_driver_sql(compiled.sql, args)
        except DBAPIError as exc:
            self._refused(exc)
            raise  # pragma: no cover
        if not result.returns_rows:
            return Executed([], result.rowcount)
        description = result.cursor.description
        return Executed(compiled.convert(description, result.fetchall()), result.rowcount)

    @contextmanager
    def driver_cursor(self, statement: str) -> Iterator[Any]:
        """The DBAPI cursor, for the one driver API Core has no spelling of (PostgreSQL COPY).

        The statement is announced to the engine's cursor events like any other, with a
        context object listeners may keep their state on (tracing integrations set attributes
        on it), and ``after_cursor_execute`` runs whether or not the statement succeeded, so
        no span is left open; a driver error is translated and noted as ``execute`` would.
        """
        self.refuse_if_failed()
        if self.readonly:
            self.refuse_write(None, statement.split(None, 1)[0].upper())
        connection = self.connection
        cursor = connection.connection.cursor()
        listened = not self._raw_ok
        context = _CursorContext(connection, cursor, statement) if listened else None
        dispatch = connection.dispatch
        try:
            if listened:
                dispatch.before_cursor_execute(connection, cursor, statement, {}, context, False)
            try:
                yield cursor
            finally:
                if listened:
                    dispatch.after_cursor_execute(connection, cursor, statement, {}, context, False)
        except self.dialect.loaded_dbapi.Error as exc:
            self._refused(self._wrapped(statement, exc, cursor))
        finally:
            cursor.close()

    # --- refusals ---------------------------------------------------------------------------

    def refuse_write(self, call: str | None, statement: str = "a write") -> None:
        """In a ``readonly=True`` unit of work, raise ``ReadOnlyUnitOfWork``: a method that
        writes calls it up front with its name; every write statement is checked here too
        (``call`` None: the repository method's name is added by ``db.net``)."""
        if self.readonly:
            raise ReadOnlyUnitOfWork(call or "a call", statement)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run the block in a SAVEPOINT: if the database refuses it, only the block is undone.

        Costs SAVEPOINT and RELEASE (two round trips on PostgreSQL): for methods off the hot
        path. A refusal inside is not noted as breaking the transaction; a failed rollback to
        the savepoint (a lost connection) is raised as is.
        """
        self.refuse_if_failed()
        try:
            nested = self.connection.begin_nested()
        except DBAPIError as exc:
            self._refused(exc)
            raise  # pragma: no cover
        self._nested += 1
        try:
            yield
        except BaseException:
            self._nested -= 1
            nested.rollback()
            raise
        self._nested -= 1
        try:
            nested.commit()
        except DBAPIError as exc:
            # RELEASE failed: the transaction's state is unknown, so this is noted however
            # deep the savepoint was, and the savepoint is ended so an enclosing one can
            # still roll back.
            try:
                nested.rollback()
            except DBAPIError:
                log.debug("rollback after a failed RELEASE failed", exc_info=True)
            try:
                raise_translated(exc, self.connection.engine.url)
            except TradestoreError as error:
                self.note_failure(error)
                raise

    def _wrapped(self, statement: str, exc: Exception, cursor: Any) -> DBAPIError:
        """The driver error as SQLAlchemy wraps it, a lost connection invalidated as
        ``Connection.execute`` would (so the pool replaces it and ``run`` can retry)."""
        dialect = self.dialect
        lost = dialect.is_disconnect(
            exc,  # type: ignore[arg-type]  # a DBAPI error
            self.connection.connection.dbapi_connection,
            cursor,
        )
        wrapped = cast(
            DBAPIError,
            DBAPIError.instance(
                statement,
                None,
                exc,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=dialect,
            ),
        )
        if lost:
            self.connection.invalidate(exc)
        return wrapped

    def _refused(self, exc: DBAPIError) -> None:
        """Translate ``exc``; outside a savepoint, remember it as what broke the transaction."""
        try:
            raise_translated(exc, self.connection.engine.url)
        except TradestoreError as error:
            if self._nested == 0:
                self.note_failure(error)
            raise

    def note_failure(self, error: BaseException) -> None:
        """Remember ``error`` as what broke this transaction, unless an earlier one did.

        Tied to the transaction: a block that rolls it back itself (``uow.session.rollback()``)
        starts over clean.
        """
        if self._noted() is None:
            self._failure = (self.connection.get_transaction(), error)

    def _noted(self) -> BaseException | None:
        noted = self._failure
        if noted is None:
            return None
        if noted[0] is not self.connection.get_transaction():
            self._failure = None
            return None
        return noted[1]

    def refuse_if_failed(self) -> None:
        """Raise ``TransactionAborted`` at once when an earlier call broke this transaction.

        On PostgreSQL every later statement would fail anyway ("current transaction is
        aborted"), on SQLite it would succeed and then be rolled back with the rest: saying so
        up front, naming the first error, is the same answer on both.
        """
        if self._failure is not None and (first := self._noted()) is not None:
            raise aborted(first)
        connection = self.connection
        if self._transaction is None:
            if not connection.in_transaction():
                connection.begin()  # the raw path would otherwise run outside any transaction
        elif connection.get_transaction() is not self._transaction:
            raise TransactionAborted(
                "nothing was committed: this unit of work's transaction was ended inside the "
                "block (uow.session.rollback() or a failed flush rolls it back); let the block "
                "end and run it again"
            )

    def failure(self) -> TransactionAborted | None:
        """Why committing now would silently lose writes, or None.

        Two sources: a refusal noted here, and the database's own word that the transaction
        can no longer commit (PostgreSQL's "in error" state, or SQLite having rolled the
        transaction back itself, as it does on a full disk). The second catches refusals no
        repository saw, such as a failed statement of the bot's own on ``uow.session``;
        asking costs no round trip on either driver.
        """
        first = self._noted()
        if first is not None:
            return aborted(first)
        current = self.connection.get_transaction()
        if (
            self._transaction is not None
            and current is not None
            and current is not self._transaction
        ):
            # The block's transaction was rolled back (``uow.session.rollback()``) and the
            # Session began another one: committing it would pass off the writes after the
            # rollback as the block's, and the Session would roll them back when it closes.
            return TransactionAborted(
                "nothing was committed: this unit of work's transaction was rolled back inside "
                "the block and uow.session wrote in a new one; let the block end there"
            )
        if not _aborted_by_database(self.connection):
            return None
        return TransactionAborted(
            "nothing was committed: a statement failed earlier in this unit of work and the "
            "database aborted its transaction; let the error end the block (or wrap that "
            "statement in uow.session.begin_nested()) and run the block again"
        )


def _writes(statement: Executable) -> str | None:
    """What ``statement`` would write or lock ("INSERT INTO orders", "SELECT ... FOR UPDATE
    OF bots"), or None for a plain read. A text statement is not parsed: it is the bot's
    own, and PostgreSQL refuses its writes itself (a read-only transaction)."""
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        verb = type(statement).__name__.upper()
        return f"{verb} {getattr(table, 'name', '')}".strip()
    if getattr(statement, "_for_update_arg", None) is not None:
        return "SELECT ... FOR UPDATE"
    return None


def aborted(first: BaseException) -> TransactionAborted:
    return TransactionAborted(
        f"nothing was committed: an earlier call in this unit of work was refused by the "
        f"database and left the transaction unusable ({type(first).__name__}: {first}); "
        "let the error end the block, then run the block again",
        first,
    )


#: psycopg2.extensions.TRANSACTION_STATUS_INERROR (libpq's PQTRANS_INERROR): COMMIT will roll back.
_PG_IN_ERROR = 3
#: ``Connection.info`` key: the transaction (and savepoint) a statement failed in, on a
#: driver that cannot say its transaction is in error (asyncpg).
_FAILED_IN = "tradestore_failed_in"


def note_failed_statements(engine: Engine) -> None:
    """Remember, per connection, the transaction a statement failed in (asyncpg's engine).

    PostgreSQL aborts a transaction at its first failed statement, and COMMIT then rolls it
    back without an error. psycopg2 reports that state (``get_transaction_status``); asyncpg
    keeps it private, and its COMMIT of an aborted transaction raises nothing: writes were
    lost silently. This listener sees every failed statement that went through SQLAlchemy
    (the bot's own on ``uow.session`` included); ``failure`` reads what it noted. The
    executor's own raw-cursor statements note their refusals themselves, so this listener
    alone keeps that path open (``Executor._raw_ok``).
    """
    event.listen(engine, "handle_error", _note_failed_statement)


def _note_failed_statement(context: ExceptionContext) -> None:
    connection = context.connection
    if connection is None or context.is_disconnect:
        return
    transaction = connection.get_transaction()
    if transaction is not None:
        connection.info[_FAILED_IN] = (transaction, connection.get_nested_transaction())


def _aborted_by_database(connection: Connection) -> bool:
    if connection.closed or connection.invalidated or not connection.in_transaction():
        return False  # lost: the commit reports that on its own
    raw = connection.connection.dbapi_connection
    driver = getattr(raw, "driver_connection", raw)  # an async driver's adapted connection
    status = getattr(driver, "get_transaction_status", None)  # psycopg2
    if callable(status):
        return bool(status() == _PG_IN_ERROR)
    failed_in = connection.info.get(_FAILED_IN)  # asyncpg (note_failed_statements)
    if failed_in is not None and failed_in[0] is connection.get_transaction():
        savepoint = failed_in[1]
        # A failure inside a savepoint is undone by rolling back to it.
        if savepoint is None or savepoint.is_active:
            return True
    try:
        in_transaction = getattr(driver, "in_transaction", None)  # sqlite3, aiosqlite
    except ValueError:  # aiosqlite, its connection closed
        return False
    return in_transaction is False


# --- compiled statements -----------------------------------------------------------------------


class _Compiled:
    """One statement compiled for one dialect, with its value processors."""

    __slots__ = (
        "_result_types",
        "_results_by_codes",
        "dialect",
        "names",
        "plan",
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
        computed = [name for name, bind in compiled.binds.items() if bind.callable is not None]
        if computed or compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults and callable values are computed per execution by
            # Connection.execute; this path would send None (or the value of compile time).
            raise ValueError(
                "a Prepared statement binds every value itself; these are computed per "
                f"execution: {computed or [c.name for c in compiled.insert_prefetch]}"
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
        self.plan = tuple(
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
        """The driver's parameters: in SQL order for a positional driver (a name used twice
        is converted twice, cheaper than building a dict first), else by name."""
        values = [
            value if binder is None or value is None else binder(value)
            for name, binder, default in self.plan
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

    ``validated`` is for statements whose every value the repository has already put in the
    canonical form the type's ``process_bind_param`` checks for (``Money`` Decimals, aware
    UTC datetimes): the dialect's own conversion (Decimal to float on SQLite, datetime to
    text) still runs, the second validation does not.
    """
    impl = type_.dialect_impl(dialect)
    # Only a decorator that converts in process_bind_param alone may be skipped: one with a
    # bind_processor of its own (``Real``'s NaN on SQLite) converts there, not just checks.
    if (
        validated
        and isinstance(impl, TypeDecorator)
        and type(impl).bind_processor is TypeDecorator.bind_processor
    ):
        return cast(Processor, impl.impl_instance.bind_processor(dialect))
    return cast(Processor, impl.bind_processor(dialect))


class Prepared:
    """A hot-path Core statement, compiled once per dialect and run by ``Executor.run``.

    ``statement`` is a Core statement, or a function of the dialect name returning one (for
    dialect-specific constructs such as ``sqlite.insert(...).on_conflict_do_nothing()``).
    Build instances at import time (module constants) and share them: compilation is cached
    per dialect and guarded for threads.
    """

    __slots__ = (
        "_build",
        "_by_dialect",
        "_lock",
        "_statements",
        "_writes",
        "name",
        "validated",
    )

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
        self._statements: dict[str, Executable] = {}
        self._writes: dict[str, bool] = {}
        self._lock = threading.Lock()

    def writes(self, dialect_name: str) -> bool:
        """Whether the statement writes or locks rows (``readonly`` units of work refuse it)."""
        found = self._writes.get(dialect_name)
        if found is None:
            found = _writes(self.statement(dialect_name)) is not None
            self._writes[dialect_name] = found
        return found

    def statement(self, dialect_name: str) -> Executable:
        found = self._statements.get(dialect_name)
        if found is None:
            build = self._build
            found = build(dialect_name) if callable(build) else build
            self._statements[dialect_name] = found
        return found

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key)
                if found is None:
                    statement = self.statement(dialect.name)
                    found = _Compiled(statement, dialect, validated=self.validated)
                    self._by_dialect[key] = found
        return found

    def sql(self, dialect: Dialect) -> str:
        return self.compiled(dialect).sql

    def names(self, dialect: Dialect) -> tuple[str, ...]:
        """The parameter names in the order ``Executor.run_many`` takes their values."""
        return self.compiled(dialect).names


class _CursorContext:
    """What cursor-event listeners get as ``context`` for a statement sent on the driver's
    cursor (COPY): the attributes an execution context has that listeners read, and room for
    the ones they set (OpenTelemetry's span, Sentry's span manager)."""

    def __init__(self, connection: Connection, cursor: Any, statement: str) -> None:
        self.connection = connection
        self.root_connection = connection
        self.cursor = cursor
        self.statement = statement
        self.parameters: list[Any] = [{}]
        self.dialect = connection.dialect
        self.engine = connection.engine
        self.execution_options = connection.get_execution_options()
        self.compiled = None
        self.isddl = False
        self.executemany = False
        self.invoked_statement = None
