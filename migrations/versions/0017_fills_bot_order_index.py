"""Index a bot's fills by order: ``idx_fills_bot_order_id`` (bot_id, order_id) replaces
``idx_fills_order_id`` (order_id).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Order ids are unique per bot only (the foreign key is (bot_id, order_id)), and every read of
an order's fills names the bot: ``record_fill``'s totals and replay check, ``recover``'s
open orders with their fills, retention's fills of prunable orders, the cascade from a
deleted order. An index on order_id alone matches the same id in every bot that uses it
(paper bots counting from "o-1" all do), so at 200 bots and 10 million fills such a read
fetched the heap rows of every bot's order of that id and threw away all but one bot's; and
where fills is partitioned (revision 0016) the planner preferred walking the bot's whole
history by the primary key's (bot_id, ...) prefix. (bot_id, order_id) finds exactly the
order's fills and still serves anything order_id alone did in this schema, since no read
leaves out the bot. One index replaces the other, so writes pay for no extra index.

On a partitioned ``fills`` the index is created on the parent and PostgreSQL creates it on
every partition (and on each one attached later). Like any CREATE INDEX inside a migration it
holds a SHARE lock on fills while it builds: inserts wait, reads do not; at 10 million rows
that is seconds, not minutes. The downgrade puts idx_fills_order_id back.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index("idx_fills_bot_order_id", ["bot_id", "order_id"], unique=False)
        batch_op.drop_index("idx_fills_order_id")


def downgrade() -> None:
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index("idx_fills_order_id", ["order_id"], unique=False)
        batch_op.drop_index("idx_fills_bot_order_id")
