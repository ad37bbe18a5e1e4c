"""Every public method a unit of work offers answers the same through the async API.

The calls are the error net's (tests/reliability/test_error_net.py: one valid call per
public method, found by introspection, so a new method is covered here as soon as it is
there). Each runs once through ``Database`` and once through ``AsyncDatabase`` on the same
scenario, each in a unit of work that is rolled back, with one fixed clock: the results (or
the errors, type and message) must be equal, generated ids aside.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sibling import load
from tradestore import Database
from tradestore.aio import AsyncDatabase, AsyncUnitOfWork
from tradestore.db.results import Rows
from tradestore.errors import TradestoreError

load("reliability/reliability_support.py")
net = load("reliability/test_error_net.py")

NOW = dt.datetime(2024, 3, 6, 12, 0, tzinfo=dt.UTC)
_UUID = re.compile(r"[0-9a-f]{32}\b")


def fixed_clock() -> dt.datetime:
    return NOW


class _Undo(Exception):
    """Ends a block so it commits nothing."""


@dataclasses.dataclass
class _Recorded:
    repository: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class _Recorder:
    """Stands in for a unit of work in a CALLS entry: notes the one call it makes."""

    def __init__(self) -> None:
        self.calls: list[_Recorded] = []

    def __getattr__(self, repository: str) -> Any:
        recorder = self

        class _Repository:
            def __getattr__(self, method: str) -> Callable[..., Any]:
                def call(*args: Any, **kwargs: Any) -> list[Any]:
                    recorder.calls.append(_Recorded(repository, method, args, kwargs))
                    return []  # list(...) of a generator method still works

                return call

        return _Repository()


def recorded(name: str, scenario: Any) -> _Recorded:
    recorder = _Recorder()
    net.CALLS[name](recorder, scenario)
    (call,) = recorder.calls
    return call


def normalised(value: Any) -> Any:
    """Comparable form: records as dicts, generated ids (uuid4 hex, serial numbers) masked."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        # Serial ids: PostgreSQL's sequences do not give back what a rollback consumed.
        return {
            name: "<id>" if name.endswith("_id") and type(v) is int else normalised(v)
            for name, v in fields.items()
        }
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return _UUID.sub("<uuid>", value)
    if isinstance(value, dict):
        return {normalised(k): normalised(v) for k, v in value.items()}
    if isinstance(value, list | tuple | Rows):
        return [normalised(v) for v in value]
    if hasattr(value, "to_dict") and type(value).__module__.startswith("pandas"):
        return normalised(value.to_dict())
    return value


def settled(error: BaseException) -> Any:
    """The outcome of a block that ended with ``error``: ``_Undo`` carries the answer."""
    if isinstance(error, _Undo):
        return ("ok", normalised(error.args[0]))
    if isinstance(error, TradestoreError):
        return ("error", type(error).__name__, _UUID.sub("<uuid>", str(error)))
    raise error


def sync_outcome(db: Database, call: _Recorded) -> Any:
    try:
        with db.unit_of_work(bot_id=net.BOT) as uow:
            answer = getattr(getattr(uow, call.repository), call.method)(*call.args, **call.kwargs)
            raise _Undo(list(answer) if call.method.startswith("iter_") else answer)
    except Exception as error:
        return settled(error)


async def async_outcome(adb: AsyncDatabase, call: _Recorded) -> Any:
    try:
        async with adb.unit_of_work(bot_id=net.BOT) as uow:
            raise _Undo(await _call(uow, call))
    except Exception as error:
        return settled(error)


async def _call(uow: AsyncUnitOfWork, call: _Recorded) -> Any:
    method = getattr(getattr(uow, call.repository), call.method)
    if call.method.startswith("iter_"):
        return [row async for row in method(*call.args, **call.kwargs)]
    return await method(*call.args, **call.kwargs)


def test_every_call_of_the_net_answers_the_same(db_url: str, tmp_path: Path) -> None:
    sync_db = Database(db_url, clock=fixed_clock)
    try:
        scenario = net._set_up(sync_db, tmp_path)
        calls = {name: recorded(name, scenario) for name in sorted(net.CALLS)}
        expected = {name: sync_outcome(sync_db, call) for name, call in calls.items()}
    finally:
        sync_db.dispose()

    async def main() -> dict[str, Any]:
        async with AsyncDatabase(db_url, clock=fixed_clock) as adb:
            return {name: await async_outcome(adb, call) for name, call in calls.items()}

    got = asyncio.run(main())
    assert len(got) > 80
    assert sum(1 for o in expected.values() if o[0] == "ok") > 80  # the calls really ran
    different = {name: (expected[name], got[name]) for name in calls if got[name] != expected[name]}
    assert not different, "\n".join(f"{k}: {v[0]!r}\n  != {v[1]!r}" for k, v in different.items())


@pytest.mark.parametrize("repository", sorted({n.split(".")[0] for n in net.CALLS}))
def test_every_repository_is_an_attribute(repository: str) -> None:
    assert repository in vars(AsyncUnitOfWork)
