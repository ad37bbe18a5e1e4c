"""A ``readonly=True`` unit of work refuses every write, naming the call, instead of rolling it
back without a word (``bots.recover`` used to return a session id that never existed);
``bots.recovery_state`` is recover's read-only half; recover's reads are one consistent
picture (the bot's row locked first: on PostgreSQL a writer of the bot waits). Both backends.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text

from tradestore import Database
from tradestore.db.retry import NO_RETRY
from tradestore.errors import ReadOnlyUnitOfWork, TransientDatabaseError
from tradestore.models import Bot
from tradestore.unit_of_work import UnitOfWork

D = Decimal
BOT = "ro"


@pytest.fixture
def store(db: Database) -> Database:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.bots.register(BOT, starting_balance=D(1000))
        position = uow.positions.open("AAPL", side="long", quantity=D(2), entry_price=D(100))
        uow.positions.close(
            position.position_id, exit_price=D(105), exit_reason="signal", quantity=D(1)
        )
        uow.orders.submit(client_order_id="c-1", ticker="MSFT", side="buy",
                          order_type="limit", quantity=D(3), limit_price=D(50))  # fmt: skip
    return db


def _count(db: Database, table: str) -> int:
    with db.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


WRITES: dict[str, tuple[str, Callable[[UnitOfWork], Any]]] = {
    "recover": ("BotRepository.recover", lambda u: u.bots.recover(BOT)),
    "set_status": ("BotRepository.set_status", lambda u: u.bots.set_status(BOT, "stopped")),
    "start_session": ("BotRepository.start_session", lambda u: u.bots.start_session(BOT)),
    "set_balance": (
        "BotRepository.set_balance",
        lambda u: u.bots.set_balance(BOT, current_balance=D(1)),
    ),
    "positions.open": (
        "PositionRepository.open",
        lambda u: u.positions.open("TSLA", side="long", quantity=D(1), entry_price=D(9)),
    ),
    "orders.submit": (
        "OrderRepository.submit",
        lambda u: u.orders.submit(
            client_order_id="c-2", ticker="TSLA", side="buy", order_type="market", quantity=D(1)
        ),
    ),
    "session.flush": ("uow.session.flush", lambda u: u.session.add(Bot(bot_id="orm"))),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_in_a_readonly_unit_of_work_raises_naming_the_call(
    store: Database, name: str
) -> None:
    call, write = WRITES[name]
    before = {t: _count(store, t) for t in ("bots", "trading_sessions", "positions", "orders")}
    with (
        pytest.raises(ReadOnlyUnitOfWork, match=rf"^{call}\b") as raised,
        store.unit_of_work(bot_id=BOT, readonly=True) as uow,
    ):
        write(uow)
        uow.session.flush()
    assert raised.value.call == call
    assert {t: _count(store, t) for t in before} == before


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE bots SET notes = 'x'",
        "DELETE FROM orders",
    ],
)
def test_the_bots_own_sql_is_refused(store: Database, sql: str) -> None:
    """Raw SQL is not inspected: PostgreSQL's read-only transaction refuses its writes, and
    SQLite's ``PRAGMA query_only``, on for the block only."""
    before = {t: _count(store, t) for t in ("bots", "orders")}
    with (
        pytest.raises(ReadOnlyUnitOfWork, match="bot's own"),
        store.unit_of_work(readonly=True) as uow,
    ):
        uow.session.execute(text(sql))
    assert {t: _count(store, t) for t in before} == before


def test_the_connection_writes_again_after_a_readonly_block(store: Database) -> None:
    """SQLite's query_only is the connection's flag, not the transaction's: it is off again
    when the connection goes back to the pool (also after a refused write), and the next
    writer works."""
    for refused in (False, True):
        with (
            contextlib.suppress(ReadOnlyUnitOfWork),
            store.unit_of_work(readonly=True) as uow,
        ):
            uow.bots.get(BOT)
            raw = uow.session.connection().connection.dbapi_connection
            if refused:
                uow.session.execute(text("UPDATE bots SET notes = 'x'"))
        if store.engine.dialect.name == "sqlite":
            assert raw is not None
            assert raw.execute("PRAGMA query_only").fetchone() == (0,)
        with store.unit_of_work(bot_id=BOT) as uow:
            uow.bots.set_balance(BOT, current_balance=D(7))


def test_recovery_state_reads_what_recover_returns_and_writes_nothing(store: Database) -> None:
    with store.unit_of_work(bot_id=BOT, readonly=True) as uow:
        state = uow.bots.recovery_state(BOT)
    assert state.session is None
    assert state.interrupted_session is None
    assert _count(store, "trading_sessions") == 0
    with store.unit_of_work(bot_id=BOT) as uow:
        recovered = uow.bots.recover(BOT)
        inside = uow.bots.recovery_state(BOT)  # in a writing one: the bot's row locked
    assert recovered.session is not None
    assert _count(store, "trading_sessions") == 1
    for got in (recovered, inside):
        assert got.open_positions == state.open_positions
        assert got.open_orders == state.open_orders
        assert got.balances == state.balances
    assert state.balances.realized_pnl == D(5)
    assert [o.client_order_id for o in state.open_orders] == ["c-1"]


def test_a_readonly_unit_of_work_reads_one_snapshot(store: Database) -> None:
    """A fill committed between two reads of one read-only unit of work is seen by neither
    (PostgreSQL: REPEATABLE READ; SQLite: a read transaction keeps its snapshot)."""
    with store.unit_of_work(bot_id=BOT, readonly=True) as reader:
        first = reader.bots.recovery_state(BOT)
        with store.unit_of_work(bot_id=BOT) as writer:
            (order,) = writer.orders.list_open()
            writer.orders.record_fill(order.order_id, fill_id="f-1", quantity=D(1), price=D(50))
            writer.positions.close(
                first.open_positions[0].position_id, exit_price=D(120), exit_reason="signal"
            )
        again = reader.bots.recovery_state(BOT)
    assert again == first
    with store.unit_of_work(bot_id=BOT, readonly=True) as reader:
        now = reader.bots.recovery_state(BOT)
    assert now.open_positions == ()
    assert len(now.open_orders[0].fills) == 1


def test_a_close_cannot_commit_between_recovers_reads(
    store: Database, backend: str, db_url: str
) -> None:
    """PostgreSQL: a close tried between recover's read of the open positions and its read of
    the running totals (each READ COMMITTED statement has a snapshot of its own) would show
    the position both open and in the realized P&L. Recover locks the bot's row first, and
    the close's INSERT waits for it: the close here gives up after a lock timeout instead,
    recover's picture is the one before it, and after the commit the close goes through."""
    if backend != "postgresql":
        pytest.skip("SQLite's writers hold the database's write lock: one at a time anyway")
    with store.unit_of_work(bot_id=BOT, readonly=True) as uow:
        (position,) = uow.positions.list_open()
    other = Database(db_url, retry=NO_RETRY)
    outcome: list[BaseException | None] = []

    def close() -> None:
        try:
            with other.unit_of_work(bot_id=BOT) as uow:
                uow.session.execute(text("SET LOCAL lock_timeout = '300ms'"))
                uow.positions.close(position.position_id, exit_price=D(130), exit_reason="x")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    def between_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM position_totals" in statement and not outcome:
            writer = threading.Thread(target=close)
            writer.start()
            writer.join()

    event.listen(store.engine, "before_cursor_execute", between_reads)
    try:
        with store.unit_of_work(bot_id=BOT) as uow:
            state = uow.bots.recover(BOT)
    finally:
        event.remove(store.engine, "before_cursor_execute", between_reads)
    try:
        assert isinstance(outcome[0], TransientDatabaseError), outcome
        assert [p.position_id for p in state.open_positions] == [position.position_id]
        assert state.balances.realized_pnl == D(5)  # the partial close only
        close()
        assert outcome[1] is None
    finally:
        other.dispose()
