"""The async API's fixtures, on the backend-parametrised ones of tests/conftest.py.

``arun(body)`` runs ``await body(adb)`` with an ``AsyncDatabase`` on the test's migrated
database (``db_url``) in a fresh event loop. The sync ``db`` fixture stays available for
setting up and for reading back what the async code wrote.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aio_support import ARun, run_async

from tradestore.aio import AsyncDatabase

T = TypeVar("T")


@pytest.fixture
def arun(db_url: str) -> ARun:
    def run(body: Callable[[AsyncDatabase], Awaitable[T]], **options: Any) -> T:
        return run_async(db_url, body, **options)

    return run
