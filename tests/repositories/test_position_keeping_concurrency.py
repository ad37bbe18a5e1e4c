"""Concurrent fills of different orders on one netting key lose nothing, on both backends.

Threads each fill their own order of one ticker, one unit at a time, all at once: buyers at
100, sellers at 110, commission 0.01 a unit. Whatever order the fills land in, every long
is entered at 100 and every short at 110, and the quantity the fills matched against each
other is (sum |q| - |final|) / 2, so the final position, the cash, the closed rows and the
realized P&L are known exactly. The position is closed and reopened many times on the way,
so writers also race to create the key's row (the partial unique index decides).
"""

from __future__ import annotations

import itertools
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from sibling import load
from tradestore import Database
from tradestore.domain.enums import PositionSide
from tradestore.repositories import position_keeping as pk

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

D = Decimal
BOT = "alpha"
BUYERS, SELLERS = 3, 3
BUYS_EACH, SELLS_EACH = 6, 4
FEE = D("0.01")
START = D("10000")

harness = load("repositories/test_orders_concurrency.py")
totals_test = load("repositories/test_position_totals.py")
_ids = itertools.count()


def orders(db: Database) -> list[tuple[str, str, int]]:
    """(order_id, side, fills) of each thread."""
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=START, position_keeping="netting")
    made = []
    with db.unit_of_work(bot_id=BOT) as uow:
        for i in range(BUYERS + SELLERS):
            side, count = ("buy", BUYS_EACH) if i < BUYERS else ("sell", SELLS_EACH)
            order = uow.orders.submit(
                client_order_id=f"c-{i}",
                ticker="BTC",
                side=side,
                order_type="market",
                quantity=D(count),
            )
            made.append((order.order_id, side, count))
    return made


@pytest.mark.parametrize("path", ["record_fill", "record_fills", "ingest_fills"])
def test_concurrent_fills_on_one_key_lose_nothing(db: Database, path: str) -> None:
    made = orders(db)

    def work(i: int) -> None:
        order_id, side, count = made[i]
        price = D("100") if side == "buy" else D("110")
        fills = [
            {"order_id": order_id, "fill_id": f"{i}-{k}", "quantity": D(1), "price": price}
            | {"commission": FEE}
            for k in range(count)
        ]
        # One fill per unit of work, or two per call for the batch paths.
        step = 1 if path == "record_fill" else 2
        for start in range(0, count, step):
            chunk = fills[start : start + step]
            with db.unit_of_work(bot_id=BOT) as uow:
                if path == "record_fill":
                    (one,) = chunk
                    uow.orders.record_fill(one.pop("order_id"), **one)
                elif path == "record_fills":
                    outcomes = uow.orders.record_fills(chunk)
                    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
                else:
                    uow.orders.ingest_fills(
                        [row | {"filled_at": uow.executor.now()} for row in chunk]
                    )

    results = harness.run_threads(BUYERS + SELLERS, work)
    assert results == [None] * (BUYERS + SELLERS)

    bought, sold = BUYERS * BUYS_EACH, SELLERS * SELLS_EACH
    final = bought - sold
    matched = (bought + sold - abs(final)) // 2
    with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        opened = uow.positions.list_open()
        closed = uow.positions.list_closed()
        cash = uow.bots.get(BOT).current_balance
        fills: list[Any] = [f for order_id, _, _ in made for f in uow.orders.fills(order_id)]
    assert len(fills) == bought + sold
    [position] = opened
    assert (position.side, position.quantity) == (PositionSide.LONG, D(final))
    assert position.entry_price == D("100")
    assert position.commission == FEE * final
    # Every matched unit closed a row of its own: a long sold at 110 or a short bought at 100.
    assert sum(row.quantity for row in closed) == matched
    assert all(row.gross_pnl == D("10") * row.quantity for row in closed)
    assert sum(row.realized_pnl for row in closed) == matched * (D("10") - 2 * FEE)
    assert cash == START - bought * D("100") + sold * D("110") - (bought + sold) * FEE
    # Every fill names the position it moved, and that position exists (open or closed).
    known = {position.position_id} | {row.position_id for row in closed}
    assert {f.position_id for f in fills} <= known
    totals_test.assert_totals_recomputed(db, BOT)


@pytest.mark.parametrize("path", ["record_fills", "ingest_fills"])
def test_batches_opening_keys_in_opposite_orders_do_not_deadlock(db: Database, path: str) -> None:
    """Two writers, each a batch opening the same new keys in opposite call orders, again
    and again (each round closes them, so the next one opens them anew): the keys are taken
    in key order (advisory locks on PostgreSQL), so neither waits for the other in a circle."""
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=START, position_keeping="netting")
    tickers = ["AAA", "BBB", "CCC"]
    rounds = 4
    orders: dict[tuple[int, str], str] = {}
    with db.unit_of_work(bot_id=BOT) as uow:
        for writer in range(2):
            for ticker in tickers:
                order = uow.orders.submit(
                    client_order_id=f"c-{writer}-{ticker}",
                    ticker=ticker,
                    side="buy" if writer == 0 else "sell",
                    order_type="market",
                    quantity=D(rounds),
                )
                orders[(writer, ticker)] = order.order_id

    def work(writer: int) -> None:
        names = tickers if writer == 0 else list(reversed(tickers))
        price = D("100") if writer == 0 else D("110")
        for n in range(rounds):
            rows = [
                {"order_id": orders[(writer, t)], "fill_id": f"{writer}-{t}-{n}"}
                | {"quantity": D(1), "price": price}
                for t in names
            ]
            with db.unit_of_work(bot_id=BOT) as uow:
                if path == "record_fills":
                    outcomes = uow.orders.record_fills(rows)
                    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
                else:
                    uow.orders.ingest_fills([r | {"filled_at": uow.executor.now()} for r in rows])

    assert harness.run_threads(2, work) == [None, None]
    with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert list(uow.positions.list_open()) == []  # as many bought as sold, per ticker
        closed = uow.positions.list_closed()
        cash = uow.bots.get(BOT).current_balance
    assert sum(row.quantity for row in closed) == rounds * len(tickers)
    assert cash == START + rounds * len(tickers) * D("10")
    totals_test.assert_totals_recomputed(db, BOT)


def test_mark_to_market_locks_kept_rows_in_the_keepers_key_order(
    db: Database, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch locks its kept keys in key order; mark_to_market's locking read (PostgreSQL)
    takes the same rows in the same order, whatever order they lie in: it waits behind the
    batch instead of holding one row the batch wants next (a deadlock). The row of the later
    key (MSFT) is written first, so a scan meets it first."""
    if backend != "postgresql":
        pytest.skip("SQLite's writers are serialised by the write lock")
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=START, position_keeping="netting")
    sells = {}
    for ticker in ("MSFT", "AAPL"):
        with db.unit_of_work(bot_id=BOT) as uow:
            for side in ("buy", "sell"):
                order = uow.orders.submit(
                    client_order_id=f"{ticker}-{side}",
                    ticker=ticker,
                    side=side,
                    order_type="market",
                    quantity=D(10 if side == "buy" else 1),
                )
                if side == "buy":
                    uow.orders.record_fill(
                        order.order_id, fill_id=f"{ticker}-open", quantity=D(10), price=D(100)
                    )
                sells[ticker] = order.order_id
    first_locked, mark_waits = threading.Event(), threading.Event()
    original = pk.PositionKeeper._read

    def read(self: Any, key: tuple[str, str | None]) -> Any:
        row = original(self, key)
        if threading.current_thread().name == "batch" and key[0] == "AAPL":
            first_locked.set()
            mark_waits.wait(30)  # the batch holds AAPL's row while mark_to_market runs
        return row

    monkeypatch.setattr(pk.PositionKeeper, "_read", read)
    outcome: dict[str, Any] = {}

    def batch() -> None:
        try:
            with db.unit_of_work(bot_id=BOT) as uow:
                outcome["batch"] = uow.orders.record_fills(
                    [
                        {"order_id": sells[t], "fill_id": f"{t}-x", "quantity": D(1)}
                        | {"price": D(101)}
                        for t in ("AAPL", "MSFT")
                    ]
                )
        except Exception as exc:
            outcome["batch"] = exc

    def mark() -> None:
        first_locked.wait(30)
        try:
            with db.unit_of_work(bot_id=BOT) as uow:
                outcome["mark"] = uow.positions.mark_to_market({"AAPL": D(102), "MSFT": D(102)})
        except Exception as exc:
            outcome["mark"] = exc

    threads = [threading.Thread(target=batch, name="batch"), threading.Thread(target=mark)]
    for thread in threads:
        thread.start()
    first_locked.wait(30)
    with db.engine.connect() as watcher:
        for _ in range(300):  # until mark_to_market waits for a row lock
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                break
            time.sleep(0.05)
    mark_waits.set()
    for thread in threads:
        thread.join(60)
    assert not isinstance(outcome["batch"], Exception), outcome["batch"]
    assert all(not isinstance(o, Exception) for o in outcome["batch"]), outcome["batch"]
    assert outcome["mark"] == 2, outcome["mark"]
