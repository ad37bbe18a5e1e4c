from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from ops_scenario import CUTOFF, NOW, OLD, RETENTION, RetentionScenario, add_order, count
from sqlalchemy import event, select

from tradestore import Database
from tradestore.errors import NaiveDatetimeError, SchemaOutOfDate, ValidationError
from tradestore.models import (
    Bot,
    ClosedPosition,
    Fill,
    IntradaySnapshot,
    IntradaySnapshotSymbol,
    Order,
    PerformanceMetric,
    PeriodMetric,
    PortfolioSnapshot,
    Position,
    TrainingEpisode,
    TrainingRun,
)
from tradestore.ops.retention import prune


def _ids(db: Database, column: object) -> set[str]:
    with db.engine.connect() as conn:
        values = set(conn.execute(select(column)).scalars())  # type: ignore[call-overload]
        conn.rollback()
    return values


def test_dry_run_counts_equal_the_real_run(db: Database, scenario: RetentionScenario) -> None:
    dry = prune(db, older_than=RETENTION, now=NOW, dry_run=True)
    assert dry.dry_run
    assert dry.counts == scenario.expected
    assert count(db, Order) == 10  # the dry run deleted nothing

    real = prune(db, older_than=RETENTION, now=NOW)
    assert not real.dry_run
    assert real.counts == dry.counts
    assert real.cutoff == dry.cutoff == CUTOFF
    assert real.total == sum(scenario.expected.values()) == 30

    again = prune(db, older_than=RETENTION, now=NOW, dry_run=True)
    assert again.total == 0


def test_prune_keeps_live_state_and_recent_history(
    db: Database, scenario: RetentionScenario
) -> None:
    prune(db, older_than=RETENTION, now=NOW)
    assert _ids(db, Order.order_id) == scenario.kept_orders
    assert _ids(db, Fill.fill_id) == scenario.kept_fills
    assert _ids(db, ClosedPosition.position_id) == scenario.kept_closed
    assert _ids(db, Position.position_id) == {"pos-open"}
    assert _ids(db, Bot.bot_id) == {"alpha", "beta"}
    assert count(db, TrainingRun) == 5  # runs themselves are never pruned
    for run_id, episodes in scenario.kept_episode_runs.items():
        assert count(db, TrainingEpisode, TrainingEpisode.run_id == run_id) == episodes
    assert count(db, TrainingEpisode) == sum(scenario.kept_episode_runs.values())
    # the snapshot taken exactly at the cut-off is not older than it
    times = _ids(db, PortfolioSnapshot.snapshot_time)
    assert min(times) == CUTOFF
    assert min(_ids(db, PerformanceMetric.metric_date)) == CUTOFF.date()
    # intraday snapshots: the one at the cut-off stays, with its lines; no line is orphaned
    assert min(_ids(db, IntradaySnapshot.snapshot_time)) == CUTOFF
    assert _ids(db, IntradaySnapshotSymbol.snapshot_id) <= _ids(db, IntradaySnapshot.snapshot_id)
    assert count(db, IntradaySnapshotSymbol) == 2
    # period metrics: kept when their last day is the cut-off's or later, all-time ones always
    # (one per bot and strategy: a bot's last all-time figure, however old)
    assert count(db, PeriodMetric) == 3
    assert count(db, PeriodMetric, PeriodMetric.period == "all_time") == 2
    assert min(_ids(db, PeriodMetric.as_of)) < CUTOFF.date()  # beta's old all-time row


def test_small_batches_delete_the_same_rows(db: Database, scenario: RetentionScenario) -> None:
    report = prune(db, older_than=RETENTION, now=NOW, batch_size=1)
    assert report.counts == scenario.expected
    assert _ids(db, Order.order_id) == scenario.kept_orders


def test_tables_limits_the_prune(db: Database, scenario: RetentionScenario) -> None:
    report = prune(db, older_than=RETENTION, now=NOW, tables=["portfolio_snapshots"])
    assert report.counts == {"portfolio_snapshots": 4}
    assert count(db, Order) == 10
    orders_only = prune(db, older_than=RETENTION, now=NOW, tables=["orders"], dry_run=True)
    assert orders_only.counts == {"fills": 2, "orders": 4}
    intraday = prune(db, older_than=RETENTION, now=NOW, tables=["intraday_snapshots"])
    assert intraday.counts == {"intraday_snapshot_symbols": 3, "intraday_snapshots": 2}
    periods = prune(db, older_than=RETENTION, now=NOW, tables=["period_metrics"], dry_run=True)
    assert periods.counts == {"period_metrics": 2}


def test_explicit_cutoff(db: Database, scenario: RetentionScenario) -> None:
    # a cut-off before every row: nothing is old enough
    report = prune(db, cutoff=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dry_run=True)
    assert report.total == 0
    assert prune(db, cutoff=CUTOFF, dry_run=True).counts == scenario.expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "older_than"),
        ({"older_than": RETENTION, "cutoff": CUTOFF}, "older_than"),
        ({"older_than": dt.timedelta(0)}, "older_than"),
        ({"older_than": RETENTION, "batch_size": 0}, "batch_size"),
        ({"older_than": RETENTION, "tables": ["fills"]}, "tables"),
        ({"older_than": RETENTION, "tables": ["bots"]}, "tables"),
        ({"older_than": RETENTION, "tables": ["intraday_snapshot_symbols"]}, "tables"),
    ],
)
def test_bad_arguments_are_refused(db: Database, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        prune(db, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_naive_cutoff_is_refused(db: Database) -> None:
    with pytest.raises(NaiveDatetimeError):
        prune(db, cutoff=dt.datetime(2025, 1, 1))


def test_prune_refuses_a_schema_behind_head(fresh_url: str) -> None:
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0002")
        with pytest.raises(SchemaOutOfDate):
            prune(database, older_than=RETENTION, dry_run=True)
    finally:
        database.dispose()


@pytest.mark.postgres_only
def test_a_batch_of_orders_is_bound_as_one_array_per_key_column(
    db: Database, scenario: RetentionScenario
) -> None:
    """On PostgreSQL the batch of (bot_id, order_id) keys reaches fills and orders as two
    arrays joined through unnest, never as a row-value IN list: the list is planned as one
    index scan per key in every partition of fills (seconds per batch at 41 partitions), and
    its statement text, hence its plan, changes with the batch's size. The arrays stay zipped:
    each bot's live order of the id another bot's pruned order has (crossed pairs) stays."""
    with db.engine.begin() as conn:
        add_order(conn, "o-filled-old", bot_id="beta", status="pending", updated=OLD, fills=1)
        add_order(conn, "o-cancelled-old", status="pending", updated=OLD, fills=1)
    seen: list[tuple[str, dict[str, list[str]]]] = []

    def listen(*args: object) -> None:
        statement, parameters = args[2], args[3]
        assert isinstance(statement, str)
        if statement.startswith(("DELETE FROM fills", "DELETE FROM orders")):
            assert isinstance(parameters, dict)
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        report = prune(db, older_than=RETENTION, now=NOW, batch_size=2)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert report.counts == scenario.expected
    assert scenario.expected["orders"] == 4
    assert [statement.split()[2] for statement, _ in seen] == ["fills", "orders"] * 2
    assert len({statement for statement, _ in seen}) == 2, "the text changed between batches"
    pairs: set[tuple[str, str]] = set()
    for statement, parameters in seen:
        assert "unnest(" in statement
        assert sorted(parameters) == ["keys_0", "keys_1"]
        pairs |= set(zip(parameters["keys_0"], parameters["keys_1"], strict=True))
    assert pairs == {
        ("alpha", "o-filled-old"),
        ("alpha", "o-rejected-old"),
        ("alpha", "o-expired-old"),
        ("beta", "o-cancelled-old"),
    }
    kept = {(bot, order) for bot, order in _pairs(db, Order.bot_id, Order.order_id)}
    assert {("beta", "o-filled-old"), ("alpha", "o-cancelled-old")} <= kept
    fills = {(bot, order) for bot, order in _pairs(db, Fill.bot_id, Fill.order_id)}
    assert {("beta", "o-filled-old"), ("alpha", "o-cancelled-old")} <= fills
    assert ("alpha", "o-filled-old") not in fills


def _pairs(db: Database, *columns: Any) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = [(str(a), str(b)) for a, b in conn.execute(select(*columns))]
        conn.rollback()
    return rows
