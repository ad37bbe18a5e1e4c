"""Backend-parametrised fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TRADESTORE_TEST_POSTGRES_URL``. Without it the PostgreSQL half is
skipped on a developer's machine; with ``CI=true`` a missing or unreachable server fails the
run instead, so a green CI always means both backends passed.

Each test session creates its own PostgreSQL database (several checkouts can test against
one server at once) and migrates it once; ``db`` hands every test a Database at head with
empty tables: a copied template file on SQLite, truncated tables on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from tradestore import Database
from tradestore.models import Base

BACKENDS = ("sqlite", "postgresql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ENV = "TRADESTORE_TEST_POSTGRES_URL"
#: Tables that are not domain data: never truncated between tests.
#: Not emptied between tests: the audit log, the version table, and how the partitioned tables
#: are cut (revision 0016 writes it once; a test that changes it restores it).
KEEP_TABLES = {"migration_history", "tradestore_alembic_version", "partition_policies"}


def _postgres_admin_url() -> URL | None:
    raw = os.environ.get(PG_ENV)
    if not raw:
        if IN_CI:
            pytest.fail(
                f"CI=true but {PG_ENV} is not set: PostgreSQL tests cannot be skipped in CI"
            )
        return None
    url = make_url(raw)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {url.render_as_string()} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    finally:
        engine.dispose()
    return url


class PostgresServer:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self) -> URL:
        name = f"ts_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name)

    def drop_database(self, url: URL) -> None:
        name = url.database
        with self.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop_database(self.admin_url.set(database=name))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(f"{PG_ENV} not set")
    server = PostgresServer(admin)
    yield server
    server.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database (no schema) on the test's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url.render_as_string(hide_password=False)
    server.drop_database(url)


@pytest.fixture(scope="session")
def _migrated(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """A database at head, once per session: a template file (SQLite) or a database (PG)."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database().render_as_string(hide_password=False)
    database = Database(url, check_schema=False)
    database.upgrade()
    database.dispose()
    return url


@pytest.fixture
def db_url(backend: str, _migrated: str, tmp_path: Path) -> Iterator[str]:
    """URL of a database at head with empty domain tables, private to this test."""
    if backend == "sqlite":
        source = Path(make_url(_migrated).database or "")
        target = tmp_path / "tradestore.db"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    yield _migrated
    _truncate_all(_migrated)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def _truncate_all(url: str) -> None:
    """Empty every domain table. DELETE, not TRUNCATE: on tables holding a test's few rows
    DELETE takes about a millisecond where TRUNCATE's exclusive locks take hundreds."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    engine = _cleanup_engine(url)
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))


_cleanup_engines: dict[str, Engine] = {}


def _cleanup_engine(url: str) -> Engine:
    if url not in _cleanup_engines:
        _cleanup_engines[url] = create_engine(url, pool_size=1)
    return _cleanup_engines[url]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the other backend's copy of tests marked postgres_only / sqlite_only."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if (backend == "sqlite" and item.get_closest_marker("postgres_only")) or (
            backend == "postgresql" and item.get_closest_marker("sqlite_only")
        ):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
