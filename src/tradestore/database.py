"""The ``Database``: engine set-up, sessions, units of work, upgrade and the schema check.

A bot creates one ``Database`` at start-up and opens a unit of work per logical operation:

    db = Database.from_env()
    with db.unit_of_work(bot_id="alpha") as uow:
        uow.positions.open(...)

SQLite connections get seed 000's "optimized connection" pragmas. Transactions on SQLite start
with ``BEGIN IMMEDIATE`` (the SQLAlchemy documentation's pysqlite recipe): a writer takes the
write lock up front and waits ``busy_timeout`` for it, instead of failing with "database is
locked" when a deferred read transaction tries to upgrade to a write. The same recipe makes
SQLite DDL transactional, so a failed migration leaves nothing half-applied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from tradestore.config import mask_text, mask_url, resolve_url, sqlite_path
from tradestore.errors import (
    CommitOutcomeUnknown,
    DatabaseUnavailable,
    IntegrityViolation,
    MigrationError,
    SchemaOutOfDate,
    SchemaTooNew,
    TradestoreError,
    TransientDatabaseError,
)
from tradestore.retry import RetryPolicy, is_connection_lost, is_transient
from tradestore.thread_sessions import ThreadSession, ThreadSessions
from tradestore.unit_of_work import UnitOfWork, forget_failure
from tradestore.unit_of_work import failure as uow_failure

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Execution option naming how a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".
SQLITE_BEGIN = "tradestore_sqlite_begin"
UPGRADE_HINT = (
    "run `tradestore db upgrade` (or `alembic upgrade head`, or `python scripts/init_database.py`)"
)


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
) -> Engine:
    """Build an engine with tradestore's settings for the URL's backend."""
    url = resolve_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo, busy_timeout_ms=busy_timeout_ms)
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        connect_args={"connect_timeout": connect_timeout, "application_name": application_name},
    )


def _sqlite_engine(url: URL, *, echo: bool, busy_timeout_ms: int) -> Engine:
    path = sqlite_path(url)
    if path is None:
        # One shared connection, or every session would see its own empty in-memory database.
        engine = create_engine(
            url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None:
                _enable_wal(cursor, timeout_s=busy_timeout_ms / 1000)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA cache_size=-40000")  # 40 MB, seed 000's 10,000 pages
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


def _thread_sessions_for(engine: Engine) -> ThreadSessions | None:
    """Per-thread Sessions for a SQLite file (see thread_sessions); None elsewhere."""
    if engine.dialect.name != "sqlite" or sqlite_path(engine.url) is None:
        return None
    size = getattr(engine.pool, "size", None)
    return ThreadSessions(engine, limit=size() if callable(size) else 5)


class Database:
    """One database: its engine, session factories and schema state.

    Create one per process and share it between threads; units of work are per thread.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        check_schema: bool = True,
        retry: RetryPolicy | None = None,
        **engine_options: Any,
    ) -> None:
        self.url: URL = resolve_url(url)
        self.retry_policy = retry or RetryPolicy()
        self.engine: Engine = create_engine_for(self.url, **engine_options)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            bind=self.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"}),
            expire_on_commit=False,
        )
        self._check_schema = check_schema
        self._schema_checked = False
        self._schema_lock = threading.Lock()
        self._thread_sessions = _thread_sessions_for(self.engine)

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
        if self._thread_sessions is not None:
            self._thread_sessions.close()
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A Session in one transaction: committed if the block finishes, else rolled back.

        ``readonly=True`` starts a deferred transaction on SQLite, so readers never wait for
        the write lock, and rolls back at the end. Starting the transaction is retried under
        the retry policy (nothing has happened yet); the block itself is not re-run: use
        :meth:`run` for that.
        """
        self.ensure_schema()
        sessions = None if readonly else self._thread_sessions
        slot = sessions.claim() if sessions is not None else None
        try:
            session = self._begin(readonly=readonly, slot=slot)
            try:
                with translate_errors(self.url):
                    yield session
                    if not readonly:
                        session.flush()
                    # A refusal the block caught may have left the transaction unable to
                    # commit: raise rather than let COMMIT drop the block's writes silently.
                    aborted = None if readonly else uow_failure(session)
                    if aborted is not None:
                        raise aborted
            except BaseException:
                _quiet_rollback(session)
                session.close()
                raise
            finally:
                forget_failure(session)
            try:
                with translate_errors(self.url, committing=not readonly):
                    if readonly:
                        session.rollback()
                    else:
                        session.commit()
            finally:
                session.close()
        finally:
            if sessions is not None and slot is not None:
                sessions.release(slot)

    @contextmanager
    def unit_of_work(self, bot_id: str | None = None) -> Iterator[UnitOfWork]:
        """One transaction with the repositories of ``bot_id`` (trading) and the shared ones.

        Commits when the block finishes, rolls back if it raises. A transient failure inside
        the block (lock timeout, serialization failure, dropped connection) surfaces as
        ``TransientDatabaseError``; :meth:`run` re-runs a whole unit of work on those.
        """
        with self.session() as session:
            yield UnitOfWork(session, bot_id=bot_id)

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
        effects. Attempts and backoff come from ``retry`` or the Database's policy. A failure
        while COMMIT was in flight raises ``CommitOutcomeUnknown`` and is never retried.
        """
        policy = retry or self.retry_policy
        attempt = 1
        while True:
            try:
                with self.unit_of_work(bot_id) as uow:
                    return work(uow)
            except TransientDatabaseError as exc:
                if attempt >= policy.attempts:
                    raise
                delay = policy.delay(attempt)
                log.info(
                    "transient database error (attempt %d of %d), retrying in %.3fs: %s",
                    attempt,
                    policy.attempts,
                    delay,
                    exc,
                )
                time.sleep(delay)
                attempt += 1

    def _begin(self, *, readonly: bool, slot: ThreadSession | None = None) -> Session:
        """A session whose transaction has begun, retrying connect/BEGIN on transient errors.

        ``slot`` is this thread's reusable Session (SQLite writers, see thread_sessions);
        without one a Session comes from the pool.
        """
        factory = self._read_sessions if readonly else self._sessions
        attempt = 1
        while True:
            session = slot.session if slot is not None else factory()
            try:
                with translate_errors(self.url):
                    session.connection()  # checkout + BEGIN (IMMEDIATE on SQLite writers)
                return session
            except TransientDatabaseError:
                session.close()
                if attempt >= self.retry_policy.attempts:
                    raise
                time.sleep(self.retry_policy.delay(attempt))
                attempt += 1
            except BaseException:
                session.close()
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
                    f"(recorded in migration_history): {mask_text(str(exc.orig)).strip()}"
                ) from None
            except CommandError as exc:
                raise MigrationError(
                    f"{direction} to {revision!r}: {mask_text(str(exc))}"
                ) from None
            except Exception as exc:
                raise MigrationError(
                    f"{direction} to {revision!r} failed and was rolled back "
                    f"(recorded in migration_history): {type(exc).__name__}: "
                    f"{mask_text(str(exc)).strip()}"
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


@contextmanager
def translate_errors(url: URL | str | None = None, *, committing: bool = False) -> Iterator[None]:
    """Turn driver errors that escaped the repositories into tradestore errors.

    Repositories validate first and translate the conflicts they expect; this is the net
    under them, so a caller never has to import sqlalchemy or psycopg2 to handle a failure.
    ``committing`` marks the COMMIT itself: a connection lost there leaves the outcome unknown.
    """
    try:
        yield
    except TradestoreError:
        raise
    except IntegrityError as exc:
        constraint = _constraint_name(exc)
        raise IntegrityViolation(
            f"the database refused the write ({constraint or 'constraint'}): "
            f"{mask_text(str(exc.orig))}",
            constraint,
        ) from None
    except DBAPIError as exc:
        where = mask_url(url) if url is not None else "database"
        detail = f"{where}: {mask_text(str(exc.orig)).strip()}"
        if committing and is_connection_lost(exc):
            raise CommitOutcomeUnknown(
                f"connection lost during COMMIT, the transaction may have committed: {detail}"
            ) from None
        if is_transient(exc):
            raise TransientDatabaseError(detail) from None
        if isinstance(exc, OperationalError):
            raise DatabaseUnavailable(detail) from None
        raise TradestoreError(detail) from None


def _quiet_rollback(session: Session) -> None:
    """Roll back, ignoring a connection that is already gone (the server rolled it back)."""
    try:
        session.rollback()
    except DBAPIError:
        log.debug("rollback on a lost connection ignored", exc_info=True)


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    message = str(exc.orig)
    for marker in ("CHECK constraint failed: ", "UNIQUE constraint failed: "):
        if marker in message:
            return message.split(marker, 1)[1].strip()
    return None
