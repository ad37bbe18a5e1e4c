"""Operations on a whole database, as a Python API (the ``tradestore`` command is built on it).

One module per operation: ``status`` (migration status), ``verify``, ``backup``, ``restore``,
``pitr`` (WAL archiving, base backups, restore to a point in time on PostgreSQL),
``retention`` (prune), ``partitions`` (time partitions on PostgreSQL), ``totals``
(rebuilding the running totals), ``maintain`` (vacuum, analyze, reindex), ``stats`` and
``export``. None of them prints; long ones accept a
``progress(phase, done, total)`` callback. The functions are named apart from their modules
(``verify_database`` in ``ops.verify``) so that neither shadows the other.

    from tradestore import Database
    from tradestore.ops import backup_database, verify_database

    db = Database.from_env(check_schema=False)
    report = verify_database(db)
    result = backup_database(db, directory="data/backups", keep_days=30)
"""

from tradestore.ops._common import Progress
from tradestore.ops.backup import (
    BackupInfo,
    BackupResult,
    backup_database,
    prune_backups,
    verify_backup,
)
from tradestore.ops.export import ExportResult, export_table
from tradestore.ops.maintain import MaintenanceReport, MaintenanceStep, maintain_database
from tradestore.ops.partitions import (
    PartitionsReport,
    ensure_partitions,
    list_partitions,
    set_partition_policy,
)
from tradestore.ops.pitr import (
    BaseBackupInfo,
    PitrRestore,
    archive_settings,
    archive_state,
    base_backup,
    restore_to_time,
)
from tradestore.ops.restore import RestoreResult, restore_database
from tradestore.ops.retention import PruneReport, prune
from tradestore.ops.stats import DatabaseStats, IndexStats, TableStats, database_stats, row_counts
from tradestore.ops.status import SchemaStatus, schema_status
from tradestore.ops.totals import TotalsReport, rebuild_totals
from tradestore.ops.verify import Check, VerifyReport, verify_database

__all__ = [
    "BackupInfo",
    "BackupResult",
    "BaseBackupInfo",
    "Check",
    "DatabaseStats",
    "ExportResult",
    "IndexStats",
    "MaintenanceReport",
    "MaintenanceStep",
    "PartitionsReport",
    "PitrRestore",
    "Progress",
    "PruneReport",
    "RestoreResult",
    "SchemaStatus",
    "TableStats",
    "TotalsReport",
    "VerifyReport",
    "archive_settings",
    "archive_state",
    "backup_database",
    "base_backup",
    "database_stats",
    "ensure_partitions",
    "export_table",
    "list_partitions",
    "maintain_database",
    "prune",
    "prune_backups",
    "rebuild_totals",
    "restore_database",
    "restore_to_time",
    "row_counts",
    "schema_status",
    "set_partition_policy",
    "verify_backup",
    "verify_database",
]
