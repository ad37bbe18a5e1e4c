"""Operations at scale: backup, restore, prune, export, stats against hand-written equivalents.

The data: 50,000 terminal orders older than the cut-off with one fill each, 25,000 recent
ones with a fill each, and 50,000 portfolio snapshots (~200,000 rows). Each "raw" column is
what an operator would script by hand with sqlite3 / psycopg2 / pg_dump doing the same job
*without* tradestore's extra guarantees (verification, checksums, batching, safety backup),
so the ratio is the price of those guarantees.

    python -m benchmarks ops
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import itertools
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text

from benchmarks.harness import Result, fresh_database, postgres_admin_url, report
from tradestore import Database
from tradestore.config import sqlite_path
from tradestore.models import Bot, Fill, Order, PortfolioSnapshot
from tradestore.ops._pgtools import target
from tradestore.ops.backup import backup_database
from tradestore.ops.export import export_table
from tradestore.ops.restore import restore_database
from tradestore.ops.retention import prune
from tradestore.ops.stats import database_stats

OLD_ORDERS = 50_000
RECENT_ORDERS = 25_000
SNAPSHOTS = 50_000
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=200)
RECENT = NOW - dt.timedelta(days=5)
REPEAT = 3


def _orders(prefix: str, count: int, when: dt.datetime) -> tuple[list[dict[str, object]], ...]:
    orders = []
    fills = []
    for n in range(count):
        order_id = f"{prefix}{n:07d}"
        orders.append(
            {
                "order_id": order_id,
                "bot_id": f"bot{n % 10}",
                "client_order_id": f"c{order_id}",
                "broker_order_id": None,
                "ticker": "AAPL",
                "order_type": "market",
                "side": "buy",
                "quantity": Decimal("10"),
                "limit_price": None,
                "stop_price": None,
                "time_in_force": "day",
                "status": "filled",
                "submitted_at": when,
                "updated_at": when,
                "filled_quantity": Decimal("10"),
                "commission": Decimal("0.5"),
                "position_id": None,
            }
        )
        fills.append(
            {
                "bot_id": f"bot{n % 10}",
                "fill_id": f"f{order_id}",
                "order_id": order_id,
                "ticker": "AAPL",
                "side": "buy",
                "quantity": Decimal("10"),
                "price": Decimal("150.25"),
                "filled_at": when,
                "liquidity": "unknown",
                "commission": Decimal("0.5"),
                "position_id": None,
            }
        )
    return orders, fills


def populate(database: Database, *, old_only: bool = False) -> None:
    with database.engine.begin() as conn:
        if not old_only:
            conn.execute(insert(Bot), [{"bot_id": f"bot{n}"} for n in range(10)])
        batches = [("o", OLD_ORDERS, OLD)] + ([] if old_only else [("r", RECENT_ORDERS, RECENT)])
        for prefix, count, when in batches:
            orders, fills = _orders(prefix, count, when)
            conn.execute(insert(Order).execution_options(render_nulls=True), orders)
            conn.execute(insert(Fill).execution_options(render_nulls=True), fills)
        if not old_only:
            start = dt.date(2000, 1, 1)
            conn.execute(
                insert(PortfolioSnapshot),
                [
                    {
                        "bot_id": f"bot{n % 10}",
                        "snapshot_date": start + dt.timedelta(days=n // 10),
                        "snapshot_time": OLD,
                        "total_equity": Decimal("100000.5"),
                        "cash_balance": Decimal("5000.25"),
                    }
                    for n in range(SNAPSHOTS)
                ],
            )


def _timed(setup: Callable[[], object], work: Callable[[], object]) -> float:
    """Median of REPEAT runs of ``work``, each after an untimed ``setup``."""
    samples = []
    for _ in range(REPEAT):
        setup()
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _median(work: Callable[[], object]) -> float:
    return _timed(lambda: None, work)


# --- raw equivalents ---------------------------------------------------------------------------


def raw_sqlite_backup(path: Path, folder: Path) -> Path:
    copy = folder / "raw.db"
    source = sqlite3.connect(path)
    target_conn = sqlite3.connect(copy)
    source.backup(target_conn)
    target_conn.close()
    source.close()
    packed = folder / "raw.db.gz"
    with copy.open("rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    copy.unlink()
    return packed


def raw_file_copy(path: Path, folder: Path) -> None:
    """The classic backup script: cp + gzip (not consistent under writes, shown for scale)."""
    with path.open("rb") as src, gzip.open(folder / "copy.db.gz", "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def raw_pg_dump(database: Database, folder: Path) -> Path:
    where = target(database.url)
    out = folder / "raw.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={out}", f"--dbname={where.conninfo}"],
        env=dict(where.env),
        check=True,
    )
    return out


def raw_sqlite_restore(packed: Path, live: Path, folder: Path) -> None:
    scratch = folder / "scratch.db"
    with gzip.open(packed, "rb") as src, scratch.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    source = sqlite3.connect(scratch)
    target_conn = sqlite3.connect(live)
    source.backup(target_conn)
    target_conn.close()
    source.close()
    scratch.unlink()


def raw_pg_restore(database: Database, dump: Path) -> None:
    where = target(database.url)
    subprocess.run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            f"--dbname={where.conninfo}",
            str(dump),
        ],
        env=dict(where.env),
        check=True,
    )


def raw_prune(database: Database, cutoff: dt.datetime) -> None:
    bound = cutoff.replace(tzinfo=None) if database.dialect_name == "sqlite" else cutoff
    terminal = "('filled', 'cancelled', 'rejected', 'expired')"
    old_orders = f"SELECT order_id FROM orders WHERE status IN {terminal} AND updated_at < :cutoff"
    with database.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM fills WHERE order_id IN ({old_orders})"), {"cutoff": bound})
        conn.execute(
            text(f"DELETE FROM orders WHERE status IN {terminal} AND updated_at < :cutoff"),
            {"cutoff": bound},
        )


def raw_export_csv(database: Database, sink: io.StringIO) -> None:
    if database.dialect_name == "sqlite":
        path = sqlite_path(database.url)
        conn = sqlite3.connect(path)  # type: ignore[arg-type]
        cursor = conn.execute("SELECT * FROM fills ORDER BY bot_id, fill_id")
        writer = csv.writer(sink)
        writer.writerow([d[0] for d in cursor.description])
        while rows := cursor.fetchmany(5000):
            writer.writerows(rows)
        conn.close()
        return
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor(name="export")  # type: ignore[call-arg]
        cursor.itersize = 5000
        cursor.execute("SELECT * FROM fills ORDER BY bot_id, fill_id")
        writer = csv.writer(sink)
        first = True
        for row in cursor:
            if first:
                writer.writerow([d[0] for d in cursor.description])
                first = False
            writer.writerow(row)
        raw.rollback()
    finally:
        raw.close()


def raw_dry_run(database: Database, cutoff: dt.datetime) -> None:
    """The same counts by hand, without the open-position / active-ensemble guards."""
    bound: object = cutoff.replace(tzinfo=None) if database.dialect_name == "sqlite" else cutoff
    terminal = "('filled', 'cancelled', 'rejected', 'expired')"
    old = f"status IN {terminal} AND updated_at < :cutoff"
    queries = [
        f"SELECT count(*) FROM orders WHERE {old}",
        f"SELECT count(*) FROM fills WHERE order_id IN (SELECT order_id FROM orders WHERE {old})",
        "SELECT count(*) FROM closed_positions WHERE closed_at < :cutoff",
        "SELECT count(*) FROM training_episodes WHERE run_id IN (SELECT run_id FROM"
        " training_runs WHERE status <> 'running' AND end_time < :cutoff)",
        "SELECT count(*) FROM portfolio_snapshots WHERE snapshot_time < :cutoff",
        "SELECT count(*) FROM performance_metrics WHERE metric_date < :day",
    ]
    with database.engine.connect() as conn:
        for query in queries:
            conn.execute(text(query), {"cutoff": bound, "day": cutoff.date()}).scalar_one()
        conn.rollback()


def raw_stats(database: Database) -> None:
    """count(*) of every table and the size query, by hand."""
    with database.engine.connect() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
                if database.dialect_name == "sqlite"
                else text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ]
        for table in tables:
            conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        if database.dialect_name == "sqlite":
            conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
        else:
            conn.execute(
                text(
                    "SELECT tablename, pg_total_relation_size(quote_ident(tablename)) "
                    "FROM pg_tables WHERE schemaname = 'public'"
                )
            ).all()
        conn.rollback()


# --- the benchmark -------------------------------------------------------------------------------


def run_backend(backend: str) -> list[Result]:
    results: list[Result] = []
    with fresh_database(backend) as database, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        populate(database)
        with database.engine.connect() as conn:  # planner statistics, as a live database has
            conn.execute(text("ANALYZE"))
            conn.commit()
        cutoff = NOW - dt.timedelta(days=90)

        ours = _median(lambda: backup_database(database, directory=folder / "b", keep_days=None))
        if backend == "sqlite":
            live = sqlite_path(database.url)
            assert live is not None
            raw = _median(lambda: raw_sqlite_backup(live, folder))
            results.append(
                Result("backup (verified, checksummed)", backend, ours, raw, "sqlite3 backup+gzip")
            )
            copy = _median(lambda: raw_file_copy(live, folder))
            results.append(Result("backup (verified, checksummed)", backend, ours, copy, "cp+gzip"))
        else:
            raw = _median(lambda: raw_pg_dump(database, folder))
            results.append(
                Result("backup (verified, checksummed)", backend, ours, raw, "pg_dump -Fc")
            )

        taken = backup_database(database, directory=folder / "r", keep_days=None).backup.path
        ours = _median(
            lambda: restore_database(
                database, taken, backup_dir=folder / "safety", safety_backup=False
            )
        )
        full = _median(lambda: restore_database(database, taken, backup_dir=folder / "safety"))
        if backend == "sqlite":
            live = sqlite_path(database.url)
            assert live is not None
            raw = _median(lambda: raw_sqlite_restore(taken, live, folder))
            label = "gunzip+sqlite3 backup"
        else:
            dump = raw_pg_dump(database, folder)
            raw = _median(lambda: raw_pg_restore(database, dump))
            label = "pg_restore --clean -1"
        results.append(Result("restore (verify + row counts)", backend, ours, raw, label))
        results.append(Result("restore (+ safety backup)", backend, full, raw, label))

        dry = _median(lambda: prune(database, cutoff=cutoff, dry_run=True))
        raw = _median(lambda: raw_dry_run(database, cutoff))
        results.append(
            Result("prune --dry-run (counts)", backend, dry, raw, "6 count(*), no guards")
        )

        def repopulate() -> None:
            populate(database, old_only=True)

        prune(database, cutoff=cutoff)  # start every timed run from the same state
        ours = _timed(repopulate, lambda: prune(database, cutoff=cutoff, tables=["orders"]))
        raw = _timed(repopulate, lambda: raw_prune(database, cutoff))
        results.append(
            Result("prune 50k orders+50k fills (batched)", backend, ours, raw, "2 DELETEs, 1 txn")
        )
        # What the batching buys: the longest a bot can wait for the write lock.
        repopulate()
        marks: list[float] = []
        prune(
            database,
            cutoff=cutoff,
            tables=["orders"],
            progress=lambda _p, _d, _t: marks.append(time.perf_counter()),
        )
        longest = max(b - a for a, b in itertools.pairwise(marks))
        results.append(
            Result("prune: longest transaction", backend, longest, raw, "the single txn")
        )
        repopulate()

        ours = _median(lambda: export_table(database, "fills", io.StringIO(), format="csv"))
        raw = _median(lambda: raw_export_csv(database, io.StringIO()))
        results.append(
            Result("export fills 75k rows csv", backend, ours, raw, "cursor + csv.writer")
        )

        ours = _median(lambda: database_stats(database))
        raw = _median(lambda: raw_stats(database))
        results.append(
            Result("stats (exact counts + sizes)", backend, ours, raw, "count(*)s + sizes")
        )
    return results


def main() -> None:
    backends = ["sqlite"]
    if (
        postgres_admin_url() is not None
        and shutil.which("pg_dump")
        and not os.environ.get("TRADESTORE_BENCH_SKIP_POSTGRES")
    ):
        backends.append("postgresql")
    for backend in backends:
        report(run_backend(backend))


if __name__ == "__main__":
    main()
