"""Autovacuum and statistics settings for the hot tables (PostgreSQL; nothing on SQLite).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

PostgreSQL's defaults vacuum a table once a fifth of it is dead rows and re-analyze it once a
tenth has changed. For tradestore's history tables that is far too late: at 10 million fills a
retention run leaves 2 million dead rows before autovacuum looks at them, and the planner goes
on estimating "the last day" from statistics whose histogram ends a million rows ago. The
settings below, per table, are explained in docs/scaling.md (Autovacuum):

* history that grows without bound and is deleted by retention (fills, closed positions,
  intraday snapshots and their per-symbol lines, training episodes): vacuum at 2 % dead rows,
  vacuum after 2 % new rows too (PostgreSQL 13's insert threshold: keeps the visibility map
  fresh for index-only scans and freezes in small steps, never one anti-wraparound vacuum of
  the whole table), analyze at 1 % changed rows;
* orders, updated in place two to four times each (accepted, partially filled, filled):
  vacuum and analyze at 2 %;
* small tables updated all the time (open positions on every mark to market, the running
  totals on every close, daily portfolio snapshots upserted during the day): vacuum and
  analyze at 5 %, with a floor of 200 changed rows so a tiny table is not vacuumed on every
  naptime; ``position_totals`` also keeps a fifth of each page free (fillfactor 80): its
  updates change no indexed column, so they can stay on the page (HOT) and leave no dead
  index entries.

A partitioned table has no storage of its own: the settings go to each of its partitions
(a partition created later needs them in its CREATE TABLE ... WITH (...)). The downgrade
RESETs exactly the parameters set here, back to the server's defaults.
"""

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HISTORY = {
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_vacuum_insert_scale_factor": "0.02",
    "autovacuum_analyze_scale_factor": "0.01",
}
_UPDATED = {
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_analyze_scale_factor": "0.02",
}
_SMALL = {
    "autovacuum_vacuum_scale_factor": "0.05",
    "autovacuum_vacuum_threshold": "200",
    "autovacuum_analyze_scale_factor": "0.05",
    "autovacuum_analyze_threshold": "200",
}

#: table -> storage parameters (frozen with this revision; docs/scaling.md explains them).
SETTINGS: Mapping[str, Mapping[str, str]] = {
    "fills": _HISTORY,
    "closed_positions": _HISTORY,
    "intraday_snapshots": _HISTORY,
    "intraday_snapshot_symbols": _HISTORY,
    "training_episodes": _HISTORY,
    "orders": _UPDATED,
    "positions": _SMALL,
    "portfolio_snapshots": _SMALL,
    "position_totals": {**_SMALL, "fillfactor": "80"},
}


def _storage(connection: sa.Connection, table: str) -> list[str]:
    """The relations that hold ``table``'s rows: itself, or its leaf partitions."""
    kind = connection.execute(
        sa.text(
            "SELECT CAST(c.relkind AS text) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = :name"
        ),
        {"name": table},
    ).scalar_one()
    if kind != "p":
        return [table]
    return list(
        connection.execute(
            sa.text(
                "SELECT c.relname FROM pg_partition_tree(CAST(:name AS regclass)) t "
                "JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf ORDER BY 1"
            ),
            {"name": table},
        ).scalars()
    )


def apply(connection: sa.Connection, settings: Mapping[str, Mapping[str, str]]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    for table, parameters in settings.items():
        assignments = ", ".join(f"{name} = {value}" for name, value in parameters.items())
        for relation in _storage(connection, table):
            connection.execute(sa.text(f"ALTER TABLE {quote(relation)} SET ({assignments})"))


def reset(connection: sa.Connection, settings: Mapping[str, Mapping[str, str]]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    for table, parameters in settings.items():
        names = ", ".join(parameters)
        for relation in _storage(connection, table):
            connection.execute(sa.text(f"ALTER TABLE {quote(relation)} RESET ({names})"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        apply(bind, SETTINGS)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        reset(bind, SETTINGS)
