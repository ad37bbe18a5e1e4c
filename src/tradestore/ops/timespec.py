"""Durations and instants as operators type them: ``90d``, ``12h``, ``2024-01-31``."""

from __future__ import annotations

import datetime as dt
import re

from tradestore.errors import ValidationError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, *, field: str = "duration") -> dt.timedelta:
    """``90d`` -> 90 days. Units: s, m, h, d, w. Zero and negative durations are refused."""
    match = _DURATION.match(text)
    if match is None:
        raise ValidationError(field, text, "expected a number and a unit, e.g. 90d, 12h, 2w")
    amount = int(match[1])
    if amount <= 0:
        raise ValidationError(field, text, "must be greater than zero")
    return dt.timedelta(**{_UNITS[match[2]]: amount})


def parse_instant(
    text: str, *, field: str = "since", now: dt.datetime | None = None
) -> dt.datetime:
    """An aware UTC instant from ``2024-01-31``, ``2024-01-31T12:00:00+02:00`` or ``7d`` (ago).

    A date means midnight UTC; a date-time without an offset is read as UTC (documented in
    docs/operations.md), so the same command means the same instant on every host.
    """
    stripped = text.strip()
    if _DURATION.match(stripped):
        return (now or dt.datetime.now(dt.UTC)) - parse_duration(stripped, field=field)
    try:
        if len(stripped) == 10:
            day = dt.date.fromisoformat(stripped)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        instant = dt.datetime.fromisoformat(stripped)
    except ValueError:
        raise ValidationError(
            field, text, "expected a date (2024-01-31), an ISO date-time or a duration (7d)"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)
