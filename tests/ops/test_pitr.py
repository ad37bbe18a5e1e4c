"""Point-in-time recovery end to end on a throwaway cluster (issue 14, item 5).

The cluster archives its WAL into a directory (``archive_command`` as ``tradestore pitr
setup`` prints it); a base backup is taken with ``tradestore pitr base-backup``; rows are
committed, the target time is read from the server, more rows are committed; ``tradestore
pitr restore`` prepares a new data directory, a server is started on it on another port, and
it holds the rows from before the target and none from after.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pg_clusters import (
    PG_BIN,
    Cluster,
    free_port,
    private_dir,
    require_tools,
    stop_and_remove,
    throwaway_cluster,
    wait_for,
)
from tradestore import Database
from tradestore.cli import main
from tradestore.errors import BackupError, ConfigurationError, ValidationError
from tradestore.ops.pitr import (
    BASE_BACKUP_INFO,
    ArchiveState,
    archive_command,
    archive_settings,
    archive_state,
    base_backup,
    read_base_backup,
    restore_command,
    restore_to_time,
)

BOT = "pitr-bot"
DATABASE = "tradestore_pitr"


def cli(*args: str, columns: int = 200) -> Result:
    env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None, "COLUMNS": str(columns)}
    return CliRunner().invoke(main, list(args), env=env)  # type: ignore[arg-type]


def to_postgres(path: Path) -> None:
    """What ``sudo -u postgres tradestore pitr base-backup`` would have left: the server's
    OS user owns the copy (the tests run as root; the server refuses a root-owned copy)."""
    if os.geteuid() != 0:
        return
    for item in [path, *path.rglob("*")]:
        shutil.chown(item, user="postgres", group="postgres")


@pytest.fixture
def archiving() -> Iterator[tuple[Cluster, Path]]:
    require_tools("initdb", "pg_ctl", "pg_basebackup", "pg_verifybackup")
    archive = private_dir("tradestore-wal-archive-")
    try:
        settings = archive_settings(archive)
        with throwaway_cluster("tradestore-pitr-", fsync="off", **settings) as cluster:
            yield cluster, archive
    finally:
        shutil.rmtree(archive, ignore_errors=True)


def open_position(db: Database, ticker: str) -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(ticker, side="long", quantity=D(1), entry_price=D(10), strategy="p")


def tickers(db: Database) -> list[str]:
    with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
        return sorted(p.ticker for p in uow.positions.list_open())


def test_restore_to_a_point_in_time(archiving: tuple[Cluster, Path], tmp_path: Path) -> None:
    cluster, archive = archiving
    url = cluster.create_database(DATABASE)
    Database(url, check_schema=False).upgrade()
    db = Database(url)
    work = private_dir("tradestore-pitr-work-")
    restored = Cluster(work / "restored", free_port())
    restored.base.mkdir()
    to_postgres(restored.base)  # its log and socket go there
    try:
        state = archive_state(db)
        assert state.archiving, state
        with db.unit_of_work() as uow:
            uow.bots.register(BOT, mode="paper", starting_balance=D(1000))

        base = tmp_path / "base"
        result = cli(
            "pitr", "base-backup", "--url", url, "--to", str(base), "--pg-bin", str(PG_BIN)
        )
        assert result.exit_code == 0, result.output
        assert "base backup written and verified" in result.stdout
        info = read_base_backup(base)
        assert (base / BASE_BACKUP_INFO).is_file()
        manifest = json.loads((info.data / "backup_manifest").read_text())
        assert info.end_lsn == manifest["WAL-Ranges"][-1]["End-LSN"]
        end_segment = cluster.execute(f"SELECT pg_walfile_name('{info.end_lsn}')")
        assert (archive / str(end_segment)).is_file()  # waited for: restorable at once
        to_postgres(base)

        open_position(db, "BEFORE1")
        open_position(db, "BEFORE2")
        with db.connect() as connection:  # the server's clock: commit times are its own
            target = connection.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
            connection.rollback()
        assert target > info.finished_at
        open_position(db, "AFTER")
        assert tickers(db) == ["AFTER", "BEFORE1", "BEFORE2"]
        # The segment holding the commits is archived once it is complete: switch to the next.
        segment = cluster.execute("SELECT pg_walfile_name(pg_switch_wal())")
        wait_for(
            lambda: (archive / str(segment)).is_file(),
            f"WAL segment {segment} reaches the archive",
        )

        data = work / "restored" / "data"
        result = cli(
            "pitr",
            "restore",
            "--base",
            str(base),
            "--wal-archive",
            str(archive),
            "--target-time",
            target.isoformat(),
            "--to",
            str(data),
        )
        assert result.exit_code == 0, result.output
        assert "start it with: pg_ctl -D" in result.stdout
        assert (data / "recovery.signal").is_file()
        conf = (data / "postgresql.auto.conf").read_text()
        assert "recovery_target_time" in conf
        assert archive_command(archive) not in conf.split("# tradestore pitr restore")[1]

        restored.start()
        wait_for(
            lambda: restored.execute("SELECT pg_is_in_recovery()") is False,
            "the restored server reaches the target and is promoted",
        )
        with Database(restored.url(DATABASE)) as copy:
            assert tickers(copy) == ["BEFORE1", "BEFORE2"]
            with copy.unit_of_work(bot_id=BOT) as uow:  # promoted: it takes writes
                uow.positions.open(
                    "NEW", side="long", quantity=D(1), entry_price=D(1), strategy="n"
                )
            assert tickers(copy) == ["BEFORE1", "BEFORE2", "NEW"]
        assert "recovery stopping before commit" in restored.log()
        assert tickers(db) == ["AFTER", "BEFORE1", "BEFORE2"]  # the live server is untouched
    finally:
        db.dispose()
        stop_and_remove(restored)
        shutil.rmtree(work, ignore_errors=True)


def test_setup_prints_the_archive_settings(archiving: tuple[Cluster, Path], tmp_path: Path) -> None:
    cluster, _archive = archiving
    wal = tmp_path / ("a-long-directory-name-" * 3) / "wal"  # a line far beyond 80 columns
    result = cli("pitr", "setup", "--wal-archive", str(wal), "--url", cluster.url(), columns=80)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "archive_mode = 'on'" in lines
    assert f"archive_command = '{archive_command(wal)}'" in lines  # whole, on one line
    assert "wal_level = 'replica'" in lines
    assert "archive_mode=on" in result.stdout


def test_setup_keeps_a_logical_wal_level(tmp_path: Path) -> None:
    assert archive_settings(tmp_path, wal_level="logical")["wal_level"] == "logical"
    assert archive_settings(tmp_path, wal_level="minimal")["wal_level"] == "replica"
    result = cli("pitr", "setup", "--wal-archive", str(tmp_path), columns=80)
    assert result.exit_code == 0, result.output
    assert "keep wal_level = 'logical'" in result.stdout


def run_archive_command(command: str, path: Path, name: str) -> int:
    """What the server does with an archive_command: %p, %f and %% replaced, run by sh."""
    filled = command.replace("%p", str(path)).replace("%f", name).replace("%%", "%")
    return subprocess.run(["sh", "-c", filled], check=False, cwd=path.parent).returncode


def test_the_archive_command_copies_atomically_and_accepts_a_repeat(tmp_path: Path) -> None:
    archive = tmp_path / "wal 100%"  # a space and a percent sign: quoted and escaped
    archive.mkdir()
    command = archive_command(archive)
    assert "100%%" in command
    segment = tmp_path / "000000010000000000000003"
    segment.write_bytes(b"wal" * 1000)
    assert run_archive_command(command, segment, segment.name) == 0
    assert (archive / segment.name).read_bytes() == segment.read_bytes()
    assert sorted(p.name for p in archive.iterdir()) == [segment.name]  # no temporary left
    # The server retrying a segment it archived but could not mark done: accepted.
    assert run_archive_command(command, segment, segment.name) == 0
    # A different segment of the same name (another cluster's): refused, the archive kept.
    other = tmp_path / "other"
    other.write_bytes(b"not the same")
    assert run_archive_command(command, other, segment.name) != 0
    assert (archive / segment.name).read_bytes() == segment.read_bytes()
    # A truncated copy left by a crash under the temporary name is simply redone.
    (archive / "000000010000000000000004.tmp").write_bytes(b"wa")
    second = tmp_path / "000000010000000000000004"
    second.write_bytes(b"more wal")
    assert run_archive_command(command, second, second.name) == 0
    assert (archive / second.name).read_bytes() == b"more wal"
    restore = restore_command(archive)
    target = tmp_path / "RECOVERYXLOG"
    assert run_archive_command(restore, target, second.name) == 0
    assert target.read_bytes() == b"more wal"
    assert run_archive_command(restore, target, "000000010000000000000009") != 0


def test_archiving_goes_on_after_a_crash_between_copy_and_done(
    archiving: tuple[Cluster, Path],
) -> None:
    """The segment is in the archive but still .ready (the server died before renaming it
    .done): the retry must succeed, or archiving stalls there forever."""
    cluster, archive = archiving
    segment = str(cluster.execute("SELECT pg_walfile_name(pg_switch_wal())"))
    status = cluster.data / "pg_wal" / "archive_status"
    wait_for(lambda: (status / f"{segment}.done").exists(), f"{segment} is archived")
    (status / f"{segment}.done").rename(status / f"{segment}.ready")
    cluster.execute("CREATE TABLE after_the_crash AS SELECT generate_series(1, 1000) AS x")
    following = str(cluster.execute("SELECT pg_walfile_name(pg_switch_wal())"))
    wait_for(lambda: (archive / following).is_file(), f"the next segment {following} is archived")
    assert (status / f"{segment}.done").exists()


def test_a_failing_archive_is_refused_and_waited_for(
    archiving: tuple[Cluster, Path], tmp_path: Path
) -> None:
    cluster, _archive = archiving
    cluster.execute("ALTER SYSTEM SET archive_command = 'false'")
    cluster.execute("SELECT pg_reload_conf()")
    db = Database(cluster.url(), check_schema=False)
    try:
        wait_for(
            lambda: archive_state(db).archive_command == "false", "the broken command is loaded"
        )
        with pytest.raises(BackupError, match="has not reached the archive within"):
            base_backup(db, tmp_path / "b1", pg_bin=PG_BIN, archive_wait=3)
        assert read_base_backup(tmp_path / "b1").end_lsn  # complete and verified, kept
        wait_for(lambda: archive_state(db).failing, "the archiver records its failure")
        with pytest.raises(BackupError, match="archiving is failing"):
            base_backup(db, tmp_path / "b2", pg_bin=PG_BIN)
    finally:
        db.dispose()


def test_the_archive_state_says_when_the_last_attempt_failed() -> None:
    now = dt.datetime.now(dt.UTC)
    state = ArchiveState("on", "cp", "replica", "A", 1, "B", now - dt.timedelta(minutes=1), now)
    assert state.failing
    assert not dataclasses.replace(state, last_archived_time=now + dt.timedelta(seconds=1)).failing
    assert not dataclasses.replace(state, last_failed_time=None).failing
    assert dataclasses.replace(state, last_archived_time=None).failing


def test_refusals(archiving: tuple[Cluster, Path], tmp_path: Path) -> None:
    cluster, archive = archiving
    db = Database(cluster.url(), check_schema=False)
    try:
        base = tmp_path / "base"
        info = base_backup(db, base, pg_bin=PG_BIN)
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / "file").write_text("x")
        with pytest.raises(ValidationError, match="not empty"):
            base_backup(db, tmp_path / "busy", pg_bin=PG_BIN)
        with pytest.raises(ValidationError, match="before the base backup ended"):
            restore_to_time(
                base,
                wal_archive=archive,
                target_time=info.finished_at - dt.timedelta(seconds=1),
                to=tmp_path / "r1",
            )
        with pytest.raises(ValidationError, match="timezone"):
            restore_to_time(
                base,
                wal_archive=archive,
                target_time=dt.datetime(2030, 1, 1),
                to=tmp_path / "r2",
            )
        with pytest.raises(BackupError, match="not a tradestore base backup"):
            restore_to_time(
                tmp_path,
                wal_archive=archive,
                target_time=dt.datetime.now(dt.UTC),
                to=tmp_path / "r3",
            )
        assert not (tmp_path / "r1").exists()
        result = cli(
            "pitr",
            "restore",
            "--base",
            str(base),
            "--wal-archive",
            str(archive),
            "--target-time",
            "yesterday-ish",
            "--to",
            str(tmp_path / "r4"),
        )
        assert result.exit_code == 2, result.output
    finally:
        db.dispose()


def test_a_server_that_does_not_archive_is_refused(tmp_path: Path) -> None:
    require_tools("initdb", "pg_ctl", "pg_basebackup", "pg_verifybackup")
    with throwaway_cluster("tradestore-noarchive-", fsync="off") as cluster:
        result = cli(
            "pitr",
            "base-backup",
            "--url",
            cluster.url(),
            "--to",
            str(tmp_path / "b"),
            "--pg-bin",
            str(PG_BIN),
        )
        assert result.exit_code == 1
        assert "does not archive its WAL" in result.output


@pytest.mark.sqlite_only
def test_sqlite_is_refused(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs PostgreSQL"):
        base_backup(db, tmp_path / "b")


def test_a_configuration_outside_the_data_directory_is_carried_over(tmp_path: Path) -> None:
    """Debian's layout: postgresql.conf, pg_hba.conf, pg_ident.conf and conf.d/ live in
    /etc/postgresql/15/main, not in the data directory; the base backup has none of them."""
    require_tools("initdb", "pg_ctl", "pg_basebackup", "pg_verifybackup")
    archive = private_dir("tradestore-wal-archive-")
    live = Cluster(private_dir("tradestore-debian-"), free_port())
    work = private_dir("tradestore-debian-work-")
    restored = Cluster(work / "restored", free_port())
    restored.base.mkdir()
    to_postgres(restored.base)
    db: Database | None = None
    try:
        live.initdb()
        etc = live.base / "etc"
        (etc / "conf.d").mkdir(parents=True)
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.move(live.data / name, etc / name)
        with (etc / "postgresql.conf").open("a") as conf:
            conf.write(f"data_directory = '{live.data}'\n")
            conf.write(f"hba_file = '{etc / 'pg_hba.conf'}'\n")
            conf.write(f"ident_file = '{etc / 'pg_ident.conf'}'\n")
            conf.write("include_dir = 'conf.d'\nfsync = off\n")
            for name, value in archive_settings(archive).items():
                conf.write(f"{name} = '{value}'\n")
        (etc / "conf.d" / "tuning.conf").write_text("work_mem = '7MB'\n")
        to_postgres(etc)
        live.server_options = f"-c config_file={etc / 'postgresql.conf'}"
        live.start()
        db = Database(live.url(), check_schema=False)

        base = tmp_path / "base"
        result = cli(
            "pitr", "base-backup", "--url", live.url(), "--to", str(base), "--pg-bin", str(PG_BIN)
        )
        assert result.exit_code == 0, result.output
        assert "was copied into" in result.stdout
        info = read_base_backup(base)
        assert info.config_file == str(etc / "postgresql.conf")
        assert not (info.data / "postgresql.conf").exists()
        to_postgres(base)
        live.execute("CREATE TABLE marker AS SELECT 1 AS x")
        target = live.execute("SELECT clock_timestamp()")
        live.execute("CREATE TABLE after_target AS SELECT 1 AS x")  # recovery stops before it
        segment = live.execute("SELECT pg_walfile_name(pg_switch_wal())")
        wait_for(lambda: (archive / str(segment)).is_file(), f"{segment} is archived")

        data = restored.base / "data"
        restore_to_time(base, wal_archive=archive, target_time=target, to=data)
        conf = (data / "postgresql.conf").read_text()
        assert "commented out by tradestore pitr restore) data_directory" in conf
        assert (data / "conf.d" / "tuning.conf").is_file()
        try:
            restored.start()
        except subprocess.CalledProcessError:
            pytest.fail(f"the restored server did not start:\n{restored.log()}")
        wait_for(
            lambda: restored.execute("SELECT pg_is_in_recovery()") is False,
            "the restored server reaches the target and is promoted",
        )
        assert restored.execute("SHOW data_directory") == str(data)
        assert restored.execute("SHOW work_mem") == "7MB"
        assert restored.execute("SELECT count(*) FROM marker") == 1
        assert restored.execute("SELECT to_regclass('after_target')") is None

        # Without the copy (taken from another host): refused, then --config-dir.
        (base / "config").rename(tmp_path / "kept-config")
        with pytest.raises(BackupError, match="--config-dir"):
            restore_to_time(base, wal_archive=archive, target_time=target, to=tmp_path / "r2")
        assert not (tmp_path / "r2").exists()
        copy = restore_to_time(
            base,
            wal_archive=archive,
            target_time=target,
            to=tmp_path / "r3",
            config_dir=tmp_path / "kept-config",
        )
        assert (copy.data_dir / "pg_hba.conf").is_file()
    finally:
        if db is not None:
            db.dispose()
        stop_and_remove(restored)
        stop_and_remove(live)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(archive, ignore_errors=True)
