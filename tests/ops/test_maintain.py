"""``ops.maintain``: the plan per backend, a real run, and a run while a bot records fills.

The concurrent test is the point of the module: maintenance must never take a lock that makes
a bot's write fail (PostgreSQL: no ACCESS EXCLUSIVE; SQLite: each step commits on its own, so a
writer waits for one step at most, well inside its busy timeout). Neither side may see an error.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, insert, select

from tradestore import Database
from tradestore.errors import ValidationError
from tradestore.models import Bot, Fill
from tradestore.ops.maintain import LOCKS, maintain_database
from tradestore.ops.verify import verify_database

D = Decimal


def test_dry_run_plans_one_statement_per_table_and_runs_nothing(db: Database) -> None:
    report = maintain_database(db, dry_run=True, tables=["fills", "orders"])
    assert report.dry_run
    assert all(step.seconds is None for step in report.steps)
    per_table = [(s.action, s.target) for s in report.steps if s.target is not None]
    if db.dialect_name == "postgresql":
        # fills is partitioned (revision 0016): its partitions are ensured first
        assert per_table == [("partitions", "fills"), ("vacuum", "fills"), ("vacuum", "orders")]
        assert [s.statement for s in report.steps] == [
            "ensure partitions of fills (monthly, 3 ahead)",
            "VACUUM (ANALYZE) fills",
            "VACUUM (ANALYZE) orders",
        ]
        assert report.steps[0].result == "none missing"
    else:
        assert [s.statement for s in report.steps] == [
            "PRAGMA optimize",
            "ANALYZE fills",
            "ANALYZE orders",
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ]
        # the library does not create files with auto_vacuum=INCREMENTAL: say how to
        assert any("PRAGMA auto_vacuum=INCREMENTAL" in note for note in report.notes)
    for step in report.steps:
        assert step.lock
        forbidden = ("VACUUM FULL", "REINDEX INDEX ", "REINDEX TABLE")
        assert not any(
            step.statement.startswith(f) and "CONCURRENTLY" not in step.statement for f in forbidden
        )


def test_analyze_only_and_table_filter(db: Database) -> None:
    report = maintain_database(db, analyze_only=True, tables=["positions"])
    assert [(s.action, s.target) for s in report.steps] == [("analyze", "positions")]
    assert report.steps[0].seconds is not None
    with pytest.raises(ValidationError) as raised:
        maintain_database(db, tables=["fills", "no_such_table"])
    assert raised.value.field == "tables"
    assert "no_such_table" in str(raised.value)
    for bad in ({"reindex": "some"}, {"bloat_ratio": 1.0}, {"min_index_bytes": -1}):
        with pytest.raises(ValidationError):
            maintain_database(db, **bad)


@pytest.mark.postgres_only
def test_bloated_indexes_are_rebuilt_concurrently(db: Database) -> None:
    # Many rows written and deleted leave the primary key's and the index's pages behind.
    with db.engine.begin() as connection:
        connection.execute(insert(Bot), [{"bot_id": f"b-{n:06d}"} for n in range(20_000)])
        connection.execute(delete(Bot).where(Bot.bot_id != "b-000000"))
    report = maintain_database(db, tables=["bots"], min_index_bytes=0)
    reindexed = {s.target for s in report.steps if s.action == "reindex"}
    assert {"pk_bots", "idx_bots_status_heartbeat"} <= reindexed
    assert all(s.statement.startswith("REINDEX INDEX CONCURRENTLY") for s in report.steps[1:])
    assert all("estimated" in (s.reason or "") for s in report.steps[1:])
    # rebuilt: nothing is bloated any more
    again = maintain_database(db, tables=["bots"], min_index_bytes=0)
    assert [s.action for s in again.steps] == ["vacuum"]
    everything = maintain_database(db, tables=["bots"], reindex="all")
    assert len([s for s in everything.steps if s.action == "reindex"]) >= 2
    assert verify_database(db).ok


@pytest.mark.postgres_only
def test_every_step_locks_as_documented(db: Database) -> None:
    assert LOCKS["vacuum"].startswith("SHARE UPDATE EXCLUSIVE")
    report = maintain_database(db, reindex="all")
    actions = {step.action for step in report.steps}
    partitions = {"partitions"} if db.dialect_name == "postgresql" else set()
    assert actions == {"vacuum", "reindex"} | partitions
    assert not any("FULL" in step.statement for step in report.steps)


@pytest.mark.sqlite_only
def test_sqlite_incremental_vacuum_when_the_file_allows_it(db: Database) -> None:
    with db.connect() as connection:
        raw = connection.execution_options(tradestore_sqlite_begin="NONE")
        raw.exec_driver_sql("PRAGMA auto_vacuum=INCREMENTAL")
        raw.exec_driver_sql("VACUUM")
    report = maintain_database(db)
    assert "PRAGMA incremental_vacuum" in [s.statement for s in report.steps]
    assert not any("auto_vacuum" in note for note in report.notes)
    checkpoint = report.steps[-1]
    assert checkpoint.action == "checkpoint"
    assert checkpoint.result is not None
    assert checkpoint.result.startswith("busy=")


class FillWriter(threading.Thread):
    """A bot recording one fill per unit of work on its own Database, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.database = Database(url)
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.errors: list[BaseException] = []
        self.written = 0

    def run(self) -> None:
        try:
            with self.database.unit_of_work() as uow:
                uow.bots.register("writer", mode="paper")
            with self.database.unit_of_work(bot_id="writer") as uow:
                order = uow.orders.submit(
                    client_order_id="big", ticker="AAPL", side="buy", order_type="market",
                    quantity=D("1000000"),
                )  # fmt: skip
            while not self.stop.is_set():
                with self.database.unit_of_work(bot_id="writer") as uow:
                    uow.orders.record_fill(
                        order.order_id, fill_id=f"f-{self.written}", quantity=D("1"),
                        price=D("100.25"),
                    )  # fmt: skip
                self.written += 1
                if self.written == 20:
                    self.started_writing.set()
                # A bot pauses between its writes; one that commits back to back with no gap
                # starves every other SQLite writer, maintenance or not: SQLite's busy handler
                # polls for the lock, it does not queue for it.
                time.sleep(0.002)
        except BaseException as exc:  # reported to the test, which fails on it
            self.errors.append(exc)
            self.started_writing.set()
        finally:
            self.database.dispose()


def test_maintenance_while_a_bot_records_fills(db: Database, db_url: str) -> None:
    writer = FillWriter(db_url)
    writer.start()
    try:
        assert writer.started_writing.wait(60)
        reports = [
            maintain_database(db, reindex="all", min_index_bytes=0),
            maintain_database(db, tables=["fills", "orders"], reindex="all"),
            maintain_database(db, analyze_only=True),
        ]
        before_stop = writer.written
    finally:
        writer.stop.set()
        writer.join(60)
    assert not writer.is_alive()
    assert writer.errors == []
    assert before_stop >= 20
    assert all(report.steps for report in reports)
    with db.connect() as connection:
        fills = connection.execute(select(func.count()).select_from(Fill)).scalar_one()
    assert fills == writer.written
    assert verify_database(db).ok
