"""Engine set-up: tradestore's settings per backend, and what keeps pooled connections sane.

SQLite connections get the "optimized connection" pragmas. Transactions on SQLite start with
``BEGIN IMMEDIATE`` (the SQLAlchemy documentation's pysqlite recipe): a writer takes the write
lock up front and waits ``busy_timeout`` for it, instead of failing with "database is locked"
when a deferred read transaction tries to upgrade to a write. The same recipe makes SQLite DDL
transactional, so a failed migration leaves nothing half-applied. PostgreSQL sessions are
pinned to UTC; the pool ends a transaction the driver still holds when a connection comes back,
and a forked child never uses its parent's pooled connections.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sqlite3
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import PoolResetState, StaticPool

from tradestore.config import (
    DEFAULT_URL,
    mask_url,
    parse_url,
    resolve_url,
    split_pgbouncer_query,
    split_secret_query,
    sqlite_path,
)
from tradestore.db.connections import ThreadConnections, driver_in_transaction
from tradestore.db.pgconnect import masked_connection_factory
from tradestore.db.types import encode_json
from tradestore.errors import (
    ConfigurationError,
)

log = logging.getLogger(__name__)

#: Execution option set on an engine made with ``pgbouncer=True`` (see ``behind_pgbouncer``).
PGBOUNCER = "tradestore_pgbouncer"

#: Execution option naming how a SQLite transaction begins: "IMMEDIATE" (default), "DEFERRED",
#: or "NONE": no BEGIN at all, every statement commits on its own (the driver's autocommit).
#: "NONE" is for maintenance (``ops.maintain``): ``PRAGMA wal_checkpoint`` and ``VACUUM``
#: cannot run inside a transaction, and each ``ANALYZE`` should hold the write lock alone.
SQLITE_BEGIN = "tradestore_sqlite_begin"
#: SQLite ``synchronous`` settings tradestore accepts (docs/reference/reliability.md,
#: Durability). OFF is refused: with it a power loss can corrupt the file, not just lose the
#: last commits.
SQLITE_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


#: How long a pooled connection may sit unused and still be handed out without a ping.
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "tradestore_idle_since"


@dataclass(frozen=True)
class EngineOptions:
    """tradestore's engine settings: the keyword arguments ``Database`` takes.

    ``sqlite_synchronous`` is SQLite's durability setting (NORMAL, FULL or EXTRA; ignored on
    PostgreSQL, whose durability is the server's ``synchronous_commit``):
    docs/reference/reliability.md says what each one survives. ``ping_after_idle``
    (PostgreSQL): a pooled connection idle longer than this many seconds is pinged before it
    is handed out (see ``ping_idle_connections``; 0 pings every checkout). ``pgbouncer``
    (PostgreSQL; also ``?pgbouncer=true`` in the URL): the server is a PgBouncer pooling
    transactions, so asyncpg (>= 0.31) prepares no named statements and caches none
    (PgBouncer 1.18 cannot route them; psycopg2 prepares nothing), the migration lock takes
    its PgBouncer scheme, and backup/restore refuse to run (docs/operations/pgbouncer.md).
    ``keepalives_idle`` (PostgreSQL on psycopg2): seconds a connection may sit silent before
    TCP keepalive probes start (three, that many seconds apart), so a server host that
    vanishes mid-statement fails it instead of hanging for the OS default (hours); None keeps
    the OS default. Replica connections get ``REPLICA_KEEPALIVE_IDLE`` unless set.
    """

    echo: bool = False
    busy_timeout_ms: int = 30_000
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    pool_recycle: int = 1800
    connect_timeout: int = 10
    application_name: str = "tradestore"
    sqlite_synchronous: str = "NORMAL"
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS
    pgbouncer: bool = False
    keepalives_idle: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sqlite_synchronous", _sqlite_synchronous(self.sqlite_synchronous))


def create_engine_for(url: str | URL, **options: Any) -> Engine:
    """Build an engine with tradestore's settings (``EngineOptions``) for the URL's backend."""
    url = resolve_url(url)
    settings = EngineOptions(**options)
    target, arguments = engine_arguments(url, settings)
    return configure_engine(create_engine(target, **arguments), settings)


def engine_arguments(url: URL, settings: EngineOptions) -> tuple[URL, dict[str, Any]]:
    """What ``create_engine`` (or ``create_async_engine``) is given for ``url``.

    Kept apart from ``configure_engine`` so the async engine is built from the same
    arguments and configured by the same listeners, on its ``sync_engine``.
    """
    common: dict[str, Any] = {"echo": settings.echo, "json_serializer": encode_json}
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is None:
            # One shared connection, or every session would see its own empty in-memory database.
            return url, {
                **common,
                "poolclass": StaticPool,
                "connect_args": {"check_same_thread": False},
            }
        _require_directory(path)
        return url, {**common, "connect_args": {"timeout": settings.busy_timeout_ms / 1000}}
    # Secret query arguments (sslpassword, ...) go to the driver, never into engine.url.
    url, secret_args = split_secret_query(url)
    url, bouncer_in_url = split_pgbouncer_query(url)
    bouncer = settings.pgbouncer or bouncer_in_url
    if url.get_driver_name() == "asyncpg":
        url, connect_args = _asyncpg_connect_args(url, settings, secret_args)
        if bouncer:
            _require_asyncpg_for_pgbouncer(_installed_asyncpg())
            connect_args.update(_ASYNCPG_BEHIND_PGBOUNCER)
    else:
        connect_args = _postgres_connect_args(settings, secret_args)
    arguments: dict[str, Any] = {
        **common,
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
        "pool_recycle": settings.pool_recycle,
        "connect_args": connect_args,
    }
    if bouncer:
        arguments["execution_options"] = {PGBOUNCER: True}
    return url, arguments


def behind_pgbouncer(connectable: Engine | Connection) -> bool:
    """Whether ``connectable`` was made with ``pgbouncer=True`` / ``?pgbouncer=true``.

    The flag travels as an execution option of the engine (``PGBOUNCER``), so every
    connection of it, and every engine derived with ``execution_options()``, carries it: the
    migration lock reads it from the connection it is handed, and a caller's own engine can
    say the same with ``create_engine(..., execution_options={PGBOUNCER: True})``.
    """
    return bool(connectable.get_execution_options().get(PGBOUNCER, False))


#: The first asyncpg that prepares no named statement with ``statement_cache_size=0``: 0.30
#: still names some (``__asyncpg_stmt_N__``; tests/pgbouncer found one left on a PgBouncer
#: server connection after three read-only units of work), which collide between PgBouncer's
#: clients as the cached ones do.
ASYNCPG_FOR_PGBOUNCER = (0, 31)


def _installed_asyncpg() -> str:
    from importlib.metadata import version

    return version("asyncpg")


def _require_asyncpg_for_pgbouncer(installed: str) -> None:
    numbers = tuple(int(part) for part in re.findall(r"\d+", installed)[:2])
    if numbers < ASYNCPG_FOR_PGBOUNCER:
        floor = ".".join(map(str, ASYNCPG_FOR_PGBOUNCER))
        raise ConfigurationError(
            f"pgbouncer=True needs asyncpg >= {floor}, found asyncpg {installed}: older "
            "versions prepare named statements even with statement_cache_size=0, and those "
            f"collide between PgBouncer's clients; pip install 'asyncpg>={floor}'"
        )


#: libpq's sslmode values; asyncpg's ``ssl`` takes the same strings.
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: Query arguments asyncpg (or SQLAlchemy's asyncpg dialect) takes as they are.
_ASYNCPG_QUERY = frozenset(
    {"target_session_attrs", "krbsrvname", "gsslib", "prepared_statement_cache_size"}
)


#: asyncpg behind PgBouncer in transaction mode. asyncpg prepares every statement; with a
#: statement cache it names them (``__asyncpg_stmt_1__``, counted per client connection), and
#: SQLAlchemy's adapter keeps its own cache of named statements on top. PgBouncer 1.18 does
#: not track prepared statements: a name prepared on one server connection is missing on the
#: next one the client is handed, or already taken there by another client's statement of
#: the same number. With both caches off asyncpg uses the unnamed statement, parsed, bound
#: and executed in one exchange on one server connection (Parse/Describe end in a Flush, not
#: a Sync, so PgBouncer cannot switch servers in between) and replaced by the next one: no
#: name outlives its statement. The cost is a Parse per statement (docs/operations/pgbouncer.md).
_ASYNCPG_BEHIND_PGBOUNCER: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
}


def _asyncpg_connect_args(
    url: URL, settings: EngineOptions, secret_args: dict[str, str]
) -> tuple[URL, dict[str, Any]]:
    """The URL's libpq query arguments in asyncpg's terms, and the URL without them.

    SQLAlchemy hands every query argument to ``asyncpg.connect`` as a keyword, so a URL
    written for psycopg2 (``?sslmode=require``) would fail with a raw TypeError at the first
    connect. The libpq arguments with an asyncpg equivalent are translated; any other is
    refused here, naming it. As on psycopg2, tradestore's own ``connect_timeout`` and
    ``application_name`` settings take precedence over the URL's.
    """
    if secret_args:
        raise ConfigurationError(
            f"the database URL {mask_url(url)} gives {', '.join(sorted(secret_args))}, "
            "which asyncpg does not take: use the password (or PGPASSWORD) instead"
        )
    server_settings: dict[str, str] = {}
    args: dict[str, Any] = {}
    translated: list[str] = []
    for key, given in url.query.items():
        value = given if isinstance(given, str) else given[-1]
        if key in _ASYNCPG_QUERY:
            continue
        translated.append(key)
        if key == "sslmode":
            if value not in _SSLMODES:
                raise ConfigurationError(
                    f"database URL parameter sslmode={value!r}: use one of {', '.join(_SSLMODES)}"
                )
            args["ssl"] = value
        elif key == "options":
            server_settings.update(_server_options(value))
        elif key == "connect_timeout":
            _number("connect_timeout", value)  # refused if unreadable; the setting applies
        elif key == "application_name":
            pass  # the application_name setting applies, as on psycopg2
        else:
            raise ConfigurationError(
                f"database URL parameter {key}={value!r} has no asyncpg equivalent "
                "(tradestore.aio translates sslmode, options, connect_timeout and "
                "application_name): remove it from the URL"
            )
    server_settings["application_name"] = settings.application_name
    args.update(timeout=settings.connect_timeout, server_settings=server_settings)
    return (url.difference_update_query(translated) if translated else url), args


def _server_options(value: str) -> dict[str, str]:
    """libpq's ``options`` (``-c name=value``, ``--name=value``) as asyncpg server_settings."""
    settings: dict[str, str] = {}
    try:
        words = shlex.split(value)
    except ValueError:
        words = [value]
    pending_c = False
    for word in words:
        if pending_c:
            setting, pending_c = word, False
        elif word == "-c":
            pending_c = True
            continue
        elif word.startswith("-c") or word.startswith("--"):
            setting = word[2:]
        else:
            setting = ""
        name, equals, setting_value = setting.partition("=")
        if not equals or not name:
            break
        settings[name.replace("-", "_")] = setting_value
    else:
        if not pending_c:
            return settings
    raise ConfigurationError(
        f"database URL parameter options={value!r}: tradestore.aio takes only "
        "'-c name=value' settings there"
    )


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(
            f"database URL parameter {name}={value!r}: expected a number of seconds"
        ) from None


def _postgres_connect_args(settings: EngineOptions, secret_args: dict[str, str]) -> dict[str, Any]:
    keepalives: dict[str, Any] = {}
    if settings.keepalives_idle is not None:
        idle = max(1, int(settings.keepalives_idle))
        keepalives = {
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": idle,
            "keepalives_count": 3,
        }
    return {
        "connect_timeout": settings.connect_timeout,
        "application_name": settings.application_name,
        "connection_factory": masked_connection_factory(),
        **keepalives,
        **secret_args,
    }


def configure_engine(
    engine: Engine, settings: EngineOptions, *, sleep: Callable[[float], None] = time.sleep
) -> Engine:
    """Attach tradestore's listeners: pragmas and BEGIN on SQLite, UTC and idle pings on
    PostgreSQL, the leftover-transaction rollback on both. ``engine`` may be an async
    engine's ``sync_engine``: the listeners run inside its greenlet, on the adapted driver,
    and ``sleep`` (the wait while another connection switches a new file to WAL) is then an
    awaited one, so the event loop runs on meanwhile."""
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, settings, sqlite_path(engine.url), sleep)
    else:
        event.listen(engine, "connect", _pin_utc)
        ping_idle_connections(engine, settings.ping_after_idle)
    event.listen(engine, "reset", _end_leftover_transaction)
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


def register_engine(engine: Engine) -> None:
    """Let a forked child forget ``engine``'s pool (see ``_forget_pools_in_child``)."""
    _engines.add(engine)


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
            "(docs/reference/reliability.md, Durability)"
        )
    return str(setting)


def _configure_sqlite(
    engine: Engine, settings: EngineOptions, path: Path | None, sleep: Callable[[float], None]
) -> None:
    busy_timeout_ms = settings.busy_timeout_ms
    synchronous = settings.sqlite_synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None:
                _enable_wal(cursor, timeout_s=busy_timeout_ms / 1000, sleep=sleep)
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
        if mode == "NONE":
            return
        statement = "BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN"
        # Straight to the driver: every unit of work pays this, and SQLAlchemy's statement
        # machinery costs more than the BEGIN itself. Errors are wrapped as SQLAlchemy would,
        # so "database is locked" is still recognised as transient.
        raw: Any = connection.connection.dbapi_connection
        try:
            if isinstance(raw, sqlite3.Connection):
                raw.execute(statement)
            else:  # aiosqlite's adapted connection: the cursor, awaited inside the greenlet
                cursor = raw.cursor()
                try:
                    cursor.execute(statement)
                finally:
                    cursor.close()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


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


def _enable_wal(
    cursor: Any, *, timeout_s: float, sleep: Callable[[float], None] = time.sleep
) -> None:
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
            # execute() then fetchone(): an adapted (aiosqlite) cursor's execute returns None.
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            sleep(delay)
            delay = min(delay * 2, 0.05)


def thread_connections_for(engine: Engine) -> ThreadConnections | None:
    """Per-thread connections for a SQLite file (see db.connections); None elsewhere."""
    if engine.dialect.name != "sqlite" or sqlite_path(engine.url) is None:
        return None
    size = getattr(engine.pool, "size", None)
    return ThreadConnections(engine, limit=size() if callable(size) else 5)
