"""Broker order ids are unique per bot and indexed; time and ranking indexes run newest first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A broker's feed names orders by its own id. Without an index, finding the order an execution
report is about scanned every order of every bot; without uniqueness, two orders could carry one
broker id and the report would apply to whichever the scan met first. ``idx_orders_broker_order_id``
is a unique index on ``(bot_id, broker_order_id)``: ids are unique per bot (per broker account),
as ``client_order_id`` is. A plain unique index rather than a partial one: NULLs are distinct in
a unique index on both PostgreSQL (``NULLS DISTINCT``, the default) and SQLite, so any number
of orders not yet acknowledged keep a NULL id, and the index has the same definition on both
backends (a partial index's WHERE clause is not compared by ``alembic check``).

The upgrade refuses, naming them, when two orders of one bot already share a broker id: which
of the two the broker meant cannot be decided by a migration. Give each its own id, or set the
wrong one's ``broker_order_id`` to NULL, then upgrade again. Nothing is changed before the
check, so the refusal leaves the database at 0007.

The indexes the source schema declares descending are re-created so:
``orders.submitted_at``, ``portfolio_snapshots.snapshot_date`` and ``snapshot_time``,
``performance_metrics.metric_date``, ``agent_performance.sharpe_ratio`` and
``ensemble_weights (ensemble_id, update_time)``. Both backends scan a B-tree in either
direction, so for these indexes (one column, or an equality column then a time) the direction
states the order the reads ask for (newest first, best first) rather than making new plans
possible. Index changes need no table copy on SQLite, so the batch blocks below issue plain
``CREATE INDEX`` / ``DROP INDEX`` there.

The downgrade drops the unique index and puts the ascending indexes back; it loses nothing.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BROKER_ID_INDEX = "idx_orders_broker_order_id"

#: (index, table, columns, the columns that turn descending).
DESCENDING: tuple[tuple[str, str, tuple[str, ...], frozenset[str]], ...] = (
    ("idx_orders_submitted_at", "orders", ("submitted_at",), frozenset({"submitted_at"})),
    (
        "idx_portfolio_snapshots_date",
        "portfolio_snapshots",
        ("snapshot_date",),
        frozenset({"snapshot_date"}),
    ),
    (
        "idx_portfolio_snapshots_time",
        "portfolio_snapshots",
        ("snapshot_time",),
        frozenset({"snapshot_time"}),
    ),
    (
        "idx_performance_metrics_date",
        "performance_metrics",
        ("metric_date",),
        frozenset({"metric_date"}),
    ),
    (
        "idx_agent_performance_sharpe",
        "agent_performance",
        ("sharpe_ratio",),
        frozenset({"sharpe_ratio"}),
    ),
    (
        "idx_ensemble_weights_ensemble_time",
        "ensemble_weights",
        ("ensemble_id", "update_time"),
        frozenset({"update_time"}),
    ),
)

#: How many shared ids the refusal names.
_SHOWN = 5


def _columns(columns: Sequence[str], descending: frozenset[str]) -> list[str | sa.TextClause]:
    return [sa.text(f"{name} DESC") if name in descending else name for name in columns]


def _rebuild(*, descending: bool) -> None:
    for index, table, columns, turned in DESCENDING:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(index)
            batch.create_index(index, _columns(columns, turned if descending else frozenset()))


def upgrade() -> None:
    _refuse_shared_broker_ids()
    with op.batch_alter_table("orders") as batch:
        batch.create_index(BROKER_ID_INDEX, ["bot_id", "broker_order_id"], unique=True)
    _rebuild(descending=True)


def downgrade() -> None:
    _rebuild(descending=False)
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(BROKER_ID_INDEX)


def _refuse_shared_broker_ids() -> None:
    """Name the broker ids two or more orders of one bot share, with their orders, or return."""
    bind = op.get_bind()
    shared = bind.execute(
        sa.text(
            "SELECT bot_id, broker_order_id, COUNT(*) FROM orders "
            "WHERE broker_order_id IS NOT NULL "
            "GROUP BY bot_id, broker_order_id HAVING COUNT(*) > 1 "
            f"ORDER BY bot_id, broker_order_id LIMIT {_SHOWN + 1}"
        )
    ).all()
    if not shared:
        return
    named = []
    for bot_id, broker_id, count in shared[:_SHOWN]:
        orders = bind.execute(
            sa.text(
                "SELECT order_id FROM orders WHERE bot_id = :bot_id "
                "AND broker_order_id = :broker_id ORDER BY order_id LIMIT 5"
            ),
            {"bot_id": bot_id, "broker_id": broker_id},
        ).scalars()
        listed = ", ".join(repr(order_id) for order_id in orders)
        more = " and more" if count > 5 else ""
        named.append(
            f"bot {bot_id!r}: broker_order_id {broker_id!r} on {count} orders ({listed}{more})"
        )
    tail = " (and more broker ids)" if len(shared) > _SHOWN else ""
    raise RuntimeError(
        "cannot upgrade to 0008: broker_order_id must be unique per bot, and orders share one: "
        + "; ".join(named)
        + tail
        + ". Give each order its own broker id or set the wrong ones to NULL "
        "(UPDATE orders SET broker_order_id = NULL WHERE bot_id = ... AND order_id = ...), "
        "then upgrade again; nothing was changed."
    )
