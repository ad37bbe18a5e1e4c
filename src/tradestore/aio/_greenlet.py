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
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn

from tradestore.db.engine import EngineOptions, configure_engine, engine_arguments
from tradestore.errors import MissingDependency

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
    result: T = await_only(awaitable)
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
    configure_engine(engine.sync_engine, settings)
    return engine


def _require(module: str, feature: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise MissingDependency(feature, "async", module) from None
