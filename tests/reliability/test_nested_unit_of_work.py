"""Issue 11, item 17: a write unit of work opened inside another one of the same thread.

On SQLite the inner ``BEGIN IMMEDIATE`` waited for the outer one's write lock (busy_timeout
times the retry policy, 150 s by default) and then raised "database is locked"; on
PostgreSQL it was a second transaction that can block forever on the outer one's row locks.
Both backends now refuse it at once with ``NestedUnitOfWork``. The busy timeout is cut to a
tenth of a second so the old behaviour fails this test quickly instead of hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.db.retry import RetryPolicy
from tradestore.errors import NestedUnitOfWork, TradestoreError, TransientDatabaseError

pytestmark = pytest.mark.reliability

INSERT_BOT = text(
    "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
    "VALUES (:id, 'paper', 'running', 0, 0)"
)


@pytest.fixture
def quick_db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, busy_timeout_ms=100, retry=RetryPolicy(attempts=2, deadline=1))
    yield database
    database.dispose()


def _bots(db: Database) -> list[str]:
    with db.session(readonly=True) as session:
        return sorted(session.execute(text("SELECT bot_id FROM bots")).scalars())


def test_nested_unit_of_work_is_refused_at_once(quick_db: Database) -> None:
    db = quick_db
    with db.unit_of_work() as outer:
        outer.session.execute(INSERT_BOT, {"id": "outer"})
        with (
            pytest.raises(NestedUnitOfWork, match=r"already open in this thread.*uow"),
            db.unit_of_work() as inner,
        ):
            inner.session.execute(INSERT_BOT, {"id": "inner"})
        with pytest.raises(NestedUnitOfWork):
            db.run(lambda uow: uow.session.execute(INSERT_BOT, {"id": "run"}))
        with pytest.raises(NestedUnitOfWork), db.session():
            pass
        outer.session.execute(INSERT_BOT, {"id": "outer-2"})  # the outer one is unharmed
    assert _bots(db) == ["outer", "outer-2"]
    with db.unit_of_work() as after:  # and the thread can open one again afterwards
        after.session.execute(INSERT_BOT, {"id": "after"})
    assert _bots(db) == ["after", "outer", "outer-2"]


def test_nested_error_is_a_tradestore_error_and_not_retried(quick_db: Database) -> None:
    calls: list[int] = []

    def work(uow: object) -> None:
        calls.append(1)
        with quick_db.unit_of_work():
            pass

    with pytest.raises(TradestoreError, match="already open"):
        quick_db.run(work)
    assert calls == [1]


def test_read_only_sessions_may_nest(quick_db: Database) -> None:
    """Readers take no write lock on either backend: analytics inside a unit of work."""
    db = quick_db
    with db.unit_of_work() as outer:
        outer.session.execute(INSERT_BOT, {"id": "outer"})
        with db.session(readonly=True) as reader:
            assert reader.execute(text("SELECT count(*) FROM bots")).scalar_one() == 0
        with db.session(readonly=True), db.session(readonly=True):
            pass
    with db.session(readonly=True), db.unit_of_work() as uow:  # a writer inside a reader
        uow.session.execute(INSERT_BOT, {"id": "inside-reader"})
    assert _bots(db) == ["inside-reader", "outer"]


def test_the_rule_is_per_thread(quick_db: Database) -> None:
    """Another thread's unit of work is not nested: it waits for the lock (SQLite, and
    fails as transient here with the short busy timeout) or runs (PostgreSQL)."""
    db = quick_db
    seen: list[BaseException | None] = []

    def other() -> None:
        try:
            with db.unit_of_work():
                pass
            seen.append(None)
        except BaseException as exc:  # reported below
            seen.append(exc)

    with db.unit_of_work():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert len(seen) == 1
    assert seen[0] is None or isinstance(seen[0], TransientDatabaseError)
