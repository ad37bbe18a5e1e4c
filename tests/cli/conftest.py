"""Running ``tradestore`` in-process (click's CliRunner) and as a real subprocess.

The test data builders live in tests/ops/ops_scenario.py; they are loaded from there by path
so both test folders share one definition.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sibling import load
from tradestore import Database
from tradestore.cli import main

scenario_module = load("ops/ops_scenario.py")

#: The console script installed beside this interpreter (``pip install -e .``).
SCRIPT = Path(sys.executable).with_name("tradestore")


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the command in-process; the environment never supplies a database URL."""

    def invoke(*args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None, "COLUMNS": "200"}
        return runner.invoke(main, list(args), input=input, env=env)  # type: ignore[arg-type]

    return invoke


@pytest.fixture
def run() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``tradestore`` script as a separate process."""

    def execute(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            k: v
            for k, v in os.environ.items()
            if k not in ("TRADESTORE_DATABASE_URL", "DATABASE_URL")
        }
        environment.update(env or {})
        command: Sequence[str] = (
            [str(SCRIPT), *args]
            if SCRIPT.exists()
            else [sys.executable, "-m", "tradestore.cli", *args]
        )
        return subprocess.run(
            list(command), capture_output=True, text=True, env=environment, timeout=timeout
        )

    return execute


@pytest.fixture
def scenario(db: Database) -> object:
    return scenario_module.build_retention_scenario(db)


@pytest.fixture
def writer(db_url: str, db: Database, tmp_path: Path) -> Iterator[object]:
    process = scenario_module.Writer(db_url, tmp_path, db)
    yield process
    process.kill()
