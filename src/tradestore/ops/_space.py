"""Free disk space: checked before a backup or restore writes, and bounded while it writes.

A full disk is reported as :class:`~tradestore.errors.InsufficientSpace` naming the bytes
needed and free, never as a damaged backup. The size a gzip file announces (its last four
bytes) is a hint only: it is the size modulo 2**32 and anyone can forge it, so unpacking is
also *bounded*: it stops before the disk would fill, keeping :func:`headroom` free for the
live database a bot is still writing to (a small gzip bomb must not take its space).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from tradestore.errors import InsufficientSpace

#: errno values that mean "the disk (or the user's quota) is full".
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: SQLite's primary result code for "database or disk is full".
SQLITE_FULL = 13
#: At most this much is kept free for others on the disk (less on a small disk, see headroom).
MAX_HEADROOM = 64 << 20


def is_disk_full(exc: BaseException) -> bool:
    """True for an OSError with ENOSPC/EDQUOT and for SQLite's SQLITE_FULL."""
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return int(code) & 0xFF == SQLITE_FULL
        return "database or disk is full" in str(exc)
    return False


def free_bytes(directory: Path) -> int:
    """Bytes available to this process in ``directory``'s filesystem."""
    return int(shutil.disk_usage(directory).free)


def headroom(free: int) -> int:
    """What unpacking leaves free: a twentieth of the free space, at most 64 MiB."""
    return min(MAX_HEADROOM, free // 20)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def insufficient(
    directory: Path, what: str, *, needed: int | None, free: int | None, at_least: bool = False
) -> InsufficientSpace:
    """The error for ``what`` not fitting into ``directory``."""
    parts = [f"not enough free disk space in {directory} to {what}"]
    if needed is not None:
        parts.append(f"needs {'at least ' if at_least else ''}{_human(needed)} ({needed:,} bytes)")
    if free is not None:
        parts.append(f"{_human(free)} ({free:,} bytes) free")
    message = ": ".join(parts[:2]) + (f", {parts[2]}" if len(parts) > 2 else "")
    return InsufficientSpace(
        message + "; nothing was changed, free space and run it again",
        directory=str(directory),
        needed=needed,
        free=free,
    )


def require_space(directory: Path, needed: int, what: str) -> None:
    """Raise InsufficientSpace unless ``needed`` bytes fit in ``directory`` with headroom."""
    free = free_bytes(directory)
    if needed + headroom(free) > free:
        raise insufficient(directory, what, needed=needed, free=free)


def disk_full(directory: Path, what: str, *, needed: int | None = None) -> InsufficientSpace:
    """The error for a write that hit ENOSPC/SQLITE_FULL in ``directory``."""
    try:
        free: int | None = free_bytes(directory)
    except OSError:
        free = None
    return insufficient(directory, what, needed=needed, free=free, at_least=True)
