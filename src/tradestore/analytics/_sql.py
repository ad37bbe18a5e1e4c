"""SQL expressions the two backends spell differently, for the analytics queries.

They compile to the same SQL revision 0004 wrote into the views, so a query and a view that
answer the same question agree on what a "day" is and on what NaN means.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    func,
    literal_column,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tradestore.db.types import Money
from tradestore.domain.money import fit_aggregate


class utc_date(FunctionElement[dt.date]):  # noqa: N801 - reads like the SQL function it is
    """The UTC calendar day of a stored instant, as a DATE.

    PostgreSQL: ``CAST(x AT TIME ZONE 'UTC' AS DATE)`` (the expression revision 0004 indexes);
    SQLite: ``date(x)`` on the UTC text tradestore stores.
    """

    type = Date()
    name = "utc_date"
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return f"CAST({compiler.process(argument, **kw)} AT TIME ZONE 'UTC' AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    (argument,) = element.clauses
    return f"date({compiler.process(argument, **kw)})"


class DerivedMoney(Money):
    """An amount the database computed (a sum, an average, a product), read like ``Money``
    and then rounded to what the backend stores (``tradestore.domain.money.fit_aggregate``).

    On SQLite the arithmetic runs in doubles, so ``SUM`` of 12.34-style amounts comes back as
    584.7990000000001; rounding to the 15 significant digits a double holds gives the decimal
    the sum stands for (up to the accumulated rounding error of a long sum: SQLite's aggregates
    are approximate, see docs/reference/queries.md). On PostgreSQL the arithmetic is exact and
    only an average's extra decimals beyond the 18 that money keeps are rounded.
    """

    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        amount = super().process_result_value(value, dialect)
        if amount is None:
            return None
        return fit_aggregate(amount, dialect.name)


def recent(condition: ColumnElement[bool], dialect: str) -> ColumnElement[bool]:
    """A time-window condition ("the last 7 days"), marked as selective for SQLite's planner.

    SQLite keeps no histograms in common builds (no STAT4), so it guesses that a range keeps
    a quarter of the rows, and at 1M orders it preferred reading a bot's whole history
    through an index that saves a GROUP BY sort (0.4 s) over the 7-day range (5 ms).
    ``likelihood(x, 0.01)`` is SQLite's documented hint: the term stays usable by indexes.
    PostgreSQL estimates ranges from its statistics and gets the condition as it is.
    """
    if dialect == "sqlite":
        return type_coerce(func.likelihood(condition, literal_column("0.01")), Boolean())
    return condition
