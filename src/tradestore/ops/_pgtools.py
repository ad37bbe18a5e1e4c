"""Running pg_dump and pg_restore against a SQLAlchemy URL without leaking the password.

The connection goes to the tools as a libpq conninfo string (``--dbname``) that never holds
the password; the password travels in ``PGPASSWORD`` in the child's environment only, so it
appears neither in ``ps`` output nor in error messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from tradestore.config import mask_text, mask_url, split_pgbouncer_query
from tradestore.errors import BackupError

#: Directory holding pg_dump / pg_restore, when they are not on PATH or the wrong version is.
PG_BIN_ENV = "TRADESTORE_PG_BIN"


def find_tool(name: str, pg_bin: str | Path | None = None) -> str:
    """The path of ``name`` (pg_dump, pg_restore), or a BackupError naming what is missing."""
    directory = pg_bin if pg_bin is not None else os.environ.get(PG_BIN_ENV) or None
    if directory is not None:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(
            f"{name} not found in {directory} ({PG_BIN_ENV} or --pg-bin): install the "
            "PostgreSQL client tools matching the server's major version"
        )
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools (e.g. the "
            f"postgresql-client package) matching the server's major version, or set {PG_BIN_ENV}"
        )
    return found


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


@dataclass(frozen=True)
class Target:
    """Where a tool connects: a password-free conninfo and the environment carrying the rest."""

    conninfo: str
    env: Mapping[str, str]


def target(url: URL, *, lock_timeout_ms: int | None = None, pgbouncer: bool = False) -> Target:
    """How pg_dump / pg_restore reach ``url``; refused behind PgBouncer (``pgbouncer``: the
    ``Database``'s own flag, for ``Database(url, pgbouncer=True)``; or ``?pgbouncer=true``)."""
    url, in_url = split_pgbouncer_query(url)
    if pgbouncer or in_url:
        # pg_dump and pg_restore begin with session SETs (search_path, statement_timeout, ...)
        # outside any transaction: through a transaction-pooling PgBouncer they would stay on
        # whichever server connection ran them, for the next bots PgBouncer hands it to.
        raise BackupError(
            f"{mask_url(url)} is a PgBouncer (pgbouncer=true): pg_dump and pg_restore "
            "set session state that would leak to other clients there; point them at the "
            "PostgreSQL server itself (docs/operations/pgbouncer.md)"
        )
    parts: dict[str, str] = {}
    if url.host:
        parts["host"] = url.host
    if url.port:
        parts["port"] = str(url.port)
    if url.username:
        parts["user"] = url.username
    if url.database:
        parts["dbname"] = url.database
    password = url.password
    # psycopg2 hands URL query arguments to libpq as conninfo keywords; so do we.
    for key, value in url.query.items():
        text = value if isinstance(value, str) else value[-1]
        if key == "password":
            password = text
        else:
            parts[key] = text
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    if lock_timeout_ms is not None:
        options = env.get("PGOPTIONS", "")
        env["PGOPTIONS"] = f"{options} -c lock_timeout={int(lock_timeout_ms)}".strip()
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in parts.items())
    return Target(conninfo=conninfo, env=env)


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
) -> str:
    """Run a tool; return its stdout. Failure raises BackupError with its last error line.

    stderr is read line by line while the tool runs (``--verbose`` output drives the progress
    bar) and its first error line becomes the message; stdout goes to a temporary file, so
    neither pipe can fill up and stall the child.
    """
    tool = Path(argv[0]).name
    with tempfile.TemporaryFile() as out:
        try:
            process = subprocess.Popen(  # noqa: S603 - argv is built by tradestore, no shell
                list(argv),
                stdout=out,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise BackupError(f"cannot run {tool}: {exc}") from None
        errors: list[str] = []
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.rstrip("\n")
            if on_stderr_line is not None:
                on_stderr_line(line)
            if "error" in line.lower() or "fatal" in line.lower():
                errors.append(line)
        returncode = process.wait()
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    if returncode != 0:
        detail = errors[0] if errors else f"exit status {returncode}"
        raise BackupError(f"{tool} failed: {mask_text(detail)}")
    return output


def pipe(
    producer: Sequence[str],
    consumer: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    transform: Callable[[Iterator[str]], Iterator[str]] = iter,
    on_line: Callable[[int], None] | None = None,
) -> None:
    """``producer | transform | consumer``, streamed: a script of any size never sits in
    memory or on disk. Either tool failing raises BackupError with its first error line.

    A producer that fails gets its consumer killed before the consumer sees the end of its
    input, so a ``--single-transaction`` consumer rolls back rather than commit the part of
    the script that came; a consumer that stops (``ON_ERROR_STOP``) gets its producer killed.
    """
    names = (Path(producer[0]).name, Path(consumer[0]).name)
    environment = dict(env) if env is not None else None
    with tempfile.TemporaryFile() as producer_err, tempfile.TemporaryFile() as consumer_err:
        try:
            source = subprocess.Popen(  # noqa: S603 - argv is built by tradestore, no shell
                list(producer), stdout=subprocess.PIPE, stderr=producer_err, env=environment
            )
        except OSError as exc:
            raise BackupError(f"cannot run {names[0]}: {exc}") from None
        try:
            sink = subprocess.Popen(  # noqa: S603 - argv is built by tradestore, no shell
                list(consumer),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=consumer_err,
                env=environment,
            )
        except OSError as exc:
            source.kill()
            source.wait()
            raise BackupError(f"cannot run {names[1]}: {exc}") from None
        assert source.stdout is not None
        assert sink.stdin is not None
        lines = (raw.decode("utf-8", errors="surrogateescape") for raw in source.stdout)
        count = 0
        try:
            for line in transform(lines):
                sink.stdin.write(line.encode("utf-8", errors="surrogateescape"))
                count += 1
                if on_line is not None and count % 10_000 == 0:
                    on_line(count)
            produced = source.wait()
            if produced != 0:
                # Stop the consumer before it sees the end of its input: a script cut short
                # must roll back, not commit what came so far.
                sink.kill()
        except BrokenPipeError:  # the consumer stopped reading: it failed
            source.kill()
            produced = source.wait()
        finally:
            with contextlib.suppress(BrokenPipeError):
                sink.stdin.close()
            source.stdout.close()
        consumed = sink.wait()
        for returncode, name, err in (
            (produced, names[0], producer_err),
            (consumed, names[1], consumer_err),
        ):
            if returncode != 0:
                err.seek(0)
                text = err.read().decode("utf-8", errors="replace").splitlines()
                errors = [
                    line for line in text if "error" in line.lower() or "fatal" in line.lower()
                ]
                detail = (errors or text or [f"exit status {returncode}"])[0]
                raise BackupError(f"{name} failed: {mask_text(detail)}")
