"""Issue 7, test 3: a bulk writer killed with SIGKILL at a random moment, again and again.

After every kill the database must open, pass ``tradestore.ops.verify`` (SQLite's
integrity_check and foreign_key_check included), hold every transaction the writer recorded
as committed, and show no partial transaction: each order is there with all ``BATCH`` of its
fills and totals equal to their sum, or not at all.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from reliability_support import record_figure
from sqlalchemy import func, select

from tradestore import Database
from tradestore.analytics.schema import VIEWS
from tradestore.models import Bot, Fill, Order
from tradestore.ops.verify import verify_database

pytestmark = pytest.mark.reliability

KILLS = int(os.environ.get("TRADESTORE_RELIABILITY_KILLS", "20"))
WRITER = Path(__file__).with_name("crash_writer.py")
BATCH = 200
BOT = "rel-crash"


def test_sigkill_during_bulk_writes_loses_and_splits_nothing(
    db: Database, db_url: str, tmp_path: Path, backend: str
) -> None:
    with db.session() as session:
        session.add(Bot(bot_id=BOT))
    db.dispose()
    side = tmp_path / "committed.txt"
    rng = random.Random(os.environ.get("TRADESTORE_RELIABILITY_SEED", "7"))
    killed_mid_write = 0
    recorded: set[str] = set()
    lost = 0
    for run in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), db_url, str(side), f"r{run}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        ready = writer.stdout.readline()
        if ready.strip() != "ready":
            writer.kill()
            pytest.fail(f"writer did not start: {ready}{writer.communicate()[1]}")
        time.sleep(rng.uniform(0.0, 0.5))
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        assert writer.returncode == -signal.SIGKILL
        killed_mid_write += 1

        database = Database(db_url)
        try:
            report = verify_database(database, views=[view.name for view in VIEWS])
            assert report.ok, report.failures
            recorded = set(side.read_text().split())
            with database.session(readonly=True) as session:
                orders = {
                    row.client_order_id: row
                    for row in session.execute(
                        select(
                            Order.order_id,
                            Order.client_order_id,
                            Order.filled_quantity,
                            Order.status,
                        ).where(Order.bot_id == BOT)
                    )
                }
                fills = {
                    order_id: (count, total)
                    for order_id, count, total in session.execute(
                        select(Fill.order_id, func.count(), func.sum(Fill.quantity))
                        .where(Fill.bot_id == BOT)
                        .group_by(Fill.order_id)
                    )
                }
        finally:
            database.dispose()
        missing = recorded - orders.keys()
        lost += len(missing)
        assert not missing, f"committed transactions lost after kill {run}: {sorted(missing)}"
        for client_id, order in orders.items():
            count, total = fills.get(order.order_id, (0, 0))
            assert count == BATCH, f"partial transaction {client_id}: {count} fills"
            assert Decimal(total) == order.filled_quantity == BATCH
            assert order.status.value == "filled"
        assert set(fills) <= {order.order_id for order in orders.values()}

    name = f"crash_{backend}"
    record_figure(name, "kills_survived", killed_mid_write)
    record_figure(name, "transactions_recorded", len(recorded))
    record_figure(name, "fills_recorded", len(recorded) * BATCH)
    record_figure(name, "rows_lost", lost)
