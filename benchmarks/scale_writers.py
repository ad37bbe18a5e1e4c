"""One process of writing bots for the scale benchmark (tests/pgbouncer/bouncer_bots.py's way).

    python -m benchmarks.scale_writers URL PROCESS THREADS SECONDS GO_FILE TAG

Thread t of process p is bot ``bot-<p * THREADS + t>`` (one of the data set's 200), on the
process's one ``Database`` whose pool holds one connection per thread (THREADS pgbouncer
clients). Once every thread has connected the process prints ``ready``; the threads wait for
GO_FILE, then for SECONDS each runs units of work (``Database.run``) that submit a market
order and record its three fills (filled now: the current partition). Any exception is an
error. At the end one JSON line: units, errors (the first few), retries, latencies, elapsed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from tradestore import Database

FILLS = 3


class _Retries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("transient database error"):
            self.count += 1


def _trade(uow: Any, tag: str, n: int) -> None:
    order = uow.orders.submit(
        client_order_id=f"{tag}-{n}",
        ticker="NVDA",
        side="buy",
        order_type="market",
        quantity=Decimal(FILLS * 2),
        reference_price=Decimal("100"),
    )
    for k in range(FILLS):
        uow.orders.record_fill(
            order.order_id,
            fill_id=f"{tag}-{n}-{k}",
            quantity=Decimal(2),
            price=Decimal("100") + Decimal(k) / 10,
            filled_at=dt.datetime.now(dt.UTC),
        )


def main(
    url: str, process: int, threads: int, seconds: float, go: Path, tag: str
) -> dict[str, Any]:
    retries = _Retries()
    logging.getLogger("tradestore").addHandler(retries)
    logging.getLogger("tradestore").setLevel(logging.INFO)
    db = Database(url, pool_size=threads, max_overflow=0, pool_timeout=120)
    errors: list[str] = []
    latencies: list[float] = []
    units = [0]
    lock = threading.Lock()

    def bot(index: int) -> None:
        name = f"bot-{process * threads + index:03d}"
        mine: list[float] = []
        while not go.exists():
            time.sleep(0.02)
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                db.run(partial(_trade, tag=f"{tag}-{name}", n=n), bot_id=name)
            except Exception as exc:
                with lock:
                    errors.append(f"{name} #{n}: {type(exc).__name__}: {exc}")
            else:
                mine.append(time.perf_counter() - began)
            n += 1
        with lock:
            latencies.extend(mine)
            units[0] += len(mine)

    opened = [db.engine.connect() for _ in range(threads)]  # THREADS clients, kept by the pool
    for connection in opened:
        connection.close()
    workers = [threading.Thread(target=bot, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.02)
    began = time.monotonic()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    db.dispose()
    return {
        "units": units[0],
        "errors": len(errors),
        "first_errors": errors[:5],
        "retries": retries.count,
        "latencies": latencies,
        "elapsed": elapsed,
    }


if __name__ == "__main__":
    url, process, threads, seconds, go_file, tag = sys.argv[1:7]
    outcome = main(url, int(process), int(threads), float(seconds), Path(go_file), tag)
    print(json.dumps(outcome), flush=True)
