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

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tradestore.aio._greenlet import async_engine_for, sleep, spawn, wait
from tradestore.aio.unit_of_work import AsyncUnitOfWork
from tradestore.config import async_url
from tradestore.database import BaseDatabase, Database, Settings
from tradestore.db.executor import Clock
from tradestore.db.retry import RetryPolicy
from tradestore.unit_of_work import UnitOfWork

T = TypeVar("T")

#: The AsyncDatabases (by ``id``) whose write unit of work the current task has open.
_OPEN_WRITERS: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "tradestore_open_writers", default=frozenset()
)


class TaskFlag:
    """The async rule: one write unit of work per task (a task started inside one inherits it).

    Two tasks each get their own; a second write unit of work opened in the same task would
    wait on the first one's locks (SQLite) or commit apart from it (PostgreSQL), as in a
    thread.
    """

    where = "task"

    def get(self) -> bool:
        return id(self) in _OPEN_WRITERS.get()

    def set(self, value: bool) -> None:
        open_now = _OPEN_WRITERS.get()
        _OPEN_WRITERS.set(open_now | {id(self)} if value else open_now - {id(self)})


class AsyncDatabase(BaseDatabase):
    """One database for an asyncio program: the sync ``Database``'s rules, awaited.

    ``url`` takes the spellings ``Database`` does (``sqlite:///...``, ``postgresql://``,
    ``postgres://``, ``postgresql+psycopg2://``) and runs them on aiosqlite or asyncpg
    (``pip install 'tradestore[async]'``). Options are ``Database``'s. Create one per event
    loop; units of work are per task.
    """

    def _set_up(self, url: URL, settings: Settings) -> None:
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

    # --- identity (url, safe_url, dialect_name, from_env: BaseDatabase's) ---------------

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._sync.retry_policy

    @property
    def clock(self) -> Clock:
        return self._sync.clock

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> AsyncDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()

    # --- transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def unit_of_work(
        self,
        bot_id: str | None = None,
        *,
        readonly: bool = False,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[AsyncUnitOfWork]:
        """One transaction, as ``Database.unit_of_work``: commits when the block ends, rolls
        back if it raises, ``TransactionAborted`` after a refusal the block caught,
        ``NestedUnitOfWork`` for a second write unit of work in the same task."""
        block = self._sync.unit_of_work(bot_id, readonly=readonly, retry=retry)
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

        return await spawn(self._sync.run, attempt, bot_id=bot_id, retry=retry)

    # --- schema ---------------------------------------------------------------------------

    async def current_revision(self) -> str | None:
        """The revision the database is at, or None for a database never migrated."""
        return await spawn(self._sync.current_revision)

    async def upgrade(self, revision: str = "head") -> None:
        """Alembic's upgrade, as ``Database.upgrade``, on the async driver."""
        await spawn(self._sync.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        await spawn(self._sync.downgrade, revision)

    async def check_schema(self) -> None:
        """Raise ``SchemaOutOfDate`` / ``SchemaTooNew`` unless the database is at head."""
        await spawn(self._sync.check_schema)
