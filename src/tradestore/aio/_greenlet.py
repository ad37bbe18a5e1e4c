"""Where the async API meets the sync body: SQLAlchemy's greenlet bridge, and the drivers.

``AsyncConnection.run_sync`` is ``greenlet_spawn(fn, sync_connection)``: the sync function
runs in a greenlet whose every driver call (``await_only``) is awaited by the calling task.
tradestore needs that bridge one level up, around whole sync operations that check out and
return their own connection (a unit of work, ``Database.run`` with its retries and COMMIT
settling), so it calls the two functions ``run_sync`` is built from. Nothing else about
SQLAlchemy's asyncio layer is used: the engine is ``create_async_engine``'s, its
``sync_engine`` carries the ordinary listeners, and every statement is the sync code's.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The two functions ``run_sync`` is built from. ``sqlalchemy.util`` is not a public module,
# so the names are looked up defensively: SQLAlchemy 2.1 calls the awaiting function
# ``await_`` (and keeps ``await_only`` as an alias deprecated for 2.2), 2.0 has only
# ``await_only``. tests/aio/test_async_database.py imports both spellings.
try:
    from sqlalchemy.util import await_ as _await
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as _await
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.concurrency import in_greenlet

from tradestore.db.engine import EngineOptions, configure_engine, engine_arguments
from tradestore.db.executor import note_failed_statements
from tradestore.errors import MissingDependency

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
#: What each backend's async driver needs besides SQLAlchemy.
_DRIVER_MODULES = {"sqlite": ("aiosqlite",), "postgresql": ("asyncpg",)}


def spawn(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, T]:
    """Run the sync ``fn`` on the async driver: its driver calls are awaited by this task.

    Returns ``greenlet_spawn``'s coroutine itself (no coroutine of its own around it: this is
    on every awaited repository call).
    """
    return greenlet_spawn(fn, *args, **kwargs)  # type: ignore[arg-type]


def wait(awaitable: Awaitable[T]) -> T:
    """Inside ``spawn``: await ``awaitable`` on the calling task and return its result."""
    result: T = _await(awaitable)
    return result


def sleep(seconds: float) -> None:
    """The retry backoff inside ``spawn``: the task sleeps, the event loop runs on."""
    wait(asyncio.sleep(seconds))


def async_engine_for(url: URL, **options: Any) -> AsyncEngine:
    """An async engine built and configured exactly as ``create_engine_for`` does a sync one.

    ``url`` is on its backend's async driver already (``config.async_url``).
    """
    backend = url.get_backend_name()
    for module in ("greenlet", *_DRIVER_MODULES.get(backend, ())):
        _require(module, f"tradestore.aio on {backend}")
    settings = EngineOptions(**options)
    target, arguments = engine_arguments(url, settings)
    engine = create_async_engine(target, **arguments)
    configure_engine(engine.sync_engine, settings, sleep=sleep)
    if backend == "postgresql":
        _connect_failures_as_driver_errors(engine.sync_engine)
        note_failed_statements(engine.sync_engine)
    else:
        event.listen(engine.sync_engine, "invalidate", _end_aiosqlite_transaction)
    return engine


def _end_aiosqlite_transaction(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
    """Give back SQLite's write lock at once when an aiosqlite connection is invalidated.

    SQLAlchemy invalidates a connection whose statement was cancelled (a task cancelled in a
    unit of work), then closes it; aiosqlite's close waits for the statement still running
    in its thread and, failing there, drops its sqlite3 connection without closing it: the
    file stayed write-locked until garbage collection. So: interrupt the running statement
    (``sqlite3.Connection.interrupt`` is the one call safe from another thread) and roll
    back on the driver's thread before SQLAlchemy goes on.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    raw = getattr(driver, "_connection", None)  # aiosqlite's sqlite3 connection, if open
    if driver is None or not isinstance(raw, sqlite3.Connection):
        return
    try:
        raw.interrupt()
        if in_greenlet():
            wait(driver.rollback())
    except BaseException:  # closing follows whatever happened; this only makes it prompt
        log.debug("ending an invalidated aiosqlite connection's transaction failed", exc_info=True)


def _connect_failures_as_driver_errors(engine: Engine) -> None:
    """Make a failed asyncpg connect a driver error, as psycopg2's is.

    asyncpg raises the socket's own ``OSError`` (connection refused, unreachable, timed out)
    and SQLAlchemy's asyncpg adapter passes it on untranslated, so the pool's failure
    reached the caller as a raw ``ConnectionRefusedError`` and was never retried. Raised as
    the adapter's ``OperationalError`` with libpq's wording, it is wrapped by SQLAlchemy,
    classified by ``db.retry`` (``is_connect_failure``) and translated like psycopg2's.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except socket.gaierror as exc:  # a mistyped host: not retried (db.retry)
            raise dialect.loaded_dbapi.OperationalError(
                f"could not translate host name: {exc}", exc
            ) from exc
        except TimeoutError as exc:
            raise dialect.loaded_dbapi.OperationalError(
                f"timeout expired while connecting: {exc}", exc
            ) from exc
        except OSError as exc:
            raise dialect.loaded_dbapi.OperationalError(
                f"could not connect to server: {exc}", exc
            ) from exc


def _require(module: str, feature: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise MissingDependency(feature, "async", module) from None
