"""A real PgBouncer for the tests: started in front of the test PostgreSQL, stopped after.

``start(directory, upstream)`` writes a throwaway configuration and auth file into
``directory``, starts ``pgbouncer`` on a free port of the range the tests own (55100-55199)
in transaction pooling mode and waits until its admin console answers. Every database of
the upstream server is reachable through it (``* =`` fallback), so a test's own throwaway
database needs no configuration. The pool is small on purpose (``pool_size``, 20 by default)
so that hundreds of clients really share a few server connections.

PgBouncer refuses to run as root; started by root (a CI container) it drops to the
``postgres`` user after reading its configuration (``user =``). It logs to its stderr,
kept in ``directory/pgbouncer.log`` and quoted when it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extras
import pytest
from sqlalchemy.engine import URL

#: The ports these tests may listen on.
PORTS = range(55100, 55200)
#: Environment variable naming the pgbouncer executable (default: found on PATH).
PGBOUNCER_ENV = "TRADESTORE_TEST_PGBOUNCER"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def executable() -> str | None:
    """The pgbouncer binary, or None when it is not installed (Debian puts it in /usr/sbin,
    which is not on every user's PATH)."""
    return (
        os.environ.get(PGBOUNCER_ENV)
        or shutil.which("pgbouncer")
        or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
    )


@dataclass
class PgBouncer:
    """A running pgbouncer: its port, its pool size and how to reach a database through it."""

    port: int
    pool_size: int
    user: str
    directory: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str, *, driver: str = "postgresql+psycopg2", **query: str) -> str:
        """A URL of ``database`` through this pgbouncer (``query``: e.g. pgbouncer="true")."""
        url = URL.create(
            driver, username=self.user, host="127.0.0.1", port=self.port, database=database
        ).update_query_dict(query)
        return url.render_as_string(hide_password=False)

    def connect(self, database: str) -> Any:
        """A raw psycopg2 connection through pgbouncer (a client of its own)."""
        return psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=database)

    def show(self, what: str) -> list[dict[str, Any]]:
        """``SHOW <what>`` on the admin console (POOLS, CLIENTS, SERVERS, STATS...)."""
        connection = self.connect("pgbouncer")
        try:
            connection.autocommit = True
            with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                cursor.execute(f"SHOW {what}")
                return [dict(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def pool(self, database: str) -> dict[str, Any]:
        """This database's row of ``SHOW POOLS`` (zeros before its first client)."""
        for row in self.show("POOLS"):
            if row["database"] == database:
                return row
        return {"cl_active": 0, "cl_waiting": 0, "sv_active": 0, "sv_idle": 0, "sv_used": 0}

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM (PgBouncer's immediate shutdown), then SIGKILL if it does not exit."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def require() -> None:
    """Skip the test on a developer's machine without pgbouncer; fail it under CI=true."""
    if executable() is not None:
        return
    message = f"pgbouncer is not installed (apt-get install pgbouncer, or set {PGBOUNCER_ENV})"
    if IN_CI:
        pytest.fail(f"CI=true: {message}; the PgBouncer tests cannot be skipped in CI")
    pytest.skip(message)


def running(directory: Path, upstream: URL, **options: Any) -> Iterator[PgBouncer]:
    """A fixture's body: a pgbouncer for the duration of the ``yield``, stopped however the
    tests using it end."""
    require()
    bouncer = start(directory, upstream, **options)
    try:
        yield bouncer
    finally:
        bouncer.stop()


def _free_ports() -> Iterator[int]:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        yield port


def _config(
    port: int,
    upstream: URL,
    directory: Path,
    *,
    pool_size: int,
    max_client_conn: int,
    settings: Mapping[str, str | int],
) -> str:
    server = f"host={upstream.host or '127.0.0.1'} port={upstream.port or 5432}"
    if upstream.password:
        server += f" password={upstream.password}"
    lines = [
        "[databases]",
        f"* = {server}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {directory / 'userlist.txt'}",
        f"admin_users = {upstream.username or 'postgres'}",
        "pool_mode = transaction",
        f"max_client_conn = {max_client_conn}",
        f"default_pool_size = {pool_size}",
        "min_pool_size = 0",
        "reserve_pool_size = 0",
        # No ignore_startup_parameters: a startup parameter tradestore sent that PgBouncer
        # cannot track would fail the tests instead of being dropped silently.
        "log_connections = 0",
        "log_disconnections = 0",
        *(f"{name} = {value}" for name, value in settings.items()),
    ]
    if os.geteuid() == 0:
        lines.append(f"user = {_unprivileged_user()}")
    return "\n".join(lines) + "\n"


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


def start(
    directory: Path,
    upstream: URL,
    *,
    pool_size: int = 20,
    max_client_conn: int = 300,
    settings: Mapping[str, str | int] | None = None,
) -> PgBouncer:
    """Start pgbouncer in front of ``upstream``'s server; raise if it does not come up.

    ``settings``: more ``[pgbouncer]`` lines (``query_wait_timeout``, ...)."""
    binary = executable()
    if binary is None:
        raise FileNotFoundError("pgbouncer is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    user = upstream.username or "postgres"
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    failures: list[str] = []
    for port in _free_ports():
        config = directory / "pgbouncer.ini"
        config.write_text(
            _config(
                port,
                upstream,
                directory,
                pool_size=pool_size,
                max_client_conn=max_client_conn,
                settings=settings or {},
            )
        )
        with open(directory / "pgbouncer.log", "wb") as log:
            process = subprocess.Popen([binary, str(config)], stdout=log, stderr=subprocess.STDOUT)
        bouncer = PgBouncer(port, pool_size, user, directory, process)
        if _wait_ready(bouncer):
            return bouncer
        bouncer.stop()
        failures.append(f"port {port}: {bouncer.log()[-2000:]}")
        if "Address already in use" not in failures[-1] or len(failures) > 5:
            break
    raise RuntimeError("pgbouncer did not start:\n" + "\n".join(failures))


def _wait_ready(bouncer: PgBouncer, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bouncer.process.poll() is not None:
            return False
        try:
            bouncer.show("VERSION")
            return True
        except psycopg2.OperationalError:
            time.sleep(0.05)
    return False
