"""The writer that the crash test kills: bulk transactions, each recorded after its commit.

    python crash_writer.py URL SIDE_FILE RUN

Each transaction ``<RUN>-<n>`` submits one order and imports ``BATCH`` fills for it with
``ingest_fills`` (one transaction: the order fully filled, or nothing). Only after
``Database.run`` returned does the writer append the id to SIDE_FILE and fsync it, so every
id in the file is a transaction the database promised to keep. Prints ``ready`` once the
first transaction committed, then writes until killed.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from typing import Any

from tradestore import Database
from tradestore.unit_of_work import UnitOfWork

BATCH = 200
BOT = "rel-crash"
START = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def transaction(uow: UnitOfWork, txn: str) -> None:
    order = uow.orders.submit(
        client_order_id=txn,
        ticker="NVDA",
        side="buy",
        order_type="market",
        quantity=Decimal(BATCH),
        reference_price=Decimal("100"),
        submitted_at=START,
    )
    rows: list[dict[str, Any]] = [
        {
            "fill_id": f"{txn}-{i}",
            "order_id": order.order_id,
            "quantity": Decimal(1),
            "price": Decimal("100") + Decimal(i) / 100,
            "filled_at": START + dt.timedelta(milliseconds=i),
        }
        for i in range(BATCH)
    ]
    uow.orders.ingest_fills(rows)


def main() -> int:
    url, side_file, run = sys.argv[1], sys.argv[2], sys.argv[3]
    database = Database(url)
    fd = os.open(side_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    n = 0
    while True:
        txn = f"{run}-{n}"
        database.run(lambda uow, txn=txn: transaction(uow, txn), bot_id=BOT)
        os.write(fd, f"{txn}\n".encode())
        os.fsync(fd)
        if n == 0:
            print("ready", flush=True)
        n += 1


if __name__ == "__main__":
    sys.exit(main())
