"""migration_history: every applied, rolled-back and failed revision is recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.migrate import head_revision, known_revisions, script_location

FAILING_REVISION = '''"""Deliberately broken revision used by the test suite.

Revision ID: 9999
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO half_done (id) VALUES (1)")
    raise RuntimeError("simulated failure half way through postgresql://u:hunter2@db/x")


def downgrade() -> None:
    op.drop_table("half_done")
'''


def _history(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT migration_id, status FROM migration_history ORDER BY history_id")
        ).all()
    return [(row[0], row[1]) for row in rows]


def test_upgrade_and_downgrade_are_recorded_with_timing(fresh_url: str) -> None:
    db = Database(fresh_url, check_schema=False)
    db.upgrade()
    db.downgrade("0002")
    db.upgrade()
    revisions = sorted(known_revisions())
    later = [r for r in revisions if r > "0002"]
    assert _history(db) == [
        *[(r, "applied") for r in revisions],
        *[(r, "rolled_back") for r in reversed(later)],
        *[(r, "applied") for r in later],
    ]
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT migration_name, database_path, duration_seconds, applied_at, applied_date"
                " FROM migration_history ORDER BY history_id LIMIT 1"
            )
        ).one()
    assert row.migration_name.startswith("Bots and positions")
    assert row.duration_seconds > 0
    assert row.applied_at is not None
    assert row.applied_date is not None
    db.dispose()


def test_history_survives_downgrade_to_base(fresh_url: str) -> None:
    db = Database(fresh_url, check_schema=False)
    db.upgrade()
    db.downgrade("base")
    tables = set(inspect(db.engine).get_table_names())
    assert "migration_history" in tables
    assert "positions" not in tables
    assert [status for _, status in _history(db)][-3:] == ["rolled_back"] * 3
    db.dispose()


def test_failed_revision_is_rolled_back_and_recorded(fresh_url: str, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(script_location(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_broken.py").write_text(
        FAILING_REVISION.format(head=head_revision())
    )
    db = Database(fresh_url, check_schema=False)
    with db.engine.connect() as conn:
        config = Config()
        config.set_main_option("script_location", str(scripts))
        config.attributes["connection"] = conn
        with pytest.raises(RuntimeError, match="simulated failure"):
            command.upgrade(config, "head")
    # the revisions before it committed; the broken one left nothing behind
    assert db.current_revision() == head_revision()
    assert "half_done" not in set(inspect(db.engine).get_table_names())
    history = _history(db)
    assert history[-1] == ("9999", "failed")
    with db.engine.connect() as conn:
        error = conn.execute(
            text("SELECT error_message FROM migration_history WHERE status = 'failed'")
        ).scalar_one()
    assert "simulated failure" in error
    assert "hunter2" not in error
    db.dispose()
