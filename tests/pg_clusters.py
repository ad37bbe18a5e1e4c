"""Throwaway PostgreSQL clusters for tests that need a server of their own.

A streaming replica, WAL archiving and point-in-time recovery cannot be tried on the shared
test server (nobody may reconfigure it), so these tests run ``initdb`` under a temporary
directory, on ports of their own, as the ``postgres`` OS user when run as root (PostgreSQL
refuses to run as root). Each cluster is stopped (immediately) and removed by the fixture
that made it, also when the test fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

PG_BIN = Path(os.environ.get("TRADESTORE_PG_BIN", "/usr/lib/postgresql/15/bin"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: The ports these clusters may take (a range no other test server uses).
PORTS = range(55200, 55300)


def run_as_postgres(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres OS user then."""
    command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args
    return subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=120, **kwargs
    )


def require_tools(*names: str) -> None:
    missing = [name for name in names if not (PG_BIN / name).exists()]
    if missing:
        message = f"{', '.join(missing)} not found in {PG_BIN} (set TRADESTORE_PG_BIN)"
        if IN_CI:
            pytest.fail(f"CI=true: this test cannot be skipped: {message}")
        pytest.skip(message)


def free_port(taken: set[int] = set()) -> int:  # noqa: B006 - the ports this process handed out
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def private_dir(prefix: str) -> Path:
    """A temporary directory the postgres user owns (initdb and the archive write in it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres", group="postgres")
    return base


@dataclass
class Cluster:
    """One throwaway cluster: its directory, port and settings."""

    base: Path
    port: int
    settings: dict[str, str] = field(default_factory=dict)
    running: bool = False
    #: More postgres command-line options (``-c config_file=...`` for a Debian-like layout).
    server_options: str = ""

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        user = "postgres" if password is None else f"postgres:{password}"
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/{database}"

    def initdb(self) -> None:
        run_as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def configure(self) -> None:
        """Append ``settings`` to postgresql.conf (quoted: an archive_command has spaces)."""
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            for name, value in self.settings.items():
                quoted = value.replace("'", "''")
                conf.write(f"{name} = '{quoted}'\n")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        if self.server_options:
            options = f"{options} {self.server_options}"
        run_as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        run_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])
        self.running = False

    def log(self) -> str:
        path = self.base / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def execute(self, sql: str, database: str = "postgres") -> Any:
        """Run one statement in autocommit; the first column of the first row, if any."""
        engine = create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                result = connection.execute(text(sql))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def create_database(self, name: str) -> str:
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def throwaway_cluster(prefix: str, **settings: str) -> Iterator[Cluster]:
    """An initdb'd, started cluster; stopped and removed afterwards whatever happened."""
    require_tools("initdb", "pg_ctl")
    cluster = Cluster(private_dir(prefix), free_port(), dict(settings))
    try:
        cluster.initdb()
        cluster.configure()
        cluster.start()
        yield cluster
    finally:
        stop_and_remove(cluster)


def stop_and_remove(cluster: Cluster) -> None:
    """Stop (immediately) and remove, whatever state the cluster is in: a stop that fails or
    hangs must not keep its directory (and the test's error) from being cleaned up."""
    try:
        if cluster.running or (cluster.data / "postmaster.pid").exists():
            with suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                cluster.stop("immediate")
    finally:
        shutil.rmtree(cluster.base, ignore_errors=True)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail the test naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(0.1)
