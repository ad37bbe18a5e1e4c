"""Time: every instant the API takes or returns is an aware UTC ``datetime``.

Naive datetimes mean different instants on different hosts, so they are refused, never
guessed at. Pure Python: the column type is ``tradestore.db.types.UTCDateTime``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tradestore.errors import NaiveDatetimeError, ValidationError


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_aware(field: str, value: Any) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime, refusing naive ones.

    A datetime subclass (``pandas.Timestamp``) comes back as a plain ``datetime``: drivers and
    comparisons then see one type. Nanoseconds, which a ``Timestamp`` may carry and no column
    keeps, are refused rather than dropped.
    """
    if not isinstance(value, dt.datetime):
        raise ValidationError(field, value, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            field, value, "naive datetime: attach a timezone, e.g. datetime.now(timezone.utc)"
        )
    instant: dt.datetime = value if type(value) is dt.datetime else plain_datetime(field, value)
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        # datetime.max at -05:00 is year 10000 in UTC. PostgreSQL would store it, but no
        # driver can return it as a datetime: every later read of the row would fail.
        raise ValidationError(
            field, value, "outside the years 1 to 9999 in UTC: it could not be read back"
        ) from None


def plain_datetime(field: str, value: dt.datetime) -> dt.datetime:
    """An aware datetime subclass such as ``pandas.Timestamp`` as a plain UTC ``datetime``.

    Converted by the subclass itself first, so its own time-zone rules (pytz, dateutil,
    zoneinfo) decide the offset; then rebuilt field by field, which is exact to the
    microsecond.
    """
    if getattr(value, "nanosecond", 0):
        raise ValidationError(
            field,
            value,
            "has nanoseconds, which the database does not keep (microseconds are the finest "
            "unit): round it first, e.g. Timestamp.floor('us')",
        )
    utc = value.astimezone(dt.UTC)
    return dt.datetime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
        tzinfo=dt.UTC,
    )
