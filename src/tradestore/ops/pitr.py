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

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tradestore.database import Database
from tradestore.errors import BackupError, ConfigurationError, ValidationError
from tradestore.ops import _pgtools
from tradestore.ops._common import Progress, no_progress, read_connection

#: The file beside a base backup's data directory that says what it is.
BASE_BACKUP_INFO = "tradestore-base-backup.json"
#: The data directory inside a base backup's directory.
BASE_BACKUP_DATA = "data"
#: A configuration kept outside the data directory, copied beside it.
BASE_BACKUP_CONFIG = "config"
#: Settings of a configuration copied into a restored data directory that point at the live
#: cluster's files: commented out there (the restored server uses its own directory's).
_LIVE_PATH_SETTINGS = ("data_directory", "hba_file", "ident_file", "external_pid_file")
#: What a restored server does when it reaches the target (PostgreSQL's three choices).
TARGET_ACTIONS = ("promote", "pause", "shutdown")


def archive_command(wal_archive: Path | str) -> str:
    """The ``archive_command`` that copies each completed WAL segment into ``wal_archive``.

    The server runs it with ``sh`` for each segment and counts it archived only on exit 0;
    anything else keeps the segment and tries again. The copy goes to a temporary name, is
    fsynced, renamed into place and the directory fsynced: a crash (or a full disk) mid-copy
    never leaves a truncated segment under the real name. A segment already in the archive is
    accepted only if it is byte for byte the same (``cmp -s``): that is the server retrying a
    segment whose success it did not get to record (a crash between the copy and the
    ``.done`` marker), which PostgreSQL's documented ``test ! -f ... && cp`` form would refuse
    forever, stalling archiving. A different segment of the same name (two clusters pointed at
    one archive) still fails loudly. Needs GNU coreutils (``sync FILE``). For an archive on
    another host use a tool built for it (pgBackRest, WAL-G, barman); ``restore_command``
    changes with it.
    """
    folder = _quoted_dir(wal_archive)
    return (
        f'f={folder}/%f; if test -f "$f"; then cmp -s %p "$f"; '
        f'else cp %p "$f.tmp" && sync "$f.tmp" && mv "$f.tmp" "$f" && sync {folder}; fi'
    )


def restore_command(wal_archive: Path | str) -> str:
    """The ``restore_command`` that reads segments back from ``archive_command``'s archive.

    The server copies into a temporary name of its own (``RECOVERYXLOG``) and checks the
    file's size, and a non-zero exit means "not in the archive": a plain ``cp`` is safe here.
    """
    return f"cp {_quoted_dir(wal_archive)}/%f %p"


def archive_settings(wal_archive: Path | str, *, wal_level: str = "replica") -> dict[str, str]:
    """The ``postgresql.conf`` settings for WAL archiving into ``wal_archive``.

    ``archive_mode`` needs a server restart; ``archive_command`` only a reload.
    ``archive_timeout`` bounds how long a quiet server keeps a partly filled segment: the
    commits in it are not in the archive (and cannot be recovered) until it is switched.
    ``wal_level``: archiving needs ``replica``; a server at ``logical`` (logical decoding)
    keeps it, it includes everything ``replica`` has.
    """
    return {
        "wal_level": "logical" if wal_level == "logical" else "replica",
        "archive_mode": "on",
        "archive_command": archive_command(wal_archive),
        "archive_timeout": "60s",
    }


def _quoted_dir(path: Path | str) -> str:
    """The directory, quoted for ``sh`` and with ``%`` doubled: PostgreSQL replaces ``%f``,
    ``%p`` and ``%%`` in the command, so a ``%`` in the path must be written ``%%``."""
    folder = Path(path)
    if not folder.is_absolute():
        raise ValidationError("wal_archive", str(path), "must be an absolute path")
    return shlex.quote(str(folder)).replace("%", "%%")


@dataclass(frozen=True)
class ArchiveState:
    """What the server says of its WAL archiving (``SHOW`` and ``pg_stat_archiver``)."""

    archive_mode: str
    archive_command: str
    wal_level: str
    last_archived_wal: str | None
    failed_count: int
    last_failed_wal: str | None
    last_archived_time: dt.datetime | None = None
    last_failed_time: dt.datetime | None = None

    @property
    def archiving(self) -> bool:
        """Configured to archive (not whether it works: see ``failing``)."""
        return (
            self.archive_mode in ("on", "always")
            and self.archive_command not in ("", "(disabled)")
            and self.wal_level in ("replica", "logical")
        )

    @property
    def failing(self) -> bool:
        """The archiver's last attempt failed: its newest failure is newer than its newest
        success (or it never succeeded)."""
        if self.last_failed_time is None:
            return False
        return self.last_archived_time is None or self.last_failed_time > self.last_archived_time


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
        archived, failed, last_failed, archived_at, failed_at = connection.execute(
            text(
                "SELECT last_archived_wal, failed_count, last_failed_wal, last_archived_time, "
                "last_failed_time FROM pg_stat_archiver"
            )
        ).one()
    return ArchiveState(
        archive_mode=str(mode),
        archive_command=str(command),
        wal_level=str(level),
        last_archived_wal=archived,
        failed_count=int(failed),
        last_failed_wal=last_failed,
        last_archived_time=archived_at,
        last_failed_time=failed_at,
    )


@dataclass(frozen=True)
class BaseBackupInfo:
    """A base backup: where it is and the span of time it was taken in."""

    path: Path
    started_at: dt.datetime
    #: The earliest moment it restores to: recovery must replay at least this far.
    finished_at: dt.datetime
    server_version: str
    #: Where the backup's WAL ends (``backup_manifest``'s WAL-Ranges): recovery must replay
    #: at least this far to be consistent.
    end_lsn: str
    #: The archive_command the server had (what the archive is, as far as it knew).
    archive_command: str
    #: The server's config_file when it is outside the data directory (Debian's
    #: /etc/postgresql/15/main), else None.
    config_file: str | None = None
    #: Whether that configuration was copied into ``config/`` beside the data directory.
    config_copied: bool = False

    @property
    def data(self) -> Path:
        return self.path / BASE_BACKUP_DATA

    @property
    def config(self) -> Path:
        """The copy of a configuration kept outside the data directory."""
        return self.path / BASE_BACKUP_CONFIG


def base_backup(
    database: Database,
    to: Path | str,
    *,
    pg_bin: Path | str | None = None,
    require_archiving: bool = True,
    archive_wait: float = 120.0,
    progress: Progress = no_progress,
) -> BaseBackupInfo:
    """Take a verified base backup of ``database``'s server into the new directory ``to``.

    ``to`` must not exist or be empty. The connection needs the REPLICATION privilege (a
    superuser has it) and a ``replication`` line in ``pg_hba.conf``. Refused unless the
    server archives its WAL and its archiver's last attempt succeeded
    (``require_archiving=False`` takes it anyway: then it restores only to its own end).
    After the copy the server switches to a new WAL segment and the segment holding the
    backup's end must reach the archive within ``archive_wait`` seconds (BackupError
    otherwise, the verified copy kept): until it does, the backup restores to nothing.
    A configuration kept outside the data directory (Debian) is copied into ``config/``
    when it is readable here.
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
    if require_archiving and state.failing:
        raise BackupError(
            f"{database.safe_url}'s WAL archiving is failing: its last attempt "
            f"({state.last_failed_wal} at {state.last_failed_time}) failed after the last "
            f"success ({state.last_archived_wal or 'none'} at {state.last_archived_time or '-'}); "
            "the server log says why (archive_command). Fix it before taking a base backup: "
            "without the archive it restores to nothing"
        )
    with read_connection(database) as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
        files = _server_files(connection)
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
        end_lsn = _manifest_end_lsn(data)
    except BackupError:
        shutil.rmtree(data, ignore_errors=True)
        raise
    config_file, copied = _copy_outside_config(files, folder / BASE_BACKUP_CONFIG)
    with read_connection(database) as connection:
        finished = connection.execute(text("SELECT now()")).scalar_one()
    info = BaseBackupInfo(
        path=folder,
        started_at=started,
        finished_at=finished.astimezone(dt.UTC),
        server_version=version,
        end_lsn=end_lsn,
        archive_command=state.archive_command,
        config_file=config_file,
        config_copied=copied,
    )
    _write_info(info)
    if state.archiving:
        progress("waiting for the archive", 0, None)
        _wait_for_archived(database, end_lsn, archive_wait, folder)
    return info


#: The server's file settings read for a base backup: where its configuration lives.
_FILE_SETTINGS = ("data_directory", "config_file", "hba_file", "ident_file")


def _server_files(connection: Connection) -> dict[str, str]:
    """data_directory, config_file, hba_file, ident_file; empty when this role may not read
    them (they need superuser or pg_read_all_settings)."""
    try:
        columns = ", ".join(f"current_setting('{name}')" for name in _FILE_SETTINGS)
        row = connection.execute(text(f"SELECT {columns}")).one()
    except DBAPIError:
        connection.rollback()
        return {}
    return {name: str(value) for name, value in zip(_FILE_SETTINGS, row, strict=True)}


def _outside(path: str, data_directory: str) -> bool:
    return not Path(path).resolve().is_relative_to(Path(data_directory).resolve())


def _copy_outside_config(files: dict[str, str], to: Path) -> tuple[str | None, bool]:
    """Copy a configuration that lives outside the data directory (Debian keeps it in
    /etc/postgresql/VERSION/CLUSTER): the base backup has no postgresql.conf otherwise and a
    server cannot start on a restore of it. The configuration's whole directory is copied
    (an ``include_dir = 'conf.d'`` is relative to it), with the hba and ident files under
    their default names. Returns (config_file or None, whether copied); a configuration not
    readable here (the backup was taken from another host) is left to ``--config-dir``."""
    if not files or not _outside(files["config_file"], files["data_directory"]):
        return None, False
    config = Path(files["config_file"])
    try:
        shutil.copytree(config.parent, to, symlinks=False)
        shutil.copyfile(config, to / "postgresql.conf")
        for name, default in (("hba_file", "pg_hba.conf"), ("ident_file", "pg_ident.conf")):
            source = Path(files[name])
            if source.is_file():
                shutil.copyfile(source, to / default)
    except OSError:
        shutil.rmtree(to, ignore_errors=True)
        return str(config), False
    return str(config), True


def _manifest_end_lsn(data: Path) -> str:
    """Where the backup's WAL ends: the last WAL range of ``backup_manifest``."""
    try:
        manifest = json.loads((data / "backup_manifest").read_text(encoding="utf-8"))
        return str(manifest["WAL-Ranges"][-1]["End-LSN"])
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackupError(f"{data}/backup_manifest has no WAL range: {exc}") from None


def _wait_for_archived(database: Database, end_lsn: str, timeout: float, folder: Path) -> None:
    """Switch WAL and wait until the segment holding ``end_lsn`` is archived."""
    with read_connection(database) as connection:
        segment = str(
            connection.execute(
                text("SELECT pg_walfile_name(CAST(:lsn AS pg_lsn))"), {"lsn": end_lsn}
            ).scalar_one()
        )
    with database.connect() as connection:
        connection.execute(text("SELECT pg_switch_wal()"))
        connection.commit()
    deadline = time.monotonic() + timeout
    while True:
        state = archive_state(database)
        done = state.last_archived_wal
        if done is not None and _is_segment(done[:24]) and done[:24] >= segment:
            return
        if time.monotonic() > deadline:
            raise BackupError(
                f"the base backup in {folder} is complete and verified, but WAL segment "
                f"{segment} (where it ends) has not reached the archive within {timeout:g} s "
                f"(last archived: {done or 'none'}, last failed: "
                f"{state.last_failed_wal or 'none'}): it restores to nothing until it does; "
                "check the archiver (pg_stat_archiver, the server log)"
            )
        time.sleep(0.2)


def _is_segment(name: str) -> bool:
    return len(name) == 24 and all(c in "0123456789ABCDEF" for c in name)


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
            config_file=raw.get("config_file"),
            config_copied=bool(raw.get("config_copied", False)),
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
        "config_file": info.config_file,
        "config_copied": info.config_copied,
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
    config_dir: Path | str | None = None,
    progress: Progress = no_progress,
) -> PitrRestore:
    """Prepare the new data directory ``to`` to recover to ``target_time`` (see the module).

    The base backup is copied (it stays reusable), the recovery settings are appended to the
    copy's ``postgresql.auto.conf`` and ``recovery.signal`` is created. Recovery stops before
    the first transaction that committed after ``target_time``. Refused: a naive
    ``target_time``, one before the base backup ended (it cannot be reached), an archive
    directory that does not exist, a ``to`` that exists and is not empty.

    A server whose configuration lives outside its data directory (Debian:
    /etc/postgresql/15/main) left none in the base backup: the copy ``base_backup`` made of
    it (``config/``) is installed into the new data directory, or ``config_dir``'s
    (postgresql.conf, pg_hba.conf, pg_ident.conf and what they include) when given; the
    settings in it that point at the live cluster's files (data_directory, hba_file,
    ident_file, external_pid_file) are commented out. Refused when there is none.
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
    config = _config_source(info, config_dir)
    destination = _new_directory(Path(to), "to")
    progress("copying the base backup", 0, None)
    try:
        shutil.copytree(info.data, destination, dirs_exist_ok=True, symlinks=True)
        if config is not None:
            _install_config(config, destination)
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


def _config_source(info: BaseBackupInfo, config_dir: Path | str | None) -> Path | None:
    """Where the restored cluster's postgresql.conf comes from, if not from the backup's data
    directory; refused when there is none anywhere."""
    if config_dir is not None:
        folder = Path(config_dir)
        if not (folder / "postgresql.conf").is_file():
            raise ValidationError("config_dir", str(folder), "holds no postgresql.conf")
        return folder
    if info.config_copied and (info.config / "postgresql.conf").is_file():
        return info.config
    if not (info.data / "postgresql.conf").is_file():
        where = f" (the server's is {info.config_file})" if info.config_file else ""
        raise BackupError(
            f"the base backup in {info.path} has no postgresql.conf{where}: the server keeps "
            "its configuration outside the data directory (as Debian's /etc/postgresql/"
            "VERSION/CLUSTER) and it was not readable where the backup was taken; pass "
            "--config-dir with a copy of it (postgresql.conf, pg_hba.conf, pg_ident.conf)"
        )
    return None


def _install_config(source: Path, data: Path) -> None:
    """Copy a configuration directory into a restored data directory, with the settings
    pointing at the live cluster's files commented out (its data_directory most of all: a
    server started on the copy would otherwise run on the live data)."""
    shutil.copytree(
        source,
        data,
        dirs_exist_ok=True,
        symlinks=False,
        ignore=shutil.ignore_patterns("postgresql.auto.conf", "postmaster.*", "*.signal"),
    )
    conf = data / "postgresql.conf"
    lines = []
    for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
        name = line.strip().split("=", 1)[0].split(None, 1)[0] if line.strip() else ""
        if name.lower() in _LIVE_PATH_SETTINGS:
            line = f"# (the live cluster's; commented out by tradestore pitr restore) {line}"
        lines.append(line)
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")


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
