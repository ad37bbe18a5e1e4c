"""Revision 0014 (a session's prior sums), up, down and up again, on both backends: the
downgrade drops the five columns and keeps every row and every other value; after the upgrade
a session opened before it (prior sums NULL) ends with a recount of its rows, and one opened
after it from the running totals, both equal to the recount."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.migrate import compare_schema

REVISION = "0014"
#: The revision 0014 revises: the one place to change when another is merged before it.
PREVIOUS = "0013"
PRIOR = ("prior_trades", "prior_wins", "prior_losses", "prior_realized_pnl", "prior_commission")
T0 = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
D = Decimal


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


def _trade(database: Database, exit_price: str) -> None:
    with database.unit_of_work(bot_id="alpha") as uow:
        position = uow.positions.open("AAPL", side="long", quantity=D(2), entry_price=D(100))
        uow.positions.close(
            position.position_id, exit_price=D(exit_price), exit_reason="signal",
            commission=D("0.25"),
        )  # fmt: skip


@pytest.fixture
def traded(fresh_url: str) -> Iterator[Database]:
    """At head: an ended session with three trades and an open one with one."""
    database = Database(fresh_url, check_schema=False, clock=Clock())
    database.upgrade()
    with database.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(1000))
        uow.bots.start_session("alpha")
    for price in ("110", "95.5", "100"):
        _trade(database, price)
    with database.unit_of_work() as uow:
        uow.bots.end_session("alpha")
        uow.bots.start_session("alpha")
    _trade(database, "120")
    yield database
    database.dispose()


def _columns(database: Database) -> set[str]:
    with database.connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns("trading_sessions")}


def _rows(database: Database, names: list[str]) -> list[Any]:
    with database.connect() as connection:
        return connection.execute(
            text(f"SELECT {', '.join(names)} FROM trading_sessions ORDER BY session_id")
        ).all()


def test_down_drops_the_prior_sums_and_keeps_the_rest(traded: Database) -> None:
    kept = sorted(_columns(traded) - set(PRIOR))
    before = _rows(traded, kept)
    assert _rows(traded, ["prior_trades"]) == [(0,), (3,)]

    traded.downgrade(PREVIOUS)

    assert not set(PRIOR) & _columns(traded)
    assert _rows(traded, kept) == before

    traded.upgrade()

    with traded.connect() as connection:
        assert compare_schema(connection) == []
    assert _rows(traded, kept) == before
    assert _rows(traded, list(PRIOR)) == [(None,) * 5] * 2
    # The session left open across the round trip recounts; the next one uses the totals.
    with traded.unit_of_work() as uow:
        recounted = uow.bots.recover("alpha").interrupted_session
    _trade(traded, "90")
    with traded.unit_of_work() as uow:
        derived = uow.bots.set_status("alpha", "stopped")
    with traded.unit_of_work(bot_id="alpha", readonly=True) as uow:
        sessions = list(uow.sessions.list())[::-1]
        figures = [uow.sessions.figures(s.session_id) for s in sessions]
    assert recounted is not None
    assert derived.ended_at is not None
    assert [s.total_trades for s in sessions] == [3, 1, 1]
    assert [s.total_pnl for s in sessions] == [D("10.25"), D("39.75"), D("-20.25")]
    for session, computed in zip(sessions, figures, strict=True):
        assert (session.total_trades, session.total_pnl, session.total_commission) == (
            computed.total_trades,
            computed.total_pnl,
            computed.total_commission,
        )
