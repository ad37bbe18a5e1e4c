"""Point-in-time recovery end to end on a throwaway cluster (issue 14, item 5).

The cluster archives its WAL into a directory (``archive_command`` as ``tradestore pitr
setup`` prints it); a base backup is taken with ``tradestore pitr base-backup``; rows are
committed, the target time is read from the server, more rows are committed; ``tradestore
pitr restore`` prepares a new data directory, a server is started on it on another port, and
it holds the rows from before the target and none from after.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
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
    archive_command,
    archive_settings,
    archive_state,
    base_backup,
    read_base_backup,
    restore_to_time,
)

BOT = "pitr-bot"
DATABASE = "tradestore_pitr"


def cli(*args: str) -> Result:
    env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None, "COLUMNS": "200"}
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
    result = cli("pitr", "setup", "--wal-archive", str(tmp_path / "wal"), "--url", cluster.url())
    assert result.exit_code == 0, result.output
    assert "archive_mode = 'on'" in result.stdout
    assert f"cp %p {tmp_path / 'wal'}/%f" in result.stdout
    assert "archive_mode=on" in result.stdout


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
