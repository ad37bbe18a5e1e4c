"""No lost fill updates under concurrency: threads on both backends, processes on SQLite.

PostgreSQL serialises fill writers with the order's row lock; SQLite with BEGIN IMMEDIATE.
Each test is bounded (futures and joins time out) and takes about a second.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, localcontext
from typing import Any

import pytest
from sqlalchemy import event, text

from tradestore import Database
from tradestore.domain.enums import OrderStatus
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.errors import Overfill
from tradestore.models import Bot
from tradestore.repositories import order_sql

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

D = Decimal
BOT = "alpha"
THREADS = 6
FILLS_EACH = 5
TIMEOUT = 60


@pytest.fixture
def order_id(db: Database) -> str:
    """An order of THREADS x FILLS_EACH units, committed."""
    with db.session() as session:
        session.add(Bot(bot_id=BOT))
    with db.unit_of_work(bot_id=BOT) as uow:
        order = uow.orders.submit(
            client_order_id="c-1",
            ticker="TSLA",
            side="buy",
            order_type="market",
            quantity=D(THREADS * FILLS_EACH),
            reference_price=D("100"),
        )
    return order.order_id


def run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)

    def start(i: int) -> Any:
        barrier.wait(timeout=TIMEOUT)
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start, i) for i in range(count)]
        return [future.result(timeout=TIMEOUT) for future in futures]


def price_of(i: int, k: int) -> Decimal:
    return D("100") + D(i) / 10 + D(k) / 100


def assert_accounted(db: Database, order_id: str, expected: list[tuple[Decimal, Decimal]]) -> None:
    """The order equals the sum of its fills, and the fills are exactly ``expected``."""
    backend = db.dialect_name
    with db.unit_of_work(bot_id=BOT) as uow:
        order = uow.orders.get(order_id)
        fills = uow.orders.fills(order_id)
    assert sorted((f.quantity, f.price) for f in fills) == sorted(expected)
    total = sum((q for q, _ in expected), D(0))
    assert order.filled_quantity == total == sum(f.quantity for f in fills)
    with localcontext(MONEY_CONTEXT):
        vwap = sum((q * p for q, p in expected), D(0)) / total
    assert order.filled_avg_price == fit(vwap, backend)
    assert order.status is (
        OrderStatus.FILLED if total == order.quantity else OrderStatus.PARTIALLY_FILLED
    )


def test_concurrent_fills_lose_no_update(db: Database, order_id: str) -> None:
    def work(i: int) -> None:
        for k in range(FILLS_EACH):
            with db.unit_of_work(bot_id=BOT) as uow:
                uow.orders.record_fill(
                    order_id, fill_id=f"t{i}-{k}", quantity=D("1"), price=price_of(i, k)
                )

    results = run_threads(THREADS, work)
    assert results == [None] * THREADS
    expected = [(D("1"), price_of(i, k)) for i in range(THREADS) for k in range(FILLS_EACH)]
    assert_accounted(db, order_id, expected)


def test_exactly_the_fills_that_fit_succeed(db: Database, order_id: str) -> None:
    # 30 units, 6 threads each wanting 12: only two fit, the others must be refused.
    def work(i: int) -> bool:
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.orders.record_fill(order_id, fill_id=f"big-{i}", quantity=D("12"), price=D("100"))
        return True

    results = run_threads(THREADS, work)
    assert sum(r is True for r in results) == 2
    assert all(isinstance(r, Overfill) for r in results if r is not True)
    assert_accounted(db, order_id, [(D("12"), D("100"))] * 2)


def test_a_fill_delivered_to_many_writers_at_once_is_recorded_once(
    db: Database, order_id: str
) -> None:
    def work(i: int) -> bool:
        with db.unit_of_work(bot_id=BOT) as uow:
            result = uow.orders.record_fill(
                order_id, fill_id="same", quantity=D("3"), price=D("101")
            )
        return result.replayed

    results = run_threads(THREADS, work)
    assert sorted(results) == [False] + [True] * (THREADS - 1)
    assert_accounted(db, order_id, [(D("3"), D("101"))])


def test_concurrent_submits_of_one_client_order_id(db: Database, order_id: str) -> None:
    def work(i: int) -> str:
        with db.unit_of_work(bot_id=BOT) as uow:
            return uow.orders.submit(
                client_order_id="retried",
                ticker="AAPL",
                side="sell",
                order_type="limit",
                quantity=D("5"),
                limit_price=D("190"),
            ).order_id

    results = run_threads(THREADS, work)
    assert len(set(results)) == 1
    assert all(isinstance(r, str) for r in results)
    with db.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.get(client_order_id="retried").order_id == results[0]


def test_a_writer_that_waited_for_the_lock_rereads_the_fills(
    db: Database, order_id: str, backend: str
) -> None:
    """PostgreSQL: B's record_fill statement reads the fills as of its snapshot; A commits a
    fill while B waits for the row lock. B must notice (its fills do not add up to the locked
    row), write nothing, and run the statement again under the lock, or its VWAP would miss
    A's fill. On SQLite B simply waits at BEGIN IMMEDIATE: one read each.
    """
    reads = order_sql.RECORD_FILL_POSTGRESQL if backend == "postgresql" else None
    marker = (
        reads.sql(db.engine.dialect)
        if reads is not None
        else order_sql.LOCK_ORDER_WITH_FILLS.sql(db.engine.dialect)
    )
    runs: list[int] = []

    def count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if statement == marker:
            runs.append(threading.get_ident())

    a_holds_lock = threading.Event()
    release_a = threading.Event()

    def writer_a() -> None:
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.orders.record_fill(order_id, fill_id="a", quantity=D("10"), price=D("100"))
            a_holds_lock.set()
            assert release_a.wait(TIMEOUT)

    def writer_b() -> None:
        assert a_holds_lock.wait(TIMEOUT)
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.orders.record_fill(order_id, fill_id="b", quantity=D("10"), price=D("110"))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.submit(writer_a), pool.submit(writer_b)
            assert a_holds_lock.wait(TIMEOUT)
            if backend == "postgresql":
                wait_for_a_lock_waiter(db)
            else:
                time.sleep(0.3)  # B waits at BEGIN IMMEDIATE; the count is the same if not
            release_a.set()
            first.result(timeout=TIMEOUT)
            second.result(timeout=TIMEOUT)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert_accounted(db, order_id, [(D("10"), D("100")), (D("10"), D("110"))])
    assert len(runs) == (3 if backend == "postgresql" else 2)


def test_a_replay_that_waited_for_the_fill_it_replays(
    db: Database, order_id: str, backend: str
) -> None:
    """A completes the order with fill "last" and holds its transaction; B, the same fill
    delivered again, waits for the lock. B's snapshot predates A's fill, so the order looks
    complete with a fill B cannot see: B must answer with a replay, not an overfill."""
    a_holds_lock = threading.Event()
    release_a = threading.Event()
    whole = D(THREADS * FILLS_EACH)

    def writer_a() -> bool:
        with db.unit_of_work(bot_id=BOT) as uow:
            result = uow.orders.record_fill(order_id, fill_id="last", quantity=whole, price=D("1"))
            a_holds_lock.set()
            assert release_a.wait(TIMEOUT)
        return result.replayed

    def writer_b() -> bool:
        assert a_holds_lock.wait(TIMEOUT)
        with db.unit_of_work(bot_id=BOT) as uow:
            result = uow.orders.record_fill(order_id, fill_id="last", quantity=whole, price=D("1"))
        assert result.order.status is OrderStatus.FILLED
        return result.replayed

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.submit(writer_a), pool.submit(writer_b)
        assert a_holds_lock.wait(TIMEOUT)
        if backend == "postgresql":
            wait_for_a_lock_waiter(db)
        else:
            time.sleep(0.3)  # B waits at BEGIN IMMEDIATE either way
        release_a.set()
        assert first.result(timeout=TIMEOUT) is False
        assert second.result(timeout=TIMEOUT) is True
    assert_accounted(db, order_id, [(whole, D("1"))])


def wait_for_a_lock_waiter(db: Database) -> None:
    """Until a backend of this database waits for a lock (B, on A's order row)."""
    probe = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.engine.connect() as connection:
        for _ in range(TIMEOUT * 100):
            if connection.execute(probe).scalar_one():
                return
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError("the second writer never waited for the order's lock")


# --- SQLite: separate processes ---------------------------------------------------------------

PROCESSES = 5
PROCESS_FILLS = THREADS * FILLS_EACH // PROCESSES


def _process_writer(url: str, order_id: str, worker: int, barrier: Any) -> None:
    database = Database(url)
    try:
        barrier.wait(TIMEOUT)
        for k in range(PROCESS_FILLS):
            with database.unit_of_work(bot_id=BOT) as uow:
                uow.orders.record_fill(
                    order_id, fill_id=f"p{worker}-{k}", quantity=D("1"), price=price_of(worker, k)
                )
    finally:
        database.dispose()


@pytest.mark.sqlite_only
def test_processes_on_one_sqlite_file_lose_no_update(
    db: Database, db_url: str, order_id: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("processes sharing one database file are the SQLite case")
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    db.dispose()  # no inherited connections in the children
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_process_writer, args=(db_url, order_id, i, barrier))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    expected = [(D("1"), price_of(i, k)) for i in range(PROCESSES) for k in range(PROCESS_FILLS)]
    assert_accounted(db, order_id, expected)
