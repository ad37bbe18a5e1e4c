"""``pgbouncer=True`` / ``?pgbouncer=true``: what each driver is given, and what is refused.

No pgbouncer is needed here: these read the engine's arguments and the tools' target.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tradestore import Database
from tradestore.aio import AsyncDatabase
from tradestore.config import split_pgbouncer_query
from tradestore.db.engine import (
    PGBOUNCER,
    EngineOptions,
    _require_asyncpg_for_pgbouncer,
    behind_pgbouncer,
    engine_arguments,
)
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
    assert arguments.keys() - {"execution_options"} == plain.keys()
    assert arguments["connect_args"].keys() == plain["connect_args"].keys()
    # What changes is the engine's flag, read by the migration lock.
    assert arguments["execution_options"] == {PGBOUNCER: True}
    assert "execution_options" not in plain


@pytest.mark.parametrize(
    ("url", "keyword", "expected"),
    [
        (SYNC_URL, False, False),
        (SYNC_URL, True, True),
        (SYNC_URL + "?pgbouncer=true", False, True),
        (SYNC_URL + "?pgbouncer=off", False, False),
    ],
)
def test_the_database_and_its_engine_carry_the_flag(
    url: str, keyword: bool, expected: bool
) -> None:
    db = Database(url, check_schema=False, pgbouncer=keyword)
    try:
        assert db.pgbouncer is expected
        assert behind_pgbouncer(db.engine) is expected
        # Engines derived from it (the read-only one) keep it, so their connections do.
        assert behind_pgbouncer(db.engine.execution_options(logging_token="x")) is expected
    finally:
        db.dispose()


def test_asyncpg_older_than_0_31_is_refused_behind_pgbouncer() -> None:
    """0.30 still prepares named statements with statement_cache_size=0."""
    with pytest.raises(ConfigurationError, match=r"asyncpg >= 0\.31, found asyncpg 0\.30\.0"):
        _require_asyncpg_for_pgbouncer("0.30.0")
    for version in ("0.31.0", "0.32.0", "1.0.0rc1"):
        _require_asyncpg_for_pgbouncer(version)
    # and what is installed (the async extra's floor) is accepted
    engine_arguments(make_url(ASYNC_URL), EngineOptions(pgbouncer=True))


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


def test_backup_and_restore_refuse_a_database_made_with_the_keyword(tmp_path: Any) -> None:
    """``Database(url, pgbouncer=True)``: the URL does not say it, the Database does."""
    from tradestore.ops import backup, restore

    db = Database(SYNC_URL, check_schema=False, pgbouncer=True)
    try:
        with pytest.raises(BackupError, match="PgBouncer"):
            _pgtools.target(db.url, pgbouncer=db.pgbouncer)
        with pytest.raises(BackupError, match="PgBouncer"):  # before reaching the server
            backup.backup_database(db, directory=tmp_path / "backups")
        assert list((tmp_path / "backups").iterdir()) == []
        dump = tmp_path / "trading.dump"
        dump.write_bytes(b"PGDMP" + bytes(64))  # refused before pg_restore reads it
        with pytest.raises(BackupError, match="PgBouncer"):
            restore.restore_database(db, dump, safety_backup=False)
    finally:
        db.dispose()
