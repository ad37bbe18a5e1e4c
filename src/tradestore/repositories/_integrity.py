"""Classify a driver ``IntegrityError`` so repositories can raise the domain error instead.

The repositories validate first; the database constraints are the second line. When one of
them fires anyway (a bot that was never registered, a key written concurrently), the caller
should see ``BotNotFound`` or a ``ConflictError`` naming the row, not a driver exception.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from tradestore.database import translate_errors

# PostgreSQL SQLSTATE codes (Appendix A of the PostgreSQL manual).
_PG_FOREIGN_KEY = "23503"
_PG_UNIQUE = "23505"


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


P = ParamSpec("P")
R = TypeVar("R")


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Let no driver or SQLAlchemy database error out of a repository method.

    ``Database.session`` translates errors when the unit of work ends, but a caller catching
    errors *inside* the ``with`` block would still see a raw ``IntegrityError``. The mapping is
    ``database.translate_errors``'s; on success the cost is one extra call frame.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except DBAPIError:
            with translate_errors():
                raise
            raise  # pragma: no cover - translate_errors always raises

    return wrapper
