"""Read replicas: which PostgreSQL server a read-only unit of work runs on.

``Database(url, replicas=[...])`` sends read-only units of work to a streaming replica and
everything else to the primary. A replica is used only if it answers and is fresh enough;
otherwise the read goes to the next replica or to the primary, never to an error.

**How stale is a replica?** ``now() - pg_last_xact_replay_timestamp()`` alone is wrong in
the common case of a quiet desk: when the primary commits nothing for an hour, the last
replayed commit is an hour old although the replica is missing nothing. So staleness is read
from WAL positions first. Every ``check_interval`` seconds the primary's WAL insert position
is sampled (``pg_current_wal_insert_lsn()``, one cheap statement: the insert position, not
the flushed one, because under ``synchronous_commit=off`` a commit is visible before its WAL
is flushed) together with the primary's clock; a replica whose replayed position
(``pg_last_wal_replay_lsn()``) has reached the sample taken at time *t* holds all the
primary held at *t*, so it is at most ``now - t`` behind. The replay timestamp is a second
upper bound (the replica holds every commit up to the last one it replayed): on a busy
primary it is the tighter one. It is measured against the *primary's* clock (its last
sampled ``clock_timestamp()`` moved on by this process's monotonic clock), because the
timestamp was stamped by the primary: the replica's own ``now()`` would add the skew between
the two hosts. An age below zero is logged as clock skew. The smaller bound is the lag.

**Read-your-writes.** A caller that must see its own commit passes a ``CommitToken``: the
primary's WAL insert position read after its COMMIT returned (``uow.commit_token()``), which
is at or beyond the end of that commit's record (also with ``synchronous_commit=off``). Only
a replica whose replayed position has reached it is used; otherwise the primary. The same
floor protects the schema: the primary's position when the schema check passed (or after
``upgrade()``) must be replayed before a replica serves reads, or a read could meet the
tables of an older revision.

**Down replicas** are found by the probe each read makes as its first statement on the
replica (its replayed position, so it costs nothing extra): a connection refused, lost or
timed out there (``replica_connect_timeout``) marks the replica down and it rests, doubling
from ``check_interval`` (at least a second) up to a minute while it stays down. Once the
rest is over one read probes it; the others pass it by meanwhile, so a replica that hangs
costs one read at a time one connect timeout. A full replica pool is not a verdict: the
read goes on to the next replica or the primary without waiting for the pool (its checkout
does not queue).

**The primary away.** A failed sample backs off the same way. While the primary cannot be
sampled a standby keeps serving plain reads: its lag is then reported from the replay
timestamp only and not held to ``max_replica_lag`` (nothing new is committed without a
primary, so an old last commit is expected). ``fresh=True`` needs the primary.

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
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tradestore.config import mask_text, mask_url, secret_fragments
from tradestore.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The default bound on a replica's lag.
DEFAULT_MAX_LAG = dt.timedelta(seconds=5)
#: How often the primary's WAL position is sampled, and the first rest of a down replica.
DEFAULT_CHECK_INTERVAL = 1.0
#: How long connecting to a replica may take before it counts as down (seconds). Short: the
#: primary can serve the read meanwhile, so there is no point waiting as long as for it.
DEFAULT_REPLICA_CONNECT_TIMEOUT = 2
#: The first and the longest rest of a down replica (or between samples of an unreachable
#: primary); the first is one check_interval if that is longer.
MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0
#: How long a read waits for a connection from a replica's full pool (seconds): barely at
#: all, the next replica or the primary serves it instead.
REPLICA_POOL_WAIT = 0.01
#: TCP keepalive idle time on replica connections (seconds; psycopg2): a replica host that
#: vanishes mid-read fails the read in about idle + 3 probes x idle instead of hours.
REPLICA_KEEPALIVE_IDLE = 10

#: The first statement of a read on a replica: is it a standby, how far has it replayed,
#: when was its last replayed commit (the primary's clock, epoch seconds), the replica's now.
_PROBE = text(
    "SELECT pg_is_in_recovery(), CAST(pg_last_wal_replay_lsn() AS text), "
    "EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()), EXTRACT(EPOCH FROM clock_timestamp())"
)
_PRIMARY_SAMPLE = text(
    "SELECT CAST(pg_current_wal_insert_lsn() AS text), EXTRACT(EPOCH FROM clock_timestamp())"
)
_PRIMARY_INSERTED = text("SELECT CAST(pg_current_wal_insert_lsn() AS text)")
#: Samples kept at most (one per check_interval: minutes of history at the default).
_MAX_SAMPLES = 512
#: Ages this far below zero are clock skew worth a warning, not rounding.
_SKEW_TOLERANCE = 0.5


def parse_lsn(value: str) -> int:
    """A PostgreSQL LSN (``16/B374D848``) as the integer byte position it stands for."""
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def backoff(interval: float, failures: int) -> float:
    """The rest after ``failures`` consecutive failures: first, 2 x first, 4 x ... up to
    ``MAX_BACKOFF``, where first is ``interval`` but at least ``MIN_BACKOFF`` (probing a
    down server more often than once a second only costs reads their connect timeout)."""
    first = max(MIN_BACKOFF, interval)
    return float(min(MAX_BACKOFF, first * 2 ** max(0, min(failures - 1, 16))))


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
    #: one read-your-writes read), "behind the schema" (has not replayed the migration the
    #: primary was checked at), "down", "not a standby" (promoted, or a primary).
    state: str
    #: Its lag when last probed (an upper bound, see the module docstring); None if unknown.
    #: While the primary cannot be sampled: the age of its last replayed commit.
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
    #: Consecutive times it was found down (the rest doubles with each).
    failures: int = 0
    #: A read is probing it after a rest (or for the first time): the others pass it by.
    probing: bool = False
    #: Clock skew was reported for it (once, until its ages look sane again).
    skew_logged: bool = False

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
        #: (this process's clock, the primary's epoch seconds) at the newest sample.
        self._primary_clock: tuple[float, float] | None = None
        self._next_sample = float("-inf")
        self._sampling = False
        self._primary_failures = 0
        #: The position every replica must have replayed to serve reads (the schema check).
        self._floor: int | None = None
        self._turn = itertools.count()
        #: Read-only units of work that found no usable replica and ran on the primary.
        self.primary_reads = 0

    @property
    def engines(self) -> tuple[Engine, ...]:
        return tuple(replica.engine for replica in self._replicas)

    @property
    def primary_unreachable(self) -> bool:
        """Whether the last attempt to sample the primary failed."""
        with self._lock:
            return self._primary_failures > 0

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

    def require_replayed(self, token: CommitToken) -> None:
        """From now on a replica serves reads only once it has replayed ``token`` (the
        primary's position when its schema was checked or migrated)."""
        if token.position is None:
            return
        with self._lock:
            self._floor = max(self._floor or 0, token.position)

    def record_sample(self, at: float, position: int, primary_epoch: float) -> None:
        """One sample of the primary: its WAL position and clock at ``at`` (this clock)."""
        with self._lock:
            self._samples.append((at, position))
            self._primary_clock = (at, primary_epoch)

    def _sample_if_due(self) -> None:
        """Sample the primary once per ``check_interval``, backing off while it fails (one
        thread or task at a time; the others use the samples there are)."""
        with self._lock:
            if self._sampling or self._clock() < self._next_sample:
                return
            self._sampling = True
        try:
            at = self._clock()
            try:
                with self._primary.connect() as connection:
                    value, epoch = connection.execute(_PRIMARY_SAMPLE).one()
                    connection.rollback()
            except SQLAlchemyError as exc:
                with self._lock:
                    self._primary_failures += 1
                    failures = self._primary_failures
                    rest = backoff(self.check_interval, failures)
                    self._next_sample = self._clock() + rest
                if failures == 1:
                    log.warning(
                        "the primary's WAL position cannot be sampled (%s): replicas serve "
                        "plain reads without the max_replica_lag bound until it answers; "
                        "next try in %.1f s, backing off",
                        str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200],
                        rest,
                    )
                return
            self.record_sample(at, parse_lsn(str(value)), float(epoch))
            with self._lock:
                recovered = self._primary_failures > 0
                self._primary_failures = 0
                self._next_sample = at + self.check_interval
            if recovered:
                log.info("the primary's WAL position is sampled again: lag bound in force")
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

    def replay_age(
        self, replay_epoch: float | None, replica_epoch: float, now: float
    ) -> tuple[float | None, bool]:
        """How old the replica's last replayed commit is, and whether the primary's clock
        measured it (else the replica's own, when the primary was never sampled)."""
        if replay_epoch is None:
            return None, False
        with self._lock:
            reference = self._primary_clock
        if reference is None:
            return replica_epoch - replay_epoch, False
        at, primary_epoch = reference
        return primary_epoch + (now - at) - replay_epoch, True

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
        with self._lock:
            passed_by = replica.resting_until > now or replica.probing
            trial = not passed_by and replica.state in ("unknown", "down")
            if passed_by:
                replica.skipped += 1
            elif trial:
                replica.probing = True  # one read probes it; the others pass it by meanwhile
        if passed_by:
            return None
        try:
            return self._probe(replica, after)
        finally:
            if trial:
                with self._lock:
                    replica.probing = False

    def _probe(self, replica: _Replica, after: CommitToken | None) -> Connection | None:
        connection: Connection | None = None
        try:
            connection = replica.engine.connect()
            # The same transaction as a primary's read-only unit of work: one snapshot.
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            connection.begin()
            standby, replayed_text, replay_epoch, replica_epoch = connection.execute(_PROBE).one()
        except PoolTimeout:
            # Its pool is full: busy, not down. Another replica or the primary serves this one.
            _close_quietly(connection)
            with self._lock:
                replica.skipped += 1
            log.debug("read replica %s: pool full, read passed on", replica.safe_url)
            return None
        except (SQLAlchemyError, OSError) as exc:
            _close_quietly(connection)
            secrets = secret_fragments(replica.url)
            reason = mask_text(str(getattr(exc, "orig", None) or exc), secrets).strip()
            with self._lock:
                replica.failures += 1
                rest = backoff(self.check_interval, replica.failures)
                replica.resting_until = self._clock() + rest
            first_line = reason.splitlines()[0] if reason else type(exc).__name__
            self._skip(replica, "down", f"{first_line} (next try in {rest:g} s)")
            return None
        now = self._clock()
        replayed = None if replayed_text is None else parse_lsn(str(replayed_text))
        age, by_primary = self.replay_age(
            None if replay_epoch is None else float(replay_epoch), float(replica_epoch), now
        )
        self._note_skew(replica, age, by_primary)
        lag = self._lag(replayed, age, now)
        with self._lock:
            floor = self._floor
            unbounded = self._primary_failures > 0
        state = "in use"
        if not standby:
            state = "not a standby"
        elif _behind(replayed, after):
            state = "behind a caller's write"
        elif floor is not None and (replayed is None or replayed < floor):
            state = "behind the schema"
        elif unbounded:
            lag = None if age is None else max(0.0, age)  # what is known without the primary
        elif lag is None or lag > self.max_lag:
            state = "lagging"
        if state != "in use":
            _close_quietly(connection)
            self._skip(replica, state, None, lag=lag)
            if state != "behind a caller's write":  # rests: not probed by every read
                with self._lock:
                    replica.resting_until = self._clock() + self.check_interval
                    replica.failures = 0
            return None
        with self._lock:
            previous = replica.state
            replica.state, replica.lag, replica.reads = state, lag, replica.reads + 1
            replica.last_error = None
            replica.failures = 0
        if previous not in ("in use", "unknown", "behind a caller's write"):
            log.info("read replica %s in use again (lag %.3f s)", replica.safe_url, lag or 0.0)
        return connection

    def _note_skew(self, replica: _Replica, age: float | None, by_primary: bool) -> None:
        """A commit from the future is a clock that is off: say so (once), don't hide it."""
        skewed = age is not None and age < -_SKEW_TOLERANCE
        if skewed and not replica.skew_logged:
            clock = "the primary's clock as sampled" if by_primary else "the replica's clock"
            log.warning(
                "read replica %s: its last replayed commit is %.3f s in the future by %s: "
                "clock skew between the hosts (keep them in sync with NTP); its lag is "
                "taken as 0 from the replay timestamp",
                replica.safe_url,
                -(age or 0.0),
                clock,
            )
        replica.skew_logged = skewed

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
            elif state == "behind the schema":
                detail = ": it has not replayed the primary's schema check or migration yet"
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
