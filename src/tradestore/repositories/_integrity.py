"""Classify driver errors, and keep a refused call from breaking the rest of the unit of work.

The repositories validate first; the database constraints are the second line. When one of
them fires anyway (a bot that was never registered, a key written concurrently), the caller
should see ``BotNotFound`` or a ``ConflictError`` naming the row, not a driver exception.

A refusal must also undo only the call that was refused: a bot that catches the error and
carries on expects the block's other writes to commit, on both backends. PostgreSQL aborts the
whole transaction on any failed statement, so the rule for every repository method is:

* a refusal the caller is expected to meet is decided without a failing statement
  (``ON CONFLICT DO NOTHING`` then read the winner, an insert guarded by ``EXISTS``);
* a method that runs a statement the database may still refuse, and is off the hot path,
  runs it in ``savepoint``, which undoes it alone on both backends;
* anything else the database refuses is noted on the session by ``translated``, and the unit
  of work then ends with ``TransactionAborted`` instead of committing what is left.

``error_net`` puts ``translated`` on every public method of a repository class (and of
``Analytics``), so no method, including one added later, can let a driver error out;
tests/reliability/test_error_net.py provokes one in the statements of every method.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import GeneratorType
from typing import Any, NoReturn, ParamSpec, TypeVar, cast

from sqlalchemy import Double, Float, Numeric, String, Table, Text, exists, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import JSON, TypeDecorator, TypeEngine

from tradestore.database import translate_errors
from tradestore.dialects import upsert_insert
from tradestore.errors import TradestoreError
from tradestore.models.bots import Bot
from tradestore.unit_of_work import note_failure, refuse_if_failed

# PostgreSQL SQLSTATE codes (Appendix A of the PostgreSQL manual).
_PG_FOREIGN_KEY = "23503"
_PG_UNIQUE = "23505"
#: Attribute set on a driver error that a savepoint (or SQLite's statement rollback) undid.
_CONTAINED = "_tradestore_contained"


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "pgcode", None)
    if code is not None:
        return bool(code == _PG_FOREIGN_KEY)
    return "FOREIGN KEY constraint failed" in str(exc.orig)


def is_unique_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "pgcode", None)
    if code is not None:
        return bool(code == _PG_UNIQUE)
    message = str(exc.orig)
    return "UNIQUE constraint failed" in message or "PRIMARY KEY" in message


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


def contained(exc: BaseException) -> None:
    """Mark the driver error behind ``exc`` as undone on its own: the transaction is intact.

    For a single statement refused on SQLite, which undoes just that statement, and for
    ``savepoint``.
    """
    error = database_error_in(exc)
    if error is not None:
        setattr(error, _CONTAINED, True)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """Run the block in a SAVEPOINT: if the database refuses it, only the block is undone.

    Costs SAVEPOINT and RELEASE (two round trips on PostgreSQL): for methods off the hot path.
    A failed rollback to the savepoint (a lost connection) is raised as is, not contained.
    """
    nested = session.begin_nested()
    try:
        yield
    except BaseException as exc:
        nested.rollback()
        contained(exc)
        raise
    commit_savepoint(nested)


def commit_savepoint(nested: SessionTransaction) -> None:
    """RELEASE ``nested``; if that fails, end it all the same and raise, not contained.

    A failed RELEASE leaves the Session's nested transaction open while its connection-level
    savepoint is gone: the enclosing savepoint's rollback would then trip over it (SQLAlchemy
    warns "nested transaction already deassociated from connection"). What the block wrote
    may still stand, so the error is noted and the unit of work cannot commit.
    """
    try:
        nested.commit()
    except BaseException:
        nested.rollback()
        raise


def insert_for_registered_bot(
    table: Table, values: dict[str, ColumnElement[object]], dialect: str
) -> Insert:
    """``INSERT ... SELECT <values> WHERE EXISTS (<the bot>) ON CONFLICT DO NOTHING``.

    The two refusals a bot may meet on its first write, an unregistered bot and a key already
    taken, then insert nothing instead of failing the statement: the transaction stays
    usable, and the caller learns which one it was from a read (``rowcount`` 0). The bot is
    ``values["bot_id"]``; the EXISTS is a primary-key probe, no extra round trip. PostgreSQL
    types a bare parameter in a SELECT list as text, so each value is cast to its column's
    type there (unbounded, so an over-long value still meets the column's own check).
    """
    columns = [
        sql_cast(value, _cast_type(table.c[name].type)) if dialect == "postgresql" else value
        for name, value in values.items()
    ]
    bots = Bot.__table__
    guarded = select(*columns).where(exists().where(bots.c.bot_id == values["bot_id"]))
    insert = upsert_insert(dialect, table).from_select(list(values), guarded)
    return insert.on_conflict_do_nothing()  # type: ignore[no-any-return]


def _cast_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(type_, JSON):
        return JSONB()
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, String):
        return Text()
    if isinstance(type_, Float):
        return Double()
    if isinstance(type_, Numeric):
        return Numeric()
    return type_


P = ParamSpec("P")
R = TypeVar("R")


#: Set on a method that already has the net, so ``error_net`` does not wrap it twice.
_NET = "_tradestore_error_net"


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Let no driver or SQLAlchemy database error out of a repository method, and note on
    the session any refusal that no savepoint contained (see the module docstring).

    ``Database.session`` translates errors when the unit of work ends, but a caller catching
    errors *inside* the ``with`` block would still see a raw ``IntegrityError``. The mapping is
    ``database.translate_errors``'s; on success the cost is one extra call frame. A method
    returning a generator (``iter_episodes``) runs its statements while it is iterated: the
    generator is netted too.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = getattr(args[0], "_session", None) if args else None
        if session is not None and session.info:
            refuse_if_failed(session)
        try:
            result = method(*args, **kwargs)
        except (DBAPIError, TradestoreError) as exc:
            _raise_translated(args, exc)
        if type(result) is GeneratorType:
            return cast(R, _translated_iteration(args, cast(Iterator[Any], result)))
        return result

    setattr(wrapper, _NET, True)
    return wrapper


def _translated_iteration(args: tuple[object, ...], iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from iterator
    except (DBAPIError, TradestoreError) as exc:
        _raise_translated(args, exc)


def _raise_translated(args: tuple[object, ...], exc: DBAPIError | TradestoreError) -> NoReturn:
    if isinstance(exc, TradestoreError):
        cause = database_error_in(exc)
        if cause is not None:
            _note(args, cause, exc)
        raise exc
    try:
        with translate_errors():
            raise exc
    except TradestoreError as error:
        _note(args, exc, error)
        raise
    raise AssertionError("translate_errors always raises")  # pragma: no cover


C = TypeVar("C", bound=type)


def error_net(cls: C) -> C:
    """Put ``translated`` on every public method ``cls`` defines (``atomic`` ones have it).

    Applied once per repository class instead of per method, so a method added later is
    netted without anyone remembering to: the class, not its author, owns the rule.
    """
    for name, value in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(value) or getattr(value, _NET, False):
            continue
        setattr(cls, name, translated(value))
    return cls


def _note(args: tuple[object, ...], cause: DBAPIError, error: TradestoreError) -> None:
    if getattr(cause, _CONTAINED, False) or not args:
        return
    session = getattr(args[0], "_session", None)
    if isinstance(session, Session):
        note_failure(session, error)


def atomic(method: Callable[P, R]) -> Callable[P, R]:
    """``translated``, with the whole method in ``savepoint``: a refusal undoes the method's
    own writes and nothing else. For writes off the hot path (registering a bot, a daily
    snapshot, a training run), where SAVEPOINT and RELEASE cost nothing that matters; the
    hot-path writes avoid failing statements instead (module docstring)."""

    @functools.wraps(method)
    def in_savepoint(*args: P.args, **kwargs: P.kwargs) -> R:
        session = getattr(args[0], "_session", None) if args else None
        if not isinstance(session, Session):
            return method(*args, **kwargs)
        with savepoint(session):
            return method(*args, **kwargs)

    return translated(in_savepoint)
