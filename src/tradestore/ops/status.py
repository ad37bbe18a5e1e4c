"""Where the schema stands (the ``migrate status`` of migration runners).

The current revision, the revisions still to apply, and the newest entries of
``migration_history`` (including failures, with their error message): enough to answer "what
happened to this database's schema, and what will ``db upgrade`` do?" without opening SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import inspect, select

from tradestore.database import Database
from tradestore.migrate import current_heads, head_revision, script_directory
from tradestore.models import MigrationHistory
from tradestore.ops._common import read_connection


@dataclass(frozen=True)
class Revision:
    revision: str
    description: str


@dataclass(frozen=True)
class HistoryEntry:
    migration_id: str
    migration_name: str
    status: str
    applied_at: dt.datetime
    duration_seconds: float | None
    error_message: str | None


@dataclass(frozen=True)
class SchemaStatus:
    database: str
    current: str | None
    head: str
    #: False when the database is at a revision this tradestore does not know (newer code).
    known: bool
    #: Revisions ``db upgrade`` would apply, oldest first.
    pending: tuple[Revision, ...]
    #: Newest first.
    history: tuple[HistoryEntry, ...]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(database: Database, *, history_limit: int = 10) -> SchemaStatus:
    scripts = script_directory()
    head = head_revision()
    with read_connection(database) as connection:
        heads = current_heads(connection)
        current = heads[0] if heads else None
        known = current is None or _is_known(current)
        history: list[HistoryEntry] = []
        if history_limit > 0 and inspect(connection).has_table(MigrationHistory.__tablename__):
            rows = connection.execute(
                select(
                    MigrationHistory.migration_id,
                    MigrationHistory.migration_name,
                    MigrationHistory.status,
                    MigrationHistory.applied_at,
                    MigrationHistory.duration_seconds,
                    MigrationHistory.error_message,
                )
                .order_by(MigrationHistory.applied_at.desc(), MigrationHistory.history_id.desc())
                .limit(history_limit)
            )
            history = [
                HistoryEntry(
                    migration_id=row.migration_id,
                    migration_name=row.migration_name,
                    status=str(row.status),
                    applied_at=row.applied_at,
                    duration_seconds=row.duration_seconds,
                    error_message=row.error_message,
                )
                for row in rows
            ]
    pending: list[Revision] = []
    if known:
        lower = current if current is not None else "base"
        for script in scripts.iterate_revisions(head, lower):
            if script.revision != current:
                pending.append(Revision(script.revision, script.doc or ""))
        pending.reverse()
    return SchemaStatus(
        database=database.safe_url,
        current=current,
        head=head,
        known=known,
        pending=tuple(pending),
        history=tuple(history),
    )


def _is_known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script_directory().get_revision(revision) is not None
    except (CommandError, KeyError, ValueError):
        return False
