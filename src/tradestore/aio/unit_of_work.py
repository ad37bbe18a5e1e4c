"""The async unit of work: the sync ``UnitOfWork``'s repositories, awaited.

Each attribute (``uow.orders``, ``uow.analytics``, ...) is one generic proxy over the sync
repository the sync unit of work builds: ``await uow.orders.record_fill(...)`` runs
``OrderRepository.record_fill`` itself, on the async driver (``_greenlet.spawn``). So every
validation, accounting rule, statement and error of the sync API is the async API's too,
written once. A method that returns a generator (``training.iter_episodes``) becomes an
async iterator that pulls rows in chunks, one greenlet switch per chunk rather than per row.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from itertools import islice
from typing import Any, Generic, TypeVar, overload

from tradestore.aio._greenlet import spawn
from tradestore.analytics import Analytics
from tradestore.db.replicas import CommitToken
from tradestore.repositories.bots import BotRepository
from tradestore.repositories.ensembles import EnsembleRepository
from tradestore.repositories.evaluations import EvaluationRepository
from tradestore.repositories.metrics import MetricsRepository
from tradestore.repositories.orders import OrderRepository
from tradestore.repositories.positions import PositionRepository
from tradestore.repositories.sessions import SessionRepository
from tradestore.repositories.snapshots import SnapshotRepository
from tradestore.repositories.training import TrainingRepository
from tradestore.unit_of_work import UnitOfWork

R = TypeVar("R")
T = TypeVar("T")
#: Rows an async iterator takes per greenlet switch.
CHUNK = 500


class AsyncRepository(Generic[R]):
    """Any sync repository (or ``Analytics``), its public methods as coroutines.

    ``await proxy.method(*args, **kwargs)`` returns what ``repository.method`` returns and
    raises what it raises. For static types, ``await uow.run_sync(lambda uow: ...)``
    carries the sync method's signature.
    """

    __slots__ = ("__dict__", "sync")

    def __init__(self, repository: R) -> None:
        #: The sync repository; call it only inside ``uow.run_sync``.
        self.sync = repository

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self.sync, name)
        if not callable(method):
            raise AttributeError(
                f"{type(self.sync).__name__}.{name} is not a method: read it with "
                f"uow.run_sync(lambda uow: ...)"
            )
        streams = _streams(type(self.sync), name)  # type: ignore[arg-type]  # a class: hashable
        proxy = _iterating(method) if streams else _awaiting(method)
        self.__dict__[name] = proxy  # found without __getattr__ from now on
        return proxy

    def __repr__(self) -> str:
        return f"<async {type(self.sync).__name__}>"


@functools.cache
def _streams(cls: type[Any], name: str) -> bool:
    """Whether ``cls.name`` returns an iterator (rows read while it is iterated), by its
    declared return type: such a method becomes an async iterator, the others coroutines."""
    function = inspect.unwrap(getattr(cls, name))
    if inspect.isgeneratorfunction(function):
        return True
    try:
        returned = typing.get_type_hints(function).get("return")
    except (NameError, TypeError):  # an annotation only a type checker resolves
        returned = None
    return typing.get_origin(returned) in (Iterator, Generator)


def _awaiting(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return spawn(method, *args, **kwargs)

    call.__name__ = call.__qualname__ = method.__name__
    call.__doc__ = method.__doc__
    return call


def _iterating(method: Callable[..., Iterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    def call(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return AsyncRows(lambda: method(*args, **kwargs))

    call.__name__ = call.__qualname__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class AsyncRows(AsyncIterator[T]):
    """A sync generator's rows, ``CHUNK`` at a time; it starts on the first ``__anext__``."""

    def __init__(self, start: Callable[[], Iterator[T]]) -> None:
        self._start = start
        self._rows: Iterator[T] | None = None
        self._chunk: list[T] = []
        self._done = False

    def __aiter__(self) -> AsyncRows[T]:
        return self

    async def __anext__(self) -> T:
        if not self._chunk:
            if self._done:
                raise StopAsyncIteration
            self._chunk = await spawn(self._pull)
            if not self._chunk:
                self._done = True
                raise StopAsyncIteration
        return self._chunk.pop()

    def _pull(self) -> list[T]:
        if self._rows is None:
            self._rows = self._start()
        chunk = list(islice(self._rows, CHUNK))
        chunk.reverse()  # popped from the end
        return chunk

    async def aclose(self) -> None:
        """End the sync generator now (its ``finally`` blocks run on the driver)."""
        self._done = True
        self._chunk = []
        rows = self._rows
        close = getattr(rows, "close", None)
        if close is not None:
            await spawn(close)


class _Repository(Generic[R]):
    """``uow.<name>``: the proxy over the sync unit of work's repository of that name."""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type[Any]) -> _Repository[R]: ...

    @overload
    def __get__(self, uow: AsyncUnitOfWork, owner: type[Any]) -> AsyncRepository[R]: ...

    def __get__(
        self, uow: AsyncUnitOfWork | None, owner: type[Any]
    ) -> _Repository[R] | AsyncRepository[R]:
        if uow is None:
            return self
        found: AsyncRepository[R] | None = uow._proxies.get(self.name)
        if found is None:
            # The sync property decides (and refuses a bot-scoped one without bot_id).
            found = AsyncRepository(getattr(uow.sync, self.name))
            uow._proxies[self.name] = found
        return found


class AsyncUnitOfWork:
    """What ``AsyncDatabase.unit_of_work(bot_id=...)`` yields: the same repositories, awaited.

    Scoping is the sync unit of work's: trading repositories need ``bot_id``, the others are
    shared. ``run_sync`` runs a function of the sync ``UnitOfWork`` in this transaction, for
    fully typed calls and for ``uow.session`` (an ORM Session joined to the transaction).
    """

    bots = _Repository[BotRepository]()
    positions = _Repository[PositionRepository]()
    orders = _Repository[OrderRepository]()
    snapshots = _Repository[SnapshotRepository]()
    sessions = _Repository[SessionRepository]()
    metrics = _Repository[MetricsRepository]()
    training = _Repository[TrainingRepository]()
    evaluations = _Repository[EvaluationRepository]()
    ensembles = _Repository[EnsembleRepository]()
    analytics = _Repository[Analytics]()

    def __init__(self, uow: UnitOfWork) -> None:
        #: The sync unit of work; use it only inside ``run_sync``.
        self.sync = uow
        self._proxies: dict[str, Any] = {}

    @property
    def bot_id(self) -> str | None:
        return self.sync.bot_id

    async def commit_token(self) -> CommitToken:
        """``UnitOfWork.commit_token``, awaited (its one statement runs on the async driver)."""
        return await spawn(self.sync.commit_token)

    async def run_sync(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work(uow)`` on the sync unit of work, in this transaction, on the async driver."""
        return await spawn(work, self.sync)
