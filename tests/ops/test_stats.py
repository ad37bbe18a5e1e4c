from __future__ import annotations

from ops_scenario import RetentionScenario

from tradestore import Database
from tradestore.models import Base
from tradestore.ops.stats import database_stats, row_counts


def test_rows_and_sizes_per_table(db: Database, scenario: RetentionScenario) -> None:
    phases: list[tuple[int, int | None]] = []
    stats = database_stats(db, progress=lambda _p, done, total: phases.append((done, total)))
    by_name = {table.name: table for table in stats.tables}
    assert set(Base.metadata.tables) <= set(by_name)
    assert by_name["orders"].rows == 10
    assert by_name["fills"].rows == 6
    assert by_name["training_episodes"].rows == 16
    assert by_name["bots"].rows == 2
    assert stats.total_rows == sum(table.rows for table in stats.tables)
    for table in stats.tables:
        assert table.total_bytes is not None
        assert table.index_bytes is not None
        assert table.total_bytes >= table.index_bytes
    assert by_name["orders"].total_bytes > 0  # type: ignore[operator]
    assert stats.size_bytes is not None
    assert stats.size_bytes > 0
    assert stats.indexes == ()  # only when asked for
    assert phases[-1] == (len(stats.tables), len(stats.tables))
    assert stats.backend == db.dialect_name
    if db.dialect_name == "sqlite":
        assert stats.wal_bytes is not None  # tradestore runs SQLite in WAL mode
    else:
        assert stats.wal_bytes is None


def test_index_listing(db: Database, scenario: RetentionScenario) -> None:
    stats = database_stats(db, indexes=True)
    names = {(index.table, index.name) for index in stats.indexes}
    assert ("orders", "idx_orders_ticker") in names
    assert ("training_episodes", "idx_training_episodes_run_episode") in names
    for index in stats.indexes:
        assert index.size_bytes is not None
        assert index.size_bytes > 0
        assert (index.scans is None) == (db.dialect_name == "sqlite")


def test_row_counts(db: Database, scenario: RetentionScenario) -> None:
    counts = row_counts(db)
    assert counts["closed_positions"] == 4
    assert counts["portfolio_snapshots"] == 6
    assert counts["performance_metrics"] == 6
    assert row_counts(db, ["orders"]) == {"orders": 10}
