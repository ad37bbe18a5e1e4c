from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import ops_scenario as sm
from click.testing import Result
from sqlalchemy.engine import make_url

from tradestore import Database

Cli = Callable[..., Result]
Run = Callable[..., CompletedProcess[str]]


def _backups(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".sha256"))


def test_backup_and_restore_through_the_runner(
    cli: Cli, db: Database, db_url: str, scenario: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "bk"
    result = cli("backup", "--url", db_url, "--dir", str(folder), "--keep-days", "7")
    assert result.exit_code == 0, result.output
    assert "backup written and verified" in result.stdout
    [taken] = _backups(folder)
    assert stat.S_IMODE(taken.stat().st_mode) == 0o600
    original = sm.content_digest(db)
    with db.engine.begin() as conn:
        sm.add_bot(conn, "gamma")

    refused = cli("restore", str(taken), "--url", db_url, "--backup-dir", str(folder))
    assert refused.exit_code == 2
    assert "--yes" in refused.output
    assert sm.count(db, sm.Bot) == 3  # refused: nothing changed

    restored = cli("restore", str(taken), "--yes", "--url", db_url, "--backup-dir", str(folder))
    assert restored.exit_code == 0, restored.output
    assert "safety backup of the previous database" in restored.stdout
    assert "row counts" in restored.stdout
    assert "verify: all checks passed" in restored.stdout
    assert sm.content_digest(db) == original
    assert len(_backups(folder)) == 2  # the backup and the pre-restore safety backup


def test_corrupted_backup_is_refused_by_runner_and_process(
    cli: Cli, run: Run, db: Database, db_url: str, scenario: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "bk"
    assert cli("backup", "--url", db_url, "--dir", str(folder)).exit_code == 0
    [taken] = _backups(folder)
    data = taken.read_bytes()
    taken.write_bytes(data[: len(data) // 2])  # damaged in place, its checksum beside it
    before = sm.content_digest(db)

    in_process = cli("restore", str(taken), "--yes", "--url", db_url, "--backup-dir", str(folder))
    process = run("restore", str(taken), "--yes", "--url", db_url, "--backup-dir", str(folder))
    for exit_code, stderr in (
        (in_process.exit_code, in_process.stderr),
        (process.returncode, process.stderr),
    ):
        assert exit_code == 1
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert "does not match its checksum" in lines[0]
        assert "Traceback" not in stderr
    assert sm.content_digest(db) == before
    assert _backups(folder) == [taken]  # no safety backup was taken


def test_backup_while_another_process_writes_then_restore(
    run: Run, db: Database, db_url: str, writer: Any, tmp_path: Path
) -> None:
    """Both as real processes: a writer commits continuously while ``tradestore backup`` runs."""
    sm.add_bulk(db, bots=2000)
    writer.wait_for(20)
    before = writer.committed()
    folder = tmp_path / "bk"
    backed_up = run("backup", "--url", db_url, "--dir", str(folder))
    assert backed_up.returncode == 0, backed_up.stderr
    during = writer.committed()
    writer.stop()
    assert during[-1] > before[-1], "the writer did not write while the backup ran"
    [taken] = _backups(folder)

    restored = run("restore", str(taken), "--yes", "--url", db_url, "--backup-dir", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    rows = writer.committed()  # asserts every bot came with its snapshot
    assert rows[-1] >= before[-1]  # everything committed before the backup started
    assert rows == list(range(1, rows[-1] + 1))
    assert sm.count(db, sm.Bot, sm.Bot.bot_id.like("bulk-%")) == 2000


def test_missing_pg_dump_is_named(
    run: Run, cli: Cli, db_url: str, backend: str, tmp_path: Path
) -> None:
    if backend != "postgresql":
        return
    empty = tmp_path / "bin"
    empty.mkdir()
    result = cli("backup", "--url", db_url, "--dir", str(tmp_path / "b"), "--pg-bin", str(empty))
    assert result.exit_code == 1
    assert "pg_dump not found" in result.stderr
    process = run("backup", "--url", db_url, "--dir", str(tmp_path / "b"), env={"PATH": str(empty)})
    assert process.returncode == 1
    assert process.stderr.startswith("error: pg_dump not found on PATH")


def test_backup_with_password_never_shows_it(
    run: Run, db_url: str, backend: str, tmp_path: Path
) -> None:
    if backend != "postgresql":
        return
    secret = "S3cretPW-do-not-print"
    url = make_url(db_url).set(password=secret).render_as_string(hide_password=False)
    process = run("backup", "--url", url, "--dir", str(tmp_path / "b"))
    assert process.returncode == 0, process.stderr
    assert secret not in process.stdout + process.stderr
