"""200 client connections from several processes of bots, through one PgBouncer.

Four processes of 50 bots each (tests/pgbouncer/bouncer_bots.py): every bot holds its own
client connection to pgbouncer, which multiplexes the 200 onto at most 20 server
connections (transaction pooling). First the test sees all 200 clients connected at once
(pgbouncer's SHOW CLIENTS), then the bots write orders and fills for a few seconds
(``TRADESTORE_PGBOUNCER_SECONDS``, 5 by default) while the test counts the server
connections in use. At the end: no bot saw an error, every bot committed over fewer server
connections than clients, and the database holds exactly what the
bots were told was committed, bot by bot. The throughput is reported as a figure, never
asserted (the machine is shared).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bouncer_support import PgBouncer
from sqlalchemy import create_engine, text

PROCESSES = 4
THREADS = 50
SECONDS = float(os.environ.get("TRADESTORE_PGBOUNCER_SECONDS", "5"))
BOTS = Path(__file__).with_name("bouncer_bots.py")
#: How long a bot process may take to connect its bots and say ``ready``.
READY_SECONDS = 180.0


def _ready_line(process: subprocess.Popen[str], *, timeout: float) -> str:
    """The bot process's first line, or "" if it printed none within ``timeout`` seconds
    (a bot stuck connecting must fail the test, not hang it)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        return ""
    return process.stdout.readline().strip()


def _stderr(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.kill()
    _, err = process.communicate(timeout=30)
    return err


def _clients(bouncer: PgBouncer, database: str) -> int:
    return sum(1 for row in bouncer.show("CLIENTS") if row["database"] == database)


def _servers(bouncer: PgBouncer, database: str) -> int:
    return sum(1 for row in bouncer.show("SERVERS") if row["database"] == database)


def test_200_clients_from_4_processes_write_without_an_error(
    bouncer: PgBouncer,
    postgres_server: Any,
    migrated_database: str,
    tmp_path: Path,
    record_property: Any,
) -> None:
    url = bouncer.url(migrated_database)
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, str(BOTS), url, str(p), str(THREADS), str(SECONDS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    try:
        for process in processes:
            line = _ready_line(process, timeout=READY_SECONDS)
            assert line == "ready", _stderr(process) or line
        connected = _clients(bouncer, migrated_database)
        assert connected >= PROCESSES * THREADS
        go.touch()
        most_servers = 0
        while any(process.poll() is None for process in processes):
            most_servers = max(most_servers, _servers(bouncer, migrated_database))
            time.sleep(0.2)
        outcomes = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    errors = [error for outcome in outcomes for error in outcome["errors"]]
    assert errors == [], f"{len(errors)} errors, first: {errors[:5]}"
    committed = {bot: figures for outcome in outcomes for bot, figures in outcome["bots"].items()}
    assert len(committed) == PROCESSES * THREADS
    assert all(figures["orders"] > 0 for figures in committed.values())
    # Multiplexed: every one of the 200 clients committed while pgbouncer had fewer server
    # connections than clients (PgBouncer itself caps them at its pool size), so clients
    # took turns on shared servers. In session mode each would have needed its own.
    assert 0 < most_servers < connected

    engine = create_engine(postgres_server.admin_url.set(database=migrated_database))
    try:
        with engine.connect() as connection:
            orders = dict(
                connection.execute(
                    text("SELECT bot_id, count(*) FROM orders GROUP BY bot_id")
                ).all()
            )
            fills = {
                bot: (count, quantity)
                for bot, count, quantity in connection.execute(
                    text("SELECT bot_id, count(*), sum(quantity) FROM fills GROUP BY bot_id")
                )
            }
            unbalanced = connection.execute(
                text(
                    "SELECT count(*) FROM orders o WHERE o.filled_quantity <> "
                    "(SELECT coalesce(sum(f.quantity), 0) FROM fills f "
                    "WHERE f.bot_id = o.bot_id AND f.order_id = o.order_id)"
                )
            ).scalar()
    finally:
        engine.dispose()
    expected_orders = {bot: f["orders"] for bot, f in committed.items()}
    expected_fills = {bot: (f["fills"], f["quantity"]) for bot, f in committed.items()}
    assert orders == expected_orders
    assert {bot: (count, int(quantity)) for bot, (count, quantity) in fills.items()} == (
        expected_fills
    )
    assert unbalanced == 0

    units = sum(f["orders"] for f in committed.values())
    latencies = sorted(latency for outcome in outcomes for latency in outcome["latencies"])
    elapsed = max(outcome["elapsed"] for outcome in outcomes)
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    figures = {
        "clients": connected,
        "most_server_connections": most_servers,
        "units_of_work": units,
        "fills": units * 3,
        "units_per_second": round(units / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else 0.0,
        "p99_ms": round(p99 * 1000, 1),
        "retries": sum(outcome["retries"] for outcome in outcomes),
        "errors": len(errors),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"\npgbouncer 200 clients: {figures}")
