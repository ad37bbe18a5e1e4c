"""Changing an open position: scale_in, update and a trailing-stop tick, one unit of work each.

Each is timed next to the raw driver replaying the exact statements tradestore sent for it,
with the same parameters (``benchmarks/replay.py``), in the same run, on the same database,
alternating ours and raw (``bench_positions.paired_medians``), so the ratio is tradestore's own
cost: validation, the domain arithmetic, the executor and the unit of work. The statement
counts themselves are pinned in ``tests/db/test_statement_counts.py``.

* scale_in: add 1 unit at a price near the entry (the locked read, one UPDATE).
* update: a new stop and a metadata key merged into the stored document (the same two). The
  document is the same on every call: the replay gives text parameters that differ between
  its two captures fresh values, which would not be JSON.
* trail tick: ``trail_stop`` at a price that does not move the stop, the common tick (the
  locked read only).

Run: ``python -m benchmarks position_changes`` (PostgreSQL as for ``bench_positions``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks import replay
from benchmarks.bench_positions import paired_medians, pg_connect, sqlite_connect
from benchmarks.harness import Result, fresh_database, note, postgres_admin_url, report
from tradestore import Database

BOT = "bench"
UNITS = int(os.environ.get("TRADESTORE_BENCH_OPS", "300"))


def _setup(db: Database) -> dict[str, str]:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=Decimal("1000000"))
    with db.unit_of_work(bot_id=BOT) as uow:
        return {
            name: uow.positions.open(
                name,
                side="long",
                quantity=Decimal("10"),
                entry_price=Decimal("100"),
                stop_loss_price=Decimal("95"),
                metadata={"strategy_state": {"step": 0}},
            ).position_id
            for name in ("SCALE", "UPDATE", "TRAIL")
        }


def _bodies(ids: dict[str, str]) -> dict[str, Callable[[Any, int], object]]:
    return {
        "scale_in (one unit of work)": lambda uow, n: uow.positions.scale_in(
            ids["SCALE"], quantity=Decimal(1), price=Decimal(100 + n % 5), commission=Decimal("0.1")
        ),
        "update stop + metadata (one unit)": lambda uow, n: uow.positions.update(
            ids["UPDATE"], stop_loss_price=Decimal(90 + n % 5), metadata={"tick": 1}
        ),
        "trail_stop tick, unmoved (one unit)": lambda uow, n: uow.positions.trail_stop(
            ids["TRAIL"], price=Decimal(99), distance=Decimal(5)
        ),
    }


def _ours(db: Database, body: Callable[[Any, int], object]) -> Callable[[], None]:
    def run() -> None:
        for n in range(UNITS):
            with db.unit_of_work(bot_id=BOT) as uow:
                body(uow, n)

    return run


def run_backend(backend: str) -> list[Result]:
    results: list[Result] = []
    with fresh_database(backend, tmpfs=True) as db:
        bodies = _bodies(_setup(db))
        raw: Any = sqlite_connect(db) if backend == "sqlite" else pg_connect(db)
        label = "sqlite3" if backend == "sqlite" else "psycopg2"
        try:
            for name, body in bodies.items():
                replayed = replay.capture(db, body, bot_id=BOT)
                note(name, backend, replayed.capture.summary(backend))
                connection: Any = (
                    replay.sqlite_replay_connection(db, replayed) if backend == "sqlite" else raw
                )
                try:
                    ours, theirs = (
                        seconds / UNITS
                        for seconds in paired_medians(
                            _ours(db, body),
                            replay.unit_runner(connection, backend, replayed, units=UNITS),
                        )
                    )
                finally:
                    if connection is not raw:
                        connection.close()
                results.append(Result(name, backend, ours, theirs, f"{label} replay of its SQL"))
        finally:
            raw.close()
    return results


def main() -> None:
    backends = ["sqlite"]
    if postgres_admin_url() is not None:
        backends.append("postgresql")
    for backend in backends:
        report(run_backend(backend))


if __name__ == "__main__":
    sys.exit(main())
