"""The array literals the bulk import binds on PostgreSQL, checked against the real thing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import DateTime, Numeric, String, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY

from tradestore import Database
from tradestore.repositories.order_sql import pg_array

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
