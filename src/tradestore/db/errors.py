"""Driver errors into ``tradestore.errors``: the one classifier and the one translation.

Everything that runs a statement (the executor, the unit of work's BEGIN and COMMIT, ops)
hands a failure to ``raise_translated`` or runs inside ``translate_errors``, so a caller never
has to import sqlalchemy, sqlite3 or psycopg2 to handle one. Constraint kinds are read from
the database's own codes (PostgreSQL's SQLSTATE, SQLite's extended result codes), never from
constraint names or message text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tradestore.config import mask_text, mask_url, secret_fragments
from tradestore.db.retry import is_connection_lost, is_transient
from tradestore.errors import (
    CommitOutcomeUnknown,
    DatabaseUnavailable,
    IntegrityViolation,
    ReadOnlyUnitOfWork,
    SchemaError,
    TradestoreError,
    TransactionAborted,
    TransientDatabaseError,
)

UPGRADE_HINT = (
    "run `tradestore db upgrade` (or `alembic upgrade head`, or `python scripts/init_database.py`)"
)

#: Constraint kinds by PostgreSQL SQLSTATE (Appendix A of the PostgreSQL manual).
_PG_CONSTRAINT_KINDS = {
    "23505": "unique",
    "23503": "foreign_key",
    "23514": "check",
    "23502": "not_null",
    "23P01": "exclusion",
}
#: ... and by SQLite extended result code (https://sqlite.org/rescode.html).
_SQLITE_CONSTRAINT_KINDS = {
    2067: "unique",  # SQLITE_CONSTRAINT_UNIQUE
    1555: "unique",  # SQLITE_CONSTRAINT_PRIMARYKEY
    787: "foreign_key",  # SQLITE_CONSTRAINT_FOREIGNKEY
    275: "check",  # SQLITE_CONSTRAINT_CHECK
    1299: "not_null",  # SQLITE_CONSTRAINT_NOTNULL
}
#: PostgreSQL's read_only_sql_transaction: a write in a READ ONLY transaction.
_READ_ONLY_TRANSACTION = "25006"
#: SQLite's primary result code for a write refused by ``PRAGMA query_only`` (or a read-only
#: file); extended codes carry it in the low byte.
_SQLITE_READONLY = 8
#: PostgreSQL SQLSTATEs of a statement naming a schema object that does not exist.
_UNDEFINED_OBJECT_SQLSTATES = frozenset({"42P01", "42703", "42883"})  # table, column, function
_SQLITE_UNDEFINED_OBJECT = ("no such table", "no such column", "no such function")


def constraint_kind(exc: BaseException) -> str | None:
    """ "unique", "foreign_key", "check", "not_null" (or "exclusion"), from the database's code."""
    root = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(root, "pgcode", None)
    if code is not None:
        return _PG_CONSTRAINT_KINDS.get(code)
    sqlite_code = getattr(root, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return _SQLITE_CONSTRAINT_KINDS.get(sqlite_code)
    return None


def database_error_in(exc: BaseException) -> DBAPIError | None:
    """The driver error ``exc`` is, or was raised while handling (``raise X from None`` too)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DBAPIError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def is_unique_violation(exc: BaseException) -> bool:
    error = database_error_in(exc)
    return error is not None and constraint_kind(error) == "unique"


def is_foreign_key_violation(exc: BaseException) -> bool:
    error = database_error_in(exc)
    return error is not None and constraint_kind(error) == "foreign_key"


def is_missing_schema_object(exc: DBAPIError) -> bool:
    """A statement named a table, column or function the database does not have.

    A schema problem, not an outage: the database is reachable and answering, it is just
    not at the schema the code expects (a dropped table, a half-restored file). Reporting
    it as ``DatabaseUnavailable`` sends an operator after the network instead of the
    migration.
    """
    root = exc.orig
    code = getattr(root, "pgcode", None)
    if code is not None:
        return code in _UNDEFINED_OBJECT_SQLSTATES
    return isinstance(root, sqlite3.OperationalError) and str(root).lower().startswith(
        _SQLITE_UNDEFINED_OBJECT
    )


def raise_translated(
    exc: BaseException,
    url: URL | str | None = None,
    *,
    committing: bool = False,
    readonly: bool = False,
) -> NoReturn:
    """Raise the ``tradestore.errors`` exception for ``exc`` (from None: messages are masked,
    the original stays reachable as ``__context__`` for ``database_error_in``).

    ``committing`` marks the COMMIT itself: a connection lost there leaves the outcome unknown.
    ``readonly`` marks a ``readonly=True`` unit of work's block: there SQLite's SQLITE_READONLY
    is its ``PRAGMA query_only`` refusing the bot's own write (anywhere else it means a
    database file the process may not write, which is not the caller's mistake).
    """
    if isinstance(exc, TradestoreError):
        raise exc
    if isinstance(exc, PendingRollbackError):
        # The bot's own ORM flush failed inside the block, the bot caught it and went on:
        # the Session refuses to continue, and so does tradestore, naming the cause.
        raise TransactionAborted(
            "an earlier statement of this unit of work failed and its transaction was rolled "
            f"back; nothing was committed: {mask_text(str(exc), secret_fragments(url))}",
            exc,
        ) from None
    if isinstance(exc, PoolTimeout):
        raise _pool_exhausted(exc, url) from None
    if not isinstance(exc, DBAPIError):
        raise exc
    detail_text = mask_text(str(exc.orig), secret_fragments(url)).strip()
    if isinstance(exc, IntegrityError):
        constraint = _constraint_name(exc)
        raise IntegrityViolation(
            f"the database refused the write ({constraint or 'constraint'}): {detail_text}",
            constraint,
            kind=constraint_kind(exc),
        ) from None
    where = mask_url(url) if url is not None else "database"
    detail = f"{where}: {detail_text}"
    if committing and is_connection_lost(exc):
        raise CommitOutcomeUnknown(
            f"connection lost during COMMIT, the transaction may have committed: {detail}"
        ) from None
    if is_transient(exc):
        raise TransientDatabaseError(detail) from None
    if getattr(exc.orig, "pgcode", None) == _READ_ONLY_TRANSACTION or (
        readonly and (getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_READONLY
    ):
        # SQL of the bot's own in a readonly=True unit of work (the repositories' writes are
        # refused before they are sent): PostgreSQL's read-only transaction refused it
        raise ReadOnlyUnitOfWork("a statement of the bot's own", detail_text) from None
    if is_missing_schema_object(exc):
        raise SchemaError(
            f"{detail}: the database lacks a table or column this tradestore uses; "
            f"{UPGRADE_HINT}, then `tradestore db verify`"
        ) from None
    if isinstance(exc, OperationalError):
        raise DatabaseUnavailable(detail) from None
    raise TradestoreError(detail) from None


@contextmanager
def translate_errors(
    url: URL | str | None = None, *, committing: bool = False, readonly: bool = False
) -> Iterator[None]:
    """Run the block with ``raise_translated`` as its net."""
    try:
        yield
    except TradestoreError:
        raise
    except (DBAPIError, PendingRollbackError, PoolTimeout) as exc:
        raise_translated(exc, url, committing=committing, readonly=readonly)


def _pool_exhausted(exc: PoolTimeout, url: URL | str | None) -> TransientDatabaseError:
    """Every pooled connection stayed checked out for ``pool_timeout`` seconds.

    Nothing was sent, so it is transient (``Database.run`` tries again under its policy);
    the message names the settings that size the pool, with SQLAlchemy's figures for them.
    """
    where = mask_url(url) if url is not None else "database"
    figures = str(exc.args[0]) if exc.args else str(exc)
    return TransientDatabaseError(
        f"{where}: no pooled connection came free within pool_timeout ({figures}): "
        "every one of pool_size + max_overflow connections is held by another unit of work; "
        "raise pool_size, max_overflow or pool_timeout (Database(url, pool_size=...)), or "
        "keep units of work shorter"
    )


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)  # psycopg2
    name = getattr(diag, "constraint_name", None)
    if name is None:  # asyncpg, whose error SQLAlchemy's adapter keeps as the cause
        name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    if name:
        return str(name)
    message = str(exc.orig)
    for marker in ("CHECK constraint failed: ", "UNIQUE constraint failed: "):
        if marker in message:
            return message.split(marker, 1)[1].strip()
    return None
