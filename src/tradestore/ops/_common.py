"""Plumbing shared by the operations: progress reporting, read transactions, private files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import Connection

from tradestore.database import SQLITE_BEGIN, Database

#: ``progress(phase, done, total)``: called as long work advances. ``total`` is None when it
#: is unknown. The operations never print; the CLI turns these calls into progress bars.
Progress = Callable[[str, int, int | None], None]

#: Files that hold a copy of the database are readable by their owner only.
PRIVATE_MODE = 0o600


def no_progress(_phase: str, _done: int, _total: int | None) -> None:
    """The default ``Progress``: report nothing."""


@contextlib.contextmanager
def read_connection(database: Database) -> Iterator[Connection]:
    """A connection whose transaction only reads and is rolled back at the end.

    On SQLite it begins DEFERRED, so a long read (integrity check, export, counting) never
    takes the write lock a bot needs; in WAL mode it reads one consistent snapshot while the
    bot keeps writing.
    """
    with database.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        try:
            yield connection
        finally:
            connection.rollback()


def create_private_file(path: Path) -> None:
    """Create (or truncate) ``path`` with mode 0600, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)


def open_private(path: Path, mode: str = "wb") -> IO[bytes]:
    """Open a new binary file for writing with mode 0600 (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    os.fchmod(fd, PRIVATE_MODE)
    return os.fdopen(fd, mode)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(partial: Path, final: Path) -> None:
    """Atomically move a finished file into place and make the rename durable."""
    fsync_path(partial)
    os.replace(partial, final)
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fsync_path(final.parent)


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
