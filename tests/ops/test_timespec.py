from __future__ import annotations

import datetime as dt

import pytest

from tradestore.errors import ValidationError
from tradestore.ops.timespec import parse_duration, parse_instant

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", dt.timedelta(days=90)),
        (" 12h ", dt.timedelta(hours=12)),
        ("2w", dt.timedelta(weeks=2)),
        ("30m", dt.timedelta(minutes=30)),
        ("45s", dt.timedelta(seconds=45)),
    ],
)
def test_durations(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "90",
        "d",
        "0d",
        "-5d",
        "1.5d",
        "90 days",
        "1y",
        "\u0669\u0660d",  # Arabic-Indic 90
        "\uff19\uff10d",  # full-width 90
        "9" * 5000 + "d",  # more digits than int() reads
        "99999999999w",  # beyond timedelta
        "90d\n\u00a0",  # non-ASCII space
    ],
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_duration(text, field="--older-than")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-31", dt.datetime(2025, 1, 31, tzinfo=dt.UTC)),
        ("2025-01-31T12:30:00", dt.datetime(2025, 1, 31, 12, 30, tzinfo=dt.UTC)),
        ("2025-01-31T12:30:00+02:00", dt.datetime(2025, 1, 31, 10, 30, tzinfo=dt.UTC)),
        ("2025-01-31T12:30:00Z", dt.datetime(2025, 1, 31, 12, 30, tzinfo=dt.UTC)),
        ("7d", NOW - dt.timedelta(days=7)),
    ],
)
def test_instants(text: str, expected: dt.datetime) -> None:
    parsed = parse_instant(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo is dt.UTC


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "31/01/2025"])
def test_bad_instants(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_instant(text)


@pytest.mark.parametrize(
    "text",
    ["", "  ", "999999999d", "\u0662\u0660\u0662\u0665-01-31", "0001-01-01T00:00:00+05:00"],
)
def test_bad_instants_are_validation_errors(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_instant(text, field="--before", now=NOW)
    assert caught.value.field == "--before"
