"""Revision 0017: fills are indexed by (bot_id, order_id) instead of order_id alone.

Up and down with rows, on both backends; on PostgreSQL, where revision 0016 partitioned
fills, every partition carries the index too (created through the parent), and a bot's
order's fills are then read through it rather than by the bot's whole history.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Connection, inspect, text

from tradestore import Database
from tradestore.migrate import compare_schema

PREVIOUS = "0016"
REVISION = "0017"
D = Decimal


@pytest.fixture
def at_previous(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url, check_schema=False)
    database.upgrade(PREVIOUS)
    for bot in ("alpha", "beta"):
        with database.unit_of_work() as uow:
            uow.bots.register(bot, mode="paper")
        with database.unit_of_work(bot_id=bot) as uow:
            order = uow.orders.submit(
                client_order_id="c-1", ticker="AAPL", side="buy", order_type="market",
                quantity=D("10"),
            )  # fmt: skip
            uow.orders.record_fill(order.order_id, fill_id="f-1", quantity=D("4"), price=D("100"))
    yield database
    database.dispose()


def _fill_indexes(connection: Connection) -> dict[str, list[str | None]]:
    return {
        str(index["name"]): list(index["column_names"])
        for index in inspect(connection).get_indexes("fills")
    }


def _partition_indexes(connection: Connection) -> dict[str, set[str]]:
    """Each partition of fills -> the column lists of its indexes ("bot_id,order_id")."""
    rows = connection.execute(
        text(
            "SELECT c.relname, string_agg(a.attname, ',' ORDER BY k.ord) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_index x ON x.indrelid = c.oid "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE i.inhparent = CAST('fills' AS regclass) "
            "GROUP BY c.relname, x.indexrelid"
        )
    ).all()
    found: dict[str, set[str]] = {}
    for partition, columns in rows:
        found.setdefault(partition, set()).add(columns)
    return found


def _count(database: Database) -> int:
    with database.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM fills")).scalar_one())


def test_up_replaces_the_order_index_down_puts_it_back(at_previous: Database) -> None:
    postgres = at_previous.dialect_name == "postgresql"
    with at_previous.connect() as connection:
        assert _fill_indexes(connection)["idx_fills_order_id"] == ["order_id"]
        assert "idx_fills_bot_order_id" not in _fill_indexes(connection)
        partitions_before = set(_partition_indexes(connection)) if postgres else set()
    if postgres:
        assert partitions_before, "fills is partitioned at 0016 on PostgreSQL"

    at_previous.upgrade(REVISION)

    assert _count(at_previous) == 2
    with at_previous.connect() as connection:
        indexes = _fill_indexes(connection)
        assert indexes["idx_fills_bot_order_id"] == ["bot_id", "order_id"]
        assert "idx_fills_order_id" not in indexes
        assert compare_schema(connection) == []
        if postgres:
            partitions = _partition_indexes(connection)
            assert set(partitions) == partitions_before
            assert all("bot_id,order_id" in columns for columns in partitions.values())
            assert not any("order_id" in columns for columns in partitions.values())

    at_previous.downgrade(PREVIOUS)

    assert _count(at_previous) == 2
    with at_previous.connect() as connection:
        indexes = _fill_indexes(connection)
        assert indexes["idx_fills_order_id"] == ["order_id"]
        assert "idx_fills_bot_order_id" not in indexes
        if postgres:
            partitions = _partition_indexes(connection)
            assert not any("bot_id,order_id" in columns for columns in partitions.values())
            assert all("order_id" in columns for columns in partitions.values())

    at_previous.upgrade(REVISION)
    with at_previous.connect() as connection:
        assert compare_schema(connection) == []
