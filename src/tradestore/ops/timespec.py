"""Durations and instants as operators type them: ``90d``, ``12h``, ``2024-01-31``.

Only ASCII is accepted: Python's ``int`` and ``\\d`` also read Arabic-Indic, Devanagari and
full-width digits, which a terminal may show as something else entirely, so a cut-off that
deletes rows is never read from them. A duration or instant whose cut-off would fall outside
the years 1 to 9999 is refused with a ValidationError (the CLI's usage error, exit 2) instead
of overflowing later.
"""

from __future__ import annotations

import datetime as dt
import re

from tradestore.errors import ValidationError

_DURATION = re.compile(r"\s*([0-9]+)\s*([smhdw])\s*", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: More digits than any representable duration has (999999999 days is 8.6e13 seconds).
_MAX_DIGITS = 15
_INSTANT_HINT = "expected a date (2024-01-31), an ISO date-time or a duration (7d)"


def parse_duration(text: str, *, field: str = "duration") -> dt.timedelta:
    """``90d`` -> 90 days. Units: s, m, h, d, w. Zero, negative and unrepresentable
    durations are refused."""
    match = _DURATION.fullmatch(text) if text.isascii() else None
    if match is None:
        raise ValidationError(field, text, "expected a number and a unit, e.g. 90d, 12h, 2w")
    digits = match[1]
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        raise ValidationError(field, text, _TOO_LONG_AGO)
    amount = int(digits)
    if amount <= 0:
        raise ValidationError(field, text, "must be greater than zero")
    try:
        return dt.timedelta(**{_UNITS[match[2]]: amount})
    except OverflowError:
        raise ValidationError(field, text, _TOO_LONG_AGO) from None


_TOO_LONG_AGO = "too long ago: the cut-off would be before the year 1"


def cutoff_before(now: dt.datetime, age: dt.timedelta, *, field: str, text: object) -> dt.datetime:
    """``now - age``, or a ValidationError when that is before the year 1."""
    try:
        return now - age
    except OverflowError:
        raise ValidationError(field, text, _TOO_LONG_AGO) from None


def parse_instant(
    text: str, *, field: str = "since", now: dt.datetime | None = None
) -> dt.datetime:
    """An aware UTC instant from ``2024-01-31``, ``2024-01-31T12:00:00+02:00`` or ``7d`` (ago).

    A date means midnight UTC; a date-time without an offset is read as UTC (documented in
    docs/operations.md), so the same command means the same instant on every host.
    """
    stripped = text.strip()
    if not stripped:
        raise ValidationError(field, text, f"empty: {_INSTANT_HINT}")
    if not stripped.isascii():
        raise ValidationError(field, text, f"only ASCII digits and letters: {_INSTANT_HINT}")
    if _DURATION.fullmatch(stripped):
        age = parse_duration(stripped, field=field)
        return cutoff_before(now or dt.datetime.now(dt.UTC), age, field=field, text=text)
    try:
        if len(stripped) == 10:
            day = dt.date.fromisoformat(stripped)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        instant = dt.datetime.fromisoformat(stripped)
    except ValueError:
        raise ValidationError(field, text, _INSTANT_HINT) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(field, text, "outside the years 1 to 9999 in UTC") from None
