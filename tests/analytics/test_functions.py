"""The paper-trading SQL functions: PostgreSQL's get_paper_* and the Python API agree, on every bot.

On SQLite there are no stored functions; ``Analytics.total_pnl`` and ``Analytics.fill_rate``
answer the same questions and are checked against the data set on both backends.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from readside_data import Dataset
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.domain.money import fit

BOTS = ["alpha", "beta", "gamma", None]
TICKERS = ["AAPL", "TSLA", "BTCUSD", "NVDA", "MSFT", "NOPE"]
DAYS = [1, 7, 30, 365]


@pytest.mark.parametrize("bot_id", BOTS)
def test_total_pnl(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        ours = Analytics(session, bot_id=bot_id).total_pnl()
    realized = sum((c["realized_pnl"] for c in seeded.of(seeded.closed, bot_id)), Decimal(0))
    unrealized = sum((p["unrealized_pnl"] for p in seeded.of(seeded.positions, bot_id)), Decimal(0))
    exact = realized + unrealized
    if db.dialect_name == "postgresql":
        assert ours == exact
    else:  # SQLite sums doubles (docs/reference/queries.md, "Precision")
        assert abs(ours - exact) <= abs(exact) * Decimal("1e-13")
    assert (ours == 0) == (bot_id == "gamma")


@pytest.mark.parametrize("bot_id", BOTS)
def test_get_paper_total_pnl_is_total_pnl(db: Database, seeded: Dataset, bot_id: str | None):
    if db.dialect_name != "postgresql":
        pytest.skip("PostgreSQL function")
    with db.session(readonly=True) as session:
        function = session.execute(
            text("SELECT get_paper_total_pnl(bot_id => :bot_id)"), {"bot_id": bot_id}
        ).scalar_one()
        positional = session.execute(
            text("SELECT get_paper_total_pnl(:bot_id)"), {"bot_id": bot_id}
        ).scalar_one()
        ours = Analytics(session, bot_id=bot_id).total_pnl()
        if bot_id is None:  # the source's call, unchanged
            assert session.execute(text("SELECT get_paper_total_pnl()")).scalar_one() == ours
    assert function == positional == ours


@pytest.mark.parametrize("bot_id", BOTS)
def test_fill_rate(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        analytics = Analytics(session, bot_id=bot_id)
        for days, ticker in itertools.product(DAYS, TICKERS):
            since = seeded.now - dt.timedelta(days=days)
            orders = [
                o
                for o in seeded.of(seeded.orders, bot_id)
                if o["ticker"] == ticker and o["submitted_at"] >= since
            ]
            filled = sum(o["status"] == "filled" for o in orders)
            expected = filled / len(orders) if orders else None
            assert analytics.fill_rate(ticker, days=days, now=seeded.now) == expected


@pytest.mark.parametrize("bot_id", BOTS)
def test_get_paper_fill_rate_is_fill_rate(db: Database, seeded: Dataset, bot_id: str | None):
    if db.dialect_name != "postgresql":
        pytest.skip("PostgreSQL function")
    with db.session(readonly=True) as session:
        analytics = Analytics(session, bot_id=bot_id)
        for days, ticker in itertools.product(DAYS, TICKERS):
            function = session.execute(
                text("SELECT get_paper_fill_rate(:ticker, :days, bot_id => :bot_id)"),
                {"ticker": ticker, "days": days, "bot_id": bot_id},
            ).scalar_one()
            # The function measures back from the database's now(); the data set keeps its
            # rows hours away from every window edge, so the two clocks agree on them.
            assert function == analytics.fill_rate(ticker, days=days, now=seeded.now)
            if bot_id is None and days == 7:  # the source's call, unchanged
                theirs = session.execute(
                    text("SELECT get_paper_fill_rate(:ticker, 7)"), {"ticker": ticker}
                ).scalar_one()
                assert theirs == function


def test_postgresql_functions_default_to_seven_days(db: Database, seeded: Dataset):
    if db.dialect_name != "postgresql":
        pytest.skip("PostgreSQL function")
    with db.session(readonly=True) as session:
        one_arg = session.execute(text("SELECT get_paper_fill_rate('AAPL')")).scalar_one()
        seven = session.execute(text("SELECT get_paper_fill_rate('AAPL', 7)")).scalar_one()
    assert one_arg == seven is not None


def test_sqlite_has_no_stored_functions(db: Database, seeded: Dataset):
    if db.dialect_name != "sqlite":
        pytest.skip("SQLite only")
    with db.session(readonly=True) as session, pytest.raises(OperationalError):
        session.execute(text("SELECT get_paper_total_pnl()"))


def test_total_pnl_rounds_sqlite_sums_to_what_it_stores(db: Database, seeded: Dataset):
    """The double noise of SQLite's SUM is not handed out as if it were cents."""
    with db.session(readonly=True) as session:
        total = Analytics(session, bot_id="alpha").total_pnl()
    assert total == fit(total, db.dialect_name)
    assert len(total.normalize().as_tuple().digits) <= 15 or db.dialect_name == "postgresql"
