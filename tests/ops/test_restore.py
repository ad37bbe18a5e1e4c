from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pytest
from ops_scenario import RetentionScenario, add_bot, content_digest, count
from sqlalchemy import delete

from tradestore import Database
from tradestore.errors import BackupError, CorruptBackup
from tradestore.models import Bot, Order
from tradestore.ops.backup import backup_database
from tradestore.ops.restore import restore_database


def _damaged_copies(good: Path, folder: Path) -> list[Path]:
    """The backup damaged in place: same name, its checksum sidecar still beside it."""
    sidecar = good.with_name(good.name + ".sha256").read_text()
    data = good.read_bytes()
    middle = len(data) // 2
    copies = {
        "truncated": data[: len(data) * 2 // 3],
        "flipped": data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :],
        "empty": b"",
        "garbage": b"\x00" * 4096,
    }
    paths = []
    for name, content in copies.items():
        path = folder / name / good.name
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        path.with_name(good.name + ".sha256").write_text(sidecar)
        paths.append(path)
    return paths


def test_restore_brings_back_the_backed_up_rows(
    db: Database, scenario: RetentionScenario, backup_dir: Path
) -> None:
    original = content_digest(db)
    taken = backup_database(db, directory=backup_dir).backup.path
    with db.engine.begin() as conn:  # change the database after the backup
        conn.execute(delete(Order).where(Order.status == "pending"))
        add_bot(conn, "gamma")
    assert content_digest(db) != original

    result = restore_database(db, taken, backup_dir=backup_dir)
    assert result.ok, result.verify.failures
    assert content_digest(db) == original
    assert result.row_counts["orders"] == 10
    assert result.row_counts["bots"] == 2
    assert result.source.revision == db.current_revision()
    # the safety backup holds the state just before the restore (with gamma)
    assert result.safety_backup is not None
    assert "pre-restore" in result.safety_backup.name
    restore_database(db, result.safety_backup, backup_dir=backup_dir, safety_backup=False)
    assert count(db, Bot, Bot.bot_id == "gamma") == 1


def test_corrupted_backup_is_refused_and_nothing_is_touched(
    db: Database, scenario: RetentionScenario, backup_dir: Path, tmp_path: Path
) -> None:
    good = backup_database(db, directory=backup_dir).backup.path
    before = content_digest(db)
    listing = sorted(p.name for p in backup_dir.iterdir())
    for damaged in _damaged_copies(good, tmp_path / "damaged"):
        with pytest.raises(CorruptBackup):
            restore_database(db, damaged, backup_dir=backup_dir)
        assert content_digest(db) == before, damaged.name
        # refused before the safety backup: the backup folder is unchanged
        assert sorted(p.name for p in backup_dir.iterdir()) == listing


def test_sqlite_backup_with_valid_gzip_but_corrupt_pages_is_refused(
    db: Database, backend: str, tmp_path: Path, backup_dir: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    good = backup_database(db, directory=backup_dir).backup.path
    raw = bytearray(gzip.decompress(good.read_bytes()))
    raw[4096 * 3 : 4096 * 3 + 200] = b"\xa5" * 200  # scribble over a b-tree page
    bad = tmp_path / "pages.db.gz"
    bad.write_bytes(gzip.compress(bytes(raw)))
    before = content_digest(db)
    with pytest.raises(CorruptBackup):
        restore_database(db, bad, backup_dir=backup_dir)
    assert content_digest(db) == before


def test_backup_of_the_other_backend_is_refused(db: Database, backend: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_bytes(b"PGDMP" + b"\x00" * 100 if backend == "sqlite" else gzip.compress(b"x"))
    with pytest.raises(BackupError, match="export"):
        restore_database(db, other, backup_dir=tmp_path / "b")


def test_backup_without_tradestore_schema_is_refused(
    db: Database, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only: build a foreign database file")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    packed = tmp_path / "foreign.db.gz"
    packed.write_bytes(gzip.compress(foreign.read_bytes()))
    before = content_digest(db)
    with pytest.raises(BackupError, match="no tradestore schema"):
        restore_database(db, packed, backup_dir=tmp_path / "b")
    assert content_digest(db) == before


def test_missing_backup_file(db: Database, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        restore_database(db, tmp_path / "nope.db.gz")


def test_restore_into_a_new_sqlite_file(
    db: Database, backend: str, scenario: RetentionScenario, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    taken = backup_database(db, directory=tmp_path / "b").backup.path
    (tmp_path / "new").mkdir()  # a mistyped directory is refused, never created (reliability)
    target = Database(f"sqlite:///{tmp_path / 'new' / 'copy.db'}", check_schema=False)
    try:
        result = restore_database(target, taken, backup_dir=tmp_path / "b")
        assert result.safety_backup is None  # nothing to lose
        assert result.ok
        assert content_digest(target) == content_digest(db)
    finally:
        target.dispose()
