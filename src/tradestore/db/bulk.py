"""Many rows in one statement: executemany on SQLite, COPY on PostgreSQL.

Repositories say *what* to write (a table or a ``Prepared`` statement, the values column by
column, what repeats on every row, which key makes a row a replay); this module knows *how*
on each driver. The values are validated already: each column is turned into what its type
stores by the type's own encoder (``tradestore.types.storage``), one column at a time and in
C loops where it can, instead of a bind processor call per value. Everything runs on the
unit of work's ``Executor``: inside its transaction, announced to the engine's cursor
events, driver errors translated.

* ``run_many``: one ``executemany`` of a ``Prepared`` statement (SQLite's fastest write: an
  INSERT, or an UPDATE keyed per row; positional drivers only);
* ``copy_rows``: PostgreSQL ``COPY ... FROM STDIN``, binary (fixed-width columns: integers,
  doubles, times) or CSV (anything, amounts exact as text). With ``skip_conflicts_on`` the
  rows go to a per-connection temporary staging table first and then in with one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: COPY is several times faster than any
  INSERT the driver can send, and the staging step keeps the write idempotent, which a COPY
  straight into the table cannot be;
* ``insert_rows``: the idempotent insert of a table's rows, whichever the backend.
"""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import sys
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, Final, Literal, cast

from sqlalchemy import Table, bindparam, column, select, table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable

from tradestore.db.executor import Executor, Prepared
from tradestore.db.types import Storage, has_none, storage

CopyFormat = Literal["binary", "csv"]
Columns = Mapping[str, Sequence[Any]]

_COPY_HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER: Final = struct.pack(">h", -1)
_NULL_CELL: Final = struct.pack(">i", -1)
_lock = threading.Lock()


def _count(columns: Columns) -> int:
    counts = {len(values) for values in columns.values()}
    if len(counts) != 1:
        raise ValueError(f"columns of different lengths: {sorted(counts)}")
    return counts.pop()


# --- executemany ---------------------------------------------------------------------------------

#: Marks a parameter without a value of its own in the statement.
_REQUIRED: Any = object()
#: (Prepared, dialect) -> each positional parameter's name, storage and own value.
_PLANS: dict[tuple[Prepared, str], tuple[tuple[str, Storage, Any], ...]] = {}


def _plan(prepared: Prepared, dialect: Dialect) -> tuple[tuple[str, Storage, Any], ...]:
    key = (prepared, f"{dialect.name}+{dialect.driver}")
    found = _PLANS.get(key)
    if found is None:
        binds = prepared.statement(dialect.name).compile(dialect=dialect).binds  # type: ignore[attr-defined]
        found = tuple(
            (
                name,
                storage(binds[name].type, dialect),
                _REQUIRED if binds[name].required else binds[name].effective_value,
            )
            for name in prepared.names(dialect)
        )
        with _lock:
            _PLANS[key] = found
    return found


def run_many(
    executor: Executor,
    prepared: Prepared,
    columns: Columns,
    *,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Run ``prepared`` once per row with one ``executemany``; returns the total rowcount.

    ``columns`` maps parameter names to one value per row, ``constants`` names the values
    every row shares; a parameter with a value of its own in the statement (a literal) takes
    it. A name the statement uses several times is given once. Values are
    encoded by the type of the parameter they are bound to (SQLite storage; PostgreSQL
    takes them as they are).
    """
    count = _count(columns)
    dialect = executor.dialect
    shared = dict(constants or {})
    plan = _plan(prepared, dialect)
    encoded: dict[str, Sequence[Any]] = {}
    constant: dict[str, Any] = {}
    for name, kind, own in plan:
        if name in encoded or name in constant:
            continue
        encode = kind.sqlite if dialect.name == "sqlite" else None
        if name in shared or (own is not _REQUIRED and name not in columns):
            value = shared.get(name, own)
            constant[name] = value if encode is None or value is None else encode([value])[0]
        else:
            values = columns[name]
            encoded[name] = values if encode is None else encode(values)
    # An iterator: executemany consumes each tuple before the next is built, so no batch of
    # tuples lives long enough to be walked by the garbage collector. Each position gets its
    # own iterator, also where the statement uses a name twice.
    rows = zip(
        *(
            repeat(constant[name], count) if name in constant else encoded[name]
            for name, _, _ in plan
        ),
        strict=True,
    )
    return max(executor.run_many(prepared, rows), 0)


#: (table, columns, conflict key) -> the INSERT for ``insert_rows`` on SQLite.
_INSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Prepared] = {}


def insert_statement(
    target: Table, names: Sequence[str], skip_conflicts_on: Sequence[str]
) -> Prepared:
    """``INSERT INTO target (names) VALUES (...) ON CONFLICT (key) DO NOTHING``, cached."""
    key = (target.fullname, tuple(names), tuple(skip_conflicts_on))
    found = _INSERTS.get(key)
    if found is None:
        values = {name: bindparam(name, type_=target.c[name].type) for name in names}

        def build(dialect_name: str) -> Executable:
            dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
            statement = dialect_insert(target).values(values)
            if skip_conflicts_on:
                return statement.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
            return statement

        found = Prepared(build, name=f"{target.name}.insert_many")
        with _lock:
            _INSERTS.setdefault(key, found)
            found = _INSERTS[key]
    return found


def insert_rows(
    executor: Executor,
    target: Table,
    columns: Columns,
    *,
    constants: Mapping[str, Any] | None = None,
    skip_conflicts_on: Sequence[str] = (),
    format: CopyFormat = "binary",
) -> int:
    """Insert the rows, skipping those whose ``skip_conflicts_on`` key is taken; returns how
    many went in. One ``executemany`` on SQLite, a staged ``COPY`` on PostgreSQL."""
    if executor.dialect_name == "postgresql":
        return copy_rows(
            executor,
            target,
            columns,
            constants=constants,
            skip_conflicts_on=skip_conflicts_on,
            format=format,
        )
    names = [*(constants or {}), *columns]
    prepared = insert_statement(target, names, skip_conflicts_on)
    return run_many(executor, prepared, columns, constants=constants)


# --- PostgreSQL COPY -----------------------------------------------------------------------------


def copy_rows(
    executor: Executor,
    target: Table,
    columns: Columns,
    *,
    constants: Mapping[str, Any] | None = None,
    format: CopyFormat = "binary",
    skip_conflicts_on: Sequence[str] = (),
) -> int:
    """COPY the rows into ``target`` (PostgreSQL); returns how many rows went in.

    Without ``skip_conflicts_on`` the rows go straight into the table, and a taken key fails
    the COPY (``IntegrityViolation``). With it, they are staged and inserted with ``ON
    CONFLICT (key) DO NOTHING``, ``constants`` bound once in that INSERT. The staging table is
    temporary (private to the connection, created on first use and kept while the pooled
    connection lives) and ON COMMIT DELETE ROWS; it is truncated after each use so several
    calls in one transaction never see each other's rows.
    """
    count = _count(columns)
    dialect = executor.dialect
    shared = dict(constants or {})
    if not skip_conflicts_on:
        copied: dict[str, Sequence[Any] | repeat[Any]] = {
            name: repeat(value, count) for name, value in shared.items()
        }
        copied.update(columns)
        # What the server counted: a BEFORE INSERT trigger may skip rows (the fill_id guard
        # of a partitioned fills table skips a taken id, revision 0016).
        return _copy(executor, target.name, target, copied, count, format)
    stage, ddl = _stage(target, dialect)
    executor.execute(text(ddl))
    _copy(executor, f"pg_temp.{stage}", target, dict(columns), count, format)
    result = executor.execute(
        _insert_from_stage(target, stage, columns, shared, skip_conflicts_on), shared
    )
    inserted = max(int(result.rowcount), 0)
    executor.execute(text(f"TRUNCATE pg_temp.{stage}"))
    return inserted


def _copy(
    executor: Executor,
    into: str,
    target: Table,
    columns: Mapping[str, Sequence[Any] | repeat[Any]],
    count: int,
    format: CopyFormat,
) -> int:
    """COPY ``columns`` into ``into``; the rows the server reports as copied."""
    dialect = executor.dialect
    kinds = [storage(target.c[name].type, dialect) for name in columns]
    if format == "binary":
        for name, kind in zip(columns, kinds, strict=True):
            if kind.binary is None:
                raise TypeError(
                    f"{target.name}.{name} ({target.c[name].type}) has no binary COPY form: "
                    "use format='csv'"
                )
        data: Any = io.BytesIO(copy_binary(kinds, list(columns.values()), count))
    else:
        data = io.StringIO(copy_csv(kinds, list(columns.values())))
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    statement = f"COPY {into} ({names}) FROM STDIN WITH (FORMAT {format})"
    with executor.driver_cursor(statement) as cursor:
        if executor.dialect.driver == "asyncpg":
            return _asyncpg_copy(executor, cursor, into, list(columns), data.getvalue(), format)
        cursor.copy_expert(statement, data)
        return int(cursor.rowcount)


def _asyncpg_copy(
    executor: Executor,
    cursor: Any,
    into: str,
    names: list[str],
    data: bytes | str,
    format: CopyFormat,
) -> int:
    """The same COPY stream through asyncpg's ``copy_to_table`` (tradestore.aio); the rows
    its command tag (``COPY n``) reports.

    Runs inside the unit of work's greenlet: ``run_async`` awaits the driver coroutine on
    the calling task. SQLAlchemy's adapter begins its transaction on the first statement it
    sends; a COPY that comes first is preceded by one, or it would commit on its own.
    """
    adapted = executor.connection.connection.dbapi_connection
    assert adapted is not None
    driver: Any = adapted.driver_connection
    if not driver.is_in_transaction():
        cursor.execute("SELECT 1")
    schema, _, table_name = into.rpartition(".")
    # A memoryview: asyncpg would read bytes as a file name.
    source = memoryview(data.encode() if isinstance(data, str) else data)
    try:
        status = adapted.run_async(
            lambda connection: connection.copy_to_table(
                table_name,
                source=source,
                columns=names,
                schema_name=schema or None,
                format=format,
            )
        )
    except Exception as exc:
        raise _asyncpg_error(executor.dialect.loaded_dbapi, exc) from exc
    return int(str(status).rsplit(" ", 1)[-1])


def _asyncpg_error(dbapi: Any, exc: Exception) -> Exception:
    """An exception of asyncpg's ``copy_to_table`` as the adapter's DBAPI error.

    ``run_async`` hands asyncpg's own exceptions on untranslated (a server refusal, or the
    socket's ``OSError`` when the connection drops mid-stream); as the adapter's error (the
    SQLSTATE kept as ``pgcode``) ``driver_cursor`` translates it like any statement's.
    Anything else (a bug) is left as it is.
    """
    import asyncpg

    if isinstance(exc, dbapi.Error):
        return cast(Exception, exc)
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return cast(Exception, dbapi.IntegrityError(str(exc), exc))
    if isinstance(exc, asyncpg.SyntaxOrAccessError):
        return cast(Exception, dbapi.ProgrammingError(str(exc), exc))
    if isinstance(exc, asyncpg.PostgresError):
        return cast(Exception, dbapi.Error(str(exc), exc))
    if isinstance(exc, asyncpg.InterfaceError):
        return cast(Exception, dbapi.InterfaceError(str(exc), exc))
    if isinstance(exc, OSError):
        return cast(Exception, dbapi.OperationalError(f"connection lost during COPY: {exc}", exc))
    return exc


def copy_binary(kinds: Sequence[Storage], columns: Sequence[Iterable[Any]], count: int) -> bytes:
    """The rows as one PostgreSQL binary COPY stream, each column by its type's ``Storage``.

    Every column must have a binary form (fixed width: integers, doubles, times); NaN and
    ±inf are their IEEE bits. Without NULLs each row is one ``struct`` packed by ``map`` in C.
    """
    encoded: list[Sequence[Any]] = []
    for kind, values in zip(kinds, columns, strict=True):
        if kind.binary is None:
            raise TypeError("a column without a binary COPY form: use format='csv'")
        values = values if isinstance(values, Sequence) else list(values)
        encoded.append(values if kind.to_binary is None else kind.to_binary(values))
    field_count = len(encoded)
    if not any(map(has_none, encoded)):
        # One struct per row: (field count, length, value, length, value, ...).
        layout = ">h" + "".join("i" + str(kind.binary) for kind in kinds)
        arguments: list[Iterable[Any]] = [repeat(field_count, count)]
        for kind, values in zip(kinds, encoded, strict=True):
            arguments.append(repeat(kind.binary_width))
            arguments.append(values)
        body = b"".join(map(struct.Struct(layout).pack, *arguments))
    else:
        cells = [_cells(kind, values) for kind, values in zip(kinds, encoded, strict=True)]
        row_start = struct.pack(">h", field_count)
        body = b"".join(map(b"".join, zip(repeat(row_start, count), *cells, strict=True)))
    return _COPY_HEADER + body + _COPY_TRAILER


def _cells(kind: Storage, values: Sequence[Any]) -> list[bytes]:
    pack = struct.Struct(f">i{kind.binary}").pack
    width = kind.binary_width
    return [_NULL_CELL if v is None else pack(width, v) for v in values]


def copy_csv(kinds: Sequence[Storage], columns: Sequence[Iterable[Any]]) -> str:
    """The rows as CSV COPY input: each value as its type's input text, None as NULL."""
    encoded: list[Iterable[Any]] = []
    for kind, values in zip(kinds, columns, strict=True):
        to_text = kind.text
        if to_text is None:  # csv writes str(value)
            encoded.append(values)
        else:
            encoded.append([None if v is None else to_text(v) for v in values])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(zip(*encoded, strict=True))
    return buffer.getvalue()


_STAGES: dict[tuple[str, str], tuple[str, str]] = {}


def _stage(target: Table, dialect: Dialect) -> tuple[str, str]:
    """The name of ``target``'s staging table, and the DDL creating it if it is missing: a
    temporary table with ``target``'s columns and types, and none of its constraints.

    The name carries a digest of the column list. A temporary table lives as long as the
    server connection, and behind PgBouncer that connection outlives this client and is
    handed to others: one running a later tradestore (a migration added a column) must not
    find an older client's staging table under the same name and COPY into columns it lacks.
    """
    key = (target.fullname, dialect.name)
    found = _STAGES.get(key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(
            f"{quote(c.name)} {c.type.compile(dialect=dialect)}" for c in target.columns
        )
        digest = hashlib.blake2s(columns.encode(), digest_size=4).hexdigest()
        stage = f"tradestore_stage_{target.name}_{digest}"
        ddl = f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS"
        found = _STAGES[key] = (stage, ddl)
    return found


_FROM_STAGE: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], Executable] = {}


def _insert_from_stage(
    target: Table,
    stage: str,
    columns: Columns,
    constants: Mapping[str, Any],
    skip_conflicts_on: Sequence[str],
) -> Executable:
    key = (target.fullname, tuple(constants), tuple(columns), tuple(skip_conflicts_on))
    found = _FROM_STAGE.get(key)
    if found is None:
        staged = table(stage, *(column(name) for name in columns), schema="pg_temp")
        source = select(
            *(bindparam(name, type_=target.c[name].type) for name in constants),
            *staged.c,
        )
        found = (
            postgresql.insert(target)
            .from_select([*constants, *columns], source)
            .on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        )
        _FROM_STAGE[key] = found
    return found


# --- PostgreSQL binary values read back ----------------------------------------------------------


def unpack_binary(code: Literal["i", "d"], packed: bytes | memoryview) -> list[Any]:
    """int4 / float8 values in PostgreSQL's binary form (``int4send``, ``float8send``: big
    endian, back to back), as a list; ``array`` unpacks them in C."""
    values = array(code)
    assert values.itemsize == (4 if code == "i" else 8)
    values.frombytes(packed)
    if sys.byteorder == "little":
        values.byteswap()
    return values.tolist()
