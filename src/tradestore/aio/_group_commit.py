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

No caller is left waiting: every caller gets an error object of its own; a writer that
stops (a bug of ours) fails what it held; in a forked child, where the thread does not
exist, the writer is closed; at interpreter exit an unclosed writer commits its queue.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import functools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from tradestore.database import Database
from tradestore.errors import (
    CommitOutcomeUnknown,
    IntegrityViolation,
    NestedUnitOfWork,
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
    ``also`` names further domains the event may write, in a part its key does not name: a
    fill moves the kept position of its order's ticker and strategy (position keeping),
    which only a read could tell, so it does not commute with any event of the positions
    domain (a mark, say), in either direction.
    """

    __slots__ = ("also", "apply", "batch", "domain", "key", "name", "touches")

    def __init__(
        self,
        domain: str,
        name: str,
        apply: Apply,
        *,
        batch: Batch | None = None,
        key: Key | None = None,
        also: Iterable[str] = (),
    ) -> None:
        self.domain = domain
        self.name = name
        self.apply = apply
        self.batch = batch
        self.key = key
        self.also = frozenset(also)
        #: Every domain the event may write.
        self.touches = self.also | {domain}

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


class _Waiting:
    """A producer waiting for room: the writer queues its event when room frees, in turn.

    ``room`` (an asyncio future of the producer's loop) or ``admitted`` (a sync producer's
    event) tells it so; ``error`` is set instead when the recorder closed meanwhile.
    """

    __slots__ = ("admitted", "error", "pending", "room")

    def __init__(self, pending: Pending) -> None:
        self.pending = pending
        self.room: asyncio.Future[None] | None = None
        self.admitted: threading.Event | None = None
        self.error: BaseException | None = None
        if pending.loop is None:
            self.admitted = threading.Event()
        else:
            self.room = pending.loop.create_future()

    def wake(self) -> None:
        """Tell the producer (from any thread) that it is queued, or ``error``."""
        if self.admitted is not None:
            self.admitted.set()
        elif self.room is not None and self.pending.loop is not None:
            _call_soon(self.pending.loop, _resolve_room, self.room, self.error)


#: Set in every writer thread: an event handed to a recorder from there (``rec.call`` work
#: calling the recorder) would wait for a writer that waits for it.
_in_writer = threading.local()
#: The writers whose thread may still run: closed in a forked child, flushed at exit.
_live: weakref.WeakSet[GroupCommitWriter] = weakref.WeakSet()


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
        #: Producers waiting for room, first come first served: while any waits, a newcomer
        #: waits behind it (else it would pass one already woken for the room it takes).
        self._room_waiters: collections.deque[_Waiting] = collections.deque()
        self._closing = False
        self._pid = os.getpid()
        self._in_flight: Sequence[Pending] = ()
        self.groups = 0  # groups committed, for tests and the benchmark's report
        self._thread = threading.Thread(
            target=self._serve, name=f"tradestore-recorder-{bot_id}", daemon=True
        )
        _live.add(self)
        self._thread.start()

    # --- producers --------------------------------------------------------------------------

    def _closed_error(self) -> RecorderClosed:
        if os.getpid() != self._pid:
            return RecorderClosed(
                f"the recorder of bot {self.bot_id!r} belongs to process {self._pid}, its "
                "writer thread does not exist in this forked child: nothing was queued; "
                "create a recorder in the child"
            )
        return RecorderClosed(f"the recorder of bot {self.bot_id!r} is closed: nothing was queued")

    def _refuse_writer_thread(self) -> None:
        if getattr(_in_writer, "active", False):
            raise NestedUnitOfWork(
                f"an event was handed to the recorder of bot {self.bot_id!r} from a recorder's "
                "writer thread (rec.call work): it would wait for itself; write through the "
                "uow the work was given"
            )

    def put(self, pending: Pending, timeout: float | None) -> None:
        """Queue ``pending``, blocking while the queue is full (up to ``timeout`` seconds)."""
        self._refuse_writer_thread()
        with self._lock:
            waiting = self._wait_in_turn(pending)
        if waiting is None:
            return
        assert waiting.admitted is not None
        if not waiting.admitted.wait(timeout):
            with self._lock:
                if waiting in self._room_waiters:  # not admitted meanwhile: give up
                    self._room_waiters.remove(waiting)
                    raise RecorderFull(
                        f"the recorder of bot {self.bot_id!r} still had {self.max_queue} "
                        f"events queued after {timeout} s: nothing was queued"
                    )
        if waiting.error is not None:
            raise waiting.error

    def try_put(self, pending: Pending) -> asyncio.Future[None] | None:
        """Queue ``pending`` now, or return a future of its loop to await (``wait_for_room``):
        done once the writer queued it, in turn (or failed when the recorder closed)."""
        self._refuse_writer_thread()
        with self._lock:
            waiting = self._wait_in_turn(pending)
        return None if waiting is None else waiting.room

    async def wait_for_room(self, room: asyncio.Future[None]) -> None:
        """Await ``room`` (from ``try_put``); a producer cancelled meanwhile gives up its turn."""
        try:
            await room
        except asyncio.CancelledError:
            with self._lock:
                for waiting in self._room_waiters:
                    if waiting.room is room:
                        self._room_waiters.remove(waiting)  # never queued
                        break
            raise

    def _wait_in_turn(self, pending: Pending) -> _Waiting | None:
        """Under the lock: queue ``pending`` if there is room and nobody waits, else its place
        in the line of producers waiting for room."""
        if (len(self._queue) < self.max_queue and not self._room_waiters) or self._closing:
            self._append(pending)
            return None
        waiting = _Waiting(pending)
        self._room_waiters.append(waiting)
        return waiting

    def _admit_waiting(self) -> list[_Waiting]:
        """Under the lock: queue waiting producers' events, in turn, while there is room;
        those to wake (one wake-up each, not every waiter on every group)."""
        admitted: list[_Waiting] = []
        while self._room_waiters and len(self._queue) < self.max_queue:
            waiting = self._room_waiters.popleft()
            if waiting.room is not None and waiting.room.cancelled():
                continue  # its producer was cancelled: the slot goes to the next
            self._queue.append(waiting.pending)
            admitted.append(waiting)
        return admitted

    def _append(self, pending: Pending) -> None:
        if self._closing:
            raise self._closed_error()
        self._queue.append(pending)
        if len(self._queue) == 1:
            self._has_events.notify()

    def close(self) -> None:
        """Refuse new events, let the writer commit everything queued, wait for it to end."""
        self._refuse_writer_thread()
        with self._lock:
            self._closing = True
            self._has_events.notify()
            room_waiters = self._refuse_waiting()
        for waiting in room_waiters:
            waiting.wake()
        self._thread.join()
        _live.discard(self)

    def _refuse_waiting(self) -> list[_Waiting]:
        """Under the lock: every producer waiting for room, each failed with its own error."""
        room_waiters = list(self._room_waiters)
        self._room_waiters.clear()
        for waiting in room_waiters:
            waiting.error = self._closed_error()
        return room_waiters

    @property
    def closed(self) -> bool:
        return self._closing

    # --- the writer thread ------------------------------------------------------------------

    def _serve(self) -> None:
        """The writer thread: ``_run``; should that ever fail, no caller is left waiting."""
        _in_writer.active = True
        try:
            self._run()
        except BaseException:
            log.exception("the writer of the recorder of bot %r stopped", self.bot_id)
            self._abandon(self._in_flight)

    def _abandon(self, in_flight: Sequence[Pending], *, in_child: bool = False) -> None:
        """Close, and fail every event still waiting: queued ones were not recorded; those of
        ``in_flight`` (the group being committed) may have been. ``in_child``: after a fork,
        where no thread waits on a sync future (and its lock may have been copied held)."""
        with self._lock:
            self._closing = True
            queued = list(self._queue)
            self._queue.clear()
            room_waiters = self._refuse_waiting()
        for waiting in room_waiters:
            if waiting.room is not None or not in_child:
                waiting.wake()
        unknown = (
            f"the writer of the recorder of bot {self.bot_id!r} stopped while committing "
            "this event: it may have been committed; check by its natural key"
        )
        for pending in in_flight:
            if pending.waiter is not None or not in_child:
                _settle_one(pending, CommitOutcomeUnknown(unknown))
        for pending in queued:
            if pending.waiter is not None or not in_child:
                _settle_one(pending, self._closed_error())

    def _after_fork_in_child(self) -> None:
        """The thread was not copied into this child: closed, with fresh locks (the parent's
        may have been held by a thread that is gone)."""
        self._lock = threading.Lock()
        self._has_events = threading.Condition(self._lock)
        self._abandon(self._in_flight, in_child=True)

    def _close_at_exit(self) -> None:
        if self._closing or os.getpid() != self._pid:
            return
        log.warning(
            "the recorder of bot %r was not closed: committing its %d queued events at exit",
            self.bot_id,
            len(self._queue),
        )
        self.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._has_events.wait()
                if not self._queue:
                    return
                take = min(len(self._queue), self.max_batch)
                group = [self._queue.popleft() for _ in range(take)]
                self._in_flight = group
                admitted = self._admit_waiting()
            for waiting in admitted:
                waiting.wake()
            try:
                outcomes = self._commit(group)
            except BaseException as exc:  # pragma: no cover - a bug here must not hang callers
                log.exception("the recorder's writer failed on a group of %d", len(group))
                outcomes = _answers([(False, exc)] * len(group))
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
        return _answers(outcomes)


def plan(group: Sequence[Pending], live: Sequence[int]) -> list[list[int]]:
    """The group's live events as steps, each one event or a batch of one kind.

    A batchable event joins the open batch of its kind unless an event since that batch
    opened touched the same key in the same domain (a cancel of its order, say, itself
    batched or not): events of one order keep their order, events of different orders or
    domains commute. Two kinds that share a domain only through ``also`` (a fill, which
    may move a kept position, and a mark of the positions) have keys that do not compare:
    the later event closes the open batch of the other kind, so neither passes the other.
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
            if kind.domain != ANY_DOMAIN and kind.touches.isdisjoint(other.touches):
                continue
            if key is EVERYTHING or other.domain != kind.domain:
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
        if not guarded:
            # It may have written part of its work, and its events would run one by one on
            # top of that: the attempt ends, the batch runs again in a savepoint.
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
    except BaseException as exc:  # SystemExit out of the bot's code: its caller's alone
        if not guarded:
            raise _BrokeTransaction(index, exc) from exc
        return False, exc


def _answers(outcomes: Sequence[tuple[bool, Any] | None]) -> list[tuple[bool, Any]]:
    """``outcomes`` as every caller may receive them: an error an asyncio future can carry
    (not StopIteration, not a missing outcome), each failed caller an error object of its own
    (one object raised in several threads would share, and grow, one traceback)."""
    answers: list[tuple[bool, Any]] = []
    seen: set[int] = set()
    for outcome in outcomes:
        if outcome is None:
            error: BaseException = RuntimeError("the recorder's writer gave this event no outcome")
        elif outcome[0]:
            answers.append(outcome)
            continue
        elif isinstance(outcome[1], StopIteration):
            error = RuntimeError("the event raised StopIteration")
            error.__cause__ = outcome[1]
        elif not isinstance(outcome[1], BaseException):
            error = RuntimeError(f"the event failed without an error: {outcome[1]!r}")
        else:
            error = outcome[1]
        if id(error) in seen:
            error = _own_copy(error)
        seen.add(id(error))
        answers.append((False, error))
    return answers


def _own_copy(error: BaseException) -> BaseException:
    """A twin of ``error`` (same type, arguments, attributes, cause and traceback so far) for
    one more caller; ``error`` itself when it cannot be copied."""
    try:
        twin = type(error).__new__(type(error), *error.args)
        twin.__dict__.update(vars(error))
        twin.args = error.args
    except Exception:
        return error
    if isinstance(notes := getattr(error, "__notes__", None), list):
        twin.__notes__ = list(notes)
    twin.__cause__ = error.__cause__
    twin.__context__ = error.__context__
    twin.__suppress_context__ = error.__suppress_context__
    return twin.with_traceback(error.__traceback__)


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
        try:
            if ok:
                waiter.set_result(value)
            else:
                waiter.set_exception(value)
        except Exception as exc:  # one bad outcome must not leave the rest waiting
            log.exception("the recorder could not hand an outcome to its caller")
            if not waiter.done():
                waiter.set_exception(RuntimeError(f"the event's outcome was unusable: {exc}"))
    if end < len(settled):
        asyncio.get_running_loop().call_soon(_resolve_waiters, settled, end)


def _settle_one(pending: Pending, error: BaseException) -> None:
    if pending.future is not None and not pending.future.done():
        pending.future.set_exception(error)
    elif pending.waiter is not None and pending.loop is not None:
        _call_soon(pending.loop, _resolve_waiters, [(pending.waiter, False, error)])


def _resolve_room(room: asyncio.Future[None], error: BaseException | None = None) -> None:
    if not room.done():
        if error is None:
            room.set_result(None)
        else:
            room.set_exception(error)


def _after_fork_in_child() -> None:
    for writer in list(_live):
        writer._after_fork_in_child()


def _close_at_exit() -> None:
    """Flush what unclosed recorders still hold (a daemon thread would drop it silently)."""
    for writer in list(_live):
        try:
            writer._close_at_exit()
        except Exception:  # pragma: no cover - one recorder must not stop the others' flush
            log.exception("the recorder of bot %r could not be flushed at exit", writer.bot_id)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)
