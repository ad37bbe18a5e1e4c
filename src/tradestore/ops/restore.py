"""Restore a backup over the current database, safely (what bot projects call ``restore_database``).

The order is what makes it safe:

1. the backup file is verified completely: its ``.sha256`` sidecar when present, then
   (SQLite) decompressed and ``integrity_check`` or (PostgreSQL) ``pg_restore --list`` and a
   full read; it must hold a tradestore revision this code knows. A damaged file is refused
   here, before anything was touched;
2. a safety backup of the current database is written and verified (label ``pre-restore``);
3. the backup replaces the database's content atomically:

   * SQLite: the decompressed copy is written into the live file with the online backup API.
     SQLite takes the write lock, writes through its own journal and commits once, so a crash
     leaves either the old or the new database, never a mix; connections that other
     processes hold open see the new content on their next transaction (the schema cookie
     changes). Replacing the file instead (``os.replace``) would leave those connections on
     the old, now unlinked inode (a running bot would keep writing into a file nobody reads)
     and would have to delete ``-wal``/``-shm`` files that may hold frames of the old
     database: a stale WAL replayed over a new file corrupts it;
   * PostgreSQL: ``pg_restore --clean --if-exists`` as a script into one ``psql
     --single-transaction``: all or nothing (the script's clean step without the drops a
     partitioned table refuses, see ``clean_partition_drops``). ``lock_timeout`` makes it
     fail instead of waiting forever for a bot that holds locks;

4. ``verify`` runs and the row counts are reported.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tradestore.config import sqlite_path
from tradestore.database import Database
from tradestore.db import partitioning
from tradestore.errors import BackupError, CorruptBackup, InsufficientSpace
from tradestore.migrate import script_directory
from tradestore.ops import _pgtools
from tradestore.ops._common import Progress, no_progress, remove_sqlite_files
from tradestore.ops._space import disk_full, is_disk_full, require_space
from tradestore.ops.backup import (
    DEFAULT_BACKUP_DIR,
    PAGES_PER_STEP,
    BackupInfo,
    backup_database,
    backup_kind,
    check_checksum,
    inflate_sqlite_backup,
    verify_postgres_dump,
)
from tradestore.ops.stats import row_counts
from tradestore.ops.verify import VerifyReport, verify_database

#: How long the PostgreSQL restore waits for a lock held by another session before failing.
DEFAULT_LOCK_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class RestoreResult:
    source: BackupInfo
    #: The verified backup of the database as it was before the restore (None if skipped).
    safety_backup: Path | None
    verify: VerifyReport
    row_counts: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.verify.ok


def restore_database(
    database: Database,
    path: Path | str,
    *,
    backup_dir: Path | str = DEFAULT_BACKUP_DIR,
    safety_backup: bool = True,
    progress: Progress = no_progress,
    pg_bin: Path | str | None = None,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
) -> RestoreResult:
    """Replace ``database``'s content with the backup at ``path`` (see the module docstring).

    Raises CorruptBackup (nothing touched) for a damaged file, BackupError for a backup of
    the wrong backend, of an unknown revision, or when the safety backup fails.
    """
    started = time.monotonic()
    source = Path(path)
    kind = backup_kind(source)
    check_checksum(source)
    if kind != database.dialect_name:
        raise BackupError(
            f"{source} is a {_label(kind)} backup but {database.safe_url} is "
            f"{_label(database.dialect_name)}: use `tradestore export` to move data between them"
        )
    if kind == "sqlite":
        live = sqlite_path(database.url)
        if live is None:
            raise BackupError("cannot restore into an in-memory SQLite database")
        scratch, info = inflate_sqlite_backup(source, live.parent, progress)
        try:
            _require_known_revision(source, info)
            _require_tradestore_objects(source, info)
            _require_restore_space(live, info)
            safety = _safety_backup(database, backup_dir, safety_backup, progress, pg_bin)
            database.dispose()
            _restore_sqlite(scratch, live, progress)
        finally:
            remove_sqlite_files(scratch)
    else:
        # Refused through a PgBouncer before anything runs (the URL or the Database says it).
        target = _pgtools.target(
            database.url, lock_timeout_ms=lock_timeout_ms, pgbouncer=database.pgbouncer
        )
        pg_restore = _pgtools.find_tool("pg_restore", pg_bin)
        info = verify_postgres_dump(source, progress=progress, pg_bin=pg_bin)
        _require_known_revision(source, info)
        _require_tradestore_objects(source, info)
        safety = _safety_backup(database, backup_dir, safety_backup, progress, pg_bin)
        database.dispose()
        _restore_postgres(source, pg_restore, progress, target)
    database.dispose()
    report = verify_database(database)
    counts = row_counts(database)
    return RestoreResult(
        source=info,
        safety_backup=safety,
        verify=report,
        row_counts=counts,
        seconds=time.monotonic() - started,
    )


def _label(backend: str) -> str:
    return "PostgreSQL" if backend == "postgresql" else "SQLite"


def _require_known_revision(source: Path, info: BackupInfo) -> None:
    if info.revision is None:
        raise BackupError(f"{source} holds no tradestore schema (no revision): not restored")
    from alembic.util import CommandError

    try:
        script_directory().get_revision(info.revision)
    except CommandError:
        raise BackupError(
            f"{source} is at revision {info.revision!r}, which this tradestore does not know: "
            "upgrade the tradestore package first"
        ) from None


def _require_tradestore_objects(source: Path, info: BackupInfo) -> None:
    """A backup carrying a trigger, rule, view, function, table or index that tradestore's
    migrations did not create is refused: once restored it would run inside tradestore's own
    statements (a trigger on ``fills`` that deletes orders) while every check still passes."""
    if not info.foreign_objects:
        return
    shown = ", ".join(info.foreign_objects[:10])
    more = f" (and {len(info.foreign_objects) - 10} more)" if len(info.foreign_objects) > 10 else ""
    raise BackupError(
        f"{source} holds {len(info.foreign_objects)} schema objects tradestore did not create: "
        f"{shown}{more}; not restored (nothing was changed)"
    )


def _require_restore_space(live: Path, info: BackupInfo) -> None:
    """The online backup writes every page of the restored database into the live file's WAL
    (then checkpoints it into the file, which grows if the backup is larger): that much must
    fit beside the unpacked copy, or SQLite stops half way with "database or disk is full"."""
    new = info.database_bytes or 0
    old = live.stat().st_size if live.exists() else 0
    require_space(live.parent, new + max(0, new - old), f"restore into {live}")


def _safety_backup(
    database: Database,
    backup_dir: Path | str,
    enabled: bool,
    progress: Progress,
    pg_bin: Path | str | None,
) -> Path | None:
    if not enabled:
        return None
    if database.dialect_name == "sqlite":
        live = sqlite_path(database.url)
        if live is None or not live.exists() or live.stat().st_size == 0:
            return None  # nothing to lose
    try:
        result = backup_database(
            database,
            directory=backup_dir,
            keep_days=None,
            label="pre-restore",
            progress=lambda phase, done, total: progress(f"safety backup: {phase}", done, total),
            pg_bin=pg_bin,
        )
    except InsufficientSpace as exc:
        raise InsufficientSpace(
            f"the safety backup of the current database failed, nothing was restored ({exc}); "
            "free space in the backup directory, choose another with --backup-dir, or pass "
            "--no-safety-backup",
            directory=exc.directory,
            needed=exc.needed,
            free=exc.free,
        ) from None
    except (BackupError, CorruptBackup) as exc:
        raise BackupError(
            f"the safety backup of the current database failed, nothing was restored ({exc}); "
            "pass --no-safety-backup to restore without one"
        ) from None
    return result.backup.path


def _restore_sqlite(scratch: Path, live: Path, progress: Progress) -> None:
    live.parent.mkdir(parents=True, exist_ok=True)
    created = not live.exists()
    source = sqlite3.connect(f"file:{scratch}?mode=ro", uri=True, isolation_level=None)
    try:
        target = sqlite3.connect(live, timeout=30.0, isolation_level=None)
        if created:
            os.chmod(live, 0o600)
        try:
            target.execute("PRAGMA busy_timeout=30000")

            def step(_status: int, remaining: int, total: int) -> None:
                progress("restoring pages", total - remaining, total)

            source.backup(target, pages=PAGES_PER_STEP, progress=step)
        finally:
            target.close()
    except sqlite3.Error as exc:
        if is_disk_full(exc):
            raise disk_full(live.parent, f"restore into {live} (it is unchanged)") from None
        raise BackupError(
            f"restoring into {live} failed, the database is unchanged: {exc}"
        ) from None
    finally:
        source.close()


def _restore_postgres(
    source: Path, pg_restore: str, progress: Progress, target: _pgtools.Target
) -> None:
    """``pg_restore --clean`` as a script, piped through :func:`clean_partition_drops` into
    one ``psql --single-transaction``: all or nothing, as ``pg_restore --single-transaction``
    would be, which cannot restore over partitioned tables (its clean step drops each
    partition's inherited key and indexes on their own, which PostgreSQL refuses)."""
    psql = _pgtools.find_tool("psql", Path(pg_restore).parent)
    producer_argv = [pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-", str(source)]
    consumer_argv = [
        psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
        f"--dbname={target.conninfo}", "--file=-",
    ]  # fmt: skip
    try:
        _pgtools.pipe(
            producer_argv,
            consumer_argv,
            env=target.env,
            transform=clean_partition_drops,
            on_line=lambda done: progress("restoring", done, None),
        )
    except BackupError as exc:
        raise BackupError(f"restore rolled back, the database is unchanged: {exc}") from None


_DROP_CONSTRAINT = re.compile(
    r"ALTER TABLE IF EXISTS ONLY (?:\w+\.)?\"?(?P<table>\w+)\"? DROP CONSTRAINT IF EXISTS "
)
_DROP_INDEX = re.compile(r"DROP INDEX IF EXISTS (?:\w+\.)?\"?(?P<index>\w+)\"?;")


def clean_partition_drops(lines: Iterator[str]) -> Iterator[str]:
    """A restore script without its clean step's drops of a partition's own key, checks and
    indexes: they are inherited from the partitioned table (revision 0016), go with its
    drop, and PostgreSQL refuses to drop them alone. COPY data passes through untouched."""
    in_copy = False
    for line in lines:
        if in_copy:
            in_copy = line.rstrip("\n") != "\\."
        elif line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            in_copy = True
        else:
            constraint = _DROP_CONSTRAINT.match(line)
            if constraint and partitioning.is_partition_name(constraint["table"]):
                continue
            index = _DROP_INDEX.match(line)
            if index and partitioning.is_partition_object_name(index["index"]):
                continue
        yield line
