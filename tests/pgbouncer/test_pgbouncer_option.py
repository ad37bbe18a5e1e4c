"""``pgbouncer=True`` / ``?pgbouncer=true``: what each driver is given, and what is refused.

No pgbouncer is needed here: these read the engine's arguments and the tools' target.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tradestore import Database
from tradestore.aio import AsyncDatabase
from tradestore.config import split_pgbouncer_query
from tradestore.db.engine import EngineOptions, engine_arguments
from tradestore.errors import BackupError, ConfigurationError
from tradestore.ops import _pgtools

ASYNC_URL = "postgresql+asyncpg://bot:pw@h/db"
SYNC_URL = "postgresql+psycopg2://bot:pw@h/db"


@pytest.mark.parametrize(
    ("query", "keyword", "expected"),
    [
        ("", False, False),
        ("", True, True),
        ("?pgbouncer=true", False, True),
        ("?pgbouncer=1", False, True),
        ("?pgbouncer=YES", False, True),
        ("?pgbouncer=false", False, False),
        ("?pgbouncer=false", True, True),  # either one says so
    ],
)
def test_asyncpg_behind_pgbouncer_prepares_no_named_statements(
    query: str, keyword: bool, expected: bool
) -> None:
    target, arguments = engine_arguments(
        make_url(ASYNC_URL + query), EngineOptions(pgbouncer=keyword)
    )
    assert "pgbouncer" not in target.query  # asyncpg would take it as a keyword argument
    connect_args = arguments["connect_args"]
    if expected:
        assert connect_args["statement_cache_size"] == 0
        assert connect_args["prepared_statement_cache_size"] == 0
    else:
        assert "statement_cache_size" not in connect_args
        assert "prepared_statement_cache_size" not in connect_args


@pytest.mark.parametrize("keyword", [False, True])
def test_psycopg2_is_unchanged_and_never_sees_the_argument(keyword: bool) -> None:
    plain_target, plain = engine_arguments(make_url(SYNC_URL), EngineOptions())
    target, arguments = engine_arguments(
        make_url(SYNC_URL + "?pgbouncer=true"), EngineOptions(pgbouncer=keyword)
    )
    assert target == plain_target  # libpq refuses an unknown keyword
    assert arguments.keys() == plain.keys()
    assert arguments["connect_args"].keys() == plain["connect_args"].keys()


def test_the_option_is_a_keyword_of_both_databases() -> None:
    db = Database(SYNC_URL + "?pgbouncer=true", check_schema=False, pgbouncer=True)
    try:
        assert "pgbouncer" not in db.engine.url.query
    finally:
        db.dispose()
    adb = AsyncDatabase(SYNC_URL, check_schema=False, pgbouncer=True)
    assert adb.url.drivername == "postgresql+asyncpg"


def test_an_unreadable_value_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"pgbouncer='maybe'"):
        split_pgbouncer_query(make_url(SYNC_URL + "?pgbouncer=maybe"))


def test_pg_dump_and_pg_restore_refuse_a_pgbouncer_url() -> None:
    with pytest.raises(BackupError, match="PgBouncer") as refused:
        _pgtools.target(make_url("postgresql+psycopg2://bot:hunter2secret@h/db?pgbouncer=true"))
    assert "hunter2secret" not in str(refused.value)
    assert "pgbouncer" not in _pgtools.target(make_url(SYNC_URL + "?pgbouncer=no")).conninfo
