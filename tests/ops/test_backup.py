from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from ops_scenario import Writer, add_bulk, count

from tradestore import Database
from tradestore.errors import BackupError, CorruptBackup, ValidationError
from tradestore.models import Bot
from tradestore.ops.backup import backup_database, backup_stem, prune_backups, verify_backup
from tradestore.ops.restore import restore_database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_is_private_verified_and_restorable(db: Database, backup_dir: Path) -> None:
    add_bulk(db, bots=50)
    phases: set[str] = set()
    result = backup_database(db, directory=backup_dir, progress=lambda p, d, t: phases.add(p))
    info = result.backup
    assert info.path.parent == backup_dir
    assert info.path.name.startswith(backup_stem(db) + "-")
    assert _mode(info.path) == 0o600
    assert info.revision == db.current_revision()
    assert info.backend == db.dialect_name
    # no temporary files left beside the backup and its checksum
    sidecar = info.path.with_name(info.path.name + ".sha256")
    assert sorted(p.name for p in backup_dir.iterdir()) == [info.path.name, sidecar.name]
    assert _mode(sidecar) == 0o600
    digest, name = sidecar.read_text().split()
    assert name == info.path.name
    assert digest == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert verify_backup(info.path).revision == info.revision
    if db.dialect_name == "sqlite":
        assert info.path.name.endswith(".db.gz")
        assert {"copying pages", "compressing", "verifying"} <= phases
        with gzip.open(info.path) as handle:
            assert handle.read(16) == b"SQLite format 3\x00"
    else:
        assert info.path.name.endswith(".dump")
        assert {"dumping tables", "verifying"} <= phases
        assert info.path.read_bytes().startswith(b"PGDMP")


def test_backup_consistent_while_another_process_writes(
    db: Database, writer: Writer, backup_dir: Path
) -> None:
    """Every row committed before the backup started is in it; no transaction is torn."""
    add_bulk(db, bots=1500)  # ~ 200 pages: the SQLite copy takes many steps
    writer.wait_for(20)
    before = writer.committed()

    def slow(_phase: str, _done: int, _total: int | None) -> None:
        time.sleep(0.003)  # let the writer commit between the copy's steps

    result = backup_database(db, directory=backup_dir, progress=slow, pages_per_step=4)
    during = writer.committed()
    last = writer.stop()
    assert during[-1] > before[-1], "the writer did not write while the backup ran"

    report = restore_database(db, result.backup.path, backup_dir=backup_dir)
    assert report.ok, report.verify.failures
    restored = writer.committed()  # also asserts each bot has its snapshot
    assert restored[-1] >= before[-1]
    assert restored == list(range(1, restored[-1] + 1))  # a prefix: no gaps
    assert restored[-1] <= during[-1] <= last
    assert count(db, Bot, Bot.bot_id.like("bulk-%")) == 1500


def test_backup_prunes_only_old_backups_of_the_same_database(
    db: Database, backup_dir: Path
) -> None:
    backup_dir.mkdir()
    stem = backup_stem(db)
    suffix = ".db.gz" if db.dialect_name == "sqlite" else ".dump"
    old = backup_dir / f"{stem}-20200101T000000Z{suffix}"
    old_labelled = backup_dir / f"{stem}-20200101T000000Z-pre-restore{suffix}"
    recent = backup_dir / f"{stem}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.1{suffix}"
    other_db = backup_dir / f"otherdb-20200101T000000Z{suffix}"
    unrelated = backup_dir / "notes-2020.txt"
    for path in (old, old_labelled, recent, other_db, unrelated):
        path.write_bytes(b"x")
    old.with_name(old.name + ".sha256").write_text("ab  x\n")
    result = backup_database(db, directory=backup_dir, keep_days=30)
    assert set(result.pruned) == {old, old_labelled}
    remaining = {p.name for p in backup_dir.iterdir() if not p.name.endswith(".sha256")}
    assert remaining == {recent.name, other_db.name, unrelated.name, result.backup.path.name}
    assert not old.with_name(old.name + ".sha256").exists()  # pruned with its backup


def test_keep_days_zero_keeps_everything(tmp_path: Path) -> None:
    old = tmp_path / "db-20200101T000000Z.db.gz"
    old.write_bytes(b"x")
    assert prune_backups(tmp_path, stem="db", keep_days=0) == ()
    assert prune_backups(tmp_path, stem="db", keep_days=None) == ()
    assert prune_backups(tmp_path, stem="db", keep_days=1) == (old,)
    assert not old.exists()


def test_two_backups_in_one_second_get_distinct_names(db: Database, backup_dir: Path) -> None:
    first = backup_database(db, directory=backup_dir).backup.path
    second = backup_database(db, directory=backup_dir).backup.path
    assert first != second
    assert first.exists()
    assert second.exists()


def test_backup_directory_is_created_private(db: Database, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    backup_database(db, directory=target)
    assert _mode(target) == 0o700


def test_sqlite_backup_of_a_missing_file_is_an_error(tmp_path: Path, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    database = Database(f"sqlite:///{tmp_path / 'absent.db'}", check_schema=False)
    # Database() creates the folder but not the file
    with pytest.raises(BackupError, match="does not exist"):
        backup_database(database, directory=tmp_path / "b")
    assert not (tmp_path / "absent.db").exists()


def test_missing_pg_tools_are_named(db: Database, tmp_path: Path, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(BackupError, match="pg_dump not found"):
        backup_database(db, directory=tmp_path / "b", pg_bin=empty)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = str(empty)
    try:
        with pytest.raises(BackupError, match="pg_dump not found on PATH"):
            backup_database(db, directory=tmp_path / "b")
    finally:
        os.environ["PATH"] = old_path
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_verify_backup_refuses_damaged_files(db: Database, backup_dir: Path) -> None:
    good = backup_database(db, directory=backup_dir).backup.path
    sidecar = good.with_name(good.name + ".sha256").read_text()
    data = good.read_bytes()
    middle = len(data) // 2
    variants = {
        "truncated": data[: len(data) // 2],
        "flipped": data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :],
        "garbage": b"not a backup at all",
    }
    for name, content in variants.items():
        # damaged in place: the checksum written at backup time is still beside it
        damaged = backup_dir / name / good.name
        damaged.parent.mkdir()
        damaged.write_bytes(content)
        damaged.with_name(good.name + ".sha256").write_text(sidecar)
        with pytest.raises(CorruptBackup):
            verify_backup(damaged)
        # without the sidecar the structural checks still catch a cut-off file
        if name == "truncated":
            damaged.with_name(good.name + ".sha256").unlink()
            with pytest.raises(CorruptBackup):
                verify_backup(damaged)
        # nothing is left behind by the failed verifications
        assert not [p for p in damaged.parent.iterdir() if p.name.startswith(".")]


def test_bad_arguments_are_refused(db: Database, backup_dir: Path) -> None:
    with pytest.raises(ValidationError) as info:
        backup_database(db, directory=backup_dir, keep_days=-1)
    assert info.value.field == "keep_days"
    with pytest.raises(ValidationError) as info:
        backup_database(db, directory=backup_dir, label="Not OK")
    assert info.value.field == "label"
    assert not backup_dir.exists()


def test_pruning_a_directory_that_does_not_exist_yet_removes_nothing(tmp_path: Path) -> None:
    """A cron job pruning before the first backup was ever written: nothing is old (it used
    to raise FileNotFoundError, a raw Python exception out of tradestore.ops)."""
    assert prune_backups(tmp_path / "never-written", stem="db", keep_days=1) == ()
