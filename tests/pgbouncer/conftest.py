"""Fixtures of the PgBouncer tests: a real pgbouncer in front of the test PostgreSQL.

Each test module gets its own pgbouncer (transaction pooling, 20 server connections per
database, room for 300 clients), started before its first test and stopped after its last
one, also when a test fails. Without pgbouncer installed the tests are skipped on a
developer's machine, saying so; under ``CI=true`` they fail instead (like PostgreSQL itself,
tests/conftest.py): .ci/run installs the Debian package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bouncer_support
import pytest
from bouncer_support import PgBouncer

from tradestore import Database

#: tests/conftest.py's PostgresServer (not importable by name: both files are "conftest").
PostgresServer = Any


@pytest.fixture(scope="module")
def bouncer(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgBouncer]:
    yield from bouncer_support.running(
        tmp_path_factory.mktemp("pgbouncer"), postgres_server.admin_url
    )


@pytest.fixture
def fresh_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The name of an empty throwaway database on the test server, dropped afterwards."""
    url = postgres_server.create_database()
    assert url.database is not None
    yield url.database
    postgres_server.drop_database(url)


@pytest.fixture
def migrated_database(postgres_server: PostgresServer, fresh_database: str) -> str:
    """A throwaway database at head (migrated directly, not through pgbouncer)."""
    url = postgres_server.admin_url.set(database=fresh_database)
    database = Database(url, check_schema=False)
    try:
        database.upgrade()
    finally:
        database.dispose()
    return fresh_database
