"""The executor: one path for every statement, on both backends.

A ``Prepared`` statement converts values exactly as Core does, whether it runs on the driver's
cursor (nobody listening) or through ``Connection.execute`` (a listener attached), and every
statement of a unit of work reaches the engine's cursor events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, event, insert, select

from tradestore import Database
from tradestore.db.executor import Executor, Prepared
from tradestore.errors import IntegrityViolation, NaiveDatetimeError, TransactionAborted
from tradestore.models import Bot

BOTS = Bot.__table__
EASTERN = dt.timezone(dt.timedelta(hours=-5))
VALUES = {
    "bot_id": "b-1",
    "mode": "paper",
    "status": "running",
    "starting_balance": Decimal("100000.25"),
    "total_pnl": Decimal("-12.5"),
    "total_commission": Decimal("0"),
    "last_heartbeat": dt.datetime(2026, 1, 5, 9, 30, tzinfo=EASTERN),
    "config": {"risk": 0.02, "tickers": ["AAPL"]},
}
COLUMNS = [BOTS.c[name] for name in VALUES]
INSERT = Prepared(
    insert(BOTS).values({name: bindparam(name, type_=BOTS.c[name].type) for name in VALUES}),
    name="test.bots.insert",
)
SELECT = Prepared(select(*COLUMNS).where(BOTS.c.bot_id == bindparam("bot_id")), name="test.bots")


def test_round_trip_matches_core(db: Database) -> None:
    with db.unit_of_work() as uow:
        executor = uow.executor
        assert executor.run(INSERT, VALUES).rowcount == 1
        prepared = executor.run(SELECT, {"bot_id": "b-1"}).rows
        core = executor.execute(select(*COLUMNS).where(BOTS.c.bot_id == "b-1")).all()
    assert prepared == [tuple(core[0])]
    row = dict(zip(VALUES, prepared[0], strict=True))
    assert row["starting_balance"] == Decimal("100000.25")
    assert row["last_heartbeat"] == dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
    assert row["last_heartbeat"].tzinfo == dt.UTC
    assert row["config"] == VALUES["config"]


def test_validated_binds_equal_full_binds_for_canonical_values(db: Database) -> None:
    """``validated=True`` skips only the TypeDecorator re-checks, not the conversion."""
    trusting = Prepared(INSERT._build, name="test.bots.insert.validated", validated=True)
    canonical = VALUES | {"last_heartbeat": VALUES["last_heartbeat"].astimezone(dt.UTC)}
    dialect = db.engine.dialect
    assert trusting.compiled(dialect).bind(canonical) == INSERT.compiled(dialect).bind(canonical)


def test_driver_errors_become_tradestore_errors(db: Database) -> None:
    with pytest.raises(IntegrityViolation) as refused, db.unit_of_work() as uow:
        uow.executor.run(INSERT, VALUES)
        uow.executor.run(INSERT, VALUES)
    assert refused.value.kind == "unique"


def test_statements_rendered_per_execution_are_refused(db: Database) -> None:
    expanding = Prepared(
        select(BOTS.c.bot_id).where(BOTS.c.bot_id.in_(bindparam("ids", expanding=True))),
        name="test.expanding",
    )
    with pytest.raises(ValueError, match="fixed SQL"):
        expanding.compiled(db.engine.dialect)


def test_a_statement_per_dialect(db: Database) -> None:
    seen: list[str] = []

    def build(dialect: str) -> object:
        seen.append(dialect)
        return select(BOTS.c.bot_id)

    prepared = Prepared(build, name="test.per_dialect")  # type: ignore[arg-type]
    prepared.compiled(db.engine.dialect)
    prepared.compiled(db.engine.dialect)
    assert seen == [db.dialect_name]


def test_a_value_the_statement_carries_is_used_unless_one_is_passed(db: Database) -> None:
    """``.limit(1)`` binds its own value; a missing required name still fails loudly."""
    first = Prepared(
        select(BOTS.c.bot_id)
        .where(BOTS.c.mode == bindparam("mode"))
        .order_by(BOTS.c.bot_id)
        .limit(1),
        name="test.bots.first",
    )
    with db.unit_of_work() as uow:
        executor = uow.executor
        for bot_id in ("b-2", "b-1"):
            executor.run(INSERT, VALUES | {"bot_id": bot_id})
        assert executor.run(first, {"mode": "paper"}).rows == [("b-1",)]
        assert executor.run(first, {"mode": "live"}).rows == []
        with pytest.raises(KeyError, match="mode"):
            executor.run(first, {})


@pytest.fixture
def listened(db: Database):  # type: ignore[no-untyped-def]
    """The statements the engine's ``before_cursor_execute`` listeners see, while attached."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


def test_both_ways_of_running_a_prepared_statement_agree(db: Database) -> None:
    """Listened to, a Prepared statement runs through ``Connection.execute``; not listened
    to, on the driver's cursor. Same SQL, same values stored, same rows back."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.unit_of_work() as uow:
            assert uow.executor._raw_ok is False
            uow.executor.run(INSERT, VALUES)
            through_core = uow.executor.run(SELECT, {"bot_id": "b-1"})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert INSERT.sql(db.engine.dialect) in seen
    with db.unit_of_work() as uow:
        assert uow.executor._raw_ok is True
        uow.executor.run(INSERT, VALUES | {"bot_id": "b-2"})
        raw = uow.executor.run(SELECT, {"bot_id": "b-2"})
        raw_first = uow.executor.run(SELECT, {"bot_id": "b-1"})
    assert raw_first == through_core
    assert raw.rows[0][1:] == through_core.rows[0][1:]
    assert raw.rowcount == through_core.rowcount


def test_every_statement_of_the_hot_path_reaches_the_cursor_events(
    db: Database, listened: list[str]
) -> None:

    with db.unit_of_work() as uow:
        uow.bots.register("alpha", mode="paper", starting_balance=Decimal("1000"))
    listened.clear()
    with db.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="c-1",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal("2"),
        )
        uow.orders.record_fill(
            order.order_id, fill_id="f-1", quantity=Decimal("1"), price=Decimal("10")
        )
        position = uow.positions.open(
            "MSFT", side="long", quantity=Decimal("1"), entry_price=Decimal("100")
        )
        uow.positions.close(position.position_id, exit_price=Decimal("101"), exit_reason="manual")
    joined = " ".join(listened).lower()
    for table in ("orders", "fills", "positions", "closed_positions"):
        assert f"insert into {table}" in joined, table
    assert len(listened) >= 4


def test_a_session_joins_the_unit_of_works_transaction(db: Database) -> None:
    """``uow.session`` writes in the same transaction: rolled back with the block."""

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.unit_of_work() as uow:
        uow.executor.run(INSERT, VALUES)
        assert uow.session.execute(select(BOTS.c.bot_id)).scalars().all() == ["b-1"]
        raise Boom
    with db.unit_of_work(readonly=True) as uow:
        assert uow.executor.run(SELECT, {"bot_id": "b-1"}).rows == []
        assert isinstance(uow.executor, Executor)


def test_a_write_after_the_session_rolled_the_block_back_is_refused(db: Database) -> None:
    """``uow.session.rollback()`` ends the unit of work's transaction: a repository write
    after it must not run outside any transaction (autocommitted on SQLite, lost on
    PostgreSQL) while the block reports success."""
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", mode="paper", starting_balance=Decimal("1000"))
    with pytest.raises(TransactionAborted), db.unit_of_work(bot_id="alpha") as uow:
        uow.session.execute(select(BOTS.c.bot_id))
        uow.session.rollback()
        uow.orders.submit(
            client_order_id="after-rollback",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal("1"),
        )
    with db.unit_of_work(bot_id="alpha", readonly=True) as uow:
        assert uow.orders.find(client_order_id="after-rollback") is None


def test_a_block_the_session_rolled_back_commits_nothing(db: Database) -> None:
    """An explicit rollback discards the block (tests and bots use it so); the block then
    ends without committing, and without an error: nothing was written after it."""
    with db.unit_of_work() as uow:
        uow.executor.run(INSERT, VALUES)
        uow.session.execute(select(BOTS.c.bot_id))  # the Session joins the transaction
        uow.session.rollback()
    with db.unit_of_work(readonly=True) as uow:
        assert uow.executor.run(SELECT, {"bot_id": "b-1"}).rows == []


def test_session_writes_after_a_rollback_end_the_block_aborted(db: Database) -> None:
    """After the rollback the Session begins a transaction of its own; committing it as the
    block's would be wrong, and closing the Session would drop it: the block says so."""
    with pytest.raises(TransactionAborted), db.unit_of_work() as uow:
        uow.session.execute(select(BOTS.c.bot_id))
        uow.session.rollback()
        uow.session.execute(insert(BOTS).values(bot_id="b-2", mode="paper", status="running"))
    with db.unit_of_work(readonly=True) as uow:
        assert uow.executor.run(SELECT, {"bot_id": "b-2"}).rows == []


def test_echo_sends_prepared_statements_through_the_engine(db_url: str) -> None:
    echoing = Database(db_url, echo=True)
    try:
        with echoing.unit_of_work(readonly=True) as uow:
            assert uow.executor._raw_ok is False
    finally:
        echoing.dispose()


def test_a_value_a_column_type_refuses_is_tradestores_error(db: Database) -> None:
    naive = VALUES | {"last_heartbeat": dt.datetime(2026, 1, 5, 9, 30)}
    statement = insert(BOTS).values({name: bindparam(name) for name in VALUES})
    with pytest.raises(NaiveDatetimeError), db.unit_of_work() as uow:
        uow.executor.execute(statement, naive)


def test_statements_with_values_computed_per_execution_are_refused(db: Database) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("s", String, default="x")
    )
    with pytest.raises(ValueError, match="computed per execution"):
        Prepared(insert(table).values(id=bindparam("id")), name="t").compiled(db.engine.dialect)


def test_copy_listeners_get_a_context_they_can_keep_state_on(db: Database) -> None:
    """Tracing integrations set attributes on ``context`` in before_cursor_execute and read
    them in after_cursor_execute; a COPY is announced with such a context."""
    seen: list[object] = []

    def before(_conn, _cursor, statement, _params, context, _many):  # type: ignore[no-untyped-def]
        context._span = statement

    def after(_conn, _cursor, statement, _params, context, _many):  # type: ignore[no-untyped-def]
        seen.append(context._span)

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        with db.unit_of_work() as uow, uow.executor.driver_cursor("SELECT 1") as cursor:
            cursor.execute("SELECT 1")
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    assert "SELECT 1" in seen
