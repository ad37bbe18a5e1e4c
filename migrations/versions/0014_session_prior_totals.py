"""A trading session's running totals at its start, so that its end needs no recount.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

A session's figures (trades, wins, losses, P&L, commission) were a count and an exact sum
over its closed rows when it ended; on SQLite the sums are made in Python, so a restart
ending a long session cost a row per trade of that session. ``trading_sessions`` gains the
sums of the bot's closed rows closed before the session's start (``prior_*``), taken from
``position_totals`` when the session opens and kept equal to that sum while it is open; the
end subtracts them from the totals then.

The upgrade adds the five columns NULL: a session opened before this revision has no such
sums, and its end recounts its rows as before. The downgrade drops them; they are derived
from the closed rows, so nothing is lost.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "trading_sessions"
#: The money sums are ``MoneyTotal``: NUMERIC(38, 18) on PostgreSQL, decimal text on SQLite.
COUNTS = ("prior_trades", "prior_wins", "prior_losses")
SUMS = ("prior_realized_pnl", "prior_commission")


def upgrade() -> None:
    # ALTER TABLE ... ADD / DROP COLUMN on both backends (SQLite has both since 3.35): the
    # table is not rebuilt, so its partial unique index and its checks stay as they are.
    for name in COUNTS:
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN {name} BIGINT")
    sum_type = "VARCHAR(40)" if op.get_bind().dialect.name == "sqlite" else "NUMERIC(38, 18)"
    for name in SUMS:
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN {name} {sum_type}")


def downgrade() -> None:
    for name in (*SUMS[::-1], *COUNTS[::-1]):
        op.execute(f"ALTER TABLE {TABLE} DROP COLUMN {name}")
