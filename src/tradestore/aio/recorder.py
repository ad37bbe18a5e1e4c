"""The recorder: what an exchange-stream handler hands its events to.

``AsyncRecorder`` for asyncio bots (``await rec.record_fill(...)``), ``Recorder`` for threaded
ones (the call blocks): both queue the event for one writer thread that commits everything
waiting in one unit of work (group commit, see ``_group_commit``), and answer each caller
only once its event is committed, with what the repository method returned or the error it
raised for that event alone.

The events are the repository methods a stream produces, under their own names and keyword
arguments: one table (``_Events``) serves both recorders, whose only difference is how a
caller waits.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from tradestore.aio._group_commit import (
    ANY_DOMAIN,
    EVERYTHING,
    Batch,
    EventKind,
    GroupCommitWriter,
    Key,
    Pending,
)
from tradestore.database import Database
from tradestore.domain.enums import OrderStatus
from tradestore.errors import TradestoreError, ValidationError
from tradestore.repositories.orders import OrderRepository
from tradestore.repositories.positions import PositionRepository
from tradestore.repositories.snapshots import SnapshotRepository
from tradestore.unit_of_work import UnitOfWork

__all__ = ["AsyncRecorder", "Recorder"]

P = ParamSpec("P")
R = TypeVar("R")

#: The most events one transaction commits, and the events waiting at once beyond which
#: callers wait (backpressure). A group of 2,000 fills takes a fraction of a second (see
#: docs/performance.md): long enough to amortise COMMIT, short enough that an answer is
#: not held back long; the queue holds a few groups.
DEFAULT_MAX_BATCH = 2_000
DEFAULT_MAX_QUEUE = 10_000


def _marks(uow: UnitOfWork, events: Sequence[Pending]) -> list[tuple[bool, Any]] | None:
    """A group's marks as one ``mark_to_market``: the last price of each ticker wins; each
    caller gets the number of positions the merged mark updated."""
    prices: dict[Any, Any] = {}
    for event in events:
        given = event.args[0] if event.args else event.kwargs.get("prices")
        if len(event.args) + len(event.kwargs) != 1 or not isinstance(given, Mapping):
            return None  # let the odd one be refused on its own
        prices.update(given)
    marked = uow.positions.mark_to_market(prices)
    return [(True, marked)] * len(events)


def _fills(uow: UnitOfWork, events: Sequence[Pending]) -> list[tuple[bool, Any]] | None:
    """A group's fills as one ``record_fills``: set-based, each fill answered on its own."""
    rows: list[dict[str, Any]] = []
    for event in events:
        if len(event.args) > 1:
            return None
        rows.append({"order_id": event.args[0], **event.kwargs} if event.args else event.kwargs)
    outcomes = uow.orders.record_fills(rows)
    return [(not isinstance(outcome, TradestoreError), outcome) for outcome in outcomes]


def _submits(uow: UnitOfWork, events: Sequence[Pending]) -> list[tuple[bool, Any]] | None:
    """A group's submits as one ``submit_many``: set-based, each order answered on its own."""
    if any(event.args for event in events):
        return None  # submit takes keywords only: let the odd one be refused on its own
    outcomes = uow.orders.submit_many([event.kwargs for event in events])
    return [(not isinstance(outcome, TradestoreError), outcome) for outcome in outcomes]


def _status_changes(status: OrderStatus | None) -> Batch:
    """A group's status changes of one kind as one ``set_statuses``: ``set_status`` itself
    (``status`` None: each event names its status) or a shorthand for ``status``."""
    positional = ("order_id",) if status is not None else ("order_id", "status")

    def batch(uow: UnitOfWork, events: Sequence[Pending]) -> list[tuple[bool, Any]] | None:
        rows: list[dict[str, Any]] = []
        for event in events:
            if len(event.args) > len(positional):
                return None
            row = dict(zip(positional, event.args, strict=False))
            if not row.keys().isdisjoint(event.kwargs):
                return None
            row.update(event.kwargs)
            if status is not None:
                row["status"] = status
            rows.append(row)
        outcomes = uow.orders.set_statuses(rows)
        return [(not isinstance(outcome, TradestoreError), outcome) for outcome in outcomes]

    return batch


def _order_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
    """The order an event names (its first argument, or ``order_id=``)."""
    key = args[0] if args else kwargs.get("order_id", EVERYTHING)
    return key if isinstance(key, Hashable) else EVERYTHING


def _submitted_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
    """A submit touches the order_id it names; one generated cannot be named by a queued
    fill (its caller learns it only once the submit committed)."""
    return _order_key((), kwargs) if "order_id" in kwargs else object()


class _Event(Generic[P, R]):
    """A recorder method calling ``method`` of ``uow.<repository>``: one table, two waits."""

    def __init__(
        self,
        repository: str,
        method: Callable[Concatenate[Any, P], R],
        *,
        batch: Batch | None = None,
        key: Key | None = _order_key,
        also: tuple[str, ...] = (),
    ) -> None:
        name = method.__name__

        def apply(uow: UnitOfWork, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            if repository == ANY_DOMAIN:
                return method(uow, *args, **kwargs)
            return getattr(getattr(uow, repository), name)(*args, **kwargs)

        self.kind = EventKind(repository, name, apply, batch=batch, key=key, also=also)
        #: Checks a call's arguments against the method's signature when it is made: a
        #: wrong call raises TypeError at once, in the caller, and is never queued.
        self.signature = inspect.signature(method)
        self.__doc__ = (
            f"Queue ``uow.{repository}.{name}(...)`` (same arguments); its result once "
            "committed.\n\n" + (method.__doc__ or "")
        )

    @overload
    def __get__(self, obj: Recorder, owner: type[Any]) -> Callable[P, R]: ...
    @overload
    def __get__(self, obj: AsyncRecorder, owner: type[Any]) -> Callable[P, Awaitable[R]]: ...
    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Event[P, R]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return obj._bind(self)


def _call(uow: UnitOfWork, work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Queue ``work(uow, *args, **kwargs)``: code of the bot's own (an adapter call, several
    repository calls that belong together) as one event of the group.

    It runs in a savepoint of its own, so it is all or nothing: a refusal anywhere in it undoes
    everything it wrote and fails this event alone. It may touch anything, so it keeps its
    place in the stream: no event of the group is moved past it. Like every event it may be
    run again when its group is (a transient failure): it must touch the database only
    through ``uow``.
    """
    with uow.executor.savepoint():
        return work(uow, *args, **kwargs)


#: What a fill may write beside its order: the kept position of its ticker and strategy.
_FILLS_ALSO_TOUCH = ("positions",)


class _Events:
    """The events, once: the repository methods an exchange stream drives."""

    # orders: acknowledgement and status changes (an ack with the broker's id is
    # ``set_status(order_id, "accepted", broker_order_id=...)``), fills, cancels (like
    # ``fills``); the events of one kind in a group are one set-based call each
    submit = _Event("orders", OrderRepository.submit, batch=_submits, key=_submitted_key)
    set_status = _Event("orders", OrderRepository.set_status, batch=_status_changes(None))
    cancel = _Event("orders", OrderRepository.cancel, batch=_status_changes(OrderStatus.CANCELLED))
    reject = _Event("orders", OrderRepository.reject, batch=_status_changes(OrderStatus.REJECTED))
    expire = _Event("orders", OrderRepository.expire, batch=_status_changes(OrderStatus.EXPIRED))
    # A fill of an order that keeps positions moves a position too (which one, only a read
    # of the order could tell): fills and marks keep their order relative to each other.
    record_fill = _Event(
        "orders", OrderRepository.record_fill, batch=_fills, also=_FILLS_ALSO_TOUCH
    )
    ingest_fills = _Event("orders", OrderRepository.ingest_fills, key=None, also=_FILLS_ALSO_TOUCH)
    # ticker marks: the marks of one group are one mark_to_market (each caller gets its
    # count of positions marked)
    mark_to_market = _Event(
        "positions", PositionRepository.mark_to_market, batch=_marks, key=lambda a, k: None
    )
    # the bot's own code, in the group's transaction (an adapter's call, say)
    call: _Event[..., Any] = _Event(ANY_DOMAIN, _call, key=None)
    # portfolio snapshots (``uow.snapshots.record``: named for what it records here)
    record_snapshot = _Event("snapshots", SnapshotRepository.record, key=None)


class _Base(_Events):
    def __init__(
        self,
        db: Database,
        *,
        bot_id: str,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if not isinstance(db, Database):
            raise ValidationError("db", db, "expected a tradestore.Database")
        if type(bot_id) is not str or not bot_id:
            raise ValidationError("bot_id", bot_id, "expected the bot's id")
        self._writer = GroupCommitWriter(
            db, bot_id=bot_id, max_batch=max_batch, max_queue=max_queue
        )

    @property
    def bot_id(self) -> str:
        return self._writer.bot_id

    @property
    def closed(self) -> bool:
        return self._writer.closed

    @property
    def groups_committed(self) -> int:
        """Transactions the writer has run so far (a group each): far fewer than events
        when they arrive together."""
        return self._writer.groups

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        where = self._writer.db.safe_url
        return f"<{type(self).__name__} bot_id={self.bot_id!r} {state} on {where}>"


class Recorder(_Base):
    """Group-committing recorder for a threaded (sync) bot.

    Each method blocks until its event is committed and returns what the repository method
    returns (or raises its error for that event alone). Many threads may call it at once;
    their events share transactions. A full queue blocks the caller, for at most
    ``put_timeout`` seconds when given (then ``RecorderFull``). ``close()`` (or the end of a
    ``with`` block) commits everything queued; later events raise ``RecorderClosed``.
    """

    def __init__(
        self, db: Database, *, bot_id: str, put_timeout: float | None = None, **sizes: int
    ) -> None:
        """``sizes``: ``max_batch`` and ``max_queue``, as for ``AsyncRecorder``."""
        super().__init__(db, bot_id=bot_id, **sizes)
        self._put_timeout = put_timeout

    def _bind(self, event: _Event[Any, Any]) -> Callable[..., Any]:
        writer, timeout = self._writer, self._put_timeout
        kind, check = event.kind, event.signature.bind

        def call(*args: Any, **kwargs: Any) -> Any:
            check(None, *args, **kwargs)
            pending = Pending(kind, args, kwargs)
            writer.put(pending, timeout)
            assert pending.future is not None
            return pending.future.result()

        return call

    def close(self) -> None:
        """Commit everything queued, then stop the writer thread."""
        self._writer.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRecorder(_Base):
    """Group-committing recorder for an asyncio bot.

    ``await rec.record_fill(order_id, fill_id=..., ...)`` returns once the fill is committed,
    with what ``uow.orders.record_fill`` returns; the event loop never waits on the
    database (the writer is a thread; answers come back with ``call_soon_threadsafe``, one
    per group). A full queue makes the ``await`` wait for room (backpressure).

    Cancelling a task that awaits an event does not take the event back: once queued it
    may still be committed (check by its natural key, ``client_order_id`` or ``fill_id``,
    which make handing it over again safe). ``await rec.close()`` (or the end of
    ``async with``) commits everything queued; later events raise ``RecorderClosed``.
    """

    def _bind(self, event: _Event[Any, Any]) -> Callable[..., Awaitable[Any]]:
        writer = self._writer
        kind, check = event.kind, event.signature.bind

        async def call(*args: Any, **kwargs: Any) -> Any:
            check(None, *args, **kwargs)
            pending = Pending(kind, args, kwargs, loop=asyncio.get_running_loop())
            room = writer.try_put(pending)
            if room is not None:
                await writer.wait_for_room(room)
            assert pending.waiter is not None
            return await pending.waiter

        return call

    async def close(self) -> None:
        """Commit everything queued, then stop the writer thread (without blocking the loop)."""
        await asyncio.to_thread(self._writer.close)

    async def __aenter__(self) -> AsyncRecorder:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
