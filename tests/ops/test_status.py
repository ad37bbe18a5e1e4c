from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, text

from tradestore import Database
from tradestore.migrate import VERSION_TABLE, head_revision, known_revisions
from tradestore.models import MigrationHistory
from tradestore.ops.status import schema_status

#: Every revision, oldest first.
REVISIONS = sorted(known_revisions())


def test_at_head(db: Database) -> None:
    status = schema_status(db, history_limit=100)  # more revisions than the default shows
    assert status.current == status.head == head_revision()
    assert status.known
    assert status.up_to_date
    assert status.pending == ()
    applied = [entry.migration_id for entry in status.history if entry.status == "applied"]
    assert applied == sorted(applied, reverse=True)  # newest first
    assert applied[-1] == "0001"


def test_behind_head_lists_pending_oldest_first(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0001")
        status = schema_status(database, history_limit=1)
        assert status.current == "0001"
        assert not status.up_to_date
        assert [p.revision for p in status.pending] == REVISIONS[1:]
        assert status.pending[0].description.startswith("Trading")
        assert [entry.migration_id for entry in status.history] == ["0001"]
    finally:
        database.dispose()


def test_empty_database(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        status = schema_status(database)
        assert status.current is None
        assert [p.revision for p in status.pending] == REVISIONS
        assert status.history == ()
    finally:
        database.dispose()


def test_failures_show_with_their_error(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        with database.engine.begin() as conn:
            conn.execute(
                insert(MigrationHistory),
                {
                    "migration_id": "0004",
                    "migration_name": "views",
                    "database_path": "x",
                    "applied_at": later,
                    "applied_date": later.date(),
                    "duration_seconds": 0.5,
                    "status": "failed",
                    "error_message": "OperationalError: boom\nsecond line",
                },
            )
        newest = schema_status(database).history[0]
        assert (newest.migration_id, newest.status) == ("0004", "failed")
        assert newest.error_message is not None
        assert newest.error_message.startswith("OperationalError: boom")
    finally:
        database.dispose()


def test_revision_unknown_to_this_code(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade()
        with database.engine.begin() as conn:
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
        status = schema_status(database)
        assert status.current == "9999"
        assert not status.known
        assert not status.up_to_date
        assert status.pending == ()
    finally:
        database.dispose()
