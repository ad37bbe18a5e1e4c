"""The writer behind the recorders: a bounded queue, one thread, one transaction per group.

One thread writes through the sync ``Database``: sqlite3 and psycopg2 release the GIL while
the database works, so the event loop (or the bot's other threads) runs meanwhile, and a
group costs one hop between threads, not one per statement. While the writer commits a
group the next one gathers in the queue, so the more events arrive at once, the more share
a COMMIT: throughput grows with load instead of collapsing.

A group runs optimistically, each event as a plain repository call. The refusals a bot is
expected to meet (a validation error, an overfill, a conflict, an unknown order) undo only
themselves inside a unit of work (see ``tradestore.unit_of_work``): such an event is
rejected to its own caller and the group goes on. A refusal that broke the transaction (a
statement the database refused outside a savepoint) ends the attempt: that event is
rejected, and the rest of the group runs again, this time each event in its own savepoint,
so a second such refusal cannot cost another attempt. Transient failures (a lock timeout, a
lost connection) re-run the whole group under the Database's retry policy
(``Database.run``); an event's caller hears of its outcome only after COMMIT returned.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from tradestore.database import Database
from tradestore.errors import (
    IntegrityViolation,
    RecorderClosed,
    RecorderFull,
    TradestoreError,
    TransactionAborted,
    TransientDatabaseError,
    ValidationError,
)
from tradestore.unit_of_work import UnitOfWork

log = logging.getLogger("tradestore.aio.recorder")

#: How an event runs in a unit of work: ``apply(uow, args, kwargs)``.
Apply = Callable[[UnitOfWork, tuple[Any, ...], dict[str, Any]], Any]
#: How a run of events of one kind runs as one set-based call: per event (ok, result or
#: error), or None when these events cannot be run together (they then run one by one).
Batch = Callable[[UnitOfWork, Sequence["Pending"]], list[tuple[bool, Any]] | None]
#: What an event touches within its domain (an order id), for the planner; ``EVERYTHING``
#: when it may touch any of it.
Key = Callable[[tuple[Any, ...], dict[str, Any]], Hashable]
EVERYTHING = object()
#: The domain of an event that may write anything (the bot's own code): every open batch
#: closes before it.
ANY_DOMAIN = "*"


class EventKind:
    """One kind of event: the repository method it calls, and how a group may batch it.

    ``domain`` names what it writes (the repository); events of different domains write
    different tables and commute. ``batch`` runs several events of this kind at once;
    ``key`` says which part of the domain an event touches, so that a batch may gather
    events from across the group without passing an event that touches the same order.
    """

    __slots__ = ("apply", "batch", "domain", "key", "name")

    def __init__(
        self,
        domain: str,
        name: str,
        apply: Apply,
        *,
        batch: Batch | None = None,
        key: Key | None = None,
    ) -> None:
        self.domain = domain
        self.name = name
        self.apply = apply
        self.batch = batch
        self.key = key

    def key_of(self, pending: Pending) -> Hashable:
        return EVERYTHING if self.key is None else self.key(pending.args, pending.kwargs)


class Pending:
    """One queued event and how its caller hears the outcome.

    A sync caller waits on ``future`` (a ``concurrent.futures.Future``); an async caller
    on ``waiter``, an asyncio future of ``loop``, which only that loop's thread may touch:
    the writer settles those in one ``call_soon_threadsafe`` per loop and group.
    """

    __slots__ = ("args", "future", "kind", "kwargs", "loop", "waiter")

    def __init__(
        self,
        kind: EventKind,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.kind = kind
        self.args = args
        self.kwargs = kwargs
        self.loop = loop
        self.future: concurrent.futures.Future[Any] | None = None
        self.waiter: asyncio.Future[Any] | None = None
        if loop is None:
            self.future = concurrent.futures.Future()
        else:
            self.waiter = loop.create_future()


class _BrokeTransaction(Exception):
    """Raised out of an attempt: event ``index`` (None: one of a batch, not known which)
    broke the transaction with ``error``."""

    def __init__(self, index: int | None, error: BaseException) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


class GroupCommitWriter:
    """The queue and the writer thread shared by ``Recorder`` and ``AsyncRecorder``."""

    def __init__(self, db: Database, *, bot_id: str, max_batch: int, max_queue: int) -> None:
        for name, value in (("max_batch", max_batch), ("max_queue", max_queue)):
            if type(value) is not int or value < 1:
                raise ValidationError(name, value, "expected a positive int")
        self.db = db
        self.bot_id = bot_id
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._queue: collections.deque[Pending] = collections.deque()
        self._lock = threading.Lock()
        self._has_events = threading.Condition(self._lock)
        self._has_room = threading.Condition(self._lock)
        #: asyncio producers waiting for room: (loop, future), woken in FIFO order.
        self._room_waiters: collections.deque[
            tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]
        ] = collections.deque()
        self._closing = False
        self.groups = 0  # groups committed, for tests and the benchmark's report
        self._thread = threading.Thread(
            target=self._run, name=f"tradestore-recorder-{bot_id}", daemon=True
        )
        self._thread.start()

    # --- producers --------------------------------------------------------------------------

    def _closed_error(self) -> RecorderClosed:
        return RecorderClosed(f"the recorder of bot {self.bot_id!r} is closed: nothing was queued")

    def put(self, pending: Pending, timeout: float | None) -> None:
        """Queue ``pending``, blocking while the queue is full (up to ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while len(self._queue) >= self.max_queue and not self._closing:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise RecorderFull(
                        f"the recorder of bot {self.bot_id!r} still had {self.max_queue} "
                        f"events queued after {timeout} s: nothing was queued"
                    )
                self._has_room.wait(remaining)
            self._append(pending)

    def try_put(self, pending: Pending) -> asyncio.Future[None] | None:
        """Queue ``pending`` now, or return a future of its loop to await for room."""
        with self._lock:
            if len(self._queue) < self.max_queue or self._closing:
                self._append(pending)
                return None
            assert pending.loop is not None
            room = pending.loop.create_future()
            self._room_waiters.append((pending.loop, room))
            return room

    def _append(self, pending: Pending) -> None:
        if self._closing:
            raise self._closed_error()
        self._queue.append(pending)
        if len(self._queue) == 1:
            self._has_events.notify()

    def close(self) -> None:
        """Refuse new events, let the writer commit everything queued, wait for it to end."""
        with self._lock:
            self._closing = True
            self._has_events.notify()
            self._has_room.notify_all()
            room_waiters = list(self._room_waiters)
            self._room_waiters.clear()
        for loop, room in room_waiters:
            _call_soon(loop, _resolve_room, room)
        self._thread.join()

    @property
    def closed(self) -> bool:
        return self._closing

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._has_events.wait()
                if not self._queue:
                    return
                take = min(len(self._queue), self.max_batch)
                group = [self._queue.popleft() for _ in range(take)]
                self._has_room.notify(take)
                room_waiters = list(self._room_waiters)
                self._room_waiters.clear()
            # Every asyncio producer waiting for room tries again (a cancelled one would
            # otherwise swallow a wake-up meant for another).
            for loop, room in room_waiters:
                _call_soon(loop, _resolve_room, room)
            try:
                outcomes = self._commit(group)
            except BaseException as exc:  # pragma: no cover - a bug here must not hang callers
                log.exception("the recorder's writer failed on a group of %d", len(group))
                outcomes = [(False, exc)] * len(group)
            self.groups += 1
            _settle(group, outcomes)

    def _commit(self, group: Sequence[Pending]) -> list[tuple[bool, Any]]:
        """Commit ``group`` in one unit of work; per event (succeeded, result or error)."""
        outcomes: list[tuple[bool, Any] | None] = [None] * len(group)
        live = list(range(len(group)))
        guarded = False
        while live:
            try:
                results = self.db.run(
                    functools.partial(_attempt, group=group, live=live, guarded=guarded),
                    bot_id=self.bot_id,
                )
            except _BrokeTransaction as broke:
                if broke.index is not None:
                    outcomes[broke.index] = (False, broke.error)
                    live.remove(broke.index)
                guarded = True
                continue
            except TradestoreError as exc:
                if not guarded and isinstance(exc, (TransactionAborted, IntegrityViolation)):
                    # Refused by the block's end or at COMMIT: one event at a time can tell.
                    guarded = True
                    continue
                # Retries spent, COMMIT outcome unknown (never re-run: see
                # CommitOutcomeUnknown), schema refused: the whole group hears it.
                for index in live:
                    outcomes[index] = (False, exc)
                break
            for index, outcome in results:
                outcomes[index] = outcome
            break
        return [outcome if outcome is not None else (False, None) for outcome in outcomes]


def plan(group: Sequence[Pending], live: Sequence[int]) -> list[list[int]]:
    """The group's live events as steps, each one event or a batch of one kind.

    A batchable event joins the open batch of its kind unless an event since that batch
    opened touched the same key in the same domain (a cancel of its order, say, itself
    batched or not): events of one order keep their order, events of different orders or
    domains commute.
    """
    steps: list[list[int]] = []
    open_batches: dict[EventKind, tuple[int, set[Hashable]]] = {}
    for index in live:
        pending = group[index]
        kind = pending.kind
        key = kind.key_of(pending)
        if kind.batch is not None:
            opened = open_batches.get(kind)
            if opened is not None and key is not EVERYTHING and key not in opened[1]:
                steps[opened[0]].append(index)
            else:
                steps.append([index])
                open_batches[kind] = (len(steps) - 1, set())
        else:
            steps.append([index])
        for other in list(open_batches):
            if other is kind and kind.batch is not None:
                continue
            if other.domain != kind.domain and kind.domain != ANY_DOMAIN:
                continue
            if key is EVERYTHING:
                del open_batches[other]
            else:
                open_batches[other][1].add(key)
    return steps


def _attempt(
    uow: UnitOfWork, *, group: Sequence[Pending], live: Sequence[int], guarded: bool
) -> list[tuple[int, tuple[bool, Any]]]:
    """One run of the group's live events in ``uow``; ``guarded``: each in a savepoint."""
    results: list[tuple[int, tuple[bool, Any]]] = []
    for members in plan(group, live):
        if len(members) > 1:
            batched = _run_batch(uow, group, members, guarded)
            if batched is not None:
                results.extend(zip(members, batched, strict=True))
                continue
        for index in members:
            results.append((index, _run_one(uow, group, index, guarded)))
    return results


def _run_batch(
    uow: UnitOfWork, group: Sequence[Pending], members: Sequence[int], guarded: bool
) -> list[tuple[bool, Any]] | None:
    """The batch's outcomes, or None: run its events one by one (each then answers alone)."""
    kind = group[members[0]].kind
    assert kind.batch is not None
    executor = uow.executor
    try:
        if guarded:
            with executor.savepoint():
                return kind.batch(uow, [group[i] for i in members])
        return kind.batch(uow, [group[i] for i in members])
    except TransientDatabaseError:
        raise
    except Exception as exc:
        if not guarded and executor.failure() is not None:
            raise _BrokeTransaction(None, exc) from exc
        return None


def _run_one(
    uow: UnitOfWork, group: Sequence[Pending], index: int, guarded: bool
) -> tuple[bool, Any]:
    pending = group[index]
    executor = uow.executor
    try:
        if guarded:
            with executor.savepoint():
                return True, pending.kind.apply(uow, pending.args, pending.kwargs)
        return True, pending.kind.apply(uow, pending.args, pending.kwargs)
    except TransientDatabaseError:
        raise
    except Exception as exc:
        if not guarded and (executor.failure() is not None or not isinstance(exc, TradestoreError)):
            raise _BrokeTransaction(index, exc) from exc
        return False, exc


def _settle(group: Sequence[Pending], outcomes: Sequence[tuple[bool, Any]]) -> None:
    """Hand every event's outcome to its caller: sync futures here, asyncio ones on their
    loops, one ``call_soon_threadsafe`` per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for pending, (ok, value) in zip(group, outcomes, strict=True):
        if pending.future is not None:
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)
        elif pending.waiter is not None and pending.loop is not None:
            by_loop.setdefault(pending.loop, []).append((pending.waiter, ok, value))
    for loop, settled in by_loop.items():
        _call_soon(loop, _resolve_waiters, settled)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        log.debug("the event loop closed before the recorder answered it")


#: Waiters resolved per turn of the event loop. Resolving one is cheap; the task it wakes
#: then runs its handler up to the next ``await`` in the same turn, 20-50 us for a stream
#: handler. All of a 2,000-event group at once would hold the loop for tens of ms (its
#: timers, the websocket's reads wait); a slice at a time keeps each turn to a few ms.
RESOLVE_SLICE = 64


def _resolve_waiters(
    settled: Sequence[tuple[asyncio.Future[Any], bool, Any]], start: int = 0
) -> None:
    """Resolve ``settled[start:start + RESOLVE_SLICE]``, then queue the rest for the loop's
    next turn (the tasks woken by this slice run first, then the loop polls)."""
    end = start + RESOLVE_SLICE
    for waiter, ok, value in settled[start:end]:
        if waiter.done():  # the caller was cancelled: its event committed (or not) regardless
            continue
        if ok:
            waiter.set_result(value)
        else:
            waiter.set_exception(value)
    if end < len(settled):
        asyncio.get_running_loop().call_soon(_resolve_waiters, settled, end)


def _resolve_room(room: asyncio.Future[None]) -> None:
    if not room.done():
        room.set_result(None)
