"""Read replicas: which PostgreSQL server a read-only unit of work runs on.

``Database(url, replicas=[...])`` sends read-only units of work to a streaming replica and
everything else to the primary. A replica is used only if it answers and is fresh enough;
otherwise the read goes to the next replica or to the primary, never to an error.

**How stale is a replica?** ``now() - pg_last_xact_replay_timestamp()`` alone is wrong in
the common case of a quiet desk: when the primary commits nothing for an hour, the last
replayed commit is an hour old although the replica is missing nothing. So staleness is read
from WAL positions first. Every ``check_interval`` seconds the primary's flushed WAL position
is sampled (``pg_current_wal_flush_lsn()``, one cheap statement); a replica whose replayed
position (``pg_last_wal_replay_lsn()``) has reached the sample taken at time *t* holds all
the primary held at *t*, so it is at most ``now - t`` behind. The replay timestamp is a
second upper bound (the replica holds every commit up to the last one it replayed): on a busy
primary it is the tighter one. The smaller of the two is the lag; a replica that has reached
the newest sample is at most one ``check_interval`` behind however old its last commit.

**Read-your-writes.** A caller that must see its own commit passes a ``CommitToken``: the
primary's WAL insert position read after its COMMIT returned (``uow.commit_token()``), which
is at or beyond the end of that commit's record (also with ``synchronous_commit=off``). Only
a replica whose replayed position has reached it is used; otherwise the primary.

**Down replicas** are found by the probe each read makes as its first statement on the
replica (its replayed position, so it costs nothing extra): a connection refused or lost
there marks the replica down for ``check_interval`` seconds and the read moves on. A replica
that went down *during* a read fails that read like a lost primary connection would
(``TransientDatabaseError``); the next read goes elsewhere.

State changes (a replica skipped, a replica in use again) are logged once each, with the
URL's password masked; ``ReplicaSet.status()`` reports per replica what it was last found
to be, its lag, and how many reads it served and skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from tradestore.config import mask_text, mask_url, secret_fragments
from tradestore.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The default bound on a replica's lag.
DEFAULT_MAX_LAG = dt.timedelta(seconds=5)
#: How often the primary's WAL position is sampled, and how long a down replica rests.
DEFAULT_CHECK_INTERVAL = 1.0

#: The first statement of a read on a replica: is it a standby, how far has it replayed, how
#: old is its last replayed commit (server-side, in seconds).
_PROBE = text(
    "SELECT pg_is_in_recovery(), CAST(pg_last_wal_replay_lsn() AS text), "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)
_PRIMARY_FLUSHED = text("SELECT CAST(pg_current_wal_flush_lsn() AS text)")
_PRIMARY_INSERTED = text("SELECT CAST(pg_current_wal_insert_lsn() AS text)")
#: Samples kept at most (one per check_interval: minutes of history at the default).
_MAX_SAMPLES = 512


def parse_lsn(value: str) -> int:
    """A PostgreSQL LSN (``16/B374D848``) as the integer byte position it stands for."""
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class CommitToken:
    """Where the primary's WAL was once a write unit of work had committed.

    Pass it as ``db.unit_of_work(readonly=True, consistent_with=token)``: the read runs on a
    replica that has replayed that far, or on the primary. ``position`` is None where there is
    nothing to wait for (SQLite, a Database without replicas): any server will do.
    """

    position: int | None

    def __str__(self) -> str:
        return "primary" if self.position is None else format_lsn(self.position)


#: The token of a Database whose reads all run on the primary anyway.
ANY_SERVER = CommitToken(None)


@dataclass(frozen=True)
class ReplicaStatus:
    """What the last read that considered a replica found it to be."""

    #: The replica's URL, password masked.
    url: str
    #: "unknown" (not tried yet), "in use", "lagging", "behind a caller's write" (skipped for
    #: one read-your-writes read), "down", "not a standby" (promoted, or a primary).
    state: str
    #: Its lag when last probed (an upper bound, see the module docstring); None if unknown.
    lag: dt.timedelta | None
    #: Read-only units of work it served / it was passed over for.
    reads: int
    skipped: int
    #: Why it was last found down, password masked.
    last_error: str | None


@dataclass
class _Replica:
    url: URL
    engine: Engine
    state: str = "unknown"
    lag: float | None = None
    reads: int = 0
    skipped: int = 0
    last_error: str | None = None
    resting_until: float = 0.0

    @property
    def safe_url(self) -> str:
        return mask_url(self.url)


def replica_settings(max_lag: dt.timedelta | float, check_interval: float) -> tuple[float, float]:
    """The two settings in seconds, refused (naming them) when they cannot work."""
    seconds = max_lag.total_seconds() if isinstance(max_lag, dt.timedelta) else float(max_lag)
    if not seconds > 0:
        raise ConfigurationError(f"max_replica_lag={max_lag!r}: must be a positive duration")
    if not check_interval > 0:
        raise ConfigurationError(f"replica_check_interval={check_interval!r}: must be > 0 seconds")
    if check_interval >= seconds:
        raise ConfigurationError(
            f"replica_check_interval={check_interval!r} s is not below max_replica_lag "
            f"({seconds:g} s): a caught-up replica can look up to one interval behind, so it "
            "would always be skipped; lower replica_check_interval"
        )
    return seconds, float(check_interval)


class ReplicaSet:
    """The replicas of one primary, and the choice of one for each read-only unit of work.

    Thread- and task-safe: the lock guards only in-memory state and is never held across a
    statement (an async unit of work awaits inside its statements, and a thread lock held
    across an await would stall every other task).
    """

    def __init__(
        self,
        primary: Engine,
        replicas: Sequence[tuple[URL, Engine]],
        *,
        max_lag: float,
        check_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._replicas = [_Replica(url, engine) for url, engine in replicas]
        self.max_lag = max_lag
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque(maxlen=_MAX_SAMPLES)
        self._sampled_at = float("-inf")
        self._sampling = False
        self._turn = itertools.count()
        #: Read-only units of work that found no usable replica and ran on the primary.
        self.primary_reads = 0

    @property
    def engines(self) -> tuple[Engine, ...]:
        return tuple(replica.engine for replica in self._replicas)

    def dispose(self) -> None:
        for replica in self._replicas:
            replica.engine.dispose()

    def status(self) -> tuple[ReplicaStatus, ...]:
        with self._lock:
            return tuple(
                ReplicaStatus(
                    url=r.safe_url,
                    state=r.state,
                    lag=None if r.lag is None else dt.timedelta(seconds=r.lag),
                    reads=r.reads,
                    skipped=r.skipped,
                    last_error=r.last_error,
                )
                for r in self._replicas
            )

    # --- the primary's position -----------------------------------------------------------

    def primary_position(self) -> CommitToken:
        """The primary's WAL insert position now: a token every commit returned so far meets."""
        with self._primary.connect() as connection:
            value = connection.execute(_PRIMARY_INSERTED).scalar_one()
            connection.rollback()
        return CommitToken(parse_lsn(str(value)))

    def _sample_if_due(self) -> None:
        """Sample the primary's flushed position once per ``check_interval`` (one thread or
        task at a time; the others use the samples there are)."""
        with self._lock:
            if self._sampling or self._clock() - self._sampled_at < self.check_interval:
                return
            self._sampling = True
        try:
            at = self._clock()
            try:
                with self._primary.connect() as connection:
                    value = connection.execute(_PRIMARY_FLUSHED).scalar_one()
                    connection.rollback()
            except SQLAlchemyError as exc:
                # No sample: the replay timestamp still bounds the lag, so reads can go on on
                # a replica while the primary is away.
                log.debug("primary WAL position not sampled: %s", exc)
                return
            with self._lock:
                self._samples.append((at, parse_lsn(str(value))))
                self._sampled_at = at
        finally:
            with self._lock:
                self._sampling = False

    def _lag(self, replayed: int | None, replay_age: float | None, now: float) -> float | None:
        """The smaller of the two upper bounds on how far behind the replica is (seconds)."""
        bounds = [] if replay_age is None else [max(0.0, replay_age)]
        if replayed is not None:
            with self._lock:
                reached = [at for at, position in self._samples if position <= replayed]
            if reached:
                bounds.append(max(0.0, now - max(reached)))
        return min(bounds) if bounds else None

    # --- choosing ---------------------------------------------------------------------------

    def open_read(self, after: CommitToken | None = None) -> tuple[Connection, URL] | None:
        """A connection on a usable replica with its read transaction begun, or None.

        ``after``: only a replica that has replayed this far is usable (read-your-writes).
        None means: run on the primary. Nothing here raises for a replica that is down.
        """
        if not self._replicas:
            return None
        self._sample_if_due()
        start = next(self._turn)
        count = len(self._replicas)
        for offset in range(count):
            replica = self._replicas[(start + offset) % count]
            found = self._try(replica, after)
            if found is not None:
                return found, replica.url
        with self._lock:
            self.primary_reads += 1
        return None

    def _try(self, replica: _Replica, after: CommitToken | None) -> Connection | None:
        now = self._clock()
        if replica.resting_until > now:
            self._skip(replica, replica.state, None)
            return None
        connection: Connection | None = None
        try:
            connection = replica.engine.connect()
            connection.begin()
            standby, replayed_text, age = connection.execute(_PROBE).one()
        except (SQLAlchemyError, OSError) as exc:
            _close_quietly(connection)
            secrets = secret_fragments(replica.url)
            reason = mask_text(str(getattr(exc, "orig", None) or exc), secrets).strip()
            self._skip(replica, "down", reason.splitlines()[0] if reason else type(exc).__name__)
            with self._lock:
                replica.resting_until = self._clock() + self.check_interval
            return None
        replayed = None if replayed_text is None else parse_lsn(str(replayed_text))
        lag = self._lag(replayed, None if age is None else float(age), self._clock())
        state = "in use"
        if not standby:
            state = "not a standby"
        elif _behind(replayed, after):
            state = "behind a caller's write"
        if state == "in use" and (lag is None or lag > self.max_lag):
            state = "lagging"
        if state != "in use":
            _close_quietly(connection)
            self._skip(replica, state, None, lag=lag)
            if state != "behind a caller's write":  # rests: not probed by every read
                with self._lock:
                    replica.resting_until = self._clock() + self.check_interval
            return None
        with self._lock:
            previous = replica.state
            replica.state, replica.lag, replica.reads = state, lag, replica.reads + 1
            replica.last_error = None
        if previous not in ("in use", "unknown", "behind a caller's write"):
            log.info("read replica %s in use again (lag %.3f s)", replica.safe_url, lag or 0.0)
        return connection

    def _skip(
        self, replica: _Replica, state: str, error: str | None, *, lag: float | None = None
    ) -> None:
        with self._lock:
            previous = replica.state
            replica.skipped += 1
            if state == "behind a caller's write":
                return  # one read's demand, not a verdict on the replica
            replica.state = state
            if lag is not None or state == "down":
                replica.lag = lag
            if error is not None:
                replica.last_error = error
        if previous != state:
            detail = f": {error}" if error else ""
            if state == "lagging":
                shown = "unknown" if lag is None else f"{lag:.3f} s"
                detail = f": lag {shown} > max_replica_lag {self.max_lag:g} s"
            log.warning(
                "read replica %s skipped (%s%s); reads go to another replica or the primary",
                replica.safe_url,
                state,
                detail,
            )


def _behind(replayed: int | None, after: CommitToken | None) -> bool:
    """Whether a replica at ``replayed`` has not yet replayed the caller's ``after``."""
    if after is None or after.position is None:
        return False
    return replayed is None or replayed < after.position


def _close_quietly(connection: Connection | None) -> None:
    if connection is None:
        return
    try:
        connection.rollback()
        connection.close()
    except SQLAlchemyError:
        try:
            connection.invalidate()
            connection.close()
        except SQLAlchemyError:
            log.debug("closing a replica connection failed", exc_info=True)
