"""``AsyncDatabase``: the sync ``Database``'s body, run on an async driver.

An asyncio bot cannot call the sync API inline (every statement would stall its event loop)
and should not need a thread per call. ``AsyncDatabase`` builds the engine with
``create_async_engine`` (asyncpg, aiosqlite), configures its ``sync_engine`` with the sync
engine's listeners, and sets the ordinary ``Database`` up over it. Each operation then runs
the sync code itself inside SQLAlchemy's greenlet bridge (``_greenlet.spawn``): connect and
BEGIN with their retries, the schema check, error translation, bot scoping, the COMMIT,
``run``'s re-runs and its settling of a COMMIT whose answer was lost. Only two things
differ, both handed to the sync body: waiting between attempts is ``asyncio.sleep`` (the
loop runs on), and the one-writer rule is per task (``contextvars``), not per thread.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tradestore.aio._greenlet import async_engine_for, sleep, spawn, wait
from tradestore.aio.unit_of_work import AsyncUnitOfWork
from tradestore.config import async_url, sqlite_path
from tradestore.database import BaseDatabase, Database, Settings
from tradestore.db.executor import Clock
from tradestore.db.replicas import CommitToken, ReplicaStatus
from tradestore.db.retry import RetryPolicy
from tradestore.unit_of_work import UnitOfWork

T = TypeVar("T")


class _Writer:
    """One open write unit of work of one ``TaskFlag``: closed (for every task that copied
    it) when the unit of work ends."""

    __slots__ = ("flag", "open")

    def __init__(self, flag: TaskFlag) -> None:
        self.flag = flag
        self.open = True


#: The write units of work the current task has open. A task created inside one copies the
#: context and with it the same ``_Writer`` objects: it is refused while the parent's unit
#: is open, and free as soon as the parent's unit closes them.
_OPEN_WRITERS: contextvars.ContextVar[tuple[_Writer, ...]] = contextvars.ContextVar(
    "tradestore_open_writers", default=()
)


class TaskFlag:
    """The async rule: one write unit of work per task (a task started inside one inherits
    it while it is open).

    Two tasks each get their own; a second write unit of work opened in the same task would
    wait on the first one's locks (SQLite) or commit apart from it (PostgreSQL), as in a
    thread. The flag is a ``_Writer`` object, not a boolean in the context: a child task's
    copy of the context must see the parent's unit end.
    """

    where = "task"

    def get(self) -> bool:
        return any(w.flag is self and w.open for w in _OPEN_WRITERS.get())

    def set(self, value: bool) -> None:
        # Closed writers (and this flag's) leave the tuple: it stays as short as the nesting.
        mine = [w for w in _OPEN_WRITERS.get() if w.flag is self and w.open]
        kept = tuple(w for w in _OPEN_WRITERS.get() if w.flag is not self and w.open)
        if value:
            _OPEN_WRITERS.set((*kept, _Writer(self)))
        else:
            for writer in mine:
                writer.open = False
            _OPEN_WRITERS.set(kept)


class AsyncDatabase(BaseDatabase):
    """One database for an asyncio program: the sync ``Database``'s rules, awaited.

    ``url`` takes the spellings ``Database`` does (``sqlite:///...``, ``postgresql://``,
    ``postgres://``, ``postgresql+psycopg2://``) and runs them on aiosqlite or asyncpg
    (``pip install 'tradestore[async]'``). Options are ``Database``'s. Create one per event
    loop; units of work are per task.
    """

    def _set_up(self, url: URL, settings: Settings) -> None:
        replica_urls = settings.replica_urls(url)
        self.url = async_url(url)
        self.engine: AsyncEngine = async_engine_for(self.url, **settings.engine_options)
        self._sync = Database.__new__(Database)
        self._sync._attach(
            self.url,
            self.engine.sync_engine,
            settings,
            sleep=sleep,
            writing=TaskFlag(),
            # Tasks share the thread: a thread lock held across an await would hang the loop.
            # Two tasks may both check the schema the first time; neither writes.
            schema_lock=nullcontext(),
        )
        # Replicas: the sync body chooses among their engines' sync facades, inside the
        # greenlet like every other statement (db.replicas never holds its lock across one).
        self._replica_engines = [
            async_engine_for(async_url(replica), **settings.replica_engine_options())
            for replica in replica_urls
        ]
        if self._replica_engines:
            self._sync._use_replicas(
                [(e.url, e.sync_engine) for e in self._replica_engines], settings
            )
        # An in-memory SQLite database is one DBAPI connection (StaticPool) shared by every
        # unit of work: two tasks in it at once would run inside each other's transaction
        # (one's rollback undoing the other's writes). They take turns instead.
        in_memory = self.url.get_backend_name() == "sqlite" and sqlite_path(self.url) is None
        self._turns = asyncio.Lock() if in_memory else None
        self._turn_holder: asyncio.Task[object] | None = None

    # --- identity (url, safe_url, dialect_name, from_env: BaseDatabase's) ---------------

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._sync.retry_policy

    @property
    def clock(self) -> Clock:
        return self._sync.clock

    def replica_status(self) -> tuple[ReplicaStatus, ...]:
        """As ``Database.replica_status``: each replica as the last read found it."""
        return self._sync.replica_status()

    @property
    def primary_reads(self) -> int:
        return self._sync.primary_reads

    async def dispose(self) -> None:
        await self.engine.dispose()
        for engine in self._replica_engines:
            await engine.dispose()

    async def __aenter__(self) -> AsyncDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()

    # --- transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """The in-memory database's one connection, for this task (see ``_set_up``);
        re-entered freely by the task holding it (a read nested in a write)."""
        turns = self._turns
        task = asyncio.current_task()
        if turns is None or self._turn_holder is task:
            yield
            return
        async with turns:
            self._turn_holder = task
            try:
                yield
            finally:
                self._turn_holder = None

    @asynccontextmanager
    async def unit_of_work(
        self,
        bot_id: str | None = None,
        *,
        readonly: bool = False,
        retry: RetryPolicy | None = None,
        consistent_with: CommitToken | None = None,
        fresh: bool = False,
    ) -> AsyncIterator[AsyncUnitOfWork]:
        """One transaction, as ``Database.unit_of_work``: commits when the block ends, rolls
        back if it raises, ``TransactionAborted`` after a refusal the block caught,
        ``NestedUnitOfWork`` for a second write unit of work in the same task; read-only
        ones on a replica when there are replicas (``consistent_with``, ``fresh``: as
        there)."""
        async with self._turn():
            block = self._sync.unit_of_work(
                bot_id,
                readonly=readonly,
                retry=retry,
                consistent_with=consistent_with,
                fresh=fresh,
            )
            uow = await spawn(block.__enter__)
            try:
                yield AsyncUnitOfWork(uow)
            except BaseException as exc:
                if not await spawn(block.__exit__, type(exc), exc, exc.__traceback__):
                    raise
            else:
                await spawn(block.__exit__, None, None, None)

    async def run(
        self,
        work: Callable[[AsyncUnitOfWork], Awaitable[T]],
        *,
        bot_id: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> T:
        """``await work(uow)`` in a unit of work, re-run whole on transient failures.

        ``Database.run`` itself: the same policy, the same settling of a lost COMMIT on
        PostgreSQL; ``work`` must be safe to run again from the start.
        """

        def attempt(uow: UnitOfWork) -> T:
            return wait(work(AsyncUnitOfWork(uow)))

        async with self._turn():
            return await spawn(self._sync.run, attempt, bot_id=bot_id, retry=retry)

    # --- schema ---------------------------------------------------------------------------

    async def current_revision(self) -> str | None:
        """The revision the database is at, or None for a database never migrated."""
        async with self._turn():
            return await spawn(self._sync.current_revision)

    async def upgrade(self, revision: str = "head") -> None:
        """Alembic's upgrade, as ``Database.upgrade``, on the async driver."""
        async with self._turn():
            await spawn(self._sync.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        async with self._turn():
            await spawn(self._sync.downgrade, revision)

    async def check_schema(self) -> None:
        """Raise ``SchemaOutOfDate`` / ``SchemaTooNew`` unless the database is at head."""
        async with self._turn():
            await spawn(self._sync.check_schema)
