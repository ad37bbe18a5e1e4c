"""Revision 0007 (comments on views and functions), up and down, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text

from tradestore import Database
from tradestore.analytics import Analytics, schema


@pytest.fixture
def at_0006(fresh_url: str) -> Iterator[Database]:
    # Written at head by today's repositories, then taken down to 0006.
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    with database.unit_of_work(bot_id="alpha") as uow:
        uow.bots.register("alpha", mode="paper")
        uow.orders.submit(
            client_order_id="c-1", order_id="o-1", ticker="AAPL", side="buy",
            order_type="market", quantity=Decimal("3"),
        )  # fmt: skip
    database.downgrade("0006")
    with database.connect() as connection:
        # A user's view on one of ours: SQLite re-creates ours under it, it must keep working.
        connection.execute(
            text("CREATE VIEW my_orders AS SELECT bot_id, order_id FROM v_recent_orders")
        )
        connection.commit()
    yield database
    database.dispose()


def described(connection: Connection) -> dict[str, str]:
    """Each view's and function's comment; on SQLite, each view's whole statement."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'v' AND n.nspname = current_schema() "
                "UNION ALL SELECT p.proname, obj_description(p.oid, 'pg_proc') FROM pg_proc p "
                "WHERE p.proname LIKE 'get_paper%'"
            )
        )
    else:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'view'"))
    return {str(name): str(comment) for name, comment in rows}


def test_the_comments_drop_the_document_number_and_nothing_else(at_0006: Database) -> None:
    with at_0006.connect() as connection:
        before = described(connection)
    assert "(seed 000)." in before["v_position_summary"]

    at_0006.upgrade("0007")

    with at_0006.connect() as connection:
        after = described(connection)
        mine = connection.execute(text("SELECT * FROM my_orders")).all()
    assert set(after) == set(before)
    assert before["my_orders"] == after["my_orders"]
    ours = {name for name in before if name != "my_orders"}
    assert {v.name for v in schema.VIEWS} <= ours
    for name in ours:
        assert "seed" not in after[name], name
        expected = before[name].replace(" (seed 000).", ".").replace(" (seed 003).", ".")
        assert after[name] == expected, name
    assert mine == [("alpha", "o-1")]
    if at_0006.dialect_name == "postgresql":
        assert after["get_paper_total_pnl"].endswith("of all bots when bot_id is NULL.")
    with at_0006.session(readonly=True) as session:
        assert [o.order_id for o in Analytics(session).recent_orders()] == ["o-1"]

    at_0006.downgrade("0006")

    with at_0006.connect() as connection:
        assert described(connection) == before


def test_a_view_redefined_by_hand_is_left_alone(at_0006: Database) -> None:
    if at_0006.dialect_name != "sqlite":
        pytest.skip("on PostgreSQL the comment is not part of the view's definition")
    statement = "CREATE VIEW v_current_ensemble AS SELECT 1 AS one"
    with at_0006.connect() as connection:
        connection.execute(text("DROP VIEW v_current_ensemble"))
        connection.execute(text(statement))
        connection.commit()

    at_0006.upgrade("0007")

    with at_0006.connect() as connection:
        after = described(connection)
    assert after["v_current_ensemble"] == statement
    assert after["v_position_summary"].startswith(
        "CREATE VIEW v_position_summary AS /* Open positions with calculated fields. */"
    )
