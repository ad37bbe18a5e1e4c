"""Revision 0005 (position and order ids unique per bot), up and down with rows in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.errors import MigrationError

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
D = Decimal


def _keys(database: Database) -> dict[str, object]:
    with database.connect() as connection:
        found = inspect(connection)
        return {
            "positions": found.get_pk_constraint("positions")["constrained_columns"],
            "orders": found.get_pk_constraint("orders")["constrained_columns"],
            "fills": sorted(
                (tuple(fk["constrained_columns"]), fk["name"])
                for fk in found.get_foreign_keys("fills")
                if fk["referred_table"] == "orders"
            ),
        }


def _trade(database: Database, bot: str, *, position_id: str, order_id: str) -> None:
    with database.unit_of_work(bot_id=bot) as uow:
        uow.bots.register(bot)
        uow.positions.open(
            "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id=position_id
        )
        uow.positions.close(position_id, exit_price=D(110), exit_reason="manual", quantity=D(4))
        uow.orders.submit(
            client_order_id="c-1",
            order_id=order_id,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=D(10),
            position_id=position_id,
        )
        uow.orders.record_fill(order_id, fill_id="f-1", quantity=D(3), price=D(100), filled_at=NOW)


def _rows(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.connect() as connection:
        return {
            table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in ("positions", "closed_positions", "orders", "fills")
        }


def test_keys_per_bot_round_trip(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0004")
        before = _keys(database)
        assert before["positions"] == ["position_id"]
        assert before["orders"] == ["order_id"]
        assert before["fills"] == [(("order_id",), "fk_fills_order_id_orders")]
        # Written through today's repositories at head, then taken back to 0005 (revision
        # 0006 added orders.reduce_only, which the repositories write).
        database.upgrade()
        _trade(database, "alpha", position_id="p-1", order_id="o-1")
        database.downgrade("0005")
        rows = _rows(database)
        at_head = _keys(database)
        assert at_head["positions"] == ["bot_id", "position_id"]
        assert at_head["orders"] == ["bot_id", "order_id"]
        assert at_head["fills"] == [(("bot_id", "order_id"), "fk_fills_bot_id_orders")]

        database.downgrade("0004")
        assert _keys(database) == before
        assert _rows(database) == rows
        database.upgrade("0005")
        assert _keys(database) == at_head
        assert _rows(database) == rows
        database.upgrade()
        with database.unit_of_work(bot_id="alpha") as uow:  # the views still answer
            [active] = uow.analytics.active_positions()
            assert active.realized_pnl == D(40)
            [stats] = uow.analytics.order_fill_stats(order_id="o-1")
            assert stats.num_fills == 1
    finally:
        database.dispose()


def test_downgrade_refuses_ids_that_bots_share(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade()
        _trade(database, "alpha", position_id="p-1", order_id="o-1")
        _trade(database, "beta", position_id="p-1", order_id="o-1")
        database.downgrade("0005")
        rows = _rows(database)
        with pytest.raises(MigrationError, match="several bots use the same order_id"):
            database.downgrade("0004")
        assert database.current_revision() == "0005"
        assert _rows(database) == rows
    finally:
        database.dispose()
