"""How a time-partitioned table is cut (partition_policies).

On PostgreSQL revision 0016 range-partitions the history that grows without bound (fills by
``filled_at``, portfolio snapshots by ``snapshot_date``). One row per partitioned table says how
``tradestore partitions ensure`` cuts the partitions it creates from then on: the interval and
how many intervals ahead of today exist before any row needs them. The table exists on both
backends so the schema is the same everywhere; it is empty on SQLite and on a PostgreSQL
database upgraded with ``partitioning=none``, where nothing is partitioned.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.models.base import Base

#: The intervals a partition may span, named as PostgreSQL's ``date_trunc`` names them.
PARTITION_INTERVALS = ("day", "week", "month", "quarter", "year")


class PartitionPolicy(Base):
    __tablename__ = "partition_policies"

    table_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    #: The partition key: a timestamp (with time zone) or date column of ``table_name``.
    column_name: Mapped[str] = mapped_column(String(63))
    interval: Mapped[str] = mapped_column(String(16))
    #: Intervals created ahead of the current one (3 months by default).
    premake: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "interval IN ('day', 'week', 'month', 'quarter', 'year')", name="interval_known"
        ),
        CheckConstraint("premake >= 0 AND premake <= 120", name="premake_range"),
    )
