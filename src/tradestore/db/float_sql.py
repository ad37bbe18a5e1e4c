"""The float rule of ``tradestore.domain.floats`` in SQL, the same on both dialects.

NaN is "undefined" and skipped like NULL; ±inf are values. PostgreSQL's AVG propagates NaN and
sorts it above +inf, SQLite's counts the stored text 'NaN' as 0: these expressions make both
follow the rule, and ``domain.floats.fix_aggregate`` repairs the one result SQL cannot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, func, literal
from sqlalchemy.orm import QueryableAttribute

from tradestore.db.types import Real
from tradestore.domain.floats import NAN

#: A column or ORM attribute in a SQL expression.
Column = ColumnElement[Any] | QueryableAttribute[Any]


def nan_literal() -> ColumnElement[float]:
    """A bound NaN that compares equal to a stored NaN on both backends.

    Bound through ``Real``: the text 'NaN' on SQLite (what ``Real`` stores), a float8 NaN on
    PostgreSQL (where NaN = NaN is true, unlike IEEE).
    """
    return literal(NAN, Real())


def defined(column: Column) -> ColumnElement[float]:
    """``column`` with NaN turned into NULL, so aggregates and ORDER BY skip it."""
    return func.nullif(column, nan_literal(), type_=Real())


def undefined(column: Column) -> ColumnElement[bool]:
    """True where ``column`` is NULL or NaN."""
    return column.is_(None) | (column == nan_literal())


def average(column: Column) -> ColumnElement[float]:
    """AVG over the defined values of ``column`` (see :func:`fix_aggregate` for the result)."""
    return func.avg(defined(column), type_=Float())


def maximum(column: Column) -> ColumnElement[float]:
    return func.max(defined(column), type_=Float())


def defined_count(column: Column) -> ColumnElement[int]:
    return func.count(defined(column))


def sort_key(aggregate: ColumnElement[Any]) -> ColumnElement[Any]:
    """An aggregate made safe for ``ORDER BY ... DESC NULLS LAST``.

    PostgreSQL sorts a NaN aggregate (+inf and -inf averaged) above every number; NULLIF turns
    it into NULL so it sorts last, where SQLite (which returns NULL for it) sorts it too.
    """
    return func.nullif(aggregate, nan_literal(), type_=Float())
