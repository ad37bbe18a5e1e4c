"""Property: on any mix of rows a dry run counts what the real run deletes, only old history."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_scenario import CUTOFF, NOW, RETENTION, add_bot, add_closed, add_order, add_position
from sqlalchemy import delete, select

from tradestore import Database
from tradestore.models import Bot, ClosedPosition, Fill, Order, Position, PositionTotal
from tradestore.ops.retention import prune

STATUSES = ["pending", "accepted", "partially_filled", "filled", "cancelled", "rejected", "expired"]
TERMINAL = {"filled", "cancelled", "rejected", "expired"}

orders = st.lists(
    st.tuples(
        st.sampled_from(STATUSES),
        st.integers(min_value=0, max_value=200),  # age in days
        st.booleans(),  # belongs to the open position
        st.integers(min_value=0, max_value=2),  # fills
    ),
    max_size=12,
)
closed = st.lists(st.tuples(st.integers(min_value=0, max_value=200), st.booleans()), max_size=8)


def _clean(db: Database) -> None:
    with db.engine.begin() as conn:
        for model in (Fill, Order, ClosedPosition, PositionTotal, Position, Bot):
            conn.execute(delete(model))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(orders=orders, closed=closed)
def test_dry_run_equals_real_run_and_keeps_what_it_must(
    db: Database,
    orders: list[tuple[str, int, bool, int]],
    closed: list[tuple[int, bool]],
) -> None:
    expected_orders: set[str] = set()
    expected_fills = 0
    expected_closed = 0
    try:
        with db.engine.begin() as conn:
            add_bot(conn, "alpha")
            add_position(conn, "pos-open", "alpha", NOW - dt.timedelta(days=300))
            for n, (status, age, of_open, fills) in enumerate(orders):
                updated = NOW - dt.timedelta(days=age)
                fills = fills if status in ("filled", "partially_filled") else 0
                order_id = f"o{n}"
                add_order(
                    conn,
                    order_id,
                    status=status,
                    updated=updated,
                    position_id="pos-open" if of_open else None,
                    fills=fills,
                )
                if status in TERMINAL and updated < CUTOFF and not of_open:
                    expected_orders.add(order_id)
                    expected_fills += fills
            for n, (age, of_open) in enumerate(closed):
                closed_at = NOW - dt.timedelta(days=age)
                add_closed(conn, "pos-open" if of_open else f"pc{n}", closed=closed_at)
                if closed_at < CUTOFF and not of_open:
                    expected_closed += 1
        tables = ["orders", "closed_positions"]
        dry = prune(db, older_than=RETENTION, now=NOW, dry_run=True, tables=tables)
        real = prune(db, older_than=RETENTION, now=NOW, tables=tables, batch_size=3)
        assert dry.counts == real.counts
        assert real.counts == {
            "fills": expected_fills,
            "orders": len(expected_orders),
            "closed_positions": expected_closed,
        }
        with db.engine.connect() as conn:
            left = set(conn.execute(select(Order.order_id)).scalars())
            conn.rollback()
        assert left == {f"o{n}" for n in range(len(orders))} - expected_orders
    finally:
        _clean(db)
