"""Helpers of the async API's tests (imported by name: tests/aio is on sys.path)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tradestore.aio import AsyncDatabase

T = TypeVar("T")
ARun = Callable[..., Any]


def run_async(url: str, body: Callable[[AsyncDatabase], Awaitable[T]], **options: Any) -> T:
    """``await body(adb)`` in a fresh event loop, the AsyncDatabase disposed of there: an
    async engine's connections belong to the loop that made them."""

    async def main() -> T:
        async with AsyncDatabase(url, **options) as adb:
            return await body(adb)

    return asyncio.run(main())
