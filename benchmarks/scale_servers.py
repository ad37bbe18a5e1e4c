"""The scale benchmark's own servers: a throwaway PostgreSQL cluster and a PgBouncer.

The benchmark never touches a shared server: ``cluster()`` runs ``initdb`` under a temporary
directory (owned by the ``postgres`` OS user when run as root: PostgreSQL refuses to run as
root), starts it on a free port of 55300-55349 with settings fit for a bulk load (fsync stays
on), and stops (immediately) and removes it afterwards, also on Ctrl-C or an exception.
``bouncer()`` does the same for a PgBouncer in transaction pooling mode on a port of
55400-55449 in front of it (the approach of tests/pgbouncer/bouncer_support.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

PG_BIN = Path(os.environ.get("TRADESTORE_PG_BIN", "/usr/lib/postgresql/15/bin"))
CLUSTER_PORTS = range(55300, 55350)
BOUNCER_PORTS = range(55400, 55450)
#: A bulk load on a 2-core machine; fsync and full_page_writes stay on.
BULK_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "maintenance_work_mem": "1GB",
    "work_mem": "64MB",
    "wal_compression": "on",
    "max_connections": "100",
    "max_parallel_workers_per_gather": "1",
    "autovacuum": "on",
    "log_min_messages": "warning",
}


def _as_postgres(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def _free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@dataclass
class Cluster:
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        """A raw psycopg2 connection (autocommit off)."""
        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)

    def execute(self, sql: str, database: str = "postgres") -> None:
        connection = self.connect(database)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                _as_postgres(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                    timeout=60,
                )


@contextlib.contextmanager
def cluster(settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """A started throwaway cluster; stopped and removed afterwards whatever happened."""
    base = Path(tempfile.mkdtemp(prefix="tradestore-scale-"))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres", group="postgres")
    server = Cluster(base, _free_port(CLUSTER_PORTS))
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # a kill cleans up like Ctrl-C
    try:
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            timeout=300,
        )  # fmt: skip
        with (server.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            for name, value in {**BULK_SETTINGS, **(settings or {})}.items():
                conf.write(f"{name} = '{value}'\n")
        options = f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1"
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(server.data), "-l", str(base / "log"), "-w",
             "-t", "120", "-o", options, "start"],
            timeout=180,
        )  # fmt: skip
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@dataclass
class Bouncer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}?pgbouncer=true"

    def show(self, what: str) -> list[tuple[Any, ...]]:
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="pgbouncer"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"SHOW {what}")
                return list(cursor.fetchall())
        finally:
            connection.close()

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _pgbouncer() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
    return found


@contextlib.contextmanager
def bouncer(
    upstream: Cluster, *, pool_size: int = 20, max_client_conn: int = 300
) -> Iterator[Bouncer]:
    """PgBouncer in transaction pooling mode in front of ``upstream``; stopped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="tradestore-scale-bouncer-"))
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres", group="postgres")
    port = _free_port(BOUNCER_PORTS)
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    lines = [
        "[databases]",
        f"* = host=127.0.0.1 port={upstream.port}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {directory / 'userlist.txt'}",
        "admin_users = postgres",
        "pool_mode = transaction",
        f"max_client_conn = {max_client_conn}",
        f"default_pool_size = {pool_size}",
        "min_pool_size = 0",
        "reserve_pool_size = 0",
        "log_connections = 0",
        "log_disconnections = 0",
    ]
    if os.geteuid() == 0:
        lines.append("user = postgres")
    config = directory / "pgbouncer.ini"
    config.write_text("\n".join(lines) + "\n")
    with open(directory / "pgbouncer.log", "wb") as log:
        process = subprocess.Popen(
            [_pgbouncer(), str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    running = Bouncer(port, directory, process)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pgbouncer did not start:\n{running.log()[-2000:]}")
            try:
                running.show("VERSION")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
