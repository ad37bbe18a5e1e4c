"""The group-commit recorder (tradestore.aio): many events, few transactions, each caller
answered with its own outcome only once committed."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from tradestore import Database
from tradestore.aio import AsyncRecorder, Recorder
from tradestore.errors import (
    CommitOutcomeUnknown,
    DuplicateFill,
    InvalidTransition,
    NestedUnitOfWork,
    OrderNotFound,
    Overfill,
    RecorderClosed,
    RecorderFull,
    TransientDatabaseError,
    ValidationError,
)
from tradestore.models import Fill, Order

BOT = "rec"
AT = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
WRITER = Path(__file__).with_name("recording_writer.py")


@pytest.fixture
def bot_db(db: Database) -> Database:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT)
    return db


def _order(client: str, quantity: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "client_order_id": client,
        "ticker": "AAPL",
        "side": "buy",
        "order_type": "market",
        "quantity": Decimal(quantity),
        **extra,
    }


def _fill(fill_id: str, quantity: str = "1", price: str = "100") -> dict[str, Any]:
    return {"fill_id": fill_id, "quantity": Decimal(quantity), "price": Decimal(price)}


def _totals(db: Database) -> dict[str, tuple[Decimal, Decimal]]:
    """Per order: (filled_quantity, the sum of its fills)."""
    with db.session(readonly=True) as session:
        sums: dict[str, Decimal] = {}
        for order_id, quantity in session.execute(select(Fill.order_id, Fill.quantity)):
            sums[order_id] = sums.get(order_id, Decimal(0)) + quantity  # exact, unlike SUM
        return {
            order_id: (filled, sums.get(order_id, Decimal(0)))
            for order_id, filled in session.execute(
                select(Order.order_id, Order.filled_quantity)
            ).all()
        }


@pytest.fixture
def commits(bot_db: Database) -> Iterator[list[None]]:
    seen: list[None] = []

    def on_commit(connection: Any) -> None:
        seen.append(None)

    event.listen(bot_db.engine, "commit", on_commit)
    yield seen
    event.remove(bot_db.engine, "commit", on_commit)


class _Gate:
    """Holds the writer inside its next statement until opened: the queue fills meanwhile.

    Stays listening once open (removing a listener while the writer runs it would mutate
    the list SQLAlchemy iterates), and keeps the statements run after it opened.
    """

    def __init__(self, db: Database) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._wait)

    def _wait(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not self.opened.is_set():
            self.entered.set()
            self.opened.wait(30)
        else:
            self.statements.append(statement)

    def open(self) -> None:
        self.opened.set()


def test_concurrent_events_share_few_commits(bot_db: Database, commits: list[None]) -> None:
    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            orders = await asyncio.gather(*(rec.submit(**_order(f"c{i}")) for i in range(100)))
            before = len(commits)
            fills = await asyncio.gather(
                *(rec.record_fill(orders[i % 100].order_id, **_fill(f"f{i}")) for i in range(400))
            )
            assert len(commits) - before <= 40  # 400 fills, a handful of groups
            return fills

    fills = asyncio.run(main())
    assert all(not recorded.replayed for recorded in fills)
    totals = _totals(bot_db)
    assert len(totals) == 100
    assert all(filled == summed == 4 for filled, summed in totals.values())


def test_a_refused_event_fails_alone_and_its_group_commits(bot_db: Database) -> None:
    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            order = await rec.submit(**_order("c1", quantity=3))
            gate = _Gate(bot_db)
            waiting = [
                asyncio.ensure_future(rec.record_fill(order.order_id, **_fill("ok-1"))),
                asyncio.ensure_future(rec.record_fill(order.order_id, **_fill("big", "5"))),
                asyncio.ensure_future(rec.record_fill("no-such-order", **_fill("lost"))),
                asyncio.ensure_future(rec.record_fill(order.order_id, **_fill("bad", "-1"))),
                asyncio.ensure_future(rec.submit(**_order("c2", side="sideways"))),
                asyncio.ensure_future(rec.record_fill(order.order_id, **_fill("ok-2", "2"))),
                asyncio.ensure_future(rec.set_status(order.order_id, "new")),
            ]
            await asyncio.to_thread(gate.entered.wait, 30)
            await asyncio.sleep(0)
            gate.open()
            return await asyncio.gather(*waiting, return_exceptions=True)

    first, big, lost, bad, sideways, second, backwards = asyncio.run(main())
    assert isinstance(big, Overfill)
    assert isinstance(lost, OrderNotFound)
    assert isinstance(bad, ValidationError)
    assert bad.field == "quantity"
    assert isinstance(sideways, ValidationError)
    assert sideways.field == "side"
    assert isinstance(backwards, InvalidTransition)
    assert second.order.filled_quantity == 3
    assert second.order.status.value == "filled"
    assert first.fill.fill_id == "ok-1"
    (filled, summed), *_ = _totals(bot_db).values()
    assert filled == summed == 3


def test_replayed_fills_are_no_ops_within_and_across_groups(bot_db: Database) -> None:
    async def main() -> tuple[list[Any], Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            order = await rec.submit(**_order("c1"))
            same_group = await asyncio.gather(
                rec.record_fill(order.order_id, **_fill("f1")),
                rec.record_fill(order.order_id, **_fill("f1")),
                rec.record_fill(order.order_id, **_fill("f1", "2")),
                return_exceptions=True,
            )
            later = await rec.record_fill(order.order_id, **_fill("f1"))
            return same_group, later

    (first, replay, changed), later = asyncio.run(main())
    assert not first.replayed
    assert replay.replayed
    assert later.replayed
    assert isinstance(changed, DuplicateFill)
    (filled, summed), *_ = _totals(bot_db).values()
    assert filled == summed == 1


def test_events_of_one_order_apply_in_order(bot_db: Database) -> None:
    """Submit, fill, cancel, a late fill: queued together, they run in the order handed over
    (the fill would be refused before its submit; the late fill is counted after the cancel)."""

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            return await asyncio.gather(
                rec.submit(**_order("c1", order_id="o-1")),
                rec.set_status("o-1", "accepted", broker_order_id="B-1"),
                rec.record_fill("o-1", **_fill("f1")),
                rec.cancel("o-1"),
                rec.record_fill("o-1", **_fill("f2")),
            )

    _submitted, acked, _fill1, cancelled, late = asyncio.run(main())
    assert acked.broker_order_id == "B-1"
    assert cancelled.status.value == "cancelled"
    assert late.order.status.value == "cancelled"
    assert late.order.filled_quantity == 2


def test_marks_of_a_group_coalesce_to_the_last_price(bot_db: Database) -> None:
    with bot_db.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open("AAPL", side="long", quantity=Decimal(10), entry_price=Decimal(100))
    gate = _Gate(bot_db)

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            first = asyncio.ensure_future(rec.mark_to_market({"MSFT": Decimal(1)}))
            await asyncio.to_thread(gate.entered.wait, 30)
            marks = [
                asyncio.ensure_future(rec.mark_to_market({"AAPL": Decimal(price)}))
                for price in ("101", "102", "103")
            ]
            await asyncio.sleep(0)
            gate.open()
            return [await first, *await asyncio.gather(*marks)]

    assert asyncio.run(main()) == [0, 1, 1, 1]
    updates = [s for s in gate.statements if s.lstrip().upper().startswith("UPDATE POSITIONS")]
    assert len(updates) == 1
    with bot_db.unit_of_work(bot_id=BOT) as uow:
        (position,) = uow.positions.list_open()
    assert position.current_price == 103


def test_a_full_queue_makes_callers_wait(bot_db: Database) -> None:
    """The writer held in a statement: the queue fills, an await waits for room while the
    loop runs on, a sync call gives up after its put_timeout; opened, everything commits."""
    gate = _Gate(bot_db)

    async def main() -> tuple[list[Any], int]:
        async with AsyncRecorder(bot_db, bot_id=BOT, max_queue=2) as rec:
            held = asyncio.ensure_future(rec.submit(**_order("c0")))
            await asyncio.to_thread(gate.entered.wait, 30)
            queued = [asyncio.ensure_future(rec.submit(**_order(f"c{i}"))) for i in (1, 2, 3)]
            ticks = 0
            for _ in range(20):
                await asyncio.sleep(0)
                ticks += 1
            assert len(rec._writer._queue) == 2
            assert not queued[2].done()  # waits for room; the loop kept running meanwhile
            sync_rec = Recorder(bot_db, bot_id=BOT, max_queue=1, put_timeout=0.05)
            sync_rec._writer._queue.append(rec._writer._queue[0])  # as full as it gets
            with pytest.raises(RecorderFull):
                sync_rec.submit(**_order("c4"))
            sync_rec._writer._queue.clear()
            sync_rec.close()
            gate.open()
            return await asyncio.gather(held, *queued), ticks

    orders, ticks = asyncio.run(main())
    assert ticks == 20
    assert [o.client_order_id for o in orders] == ["c0", "c1", "c2", "c3"]


def test_cancelling_a_waiting_task_leaves_the_recorder_working(bot_db: Database) -> None:
    async def main() -> Any:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            order = await rec.submit(**_order("c1"))
            gate = _Gate(bot_db)
            task = asyncio.ensure_future(rec.record_fill(order.order_id, **_fill("f1")))
            await asyncio.to_thread(gate.entered.wait, 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gate.open()
            return await rec.record_fill(order.order_id, **_fill("f2"))

    after = asyncio.run(main())
    # The cancelled fill was already queued: it committed before the next one.
    assert after.order.filled_quantity == 2
    (filled, summed), *_ = _totals(bot_db).values()
    assert filled == summed == 2


def test_close_flushes_everything_queued_then_refuses(bot_db: Database) -> None:
    async def main() -> tuple[list[asyncio.Future[Any]], AsyncRecorder]:
        rec = AsyncRecorder(bot_db, bot_id=BOT)
        order = await rec.submit(**_order("c1", quantity=100))
        gate = _Gate(bot_db)
        tasks = [
            asyncio.ensure_future(rec.record_fill(order.order_id, **_fill(f"f{i}")))
            for i in range(50)
        ]
        await asyncio.sleep(0)  # every task has queued its fill
        await asyncio.to_thread(gate.entered.wait, 30)
        closing = asyncio.ensure_future(rec.close())
        await asyncio.sleep(0)
        gate.open()
        await closing
        with pytest.raises(RecorderClosed):
            await rec.record_fill(order.order_id, **_fill("after"))
        return tasks, rec

    tasks, rec = asyncio.run(main())
    assert all(task.done() and not task.exception() for task in tasks)
    assert rec.closed
    (filled, summed), *_ = _totals(bot_db).values()
    assert filled == summed == 50


def test_sync_recorder_from_several_threads(bot_db: Database, commits: list[None]) -> None:
    errors: list[BaseException] = []

    def bot_thread(rec: Recorder, n: int) -> None:
        try:
            order = rec.submit(**_order(f"t{n}", quantity=40))
            for i in range(40):
                recorded = rec.record_fill(order.order_id, **_fill(f"t{n}-{i}"))
                assert recorded.order.filled_quantity == i + 1  # its own fills, in order
        except BaseException as exc:
            errors.append(exc)

    with Recorder(bot_db, bot_id=BOT) as rec:
        threads = [threading.Thread(target=bot_thread, args=(rec, n)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    assert rec.groups_committed < 6 * 41
    totals = _totals(bot_db)
    assert len(totals) == 6
    assert all(f == s == 40 for f, s in totals.values())
    with pytest.raises(RecorderClosed):
        rec.submit(**_order("late"))


def test_sigkill_loses_only_unacknowledged_events(db_url: str, bot_db: Database) -> None:
    bot_db.dispose()
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), db_url, BOT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert writer.stdout is not None
    acknowledged = []
    for line in writer.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) == 3_000:  # well into the stream, groups in flight
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(30)
    assert len(acknowledged) == 3_000, writer.stderr.read() if writer.stderr else ""

    database = Database(db_url)
    try:
        with database.session(readonly=True) as session:
            stored = set(session.scalars(select(Fill.fill_id)))
        assert not set(acknowledged) - stored
        totals = _totals(database)
        assert all(filled == summed for filled, summed in totals.values())
    finally:
        database.dispose()


def test_a_wrong_call_raises_at_once_and_queues_nothing(bot_db: Database) -> None:
    async def main() -> None:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            with pytest.raises(TypeError, match="fill_id"):
                await rec.record_fill("o-1", quantity=Decimal(1), price=Decimal(1))
            with pytest.raises(TypeError):
                await rec.submit(**_order("c1"), colour="red")
            assert rec.groups_committed == 0

    asyncio.run(main())
    with Recorder(bot_db, bot_id=BOT) as rec, pytest.raises(TypeError):
        rec.cancel()


def test_call_runs_the_bots_own_code_all_or_nothing(bot_db: Database) -> None:
    """``rec.call(work)``: work(uow) in the group's transaction, in a savepoint of its own:
    a refusal after a write undoes that write and fails the call alone; the events around
    it commit, in order with it."""

    def two_orders_then_refused(uow: Any, client: str) -> None:
        uow.orders.submit(**_order(f"{client}-a"))
        uow.orders.submit(**_order(f"{client}-b", quantity=-1))  # refused: quantity

    def fill_through_call(uow: Any, order_id: str) -> Any:
        return uow.orders.record_fill(order_id, **_fill("c-f2", "2"))

    async def main() -> tuple[Any, ...]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            order = await rec.submit(**_order("c-1"))
            return await asyncio.gather(
                rec.record_fill(order.order_id, **_fill("c-f1")),
                rec.call(two_orders_then_refused, "c-2"),
                rec.call(fill_through_call, order.order_id),
                rec.record_fill(order.order_id, **_fill("c-f3", "3")),
                return_exceptions=True,
            )

    first, refused, second, third = asyncio.run(main())
    assert isinstance(refused, ValidationError)
    assert refused.field == "quantity"
    # in order per order: the call's fill sits between the recorder's two
    assert [r.order.filled_quantity for r in (first, second, third)] == [1, 3, 6]
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert uow.orders.find(client_order_id="c-2-a") is None  # undone with its call
        assert uow.orders.get(client_order_id="c-1").filled_quantity == 6
    assert {o: f == s for o, (f, s) in _totals(bot_db).items()} == {first.order.order_id: True}


def test_batched_status_changes_keep_each_orders_order() -> None:
    """A fill, a cancel (batched since status changes are set-based) and a late fill of one
    order: the late fill may not join the first fill's batch, which runs before the cancel,
    and B's cancel may not join A's, which runs before B's ack."""
    from tradestore.aio._group_commit import Pending, plan
    from tradestore.aio.recorder import AsyncRecorder as Rec

    kinds = {name: getattr(Rec, name).kind for name in ("record_fill", "cancel", "set_status")}

    def event(kind: str, *args: Any) -> Pending:
        pending = Pending.__new__(Pending)
        pending.kind, pending.args, pending.kwargs = kinds[kind], args, {}
        return pending

    group = [
        event("record_fill", "A"),
        event("cancel", "A"),
        event("record_fill", "A"),
        event("record_fill", "B"),
        event("set_status", "B", "accepted"),
        event("cancel", "B"),
    ]
    assert plan(group, range(len(group))) == [[0], [1], [2, 3], [4], [5]]


def test_fills_and_marks_keep_their_order() -> None:
    """A fill may move a kept position (position keeping), so fills and marks do not
    commute: a fill after a mark may not join the fill batch before it, nor a mark after a
    fill the mark batch before it. Submits and status changes still pass marks."""
    from tradestore.aio._group_commit import Pending, plan
    from tradestore.aio.recorder import AsyncRecorder as Rec

    names = ("record_fill", "mark_to_market", "submit", "cancel", "ingest_fills")
    kinds = {name: getattr(Rec, name).kind for name in names}

    def event(kind: str, *args: Any, **kwargs: Any) -> Pending:
        pending = Pending.__new__(Pending)
        pending.kind, pending.args, pending.kwargs = kinds[kind], args, kwargs
        return pending

    group = [
        event("record_fill", "A"),
        event("mark_to_market", {"AAPL": 1}),
        event("record_fill", "B"),
        event("mark_to_market", {"AAPL": 2}),
        event("submit", client_order_id="x"),
        event("cancel", "C"),
        event("mark_to_market", {"AAPL": 3}),
        event("ingest_fills", []),
        event("mark_to_market", {"AAPL": 4}),
    ]
    assert plan(group, range(len(group))) == [[0], [1], [2], [3, 6], [4], [5], [7], [8]]


def test_a_mark_after_a_kept_fill_sees_it(bot_db: Database) -> None:
    """End to end, in one group: a mark, a kept fill, a mark, a kept fill."""
    with bot_db.unit_of_work() as uow:
        uow.bots.set_position_keeping(BOT, "netting")
    with bot_db.unit_of_work(bot_id=BOT) as uow:
        order = uow.orders.submit(
            client_order_id="k-1", ticker="AAPL", side="buy", order_type="market",
            quantity=Decimal("10"),
        )  # fmt: skip

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            return list(
                await asyncio.gather(
                    rec.mark_to_market({"AAPL": Decimal("12")}),
                    rec.record_fill(
                        order.order_id, fill_id="k-a", quantity=Decimal("4"), price=Decimal("10")
                    ),
                    rec.mark_to_market({"AAPL": Decimal("11")}),
                    rec.record_fill(
                        order.order_id, fill_id="k-b", quantity=Decimal("6"), price=Decimal("9")
                    ),
                )
            )

    marked, _first, marked_again, _second = asyncio.run(main())
    # The first mark came before the position existed, the second after the first fill.
    assert (marked, marked_again) == (0, 1)
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        [position] = uow.positions.list_open()
    # The last fill marks the position at its price: 10 units entered at 9.4.
    assert (position.quantity, position.entry_price) == (Decimal("10"), Decimal("9.4"))
    assert position.current_price == Decimal("9")


def test_a_group_of_submits_and_status_changes_answers_each_alone(bot_db: Database) -> None:
    """One group (the writer held until all are queued): submits, acks, cancels, a refused
    move and a retried submit, each caller hearing its own outcome, all committed once."""

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            gate = _Gate(bot_db)
            first = asyncio.ensure_future(rec.submit(**_order("warm", order_id="o-w")))
            await asyncio.to_thread(gate.entered.wait, 30)
            calls = [rec.submit(**_order(f"c{i}", order_id=f"o-{i}")) for i in range(5)]
            calls += [rec.submit(**_order("c0", order_id="o-0"))]  # retried in the group
            calls += [
                rec.set_status(f"o-{i}", "accepted", broker_order_id=f"B{i}") for i in range(5)
            ]
            calls += [rec.cancel("o-1"), rec.set_status("o-1", "accepted"), rec.cancel("o-x")]
            pending = asyncio.gather(*calls, return_exceptions=True)
            await asyncio.sleep(0.05)
            gate.open()
            await first
            return list(await pending)

    outcomes = asyncio.run(main())
    submitted, retried = outcomes[:5], outcomes[5]
    acked, cancelled = outcomes[6:11], outcomes[11]
    assert [o.order_id for o in submitted] == [f"o-{i}" for i in range(5)]
    assert retried == submitted[0]
    assert [o.broker_order_id for o in acked] == [f"B{i}" for i in range(5)]
    assert cancelled.status.value == "cancelled"
    assert isinstance(outcomes[12], InvalidTransition)  # cancelled -> accepted
    assert isinstance(outcomes[13], OrderNotFound)
    with bot_db.unit_of_work(bot_id=BOT) as uow:
        stored = {o: uow.orders.get(o) for o in (f"o-{i}" for i in range(5))}
    assert stored["o-1"].status.value == "cancelled"
    assert stored["o-1"].broker_order_id == "B1"
    assert all(stored[f"o-{i}"].status.value == "accepted" for i in (0, 2, 3, 4))


# --- a bad outcome, a dying writer, a fork, backpressure, exit ---------------------------------


def _hold() -> tuple[threading.Event, threading.Event, Any]:
    """``rec.call(hold)`` keeps the writer busy until ``gate`` is set; ``started``: it is."""
    gate, started = threading.Event(), threading.Event()

    def hold(uow: Any) -> None:
        started.set()
        gate.wait(30)

    return gate, started, hold


def _echo(uow: Any, name: str) -> str:
    return name


def _wait_queued(rec: Any, count: int) -> None:
    """Until ``count`` events are queued (callers in threads hand theirs over meanwhile)."""
    for _ in range(30_000):
        if len(rec._writer._queue) >= count:
            return
        threading.Event().wait(0.001)
    pytest.fail(f"fewer than {count} events were ever queued")


def test_a_bug_in_call_work_fails_its_event_alone(bot_db: Database) -> None:
    """StopIteration out of the bot's code (which an asyncio future refuses to carry) fails
    its own call, as a RuntimeError; the calls queued after it in its group answer too."""
    gate, started, hold = _hold()

    def buggy(uow: Any) -> Any:
        return next(iter(()))

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            held = asyncio.ensure_future(rec.call(hold))
            await asyncio.to_thread(started.wait, 30)
            tasks = [
                asyncio.ensure_future(rec.call(_echo, "A")),
                asyncio.ensure_future(rec.call(buggy)),
                asyncio.ensure_future(rec.call(_echo, "C")),
            ]
            await asyncio.sleep(0)
            gate.set()
            await held
            return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 20)

    first, bug, last = asyncio.run(main())
    assert (first, last) == ("A", "C")
    assert isinstance(bug, RuntimeError)
    assert isinstance(bug.__cause__, StopIteration)


def test_a_base_exception_from_call_work_reaches_its_own_caller_alone(bot_db: Database) -> None:
    gate, started, hold = _hold()
    outcomes: dict[str, Any] = {}

    def exits(uow: Any) -> None:
        uow.orders.submit(**_order("exits"))
        raise SystemExit(3)

    def caller(rec: Recorder, name: str, work: Any, *args: Any) -> None:
        try:
            outcomes[name] = rec.call(work, *args)
        except BaseException as exc:
            outcomes[name] = exc

    with Recorder(bot_db, bot_id=BOT) as rec:
        threads = [threading.Thread(target=caller, args=(rec, "hold", hold))]
        threads[0].start()
        started.wait(30)
        for name, work, *args in (("A", _echo, "A"), ("exit", exits), ("C", _echo, "C")):
            threads.append(threading.Thread(target=caller, args=(rec, name, work, *args)))
            threads[-1].start()
        _wait_queued(rec, 3)
        gate.set()
        for thread in threads:
            thread.join(30)
    assert (outcomes["A"], outcomes["C"]) == ("A", "C")
    assert isinstance(outcomes["exit"], SystemExit)
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert uow.orders.find(client_order_id="exits") is None


def test_callers_of_a_failed_group_each_get_their_own_error(
    bot_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the whole group (retries spent) reaches every caller as an error of its
    own: one object raised in several tasks would share (and grow) one traceback."""
    gate, started, _ = _hold()

    def down(work: Any, **kwargs: Any) -> Any:
        if not started.is_set():
            started.set()
            gate.wait(30)
        raise TransientDatabaseError("the database stayed down: retries spent")

    monkeypatch.setattr(bot_db, "run", down)

    async def main() -> list[Any]:
        async with AsyncRecorder(bot_db, bot_id=BOT) as rec:
            held = asyncio.ensure_future(rec.call(_echo, "held"))
            await asyncio.to_thread(started.wait, 30)
            tasks = [asyncio.ensure_future(rec.call(_echo, str(n))) for n in range(3)]
            await asyncio.sleep(0)
            gate.set()
            return await asyncio.gather(held, *tasks, return_exceptions=True)

    errors = asyncio.run(main())[1:]
    assert all(isinstance(error, TransientDatabaseError) for error in errors)
    assert len({id(error) for error in errors}) == 3
    assert {str(error) for error in errors} == {"the database stayed down: retries spent"}


def test_a_writer_that_stops_answers_every_caller_and_closes(
    bot_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the writer itself (here: handing outcomes back fails) must not leave callers
    waiting forever: the group in flight may have committed, the queued ones did not."""
    from tradestore.aio import _group_commit

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in the writer")

    gate, started, hold = _hold()

    async def main() -> tuple[list[Any], AsyncRecorder]:
        rec = AsyncRecorder(bot_db, bot_id=BOT)
        held = asyncio.ensure_future(rec.call(hold))
        await asyncio.to_thread(started.wait, 30)
        queued = [asyncio.ensure_future(rec.call(_echo, str(n))) for n in range(2)]
        await asyncio.sleep(0)
        monkeypatch.setattr(_group_commit, "_settle", broken)
        gate.set()
        outcomes = await asyncio.wait_for(asyncio.gather(held, *queued, return_exceptions=True), 20)
        with pytest.raises(RecorderClosed):
            await rec.call(_echo, "later")
        await rec.close()
        return outcomes, rec

    (in_flight, *queued), rec = asyncio.run(main())
    assert isinstance(in_flight, CommitOutcomeUnknown)
    assert all(isinstance(outcome, RecorderClosed) for outcome in queued)
    assert rec.closed


_FORKED = """
import os, sys, threading
from decimal import Decimal
from tradestore import Database
from tradestore.aio import Recorder
from tradestore.errors import RecorderClosed

order = dict(ticker="X", side="buy", order_type="market", quantity=Decimal(5))
with Recorder(Database(sys.argv[1]), bot_id=sys.argv[2]) as rec:
    rec.submit(client_order_id="parent-1", **order)
    pid = os.fork()
    if pid == 0:
        said = []
        def child():
            try:
                said.append("recorded " + rec.submit(client_order_id="child", **order).order_id)
            except RecorderClosed as exc:
                said.append("refused: " + str(exc))
        thread = threading.Thread(target=child, daemon=True)
        thread.start()
        thread.join(30)
        print("child:", said[0] if said else "still waiting", flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
    rec.submit(client_order_id="parent-2", **order)
print("parent done", flush=True)
"""


def test_a_recorder_refuses_events_in_a_forked_child(db_url: str, bot_db: Database) -> None:
    """Its writer thread does not exist in the child: an event there would wait forever."""
    done = subprocess.run(
        [sys.executable, "-c", _FORKED, db_url, BOT],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    child, parent = done.stdout.splitlines()
    assert child.startswith("child: refused: "), child
    assert "forked child" in child
    assert parent == "parent done"
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert uow.orders.find(client_order_id="child") is None
        assert uow.orders.get(client_order_id="parent-2").quantity == 5


def test_backpressure_keeps_the_order_events_were_handed_over(bot_db: Database) -> None:
    """W committing, Q queued (the queue is full), A waits for room; the writer takes Q and
    makes room: B, handed over after A, must not take A's place."""
    applied: list[str] = []
    gate, started, hold = _hold()
    q_running = threading.Event()

    def mark(uow: Any, name: str) -> None:
        applied.append(name)
        if name == "Q":
            q_running.set()

    async def main() -> None:
        async with AsyncRecorder(bot_db, bot_id=BOT, max_queue=1, max_batch=1) as rec:
            w = asyncio.ensure_future(rec.call(hold))
            await asyncio.to_thread(started.wait, 30)
            q = asyncio.ensure_future(rec.call(mark, "Q"))
            await asyncio.sleep(0)
            a = asyncio.ensure_future(rec.call(mark, "A"))
            await asyncio.sleep(0)
            gate.set()
            q_running.wait(30)  # blocks the loop: the writer has taken Q, made room
            b = asyncio.ensure_future(rec.call(mark, "B"))
            await asyncio.gather(w, q, a, b)

    asyncio.run(main())
    assert applied == ["Q", "A", "B"]


def test_callers_waiting_for_room_are_admitted_once_each_in_turn(bot_db: Database) -> None:
    """Room is handed to waiting callers first come first served, each woken once (not every
    waiter on every group, to find the queue full again)."""
    applied: list[str] = []
    gate, started, hold = _hold()

    def mark(uow: Any, name: str) -> None:
        applied.append(name)

    async def main() -> int:
        async with AsyncRecorder(bot_db, bot_id=BOT, max_queue=1, max_batch=1) as rec:
            writer, tries = rec._writer, list[None]()
            try_put = writer.try_put

            def counted(pending: Any) -> Any:
                tries.append(None)
                return try_put(pending)

            writer.try_put = counted  # type: ignore[method-assign]
            held = asyncio.ensure_future(rec.call(hold))
            await asyncio.to_thread(started.wait, 30)
            waiting = [asyncio.ensure_future(rec.call(mark, f"w{n}")) for n in range(6)]
            await asyncio.sleep(0)
            gate.set()
            await asyncio.gather(held, *waiting)
            return len(tries)

    assert asyncio.run(main()) == 7
    assert applied == [f"w{n}" for n in range(6)]


def test_an_event_handed_over_from_inside_call_work_is_refused(bot_db: Database) -> None:
    """The writer would wait for itself: refused at once, and the recorder carries on."""
    rec = Recorder(bot_db, bot_id=BOT)
    said: list[Any] = []

    def nested(uow: Any) -> Any:
        return rec.submit(**_order("inner"))

    def caller() -> None:
        try:
            said.append(rec.call(nested))
        except BaseException as exc:
            said.append(exc)

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        pytest.fail("rec.submit inside rec.call work deadlocked the writer")
    (refused,) = said
    assert isinstance(refused, NestedUnitOfWork)
    assert "rec.call" in str(refused)
    assert rec.submit(**_order("after")).client_order_id == "after"
    rec.close()
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert uow.orders.find(client_order_id="inner") is None


def test_a_batch_that_fails_leaves_no_partial_writes(bot_db: Database) -> None:
    """A batch refused after writing part of its work must take that part back before its
    events run one by one."""
    from tradestore.aio._group_commit import EventKind, GroupCommitWriter, Pending

    def apply(uow: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return uow.orders.submit(**_order(args[0])).client_order_id

    def batch(uow: Any, events: Any) -> Any:
        uow.orders.submit(**_order("half-done"))
        raise RuntimeError("a batch that gives up half way")

    kind = EventKind("orders", "noted", apply, batch=batch, key=lambda a, k: a[0])
    gate, started, hold = _hold()
    holding = EventKind("*", "hold", lambda uow, a, k: hold(uow))
    writer = GroupCommitWriter(bot_db, bot_id=BOT, max_batch=10, max_queue=10)
    try:
        first = Pending(holding, (), {})
        writer.put(first, None)
        started.wait(30)
        events = [Pending(kind, (name,), {}) for name in ("x-1", "x-2")]
        for pending in events:
            writer.put(pending, None)
        gate.set()
        assert [p.future.result(30) for p in events if p.future] == ["x-1", "x-2"]
    finally:
        gate.set()
        writer.close()
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        assert uow.orders.find(client_order_id="half-done") is None


_UNCLOSED = """
import asyncio, atexit, sys, threading
from decimal import Decimal
from tradestore import Database
from tradestore.aio import AsyncRecorder

gate, started = threading.Event(), threading.Event()

def hold(uow):
    started.set()
    gate.wait(60)

async def main():
    rec = AsyncRecorder(Database(sys.argv[1]), bot_id=sys.argv[2])
    atexit.register(gate.set)  # before the recorder's own handler: last in, first out
    asyncio.ensure_future(rec.call(hold))
    await asyncio.to_thread(started.wait, 30)
    for n in range(5):
        asyncio.ensure_future(rec.submit(client_order_id=f"exit-{n}", ticker="X", side="buy",
                                         order_type="market", quantity=Decimal(1)))
    await asyncio.sleep(0)
    print(len(rec._writer._queue), flush=True)  # handed over, never awaited, never closed

asyncio.run(main())
"""


def test_a_recorder_left_open_commits_its_queue_at_exit(db_url: str, bot_db: Database) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _UNCLOSED, db_url, BOT],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5"]
    with bot_db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        found = [uow.orders.find(client_order_id=f"exit-{n}") for n in range(5)]
    assert all(order is not None for order in found)
    assert "not closed" in done.stderr


def test_a_cancelled_caller_waiting_for_room_gives_up_its_turn(bot_db: Database) -> None:
    """Its event was never queued: the room goes to the next caller in line."""
    applied: list[str] = []
    gate, started, hold = _hold()

    def mark(uow: Any, name: str) -> None:
        applied.append(name)

    async def main() -> None:
        async with AsyncRecorder(bot_db, bot_id=BOT, max_queue=1, max_batch=1) as rec:
            held = asyncio.ensure_future(rec.call(hold))
            await asyncio.to_thread(started.wait, 30)
            waiting = [asyncio.ensure_future(rec.call(mark, name)) for name in "QABC"]
            await asyncio.sleep(0)
            waiting[1].cancel()
            await asyncio.sleep(0)
            gate.set()
            await asyncio.gather(held, *waiting, return_exceptions=True)
            assert waiting[1].cancelled()
            assert len(rec._writer._room_waiters) == 0

    asyncio.run(main())
    assert applied == ["Q", "B", "C"]
