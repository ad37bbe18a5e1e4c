"""Issue 7, test 4: the server cuts tradestore's connections between and during units of work.

The library's connections carry a unique ``application_name``; an admin connection ends them
with ``pg_terminate_backend``. Between units of work the pool pings a connection that sat
idle longer than ``ping_after_idle`` and replaces a dead one; one used a moment ago is handed
out without a ping, and if it was cut, its first statement fails with a lost connection
before anything is committed: the unit of work rolls back and ``Database.run`` runs it again
on a new connection, as it does for a cut during one. The caller does nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from typing import Any

import psycopg2
import pytest
from reliability_support import record_figure
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from tradestore import Database
from tradestore.db.retry import RetryPolicy
from tradestore.errors import CommitOutcomeUnknown, TransientDatabaseError
from tradestore.models import Bot, Order
from tradestore.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.reliability, pytest.mark.postgres_only]

BOT = "rel-cut"
ROUNDS = 25


@pytest.fixture
def admin(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT", pool_size=1)
    yield engine
    engine.dispose()


def _app_db(db_url: str, **options: Any) -> Database:
    name = f"ts-cut-{uuid.uuid4().hex[:10]}"
    database = Database(
        db_url, application_name=name, retry=RetryPolicy(attempts=5, base_delay=0.01), **options
    )
    database.application_name = name  # type: ignore[attr-defined]
    return database


@pytest.fixture
def app_db(db_url: str) -> Iterator[Database]:
    database = _app_db(db_url)
    yield database
    database.dispose()


@pytest.fixture
def pinging_db(db_url: str) -> Iterator[Database]:
    """Every pooled connection counts as idle: each checkout pings."""
    database = _app_db(db_url, ping_after_idle=0.0)
    yield database
    database.dispose()


def _terminate(admin: Engine, application_name: str) -> int:
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": application_name},
            ).all()
        )


def _submit(uow: UnitOfWork, n: int) -> str:
    return uow.orders.submit(
        client_order_id=f"c-{n}",
        ticker="MSFT",
        side="buy",
        order_type="market",
        quantity=D(1),
        reference_price=D(10),
    ).order_id


def _orders(db: Database) -> int:
    with db.session(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_idle_connections_cut_between_units_of_work(
    pinging_db: Database, admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_db = pinging_db
    pings = _count_pings(app_db, monkeypatch)
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    name: str = app_db.application_name  # type: ignore[attr-defined]
    cut = 0
    for n in range(ROUNDS):
        # several pooled connections, so the ping has more than one dead one to replace (a
        # reader beside the writer: a second write unit of work in this thread is refused)
        with app_db.unit_of_work(bot_id=BOT) as a, app_db.session(readonly=True) as reader:
            _submit(a, 2 * n)
            _submit(a, 2 * n + 1)
            reader.execute(text("SELECT 1"))
        cut += _terminate(admin, name)
        # plain `with unit_of_work`: no retry needed, the pool pings an idle connection
        with app_db.unit_of_work(bot_id=BOT) as uow:
            assert uow.orders.find(client_order_id=f"c-{2 * n}") is not None
    assert cut >= 2 * ROUNDS
    assert _orders(app_db) == 2 * ROUNDS
    assert pings  # the dead ones were found by the ping, not by a statement
    record_figure("lost_connections_between", "connections_cut", cut)
    record_figure("lost_connections_between", "rows_lost", 2 * ROUNDS - _orders(app_db))


def test_a_connection_used_a_moment_ago_is_not_pinged(
    db_url: str, admin: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the idle window no ping is sent; a cut there is the first statement's lost
    connection, which ``run`` answers by running the unit of work again."""
    app_db = _app_db(db_url, ping_after_idle=3600.0)
    pings = _count_pings(app_db, monkeypatch)
    try:
        with app_db.session() as session:
            session.add(Bot(bot_id=BOT))
        name: str = app_db.application_name  # type: ignore[attr-defined]
        cut = 0
        attempts: list[int] = []
        for n in range(ROUNDS):
            with app_db.unit_of_work(bot_id=BOT) as uow:
                _submit(uow, n)
            cut += _terminate(admin, name)

            def check(uow: UnitOfWork, n: int = n) -> None:
                attempts.append(n)
                assert uow.orders.find(client_order_id=f"c-{n}") is not None

            app_db.run(check, bot_id=BOT)
        assert pings == []
        assert cut >= ROUNDS
        assert len(attempts) == 2 * ROUNDS  # each cut felt by the first statement, then re-run
        assert _orders(app_db) == ROUNDS
    finally:
        app_db.dispose()


def _count_pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    dialect = database.engine.dialect
    ping = dialect.do_ping
    pings: list[int] = []

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


def test_connection_cut_during_a_unit_of_work_is_retried(app_db: Database, admin: Engine) -> None:
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    name: str = app_db.application_name  # type: ignore[attr-defined]
    cut = attempts = 0
    for n in range(ROUNDS):
        calls: list[int] = []

        def work(uow: UnitOfWork, n: int = n, calls: list[int] = calls) -> str:
            calls.append(1)
            order_id = _submit(uow, n)
            if len(calls) == 1:
                # the server ends this very connection in the middle of the transaction
                nonlocal cut
                cut += _terminate(admin, name)
            uow.orders.get(order_id)  # the next statement finds the connection gone
            return order_id

        order_id = app_db.run(work, bot_id=BOT)
        attempts += len(calls)
        assert len(calls) == 2  # the whole unit of work ran again, once
        with app_db.unit_of_work(bot_id=BOT) as uow:
            assert uow.orders.get(order_id).client_order_id == f"c-{n}"
    assert cut >= ROUNDS
    assert _orders(app_db) == ROUNDS  # the first attempt's insert was rolled back, not kept
    record_figure("lost_connections_during", "connections_cut", cut)
    record_figure("lost_connections_during", "unit_of_work_attempts", attempts)
    record_figure("lost_connections_during", "rows_lost", ROUNDS - _orders(app_db))


def test_a_cut_inside_unit_of_work_surfaces_as_transient(app_db: Database, admin: Engine) -> None:
    """Without ``run`` the caller sees one retryable tradestore error, never a driver error,
    and the next unit of work works."""
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    name: str = app_db.application_name  # type: ignore[attr-defined]
    with pytest.raises(TransientDatabaseError), app_db.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, 1)
        _terminate(admin, name)
        uow.orders.find(client_order_id="c-1")
    assert _orders(app_db) == 0
    with app_db.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, 2)
    assert _orders(app_db) == 1


def _cut_when_committing(admin: Engine, pid: int, done: threading.Event) -> None:
    """End backend ``pid`` once it is running COMMIT (held there by a deferred trigger)."""
    deadline = time.monotonic() + 30
    with admin.connect() as conn:
        while time.monotonic() < deadline and not done.is_set():
            query = conn.execute(
                text("SELECT query FROM pg_stat_activity WHERE pid = :pid AND state = 'active'"),
                {"pid": pid},
            ).scalar()
            if query is not None and query.strip().upper() == "COMMIT":
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                return
            time.sleep(0.01)


def _commit_gate(uow: UnitOfWork) -> int:
    """Make this transaction's COMMIT wait 5 s on the server (a deferred constraint trigger)."""
    for statement in (
        "CREATE TEMPORARY TABLE commit_gate (x integer)",
        "CREATE FUNCTION pg_temp.commit_gate_wait() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$",
        "CREATE CONSTRAINT TRIGGER commit_gate_wait AFTER INSERT ON commit_gate "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION pg_temp.commit_gate_wait()",
        "INSERT INTO commit_gate VALUES (1)",
    ):
        uow.session.execute(text(statement))
    return int(uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_cut_during_commit_is_settled_by_run_not_guessed(app_db: Database, admin: Engine) -> None:
    """Never retry blindly after a COMMIT may have happened: ``run`` asks the server.

    The backend is ended while its COMMIT runs (held open by a deferred trigger), so the
    client gets no answer; the server aborted the transaction, ``pg_xact_status`` says so,
    and ``run`` runs the work again, exactly once more. Nothing is doubled.
    """
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    calls: list[int] = []
    done = threading.Event()
    cutter: list[threading.Thread] = []

    def work(uow: UnitOfWork) -> str:
        calls.append(1)
        if len(calls) == 1:  # only the first attempt is cut
            pid = _commit_gate(uow)
            thread = threading.Thread(target=_cut_when_committing, args=(admin, pid, done))
            thread.start()
            cutter.append(thread)
        return _submit(uow, 1)

    try:
        order_id = app_db.run(work, bot_id=BOT)
    finally:
        done.set()
        for thread in cutter:
            thread.join()
    assert calls == [1, 1]  # settled as aborted, then run once more
    assert _orders(app_db) == 1
    with app_db.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.get(order_id).client_order_id == "c-1"


def test_a_cut_during_commit_of_a_plain_unit_of_work_is_reported_as_unknown(
    app_db: Database, admin: Engine
) -> None:
    """A ``with`` block cannot be run again, so there the outcome is the caller's to find."""
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    done = threading.Event()
    cutter: list[threading.Thread] = []
    try:
        with pytest.raises(CommitOutcomeUnknown, match="COMMIT"):  # noqa: SIM117
            with app_db.unit_of_work(bot_id=BOT) as uow:
                pid = _commit_gate(uow)
                thread = threading.Thread(target=_cut_when_committing, args=(admin, pid, done))
                thread.start()
                cutter.append(thread)
                _submit(uow, 1)
    finally:
        done.set()
        for thread in cutter:
            thread.join()
    # Here the server had not written the commit record, so the order is not there; in
    # general the caller cannot know that, which is why the error says "may have committed".
    assert _orders(app_db) == 0
    with app_db.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, 2)
    assert _orders(app_db) == 1


def test_a_commit_whose_answer_was_lost_is_settled_as_committed(app_db: Database) -> None:
    """The COMMIT is applied on the server, then the answer is lost on the way back: ``run``
    returns the work's result without running it again (a blind retry would double it)."""
    with app_db.session() as session:
        session.add(Bot(bot_id=BOT))
    dialect: Any = app_db.engine.dialect
    real = dialect.do_commit
    lost: list[bool] = [True]

    def do_commit(dbapi_connection: Any) -> None:
        real(dbapi_connection)
        if lost:
            lost.clear()
            dbapi_connection.close()  # the answer never arrives: the socket is gone
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    dialect.do_commit = do_commit
    calls: list[int] = []

    def work(uow: UnitOfWork) -> str:
        calls.append(1)
        return _submit(uow, 1)

    order_id = app_db.run(work, bot_id=BOT)
    assert calls == [1]  # settled as committed: not run again
    assert _orders(app_db) == 1
    with app_db.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.get(order_id).client_order_id == "c-1"
