"""Which database errors are safe to retry, and how long to wait between attempts.

A transaction may be re-run from the start when the database refused it without applying any
of it: SQLite's busy/locked (another writer held the lock past busy_timeout), PostgreSQL's
serialization failure and deadlock (the server rolled the transaction back), and a connection
that dropped *before* COMMIT was sent. A connection that drops *during* COMMIT is different:
the transaction may or may not have committed, so retrying could apply it twice; tradestore
raises ``CommitOutcomeUnknown`` instead and never retries it. A connection that could not be
made at all (the server is restarting) is the safest case of all: nothing was sent.
"""

from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from tradestore.errors import TransientDatabaseError

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
    "connection reset by peer",
    # TLS connections (managed PostgreSQL) die with these; SQLAlchemy's psycopg2 dialect
    # knows them too, but the compiled hot path reports errors without asking the dialect.
    "ssl syscall error: eof detected",
    "ssl syscall error: operation timed out",
    "ssl syscall error: bad file descriptor",
    "ssl error: decryption failed or bad record mac",
    "ssl error: sslv3 alert unexpected message",
    "cursor already closed",
)
#: Fragments of libpq messages for a connection that could not be made: the server is down,
#: restarting, shutting down, in recovery or failing over. psycopg2 gives these no SQLSTATE.
#: Nothing was sent, so trying again is always safe. Name resolution failures are left out:
#: they are nearly always a mistyped host, and waiting would only delay the real message.
CONNECT_FAILED_MESSAGES = (
    "connection refused",
    "is the server running",
    "could not connect to server",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is not yet accepting connections",
    "the database system is in recovery mode",
    "the database system is not accepting connections",
    "timeout expired",
)
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: a deadline in seconds, optionally a number of attempts too.

    The default rides out a PostgreSQL restart or failover (typically 2-10 s, up to about
    30 s for a large shared_buffers checkpoint) instead of reporting it: attempts are not
    counted, and no new attempt starts once ``deadline`` seconds have passed since the first
    one began. An attempt count alone cannot express that, because a refused connection
    fails in a millisecond and a SQLite lock wait takes ``busy_timeout``. Backoff is
    exponential with full jitter: competing writers spread apart instead of colliding again
    in lock step, and ``max_delay`` bounds how late a recovered server is noticed.

    ``attempts`` and ``deadline`` may both be given (whichever runs out first ends the
    retries); at least one must be, so a policy is always bounded.
    """

    attempts: int | None = None
    base_delay: float = 0.05
    max_delay: float = 1.0
    deadline: float | None = 30.0

    def __post_init__(self) -> None:
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.deadline is not None and self.deadline < 0:
            raise ValueError("deadline must not be negative")
        if self.attempts is None and self.deadline is None:
            raise ValueError("a retry policy needs attempts or a deadline (or both)")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(attempt - 1, 62)))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography

    def start(self) -> Retrying:
        """Begin counting attempts and time for one operation."""
        return Retrying(self)

    def describe(self) -> str:
        parts = []
        if self.deadline is not None:
            parts.append(f"deadline={self.deadline:g}s")
        if self.attempts is not None:
            parts.append(f"attempts={self.attempts}")
        return "RetryPolicy(" + ", ".join(parts) + ")"


class Retrying:
    """One operation's progress through a policy: the attempt number and the time spent."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.attempt = 1
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def backoff(self) -> float | None:
        """After a failed attempt: seconds to wait before the next one, None when spent.

        The last wait is cut short at the deadline, so one attempt is made right at it: a
        server that came back just in time is not reported as down.
        """
        policy = self.policy
        if policy.attempts is not None and self.attempt >= policy.attempts:
            return None
        delay = policy.delay(self.attempt)
        if policy.deadline is not None:
            remaining = policy.deadline - self.elapsed
            if remaining <= 0:
                return None
            delay = min(delay, remaining)
        self.attempt += 1
        return delay

    def gave_up(self, error: BaseException) -> str:
        """The message of the error raised when the policy is spent."""
        return (
            f"still failing after {self.attempt} attempt(s) over {self.elapsed:.1f}s "
            f"({self.policy.describe()}; configure with Database(url, retry=RetryPolicy(...)) "
            f"or run(..., retry=...)): {error}"
        )


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
    return is_connection_lost(exc) or (code is None and is_connect_failure(exc))


def is_connect_failure(exc: BaseException) -> bool:
    """True when no connection could be made (server down, starting, stopping, failing over)."""
    message = str(_root(exc)).lower()
    return any(fragment in message for fragment in CONNECT_FAILED_MESSAGES)
