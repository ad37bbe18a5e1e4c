"""Position keeping from fills: the bot's mode, the order's choice, the kept position's mark.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``bots.position_keeping`` ('manual', the default and the behaviour before this revision, or
'netting') says whether the fills of the bot's orders move its positions; an order may say
otherwise with ``orders.keep_position`` (NULL: follow the bot). A position kept from fills has
``positions.kept_from_fills`` true, and two partial unique indexes hold at most one such
position per netting key (bot, ticker, strategy; no strategy is a key of its own) whoever
writes the table, so two fills racing to open it cannot make two:
``uq_positions_kept_by_strategy`` on (bot, ticker, strategy) and
``uq_positions_kept_without_strategy`` on (bot, ticker) for the rows without one. Two plain
indexes rather than one on ``COALESCE(strategy, '')``: SQLite cannot reflect an expression
index, so Alembic's compare could not hold the models to it.

Every existing row gets the old behaviour (manual, NULL, false). The downgrade drops the
columns and the index: the positions, closed rows and fills stay as they are (a kept position
becomes an ordinary open one), only the opt-in is forgotten, so nothing the old code reads is
lost.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradestore.db.view_ddl import preserved_views

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The partial unique indexes: one fill-kept open position per bot, ticker and strategy.
KEPT_INDEXES = {
    "uq_positions_kept_by_strategy": (
        ["bot_id", "ticker", "strategy"],
        "kept_from_fills AND strategy IS NOT NULL",
    ),
    "uq_positions_kept_without_strategy": (
        ["bot_id", "ticker"],
        "kept_from_fills AND strategy IS NULL",
    ),
}
MODES = ("manual", "netting")
_TABLES = ("bots", "orders", "positions")


def upgrade() -> None:
    with preserved_views(*_TABLES):
        with op.batch_alter_table("bots") as batch:
            batch.add_column(
                sa.Column(
                    "position_keeping",
                    sa.String(length=7),
                    server_default=sa.text("'manual'"),
                    nullable=False,
                )
            )
            batch.create_check_constraint(
                op.f("ck_bots_position_keeping"),
                "position_keeping IN ('manual', 'netting')",
            )
        with op.batch_alter_table("orders") as batch:
            batch.add_column(sa.Column("keep_position", sa.Boolean(), nullable=True))
        # Orders stored before this revision were recorded under 'manual': one naming a
        # position belongs to the explicit API, and one with fills had its choice made (the
        # choice is frozen at an order's first fill). Neither is ever kept, whatever its bot
        # switches to; an order not yet filled follows its bot from its first fill.
        orders = sa.table(
            "orders",
            sa.column("keep_position", sa.Boolean()),
            sa.column("position_id", sa.String()),
            sa.column("filled_quantity", sa.Numeric()),
        )
        op.execute(
            orders.update()
            .where(sa.or_(orders.c.position_id.is_not(None), orders.c.filled_quantity > 0))
            .values(keep_position=sa.false())
        )
        with op.batch_alter_table("positions") as batch:
            batch.add_column(
                sa.Column(
                    "kept_from_fills", sa.Boolean(), server_default=sa.false(), nullable=False
                )
            )
        for name, (columns, where) in KEPT_INDEXES.items():
            op.create_index(
                name,
                "positions",
                columns,
                unique=True,
                sqlite_where=sa.text(where),
                postgresql_where=sa.text(where),
            )


def downgrade() -> None:
    with preserved_views(*_TABLES):
        for name in KEPT_INDEXES:
            op.drop_index(name, table_name="positions")
        with op.batch_alter_table("positions") as batch:
            batch.drop_column("kept_from_fills")
        with op.batch_alter_table("orders") as batch:
            batch.drop_column("keep_position")
        with op.batch_alter_table("bots") as batch:
            batch.drop_constraint(op.f("ck_bots_position_keeping"), type_="check")
            batch.drop_column("position_keeping")
