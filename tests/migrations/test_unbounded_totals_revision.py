"""Revision 0013 (the running totals' money sums unbounded on PostgreSQL), up, down and up
again on both backends with every total kept; the downgrade refuses, naming them, the keys
whose sums NUMERIC(38, 18) cannot hold, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.errors import MigrationError
from tradestore.migrate import compare_schema

REVISION = "0013"
#: The revision 0013 revises: the one place to change when another is merged before it.
PREVIOUS = "0012"
D = Decimal
FEE = D("0.25")


def _totals(database: Database) -> list[Any]:
    with database.connect() as connection:
        return connection.execute(
            text("SELECT * FROM position_totals ORDER BY bot_id, ticker, strategy")
        ).all()


def _money_types(database: Database) -> set[str]:
    with database.connect() as connection:
        columns = inspect(connection).get_columns("position_totals")
    return {
        str(column["type"])
        for column in columns
        if column["name"] in ("realized_pnl", "commission", "gross_profit", "gross_loss")
    }


def _close(
    database: Database,
    bot: str,
    ticker: str,
    entry: Decimal,
    exit_: Decimal,
    commission: Decimal = FEE,
) -> None:
    with database.unit_of_work(bot_id=bot) as uow:
        position = uow.positions.open(ticker, side="long", quantity=D(1), entry_price=entry)
        uow.positions.close(
            position.position_id, exit_price=exit_, exit_reason="signal", commission=commission
        )


@pytest.fixture
def traded(fresh_url: str) -> Iterator[Database]:
    """Two bots with closed trades, written at head (the repositories write what head has)."""
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    with database.unit_of_work() as uow:
        uow.bots.register("alpha")
        uow.bots.register("beta")
    _close(database, "alpha", "AAPL", D("150.25"), D("151.125"))
    _close(database, "alpha", "AAPL", D("150.25"), D("149.5"))
    _close(database, "beta", "BTC", D("1E19"), D("9E19"), D(0))  # 20 integer digits: fits
    yield database
    database.dispose()


def test_up_down_up_keeps_every_total(traded: Database, backend: str) -> None:
    at_head = _totals(traded)
    unbounded = _money_types(traded)

    traded.downgrade(PREVIOUS)

    assert _totals(traded) == at_head
    if backend == "postgresql":
        assert unbounded == {"NUMERIC"}
        assert _money_types(traded) == {"NUMERIC(38, 18)"}
    else:
        assert _money_types(traded) == unbounded  # SQLite's text is not touched

    traded.upgrade()
    assert _totals(traded) == at_head
    assert _money_types(traded) == unbounded
    with traded.connect() as connection:
        assert compare_schema(connection) == []


def test_the_downgrade_refuses_sums_beyond_20_integer_digits(
    traded: Database, backend: str
) -> None:
    _close(traded, "beta", "BTC", D("1E19"), D("9E19"), D(0))  # beta's BTC sum: 1.6E20
    [beta] = [row for row in _totals(traded) if row.bot_id == "beta"]
    assert D(beta.realized_pnl) == D("1.6E20")  # SQLite's text, PostgreSQL's NUMERIC
    if backend == "sqlite":
        traded.downgrade(PREVIOUS)  # SQLite keeps the text whole at 0011 as well
        [beta] = [row for row in _totals(traded) if row.bot_id == "beta"]
        assert beta.realized_pnl == "160000000000000000000"
        return
    before = _totals(traded)
    with pytest.raises(MigrationError) as refused:
        traded.downgrade(PREVIOUS)
    message = str(refused.value)
    assert "cannot downgrade below 0013" in message
    assert "(bot 'beta', ticker 'BTC', strategy None)" in message
    assert "alpha" not in message
    assert traded.current_revision() == REVISION
    assert _totals(traded) == before
    assert _money_types(traded) == {"NUMERIC"}

    with traded.connect() as connection:  # what the message says: remove closed rows
        connection.execute(text("DELETE FROM closed_positions WHERE bot_id = 'beta'"))
        connection.execute(text("DELETE FROM position_totals WHERE bot_id = 'beta'"))
        connection.commit()
    traded.downgrade(PREVIOUS)
    assert traded.current_revision() == PREVIOUS


def test_a_downgrade_below_0011_drops_the_totals_whatever_they_hold(traded: Database) -> None:
    """The refusal is for 0011's NUMERIC(38, 18) columns: a downgrade to 0010, where
    position_totals is dropped, goes through with a sum beyond 20 integer digits."""
    _close(traded, "beta", "BTC", D("1E19"), D("9E19"), D(0))
    traded.downgrade("0010")
    assert traded.current_revision() == "0010"
    with traded.connect() as connection:
        assert "position_totals" not in inspect(connection).get_table_names()
