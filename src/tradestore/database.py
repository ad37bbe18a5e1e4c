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

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolResetState, StaticPool

from tradestore._pgconnect import masked_connection_factory
from tradestore.config import (
    DEFAULT_URL,
    mask_text,
    mask_url,
    parse_url,
    resolve_url,
    secret_fragments,
    split_secret_query,
    sqlite_path,
)
from tradestore.db.connections import ThreadConnection, ThreadConnections, driver_in_transaction
from tradestore.db.errors import UPGRADE_HINT, translate_errors
from tradestore.db.executor import Clock, Executor, utc_now
from tradestore.errors import (
    CommitOutcomeUnknown,
    ConfigurationError,
    MigrationError,
    NestedUnitOfWork,
    SchemaOutOfDate,
    SchemaTooNew,
    TradestoreError,
    TransactionAborted,
    TransientDatabaseError,
)
from tradestore.retry import NO_RETRY, Retrying, RetryPolicy, is_connection_lost
from tradestore.types import encode_json
from tradestore.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Execution option naming how a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".
SQLITE_BEGIN = "tradestore_sqlite_begin"
#: SQLite ``synchronous`` settings tradestore accepts (docs/reliability.md, Durability). OFF is
#: refused: with it a power loss can corrupt the file, not just lose the last commits.
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")
#: How long a pooled connection may sit unused and still be handed out without a ping.
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "tradestore_idle_since"


def create_engine_for(
    url: str | URL,
    *,
    echo: bool = False,
    busy_timeout_ms: int = 30_000,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    pool_recycle: int = 1800,
    connect_timeout: int = 10,
    application_name: str = "tradestore",
    sqlite_synchronous: str = "NORMAL",
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> Engine:
    """Build an engine with tradestore's settings for the URL's backend.

    ``sqlite_synchronous`` is SQLite's durability setting (NORMAL, FULL or EXTRA; ignored on
    PostgreSQL, whose durability is the server's ``synchronous_commit``): docs/reliability.md
    says what each one survives. ``ping_after_idle`` (PostgreSQL): a pooled connection idle
    longer than this many seconds is pinged before it is handed out (see
    ``ping_idle_connections``; 0 pings every checkout).
    """
    url = resolve_url(url)
    synchronous = _sqlite_synchronous(sqlite_synchronous)
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(
            url, echo=echo, busy_timeout_ms=busy_timeout_ms, synchronous=synchronous
        )
        event.listen(engine, "reset", _end_leftover_transaction)
        return engine
    # Secret query arguments (sslpassword, ...) go to the driver, never into engine.url.
    url, secret_args = split_secret_query(url)
    engine = create_engine(
        url,
        echo=echo,
        json_serializer=encode_json,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        connect_args={
            "connect_timeout": connect_timeout,
            "application_name": application_name,
            "connection_factory": masked_connection_factory(),
            **secret_args,
        },
    )
    event.listen(engine, "connect", _pin_utc)
    event.listen(engine, "reset", _end_leftover_transaction)
    ping_idle_connections(engine, ping_after_idle)
    return engine


def ping_idle_connections(engine: Engine, after: float) -> None:
    """Ping a pooled connection on checkout only if it sat idle longer than ``after`` seconds.

    ``pool_pre_ping`` pings on every checkout: one more round trip per unit of work, on the
    hot path. A connection returned to the pool a moment ago is almost always alive, and if
    the server did drop it, the unit of work's first statement fails with a lost connection
    before anything is committed, which ``Database.run`` answers by running the unit of work
    again (HikariCP makes the same trade with its 500 ms alive-bypass window). A connection
    idle for longer (a server restart, an idle timeout, a failover in between) is pinged with
    the dialect's ping; a dead one raises ``DisconnectionError``, on which the pool replaces
    it and checks out again, as pre-ping would.
    """
    dialect = engine.dialect

    def idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(f"an idle pooled connection was lost: {exc}") from exc
            raise

    event.listen(engine, "connect", idle_since)
    event.listen(engine, "checkin", idle_since)
    event.listen(engine, "checkout", ping_if_idle)


#: Every engine a Database made in this process; forgotten with the Database.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_pools_in_child() -> None:
    """A forked child must not use the connections its parent had pooled.

    The child inherits the pool's open sockets and SQLite handles: a PostgreSQL connection
    used from both processes interleaves two conversations on one socket, and a SQLite
    handle in the child holds none of the parent's POSIX locks (a path to a corrupt file).
    ``dispose(close=False)`` (SQLAlchemy's recipe for ``multiprocessing`` with fork) gives
    the child a new, empty pool and leaves the parent's connections alone. The per-thread
    SQLite sessions do the same for themselves (thread_sessions).
    """
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


def _end_leftover_transaction(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """Roll back a transaction the driver still has open when its connection is returned.

    After a failed COMMIT, SQLAlchemy considers the transaction ended and tells the pool to
    skip its rollback-on-return, but the database has not ended it: SQLite keeps it open
    (and the write lock with it) after "database or disk is full", and a PostgreSQL
    connection would carry the uncommitted rows into the next unit of work, which would
    commit them as its own. One attribute read per return; a rollback only when needed. If
    the rollback fails the pool invalidates the connection.
    """
    if state.transaction_was_reset and driver_in_transaction(dbapi_connection):
        dbapi_connection.rollback()


def _pin_utc(dbapi_connection: Any, _record: Any) -> None:
    """Make every PostgreSQL session's time zone UTC, whatever the server or role default.

    ``timestamptz`` values are rendered in the session time zone before psycopg2 parses them:
    under a server default such as Asia/Tokyo, an instant near 9999-12-31 UTC comes back as
    year 10000 and cannot be read at all, and any text rendering (views, exports) changes.
    A ``SET`` on connect rather than the libpq ``options`` startup parameter: PgBouncer in
    transaction mode refuses (or, with ``ignore_startup_parameters``, silently drops)
    ``options``, but tracks ``TimeZone`` and re-applies it on every server connection it
    hands this client. It costs one round trip per new connection, not per transaction.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET TIME ZONE 'UTC'")
    finally:
        cursor.close()
    if not getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.commit()


def _sqlite_synchronous(value: str) -> str:
    setting = value.strip().upper() if isinstance(value, str) else value
    if setting not in SQLITE_SYNCHRONOUS:
        raise ConfigurationError(
            f"sqlite_synchronous={value!r}: use one of {', '.join(SQLITE_SYNCHRONOUS)} "
            "(docs/reliability.md, Durability)"
        )
    return str(setting)


def _sqlite_engine(url: URL, *, echo: bool, busy_timeout_ms: int, synchronous: str) -> Engine:
    path = sqlite_path(url)
    if path is None:
        # One shared connection, or every session would see its own empty in-memory database.
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=encode_json,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        _require_directory(path)
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=encode_json,
            connect_args={"timeout": busy_timeout_ms / 1000},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None:
                _enable_wal(cursor, timeout_s=busy_timeout_ms / 1000)
            cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of SQLITE_SYNCHRONOUS
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA cache_size=-40000")  # 40 MB: 10,000 pages of 4 kB
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA mmap_size=30000000000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        statement = "BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN"
        # Straight to the driver: every unit of work pays this, and SQLAlchemy's statement
        # machinery costs more than the BEGIN itself. Errors are wrapped as SQLAlchemy would,
        # so "database is locked" is still recognised as transient.
        try:
            connection.connection.dbapi_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc

    return engine


def _require_directory(path: Path) -> None:
    """Create the default database's folder; refuse any other missing folder.

    A fresh checkout has no ``data/`` yet, and the default URL should just work. Anywhere
    else a missing folder is almost always a mistyped path: creating it would start a new,
    empty database in the wrong place and send the user off to initialise it there.
    """
    if path.parent.is_dir():
        return
    if path == sqlite_path(parse_url(DEFAULT_URL)):
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    raise ConfigurationError(
        f"SQLite database {str(path)!r}: its directory {str(path.parent)!r} does not exist "
        "(check the path, or create the directory first)"
    )


def _enable_wal(cursor: sqlite3.Cursor, *, timeout_s: float) -> None:
    """Switch the file to WAL, waiting out other connections doing the same.

    WAL is a property of the file, so only the first connection to a new file changes it.
    When several processes open a fresh file at once, the switch can fail with "database is
    locked" straight away: SQLite does not call the busy handler for it. Reading the mode
    first skips the switch on every later connection, and the loop gives the racing ones the
    same patience ``busy_timeout`` gives a writer.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.001
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _thread_connections_for(engine: Engine) -> ThreadConnections | None:
    """Per-thread connections for a SQLite file (see db.connections); None elsewhere."""
    if engine.dialect.name != "sqlite" or sqlite_path(engine.url) is None:
        return None
    size = getattr(engine.pool, "size", None)
    return ThreadConnections(engine, limit=size() if callable(size) else 5)


class Database:
    """One database: its engine, its clock and schema state.

    Create one per process and share it between threads; units of work are per thread.
    ``clock`` is where every timestamp the library writes comes from (by default the host's
    UTC clock): a backtest passes its simulated clock and its history carries simulated times.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        check_schema: bool = True,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        **engine_options: Any,
    ) -> None:
        self.url: URL = resolve_url(url)
        self.retry_policy = retry or RetryPolicy()
        self.clock: Clock = clock or utc_now
        self.engine: Engine = create_engine_for(self.url, **engine_options)
        self._read_engine = self.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        self._check_schema = check_schema
        self._schema_checked = False
        self._schema_lock = threading.Lock()
        self._thread_connections = _thread_connections_for(self.engine)
        self._writing = threading.local()  # .open: this thread has a write unit of work open
        _engines.add(self.engine)

    @classmethod
    def from_env(cls, **options: Any) -> Database:
        """TRADESTORE_DATABASE_URL, else DATABASE_URL, else sqlite:///data/tradestore.db."""
        return cls(None, **options)

    # --- identity ------------------------------------------------------------------------

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        """The URL with its password masked: the only form that goes into messages."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    def dispose(self) -> None:
        if self._thread_connections is not None:
            self._thread_connections.close()
        self.engine.dispose()

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
    ) -> Iterator[UnitOfWork]:
        """One transaction with the repositories of ``bot_id`` (trading) and the shared ones.

        Commits when the block finishes, rolls back if it raises. Connect and BEGIN (and the
        schema check, the first time) are retried under ``retry`` or the Database's policy,
        so a server restart costs a reconnect (nothing has happened yet); the block itself
        is not re-run: :meth:`run` re-runs a whole unit of work on a transient failure
        inside it (lock timeout, serialization failure, dropped connection), which surfaces
        here as ``TransientDatabaseError``.

        ``readonly=True`` starts a deferred transaction on SQLite, so readers never wait for
        the write lock, and rolls back at the end. One write unit of work per thread at a
        time: a second one opened inside the first raises ``NestedUnitOfWork`` (see
        :meth:`_enter_writer`). Read-only ones may nest.
        """
        slots = None if readonly else self._thread_connections
        if not readonly:
            self._enter_writer()
        slot = None
        try:
            slot = slots.claim() if slots is not None else None
            connection = self._begin(readonly=readonly, slot=slot, retry=retry)
            uow = UnitOfWork(Executor(connection, clock=self.clock), bot_id=bot_id)
            try:
                try:
                    with translate_errors(self.url):
                        yield uow
                        # A refusal the block caught may have left the transaction unable
                        # to commit: raise rather than let COMMIT drop its writes silently.
                        aborted = None if readonly else uow._finish()
                        if aborted is not None:
                            raise aborted
                except BaseException:
                    uow._close()
                    _quiet_rollback(connection)
                    raise
                uow._close()
                with translate_errors(self.url, committing=not readonly):
                    if readonly:
                        connection.rollback()
                    else:
                        connection.commit()
            finally:
                if slot is None:
                    connection.close()
        finally:
            if not readonly:
                self._writing.open = False
            if slots is not None and slot is not None:
                slots.release(slot)

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
        if getattr(self._writing, "open", False):
            raise NestedUnitOfWork(
                f"a unit of work is already open in this thread on {self.safe_url}: a second "
                "one would wait for the first one's locks and commit separately. Pass the "
                "open `uow` down to the code that needs it instead of opening another "
                "(`db.session(readonly=True)` may be used for reads)"
            )
        self._writing.open = True

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
                _wait_or_give_up(progress, exc)
            except TransactionAborted as exc:
                # The work caught a transient error (a deadlock, a dropped connection) and
                # went on; the block was refused at its end. Nothing was applied: run again.
                if not isinstance(exc.first_error, TransientDatabaseError):
                    raise
                _wait_or_give_up(progress, exc.first_error)

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
                if not _pause(progress):
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
            if restarted or status is None or not _pause(progress):
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
                    connection.begin()  # BEGIN (IMMEDIATE on SQLite writers)
                return connection
            except TransientDatabaseError as exc:
                _discard_connection(connection, slot)
                _wait_or_give_up(progress, exc)
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
        from tradestore.migrate import current_heads

        with self.connect() as connection:
            heads = current_heads(connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"}))
            connection.rollback()
        return heads[0] if heads else None

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision``; the same as ``alembic upgrade head`` for the default.

        Safe to call from several processes at once: the migration lock serialises them and
        the later ones find nothing to do.
        """
        self._migrate("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Migrate down to ``revision`` ("base" drops every tradestore table)."""
        self._migrate("downgrade", revision)

    def _migrate(self, direction: str, revision: str) -> None:
        from alembic import command
        from alembic.util import CommandError

        from tradestore.migrate import alembic_config

        run = command.upgrade if direction == "upgrade" else command.downgrade
        secrets = secret_fragments(self.url)
        with self.connect() as connection:
            try:
                run(alembic_config(connection=connection), revision)
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

    def ensure_schema(self) -> None:
        """Raise unless the database is at the code's head revision (checked once)."""
        if not self._check_schema or self._schema_checked:
            return
        with self._schema_lock:
            if self._schema_checked:
                return
            self.check_schema()
            self._schema_checked = True

    def check_schema(self) -> None:
        from tradestore.migrate import head_revision, known_revisions

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


def _pause(progress: Retrying) -> bool:
    """Sleep before the next attempt; False, without sleeping, when the policy is spent."""
    delay = progress.backoff()
    if delay is None:
        return False
    time.sleep(delay)
    return True


def _wait_or_give_up(progress: Retrying, exc: TransientDatabaseError) -> None:
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
    time.sleep(delay)


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
