"""The raw driver replaying the exact statements tradestore sent, with the same parameters.

A hand-written baseline measures a design someone chose; this one measures the library
alone. ``capture`` runs a unit of work's body twice and records every statement the DBAPI
connection receives with its driver-ready parameters, whichever path sent it (during the
capture the pool's connection proxy points at a recording wrapper of the driver
connection). The values that differ between the two runs and are not timestamps are the
unit's identifiers (generated order and position ids, client order ids, fill ids); ``Replay``
gives them fresh values on every run, so each replay inserts new rows and does the same work
as tradestore, and sends it with ``sqlite3`` / ``psycopg2`` directly in one transaction.

A ``before_cursor_execute`` listener on ``db.engine`` counts the same statements; the summary
prints both counts, so statements that bypass SQLAlchemy's cursor events (and with them
instrumentation and ``echo``) show up as a difference.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import event

from tradestore import Database

#: Transaction control: the replay issues its own (BEGIN IMMEDIATE / COMMIT, or psycopg2's).
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "END")
#: Pragmas copied from tradestore's SQLite connection onto the replay's.
_PRAGMAS = (
    "synchronous", "foreign_keys", "busy_timeout", "cache_size", "temp_store", "mmap_size",
)  # fmt: skip


def _is_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_CONTROL)


@dataclass
class Capture:
    """What one body sent, as the driver received it, and what the cursor events saw."""

    statements: list[tuple[str, Any]] = field(default_factory=list)
    listened: list[tuple[str, Any]] = field(default_factory=list)
    source: str = "driver"
    #: Set when the listener's statements replaced a shorter driver recording.
    driver_count: int | None = None
    executemany: int = 0
    pragmas: dict[str, Any] = field(default_factory=dict)

    @property
    def listener_count(self) -> int:
        return len(self.listened)

    def settle(self) -> None:
        """Replay what the listener saw if the driver recording missed some of it.

        That happens if the executor keeps a cursor opened before the capture began.
        """
        if len(self.listened) > len(self.statements):
            self.driver_count = len(self.statements)
            self.statements, self.source = list(self.listened), "listener"

    def summary(self, name: str) -> str:
        verbs = ", ".join(" ".join(sql.split()[:3]) for sql, _ in self.statements) or "none"
        driver = len(self.statements) if self.driver_count is None else self.driver_count
        line = (
            f"  {name}: the driver ran {driver} statements (BEGIN/COMMIT excluded),"
            f" before_cursor_execute saw {self.listener_count}; replaying {len(self.statements)}"
            f" from the {self.source}: {verbs}"
        )
        if self.executemany:
            line += f"; {self.executemany} executemany calls not replayed"
        if self.listener_count < driver:
            line += "  (some statements bypass the cursor events)"
        return line


class _RecordingCursor:
    def __init__(self, cursor: Any, capture: Capture) -> None:
        self._cursor = cursor
        self._capture = capture

    def execute(self, sql: Any, *args: Any) -> Any:
        text = sql.decode() if isinstance(sql, bytes) else str(sql)
        if not _is_control(text):
            self._capture.statements.append((text, args[0] if args else None))
        return self._cursor.execute(sql, *args)

    def executemany(self, sql: Any, *args: Any) -> Any:
        self._capture.executemany += 1
        return self._cursor.executemany(sql, *args)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _RecordingConnection:
    def __init__(self, connection: Any, capture: Capture) -> None:
        self._connection = connection
        self._capture = capture

    def cursor(self, *args: Any, **kwargs: Any) -> _RecordingCursor:
        return _RecordingCursor(self._connection.cursor(*args, **kwargs), self._capture)

    def execute(self, sql: str, *args: Any) -> Any:  # sqlite3's shortcut
        return self.cursor().execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def capture_once(db: Database, body: Callable[[Any], object], *, bot_id: str) -> Capture:
    """Run ``body(uow)`` in one unit of work and record what it sent."""
    captured = Capture()

    def listener(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not _is_control(statement) and not many:
            captured.listened.append((statement, parameters))

    # Attached before the unit of work begins: the executor reads the engine's listeners then.
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.unit_of_work(bot_id=bot_id) as uow:
            # uow.executor since the one-core redesign; uow.session's connection before it.
            executor = getattr(uow, "executor", None)
            raw = executor.connection if executor is not None else uow.session.connection()
            fairy: Any = raw.connection
            driver = fairy.dbapi_connection
            if db.dialect_name == "sqlite":
                for name in _PRAGMAS:
                    captured.pragmas[name] = driver.execute(f"PRAGMA {name}").fetchone()[0]
            fairy.dbapi_connection = _RecordingConnection(driver, captured)
            try:
                body(uow)
            finally:
                fairy.dbapi_connection = driver
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    captured.settle()
    return captured


def _substitutable(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        pass
    else:  # decimal text: a running total (position_totals on SQLite), never an identifier
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return True
    return False


def _items(params: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(params, Mapping):
        yield from params.items()
    elif isinstance(params, (list, tuple)):
        yield from enumerate(params)


class Replay:
    """Statements from two captures of the same body, identifiers made fresh per run."""

    def __init__(self, first: Capture, second: Capture) -> None:
        self.capture = second
        same_shape = [sql for sql, _ in first.statements] == [sql for sql, _ in second.statements]
        #: (sql, params, [(key, old value)] to substitute)
        self.plan: list[tuple[str, Any, list[tuple[Any, str]]]] = []
        self.identifiers: set[str] = set()
        for index, (sql, params) in enumerate(second.statements):
            before = dict(_items(first.statements[index][1])) if same_shape else {}
            keys = [
                (key, value)
                for key, value in _items(params)
                if _substitutable(value) and (key not in before or before[key] != value)
            ]
            self.identifiers.update(value for _, value in keys)
            self.plan.append((sql, params, keys))
        self.same_shape = same_shape
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self.plan)

    def bound(self, overrides: Mapping[str, str] | None = None) -> list[tuple[str, Any]]:
        """The statements with every identifier fresh (or taken from ``overrides``)."""
        n = next(self._counter)
        fresh = {old: f"{old}~{n}" for old in self.identifiers}
        if overrides:
            fresh.update(overrides)
        out = []
        for sql, params, keys in self.plan:
            if keys:
                if isinstance(params, Mapping):
                    params = dict(params)
                    for key, old in keys:
                        params[key] = fresh[old]
                else:
                    values = list(params)
                    for key, old in keys:
                        values[key] = fresh[old]
                    params = tuple(values)
            out.append((sql, params))
        return out

    @staticmethod
    def run(cursor: Any, statements: list[tuple[str, Any]]) -> None:
        """Execute on a driver cursor, fetching what returns rows; no transaction control."""
        for sql, params in statements:
            if params is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()


def capture(db: Database, body: Callable[[Any, int], object], *, bot_id: str) -> Replay:
    """Warm up once, then capture ``body(uow, n)`` twice (n distinct per call)."""
    counter = itertools.count(10**6)
    with db.unit_of_work(bot_id=bot_id) as uow:
        body(uow, next(counter))
    first = capture_once(db, lambda uow: body(uow, next(counter)), bot_id=bot_id)
    second = capture_once(db, lambda uow: body(uow, next(counter)), bot_id=bot_id)
    return Replay(first, second)


def sqlite_replay_connection(db: Database, replay: Replay) -> sqlite3.Connection:
    """A sqlite3 connection with the pragmas tradestore's own connection had."""
    connection = sqlite3.connect(db.url.database or "", isolation_level=None)
    for name, value in replay.capture.pragmas.items():
        connection.execute(f"PRAGMA {name}={value}")
    return connection


def unit_runner(connection: Any, dialect: str, replay: Replay, *, units: int) -> Callable[[], None]:
    """``units`` transactions, each the replayed statements then COMMIT."""

    def run() -> None:
        cursor = connection.cursor()
        for _ in range(units):
            statements = replay.bound()
            if dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            Replay.run(cursor, statements)
            if dialect == "sqlite":
                cursor.execute("COMMIT")
            else:
                connection.commit()
        cursor.close()

    return run
