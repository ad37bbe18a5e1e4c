"""Position and order ids are unique per bot: keys (bot_id, position_id), (bot_id, order_id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

With a key of its own, an id told one bot whether another bot used it: ``positions.open`` with
another bot's open position_id said "already open", ``orders.submit`` with its order_id
"already used". Keyed per bot, like client_order_id and fill_id already were, another bot's
ids behave exactly like unknown ones. ``fills`` now finds its order by (bot_id, order_id), and
the views that join on an id join on bot_id too (their new SQL is written out below, and the
old SQL for the downgrade; the rest of 0004's views are kept as the database holds them).

The downgrade needs every id to be unique across bots again; it refuses, naming them, if two
bots share one.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradestore.db.view_ddl import PreservedViews, preserved_views

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("orders", "positions", "fills", "closed_positions")
_OLD_FILLS_FK = "fk_fills_order_id_orders"
_NEW_FILLS_FK = "fk_fills_bot_id_orders"

_COMMENTS = {
    "v_recent_orders": "The last 100 orders of each bot with formatted timestamps (seed 000).",
    "v_order_fill_stats": "Fill statistics per order that has fills: count, VWAP, best and "
    "worst price for the order's side (seed 000).",
    "v_paper_active_positions": "Open positions with unrealized, realized (closed parts) and "
    "total P&L (seed 003).",
}


def _recent_orders(dialect: str, *, per_bot: bool) -> str:
    if dialect == "postgresql":
        text_ts = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        source = (
            "bots b CROSS JOIN LATERAL (SELECT * FROM orders x WHERE x.bot_id = b.bot_id "
            "ORDER BY x.submitted_at DESC, x.order_id DESC LIMIT 100) o"
        )
    else:
        text_ts = "strftime('%Y-%m-%d %H:%M:%S', {})"
        # The correlated IN list of 0004 matched ids only: with ids per bot, the bot too.
        match = "o.bot_id = b.bot_id AND " if per_bot else ""
        source = (
            f"bots b JOIN orders o ON {match}o.order_id IN (SELECT x.order_id FROM orders x "
            "WHERE x.bot_id = b.bot_id ORDER BY x.submitted_at DESC, x.order_id DESC LIMIT 100)"
        )
    return f"""
SELECT b.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.time_in_force, o.status, o.filled_quantity,
       o.filled_avg_price, o.commission, o.slippage, o.strategy, o.position_id,
       o.submitted_at, {text_ts.format("o.submitted_at")} AS submitted_datetime,
       o.filled_at, {text_ts.format("o.filled_at")} AS filled_datetime
FROM {source}"""


def _money(dialect: str, expression: str) -> str:
    return f"CAST({expression} AS NUMERIC(38, 18))" if dialect == "postgresql" else expression


def _order_fill_stats(dialect: str, *, per_bot: bool) -> str:
    join = (
        "f.bot_id = o.bot_id AND f.order_id = o.order_id" if per_bot else "f.order_id = o.order_id"
    )
    return f"""
SELECT o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.status,
       o.quantity, o.filled_quantity,
       COUNT(*) AS num_fills,
       SUM(f.quantity) AS fill_quantity,
       {_money(dialect, "SUM(f.quantity * f.price) / SUM(f.quantity)")} AS avg_fill_price,
       CASE WHEN o.side = 'buy' THEN MIN(f.price) ELSE MAX(f.price) END AS best_fill_price,
       CASE WHEN o.side = 'buy' THEN MAX(f.price) ELSE MIN(f.price) END AS worst_fill_price,
       SUM(f.commission) AS total_commission,
       MIN(f.filled_at) AS first_fill_at,
       MAX(f.filled_at) AS last_fill_at
FROM orders o
JOIN fills f ON {join}
GROUP BY o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.status,
         o.quantity, o.filled_quantity"""


def _active_positions(dialect: str, *, per_bot: bool) -> str:
    # The closed parts of an open position: (bot_id, position_id) is the open row's key now.
    match = (
        "cp.bot_id = p.bot_id AND cp.position_id = p.position_id"
        if per_bot
        else ("cp.position_id = p.position_id")
    )
    return f"""
SELECT bot_id, position_id, ticker, side, quantity, signed_quantity, entry_price,
       current_price, market_value, unrealized_pnl, unrealized_pnl_pct, realized_pnl,
       unrealized_pnl + realized_pnl AS total_pnl, strategy, opened_at, updated_at
FROM (SELECT p.bot_id, p.position_id, p.ticker, p.side, p.quantity,
             CASE WHEN p.side = 'short' THEN -p.quantity ELSE p.quantity END
                 AS signed_quantity,
             p.entry_price, p.current_price,
             {_money(dialect, "p.quantity * p.current_price")} AS market_value,
             p.unrealized_pnl, p.unrealized_pnl_pct,
             COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp
                       WHERE {match}), 0) AS realized_pnl,
             p.strategy, p.opened_at, p.updated_at
      FROM positions p) open_positions"""


_VIEWS = {
    "v_recent_orders": _recent_orders,
    "v_order_fill_stats": _order_fill_stats,
    "v_paper_active_positions": _active_positions,
}


def _redefine(views: PreservedViews, dialect: str, *, per_bot: bool) -> None:
    for name, build in _VIEWS.items():
        select = build(dialect, per_bot=per_bot)
        if dialect == "sqlite":
            # SQLite keeps the statement's text: the comment travels in it, as in 0004.
            select = f"/* {_COMMENTS[name]} */{select}"
        views.redefine(name, select)


def _dialect() -> str:
    name = op.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"revision 0005 has no SQL for the {name} dialect")
    return name


def upgrade() -> None:
    dialect = _dialect()
    with preserved_views(*_TABLES) as views:
        with op.batch_alter_table("fills") as batch:
            batch.drop_constraint(_OLD_FILLS_FK, type_="foreignkey")
        with op.batch_alter_table("orders") as batch:
            batch.drop_constraint("pk_orders", type_="primary")
            batch.create_primary_key("pk_orders", ["bot_id", "order_id"])
        with op.batch_alter_table("positions") as batch:
            batch.drop_constraint("pk_positions", type_="primary")
            batch.create_primary_key("pk_positions", ["bot_id", "position_id"])
        with op.batch_alter_table("fills") as batch:
            batch.create_foreign_key(
                _NEW_FILLS_FK,
                "orders",
                ["bot_id", "order_id"],
                ["bot_id", "order_id"],
                ondelete="CASCADE",
            )
        _redefine(views, dialect, per_bot=True)


def downgrade() -> None:
    dialect = _dialect()
    _refuse_shared_ids("orders", "order_id")
    _refuse_shared_ids("positions", "position_id")
    with preserved_views(*_TABLES) as views:
        with op.batch_alter_table("fills") as batch:
            batch.drop_constraint(_NEW_FILLS_FK, type_="foreignkey")
        with op.batch_alter_table("positions") as batch:
            batch.drop_constraint("pk_positions", type_="primary")
            batch.create_primary_key("pk_positions", ["position_id"])
        with op.batch_alter_table("orders") as batch:
            batch.drop_constraint("pk_orders", type_="primary")
            batch.create_primary_key("pk_orders", ["order_id"])
        with op.batch_alter_table("fills") as batch:
            batch.create_foreign_key(
                _OLD_FILLS_FK, "orders", ["order_id"], ["order_id"], ondelete="CASCADE"
            )
        _redefine(views, dialect, per_bot=False)


def _refuse_shared_ids(table: str, column: str) -> None:
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT {column} FROM {table} GROUP BY {column} HAVING COUNT(*) > 1 "
                f"ORDER BY {column} LIMIT 5"
            )
        )
        .scalars()
        .all()
    )
    if shared:
        raise RuntimeError(
            f"cannot downgrade below 0005: several bots use the same {column} in {table} "
            f"({', '.join(map(repr, shared))}); before 0005 an id must be unique across bots"
        )
