"""The database's clock as a SQL expression, for timestamps that several hosts compare.

PostgreSQL: ``statement_timestamp()`` (``now()`` is frozen at the start of the transaction).
SQLite: ``strftime(..., 'now')`` formatted exactly like SQLAlchemy stores ``UTCDateTime``
(``YYYY-MM-DD HH:MM:SS.ffffff``), so the values sort and compare correctly as text against
every other timestamp in the table. On SQLite the "server" is the SQLite library of whichever
process writes, i.e. that host's clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Interval, bindparam, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

from tradestore.db.types import UTCDateTime

_SQLITE_NOW_FORMAT = "%Y-%m-%d %H:%M:%f000"  # %f is SS.SSS: pad to microseconds


#: SQLite's clock as literal SQL, for statements compiled once and run by the driver.
SQLITE_NOW_SQL = f"strftime('{_SQLITE_NOW_FORMAT}', 'now')"


def sqlite_now_literal() -> ColumnElement[Any]:
    """SQLite's clock as a literal SQL fragment (no bound parameters)."""
    return literal_column(SQLITE_NOW_SQL, type_=UTCDateTime())


def database_now(dialect: str, *, minus: dt.timedelta | None = None) -> ColumnElement[Any]:
    """The database's current time, optionally ``minus`` a duration."""
    if dialect == "sqlite":
        if minus is None:
            return func.strftime(_SQLITE_NOW_FORMAT, "now", type_=UTCDateTime())
        modifier = f"{-minus.total_seconds():+.6f} seconds"
        return func.strftime(_SQLITE_NOW_FORMAT, "now", modifier, type_=UTCDateTime())
    now = func.statement_timestamp(type_=UTCDateTime())
    if minus is None:
        return now
    return now - bindparam("minus", minus, type_=Interval())
