"""Revision 0011 (running totals of closed positions), up, down and up again, on both
backends: the upgrade fills the totals from the closed rows already there, exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, inspect, text

from sibling import load
from tradestore import Database
from tradestore.db.types import Money, UTCDateTime
from tradestore.migrate import compare_schema

old_rows = load("migrations/old_rows.py")

#: The revision 0011 follows (0010 once the parallel revisions are merged).
PREVIOUS = "0010"
D = Decimal


@pytest.fixture
def at_previous(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url, check_schema=False)
    database.upgrade(PREVIOUS)
    for bot in ("alpha", "beta"):
        old_rows.register_bot(database, bot)
    # Written as a release before 0011 wrote them (its closes kept no totals): the columns of
    # closed_positions at PREVIOUS, amounts with more digits than a double's sum keeps.
    trades = [
        ("AAPL", None, "2.5", "0.01"),
        ("AAPL", "momentum", "-1.5", "0.000000000123"),
        ("AAPL", "momentum", "0", "0.01"),
        ("ETH", "dca", "1234.56789013", "0.000000000123"),
        ("ETH", "dca", "-1299.999999999", "0.01"),
        # a sum of 30 significant digits: beyond the default decimal context's 28
        ("BTC", "big", "12345678901234.5", "0"),
        ("BTC", "big", "0.000000000000001", "0"),
    ]
    insert = text(
        "INSERT INTO closed_positions (position_id, bot_id, ticker, side, quantity, "
        "entry_price, exit_price, realized_pnl, realized_pnl_pct, opened_at, closed_at, "
        "updated_at, holding_period_hours, exit_reason, commission, strategy) VALUES "
        "(:position_id, :bot_id, :ticker, 'long', 1, 100, 101, :pnl, 1.0, :at, :at, :at, 0, "
        "'signal', :commission, :strategy)"
    ).bindparams(
        bindparam("pnl", type_=Money()),
        bindparam("commission", type_=Money()),
        bindparam("at", type_=UTCDateTime()),
    )
    with database.engine.begin() as connection:
        for bot in ("alpha", "beta"):
            for n, (ticker, strategy, pnl, commission) in enumerate(trades):
                connection.execute(
                    insert,
                    {
                        "position_id": f"p-{n}", "bot_id": bot, "ticker": ticker,
                        "pnl": D(pnl), "commission": D(commission), "strategy": strategy,
                        "at": dt.datetime(2026, 1, 5, 14, n, tzinfo=dt.UTC),
                    },
                )  # fmt: skip
    yield database
    database.dispose()


def test_up_fills_the_totals_down_drops_them(at_previous: Database) -> None:
    totals = load("repositories/test_position_totals.py")
    with at_previous.connect() as connection:
        closed_before = connection.execute(text("SELECT * FROM closed_positions ORDER BY 1")).all()

    at_previous.upgrade()  # the revisions after 0011 too: the schema is the models' at head

    for bot in ("alpha", "beta"):
        kept = totals.kept(at_previous, bot)
        assert kept == totals.recomputed(at_previous, bot)
        assert sum(key.trades for key in kept.values()) == 7
        totals.assert_totals_recomputed(at_previous, bot)
    at_previous.upgrade()  # the models are head's (0013 widens the sums on PostgreSQL)
    with at_previous.connect() as connection:
        assert compare_schema(connection) == []

    at_previous.downgrade(PREVIOUS)

    with at_previous.connect() as connection:
        assert "position_totals" not in inspect(connection).get_table_names()
        assert connection.execute(text("SELECT * FROM closed_positions ORDER BY 1")).all() == (
            closed_before
        )

    at_previous.upgrade("0011")
    for bot in ("alpha", "beta"):
        assert totals.kept(at_previous, bot) == totals.recomputed(at_previous, bot)


def test_an_empty_history_fills_nothing(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade(PREVIOUS)
        database.upgrade("0011")
        with database.connect() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM position_totals")).scalar()
        assert count == 0
    finally:
        database.dispose()
