"""Checking and rebuilding the running totals from the closed rows (``db verify``'s
``position_totals`` check, ``ops.rebuild_totals``), on both backends: every key that differs
is named exactly, a rebuild rewrites those keys only and leaves the totals equal to the closed
rows, also while bots close positions at the same time."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from sibling import load
from tradestore import Database
from tradestore.db.executor import Executor
from tradestore.errors import BotNotFound
from tradestore.ops.totals import rebuild_totals
from tradestore.ops.verify import verify_database
from tradestore.repositories import position_totals

D = Decimal


@pytest.fixture
def traded(db: Database) -> Database:
    """Two bots with closed trades on three keys."""
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        uow.bots.register("beta")
    for bot, ticker, strategy, exit_price in (
        ("alpha", "AAPL", None, D("151.25")),
        ("alpha", "AAPL", None, D("149.5")),
        ("alpha", "MSFT", "momentum", D("310.125")),
        ("beta", "AAPL", None, D("152")),
    ):
        with db.unit_of_work(bot_id=bot) as uow:
            position = uow.positions.open(
                ticker, side="long", quantity=D(3), entry_price=D(150), strategy=strategy
            )
            uow.positions.close(
                position.position_id,
                exit_price=exit_price,
                exit_reason="signal",
                commission=D("0.35"),
            )
    return db


def _execute(database: Database, *statements: str) -> None:
    with database.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _check(database: Database) -> tuple[bool, str]:
    [check] = [c for c in verify_database(database).checks if c.name == "position_totals"]
    return check.ok, check.detail


def _damage(database: Database) -> None:
    """One sum off by 1E-18, one key's row gone, one row without closed rows."""
    _execute(
        database,
        "UPDATE position_totals SET commission = '0.700000000000000001' "
        "WHERE bot_id = 'alpha' AND ticker = 'AAPL'",
        "DELETE FROM position_totals WHERE bot_id = 'alpha' AND ticker = 'MSFT'",
        "INSERT INTO position_totals VALUES ('beta', 'GOOG', '', 2, 1, 1, 0, 0, 5, -5)",
    )


def test_verify_names_every_key_that_differs(traded: Database) -> None:
    assert _check(traded) == (True, "3 keys equal closed_positions' sums")
    _damage(traded)
    ok, detail = _check(traded)
    assert not ok
    assert detail.startswith("3 of the running totals' keys differ from closed_positions")
    assert (
        "(bot 'alpha', ticker 'AAPL', strategy None): commission 0.700000000000000001 stored, "
        "0.7" in detail
    )
    assert "(bot 'alpha', ticker 'MSFT', strategy 'momentum'): no totals row for 1 closed rows" in (
        detail
    )
    assert "(bot 'beta', ticker 'GOOG', strategy None): a totals row of 2 trades" in detail
    assert "beta', ticker 'AAPL'" not in detail  # the key that is right is not named
    assert "tradestore db rebuild-totals" in detail
    assert not verify_database(traded).ok


def test_rebuild_rewrites_the_keys_that_differ(traded: Database) -> None:
    _damage(traded)
    dry = rebuild_totals(traded, dry_run=True)
    assert dry.dry_run
    assert not dry.ok
    assert dry.keys == 3
    assert [(d.bot_id, d.ticker, d.strategy) for d in dry.differences] == [
        ("alpha", "AAPL", None),
        ("alpha", "MSFT", "momentum"),
        ("beta", "GOOG", None),
    ]
    assert dry.differences[0].fields == ("commission",)
    assert not _check(traded)[0]  # a dry run writes nothing

    only_beta = rebuild_totals(traded, bot_id="beta")
    assert [(d.bot_id, d.ticker) for d in only_beta.differences] == [("beta", "GOOG")]
    assert only_beta.keys == 1
    ok, detail = _check(traded)
    assert not ok
    assert "beta" not in detail  # alpha's keys are left as they were

    done = rebuild_totals(traded)
    assert len(done.differences) == 2
    assert _check(traded) == (True, "3 keys equal closed_positions' sums")
    assert rebuild_totals(traded).ok  # nothing left to rewrite
    with traded.unit_of_work(bot_id="alpha", readonly=True) as uow:
        totals = uow.positions.closed_totals()
        assert totals.trades == 3
        assert totals.commission == D("1.05")
        assert totals.realized_pnl == uow.positions.total_realized_pnl(
            since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        )


def test_rebuild_of_an_unknown_bot_is_refused(traded: Database) -> None:
    with pytest.raises(BotNotFound):
        rebuild_totals(traded, bot_id="nobody")


def test_an_empty_strategy_and_none_are_one_key(traded: Database) -> None:
    """A closed row written with strategy '' (around tradestore: a restore) shares the totals
    row of the rows without a strategy, which store ''. The check groups by the stored form
    on both backends, so it passes, and a rebuild has nothing to flip back and forth."""
    _execute(
        traded,
        "UPDATE closed_positions SET strategy = '' "
        "WHERE bot_id = 'alpha' AND ticker = 'AAPL' AND exit_price = 149.5",
    )
    assert _check(traded) == (True, "3 keys equal closed_positions' sums")
    for _ in range(2):
        assert rebuild_totals(traded).ok


def _drift(database: Database) -> None:
    """Totals the closed rows do not give: every sum of every key off by one trade."""
    _execute(
        database,
        "UPDATE position_totals SET trades = trades + 1, wins = wins + 1, "
        "realized_pnl = realized_pnl + 1, commission = commission + 1, "
        "gross_profit = gross_profit + 1",
    )


def test_rebuild_while_bots_close_positions(db: Database) -> None:
    """Rebuilds and closes at once, in threads, with the totals drifted on the keys being
    closed before every rebuild: the rebuild's locks make each close land before or after it
    (a close between its recomputation and its write would be overwritten, lost from the
    totals), so the totals equal the closed rows at the end and no close is lost (or
    deadlocked: PostgreSQL would abort one of the transactions)."""
    concurrency = load("repositories/test_orders_concurrency.py")
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    closers, each = 2, 6
    with db.unit_of_work(bot_id="alpha") as uow:
        ids = [
            [
                uow.positions.open("SOL", side="long", quantity=D(2), entry_price=D(10)).position_id
                for _ in range(each)
            ]
            for _ in range(closers)
        ]
        # a totals row to drift from the start: one trade of no P&L
        first = uow.positions.open("SOL", side="long", quantity=D(1), entry_price=D(10))
        uow.positions.close(first.position_id, exit_price=D(10), exit_reason="signal")
    rebuilt = itertools.count()

    def work(i: int) -> None:
        if i == closers:
            for _ in range(each):
                _drift(db)
                assert not rebuild_totals(db).ok  # it rewrote the drifted key
                next(rebuilt)
            return
        for k, position_id in enumerate(ids[i]):
            with db.unit_of_work(bot_id="alpha") as uow:
                uow.positions.close(
                    position_id, exit_price=D(10) + D(k) / 100, exit_reason="signal", quantity=D(1)
                )
                uow.positions.close(position_id, exit_price=D(9), exit_reason="signal")

    assert concurrency.run_threads(closers + 1, work) == [None] * (closers + 1)
    assert next(rebuilt) == each
    assert _check(db) == (True, "1 keys equal closed_positions' sums")
    with db.unit_of_work(bot_id="alpha", readonly=True) as uow:
        totals = uow.positions.closed_totals()
        assert totals.trades == closers * each * 2 + 1
        # the figures every close added: (price - 10) * 1 for the partial, -1 * 1 for the rest
        assert totals.realized_pnl == closers * sum(D(k) / 100 - 1 for k in range(each))


def _someone_waits_for_a_lock(database: Database) -> bool:
    with database.engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)


def test_rebuild_does_not_deadlock_with_a_bot_holding_its_row(db: Database) -> None:
    """PostgreSQL: a bot locks its row FOR UPDATE (a status change), then closes a position,
    while a rebuild writes a missing totals row of that bot (its foreign key takes FOR KEY
    SHARE on the bot's row). The rebuild takes the bots' rows before the tables, so it waits
    for the bot's transaction instead of holding the table lock the bot's close needs: both
    finish, and the totals equal the closed rows."""
    if db.dialect_name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's writers take one lock")
    concurrency = load("repositories/test_orders_concurrency.py")
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    with db.unit_of_work(bot_id="alpha") as uow:
        first = uow.positions.open("SOL", side="long", quantity=D(2), entry_price=D(10))
        second = uow.positions.open("ETH", side="long", quantity=D(2), entry_price=D(10))
        uow.positions.close(first.position_id, exit_price=D(11), exit_reason="signal")
    _execute(db, "DELETE FROM position_totals")  # drift: the SOL row is missing
    holding = threading.Event()

    def work(i: int) -> Any:
        if i == 0:
            with db.unit_of_work(bot_id="alpha") as uow:
                uow.bots.set_status("alpha", "paused")  # the bot's row FOR UPDATE
                holding.set()
                deadline = time.monotonic() + 20
                while not _someone_waits_for_a_lock(db) and time.monotonic() < deadline:
                    time.sleep(0.02)  # until the rebuild waits on the bot
                uow.positions.close(second.position_id, exit_price=D(12), exit_reason="signal")
            return None
        assert holding.wait(timeout=20)
        return rebuild_totals(db)

    closed, report = concurrency.run_threads(2, work)
    assert closed is None
    assert not isinstance(report, Exception), report
    assert _check(db) == (True, "2 keys equal closed_positions' sums")


def test_compare_of_some_keys_reads_those_only(traded: Database) -> None:
    """``keys`` (a rebuild's re-check under its lock) names only the keys given, with the
    figures a full comparison gives them."""
    _execute(traded, "UPDATE position_totals SET trades = trades + 1")
    with traded.connect() as connection:
        executor = Executor.of(connection)
        full = position_totals.compare(executor)
        some = position_totals.compare(executor, keys=[("alpha", "MSFT", "momentum")])
        connection.rollback()
    assert len(full.differences) == 3
    assert some.differences == tuple(d for d in full.differences if d.ticker == "MSFT")
