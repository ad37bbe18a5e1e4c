"""Plumbing shared by the operations: progress reporting, read transactions, private files."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import Connection

from tradestore.database import Database
from tradestore.db.engine import SQLITE_BEGIN
from tradestore.errors import ValidationError

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


#: The files SQLite may keep beside a database file ``x.db``: ``x.db-journal`` (rollback
#: journal), ``x.db-wal`` and ``x.db-shm`` (write-ahead log and its index).
SQLITE_SIDE_SUFFIXES = ("-journal", "-wal", "-shm")


def sqlite_files(path: Path) -> tuple[Path, ...]:
    """``path`` and every file SQLite may create beside it."""
    return (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_SUFFIXES))


def remove_sqlite_files(*paths: Path) -> None:
    """Remove scratch databases together with the journals SQLite left beside them.

    A write that fails mid-transaction (a full disk, an interrupted backup step) leaves a hot
    ``-journal`` behind even after the connection is closed; it belongs to the scratch file
    and must go with it.
    """
    for path in paths:
        remove_quietly(*sqlite_files(path))


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def refuse_live_database(target: Path, live: Path | None, *, field: str = "output") -> None:
    """Raise ValidationError when writing ``target`` would write onto the live database.

    ``target`` is compared with the database file and its ``-wal``/``-shm``/``-journal`` by
    real path (the target's directory resolved, the name itself not followed) and by inode
    (hard links, and a symbolic link that points there), so no spelling of the path slips by.
    """
    if live is None:
        return
    protected = sqlite_files(live)
    real_target = Path(os.path.realpath(target.parent)) / target.name
    real_protected = {Path(os.path.realpath(path)) for path in protected}
    followed = Path(os.path.realpath(target))
    hit = real_target in real_protected or followed in real_protected
    if not hit:
        with contextlib.suppress(OSError):
            target_stat = os.stat(target)
            for path in protected:
                with contextlib.suppress(OSError):
                    if _same_file(target_stat, os.stat(path)):
                        hit = True
    if hit:
        raise ValidationError(
            field,
            str(target),
            f"is the live database {live} (or its journal): refusing to write over it",
        )


def check_output_target(target: Path, *, force: bool, field: str = "output") -> None:
    """Refuse a target that exists (unless ``force``), or that is not a plain file name.

    The target is examined with ``lstat``: a symbolic link is never followed. With ``force``
    an existing regular file or link is *replaced* by the new file (the link's target is
    left alone); directories, devices, FIFOs and sockets are always refused.
    """
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise ValidationError(
                field, str(target), f"directory {target.parent} does not exist"
            ) from None
        return
    kind = info.st_mode
    if stat.S_ISDIR(kind):
        raise ValidationError(field, str(target), "is a directory")
    if not (stat.S_ISREG(kind) or stat.S_ISLNK(kind)):
        raise ValidationError(field, str(target), "is not a regular file (write to '-' for stdout)")
    if not force:
        what = "a symbolic link" if stat.S_ISLNK(kind) else "a file"
        raise ValidationError(
            field, str(target), f"exists ({what}): pass --force (force=True) to replace it"
        )


@contextlib.contextmanager
def atomic_output(target: Path, *, force: bool) -> Iterator[IO[bytes]]:
    """A private file beside ``target`` that becomes ``target`` only when the block succeeds.

    The temporary file is created with ``O_EXCL | O_NOFOLLOW`` and mode 0600 in the target's
    directory (so the final rename stays on one filesystem and is atomic), flushed to disk,
    then renamed into place: a reader never sees half a file, a failure leaves the old file
    (or nothing) and no temporary behind. Without ``force`` the new file is linked into place
    (``link`` fails if the name appeared meanwhile), never over a file. With ``force`` a
    replaced regular file's permission bits are kept: the operator chose them.
    """
    check_output_target(target, force=force)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(partial, flags, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        handle = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        remove_quietly(partial)
        raise
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _move_into_place(partial, target, force=force)
    finally:
        remove_quietly(partial)


def _move_into_place(partial: Path, target: Path, *, force: bool) -> None:
    if force:
        with contextlib.suppress(OSError):
            old = os.lstat(target)
            if stat.S_ISREG(old.st_mode):
                os.chmod(partial, stat.S_IMODE(old.st_mode))
        check_output_target(target, force=True)
        os.replace(partial, target)
    else:
        try:
            os.link(partial, target, follow_symlinks=False)
        except FileExistsError:
            check_output_target(target, force=False)  # raises: it appeared meanwhile
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                raise
            # A filesystem without hard links: check again, then rename.
            check_output_target(target, force=False)
            os.replace(partial, target)
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory
        fsync_path(target.parent)
