"""How many statements each hot-path operation sends, pinned per backend.

A ``before_cursor_execute`` listener on ``db.engine`` sees every statement the executor runs
(a listened-to engine sends even the compiled hot-path statements through
``exec_driver_sql``). What is counted is what the listener sees *inside* the operation: the
unit of work's own BEGIN and COMMIT are left out, since whether a listener sees them depends
on the driver (SQLite's ``BEGIN IMMEDIATE`` is a statement, psycopg2's implicit BEGIN and
``connection.commit()`` are not). A SAVEPOINT would count: it is a round trip of its own.

The counts are exact: a change that adds a round trip to the hot path fails here, and one
that removes one updates the table on purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from tradestore import Database
from tradestore.unit_of_work import UnitOfWork

D = Decimal
BOT = "alpha"
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
#: Transaction control, not counted (see the module docstring).
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)

#: operation -> (SQLite, PostgreSQL) statements.
EXPECTED: dict[str, tuple[int, int]] = {
    "orders.submit": (1, 1),
    "orders.submit(position_id)": (1, 1),
    "orders.record_fill(new)": (3, 1),
    "orders.record_fill(replayed)": (1, 1),
    "orders.acknowledge(new)": (1, 1),
    "orders.acknowledge(replayed)": (2, 2),
    "orders.find(broker_order_id)": (1, 1),
    # the recorder's set-based calls: one read, then the multi-row write (SQLite's
    # executemany is one statement to the listener), inside a savepoint for submits; a
    # retried order adds submit's own two (the INSERT that does nothing, the read)
    "orders.submit_many(20)": (4, 4),
    "orders.submit_many(20, 1 retried)": (6, 6),
    "orders.set_statuses(20)": (2, 2),
    "positions.open": (1, 1),
    "positions.open(position_id)": (1, 1),
    # A close adds its row to the running totals (position_totals): inside the closed row's
    # INSERT on PostgreSQL (a CTE), a read and a write of their own on SQLite (exact decimal
    # addition happens in Python there). Before revision 0011: (2, 2) and (3, 2).
    "positions.close(full)": (4, 2),
    "positions.close(partial)": (5, 2),
    "positions.mark_to_market(1)": (2, 2),
    "positions.mark_to_market(5)": (2, 2),
    "positions.update": (2, 2),
    "positions.trail_stop(moved)": (2, 2),
    "positions.trail_stop(unmoved)": (1, 1),
    "positions.stops_hit(3)": (1, 1),
    "positions.scale_in": (2, 2),
    "positions.scale_out(partial)": (5, 2),
    "snapshots.record_intraday(3 symbols)": (5, 5),
    "snapshots.record_intraday(no symbols)": (4, 4),
    "sessions.current": (1, 1),
    "training.log_episodes(100)": (4, 7),
    "unit_of_work(submit + 2 fills)": (7, 3),
}


class Listened:
    """The statements the engine's cursor events see, transaction control left out."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if not _TRANSACTION.match(statement):
            self.seen.append(statement)


@pytest.fixture
def listened(db: Database) -> Iterator[Listened]:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, mode="paper", starting_balance=D("100000"))
    listener = Listened()
    event.listen(db.engine, "before_cursor_execute", listener)
    yield listener
    event.remove(db.engine, "before_cursor_execute", listener)


def counted(db: Database, listener: Listened, operation: Callable[[UnitOfWork], Any]) -> int:
    """Statements ``operation`` sends, inside a unit of work of its own (committed)."""
    with db.unit_of_work(bot_id=BOT) as uow:
        before = len(listener.seen)
        operation(uow)
        return len(listener.seen) - before


def expected(name: str, backend: str) -> int:
    sqlite, postgresql = EXPECTED[name]
    return sqlite if backend == "sqlite" else postgresql


def submit(uow: UnitOfWork, cid: str = "c-1", **extra: Any) -> Any:
    return uow.orders.submit(
        client_order_id=cid,
        ticker="AAPL",
        side="buy",
        order_type="limit",
        quantity=D("10"),
        limit_price=D("100"),
        **extra,
    )


def fill(uow: UnitOfWork, order_id: str, fill_id: str, quantity: str = "4") -> Any:
    return uow.orders.record_fill(
        order_id, fill_id=fill_id, quantity=D(quantity), price=D("99.5"), filled_at=T0
    )


def open_position(uow: UnitOfWork, ticker: str = "MSFT", **extra: Any) -> Any:
    return uow.positions.open(
        ticker, side="long", quantity=D("10"), entry_price=D("100"), opened_at=T0, **extra
    )


def test_submit(db: Database, listened: Listened, backend: str) -> None:
    assert counted(db, listened, submit) == expected("orders.submit", backend)


def test_submit_for_a_position(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow)
    statements = counted(db, listened, lambda uow: submit(uow, position_id=position.position_id))
    assert statements == expected("orders.submit(position_id)", backend)


def test_submit_many(db: Database, listened: Listened, backend: str) -> None:
    def twenty(uow: UnitOfWork) -> None:
        orders = [
            {"client_order_id": f"m-{i}", "ticker": "AAPL", "side": "buy"}
            | {"order_type": "market", "quantity": D(1)}
            for i in range(20)
        ]
        assert all(o.ticker == "AAPL" for o in uow.orders.submit_many(orders))  # type: ignore[union-attr]

    assert counted(db, listened, twenty) == expected("orders.submit_many(20)", backend)


def test_submit_many_with_a_retry(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        submit(uow, "r-0")

    def with_retry(uow: UnitOfWork) -> None:
        orders = [
            {"client_order_id": f"r-{i}", "ticker": "AAPL", "side": "buy"}
            | {"order_type": "limit", "quantity": D("10"), "limit_price": D("100")}
            for i in range(20)
        ]
        uow.orders.submit_many(orders)

    statements = counted(db, listened, with_retry)
    assert statements == expected("orders.submit_many(20, 1 retried)", backend)


def test_set_statuses(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        ids = [submit(uow, f"s-{i}").order_id for i in range(10)]
    changes = [{"order_id": i, "status": "accepted"} for i in ids]
    changes += [{"order_id": i, "status": "cancelled"} for i in ids]
    statements = counted(db, listened, lambda uow: uow.orders.set_statuses(changes))
    assert statements == expected("orders.set_statuses(20)", backend)


def test_record_fill(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        order = submit(uow)
        fill(uow, order.order_id, "f-0", "1")
    statements = counted(db, listened, lambda uow: fill(uow, order.order_id, "f-1"))
    assert statements == expected("orders.record_fill(new)", backend)


def test_replayed_fill(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        order = submit(uow)
        fill(uow, order.order_id, "f-1")
    replayed: list[bool] = []
    statements = counted(
        db, listened, lambda uow: replayed.append(fill(uow, order.order_id, "f-1").replayed)
    )
    assert replayed == [True]
    assert statements == expected("orders.record_fill(replayed)", backend)


@pytest.mark.parametrize("replayed", [False, True], ids=["new", "replayed"])
def test_acknowledge(db: Database, listened: Listened, backend: str, replayed: bool) -> None:
    """One guarded UPDATE; a redelivered acknowledgement matches no row and reads the order."""
    with db.unit_of_work(bot_id=BOT) as uow:
        order = submit(uow)
        if replayed:
            uow.orders.acknowledge(order.order_id, broker_order_id="B-1")
    acked: list[Any] = []
    statements = counted(
        db,
        listened,
        lambda uow: acked.append(uow.orders.acknowledge(order.order_id, broker_order_id="B-1")),
    )
    assert acked[0].broker_order_id == "B-1"
    name = "replayed" if replayed else "new"
    assert statements == expected(f"orders.acknowledge({name})", backend)


def test_find_by_broker_order_id(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        submit(uow, broker_order_id="B-1")
    found: list[Any] = []
    statements = counted(
        db, listened, lambda uow: found.append(uow.orders.find(broker_order_id="B-1"))
    )
    assert found[0].client_order_id == "c-1"
    assert statements == expected("orders.find(broker_order_id)", backend)


def test_open(db: Database, listened: Listened, backend: str) -> None:
    assert counted(db, listened, open_position) == expected("positions.open", backend)


def test_open_with_a_position_id(db: Database, listened: Listened, backend: str) -> None:
    statements = counted(db, listened, lambda uow: open_position(uow, position_id="p-1"))
    assert statements == expected("positions.open(position_id)", backend)


@pytest.mark.parametrize("partial", [False, True], ids=["full", "partial"])
def test_close(db: Database, listened: Listened, backend: str, partial: bool) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow)
    quantity = D("4") if partial else None
    statements = counted(
        db,
        listened,
        lambda uow: uow.positions.close(
            position.position_id, exit_price=D("101"), exit_reason="manual", quantity=quantity
        ),
    )
    assert statements == expected(f"positions.close({'partial' if partial else 'full'})", backend)


@pytest.mark.parametrize("tickers", [1, 5])
def test_mark_to_market(db: Database, listened: Listened, backend: str, tickers: int) -> None:
    names = [f"T{i}" for i in range(tickers)]
    with db.unit_of_work(bot_id=BOT) as uow:
        for name in names:
            open_position(uow, name)
    marked: list[int] = []
    statements = counted(
        db,
        listened,
        lambda uow: marked.append(uow.positions.mark_to_market(dict.fromkeys(names, D("102")))),
    )
    assert marked == [tickers]
    assert statements == expected(f"positions.mark_to_market({tickers})", backend)


def test_update(db: Database, listened: Listened, backend: str) -> None:
    """The locked read (the side rule and a metadata merge need the row) and the UPDATE."""
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow, metadata={"a": 1})
    statements = counted(
        db,
        listened,
        lambda uow: uow.positions.update(
            position.position_id, stop_loss_price=D("95"), metadata={"b": 2}
        ),
    )
    assert statements == expected("positions.update", backend)


@pytest.mark.parametrize("moved", [True, False], ids=["moved", "unmoved"])
def test_trail_stop(db: Database, listened: Listened, backend: str, moved: bool) -> None:
    """A tick that does not move the stop costs the locked read only."""
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow, stop_loss_price=D("95"))
    price = D("99") if moved else D("96")
    result: list[bool] = []
    statements = counted(
        db,
        listened,
        lambda uow: result.append(
            uow.positions.trail_stop(position.position_id, price=price, distance=D("2"))
        ),
    )
    assert result == [moved]
    assert statements == expected(
        f"positions.trail_stop({'moved' if moved else 'unmoved'})", backend
    )


def test_stops_hit(db: Database, listened: Listened, backend: str) -> None:
    names = ["T0", "T1", "T2"]
    with db.unit_of_work(bot_id=BOT) as uow:
        for name in names:
            open_position(uow, name, stop_loss_price=D("95"))
    hits: list[int] = []
    statements = counted(
        db,
        listened,
        lambda uow: hits.append(len(uow.positions.stops_hit(dict.fromkeys(names, D("90"))))),
    )
    assert hits == [3]
    assert statements == expected("positions.stops_hit(3)", backend)


def test_scale_in(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow)
    statements = counted(
        db,
        listened,
        lambda uow: uow.positions.scale_in(
            position.position_id, quantity=D("5"), price=D("97"), commission=D("0.1")
        ),
    )
    assert statements == expected("positions.scale_in", backend)


def test_scale_out(db: Database, listened: Listened, backend: str) -> None:
    """The statements of a partial close: scale_out is one."""
    with db.unit_of_work(bot_id=BOT) as uow:
        position = open_position(uow)
    statements = counted(
        db,
        listened,
        lambda uow: uow.positions.scale_out(
            position.position_id, quantity=D("4"), price=D("101"), exit_reason="manual"
        ),
    )
    assert statements == expected("positions.scale_out(partial)", backend)
    assert EXPECTED["positions.scale_out(partial)"] == EXPECTED["positions.close(partial)"]


def test_log_episodes(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work() as uow:
        run_id = uow.training.start_run("ppo", "m-1").run_id
    episodes = [{"episode_number": i, "episode_reward": float(i)} for i in range(100)]
    written: list[int] = []
    statements = counted(
        db, listened, lambda uow: written.append(uow.training.log_episodes(run_id, episodes))
    )
    assert written == [100]
    assert statements == expected("training.log_episodes(100)", backend)


def test_a_unit_of_work_of_submit_and_two_fills(
    db: Database, listened: Listened, backend: str
) -> None:
    """The whole block: the unit of work itself adds nothing but BEGIN and COMMIT."""
    listened.seen.clear()
    with db.unit_of_work(bot_id=BOT) as uow:
        order = submit(uow)
        fill(uow, order.order_id, "f-1")
        done = fill(uow, order.order_id, "f-2", "6").order
    assert done.filled_quantity == D("10")
    assert len(listened.seen) == expected("unit_of_work(submit + 2 fills)", backend)


def _intraday(uow: UnitOfWork, symbols: int) -> Any:
    return uow.snapshots.record_intraday(
        total_equity=D("100000"),
        cash_balance=D("50000"),
        snapshot_time=T0,
        by_symbol={f"S{n}": {"quantity": D(n), "unrealized_pnl": D(1)} for n in range(symbols)},
    )


@pytest.mark.parametrize(("symbols", "name"), [(3, "3 symbols"), (0, "no symbols")])
def test_record_intraday(
    db: Database, listened: Listened, backend: str, symbols: int, name: str
) -> None:
    """A savepoint, the upsert, the old lines' removal, the new lines in one executemany
    (none without lines), the release: the same count for a first write and a replay."""
    for _ in range(2):
        statements = counted(db, listened, lambda uow: _intraday(uow, symbols))
        assert statements == expected(f"snapshots.record_intraday({name})", backend)


def test_current_session(db: Database, listened: Listened, backend: str) -> None:
    with db.unit_of_work() as uow:
        uow.bots.set_status(BOT, "running")
    statements = counted(db, listened, lambda uow: uow.sessions.current())
    assert statements == expected("sessions.current", backend)
