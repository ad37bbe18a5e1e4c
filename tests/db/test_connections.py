"""Per-thread Sessions for SQLite writers: reused, isolated between units, bounded, cleaned up."""

from __future__ import annotations

import gc
import multiprocessing as mp
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from tradestore import Database
from tradestore.db.connections import ThreadConnections


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'lanes.db'}", check_schema=False)
    with database.connect() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"))
        conn.commit()
    yield database
    database.dispose()


def _insert(db: Database, who: str) -> None:
    with db.session() as session:
        session.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": who})


def _rows(db: Database) -> list[str]:
    with db.session(readonly=True) as session:
        return list(session.execute(text("SELECT who FROM t ORDER BY id")).scalars())


def test_a_thread_reuses_one_connection_and_each_unit_starts_clean(db: Database) -> None:
    seen = []
    executors = []
    for who in ("a", "b", "c"):
        with db.unit_of_work() as uow:
            seen.append(uow.executor.connection)
            executors.append(uow.executor)
            assert uow.executor.failure() is None  # nothing carried over from the last unit
            uow.executor.execute(text("INSERT INTO t (who) VALUES (:who)"), {"who": who})
    assert seen[0] is seen[1] is seen[2]
    assert len({id(e) for e in executors}) == 3
    assert _rows(db) == ["a", "b", "c"]
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]


def test_a_failed_unit_leaves_nothing_and_the_next_one_works(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO t (who) VALUES ('lost')"))
        raise RuntimeError("the bot crashed mid-unit")
    _insert(db, "kept")
    assert _rows(db) == ["kept"]


def test_readers_and_nested_units_use_the_pool(db: Database) -> None:
    with db.session() as outer:
        with db.session(readonly=True) as reader:
            assert reader is not outer
        sessions = db._thread_connections
        assert sessions is not None
        assert sessions.claim() is None  # busy: a nested writer would get a pooled connection


def test_an_ended_threads_slot_is_closed_when_the_next_one_is_made(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ended.db'}", check_schema=False)
    sessions = ThreadConnections(db.engine, limit=2)
    claimed: list[object] = []

    def claim_and_release() -> None:
        slot = sessions.claim()
        claimed.append(slot)
        if slot is not None:
            sessions.release(slot)

    worker = threading.Thread(target=claim_and_release)
    worker.start()
    worker.join()
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    claim_and_release()  # this thread's new slot sweeps the ended worker's away
    assert None not in claimed
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    sessions.close()
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    db.dispose()


def test_threads_beyond_the_limit_fall_back_to_the_pool(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'full.db'}", check_schema=False)
    sessions = ThreadConnections(db.engine, limit=1)
    first = sessions.claim()
    assert first is not None
    results: list[object] = []
    other = threading.Thread(target=lambda: results.append(sessions.claim()))
    other.start()
    other.join()
    assert results == [None]
    sessions.release(first)
    sessions.close()
    db.dispose()


def test_an_invalidated_connection_is_replaced(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        first = session
        session.execute(text("INSERT INTO t (who) VALUES ('gone')"))
        session.connection().invalidate()
        raise RuntimeError("the connection broke under the unit")
    _insert(db, "after")
    with db.session() as session:
        assert session is not first
    assert _rows(db) == ["after"]


def test_dispose_returns_every_connection(db: Database) -> None:
    _insert(db, "x")
    release = threading.Event()

    def insert_and_wait() -> None:
        _insert(db, "y")
        release.wait(timeout=30)

    alive = threading.Thread(target=insert_and_wait)
    alive.start()
    while len(_rows(db)) < 2:
        pass
    assert db.engine.pool.checkedout() == 2  # type: ignore[attr-defined]
    db.dispose()
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    release.set()
    alive.join()
    _insert(db, "z")  # usable again after dispose, like an engine
    assert _rows(db) == ["x", "y", "z"]


def test_a_forgotten_database_closes_its_connections_without_warnings(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'gc.db'}", check_schema=False)
    with db.connect() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"))
        conn.commit()
    _insert(db, "x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del db
        gc.collect()
    assert [w for w in caught if issubclass(w.category, SAWarning)] == []


def _child_insert(db: Database) -> None:
    _insert(db, "child")


def test_a_forked_child_never_uses_the_parents_connection(db: Database) -> None:
    _insert(db, "parent before")
    parent_session = db._thread_connections.claim()  # type: ignore[union-attr]
    assert parent_session is not None
    db._thread_connections.release(parent_session)  # type: ignore[union-attr]
    child = mp.get_context("fork").Process(target=_child_insert, args=(db,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    _insert(db, "parent after")
    assert db._thread_connections.claim() is parent_session  # type: ignore[union-attr]
    db._thread_connections.release(parent_session)  # type: ignore[union-attr]
    assert _rows(db) == ["parent before", "child", "parent after"]


def test_a_fork_while_the_table_is_locked_does_not_hang_the_child(db: Database) -> None:
    _insert(db, "parent")
    sessions = db._thread_connections
    assert sessions is not None
    with sessions._lock:  # as if another parent thread were claiming at the moment of fork
        child = mp.get_context("fork").Process(target=_child_insert, args=(db,))
        child.start()
        child.join(timeout=60)
    assert child.exitcode == 0
    assert _rows(db) == ["parent", "child"]


class _Unreachable:
    """An engine whose connect() fails, as a full disk or a vanished directory would."""

    def connect(self) -> None:
        raise OSError("disk I/O error")


def test_a_slot_that_cannot_connect_leaves_the_error_to_the_pool() -> None:
    sessions = ThreadConnections(_Unreachable(), limit=1)  # type: ignore[arg-type]
    assert sessions.claim() is None
