from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_scenario import RetentionScenario
from sqlalchemy import text

import tradestore.ops.verify as verify_module
from tradestore import Database
from tradestore.config import sqlite_path
from tradestore.ops.verify import verify_database


@pytest.fixture
def fresh(fresh_url: str) -> Iterator[Database]:
    """A private database at head whose schema a test may damage."""
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    yield database
    database.dispose()


def _check(report: verify_module.VerifyReport, name: str) -> verify_module.Check:
    return next(check for check in report.checks if check.name == name)


def _execute(database: Database, *statements: str) -> None:
    with database.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_a_migrated_database_passes(db: Database, scenario: RetentionScenario) -> None:
    report = verify_database(db)
    assert report.ok, report.failures
    names = [check.name for check in report.checks]
    common = [
        "revision",
        "schema",
        "check_constraints",
        "views",
        "functions",
        "foreign_objects",
        "position_totals",
    ]
    if db.dialect_name == "sqlite":
        assert names == [*common, "integrity_check", "foreign_key_check"]
    else:
        assert names == [*common, "valid_constraints", "valid_indexes"]
    assert "0 differences" not in _check(report, "schema").detail


def test_schema_drift_is_named(fresh: Database) -> None:
    _execute(
        fresh,
        "DROP INDEX idx_orders_ticker",
        "ALTER TABLE orders ADD COLUMN junk INTEGER",
    )
    report = verify_database(fresh)
    assert not report.ok
    detail = _check(report, "schema").detail
    assert "missing index orders.idx_orders_ticker" in detail
    assert "unexpected column orders.junk" in detail
    assert _check(report, "revision").ok  # the revision alone does not reveal drift


def test_database_behind_head(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0001")
        report = verify_database(database)
        assert not _check(report, "revision").ok
        assert "run `tradestore db upgrade`" in _check(report, "revision").detail
        assert "missing table orders" in _check(report, "schema").detail
    finally:
        database.dispose()


def test_empty_database(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        report = verify_database(database)
        assert not report.ok
        assert "no tradestore schema" in _check(report, "revision").detail
    finally:
        database.dispose()


def test_expected_views_are_required(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert verify_database(db, views=()).ok
    monkeypatch.setattr(verify_module, "EXPECTED_VIEWS", ("v_ops_test",))
    report = verify_database(db)
    assert _check(report, "views").detail == "missing: v_ops_test"
    _execute(db, "CREATE VIEW v_ops_test AS SELECT bot_id FROM bots")
    try:
        report = verify_database(db)
        assert report.ok, report.failures
        assert _check(report, "views").detail == "1 present"
    finally:
        _execute(db, "DROP VIEW v_ops_test")


def test_a_view_that_cannot_be_queried_fails(fresh: Database) -> None:
    if fresh.dialect_name != "sqlite":
        pytest.skip("PostgreSQL does not let a view outlive its table")
    _execute(
        fresh,
        "CREATE TABLE scratch (x INTEGER)",
        "CREATE VIEW v_broken AS SELECT x FROM scratch",
        "DROP TABLE scratch",
    )
    check = _check(verify_database(fresh, views=("v_broken",)), "views")
    assert not check.ok
    assert "cannot be queried: v_broken" in check.detail


def test_a_dropped_function_is_reported(fresh: Database) -> None:
    """PostgreSQL: each SQL function must exist with its signature; SQLite says what stands
    in for them (it has no stored functions)."""
    if fresh.dialect_name == "sqlite":
        check = _check(verify_database(fresh), "functions")
        assert check.ok
        assert "get_paper_total_pnl: Analytics.total_pnl()" in check.detail
        assert "get_paper_fill_rate: Analytics.fill_rate(" in check.detail
        return
    assert _check(verify_database(fresh), "functions").detail == "2 present and answering"
    _execute(fresh, "DROP FUNCTION get_paper_fill_rate(text, integer, text)")
    report = verify_database(fresh)
    check = _check(report, "functions")
    assert not check.ok
    assert not report.ok
    assert check.detail == (
        "missing: get_paper_fill_rate(symbol text, days integer, bot_id text) "
        "RETURNS double precision"
    )


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("replacement", "reported"),
    [
        (
            "CREATE FUNCTION get_paper_total_pnl(bot_id integer) RETURNS numeric "
            "LANGUAGE sql AS 'SELECT 0::numeric'",
            "get_paper_total_pnl(bot_id integer) RETURNS numeric instead of "
            "get_paper_total_pnl(bot_id text) RETURNS numeric",
        ),
        (
            "CREATE FUNCTION get_paper_total_pnl(bot_id text DEFAULT NULL) RETURNS numeric "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT SUM(p.nope) FROM positions p); END $$",
            "get_paper_total_pnl fails: column p.nope does not exist",
        ),
        (
            "CREATE FUNCTION get_paper_total_pnl(bot_id text DEFAULT NULL) RETURNS numeric "
            "LANGUAGE sql AS 'SELECT 42::numeric'",
            "get_paper_total_pnl on no rows answers Decimal('42'), expected Decimal('0')",
        ),
    ],
    ids=["signature", "broken-body", "wrong-answer"],
)
def test_a_replaced_function_is_reported(fresh: Database, replacement: str, reported: str) -> None:
    _execute(fresh, "DROP FUNCTION get_paper_total_pnl(text)", replacement)
    check = _check(verify_database(fresh), "functions")
    assert not check.ok
    assert check.detail == reported


def test_missing_check_constraint_is_found(fresh: Database) -> None:
    if fresh.dialect_name != "postgresql":
        pytest.skip("SQLite cannot drop a constraint in place")
    _execute(fresh, "ALTER TABLE bots DROP CONSTRAINT ck_bots_bot_id_not_empty")
    check = _check(verify_database(fresh), "check_constraints")
    assert not check.ok
    assert check.detail == "missing: bots.ck_bots_bot_id_not_empty"


def test_sqlite_foreign_key_violations(fresh: Database, tmp_path: Path) -> None:
    if fresh.dialect_name != "sqlite":
        pytest.skip("SQLite only")
    path = sqlite_path(fresh.url)
    assert path is not None
    with sqlite3.connect(path) as conn:  # foreign keys are off in a plain connection
        conn.execute(
            "INSERT INTO portfolio_snapshots (bot_id, snapshot_date, snapshot_time, total_equity,"
            " cash_balance, long_market_value, short_market_value, positions_count,"
            " trades_today, wins_today, losses_today, created_at, updated_at) VALUES"
            " ('ghost', '2025-01-01', '2025-01-01 00:00:00', 1, 1, 0, 0, 0, 0, 0, 0,"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
        )
    check = _check(verify_database(fresh), "foreign_key_check")
    assert not check.ok
    assert check.detail == "1 rows violate foreign keys (in portfolio_snapshots)"


def test_sqlite_integrity_check(fresh: Database) -> None:
    if fresh.dialect_name != "sqlite":
        pytest.skip("SQLite only")
    _execute(
        fresh,
        "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission)"
        " VALUES ('a', 'paper', 'running', 0, 0), ('b', 'paper', 'stopped', 0, 0)",
    )
    path = sqlite_path(fresh.url)
    assert path is not None
    fresh.dispose()
    # Make the index disagree with its table: what a torn write or a bad disk produces.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX idx_bots_status_heartbeat ON bots "
            "(bot_id, last_heartbeat)' WHERE name = 'idx_bots_status_heartbeat'"
        )
    for quick, name in ((False, "integrity_check"), (True, "quick_check")):
        check = _check(verify_database(fresh, quick=quick), name)
        if not quick:
            assert not check.ok
            assert "idx_bots_status_heartbeat" in check.detail


def test_postgres_invalid_constraints_and_indexes(fresh: Database) -> None:
    if fresh.dialect_name != "postgresql":
        pytest.skip("PostgreSQL only")
    _execute(
        fresh,
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_extra CHECK (quantity < 1000000) NOT VALID",
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_orders_ticker'::regclass",
    )
    report = verify_database(fresh)
    assert _check(report, "valid_constraints").detail == "NOT VALID: orders.ck_orders_extra"
    assert _check(report, "valid_indexes").detail == "invalid: orders.idx_orders_ticker"
    assert not report.ok


def test_tradestores_objects_are_exactly_what_the_migrations_create(db: Database) -> None:
    """The derived set of tradestore's objects neither misses nor invents one: a migrated
    database holds no foreign object, and every expected table, view, index and function."""
    from tradestore.db import partitioning
    from tradestore.migrate import UNMODELLED_INDEXES
    from tradestore.ops._common import read_connection
    from tradestore.ops.schema_objects import (
        expected_objects,
        foreign,
        postgres_objects,
        sqlite_objects,
    )

    with read_connection(db) as connection:
        if db.dialect_name == "postgresql":
            present = postgres_objects(connection)
        else:
            present = sqlite_objects(connection)
    assert foreign(present) == []
    expected = expected_objects()
    names = {kind: {o.name for o in present if o.kind == kind} for kind in ("table", "view")}
    # On PostgreSQL the partitions and the fill_id guard of revision 0016 are there besides
    # (tradestore.db.partitioning), and exactly those.
    partitions = {n for n in names["table"] if partitioning.is_partition_name(n)}
    guard = partitioning.GUARD_TABLES if db.dialect_name == "postgresql" else frozenset()
    assert names["table"] - partitions == expected.tables | guard
    assert {p.rsplit("_", 1)[0] for p in partitions} <= set(partitioning.PARTITIONABLE)
    assert names["view"] == expected.views
    indexes = {o.name for o in present if o.kind == "index"}
    functions = {o.name for o in present if o.kind == "function"}
    if db.dialect_name == "postgresql":
        assert partitions
        assert expected.indexes <= indexes
        assert functions == expected.functions | partitioning.GUARD_FUNCTIONS
    else:
        assert expected.indexes - UNMODELLED_INDEXES <= indexes
