"""The async API's fixtures, on the backend-parametrised ones of tests/conftest.py.

``arun(body)`` runs ``await body(adb)`` with an ``AsyncDatabase`` on the test's migrated
database (``db_url``) in a fresh event loop, and disposes of it there: an async engine's
connections belong to the loop that made them. The sync ``db`` fixture stays available for
setting up and for reading back what the async code wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from tradestore.aio import AsyncDatabase

T = TypeVar("T")
ARun = Callable[..., Any]


def run_async(url: str, body: Callable[[AsyncDatabase], Awaitable[T]], **options: Any) -> T:
    async def main() -> T:
        async with AsyncDatabase(url, **options) as adb:
            return await body(adb)

    return asyncio.run(main())


@pytest.fixture
def arun(db_url: str) -> ARun:
    def run(body: Callable[[AsyncDatabase], Awaitable[T]], **options: Any) -> T:
        return run_async(db_url, body, **options)

    return run
