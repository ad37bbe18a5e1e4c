"""Conversions the bulk import writes by hand for speed, checked against the real thing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, Numeric, String, bindparam, cast, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from tradestore import Database
from tradestore.db.types import UTCDateTime, sqlite_time
from tradestore.repositories.order_sql import pg_array

SQLITE = sqlite.dialect()
BIND = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)


@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [dt.UTC, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=9))]
        ),
    )
)
@settings(max_examples=300)
def test_sqlite_time_is_what_the_column_type_binds(value: dt.datetime) -> None:
    assert BIND is not None
    assert sqlite_time(value) == BIND(value)


def test_sqlite_time_keeps_six_decimals() -> None:
    assert sqlite_time(dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)) == (
        "2026-01-05 14:30:00.000000"
    )


HOSTILE = [
    'a"b',
    "back\\slash",
    "trailing\\",
    "comma,brace}{",
    "NULL",
    "",
    " spaced ",
    "quote'single",
    "ünïcødé",
    'both \\" mixed',
]


def test_pg_array_round_trips_hostile_strings(db: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL array literals")
    statement = select(cast(bindparam("v", type_=String), ARRAY(String)))
    with db.session(readonly=True) as session:
        assert session.execute(statement, {"v": pg_array([*HOSTILE, None])}).scalar_one() == [
            *HOSTILE,
            None,
        ]


def test_pg_array_of_amounts_and_times(db: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL array literals")
    amounts = [Decimal("1E+2"), Decimal("0.000000000000000001"), Decimal("-12.5"), None]
    times = [dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), None]
    with db.session(readonly=True) as session:
        got = session.execute(
            select(cast(bindparam("v", type_=String), ARRAY(Numeric(38, 18)))),
            {"v": pg_array(amounts)},
        ).scalar_one()
        assert got == amounts
        got_times = session.execute(
            select(cast(bindparam("v", type_=String), ARRAY(DateTime(timezone=True)))),
            {"v": pg_array(times)},
        ).scalar_one()
        assert got_times == times
