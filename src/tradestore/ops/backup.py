"""Backups that are consistent, compressed, private and verified.

SQLite goes through the online backup API, never a file copy: a copy of a WAL database taken
while a bot writes can miss committed transactions still in the ``-wal`` file or catch pages
mid-write. The backup runs inside one read transaction on the source connection, which pins a
WAL snapshot: every transaction committed before the backup started is in it, none that
commits later is, and the bot is never blocked. (Without the pinned snapshot SQLite restarts a
stepwise backup whenever another connection writes, so a busy bot would starve it.) The copy
is gzip-compressed, then decompressed again and checked: same bytes (SHA-256) and
``PRAGMA integrity_check`` = ok.

PostgreSQL goes through ``pg_dump --format=custom`` (a consistent snapshot by construction),
then ``pg_restore --list`` (the table of contents is readable and names tradestore's version
table) and a full ``pg_restore`` into /dev/null (every data block decompresses).

Every file is written under a temporary name with mode 0600 and renamed into place only after
it verified, so a file with a backup's name is always a complete, verified backup. Beside it
goes ``<name>.sha256`` (``sha256sum -c`` format): restore and ``verify_backup`` check it
first, which catches damage the structural checks cannot see (a pg_dump's table of contents
is plain text without a checksum). Old backups of the same database are pruned by age, with
their sidecars, and only after the new one succeeded.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import re
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from tradestore.config import sqlite_path
from tradestore.database import Database
from tradestore.errors import BackupError, CorruptBackup, InsufficientSpace, ValidationError
from tradestore.migrate import VERSION_TABLE
from tradestore.ops import _pgtools
from tradestore.ops._common import (
    Progress,
    create_private_file,
    no_progress,
    open_private,
    publish,
    read_connection,
    remove_quietly,
    remove_sqlite_files,
)
from tradestore.ops._space import (
    disk_full,
    free_bytes,
    headroom,
    insufficient,
    is_disk_full,
    require_space,
)
from tradestore.ops.schema_objects import dump_objects, foreign, sqlite_file_objects

DEFAULT_BACKUP_DIR = Path("data/backups")
SQLITE_SUFFIX = ".db.gz"
POSTGRES_SUFFIX = ".dump"
#: Pages copied per step of the SQLite backup (4 MiB at the default page size): the
#: granularity of the progress bar; the snapshot is pinned, so steps cost nothing else.
PAGES_PER_STEP = 1024
#: gzip level 6 (gzip's own default): within a few percent of level 9's size on database
#: pages, at a fraction of its time.
COMPRESS_LEVEL = 6
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_PGDMP_MAGIC = b"PGDMP"
_NAME = re.compile(
    r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<label>[a-z0-9-]+))?(?:\.(?P<n>\d+))?"
    r"(?P<suffix>\.db\.gz|\.dump)$"
)
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class BackupInfo:
    """What verification learned about a backup file."""

    path: Path
    backend: str
    size_bytes: int
    #: The tradestore revision stored in the backup, None when it holds no tradestore schema.
    revision: str | None
    #: SQLite: the uncompressed database size; PostgreSQL: None.
    database_bytes: int | None
    #: Schema objects in the backup that tradestore did not create (triggers, rules, views,
    #: functions, tables, indexes, constraints): restore refuses such a backup.
    foreign_objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class BackupResult:
    backup: BackupInfo
    created_at: dt.datetime
    seconds: float
    #: Older backups of the same database removed by ``keep_days``.
    pruned: tuple[Path, ...]


def backup_database(
    database: Database,
    *,
    directory: Path | str = DEFAULT_BACKUP_DIR,
    keep_days: int | None = 30,
    label: str | None = None,
    progress: Progress = no_progress,
    pg_bin: Path | str | None = None,
    pages_per_step: int = PAGES_PER_STEP,
) -> BackupResult:
    """Write a verified backup of ``database`` into ``directory``; prune old ones.

    ``keep_days``: backups of the same database older than this many days are deleted after
    the new one verified (None or 0 keeps everything). ``label`` tags the file name, e.g.
    ``pre-restore`` for the safety backup ``restore`` takes.
    """
    if keep_days is not None and keep_days < 0:
        raise ValidationError("keep_days", keep_days, "must be >= 0 (0 keeps every backup)")
    if label is not None and not re.fullmatch(r"[a-z0-9-]+", label):
        raise ValidationError("label", label, "only lowercase letters, digits and '-'")
    folder = Path(directory)
    _ensure_directory(folder)
    started = time.monotonic()
    created_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stem = backup_stem(database)
    if database.dialect_name == "sqlite":
        final = _unique_name(folder, stem, created_at, label, SQLITE_SUFFIX)
        info = _backup_sqlite(database, final, progress, pages_per_step)
    elif database.dialect_name == "postgresql":
        final = _unique_name(folder, stem, created_at, label, POSTGRES_SUFFIX)
        info = _backup_postgres(database, final, progress, pg_bin)
    else:  # pragma: no cover - config.parse_url admits only the two
        raise BackupError(f"cannot back up a {database.dialect_name} database")
    pruned = prune_backups(folder, stem=stem, keep_days=keep_days, now=created_at, keep={final})
    return BackupResult(
        backup=info, created_at=created_at, seconds=time.monotonic() - started, pruned=pruned
    )


def backup_stem(database: Database) -> str:
    """The file-name prefix of this database's backups: the SQLite file's or the PG db's name."""
    if database.dialect_name == "sqlite":
        path = sqlite_path(database.url)
        raw = path.name.split(".")[0] if path is not None else "memory"
    else:
        raw = database.url.database or "postgres"
    return re.sub(r"[^A-Za-z0-9_.]+", "_", raw) or "tradestore"


def prune_backups(
    directory: Path | str,
    *,
    stem: str,
    keep_days: int | None,
    now: dt.datetime | None = None,
    keep: set[Path] | None = None,
) -> tuple[Path, ...]:
    """Delete backups of ``stem`` whose time stamp (in the name) is older than ``keep_days``.

    Only files named like tradestore's backups of that database are considered; anything
    else in the directory is never touched.
    """
    if not keep_days or not Path(directory).is_dir():
        # no directory yet: no backup was ever written there, so none is old
        return ()
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
    kept = {path.resolve() for path in keep or set()}
    removed: list[Path] = []
    for path in sorted(Path(directory).iterdir()):
        match = _NAME.match(path.name)
        if match is None or match["stem"] != stem or not path.is_file():
            continue
        stamp = dt.datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=dt.UTC)
        if stamp < cutoff and path.resolve() not in kept:
            path.unlink()
            remove_quietly(checksum_path(path))
            removed.append(path)
    return tuple(removed)


def backup_kind(path: Path | str) -> str:
    """ "sqlite" (gzip) or "postgresql" (custom-format dump), by the file's magic bytes."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            head = handle.read(5)
    except FileNotFoundError:
        raise BackupError(f"backup file {file} does not exist") from None
    if head.startswith(_GZIP_MAGIC):
        return "sqlite"
    if head.startswith(_PGDMP_MAGIC):
        return "postgresql"
    raise CorruptBackup(
        f"{file} is neither a gzip-compressed SQLite backup nor a pg_dump custom-format file"
    )


def verify_backup(
    path: Path | str,
    *,
    work_dir: Path | str | None = None,
    progress: Progress = no_progress,
    pg_bin: Path | str | None = None,
) -> BackupInfo:
    """Check an existing backup file; raise CorruptBackup if it is damaged.

    SQLite backups are decompressed into ``work_dir`` (default: beside the file) and checked
    with ``integrity_check``; PostgreSQL dumps are read completely by pg_restore.
    """
    file = Path(path)
    kind = backup_kind(file)
    check_checksum(file)
    if kind == "sqlite":
        scratch, info = inflate_sqlite_backup(
            file, Path(work_dir) if work_dir else file.parent, progress
        )
        remove_sqlite_files(scratch)
        return info
    return verify_postgres_dump(file, progress=progress, pg_bin=pg_bin)


# --- SQLite --------------------------------------------------------------------------------------


def _backup_sqlite(
    database: Database, final: Path, progress: Progress, pages_per_step: int
) -> BackupInfo:
    source_path = sqlite_path(database.url)
    if source_path is None:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    if not source_path.is_file():
        raise BackupError(f"database file {source_path} does not exist")
    token = uuid.uuid4().hex[:8]
    raw = final.with_name(f".{final.name}.{token}.db.tmp")
    partial = final.with_name(f".{final.name}.{token}.partial")
    # The uncompressed copy comes first: the database's size is the least the backup needs.
    require_space(final.parent, source_path.stat().st_size, f"back up {source_path}")
    try:
        create_private_file(raw)
        copy_sqlite(source_path, raw, progress=progress, pages_per_step=pages_per_step)
        digest, database_bytes = _compress(raw, partial, progress)
        remove_sqlite_files(raw)
        scratch, info = inflate_sqlite_backup(
            partial, final.parent, progress, expected_sha256=digest
        )
        remove_sqlite_files(scratch)
        _publish_with_checksum(partial, final)
    except InsufficientSpace:
        raise
    except CorruptBackup as exc:
        raise BackupError(f"the new backup failed verification and was deleted: {exc}") from None
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(final.parent, f"back up {source_path}") from None
        raise
    finally:
        # Every artifact of this attempt, including the -journal SQLite leaves beside the
        # uncompressed copy when a step fails (a full disk) and the checksum's partial.
        remove_sqlite_files(raw)
        remove_quietly(partial, partial.with_name(partial.name + ".sha256"))
    return BackupInfo(
        path=final,
        backend="sqlite",
        size_bytes=final.stat().st_size,
        revision=info.revision,
        database_bytes=database_bytes,
        foreign_objects=info.foreign_objects,
    )


def copy_sqlite(
    source: Path,
    target: Path,
    *,
    progress: Progress = no_progress,
    pages_per_step: int = PAGES_PER_STEP,
    busy_timeout: float = 30.0,
    phase: str = "copying pages",
) -> None:
    """Copy ``source`` into ``target`` with the online backup API from one pinned snapshot."""
    source_conn = sqlite3.connect(source, timeout=busy_timeout, isolation_level=None)
    try:
        source_conn.execute("BEGIN")
        # The first read opens the transaction's WAL snapshot; the backup then reads from it.
        source_conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        target_conn = sqlite3.connect(target, timeout=busy_timeout, isolation_level=None)
        try:

            def step(_status: int, remaining: int, total: int) -> None:
                progress(phase, total - remaining, total)

            source_conn.backup(target_conn, pages=pages_per_step, progress=step)
            # A self-contained file: no -wal/-shm beside the artifact.
            target_conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            target_conn.close()
        source_conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        if is_disk_full(exc):
            raise disk_full(target.parent, f"copy {source}") from None
        raise BackupError(f"SQLite backup of {source} failed: {exc}") from None
    finally:
        source_conn.close()


def _compress(raw: Path, partial: Path, progress: Progress) -> tuple[str, int]:
    total = raw.stat().st_size
    digest = hashlib.sha256()
    done = 0
    with (
        raw.open("rb") as source,
        open_private(partial) as sink,
        gzip.GzipFile(
            filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=COMPRESS_LEVEL
        ) as compressed,
    ):
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            compressed.write(chunk)
            done += len(chunk)
            progress("compressing", done, total)
    return digest.hexdigest(), total


def inflate_sqlite_backup(
    path: Path,
    work_dir: Path,
    progress: Progress = no_progress,
    *,
    expected_sha256: str | None = None,
) -> tuple[Path, BackupInfo]:
    """Decompress a SQLite backup into ``work_dir`` and check it; return the file and its info.

    The caller owns (and deletes, with ``remove_sqlite_files``) the decompressed file. Any
    damage raises CorruptBackup and leaves nothing behind. Too little free space in
    ``work_dir`` raises InsufficientSpace: before unpacking when the size the gzip file
    announces does not fit, and while unpacking as soon as the output would eat into the
    headroom kept for the live database (the announced size can be forged: a gzip bomb).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    scratch = work_dir / f".{path.name}.{uuid.uuid4().hex[:8]}.verify.tmp"
    what = f"unpack {path.name}"
    try:
        total = path.stat().st_size
        free = free_bytes(work_dir)
    except FileNotFoundError:
        raise BackupError(f"backup file {path} does not exist") from None
    budget = free - headroom(free)
    announced = _announced_size(path)
    if announced is not None and announced > budget:
        raise insufficient(work_dir, what, needed=announced, free=free)
    digest = hashlib.sha256()
    written = 0
    try:
        with (
            path.open("rb") as raw,
            gzip.GzipFile(fileobj=raw, mode="rb") as source,
            open_private(scratch) as sink,
        ):
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise insufficient(work_dir, what, needed=written, free=free, at_least=True)
                digest.update(chunk)
                sink.write(chunk)
                progress("verifying", raw.tell(), total)
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise CorruptBackup(f"{path}: decompressed bytes differ from the database copy")
        revision, foreign_objects = _check_sqlite_file(path, scratch)
    except (OSError, EOFError, zlib.error) as exc:
        remove_sqlite_files(scratch)
        if isinstance(exc, FileNotFoundError):
            raise BackupError(f"backup file {path} does not exist") from None
        if is_disk_full(exc):
            raise disk_full(work_dir, what, needed=written) from None
        raise CorruptBackup(f"{path} is damaged: {exc}") from None
    except BaseException:
        remove_sqlite_files(scratch)
        raise
    info = BackupInfo(
        path=path,
        backend="sqlite",
        size_bytes=total,
        revision=revision,
        database_bytes=scratch.stat().st_size,
        foreign_objects=foreign_objects,
    )
    return scratch, info


def _announced_size(path: Path) -> int | None:
    """The uncompressed size a gzip file's trailer states (modulo 2**32): a hint, not a fact."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < 18:  # smaller than an empty gzip member: damaged, found later
                return None
            handle.seek(-4, os.SEEK_END)
            return int.from_bytes(handle.read(4), "little")
    except OSError:
        return None


def _check_sqlite_file(label: Path, file: Path) -> tuple[str | None, tuple[str, ...]]:
    if file.stat().st_size == 0:
        raise CorruptBackup(f"{label} holds an empty file, not a database")
    try:
        connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise CorruptBackup(f"{label} cannot be opened as SQLite: {exc}") from None
    try:
        result = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise CorruptBackup(f"{label} fails integrity_check: {'; '.join(result[:3])}")
        foreign_objects = tuple(str(item) for item in foreign(sqlite_file_objects(connection)))
        has_version = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
        ).fetchone()
        if not has_version:
            return None, foreign_objects
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608 - our constant
        return (str(row[0]) if row else None), foreign_objects
    except sqlite3.DatabaseError as exc:
        raise CorruptBackup(f"{label} is not a valid SQLite database: {exc}") from None
    finally:
        connection.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


def _backup_postgres(
    database: Database, final: Path, progress: Progress, pg_bin: Path | str | None
) -> BackupInfo:
    # Refused through a PgBouncer before anything runs (the URL or the Database says it).
    target = _pgtools.target(database.url, pgbouncer=database.pgbouncer)
    pg_dump = _pgtools.find_tool("pg_dump", pg_bin)
    _pgtools.find_tool("pg_restore", pg_bin)  # needed to verify: fail before dumping
    with read_connection(database) as connection:
        tables = int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
        )
    partial = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.partial")
    dumped = 0
    progress("dumping tables", 0, tables)

    def on_line(line: str) -> None:
        nonlocal dumped
        if "dumping contents of table" in line:
            dumped += 1
            progress("dumping tables", dumped, max(tables, dumped))

    try:
        try:
            create_private_file(partial)
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full(final.parent, "write the dump") from None
            raise
        _run_dump(
            [
                pg_dump,
                "--format=custom",
                "--verbose",
                f"--file={partial}",
                f"--dbname={target.conninfo}",
            ],
            env=target.env,
            on_stderr_line=on_line,
            folder=final.parent,
        )
        os.chmod(partial, 0o600)
        info = verify_postgres_dump(partial, progress=progress, pg_bin=pg_bin)
        _publish_with_checksum(partial, final)
    except CorruptBackup as exc:
        raise BackupError(f"the new backup failed verification and was deleted: {exc}") from None
    finally:
        remove_quietly(partial)
    return BackupInfo(
        path=final,
        backend="postgresql",
        size_bytes=final.stat().st_size,
        revision=info.revision,
        database_bytes=None,
        foreign_objects=info.foreign_objects,
    )


def _run_dump(
    command: list[str],
    *,
    env: Mapping[str, str],
    on_stderr_line: Callable[[str], None],
    folder: Path,
) -> None:
    """pg_dump; its "No space left on device" becomes InsufficientSpace, not a vague failure."""
    try:
        _pgtools.run(command, env=env, on_stderr_line=on_stderr_line)
    except BackupError as exc:
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            raise disk_full(folder, "write the dump") from None
        raise


def verify_postgres_dump(
    path: Path, *, progress: Progress = no_progress, pg_bin: Path | str | None = None
) -> BackupInfo:
    """pg_restore --list, then a full read into /dev/null; CorruptBackup if either fails."""
    pg_restore = _pgtools.find_tool("pg_restore", pg_bin)
    if backup_kind(path) != "postgresql":
        raise CorruptBackup(f"{path} is not a pg_dump custom-format file")
    try:
        listing = _pgtools.run([pg_restore, "--list", str(path)])
    except BackupError as exc:
        raise CorruptBackup(f"{path}: table of contents unreadable ({exc})") from None
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    has_version = any(
        " TABLE DATA " in line and line.split()[-2] == VERSION_TABLE for line in entries
    )
    done = 0
    progress("verifying", 0, len(entries))

    def on_line(_line: str) -> None:
        nonlocal done
        done += 1
        progress("verifying", min(done, len(entries)), len(entries))

    try:
        _pgtools.run(
            [pg_restore, "--verbose", f"--file={os.devnull}", str(path)], on_stderr_line=on_line
        )
    except BackupError as exc:
        raise CorruptBackup(f"{path}: data unreadable ({exc})") from None
    progress("verifying", len(entries), len(entries))
    revision = _postgres_dump_revision(pg_restore, path) if has_version else None
    return BackupInfo(
        path=path,
        backend="postgresql",
        size_bytes=path.stat().st_size,
        revision=revision,
        database_bytes=None,
        foreign_objects=tuple(str(item) for item in foreign(dump_objects(listing))),
    )


def _postgres_dump_revision(pg_restore: str, path: Path) -> str | None:
    try:
        script = _pgtools.run(
            [pg_restore, "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(path)]
        )
    except BackupError as exc:
        raise CorruptBackup(f"{path}: cannot read the stored revision ({exc})") from None
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith("COPY ") and VERSION_TABLE in line:
            value = next(lines, "\\.")
            return None if value == "\\." else value.split("\t")[0]
    return None


# --- files ---------------------------------------------------------------------------------------


def checksum_path(path: Path) -> Path:
    """The ``sha256sum``-format sidecar of a backup: ``<name>.sha256``."""
    return path.with_name(path.name + ".sha256")


def check_checksum(path: Path) -> bool:
    """Compare a backup with its ``.sha256`` sidecar; CorruptBackup on a mismatch.

    Returns False when there is no sidecar (a backup copied without it): then only the
    structural checks stand between a damaged file and a restore. For a pg_dump file that
    matters: its table of contents (the DDL) is stored as plain text without a checksum, so
    a flipped bit there can pass ``pg_restore --list``.
    """
    sidecar = checksum_path(path)
    if not sidecar.is_file():
        return False
    recorded = sidecar.read_text(encoding="utf-8").split()
    actual = _sha256(path)
    if not recorded or recorded[0].lower() != actual:
        raise CorruptBackup(f"{path} does not match its checksum in {sidecar.name}")
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _publish_with_checksum(partial: Path, final: Path) -> None:
    """Move a verified backup into place, its checksum sidecar first.

    A backup file under its final name therefore always has its sidecar beside it.
    """
    sidecar_partial = partial.with_name(partial.name + ".sha256")
    try:
        with open_private(sidecar_partial) as handle:
            handle.write(f"{_sha256(partial)}  {final.name}\n".encode())
        publish(sidecar_partial, checksum_path(final))
    finally:
        remove_quietly(sidecar_partial)
    publish(partial, final)


def _ensure_directory(folder: Path) -> None:
    if folder.is_dir():
        return
    if folder.exists():
        raise BackupError(f"backup directory {folder} exists and is not a directory")
    folder.mkdir(parents=True, mode=0o700)


def _unique_name(
    folder: Path, stem: str, created_at: dt.datetime, label: str | None, suffix: str
) -> Path:
    base = f"{stem}-{created_at.strftime(_STAMP)}" + (f"-{label}" if label else "")
    candidate = folder / f"{base}{suffix}"
    counter = 1
    while candidate.exists():
        candidate = folder / f"{base}.{counter}{suffix}"
        counter += 1
    return candidate
