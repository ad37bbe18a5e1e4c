"""The documented commands, run as a user would: alembic and the init script as processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], url: str | None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    if url is None:
        env.pop("TRADESTORE_DATABASE_URL", None)
    else:
        env["TRADESTORE_DATABASE_URL"] = url
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _alembic(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "alembic", *args], url)


def test_alembic_upgrade_check_downgrade_upgrade(fresh_url: str) -> None:
    for args, expected in (
        (("upgrade", "head"), "Running upgrade 0002 -> 0003"),  # and on to head
        (("check",), "No new upgrade operations detected"),
        (("downgrade", "base"), "Running downgrade 0001 ->"),
        (("upgrade", "head"), "Running upgrade"),
    ):
        result = _alembic(*args, url=fresh_url)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout + result.stderr
    db = Database(fresh_url)
    assert db.current_revision() == head_revision()
    db.dispose()


def test_alembic_url_option_beats_the_environment(fresh_url: str, tmp_path: Path) -> None:
    decoy = f"sqlite:///{tmp_path / 'decoy.db'}"
    result = _run(
        [sys.executable, "-m", "alembic", "-x", f"url={fresh_url}", "upgrade", "head"], decoy
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "decoy.db").exists()


def test_init_script_creates_then_changes_nothing(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "init_database.py"
    first = _run([sys.executable, str(script)], None, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded empty -> " in first.stdout
    database = tmp_path / "data" / "tradestore.db"
    assert database.exists()
    db = Database(f"sqlite:///{database}")
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM migration_history")).scalar_one()
        schema_before = conn.execute(text("SELECT sql FROM sqlite_master ORDER BY name")).all()
    second = _run([sys.executable, str(script)], None, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already at head" in second.stdout
    with db.engine.connect() as conn:
        after = conn.execute(text("SELECT COUNT(*) FROM migration_history")).scalar_one()
        schema_after = conn.execute(text("SELECT sql FROM sqlite_master ORDER BY name")).all()
    assert (before, schema_before) == (after, schema_after)
    db.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://trader:hunter2@127.0.0.1:1/nowhere",
        "mysql://trader:hunter2@localhost/x",
        "postgresql://trader:hunter2@127.0.0.1:notaport/x",
    ],
)
def test_init_script_error_is_one_masked_line(url: str, tmp_path: Path) -> None:
    result = _run(
        [sys.executable, str(ROOT / "scripts" / "init_database.py"), "--url", url],
        None,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")


def test_init_script_on_the_test_backend(fresh_url: str, tmp_path: Path) -> None:
    script = ROOT / "scripts" / "init_database.py"
    for _ in range(2):
        result = _run([sys.executable, str(script), "--url", fresh_url], None, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "[FAIL]" not in result.stdout
