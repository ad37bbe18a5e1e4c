"""The ``Database``: engine set-up, sessions, units of work, upgrade and the schema check.

A bot creates one ``Database`` at start-up and opens a unit of work per logical operation:

    db = Database.from_env()
    with db.unit_of_work(bot_id="alpha") as uow:
        uow.positions.open(...)

SQLite connections get the source schema's "optimized connection" pragmas. Transactions on
SQLite start with ``BEGIN IMMEDIATE`` (the SQLAlchemy documentation's pysqlite recipe): a
writer takes the write lock up front and waits ``busy_timeout`` for it, instead of failing with
"database is locked" when a deferred read transaction tries to upgrade to a write. The same
recipe makes SQLite DDL transactional, so a failed migration leaves nothing half-applied.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tradestore.config import (
    mask_text,
    mask_url,
    resolve_url,
    secret_fragments,
)
from tradestore.db.connections import ThreadConnection, ThreadConnections
from tradestore.db.engine import (
    SQLITE_BEGIN,
    behind_pgbouncer,
    create_engine_for,
    register_engine,
    thread_connections_for,
)
from tradestore.db.errors import UPGRADE_HINT, translate_errors
from tradestore.db.executor import Clock, Executor, utc_now
from tradestore.db.partitioning import INTERVALS
from tradestore.db.replicas import (
    ANY_SERVER,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_MAX_LAG,
    DEFAULT_REPLICA_CONNECT_TIMEOUT,
    REPLICA_KEEPALIVE_IDLE,
    REPLICA_POOL_WAIT,
    CommitToken,
    ReplicaSet,
    ReplicaStatus,
    replica_settings,
)
from tradestore.db.retry import NO_RETRY, Retrying, RetryPolicy, is_connection_lost
from tradestore.errors import (
    CommitOutcomeUnknown,
    ConfigurationError,
    DatabaseUnavailable,
    MigrationError,
    NestedUnitOfWork,
    SchemaOutOfDate,
    SchemaTooNew,
    TradestoreError,
    TransactionAborted,
    TransientDatabaseError,
    ValidationError,
)
from tradestore.migrate import (
    SLEEP_ATTRIBUTE,
    alembic_config,
    current_heads,
    head_revision,
    known_revisions,
)
from tradestore.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """The constructor's arguments after the URL, as one value for ``_set_up``."""

    check_schema: bool
    retry: RetryPolicy | None
    clock: Clock | None
    engine_options: dict[str, Any]
    #: Read replicas of a PostgreSQL primary (docs/operations/replicas.md).
    replicas: tuple[URL, ...] = ()
    max_replica_lag: dt.timedelta | float = DEFAULT_MAX_LAG
    replica_check_interval: float = DEFAULT_CHECK_INTERVAL
    replica_connect_timeout: int = DEFAULT_REPLICA_CONNECT_TIMEOUT

    def replica_engine_options(self) -> dict[str, Any]:
        """The engine options of a replica: the primary's, with a connect timeout of its own
        (the primary serves the read meanwhile: no point waiting long), a pool checkout that
        does not queue (a full pool passes the read on) and TCP keepalives."""
        return {
            **self.engine_options,
            "connect_timeout": self.replica_connect_timeout,
            "pool_timeout": REPLICA_POOL_WAIT,
            "keepalives_idle": self.engine_options.get("keepalives_idle") or REPLICA_KEEPALIVE_IDLE,
        }

    def replica_urls(self, primary: URL) -> tuple[URL, ...]:
        """The replicas' URLs, refused when the primary cannot have any (SQLite)."""
        if not self.replicas:
            return ()
        if primary.get_backend_name() != "postgresql":
            raise ConfigurationError(
                f"replicas= on {mask_url(primary)}: read replicas are PostgreSQL streaming "
                "replicas; a SQLite database has none (remove replicas=)"
            )
        for url in self.replicas:
            if url.get_backend_name() != "postgresql":
                raise ConfigurationError(
                    f"replica {mask_url(url)} is not a PostgreSQL URL: a replica of "
                    f"{mask_url(primary)} must be one"
                )
        replica_settings(self.max_replica_lag, self.replica_check_interval)  # refused early
        if not (isinstance(self.replica_connect_timeout, int) and self.replica_connect_timeout > 0):
            raise ConfigurationError(
                f"replica_connect_timeout={self.replica_connect_timeout!r}: must be a whole "
                "number of seconds > 0 (libpq's connect_timeout)"
            )
        return self.replicas


class BaseDatabase:
    """What ``Database`` and ``tradestore.aio.AsyncDatabase`` share: how they are made
    (one signature: the same URL spellings and options), and what they say of themselves."""

    url: URL

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        check_schema: bool = True,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        replicas: Sequence[str | URL] = (),
        max_replica_lag: dt.timedelta | float = DEFAULT_MAX_LAG,
        replica_check_interval: float = DEFAULT_CHECK_INTERVAL,
        replica_connect_timeout: int = DEFAULT_REPLICA_CONNECT_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        if isinstance(replicas, str | URL):
            replicas = [replicas]  # one replica given bare: not a sequence of characters
        settings = Settings(
            check_schema,
            retry,
            clock,
            engine_options,
            replicas=tuple(resolve_url(replica) for replica in replicas),
            max_replica_lag=max_replica_lag,
            replica_check_interval=replica_check_interval,
            replica_connect_timeout=replica_connect_timeout,
        )
        self._set_up(resolve_url(url), settings)

    def _set_up(self, url: URL, settings: Settings) -> None:
        raise NotImplementedError  # pragma: no cover - each subclass builds its engine

    @classmethod
    def from_env(cls, **options: Any) -> Self:
        """TRADESTORE_DATABASE_URL, else DATABASE_URL, else sqlite:///data/tradestore.db."""
        return cls(None, **options)

    @property
    def dialect_name(self) -> str:
        return self.url.get_backend_name()

    @property
    def safe_url(self) -> str:
        """The URL with its password masked: the only form that goes into messages."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.safe_url!r})"


class Database(BaseDatabase):
    """One database: its engine, its clock and schema state.

    Create one per process and share it between threads; units of work are per thread.
    ``clock`` is where every timestamp the library writes comes from (by default the host's
    UTC clock): a backtest passes its simulated clock and its history carries simulated times.
    """

    #: The per-thread SQLite connections (db.connections); None on PostgreSQL and async.
    _thread_connections: ThreadConnections | None
    #: The read replicas (``replicas=``); None without them.
    _replicas: ReplicaSet | None

    def _set_up(self, url: URL, settings: Settings) -> None:
        replica_urls = settings.replica_urls(url)
        self._attach(url, create_engine_for(url, **settings.engine_options), settings)
        self._thread_connections = thread_connections_for(self.engine)  # none on async
        if replica_urls:
            engines = [
                (replica, create_engine_for(replica, **settings.replica_engine_options()))
                for replica in replica_urls
            ]
            self._use_replicas(engines, settings)

    def _use_replicas(self, engines: Sequence[tuple[URL, Engine]], settings: Settings) -> None:
        """Route read-only units of work over these replica engines (see db.replicas)."""
        max_lag, interval = replica_settings(
            settings.max_replica_lag, settings.replica_check_interval
        )
        for _url, engine in engines:
            register_engine(engine)
        self._replicas = ReplicaSet(self.engine, engines, max_lag=max_lag, check_interval=interval)

    def replica_status(self) -> tuple[ReplicaStatus, ...]:
        """Each replica as the last read found it (state, lag, reads, skips): for monitoring.

        Empty without replicas. ``primary_reads`` counts the reads that found none usable.
        """
        return () if self._replicas is None else self._replicas.status()

    @property
    def primary_reads(self) -> int:
        """Read-only units of work that had replicas to choose from and ran on the primary."""
        return 0 if self._replicas is None else self._replicas.primary_reads

    def _attach(
        self,
        url: URL,
        engine: Engine,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        writing: WriterFlag | None = None,
        schema_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        """Set up over ``engine``: the body ``tradestore.aio`` reuses on an async engine's
        ``sync_engine``, where waiting is ``sleep`` (an awaited one), the nested-writer rule
        is per task (``writing``) and no thread lock is taken (``schema_lock``)."""
        self.url: URL = url
        self.retry_policy = settings.retry or RetryPolicy()
        self.clock: Clock = settings.clock or utc_now
        self.engine: Engine = engine
        self._read_engine = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        self._check_schema = settings.check_schema
        self._schema_checked = False
        self._schema_lock = schema_lock if schema_lock is not None else threading.Lock()
        self._thread_connections = None
        self._writing: WriterFlag = writing if writing is not None else ThreadFlag()
        self._sleep = sleep
        self._replicas = None
        register_engine(engine)

    @property
    def pgbouncer(self) -> bool:
        """Whether the server is a PgBouncer pooling transactions (``pgbouncer=True`` or
        ``?pgbouncer=true``): backup and restore refuse to run through it."""
        return behind_pgbouncer(self.engine)

    def dispose(self) -> None:
        if self._thread_connections is not None:
            self._thread_connections.close()
        self.engine.dispose()
        if self._replicas is not None:
            self._replicas.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def session(
        self, *, readonly: bool = False, retry: RetryPolicy | None = None
    ) -> Iterator[Session]:
        """An ORM Session in one unit of work's transaction, for queries of your own.

        The same transaction rules as :meth:`unit_of_work`, whose ``uow.session`` this is.
        """
        with self.unit_of_work(readonly=readonly, retry=retry) as uow:
            yield uow.session

    @contextmanager
    def unit_of_work(
        self,
        bot_id: str | None = None,
        *,
        readonly: bool = False,
        retry: RetryPolicy | None = None,
        consistent_with: CommitToken | None = None,
        fresh: bool = False,
    ) -> Iterator[UnitOfWork]:
        """One transaction with the repositories of ``bot_id`` (trading) and the shared ones.

        Commits when the block finishes, rolls back if it raises. Connect and BEGIN (and the
        schema check, the first time) are retried under ``retry`` or the Database's policy,
        so a server restart costs a reconnect (nothing has happened yet); the block itself
        is not re-run: :meth:`run` re-runs a whole unit of work on a transient failure
        inside it (lock timeout, serialization failure, dropped connection), which surfaces
        here as ``TransientDatabaseError``.

        ``readonly=True`` starts a deferred transaction on SQLite, so readers never wait for
        the write lock, and rolls back at the end; on PostgreSQL (psycopg2) it is a
        ``REPEATABLE READ, READ ONLY`` transaction: every read of the block sees one snapshot
        (a report, ``bots.recovery_state``), and it never waits or fails on a writer. A write
        asked of it raises ``ReadOnlyUnitOfWork`` naming the call, before the statement runs
        (and PostgreSQL refuses a write of the bot's own SQL itself), instead of being rolled
        back without a word. One write unit of work per thread at a
        time: a second one opened inside the first raises ``NestedUnitOfWork`` (see
        :meth:`_enter_writer`). Read-only ones may nest.

        With ``replicas=``, a read-only unit of work runs on a replica that answers and lags
        at most ``max_replica_lag``, else on the primary (docs/operations/replicas.md).
        ``consistent_with=uow.commit_token()`` (of a write unit of work that has committed)
        or ``fresh=True`` (everything committed before this call) restricts it to a replica
        that has replayed that far: read-your-writes. Writes always run on the primary.
        """
        if not readonly and (consistent_with is not None or fresh):
            name = "consistent_with" if consistent_with is not None else "fresh"
            raise ValidationError(
                name,
                consistent_with if consistent_with is not None else fresh,
                "applies to readonly=True units of work: writes always run on the primary",
            )
        slots = None if readonly else self._thread_connections
        if not readonly:
            self._enter_writer()
        slot = None
        try:
            slot = slots.claim() if slots is not None else None
            replica = self._open_replica(consistent_with, fresh) if readonly else None
            if replica is not None:
                connection, where = replica
            else:
                connection, where = self._begin(readonly=readonly, slot=slot, retry=retry), self.url
            executor = Executor(
                connection,
                clock=self.clock,
                transaction=connection.get_transaction(),
                readonly=readonly,
            )
            uow = UnitOfWork(executor, bot_id=bot_id, readonly=readonly)
            try:
                try:
                    with translate_errors(where, readonly=readonly):
                        yield uow
                        # A refusal the block caught may have left the transaction unable
                        # to commit: raise rather than let COMMIT drop its writes silently.
                        aborted = None if readonly else uow._finish()
                        if aborted is not None:
                            raise aborted
                except BaseException:
                    uow._close()
                    if readonly:
                        _query_only(connection, False)
                    _quiet_rollback(connection)
                    raise
                with translate_errors(where, committing=not readonly):
                    uow._close()
                    if readonly:
                        _query_only(connection, False)
                        connection.rollback()
                    else:
                        connection.commit()
                if not readonly:
                    uow._committed(self._commit_token)
            finally:
                if slot is None:
                    connection.close()
        finally:
            if not readonly:
                self._writing.set(False)
            if slots is not None and slot is not None:
                slots.release(slot)

    def _open_replica(
        self, consistent_with: CommitToken | None, fresh: bool
    ) -> tuple[Connection, URL] | None:
        """A replica's connection for a read-only unit of work, or None for the primary.

        The first unit of work checks the schema on the primary (``_begin``); replicas are
        the primary's copies, so once it is checked they are too.
        """
        replicas = self._replicas
        if replicas is None or (self._check_schema and not self._schema_checked):
            return None
        after = consistent_with
        if fresh:
            try:
                with translate_errors(self.url):
                    after = replicas.primary_position()
            except DatabaseUnavailable:
                return None  # the primary path waits for it (or reports it) under the policy
        return replicas.open_read(after)

    def _commit_token(self) -> CommitToken:
        """What ``uow.commit_token()`` returns after a write unit of work committed."""
        if self._replicas is None:
            return ANY_SERVER
        with translate_errors(self.url):
            return self._replicas.primary_position()

    def _enter_writer(self) -> None:
        """Refuse a write unit of work nested in another one of this thread, at once.

        On SQLite the inner one's ``BEGIN IMMEDIATE`` waits for the write lock that the outer
        one holds: ``busy_timeout`` per attempt, for the whole retry policy, then "database is
        locked". On PostgreSQL it is a second transaction that cannot see the outer one's
        uncommitted rows, commits on its own, and blocks forever on a row the outer one has
        locked (the server sees no deadlock: the outer one waits on the client, not on a
        lock). The same rule on both backends, so code that passes on one does not hang on
        the other. Read-only sessions take no write locks and may nest.
        """
        if self._writing.get():
            raise NestedUnitOfWork(
                f"a unit of work is already open in this {self._writing.where} on "
                f"{self.safe_url}: a second "
                "one would wait for the first one's locks and commit separately. Pass the "
                "open `uow` down to the code that needs it instead of opening another "
                "(a `readonly=True` unit of work may be used for reads)"
            )
        self._writing.set(True)

    def run(
        self,
        work: Callable[[UnitOfWork], T],
        *,
        bot_id: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> T:
        """Run ``work(uow)`` in a unit of work, re-running it whole on transient failures.

        ``work`` must be safe to run again from the start: it is, as long as it only touches
        the database through ``uow`` (its writes were rolled back) and has no other side
        effects. Attempts, deadline and backoff come from ``retry`` or the Database's policy
        (by default 30 s: a server restart is waited out); when it is spent the last error is
        raised as ``TransientDatabaseError`` saying so. A failure while COMMIT was in flight
        is settled rather than guessed on PostgreSQL: ``run`` asks the server what became of
        the transaction (see :meth:`_settle_commit`); committed, the result is returned; not
        committed, ``work`` runs again; only an answer that cannot be had (or trusted) within
        the policy raises ``CommitOutcomeUnknown``. (SQLite's COMMIT runs in this process:
        it succeeds or fails, it is never in flight.)
        """
        progress = (retry or self.retry_policy).start()
        while True:
            marker: _CommitMarker | None = None
            wrote = True
            try:
                # Connect/BEGIN failures come here too: one policy, one deadline, not two
                # nested ones multiplying each other.
                with self.unit_of_work(bot_id, retry=NO_RETRY) as uow:
                    result = work(uow)
                    if self.dialect_name == "postgresql" and uow.executor.failure() is None:
                        marker = _commit_marker(uow)
                        wrote = marker is not None
                return result
            except CommitOutcomeUnknown as exc:
                if not wrote:
                    return result  # it wrote nothing: whatever COMMIT did, nothing changed
                if marker is None:
                    raise
                if self._settle_commit(marker, progress, exc):
                    return result
                # Aborted: nothing of it was applied, so it is run again like any transient.
            except TransientDatabaseError as exc:
                _wait_or_give_up(progress, exc, self._sleep)
            except TransactionAborted as exc:
                # The work caught a transient error (a deadlock, a dropped connection) and
                # went on; the block was refused at its end. Nothing was applied: run again.
                if not isinstance(exc.first_error, TransientDatabaseError):
                    raise
                _wait_or_give_up(progress, exc.first_error, self._sleep)

    def _settle_commit(
        self, marker: _CommitMarker, progress: Retrying, unknown: CommitOutcomeUnknown
    ) -> bool:
        """After a connection lost during COMMIT: True if the transaction committed.

        A server restart ends backends at any point, also between the COMMIT reaching the
        server and its answer reaching the client, so a bot riding out restarts meets this
        every few restarts. Once the server answers again, the commit log says what became
        of the transaction id (``pg_xact_status``), with one caveat: a crash that loses WAL
        (an immediate stop, a power loss with ``synchronous_commit=off``, a failover to an
        async standby) hands the lost ids out again. So the answer is read with the server's
        start time:

        * same server process: "committed" returns the result, "aborted" runs the work
          again, "in progress" (the old backend still finishing) is asked again;
        * restarted: an id not yet handed out again, or "aborted", or one "in progress"
          (which can only be a new transaction's) means this transaction never became
          durable: run again. "committed" may be another transaction's: ``unknown``.

        No answer within the policy re-raises ``unknown``, the honest outcome.
        """
        while True:
            try:
                with self.connect() as connection:
                    row = connection.execute(_XACT_STATUS, {"xid": marker.xid}).one()
                    connection.rollback()
            except TransientDatabaseError as exc:
                if not _pause(progress, self._sleep):
                    raise unknown from exc
                continue
            except TradestoreError as exc:
                raise unknown from exc
            status, started = row
            restarted = started != marker.server_started
            if status == "committed" and not restarted:
                log.info("COMMIT outcome settled: transaction %s committed", marker.xid)
                return True
            if status in ("aborted", "not assigned") or (restarted and status == "in progress"):
                log.info(
                    "COMMIT outcome settled: transaction %s did not commit (%s%s), running again",
                    marker.xid,
                    status,
                    ", server restarted" if restarted else "",
                )
                return False
            if restarted or status is None or not _pause(progress, self._sleep):
                raise unknown

    def _begin(
        self,
        *,
        readonly: bool,
        slot: ThreadConnection | None = None,
        retry: RetryPolicy | None = None,
    ) -> Connection:
        """A connection whose transaction has begun, retrying connect/BEGIN on transient errors.

        The schema check is inside the retried part: it is the first connection a bot makes,
        and a bot started while its server restarts should wait, not crash. ``slot`` is this
        thread's reusable connection (SQLite writers, see db.connections); without one a
        connection comes from the pool.
        """
        engine = self._read_engine if readonly else self.engine
        progress = (retry or self.retry_policy).start()
        while True:
            connection: Connection | None = None
            try:
                with translate_errors(self.url):
                    self.ensure_schema()
                    connection = slot.connection if slot is not None else engine.connect()
                    if readonly:
                        _read_only_snapshot(connection)
                    connection.begin()  # BEGIN (IMMEDIATE on SQLite writers)
                    if readonly:
                        _query_only(connection, True)
                return connection
            except TransientDatabaseError as exc:
                _discard_connection(connection, slot)
                _wait_or_give_up(progress, exc, self._sleep)
            except BaseException:
                _discard_connection(connection, slot)
                raise

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A raw SQLAlchemy connection for bulk and maintenance work, errors translated."""
        with translate_errors(self.url), self.engine.connect() as connection:
            yield connection

    # --- schema ---------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        """The revision the database is at, or None for a database never migrated."""

        with self.connect() as connection:
            heads = current_heads(connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"}))
            connection.rollback()
        return heads[0] if heads else None

    def upgrade(self, revision: str = "head", *, partitioning: str | None = None) -> None:
        """Migrate to ``revision``; the same as ``alembic upgrade head`` for the default.

        ``partitioning`` is how revision 0016 cuts the history tables on PostgreSQL when it
        runs: ``"month"`` (the default), ``"day"``, ``"week"``, ``"quarter"``, ``"year"``, or
        ``"none"`` for plain tables (``alembic -x partitioning=...``); ignored once 0016 has
        run and on SQLite. Safe to call from several processes at once: the migration lock
        serialises them and the later ones find nothing to do.
        """
        if partitioning is not None and partitioning not in ("none", *INTERVALS):
            raise ValidationError(
                "partitioning", partitioning, f"must be one of none, {', '.join(INTERVALS)}"
            )
        self._migrate("upgrade", revision, partitioning=partitioning)

    def downgrade(self, revision: str) -> None:
        """Migrate down to ``revision`` ("base" drops every tradestore table)."""
        self._migrate("downgrade", revision)

    def _migrate(self, direction: str, revision: str, *, partitioning: str | None = None) -> None:
        from alembic import command
        from alembic.util import CommandError

        run = command.upgrade if direction == "upgrade" else command.downgrade
        secrets = secret_fragments(self.url)
        with self.connect() as connection:
            config = alembic_config(connection=connection)
            config.attributes[SLEEP_ATTRIBUTE] = self._sleep  # awaited under tradestore.aio
            if partitioning is not None:
                config.attributes["partitioning"] = partitioning
            try:
                run(config, revision)
            except TradestoreError:
                raise
            except DBAPIError as exc:
                if is_connection_lost(exc):
                    raise  # translated to DatabaseUnavailable by connect()
                raise MigrationError(
                    f"{direction} to {revision!r} failed and was rolled back "
                    f"(recorded in migration_history): {mask_text(str(exc.orig), secrets).strip()}"
                ) from None
            except CommandError as exc:
                raise MigrationError(
                    f"{direction} to {revision!r}: {mask_text(str(exc), secrets)}"
                ) from None
            except Exception as exc:
                raise MigrationError(
                    f"{direction} to {revision!r} failed and was rolled back "
                    f"(recorded in migration_history): {type(exc).__name__}: "
                    f"{mask_text(str(exc), secrets).strip()}"
                ) from exc
        self._schema_checked = False
        if direction == "upgrade":
            self._replicas_need_schema()

    def ensure_schema(self) -> None:
        """Raise unless the database is at the code's head revision (checked once)."""
        if not self._check_schema or self._schema_checked:
            return
        with self._schema_lock:
            if self._schema_checked:
                return
            self.check_schema()
            self._replicas_need_schema()
            self._schema_checked = True

    def _replicas_need_schema(self) -> None:
        """Replicas serve reads only once they have replayed the schema just checked or
        migrated on the primary: one within the lag bound may not have replayed a migration
        yet, and a read there would meet the older revision's tables."""
        if self._replicas is not None:
            with translate_errors(self.url):
                self._replicas.require_replayed(self._replicas.primary_position())

    def check_schema(self) -> None:

        expected = head_revision()
        current = self.current_revision()
        if current == expected:
            return
        if current is None:
            raise SchemaOutOfDate(
                f"database {self.safe_url} has no tradestore schema yet: {UPGRADE_HINT}"
            )
        if current not in known_revisions():
            raise SchemaTooNew(
                f"database {self.safe_url} is at revision {current!r}, which this tradestore "
                f"does not know (its newest is {expected!r}): upgrade the tradestore package"
            )
        raise SchemaOutOfDate(
            f"database {self.safe_url} is at revision {current!r}, the code expects "
            f"{expected!r}: {UPGRADE_HINT}"
        )


class WriterFlag(Protocol):
    """Whether a write unit of work is open here: per thread (sync), per task (async)."""

    where: str

    def get(self) -> bool: ...

    def set(self, value: bool) -> None: ...


class ThreadFlag:
    """The sync rule: one write unit of work per thread."""

    where = "thread"

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> bool:
        return bool(getattr(self._local, "open", False))

    def set(self, value: bool) -> None:
        self._local.open = value


@dataclass(frozen=True)
class _CommitMarker:
    """What identifies a transaction to the server that may or may not have committed it."""

    xid: str
    server_started: str


#: The open transaction's id (NULL while it has written nothing) and the server's start time.
_CURRENT_XID = text(
    "SELECT CAST(pg_current_xact_id_if_assigned() AS text), "
    "CAST(pg_postmaster_start_time() AS text)"
)
#: What became of a transaction: committed, aborted, in progress, NULL when too old, or
#: "not assigned" for an id the server has not handed out (yet, again): pg_xact_status
#: itself refuses such an id with an error.
_XACT_STATUS = text(
    "SELECT CASE WHEN CAST(:xid AS xid8) >= pg_snapshot_xmax(pg_current_snapshot()) "
    "THEN 'not assigned' ELSE pg_xact_status(CAST(:xid AS xid8)) END, "
    "CAST(pg_postmaster_start_time() AS text)"
)


def _commit_marker(uow: UnitOfWork) -> _CommitMarker | None:
    """Read just before COMMIT; None for a transaction that wrote nothing.

    One round trip per ``run`` on PostgreSQL, the price of settling a COMMIT whose answer
    was lost instead of reporting it as unknown.
    """
    if uow._session is not None:
        uow._session.flush()  # pending ORM writes first: they are part of what COMMIT applies
    xid, started = uow.executor.execute(_CURRENT_XID).one()
    return None if xid is None else _CommitMarker(str(xid), str(started))


def _pause(progress: Retrying, sleep: Callable[[float], None]) -> bool:
    """Sleep before the next attempt; False, without sleeping, when the policy is spent."""
    delay = progress.backoff()
    if delay is None:
        return False
    sleep(delay)
    return True


def _wait_or_give_up(
    progress: Retrying, exc: TransientDatabaseError, sleep: Callable[[float], None]
) -> None:
    """Sleep before the next attempt, or raise when the retry policy is spent."""
    delay = progress.backoff()
    if delay is None:
        if progress.attempt == 1 and progress.policy.attempts == 1:
            raise exc  # a policy of one attempt (NO_RETRY): nothing was retried, say nothing
        raise TransientDatabaseError(progress.gave_up(exc)) from exc
    log.info(
        "transient database error (attempt %d, %.1fs so far), retrying in %.3fs: %s",
        progress.attempt - 1,
        progress.elapsed,
        delay,
        exc,
    )
    sleep(delay)


def _read_only_snapshot(connection: Connection) -> None:
    """A read-only unit of work on PostgreSQL: its transaction is REPEATABLE READ, READ ONLY.

    One snapshot for every read of the block, and the server itself refuses a write (the
    bot's own SQL included). SQLAlchemy's execution options hand both to the driver, which
    sends them with its BEGIN (psycopg2 since 2.7, asyncpg's transaction options), so this
    costs no round trip, and the pool resets the connection's characteristics when it is
    returned.
    """
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def _query_only(connection: Connection, on: bool) -> None:
    """A read-only unit of work on SQLite: ``PRAGMA query_only`` for the length of the block.

    SQLite has no read-only transaction, so without it the bot's own SQL in a
    ``readonly=True`` block (``uow.session.execute(text("UPDATE ..."))``) would run and then
    be rolled back without a word; with it SQLite refuses the write (SQLITE_READONLY, raised
    as ``ReadOnlyUnitOfWork``). It is a flag of the connection, not of the transaction, so it
    is switched off again before the connection goes back to the pool, where a writer may
    take it next; a connection on which that fails is invalidated rather than returned with
    the flag still on. Replicas are PostgreSQL only, so a SQLite connection here is always
    the primary's.
    """
    if connection.dialect.name != "sqlite":
        return
    try:
        connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if on else 'OFF'}")
    except DBAPIError:
        if on:
            raise
        log.debug("PRAGMA query_only = OFF failed; the connection is discarded", exc_info=True)
        connection.invalidate()


def _quiet_rollback(connection: Connection) -> None:
    """Roll back, ignoring a connection that is already gone (the server rolled it back)."""
    try:
        connection.rollback()
    except DBAPIError:
        log.debug("rollback on a lost connection ignored", exc_info=True)


def _discard_connection(connection: Connection | None, slot: ThreadConnection | None) -> None:
    """After a failed connect/BEGIN: end what was started; a pooled connection goes back."""
    if connection is None:
        return
    _quiet_rollback(connection)
    if slot is None:
        connection.close()
