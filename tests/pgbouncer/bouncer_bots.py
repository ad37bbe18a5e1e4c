"""One process of bots for the 200-connection test: THREADS bots, each a pgbouncer client.

    python bouncer_bots.py URL PROCESS THREADS SECONDS GO_FILE

Each thread is a bot of its own (``p<PROCESS>-b<n>``) on the process's one ``Database``,
whose pool opens one connection per thread first and keeps them (so THREADS client
connections to pgbouncer). Every thread registers its bot; the process prints ``ready``
once all have, the threads wait for GO_FILE to exist (the test counts pgbouncer's clients
meanwhile) and then write for SECONDS:
each unit of work (``Database.run``) submits an order and records its three fills. What
committed is counted after ``run`` returned; any exception is an error. At the end one JSON
line: per-bot committed orders, fills and quantity, errors, retries and latencies.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradestore import Database
from tradestore.unit_of_work import UnitOfWork

START = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
FILLS = 3


class _Retries(logging.Handler):
    """Counts the transient errors ``Database.run`` absorbed (it logs each at INFO)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("transient database error"):
            self.count += 1


def _trade(uow: UnitOfWork, bot: str, n: int) -> None:
    order = uow.orders.submit(
        client_order_id=f"{bot}-{n}",
        ticker="NVDA",
        side="buy",
        order_type="market",
        quantity=Decimal(FILLS * 2),
        reference_price=Decimal("100"),
        submitted_at=START + dt.timedelta(seconds=n),
    )
    for k in range(FILLS):
        uow.orders.record_fill(
            order.order_id,
            fill_id=f"{bot}-{n}-{k}",
            quantity=Decimal(2),
            price=Decimal("100") + Decimal(k) / 10,
            filled_at=START + dt.timedelta(seconds=n, milliseconds=k),
        )


def main(url: str, process: int, threads: int, seconds: float, go_file: Path) -> dict[str, Any]:
    retries = _Retries()
    logging.getLogger("tradestore").addHandler(retries)
    logging.getLogger("tradestore").setLevel(logging.INFO)
    db = Database(url, pool_size=threads, max_overflow=0, pool_timeout=120)
    registered = threading.Barrier(threads + 1)
    results: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def bot(index: int) -> None:
        name = f"p{process}-b{index}"
        committed = {"orders": 0, "fills": 0, "quantity": 0}
        mine: list[float] = []
        try:
            db.run(lambda uow: uow.bots.register(name), bot_id=name)
        except Exception as exc:
            with lock:
                errors.append(f"{name} register: {type(exc).__name__}: {exc}")
        registered.wait(timeout=300)
        while not go_file.exists():
            time.sleep(0.02)
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                db.run(lambda uow, n=n: _trade(uow, name, n), bot_id=name)
            except Exception as exc:
                with lock:
                    errors.append(f"{name} #{n}: {type(exc).__name__}: {exc}")
            else:
                mine.append(time.perf_counter() - began)
                committed["orders"] += 1
                committed["fills"] += FILLS
                committed["quantity"] += FILLS * 2
            n += 1
        with lock:
            results[name] = committed
            latencies.extend(mine)

    # Open every pooled connection at once: the pool keeps them, so this process stays
    # THREADS clients of pgbouncer for the whole run however the threads interleave.
    opened = [db.engine.connect() for _ in range(threads)]
    for connection in opened:
        connection.close()
    workers = [threading.Thread(target=bot, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    registered.wait(timeout=300)
    print("ready", flush=True)
    while not go_file.exists():
        time.sleep(0.02)
    began = time.monotonic()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    db.dispose()
    return {
        "bots": results,
        "errors": errors,
        "retries": retries.count,
        "latencies": latencies,
        "elapsed": elapsed,
    }


if __name__ == "__main__":
    url, process, threads, seconds, go_file = sys.argv[1:6]
    outcome = main(url, int(process), int(threads), float(seconds), Path(go_file))
    print(json.dumps(outcome), flush=True)
