"""Alembic plumbing shared by ``migrations/env.py``, ``Database`` and the CLI.

env.py stays a three-line file that calls :func:`run_environment`; everything it does lives
here where it is typed and tested:

* the URL is resolved exactly as ``Database`` resolves it, or a caller's connection is reused
  (``config.attributes["connection"]``, the Alembic cookbook's convention);
* tradestore's version table has its own name, so it can share a database with an application
  that runs its own Alembic;
* concurrent upgrades are serialised (a PostgreSQL advisory lock, transaction-scoped and
  held by a second connection behind PgBouncer; a lock file beside a SQLite database) so
  two bots starting at once cannot both apply a revision;
* every applied, rolled-back or failed revision is appended to ``migration_history`` with its
  duration. A failure is written after its transaction rolled back, so it survives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.pool import AssertionPool, QueuePool, SingletonThreadPool, StaticPool

from tradestore.config import mask_text, mask_url, resolve_url, secret_fragments, sqlite_path
from tradestore.db.engine import behind_pgbouncer, create_engine_for
from tradestore.db.partitioning import is_storage_of_partitioned
from tradestore.db.types import Money, Real, UTCDateTime
from tradestore.domain.enums import MigrationStatus
from tradestore.errors import ConfigurationError, MigrationError
from tradestore.models import Base, MigrationHistory

VERSION_TABLE = "tradestore_alembic_version"
#: Arbitrary but fixed: the key of the PostgreSQL advisory lock held while migrating.
ADVISORY_LOCK_KEY = 0x7472_6164_6573  # "trades"
_ADVISORY_LOCK = text("SELECT pg_advisory_lock(:key)")
_ADVISORY_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_TRY_ADVISORY_XACT_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_TOUCH = text("SELECT 1")


def script_location() -> Path:
    """The migrations folder: shipped inside the wheel, or the checkout's ``migrations/``."""
    packaged = resources.files("tradestore") / "_migrations"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "migrations"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("tradestore's migrations folder is missing from this installation")


def alembic_config(url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config for tradestore's migrations without needing alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        # '%' must be escaped for ConfigParser interpolation.
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision this installation ships (read once: revisions do not change at runtime)."""
    return frozenset(script.revision for script in script_directory().walk_revisions())


@functools.cache
def head_revision() -> str:
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"tradestore's migrations must have one head, found {heads}")
    return heads[0]


def current_heads(connection: Connection) -> tuple[str, ...]:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_heads()


def compare_schema(connection: Connection) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``Base.metadata``.

    Configured exactly as env.py configures migrations (same type comparison, same view
    filter, same version table), so an empty list here means ``alembic check`` prints "No new
    upgrade operations detected". The items are Alembic's diff tuples (or lists of them for
    column modifications), see ``alembic.autogenerate.compare_metadata``.
    """
    import warnings

    from alembic.autogenerate import compare_metadata
    from sqlalchemy.exc import SAWarning

    context = MigrationContext.configure(
        connection, opts=_configure_options(connection.dialect.name)
    )
    with warnings.catch_warnings():
        # SQLAlchemy 2.1 reflects a PostgreSQL ``NOT VALID`` CHECK constraint with a
        # ``dialect_options`` key that CheckConstraint() then warns about. Harmless here
        # (ops.verify reports NOT VALID constraints itself); without the filter a test run
        # with warnings as errors, or an operator's terminal, would show SQLAlchemy's noise.
        warnings.filterwarnings(
            "ignore", message="Can't validate argument 'dialect_options'", category=SAWarning
        )
        return list(compare_metadata(context, Base.metadata))


# --- env.py ------------------------------------------------------------------------------------


def run_environment(context: EnvironmentContext) -> None:
    """Body of ``migrations/env.py``."""
    if context.is_offline_mode():
        _run_offline(context)
        return
    shared = context.config.attributes.get("connection")
    if isinstance(shared, Engine):  # pytest-alembic and some apps hand over an Engine
        with shared.connect() as conn:
            _run_online(context, conn)
        return
    if shared is not None:
        _run_online(context, shared)
        return
    engine = create_engine_for(_environment_url(context))
    try:
        with engine.connect() as conn:
            _run_online(context, conn)
    finally:
        engine.dispose()


def _configure_options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "compare_server_default": False,
        "include_object": _include_object,
        "render_item": _render_item,
    }


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render tradestore's column types as the plain SQLAlchemy types they store as.

    Revisions then describe the schema without importing tradestore, so a later change to a
    Python type can never rewrite what an old revision created.
    """
    if type_ != "type":
        return False
    if isinstance(obj, Money):
        return "sa.Numeric(precision=38, scale=18)"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, Real):
        return "sa.Double()"
    return False


#: Indexes a revision creates with raw SQL on one backend only, outside ``Base.metadata``:
#: expression indexes, which SQLite cannot reflect (so they cannot be declared in the models
#: without autogenerate warning on SQLite). Revision 0004 creates them on PostgreSQL.
UNMODELLED_INDEXES = frozenset({"idx_orders_trade_date"})


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Keep autogenerate away from what revisions create with raw SQL and the models lack.

    Neither backend's inspector lists views among tables today; the ``v_`` rule is the guard
    for an inspector that does (and for views a user adds), so they never show up as
    "removed tables". Partitions and the fill_id guard of revision 0016 are storage, not
    model tables (``db.partitioning``). Expression indexes in ``UNMODELLED_INDEXES`` are
    likewise skipped.
    """
    if not reflected or compare_to is not None or name is None:
        return True
    if type_ == "table":
        return not name.startswith("v_") and not is_storage_of_partitioned(name)
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    return True


def _environment_url(context: EnvironmentContext) -> URL:
    """``-x url=...`` on the alembic command line, then the usual resolution order.

    A ``sqlalchemy.url`` set in code (``alembic_config(url)``, what ``Database.upgrade``
    passes) is used; one written in an ini file is refused rather than used or ignored: the
    URL, and its password, live in the environment only, and silently ignoring it would
    migrate whatever database the environment names instead of the one the file shows.
    """
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    if not explicit:
        _refuse_file_url(context.config)
    return resolve_url(explicit or context.config.get_main_option("sqlalchemy.url") or None)


def _refuse_file_url(config: Config) -> None:
    if config.config_file_name is None:
        return
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config.config_file_name, encoding="utf-8")
    section = config.config_ini_section
    if parser.get(section, "sqlalchemy.url", fallback="").strip():
        raise ConfigurationError(
            f"{config.config_file_name} sets sqlalchemy.url (section [{section}]): tradestore "
            "never reads its database URL from an ini file; remove it and set "
            "TRADESTORE_DATABASE_URL, or pass -x url=..."
        )


def _run_offline(context: EnvironmentContext) -> None:
    url = _environment_url(context)
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


#: ``Config.attributes`` key: how the migration lock waits between tries (``Database`` passes
#: its own sleep, an awaited one under ``tradestore.aio``).
SLEEP_ATTRIBUTE = "tradestore_sleep"


def _run_online(context: EnvironmentContext, connection: Connection) -> None:
    dialect_name = connection.dialect.name
    sleep = context.config.attributes.get(SLEEP_ATTRIBUTE, time.sleep)
    with migration_lock(connection, sleep=sleep) as lock:
        _ensure_history_table(connection)
        with sqlite_foreign_keys_off(connection) as checking:
            _migrate(context, connection, dialect_name, check_foreign_keys=checking, lock=lock)


def _migrate(
    context: EnvironmentContext,
    connection: Connection,
    dialect_name: str,
    *,
    check_foreign_keys: bool,
    lock: MigrationLock | None = None,
) -> None:
    recorder = _HistoryRecorder(
        connection, check_foreign_keys=check_foreign_keys, lock=lock or MigrationLock()
    )
    options: dict[str, Any] = {
        "connection": connection,
        "transaction_per_migration": True,
        "on_version_apply": [recorder.on_version_apply],
        **_configure_options(dialect_name),
    }
    # The command's work function ("fn") is only reachable through a configured
    # MigrationContext's public ``opts``; configure once to read it, then again with it
    # wrapped so the recorder knows which revision is running when one fails.
    context.configure(**options)
    work: Callable[..., Iterable[Any]] | None = context.get_context().opts.get("fn")
    if work is not None:
        context.configure(**options, fn=recorder.observe(work))
    try:
        with context.begin_transaction():
            context.run_migrations()
    except BaseException as exc:
        recorder.record_failure(exc)
        raise
    if connection.in_transaction() and not recorder.external:
        connection.commit()


@contextlib.contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[bool]:
    """Turn SQLite's foreign-key enforcement off while revisions run; yield whether it did.

    Batch mode rebuilds a table by copying it, dropping the original and renaming the copy.
    With ``foreign_keys=ON`` that DROP is an implicit ``DELETE FROM``: it cascades into the
    child tables (rebuilding ``orders`` would delete every fill) or fails on RESTRICT. SQLite
    ignores the pragma inside a transaction, so it is switched on the driver connection
    before the revisions' transactions begin, and each revision instead ends with
    ``PRAGMA foreign_key_check`` (see ``_HistoryRecorder``). Alembic's batch documentation
    gives the same advice. Nothing changes on other backends or for a caller's connection
    that is already inside a transaction.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield False
        return
    # The DBAPI connection's cursor: sqlite3's, or aiosqlite's adapted one (tradestore.aio).
    driver = connection.connection.dbapi_connection
    assert driver is not None
    if not _pragma(driver, "PRAGMA foreign_keys")[0]:
        yield False
        return
    _pragma(driver, "PRAGMA foreign_keys=OFF")
    try:
        yield True
    finally:
        if connection.in_transaction():  # not expected: never hand on a connection without FKs
            connection.invalidate()
        else:
            _pragma(driver, "PRAGMA foreign_keys=ON")


def _pragma(driver: Any, statement: str) -> Any:
    cursor = driver.cursor()
    try:
        cursor.execute(statement)
        return cursor.fetchone()
    finally:
        cursor.close()


class MigrationLock:
    """What ``migration_lock`` yields: ``check`` runs before each revision.

    Held on the migrating connection itself (SQLite's lock file, PostgreSQL's session lock,
    a caller's transaction), the lock cannot be lost without the revision failing with it:
    nothing to check. ``_HeldByConnection`` (PgBouncer) overrides it.
    """

    def check(self, revision: str) -> None:
        """Raise ``MigrationError`` if the lock is no longer held, before ``revision`` runs."""


class _HeldByConnection(MigrationLock):
    """The PgBouncer scheme's lock: a second connection's open transaction holds it.

    That connection is idle while the revisions run, so it can be ended under the migration
    without the migration noticing: PgBouncer's ``idle_transaction_timeout``, a
    ``pg_terminate_backend``, a network cut. The lock goes with it, and another process
    could start the same revisions. ``check`` touches it before each revision (which also
    restarts PgBouncer's idle timer) and stops the migration if it is gone.
    """

    def __init__(self, holder: Connection) -> None:
        self.holder = holder

    def check(self, revision: str) -> None:
        try:
            self.holder.execute(_TOUCH)
        except DBAPIError as exc:
            raise MigrationError(
                f"the connection holding the migration lock was lost before {revision} "
                f"({type(exc.orig).__name__}: {str(exc.orig).strip().splitlines()[0]}), so "
                "another process could be migrating too: stopped; the revisions before it "
                "are applied. Behind PgBouncer, idle_transaction_timeout must be 0 or longer "
                "than the longest revision (docs/operations/pgbouncer.md); run the upgrade "
                "again"
            ) from None


@contextlib.contextmanager
def migration_lock(
    connection: Connection,
    *,
    wait: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[MigrationLock]:
    """Hold a lock that only one migrating process can have at a time.

    PostgreSQL, directly: a session-level advisory lock on the migrating connection itself,
    taken and released around the revisions (a caller's connection already inside a
    transaction takes it in that transaction, and unlocks it there). One connection, whatever
    the pool, isolation level or caller; the server sees the waiter and the holder as one
    backend each, so a deadlock between a waiter's open transaction and the migration is
    detected and one of them fails after ``deadlock_timeout``.

    PostgreSQL behind PgBouncer (an engine made with ``pgbouncer=True``, see
    ``behind_pgbouncer``): the session lock would break there, so the scheme is
    ``_pgbouncer_lock``'s. ``wait`` (seconds, default ``MIGRATION_LOCK_WAIT_SECONDS``)
    bounds how long that scheme waits for another process's migration; ``sleep`` is how it
    waits between tries (an awaited sleep under ``tradestore.aio``).
    """
    if connection.dialect.name == "postgresql":
        if behind_pgbouncer(connection):
            with _pgbouncer_lock(
                connection, wait=MIGRATION_LOCK_WAIT_SECONDS if wait is None else wait, sleep=sleep
            ) as lock:
                yield lock
            return
        with _session_lock(connection):
            yield MigrationLock()
        return
    path = sqlite_path(connection.engine.url)
    if path is None:  # in-memory: no other process can see it
        yield MigrationLock()
        return
    lock_path = path.with_name(path.name + ".migrate-lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield MigrationLock()
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _session_lock(connection: Connection) -> Iterator[None]:
    was_in_transaction = connection.in_transaction()
    connection.execute(_ADVISORY_LOCK, {"key": ADVISORY_LOCK_KEY})
    if not was_in_transaction:
        connection.commit()
    try:
        yield
    finally:
        if connection.in_transaction() and not was_in_transaction:
            connection.rollback()
        connection.execute(_ADVISORY_UNLOCK, {"key": ADVISORY_LOCK_KEY})
        if not was_in_transaction:
            connection.commit()


#: How long, in seconds, an upgrade behind PgBouncer waits for another process's migration
#: before giving up with ``MigrationError`` (directly, the wait is PostgreSQL's, unbounded
#: but deadlock-checked). Long enough for a slow revision on a big table.
MIGRATION_LOCK_WAIT_SECONDS = 900.0
#: Waits between tries for the lock behind PgBouncer: doubling from the first to the last.
_FIRST_RETRY_SECONDS = 0.05
_LAST_RETRY_SECONDS = 1.0
#: Pools that hand out one DBAPI connection (or refuse a second checkout): the PgBouncer
#: scheme needs two different ones.
_ONE_CONNECTION_POOLS = (StaticPool, SingletonThreadPool, AssertionPool)


@contextlib.contextmanager
def _pgbouncer_lock(
    connection: Connection, *, wait: float, sleep: Callable[[float], None]
) -> Iterator[MigrationLock]:
    """The migration lock behind PgBouncer in transaction mode.

    Each revision commits in its own transaction, and behind PgBouncer consecutive
    transactions of one client may run on different server connections: a session lock taken
    in one would stay held by a server connection that other clients are then handed
    (re-entrant for them, a wait forever for the rest), and the unlock would go to a
    connection that does not hold it. So the lock is a transaction-scoped one
    (``pg_advisory_xact_lock``) held by a second connection of the same engine inside one
    open transaction, which PgBouncer keeps on one server connection until it ends: it is
    released by that transaction's rollback, or by the server if the process dies.

    Waiting is polling: ``pg_try_advisory_xact_lock`` in a short transaction, rolled back
    between tries, so a waiter holds a server connection only for a moment (waiting inside
    ``pg_advisory_xact_lock`` would hold one each, and with more waiters than PgBouncer's
    pool the winner's own revisions would find no server connection). PostgreSQL cannot see
    a deadlock across the two connections (the winner's revision waiting for a table a
    waiter's transaction holds, that waiter waiting for the lock): ``wait`` bounds it.

    A caller's connection already inside a transaction (migrating in one transaction of its
    own) polls and holds the lock in that transaction; it is released when it ends.
    """
    if connection.in_transaction():
        _poll(connection, wait=wait, sleep=sleep, between=lambda: None)
        yield MigrationLock()
        return
    with _second_connection(connection) as holder:

        def between() -> None:
            holder.rollback()

        _poll(holder, wait=wait, sleep=sleep, between=between)
        # The holder sits idle in its transaction while the revisions run: a server's
        # idle_in_transaction_session_timeout must not end it (and the lock) half-way.
        holder.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        try:
            yield _HeldByConnection(holder)
        finally:
            # A lost holder connection has lost the lock with it: nothing to release.
            with contextlib.suppress(DBAPIError):
                holder.rollback()


@contextlib.contextmanager
def _second_connection(connection: Connection) -> Iterator[Connection]:
    """Another connection of ``connection``'s engine, in READ COMMITTED, or MigrationError.

    Refused at once rather than after ``pool_timeout`` when the pool cannot give a second
    connection at all; an ``AUTOCOMMIT`` engine would release the transaction-scoped lock at
    the end of the statement taking it, hence the explicit isolation level.
    """
    engine = connection.engine
    pool = engine.pool
    where = f"migrating {mask_url(engine.url)} behind PgBouncer (pgbouncer=True)"
    if isinstance(pool, _ONE_CONNECTION_POOLS) or (
        isinstance(pool, QueuePool)
        and pool._max_overflow >= 0
        and pool.size() + pool._max_overflow < 2
    ):
        raise MigrationError(
            f"{where} holds the migration lock on a second connection of the engine while the "
            f"first migrates, and its pool ({pool.status()}) cannot give two at once: use a "
            "pool of at least two connections (pool_size + max_overflow >= 2)"
        )
    try:
        holder = engine.connect()
    except SATimeoutError:
        raise MigrationError(
            f"{where} needs a second connection of the engine to hold the migration lock, and "
            f"its pool had none free within its timeout ({pool.status()}): give it more room "
            "(pool_size, max_overflow) or migrate while fewer connections are checked out"
        ) from None
    with holder:
        if holder.connection.dbapi_connection is connection.connection.dbapi_connection:
            raise MigrationError(
                f"{where} needs a second connection to hold the migration lock, and the "
                "engine's pool handed out the migrating connection again: use a pool of "
                "distinct connections (QueuePool, NullPool)"
            )
        holder.execution_options(isolation_level="READ COMMITTED")
        yield holder


def _poll(
    connection: Connection,
    *,
    wait: float,
    sleep: Callable[[float], None],
    between: Callable[[], None],
) -> None:
    """Try for the lock until it is taken (leaving its transaction open) or ``wait`` ends."""
    deadline = time.monotonic() + wait
    delay = _FIRST_RETRY_SECONDS
    while True:
        if connection.execute(_TRY_ADVISORY_XACT_LOCK, {"key": ADVISORY_LOCK_KEY}).scalar():
            return
        between()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MigrationError(
                f"the migration lock of {mask_url(connection.engine.url)} (advisory lock "
                f"{ADVISORY_LOCK_KEY}) stayed held by another process for {wait:g} s: its "
                "migration is still running, or stuck waiting for a table this process's "
                "own transaction holds (a deadlock PostgreSQL cannot see behind PgBouncer); "
                "nothing was migrated here, try again when it has finished"
            )
        sleep(min(delay, remaining))
        delay = min(delay * 2, _LAST_RETRY_SECONDS)


def _ensure_history_table(connection: Connection) -> None:
    table = MigrationHistory.__table__
    if connection.in_transaction():
        table.create(connection, checkfirst=True)  # type: ignore[attr-defined]
        _mask_recorded_urls(connection)
        return
    with connection.begin():
        table.create(connection, checkfirst=True)  # type: ignore[attr-defined]
        _mask_recorded_urls(connection)


def _mask_recorded_urls(connection: Connection) -> None:
    """Re-mask ``database_path`` values that older tradestore versions stored.

    They masked only the netloc password, so a ``?password=`` URL was stored in clear and
    copied into every backup and export. Each migration run rewrites such rows; the table
    holds one row per revision step, so this reads a handful of distinct values.
    """
    column = MigrationHistory.database_path
    for value in connection.execute(select(column).distinct()).scalars().all():
        masked = mask_text(value)
        if masked != value:
            connection.execute(
                update(MigrationHistory).where(column == value).values(database_path=masked)
            )


def _step_name(step: MigrationInfo) -> str:
    if step.is_upgrade:
        return f"revision {step.up_revision_id}"
    return f"the downgrade of revision {step.up_revision_id}"


class _HistoryRecorder:
    """Times each revision step and appends its outcome to migration_history."""

    def __init__(
        self,
        connection: Connection,
        *,
        check_foreign_keys: bool = False,
        lock: MigrationLock | None = None,
    ) -> None:
        self.connection = connection
        self.lock = lock or MigrationLock()
        self.check_foreign_keys = check_foreign_keys
        self.external = connection.in_transaction()
        # Stored in every row, so in every backup and export of migration_history: masked.
        self.database = mask_url(connection.engine.url)
        self.secrets = secret_fragments(connection.engine.url)
        self.current: MigrationInfo | None = None
        self.started = time.perf_counter()

    def observe(self, work: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
        def steps(heads: Any, ctx: MigrationContext) -> Iterator[Any]:
            for step in work(heads, ctx):
                # Alembic asks for the next step before opening its transaction.
                self.lock.check(_step_name(step.info))
                self.current = step.info
                self.started = time.perf_counter()
                yield step
            self.current = None

        return steps

    def on_version_apply(self, *, ctx: MigrationContext, step: MigrationInfo, **_: Any) -> None:
        if step.is_stamp:
            return
        if self.check_foreign_keys:
            assert ctx.connection is not None
            violations = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                table, rowid, parent, _key = violations[0]
                raise MigrationError(
                    f"revision {step.up_revision_id if step.is_upgrade else step.down_revision_ids}"
                    f" left {len(violations)} row(s) violating foreign keys "
                    f"(first: {table} rowid {rowid} -> {parent}); it was rolled back"
                )
        status = MigrationStatus.APPLIED if step.is_upgrade else MigrationStatus.ROLLED_BACK
        self._write(ctx.connection, step, status, None)
        self.current = None

    def record_failure(self, exc: BaseException) -> None:
        step = self.current
        if step is None or step.is_stamp or self.external:
            return
        if self.connection.in_transaction():
            self.connection.rollback()
        with self.connection.begin():
            message = mask_text(f"{type(exc).__name__}: {exc}", self.secrets)[:4000]
            self._write(self.connection, step, MigrationStatus.FAILED, message)

    def _write(
        self,
        connection: Connection | None,
        step: MigrationInfo,
        status: MigrationStatus,
        error: str | None,
    ) -> None:
        assert connection is not None
        revision = step.up_revision
        now = dt.datetime.now(dt.UTC)
        connection.execute(
            insert(MigrationHistory.__table__),  # type: ignore[arg-type]
            {
                "migration_id": step.up_revision_id,
                # The revision map holds Script objects, which carry the docstring's first line.
                "migration_name": str(getattr(revision, "doc", "") or ""),
                "database_path": self.database,
                "applied_at": now,
                "applied_date": now.date(),
                "duration_seconds": time.perf_counter() - self.started,
                "status": status,
                "error_message": error,
            },
        )
