"""Revision 0015 (autovacuum settings of the hot tables): up with rows, down, up again.

On PostgreSQL the settings are read back from ``pg_class.reloptions``; on SQLite the revision
does nothing and the schema is unchanged. Alembic's compare does not look at storage
parameters, so the models need no counterpart (``compare_schema`` stays empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from tradestore import Database
from tradestore.migrate import compare_schema

#: The revision 0015 follows (the integrator chains it after the parallel 0012-0014).
PREVIOUS = "0014"
REVISION = "0015"
D = Decimal
MODULE = Path(__file__).parents[2] / "migrations" / "versions" / "0015_autovacuum_settings.py"


def revision_module() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("revision_0015", MODULE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reloptions(connection: Connection) -> dict[str, dict[str, str]]:
    rows = connection.execute(
        text(
            "SELECT c.relname, c.reloptions FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND c.reloptions IS NOT NULL"
        )
    )
    return {name: dict(option.split("=", 1) for option in options) for name, options in rows}


@pytest.fixture
def at_previous(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url, check_schema=False)
    database.upgrade(PREVIOUS)
    with database.unit_of_work() as uow:
        uow.bots.register("alpha", mode="paper")
    with database.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="c-1", ticker="AAPL", side="buy", order_type="market",
            quantity=D("10"),
        )  # fmt: skip
        uow.orders.record_fill(order.order_id, fill_id="f-1", quantity=D("4"), price=D("100"))
        uow.positions.open("AAPL", side="long", quantity=D("4"), entry_price=D("100"))
    yield database
    database.dispose()


def _rows(database: Database) -> list[object]:
    with database.connect() as connection:
        return [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("bots", "orders", "fills", "positions")
        ]


#: Tables and indexes of later revisions: the models hold them, a database at 0015 does not
#: yet (0017 replaces idx_fills_order_id with idx_fills_bot_order_id).
LATER_TABLES = {"partition_policies"}
LATER_INDEXES = {("add_index", "idx_fills_bot_order_id"), ("remove_index", "idx_fills_order_id")}


def _differences(connection: Connection) -> list[object]:
    return [
        d
        for d in compare_schema(connection)
        if not (d[0] == "add_table" and d[1].name in LATER_TABLES)
        and (d[0], getattr(d[1], "name", None)) not in LATER_INDEXES
    ]


def test_up_sets_the_settings_down_resets_them(at_previous: Database) -> None:
    module = revision_module()
    settings: dict[str, dict[str, str]] = {
        table: dict(values)
        for table, values in module.SETTINGS.items()  # type: ignore[attr-defined]
    }
    rows = _rows(at_previous)
    postgres = at_previous.dialect_name == "postgresql"
    if postgres:
        with at_previous.connect() as connection:
            assert reloptions(connection) == {}

    at_previous.upgrade(REVISION)

    assert _rows(at_previous) == rows
    with at_previous.connect() as connection:
        assert _differences(connection) == []
        if postgres:
            assert reloptions(connection) == settings
    # the hot tables named by the revision exist under those names
    assert {"fills", "orders", "positions", "closed_positions", "training_episodes"} <= set(
        settings
    )

    at_previous.downgrade(PREVIOUS)
    with at_previous.connect() as connection:
        if postgres:
            assert reloptions(connection) == {}
        assert _differences(connection) == []
    assert _rows(at_previous) == rows

    at_previous.upgrade(REVISION)
    if postgres:
        with at_previous.connect() as connection:
            assert reloptions(connection) == settings


@pytest.mark.postgres_only
def test_a_partitioned_table_gets_the_settings_on_its_partitions(fresh_url: str) -> None:
    """The partitioning revisions may have turned a hot table into a partitioned one by the
    time 0015 runs: its partitions take the settings (the parent has no storage)."""
    module = revision_module()
    database = Database(fresh_url, check_schema=False)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE hot (at date NOT NULL) PARTITION BY RANGE (at);"
                    "CREATE TABLE hot_2026_01 PARTITION OF hot "
                    "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');"
                    "CREATE TABLE hot_2026_02 PARTITION OF hot "
                    "FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')"
                )
            )
            settings = {"hot": {"autovacuum_vacuum_scale_factor": "0.02"}}
            module.apply(connection, settings)  # type: ignore[attr-defined]
            assert reloptions(connection) == {
                "hot_2026_01": {"autovacuum_vacuum_scale_factor": "0.02"},
                "hot_2026_02": {"autovacuum_vacuum_scale_factor": "0.02"},
            }
            module.reset(connection, settings)  # type: ignore[attr-defined]
            assert reloptions(connection) == {}
    finally:
        database.dispose()
