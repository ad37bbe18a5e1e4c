"""Revision 0008 (unique broker ids per bot, descending indexes), up, down and up again, on
both backends; the upgrade refuses shared broker ids, naming them."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Connection, inspect, text

from tradestore import Database
from tradestore.errors import MigrationError
from tradestore.migrate import compare_schema
from tradestore.models import Base

REVISION = (
    Path(__file__).parents[2] / "migrations" / "versions" / "0008_broker_ids_descending_indexes.py"
)


def _revision() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revision_0008", REVISION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def at_0007(fresh_url: str) -> Iterator[Database]:
    # Written at head by today's repositories, then taken down to 0007 (the repositories
    # write the columns later revisions add).
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    with database.unit_of_work(bot_id="alpha") as uow:
        uow.bots.register("alpha", mode="paper")
        uow.bots.register("beta", mode="paper")
    for bot in ("alpha", "beta"):
        with database.unit_of_work(bot_id=bot) as uow:
            for n, broker_id in enumerate(("B-1", "B-2", None, None)):
                uow.orders.submit(
                    client_order_id=f"c-{n}", order_id=f"o-{n}", ticker="AAPL", side="buy",
                    order_type="market", quantity=Decimal("3"), broker_order_id=broker_id,
                )  # fmt: skip
    database.downgrade("0007")
    yield database
    database.dispose()


#: Tables later revisions create: absent at 0008, so the models' compare lists them there.
LATER_TABLES = {"position_totals"}


def differences_at_0008(connection: Connection) -> list[object]:
    """The models' differences from the schema at 0008, the later revisions' tables aside."""
    return [
        difference
        for difference in compare_schema(connection)
        if not (difference[0] == "add_table" and difference[1].name in LATER_TABLES)
    ]


def index_directions(connection: Connection, index: str) -> list[tuple[str, bool]] | None:
    """(column, descending) of each key column of ``index``, or None when it does not exist."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text(f"PRAGMA index_xinfo({index})")).all()
        keys = [(str(row[2]), bool(row[3])) for row in rows if row[5]]
        return keys or None
    rows = connection.execute(
        text(
            "SELECT a.attname, (i.indoption[k.n - 1] & 1) = 1 FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE c.relname = :index ORDER BY k.n"
        ),
        {"index": index},
    ).all()
    return [(str(name), bool(desc)) for name, desc in rows] or None


def is_unique(connection: Connection, table: str, index: str) -> bool:
    found = [ix for ix in inspect(connection).get_indexes(table) if ix["name"] == index]
    assert found, index
    return bool(found[0]["unique"])


def test_up_down_up(at_0007: Database) -> None:
    revision = _revision()
    with at_0007.connect() as connection:
        # The columns 0007 has: later revisions add their own.
        known = ", ".join(c["name"] for c in inspect(connection).get_columns("orders"))
        select_orders = text(f"SELECT {known} FROM orders ORDER BY 1, 2")
        orders_before = connection.execute(select_orders).all()
        assert index_directions(connection, revision.BROKER_ID_INDEX) is None

    at_0007.upgrade()

    with at_0007.connect() as connection:
        assert index_directions(connection, revision.BROKER_ID_INDEX) == [
            ("bot_id", False),
            ("broker_order_id", False),
        ]
        assert is_unique(connection, "orders", revision.BROKER_ID_INDEX)
        for index, _table, columns, turned in revision.DESCENDING:
            expected = [(column, column in turned) for column in columns]
            assert index_directions(connection, index) == expected, index
        assert connection.execute(select_orders).all() == (orders_before)
    with at_0007.unit_of_work(bot_id="alpha", readonly=True) as uow:
        assert uow.orders.get(broker_order_id="B-2").order_id == "o-1"

    at_0007.downgrade("0007")

    with at_0007.connect() as connection:
        assert index_directions(connection, revision.BROKER_ID_INDEX) is None
        for index, _table, columns, _turned in revision.DESCENDING:
            assert index_directions(connection, index) == [(c, False) for c in columns], index
        assert connection.execute(select_orders).all() == (orders_before)
        # Below 0008 nothing stops a second order from sharing a broker id.
        connection.execute(text("UPDATE orders SET broker_order_id = 'B-9' WHERE order_id = 'o-2'"))
        connection.execute(text("UPDATE orders SET broker_order_id = 'B-9' WHERE order_id = 'o-3'"))
        connection.rollback()

    at_0007.upgrade()  # later revisions add tables: the models match at head

    with at_0007.connect() as connection:
        assert differences_at_0008(connection) == []


def test_the_models_declare_what_the_revision_creates() -> None:
    """The descending indexes of the models are exactly the revision's (SQLite's reflection
    cannot tell the direction, so Alembic's compare holds them to it on PostgreSQL only)."""
    revision = _revision()
    declared: dict[str, list[tuple[str, bool]]] = {}
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            keys = []
            for expression in index.expressions:
                modifier = getattr(expression, "modifier", None)
                element = getattr(expression, "element", expression)
                keys.append((str(element.name), modifier is not None and "desc" in str(modifier)))
            if any(desc for _name, desc in keys):
                declared[str(index.name)] = keys
    expected = {
        index: [(column, column in turned) for column in columns]
        for index, _table, columns, turned in revision.DESCENDING
    }
    assert declared == expected
    broker = Base.metadata.tables["orders"].indexes
    (unique,) = [index for index in broker if index.name == revision.BROKER_ID_INDEX]
    assert unique.unique
    assert [column.name for column in unique.columns] == ["bot_id", "broker_order_id"]


def test_shared_broker_ids_are_refused_naming_them(at_0007: Database) -> None:
    with at_0007.connect() as connection:
        connection.execute(
            text("UPDATE orders SET broker_order_id = 'B-7' WHERE order_id IN ('o-3', 'o-2')")
        )
        connection.execute(
            text(
                "UPDATE orders SET broker_order_id = 'B-7' "
                "WHERE bot_id = 'alpha' AND order_id = 'o-0'"
            )
        )
        connection.commit()
        before = connection.execute(text("SELECT * FROM orders ORDER BY 1, 2")).all()

    with pytest.raises(MigrationError) as refused:
        at_0007.upgrade("0008")

    message = str(refused.value)
    assert "cannot upgrade to 0008" in message
    # alpha: o-0, o-2 and o-3 share B-7; beta: o-2 and o-3 share B-7; beta's o-0 keeps B-1.
    assert "bot 'alpha': broker_order_id 'B-7' on 3 orders ('o-0', 'o-2', 'o-3')" in message
    assert "bot 'beta': broker_order_id 'B-7' on 2 orders ('o-2', 'o-3')" in message
    assert "set the wrong ones to NULL" in message
    assert at_0007.current_revision() == "0007"
    with at_0007.connect() as connection:
        assert connection.execute(text("SELECT * FROM orders ORDER BY 1, 2")).all() == before

    with at_0007.connect() as connection:
        connection.execute(
            text("UPDATE orders SET broker_order_id = NULL WHERE order_id IN ('o-2', 'o-3')")
        )
        connection.commit()
    at_0007.upgrade("0008")
    assert at_0007.current_revision() == "0008"
