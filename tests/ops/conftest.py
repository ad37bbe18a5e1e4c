"""Fixtures for the operations tests (and, loaded by path, for the CLI tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_scenario import RetentionScenario, Writer, build_retention_scenario

from tradestore import Database


@pytest.fixture
def scenario(db: Database) -> RetentionScenario:
    return build_retention_scenario(db)


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def writer(db_url: str, db: Database, tmp_path: Path) -> Iterator[Writer]:
    process = Writer(db_url, tmp_path, db)
    yield process
    process.kill()
