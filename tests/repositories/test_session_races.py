"""Session writers against a prune batch and a close, on PostgreSQL, in a forced order.

Each test runs two transactions in threads and orders their steps with events and by
polling ``pg_stat_activity`` for a backend waiting on a lock (no sleeps decide anything).
SQLite needs none of this: its writers hold the database's write lock from ``BEGIN
IMMEDIATE`` on, so they never interleave.

- a prune batch committing while a session starts: the new session's prior sums must not
  hold the pruned rows (``ops.retention._LOCK_BOTS``);
- a close whose clock is read before a session start commits: it must not count in the
  new session (``positions._BOT_HELD``: the close holds the bot before it reads the clock);
- a backdated close while ``end_session`` holds the bot: no deadlock (the same lock).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from tradestore import Database
from tradestore.ops.retention import prune

pytestmark = pytest.mark.timeout(120)

D = Decimal
T0 = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
WAIT = 30.0  # seconds any one step may take before the test fails instead of hanging


@pytest.fixture
def pg_url(backend: str, db_url: str) -> str:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL race: SQLite's writers never interleave")
    return db_url


@pytest.fixture
def lock_waits(pg_url: str) -> Iterator[Callable[[], int]]:
    """How many backends of the test's database are waiting on a lock now."""
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")

    def count() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            )

    yield count
    engine.dispose()


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Clock:
    """A settable clock; when armed, its next read calls ``hook`` first."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.hook: Callable[[], None] | None = None

    def __call__(self) -> dt.datetime:
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return self.now


class Worker(threading.Thread):
    """A thread keeping its result or its exception."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._work = work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as exc:
            self.error = exc

    def outcome(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive(), "worker still running"
        if self.error is not None:
            raise self.error
        return self.result


def stored_and_recounted(db: Database, session_id: int) -> tuple[Any, Any]:
    with db.unit_of_work(bot_id="b", readonly=True) as uow:
        stored = uow.sessions.get(session_id)
        figures = uow.sessions.figures(session_id)
    return (stored.total_trades, stored.total_pnl), (figures.total_trades, figures.total_pnl)


def test_prune_committing_during_a_session_start(
    pg_url: str, lock_waits: Callable[[], int]
) -> None:
    clock = Clock(T0)
    db, pruner = Database(pg_url, clock=clock), Database(pg_url)
    release = threading.Event()
    try:
        with db.unit_of_work() as uow:
            uow.bots.register("b", starting_balance=D(1000))
        with db.unit_of_work(bot_id="b") as uow:
            for _ in range(3):
                p = uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
                uow.positions.close(p.position_id, exit_price=D(110), exit_reason="signal")
        clock.now = T0 + dt.timedelta(hours=1)
        with db.unit_of_work() as uow:
            uow.bots.start_session("b")  # its prior sums: the 3 trades
        # The batch of closed rows stops just before its commit, its work done.
        batch_done = threading.Event()
        seen: dict[str, bool] = {}

        def statement(_c: Any, _cur: Any, sql: str, *_a: Any) -> None:
            if "trading_sessions" in sql and "FOR UPDATE" in sql:
                seen["batch"] = True

        def commit(_c: Any) -> None:
            if seen.pop("batch", False):
                batch_done.set()
                assert release.wait(WAIT)

        event.listen(pruner.engine, "before_cursor_execute", statement)
        event.listen(pruner.engine, "commit", commit)
        cutoff = T0 + dt.timedelta(minutes=30)
        pruning = Worker(lambda: prune(pruner, cutoff=cutoff, now=T0 + dt.timedelta(hours=2)))
        pruning.start()
        assert batch_done.wait(WAIT)
        clock.now = T0 + dt.timedelta(hours=2)

        def recover() -> Any:
            with db.unit_of_work() as uow:
                return uow.bots.recover("b")

        recovering = Worker(recover)
        recovering.start()
        # It waits on the batch (on the bot's row once fixed; before, on the session row,
        # having read the totals the batch has not yet committed).
        until(lambda: lock_waits() >= 1, "the recover to wait on the prune batch")
        release.set()
        assert pruning.outcome().counts["closed_positions"] == 3
        state = recovering.outcome()
        clock.now = T0 + dt.timedelta(hours=3)
        with db.unit_of_work() as uow:
            ended = uow.bots.end_session("b")
        assert ended.total_trades == 0
        for session_id in (state.interrupted_session.session_id, ended.session_id):
            stored, recounted = stored_and_recounted(db, session_id)
            assert stored == recounted
    finally:
        release.set()
        db.dispose()
        pruner.dispose()


def test_close_whose_clock_precedes_a_session_start(
    pg_url: str, lock_waits: Callable[[], int]
) -> None:
    writer_clock, close_clock = Clock(T0), Clock(T0)
    db, closer = Database(pg_url, clock=writer_clock), Database(pg_url, clock=close_clock)
    go_close, go_writer = threading.Event(), threading.Event()
    try:
        with db.unit_of_work() as uow:
            uow.bots.register("b", starting_balance=D(1000))
            first = uow.bots.start_session("b")
        with db.unit_of_work(bot_id="b") as uow:
            position = uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
        close_clock.now = T0 + dt.timedelta(seconds=10)  # the close reads its clock first
        writer_clock.now = T0 + dt.timedelta(seconds=11)  # the session starts a moment later
        clock_read = threading.Event()

        def at_clock() -> None:
            clock_read.set()
            assert go_close.wait(WAIT)

        def close() -> None:
            with closer.unit_of_work(bot_id="b") as uow:
                close_clock.hook = at_clock
                uow.positions.close(position.position_id, exit_price=D(110), exit_reason="signal")

        closing = Worker(close)
        closing.start()
        assert clock_read.wait(WAIT)
        started = threading.Event()

        def start() -> Any:
            with db.unit_of_work() as uow:
                session = uow.bots.start_session("b")  # interrupts the first session
                started.set()
                assert go_writer.wait(WAIT)  # still uncommitted while the close goes on
                return session

        writing = Worker(start)
        writing.start()
        # Before the fix the start goes through; once fixed it waits on the close.
        until(lambda: started.is_set() or lock_waits() >= 1, "the session start")
        go_close.set()
        until(lambda: not closing.is_alive() or lock_waits() >= 1, "the close")
        go_writer.set()
        closing.outcome()
        second = writing.outcome()
        writer_clock.now = T0 + dt.timedelta(seconds=20)
        with db.unit_of_work() as uow:
            second = uow.bots.end_session("b")
        for session_id in (first.session_id, second.session_id):
            stored, recounted = stored_and_recounted(db, session_id)
            assert stored == recounted
        assert stored_and_recounted(db, first.session_id)[0] == (1, D(10))
    finally:
        go_close.set()
        go_writer.set()
        db.dispose()
        closer.dispose()


def test_backdated_close_while_a_session_ends(pg_url: str, lock_waits: Callable[[], int]) -> None:
    writer_clock, close_clock = Clock(T0), Clock(T0)
    db, closer = Database(pg_url, clock=writer_clock), Database(pg_url, clock=close_clock)
    go_end = threading.Event()
    try:
        with db.unit_of_work() as uow:
            uow.bots.register("b", starting_balance=D(1000))
        with db.unit_of_work(bot_id="b") as uow:
            position = uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
        writer_clock.now = T0 + dt.timedelta(hours=1)
        with db.unit_of_work() as uow:
            session = uow.bots.start_session("b")
        writer_clock.now = close_clock.now = T0 + dt.timedelta(hours=2)
        bot_locked = threading.Event()

        def at_clock() -> None:  # end_session reads the clock holding the bot's row
            bot_locked.set()
            assert go_end.wait(WAIT)

        def end() -> Any:
            with db.unit_of_work() as uow:
                writer_clock.hook = at_clock
                return uow.bots.end_session("b")

        ending = Worker(end)
        ending.start()
        assert bot_locked.wait(WAIT)

        def close() -> None:  # a late fill: dated before the session's start
            with closer.unit_of_work(bot_id="b") as uow:
                uow.positions.close(
                    position.position_id,
                    exit_price=D(110),
                    exit_reason="signal",
                    closed_at=T0 + dt.timedelta(minutes=30),
                )

        closing = Worker(close)
        closing.start()
        until(lambda: lock_waits() >= 1, "the close to wait on the bot")
        go_end.set()
        ended = ending.outcome()
        closing.outcome()  # before the fix one of the two was a deadlock victim
        assert ended.total_trades == 0
        stored, recounted = stored_and_recounted(db, session.session_id)
        assert stored == recounted == (0, D(0))
    finally:
        go_end.set()
        db.dispose()
        closer.dispose()
