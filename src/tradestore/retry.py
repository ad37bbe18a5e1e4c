"""Which database errors are safe to retry, and how long to wait between attempts.

A transaction may be re-run from the start when the database refused it without applying any
of it: SQLite's busy/locked (another writer held the lock past busy_timeout), PostgreSQL's
serialization failure and deadlock (the server rolled the transaction back), and a connection
that dropped *before* COMMIT was sent. A connection that drops *during* COMMIT is different:
the transaction may or may not have committed, so retrying could apply it twice; tradestore
raises ``CommitOutcomeUnknown`` instead and never retries it.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

#: SQLSTATEs after which PostgreSQL has rolled the transaction back and a retry is safe.
RETRYABLE_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57P01",  # admin_shutdown (pg_terminate_backend, server restart)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (server starting up)
        "08000",  # connection_exception
        "08001",  # sqlclient_unable_to_establish_sqlconnection
        "08003",  # connection_does_not_exist
        "08004",  # sqlserver_rejected_establishment_of_sqlconnection
        "08006",  # connection_failure
    }
)
#: Fragments of driver messages for connection loss that carry no SQLSTATE (psycopg2).
CONNECTION_LOST_MESSAGES = (
    "server closed the connection unexpectedly",
    "connection already closed",
    "terminating connection",
    "could not receive data from server",
    "could not send data to server",
    "ssl connection has been closed unexpectedly",
    "connection not open",
)
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff and full jitter.

    Jitter spreads competing writers apart so they do not collide again in lock step.
    """

    attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


NO_RETRY = RetryPolicy(attempts=1)


def _root(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    root = _root(exc)
    code = getattr(root, "pgcode", None)
    if code is not None:
        return code.startswith("08") or code in {"57P01", "57P02", "57P03"}
    message = str(root).lower()
    return any(fragment in message for fragment in CONNECTION_LOST_MESSAGES)


def is_transient(exc: BaseException) -> bool:
    """True when the failed transaction was not applied and may be run again."""
    from tradestore.errors import TransientDatabaseError

    if isinstance(exc, TransientDatabaseError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    root = _root(exc)
    if isinstance(root, sqlite3.OperationalError):
        message = str(root).lower()
        return any(fragment in message for fragment in SQLITE_BUSY_MESSAGES)
    code = getattr(root, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return is_connection_lost(exc)
