"""Revision 0012 (position keeping from fills), up, down and up again, on both backends:
existing rows get the old behaviour (manual, NULL, false), the downgrade keeps every row but
the opt-in, and the partial unique indexes hold one kept position per key."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.migrate import compare_schema

#: The revision 0012 follows.
PREVIOUS = "0011"
REVISION = "0012"
D = Decimal
NEW_COLUMNS = {
    "bots": "position_keeping",
    "orders": "keep_position",
    "positions": "kept_from_fills",
}
INDEXES = {"uq_positions_kept_by_strategy", "uq_positions_kept_without_strategy"}


@pytest.fixture
def at_head(fresh_url: str) -> Iterator[Database]:
    """Rows written at head by today's repositories: a netting bot with a kept position, a
    manual bot with an explicit one, orders of both kinds."""
    database = Database(fresh_url, check_schema=False)
    database.upgrade()  # to head: today's repositories write what head has
    with database.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D("1000"), position_keeping="netting")
        uow.bots.register("beta")
    with database.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="a-1", ticker="AAPL", side="buy", order_type="market",
            quantity=D("2"),
        )  # fmt: skip
        uow.orders.record_fill(order.order_id, fill_id="f-1", quantity=D("2"), price=D("10"))
    with database.unit_of_work(bot_id="beta") as uow:
        opened = uow.positions.open("AAPL", side="long", quantity=D("1"), entry_price=D("10"))
        uow.orders.submit(
            client_order_id="b-1", ticker="AAPL", side="buy", order_type="market",
            quantity=D("1"), keep_position=True,
        )  # fmt: skip
        uow.orders.submit(
            client_order_id="b-2", ticker="AAPL", side="sell", order_type="market",
            quantity=D("1"), position_id=opened.position_id,
        )  # fmt: skip
    yield database
    database.dispose()


def columns(database: Database, table: str) -> set[str]:
    with database.connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns(table)}


def rows(database: Database, table: str, names: list[str]) -> list[tuple[object, ...]]:
    with database.connect() as connection:
        listed = ", ".join(names)
        return [
            tuple(r)
            for r in connection.execute(text(f"SELECT {listed} FROM {table} ORDER BY 1, 2"))
        ]


def test_down_and_up_again(at_head: Database) -> None:
    kept_names = {
        "bots": ["bot_id", "current_balance", "starting_balance"],
        "orders": ["bot_id", "order_id", "filled_quantity", "position_id"],
        "positions": ["bot_id", "position_id", "quantity", "entry_price", "ticker"],
        "fills": ["bot_id", "fill_id", "position_id"],
    }
    before = {table: rows(at_head, table, names) for table, names in kept_names.items()}
    assert before["bots"] == [("alpha", D("980"), D("1000")), ("beta", None, None)]

    at_head.downgrade(PREVIOUS)

    for table, column in NEW_COLUMNS.items():
        assert column not in columns(at_head, table)
    with at_head.connect() as connection:
        names = {ix["name"] for ix in inspect(connection).get_indexes("positions")}
    assert not names & INDEXES
    # Every row stays: the kept position is an ordinary open one below 0012.
    assert {table: rows(at_head, table, names) for table, names in kept_names.items()} == before

    at_head.upgrade()

    assert {table: rows(at_head, table, names) for table, names in kept_names.items()} == before
    # The opt-in was forgotten: every row has the old behaviour.
    assert rows(at_head, "bots", ["bot_id", "position_keeping"]) == [
        ("alpha", "manual"),
        ("beta", "manual"),
    ]
    # Orders stored before 0012 were recorded under 'manual': one with fills (a-1) or naming
    # a position (b-2) is never kept; one not yet filled (b-1) follows its bot.
    choices = rows(at_head, "orders", ["client_order_id", "keep_position"])
    assert [(cid, None if k is None else bool(k)) for cid, k in choices] == [
        ("a-1", False),
        ("b-1", None),
        ("b-2", False),
    ]
    kept = rows(at_head, "positions", ["bot_id", "position_id", "kept_from_fills"])
    assert {bool(r[2]) for r in kept} == {False}
    with at_head.connect() as connection:
        names = {ix["name"] for ix in inspect(connection).get_indexes("positions")}
        assert names >= INDEXES
        assert compare_schema(connection) == []
    # And the repositories work on it: a netting bot keeps positions again.
    with at_head.unit_of_work() as uow:
        uow.bots.set_position_keeping("alpha", "netting")
    with at_head.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="a-2", ticker="AAPL", side="sell", order_type="market",
            quantity=D("1"),
        )  # fmt: skip
        recorded = uow.orders.record_fill(
            order.order_id, fill_id="f-2", quantity=D("1"), price=D("12")
        )
        [position] = [p for p in uow.positions.list_open() if p.kept_from_fills]
    # The explicit row left by the downgrade is not kept: the fill opened a short of its own.
    assert position.position_id == recorded.fill.position_id
    assert (position.side.value, position.quantity) == ("short", D("1"))
    with at_head.unit_of_work() as uow:
        uow.bots.set_position_keeping("beta", "netting")
    with at_head.unit_of_work(bot_id="beta") as uow:
        [explicit] = uow.positions.list_open()
        # An idempotent retry of a pre-upgrade order is the stored order, not DuplicateOrder.
        again = uow.orders.submit(
            client_order_id="b-2", ticker="AAPL", side="sell", order_type="market",
            quantity=D("1"), position_id=explicit.position_id,
        )  # fmt: skip
        assert again.keep_position is False
        # Its fill on a netting bot moves nothing kept: it belongs to the explicit API.
        uow.orders.record_fill(again.order_id, fill_id="f-3", quantity=D("1"), price=D("11"))
        assert [p for p in uow.positions.list_open() if p.kept_from_fills] == []
    with at_head.unit_of_work(bot_id="alpha") as uow:
        # A retry of an order kept since (its choice frozen, its position linked by keeping).
        kept_again = uow.orders.submit(
            client_order_id="a-2", ticker="AAPL", side="sell", order_type="market",
            quantity=D("1"),
        )  # fmt: skip
        assert (kept_again.keep_position, kept_again.position_id) == (True, position.position_id)
