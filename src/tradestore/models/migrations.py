"""The audit log of schema changes (migration_history).

Unlike the domain tables it is not created by a revision: Alembic's env.py creates it before
the first revision runs, so it can record that revision, and a downgrade to base keeps it (an
audit log that deletes itself on rollback would be no log). Rows are appended, never updated.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import Real, enum_column
from tradestore.domain.enums import MigrationStatus
from tradestore.models.base import Base, BigIntPK


class MigrationHistory(Base):
    __tablename__ = "migration_history"

    history_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    #: The Alembic revision id, e.g. ``0001``.
    migration_id: Mapped[str] = mapped_column(String(64))
    migration_name: Mapped[str] = mapped_column(String(200))
    #: Where it ran, password masked (one database, so one URL).
    database_path: Mapped[str] = mapped_column(String(500))
    applied_at: Mapped[dt.datetime]
    applied_date: Mapped[dt.date] = mapped_column(Date)
    duration_seconds: Mapped[float | None] = mapped_column(Real())
    status: Mapped[MigrationStatus] = mapped_column(enum_column(MigrationStatus, "status"))
    error_message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("idx_migration_history_applied_at", "applied_at"),)
