"""Time partitions of the history tables on PostgreSQL: list them, create them ahead, change
how new ones are cut (``tradestore partitions ...``).

Revision 0016 creates the current interval's partition and three ahead; after that a
partition must exist before the first row of its interval arrives, or rows collect in the
``DEFAULT`` partition (nothing is refused, but retention cannot drop them whole and each
later ``ensure`` moves them). ``ensure_partitions`` is idempotent and cheap: run it from cron
(daily is plenty for monthly partitions) or let ``tradestore maintain`` run it. On SQLite, and
on a PostgreSQL database upgraded with ``partitioning=none``, there is nothing partitioned:
listing returns nothing and ``ensure`` creates nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from tradestore.database import Database
from tradestore.db import partitioning
from tradestore.db.partitioning import INTERVALS, Partition, Policy
from tradestore.errors import ValidationError
from tradestore.ops._common import read_connection

__all__ = [
    "Partition",
    "PartitionsReport",
    "Policy",
    "ensure_partitions",
    "list_partitions",
    "set_partition_policy",
]


@dataclass(frozen=True)
class PartitionsReport:
    #: How each partitioned table is cut (empty where nothing is partitioned).
    policies: tuple[Policy, ...] = ()
    #: Every partition, per table in range order, each default partition last.
    partitions: tuple[Partition, ...] = ()
    #: Partitions this call created (or, in a dry run, would create).
    created: tuple[str, ...] = ()
    dry_run: bool = False

    def rows_in_default(self) -> int:
        """The planner's estimate of rows that fell outside every range (0 when healthy)."""
        return sum(max(p.estimated_rows, 0) for p in self.partitions if p.is_default)


def _all_partitions(connection: Connection, policies: list[Policy]) -> list[Partition]:
    return [p for policy in policies for p in partitioning.partitions(connection, policy.table)]


def list_partitions(database: Database) -> PartitionsReport:
    """Every partitioned table's policy and partitions (sizes from the catalogs)."""
    database.check_schema()
    with read_connection(database) as connection:
        policies = partitioning.policies(connection)
        found = _all_partitions(connection, policies)
    return PartitionsReport(tuple(policies), tuple(found))


def ensure_partitions(
    database: Database, *, today: dt.date | None = None, dry_run: bool = False
) -> PartitionsReport:
    """Create the partitions each policy wants (the current interval, ``premake`` ahead, and
    one per interval with rows in the default partition), one transaction per table.

    ``dry_run`` creates them in a transaction it rolls back, so the names it reports are
    exactly those a real run creates. Waits at most ``db.partitioning.LOCK_TIMEOUT`` for a
    lock (then raises, having created nothing for that table).
    """
    database.check_schema()
    day = today if today is not None else database.clock().astimezone(dt.UTC).date()
    created: list[str] = []
    with database.connect() as connection:
        policies = partitioning.policies(connection)
        connection.commit()
        for policy in policies:
            created += partitioning.ensure(connection, policy, day)
            if dry_run:
                connection.rollback()
            else:
                connection.commit()
        found = _all_partitions(connection, policies)
        connection.rollback()
    return PartitionsReport(tuple(policies), tuple(found), tuple(created), dry_run)


def set_partition_policy(
    database: Database, table: str, *, interval: str | None = None, premake: int | None = None
) -> Policy:
    """Change how ``table``'s partitions are cut from now on (existing ones stay; a new
    interval's first partition starts where the last one ends)."""
    if interval is not None and interval not in INTERVALS:
        raise ValidationError("interval", interval, f"must be one of {', '.join(INTERVALS)}")
    if premake is not None and (
        isinstance(premake, bool) or not isinstance(premake, int) or not 0 <= premake <= 120
    ):
        raise ValidationError("premake", premake, "must be a whole number from 0 to 120")
    database.check_schema()
    with database.connect() as connection:
        if partitioning.policy(connection, table) is None:
            connection.rollback()
            raise ValidationError("table", table, "is not a partitioned table of this database")
        policy = partitioning.set_policy(connection, table, interval=interval, premake=premake)
        connection.commit()
    return policy
