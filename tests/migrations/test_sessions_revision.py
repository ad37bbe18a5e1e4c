"""Revision 0010 (trading sessions, intraday snapshots), up, down and up again, on both
backends: every bot that had started gets a first session, the views and the daily snapshots
keep their rows, and the downgrade refuses, naming them, the rows 0008's schema cannot hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from sibling import load
from tradestore import Database
from tradestore.errors import MigrationError
from tradestore.migrate import compare_schema

old_rows = load("migrations/old_rows.py")

REVISION = "0010"
#: The revision 0010 revises: the one place to change when another is merged before it.
PREVIOUS = "0009"
NEW_TABLES = {"trading_sessions", "intraday_snapshots", "intraday_snapshot_symbols"}
T0 = dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)
D = Decimal


@pytest.fixture
def at_previous(fresh_url: str) -> Iterator[Database]:
    """Three bots at the previous revision: one running, one ended in error, one never
    started; each with a daily snapshot."""
    database = Database(fresh_url, check_schema=False)
    database.upgrade(PREVIOUS)
    for bot in ("alpha", "beta", "gamma"):
        old_rows.register_bot(database, bot, starting_balance=D(1000))
    for bot in ("alpha", "beta", "gamma"):
        with database.unit_of_work(bot_id=bot) as uow:
            uow.snapshots.record(total_equity=D(1010), cash_balance=D(1000), snapshot_time=T0)
    with database.connect() as connection:
        # What set_status wrote before sessions had a table of their own.
        connection.execute(
            text("UPDATE bots SET status = 'running', started_at = :t WHERE bot_id = 'alpha'"),
            {"t": T0},
        )
        connection.execute(
            text(
                "UPDATE bots SET status = 'error', started_at = :t, ended_at = :e "
                "WHERE bot_id = 'beta'"
            ),
            {"t": T0, "e": T0 + dt.timedelta(hours=2)},
        )
        connection.commit()
    yield database
    database.dispose()


#: Columns later revisions add to the tables ``_state`` reads.
LATER_COLUMNS = {"position_keeping"}


def _state(database: Database) -> dict[str, Any]:
    """Every row of the bots and daily snapshots (the columns later revisions add aside), and
    every view's rows."""
    out: dict[str, Any] = {}
    with database.connect() as connection:
        for table in ("bots", "portfolio_snapshots"):
            result = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            kept = [i for i, c in enumerate(result.keys()) if c not in LATER_COLUMNS]
            out[table] = [tuple(row[i] for i in kept) for row in result]
        for view in sorted(inspect(connection).get_view_names()):
            result = connection.execute(text(f"SELECT * FROM {view}"))
            kept = [i for i, c in enumerate(result.keys()) if c != "hours_held"]
            out[view] = sorted((tuple(row[i] for i in kept) for row in result), key=repr)
    return out


def _tables(database: Database) -> set[str]:
    with database.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_up_down_up(at_previous: Database) -> None:
    before = _state(at_previous)
    assert not NEW_TABLES & _tables(at_previous)

    at_previous.upgrade(REVISION)

    assert _state(at_previous) == before
    with at_previous.unit_of_work(bot_id="alpha", readonly=True) as uow:
        [alpha] = uow.sessions.list()
    with at_previous.unit_of_work(bot_id="beta", readonly=True) as uow:
        [beta] = uow.sessions.list()
        beta_figures = uow.sessions.figures(beta.session_id)
    with at_previous.unit_of_work(bot_id="gamma", readonly=True) as uow:
        assert uow.sessions.list() == []
    assert (alpha.started_at, alpha.ended_at, alpha.end_reason) == (T0, None, None)
    assert (beta.started_at, beta.ended_at, beta.end_reason) == (
        T0,
        T0 + dt.timedelta(hours=2),
        "error",
    )
    assert beta.total_trades is None
    assert beta.starting_balance is None
    assert beta_figures.total_trades == 0  # computed from the rows on demand
    assert beta.created_at == T0
    assert beta.updated_at == T0 + dt.timedelta(hours=2)

    at_previous.downgrade(PREVIOUS)

    assert not NEW_TABLES & _tables(at_previous)
    assert _state(at_previous) == before

    at_previous.upgrade()
    with at_previous.connect() as connection:
        assert compare_schema(connection) == []
    assert _state(at_previous) == before


def test_the_downgrade_refuses_what_it_would_lose(at_previous: Database) -> None:
    at_previous.upgrade()  # the repositories write what head has; later revisions go first
    with at_previous.unit_of_work() as uow:
        uow.bots.recover("alpha")  # a second session of alpha
    with at_previous.unit_of_work(bot_id="gamma") as uow:
        snapshot = uow.snapshots.record_intraday(
            total_equity=D(1), cash_balance=D(1), by_symbol={"AAPL": {}}
        )
    at_previous.downgrade(REVISION)
    with pytest.raises(MigrationError) as refused:
        at_previous.downgrade(PREVIOUS)
    message = str(refused.value)
    assert "cannot downgrade below 0010" in message
    assert "(bot 'alpha', id 1)" in message
    assert "(bot 'alpha', id 3)" in message
    assert f"intraday snapshots (bot 'gamma', id {snapshot.snapshot_id})" in message
    assert "beta" not in message  # its session is exactly what bots.started_at/ended_at say
    assert at_previous.current_revision() == REVISION

    with at_previous.connect() as connection:
        connection.execute(text("DELETE FROM intraday_snapshots"))
        connection.execute(text("DELETE FROM trading_sessions WHERE bot_id = 'alpha'"))
        connection.commit()
    at_previous.downgrade(PREVIOUS)
    assert at_previous.current_revision() == PREVIOUS
    assert not NEW_TABLES & _tables(at_previous)


def test_the_downgrade_refuses_sessions_the_bot_row_does_not_say(at_previous: Database) -> None:
    """A session is kept by 0009 only as its bot's started_at / ended_at: a bot whose
    started_at is NULL, or whose ended_at disagrees with an open session, cannot hold it
    (a plain ``=`` on a NULL let these through)."""
    at_previous.upgrade(REVISION)
    with at_previous.connect() as connection:
        connection.execute(text("UPDATE bots SET started_at = NULL WHERE bot_id = 'beta'"))
        connection.execute(
            text("UPDATE bots SET ended_at = :e WHERE bot_id = 'alpha'"),
            {"e": T0 + dt.timedelta(hours=1)},
        )
        connection.commit()
    with pytest.raises(MigrationError) as refused:
        at_previous.downgrade(PREVIOUS)
    message = str(refused.value)
    assert "(bot 'alpha', id 1)" in message
    assert "(bot 'beta', id 2)" in message
    assert at_previous.current_revision() == REVISION
