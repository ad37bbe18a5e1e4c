"""The error net: no driver or SQLAlchemy error out of a public repository or analytics call.

The executor translates and notes every statement it runs (``db.executor``); this net is what
makes that a rule of the class rather than of each method: ``error_net`` puts ``translated``
on every public method a repository (or ``Analytics``) defines, so a method added later is
covered without anyone remembering to. ``translated`` refuses at once in a transaction an
earlier call broke, translates whatever the executor could not see (a driver error raised
while a result is read, a generator's statements run after the method returned), and
``atomic`` runs a whole method in a savepoint, so a refusal undoes its own writes and nothing
else. ``tests/reliability/test_error_net.py`` makes the driver fail inside every public method.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from types import GeneratorType
from typing import Any, NoReturn, ParamSpec, TypeVar, cast

from sqlalchemy.exc import DBAPIError, StatementError

from tradestore.db.errors import raise_translated
from tradestore.db.executor import Executor
from tradestore.errors import ReadOnlyUnitOfWork, TradestoreError

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)
#: Marks a method that already carries the net (``atomic`` ones do).
_NET = "_tradestore_error_net"


def _executor(args: tuple[Any, ...]) -> Executor | None:
    db = getattr(args[0], "_db", None) if args else None
    return db if isinstance(db, Executor) else None


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Refuse in a broken transaction, and translate any database error of ``method``.

    A method returning a generator (``iter_episodes``) runs its statements while it is
    iterated: the generator is netted too. On success the cost is one call frame.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        db = _executor(args)
        if db is not None:
            db.refuse_if_failed()
        try:
            result = method(*args, **kwargs)
        except ReadOnlyUnitOfWork as exc:
            if exc.call != "a call":
                raise
            # the statement was refused by the executor: name the call that made it
            raise ReadOnlyUnitOfWork(
                f"{type(args[0]).__name__}.{method.__name__}", exc.statement
            ) from None
        except DBAPIError as exc:
            _raise(db, exc)
        except StatementError as exc:
            # A column type refused a value while SQLAlchemy bound it: tradestore's own error.
            if isinstance(exc.orig, TradestoreError):
                raise exc.orig from None
            raise
        if type(result) is GeneratorType:
            return cast(R, _translated_iteration(db, cast(Iterator[Any], result)))
        return result

    setattr(wrapper, _NET, True)
    return wrapper


def _translated_iteration(db: Executor | None, iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from iterator
    except DBAPIError as exc:
        _raise(db, exc)


def _raise(db: Executor | None, exc: DBAPIError) -> NoReturn:
    url = db.connection.engine.url if db is not None else None
    try:
        raise_translated(exc, url)
    except BaseException as error:
        if db is not None and not db.in_savepoint:
            db.note_failure(error)  # a savepoint undoes the refusal on its own
        raise


def error_net(cls: C) -> C:
    """Put ``translated`` on every public method ``cls`` defines (``atomic`` ones have it)."""
    for name, value in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(value) or getattr(value, _NET, False):
            continue
        setattr(cls, name, translated(value))
    return cls


def atomic(method: Callable[P, R]) -> Callable[P, R]:
    """``translated``, with the whole method in a savepoint: a refusal undoes the method's
    own writes and nothing else. For writes off the hot path (registering a bot, a daily
    snapshot, a training run), where SAVEPOINT and RELEASE cost nothing that matters; the
    hot-path writes avoid failing statements instead (``repositories/_integrity.py``)."""

    @functools.wraps(method)
    def in_savepoint(*args: P.args, **kwargs: P.kwargs) -> R:
        db = _executor(args)
        if db is None:
            return method(*args, **kwargs)
        with db.savepoint():
            return method(*args, **kwargs)

    return translated(in_savepoint)
