"""Point-in-time recovery on PostgreSQL: WAL archiving, base backups, restore to a moment.

``tradestore backup`` (pg_dump) restores the database as it was when the dump ran; anything
committed after it is gone. Point-in-time recovery is PostgreSQL's own answer to "restore to
just before the bad deploy": a **base backup** (a copy of the whole cluster's files, taken
online by ``pg_basebackup``) plus the **WAL archive** (every WAL segment the server
completed since, copied away by its ``archive_command``) replay to any moment after the base
backup ended. tradestore does not reinvent any of it; this module

* says what to put in ``postgresql.conf`` (``archive_settings``) and checks that the server
  is archiving before a base backup is taken (a base backup without an archive restores only
  to its own end point, which a dump already does);
* takes a base backup into a new directory (``base_backup``): ``pg_basebackup`` in plain
  format with the WAL needed for consistency streamed in, checked by ``pg_verifybackup``
  against the manifest, and a ``tradestore-base-backup.json`` beside it recording when it
  ended (the earliest time it can be restored to);
* prepares a new data directory for recovery to a time (``restore_to_time``): a copy of the
  base backup, ``restore_command`` reading the archive, ``recovery_target_time`` and
  ``recovery.signal``. Starting a server on it replays the archive up to the last commit
  before the target and then promotes it (or pauses, or shuts down:
  ``recovery_target_action``).

It works on whole clusters: every database of the server is restored to that time. The
restored cluster is started beside the live one (another port, another directory), checked,
and then swapped in or dumped from: nothing here touches the live server's data directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from tradestore.database import Database
from tradestore.errors import BackupError, ConfigurationError, ValidationError
from tradestore.ops import _pgtools
from tradestore.ops._common import Progress, no_progress, read_connection

#: The file beside a base backup's data directory that says what it is.
BASE_BACKUP_INFO = "tradestore-base-backup.json"
#: The data directory inside a base backup's directory.
BASE_BACKUP_DATA = "data"
#: What a restored server does when it reaches the target (PostgreSQL's three choices).
TARGET_ACTIONS = ("promote", "pause", "shutdown")


def archive_command(wal_archive: Path | str) -> str:
    """The ``archive_command`` that copies each completed WAL segment into ``wal_archive``.

    PostgreSQL's documented local form: ``test ! -f`` refuses to overwrite a segment already
    archived (two clusters pointed at one archive must fail loudly, not mix their WAL), and a
    non-zero exit makes the server keep the segment and try again. For an archive on another
    host use a tool built for it (pgBackRest, WAL-G, barman); ``restore_command`` changes
    with it.
    """
    folder = _quoted_dir(wal_archive)
    return f"test ! -f {folder}/%f && cp %p {folder}/%f"


def restore_command(wal_archive: Path | str) -> str:
    """The ``restore_command`` that reads segments back from ``archive_command``'s archive."""
    return f"cp {_quoted_dir(wal_archive)}/%f %p"


def archive_settings(wal_archive: Path | str) -> dict[str, str]:
    """The ``postgresql.conf`` settings for WAL archiving into ``wal_archive``.

    ``archive_mode`` needs a server restart; ``archive_command`` only a reload.
    ``archive_timeout`` bounds how long a quiet server keeps a partly filled segment: the
    commits in it are not in the archive (and cannot be recovered) until it is switched.
    """
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": archive_command(wal_archive),
        "archive_timeout": "60s",
    }


def _quoted_dir(path: Path | str) -> str:
    folder = Path(path)
    if not folder.is_absolute():
        raise ValidationError("wal_archive", str(path), "must be an absolute path")
    return shlex.quote(str(folder))


@dataclass(frozen=True)
class ArchiveState:
    """What the server says of its WAL archiving (``SHOW`` and ``pg_stat_archiver``)."""

    archive_mode: str
    archive_command: str
    wal_level: str
    last_archived_wal: str | None
    failed_count: int
    last_failed_wal: str | None

    @property
    def archiving(self) -> bool:
        return (
            self.archive_mode in ("on", "always")
            and self.archive_command not in ("", "(disabled)")
            and self.wal_level in ("replica", "logical")
        )


def archive_state(database: Database) -> ArchiveState:
    """Read the server's archiving settings and the archiver's progress."""
    _require_postgres(database, "point-in-time recovery")
    with read_connection(database) as connection:
        mode, command, level = connection.execute(
            text(
                "SELECT current_setting('archive_mode'), current_setting('archive_command'), "
                "current_setting('wal_level')"
            )
        ).one()
        archived, failed, last_failed = connection.execute(
            text("SELECT last_archived_wal, failed_count, last_failed_wal FROM pg_stat_archiver")
        ).one()
    return ArchiveState(
        archive_mode=str(mode),
        archive_command=str(command),
        wal_level=str(level),
        last_archived_wal=archived,
        failed_count=int(failed),
        last_failed_wal=last_failed,
    )


@dataclass(frozen=True)
class BaseBackupInfo:
    """A base backup: where it is and the span of time it was taken in."""

    path: Path
    started_at: dt.datetime
    #: The earliest moment it restores to: recovery must replay at least this far.
    finished_at: dt.datetime
    server_version: str
    #: The server's WAL position when the backup ended.
    end_lsn: str
    #: The archive_command the server had (what the archive is, as far as it knew).
    archive_command: str

    @property
    def data(self) -> Path:
        return self.path / BASE_BACKUP_DATA


def base_backup(
    database: Database,
    to: Path | str,
    *,
    pg_bin: Path | str | None = None,
    require_archiving: bool = True,
    progress: Progress = no_progress,
) -> BaseBackupInfo:
    """Take a verified base backup of ``database``'s server into the new directory ``to``.

    ``to`` must not exist or be empty. The connection needs the REPLICATION privilege (a
    superuser has it) and a ``replication`` line in ``pg_hba.conf``. Refused unless the
    server archives its WAL (``require_archiving=False`` takes it anyway: then it restores
    only to its own end).
    """
    _require_postgres(database, "a base backup")
    folder = _new_directory(Path(to), "to")
    pg_basebackup = _pgtools.find_tool("pg_basebackup", pg_bin)
    pg_verifybackup = _pgtools.find_tool("pg_verifybackup", pg_bin)
    state = archive_state(database)
    if require_archiving and not state.archiving:
        raise BackupError(
            f"{database.safe_url} does not archive its WAL (archive_mode={state.archive_mode}, "
            f"wal_level={state.wal_level}, archive_command={state.archive_command!r}): a base "
            "backup without the archive restores only to its own end. Set the lines "
            "`tradestore pitr setup --wal-archive DIR` prints and restart the server"
        )
    with read_connection(database) as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    target = _pgtools.target(database.url)
    started = dt.datetime.now(dt.UTC)
    data = folder / BASE_BACKUP_DATA
    progress("base backup", 0, None)
    try:
        _pgtools.run(
            [
                pg_basebackup,
                f"--dbname={target.conninfo}",
                f"--pgdata={data}",
                "--format=plain",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--label=tradestore base backup",
                "--progress",
                "--verbose",
            ],
            env=target.env,
            on_stderr_line=lambda _line: progress("base backup", 0, None),
        )
        progress("verifying", 0, None)
        _pgtools.run([pg_verifybackup, "--quiet", str(data)])
    except BackupError:
        shutil.rmtree(data, ignore_errors=True)
        raise
    with read_connection(database) as connection:
        end_lsn, finished = connection.execute(
            text("SELECT CAST(pg_current_wal_lsn() AS text), now()")
        ).one()
    info = BaseBackupInfo(
        path=folder,
        started_at=started,
        finished_at=finished.astimezone(dt.UTC),
        server_version=version,
        end_lsn=str(end_lsn),
        archive_command=state.archive_command,
    )
    _write_info(info)
    return info


def read_base_backup(path: Path | str) -> BaseBackupInfo:
    """The base backup in ``path`` (as ``base_backup`` wrote it); BackupError if it is not one."""
    folder = Path(path)
    try:
        raw = json.loads((folder / BASE_BACKUP_INFO).read_text(encoding="utf-8"))
        info = BaseBackupInfo(
            path=folder,
            started_at=dt.datetime.fromisoformat(raw["started_at"]),
            finished_at=dt.datetime.fromisoformat(raw["finished_at"]),
            server_version=str(raw["server_version"]),
            end_lsn=str(raw["end_lsn"]),
            archive_command=str(raw["archive_command"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            f"{folder} is not a tradestore base backup (no readable {BASE_BACKUP_INFO}: {exc})"
        ) from None
    if not (info.data / "backup_label").is_file():
        raise BackupError(f"{folder} has no {BASE_BACKUP_DATA}/backup_label: not a base backup")
    return info


def _write_info(info: BaseBackupInfo) -> None:
    record = {
        "started_at": info.started_at.isoformat(),
        "finished_at": info.finished_at.isoformat(),
        "server_version": info.server_version,
        "end_lsn": info.end_lsn,
        "archive_command": info.archive_command,
    }
    (info.path / BASE_BACKUP_INFO).write_text(json.dumps(record, indent=2) + "\n")


@dataclass(frozen=True)
class PitrRestore:
    """A data directory prepared for recovery to ``target_time``: start a server on it."""

    data_dir: Path
    base: BaseBackupInfo
    target_time: dt.datetime
    target_action: str
    seconds: float

    @property
    def start_command(self) -> str:
        """How to start it (on a port of its own, beside the live server)."""
        return f"pg_ctl -D {shlex.quote(str(self.data_dir))} -o '-p PORT' -l recovery.log start"


def restore_to_time(
    base: Path | str,
    *,
    wal_archive: Path | str,
    target_time: dt.datetime,
    to: Path | str,
    target_action: str = "promote",
    progress: Progress = no_progress,
) -> PitrRestore:
    """Prepare the new data directory ``to`` to recover to ``target_time`` (see the module).

    The base backup is copied (it stays reusable), the recovery settings are appended to the
    copy's ``postgresql.auto.conf`` and ``recovery.signal`` is created. Recovery stops before
    the first transaction that committed after ``target_time``. Refused: a naive
    ``target_time``, one before the base backup ended (it cannot be reached), an archive
    directory that does not exist, a ``to`` that exists and is not empty.
    """
    started = time.monotonic()
    info = read_base_backup(base)
    if target_time.tzinfo is None:
        raise ValidationError(
            "target_time", target_time, "needs a timezone: which instant is meant is unknown"
        )
    target = target_time.astimezone(dt.UTC)
    if target < info.finished_at:
        raise ValidationError(
            "target_time",
            target.isoformat(),
            f"is before the base backup ended ({info.finished_at.isoformat()}): recovery "
            "cannot stop there; use an older base backup",
        )
    if target_action not in TARGET_ACTIONS:
        raise ValidationError("target_action", target_action, f"use one of {TARGET_ACTIONS}")
    archive = Path(wal_archive)
    if not archive.is_dir():
        raise ValidationError("wal_archive", str(archive), "is not a directory")
    command = restore_command(archive)
    destination = _new_directory(Path(to), "to")
    progress("copying the base backup", 0, None)
    try:
        shutil.copytree(info.data, destination, dirs_exist_ok=True, symlinks=True)
        os.chmod(destination, 0o700)
        _same_owner(info.data, destination)
        _remove_recovery_leftovers(destination)
        settings = {
            "restore_command": command,
            "recovery_target_time": target.isoformat(sep=" "),
            "recovery_target_action": target_action,
            # The base backup's timeline, not the newest one the archive holds (an earlier
            # recovery that promoted may have started another there).
            "recovery_target_timeline": "current",
            # Not into the live server's archive: turn it on, with an archive of its own,
            # if this cluster becomes the primary.
            "archive_mode": "off",
        }
        with (destination / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tradestore pitr restore: recovery to a point in time\n")
            for name, value in settings.items():
                conf.write(f"{name} = {_conf_quote(value)}\n")
        signal = destination / "recovery.signal"
        signal.touch()
        _same_owner(info.data, destination / "postgresql.auto.conf", signal)
    except OSError as exc:
        shutil.rmtree(destination, ignore_errors=True)
        raise BackupError(f"preparing {destination} failed (removed again): {exc}") from None
    return PitrRestore(
        data_dir=destination,
        base=info,
        target_time=target,
        target_action=target_action,
        seconds=time.monotonic() - started,
    )


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _remove_recovery_leftovers(data: Path) -> None:
    """A base backup of a standby carries standby.signal; a copied pid file would stop the
    server starting. Neither belongs in a cluster recovering to a point in time."""
    for name in ("standby.signal", "postmaster.pid", "postmaster.opts"):
        (data / name).unlink(missing_ok=True)


def _same_owner(model: Path, *paths: Path) -> None:
    """Run as root, hand the copy to the user who owns the base backup (the server refuses a
    data directory it does not own)."""
    if os.geteuid() != 0:
        return
    owner = model.stat()
    for path in paths:
        targets = [path]
        if path.is_dir():
            targets.extend(path.rglob("*"))
        for item in targets:
            os.lchown(item, owner.st_uid, owner.st_gid)


def _new_directory(path: Path, field: str) -> Path:
    """``path`` created (mode 0700) or found empty; anything else is refused."""
    if path.exists():
        if not path.is_dir():
            raise ValidationError(field, str(path), "exists and is not a directory")
        if any(path.iterdir()):
            raise ValidationError(field, str(path), "is not empty: choose a new directory")
    else:
        path.mkdir(parents=True, mode=0o700)
    return path


def _require_postgres(database: Database, what: str) -> None:
    if database.dialect_name != "postgresql":
        raise ConfigurationError(
            f"{what} needs PostgreSQL; {database.safe_url} is SQLite: use `tradestore backup`, "
            "whose online copy is consistent at any moment"
        )
