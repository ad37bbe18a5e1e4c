"""The async unit of work: ``AsyncDatabase`` against the raw async driver, same statements.

One unit of work submits a limit order and records two partial fills (the bot's hot path)
through ``tradestore.aio.AsyncDatabase``. The raw side is asyncpg (aiosqlite on SQLite)
sending exactly the statements tradestore sent, captured once with a
``before_cursor_execute`` listener, with fresh ids on every unit (the generated order id,
the client order id and the fill ids are swapped for new ones), between its own BEGIN and
COMMIT on one connection. So the ratio is what the async API costs on top of the driver:
the pool checkout, the greenlet switches and the sync body's own work. Timed interleaved,
``TRADESTORE_BENCH_SAMPLES`` samples of ``TRADESTORE_BENCH_UNITS`` units a side, medians
per unit; SQLite on tmpfs (/dev/shm).

Run: ``python -m benchmarks async_uow`` (PostgreSQL as for the other benchmarks;
TRADESTORE_BENCH_SKIP_POSTGRES=1 skips it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import event

from benchmarks.harness import Result, fresh_database, note, postgres_admin_url, report
from tradestore.aio import AsyncDatabase
from tradestore.config import sqlite_path

BOT = "bench-bot"
UNITS = int(os.environ.get("TRADESTORE_BENCH_UNITS", "300"))
SAMPLES = int(os.environ.get("TRADESTORE_BENCH_SAMPLES", "7"))
TARGET = 1.3  # issue 12: one async unit of work <= 1.3x raw asyncpg
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
D = Decimal

ORDER = {"ticker": "AAPL", "side": "buy", "order_type": "limit", "quantity": D(10)}
ORDER |= {"limit_price": D(100), "reference_price": D(100)}
Statements = list[tuple[str, tuple[Any, ...]]]


async def unit(adb: AsyncDatabase, n: str) -> list[str]:
    """The unit of work; returns the ids it chose or was given (for the raw side's swap)."""
    async with adb.unit_of_work(bot_id=BOT) as uow:
        order = await uow.orders.submit(client_order_id=f"c-{n}", **ORDER)
        for part, (quantity, price) in enumerate(((D(4), D("99.5")), (D(6), D("99.75")))):
            await uow.orders.record_fill(
                order.order_id, fill_id=f"f-{n}-{part}", quantity=quantity, price=price,
                filled_at=T0,
            )  # fmt: skip
    return [order.order_id, f"c-{n}", f"f-{n}-0", f"f-{n}-1"]


async def capture(adb: AsyncDatabase) -> tuple[Statements, list[str]]:
    seen: Statements = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, tuple(parameters or ())))

    await unit(adb, "before-capture")  # the schema check is the first unit's alone
    engine = adb.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        ids = await unit(adb, "capture")
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return [
        (sql, params)
        for sql, params in seen
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT"))
    ], ids


def fresh(statements: Statements, ids: list[str]) -> Statements:
    """The same statements with every id replaced by a new one."""
    new = {old: f"{old}-{uuid.uuid4().hex[:12]}" for old in ids}
    return [
        (sql, tuple(new.get(p, p) if isinstance(p, str) else p for p in params))
        for sql, params in statements
    ]


async def timed(run: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for _ in range(UNITS):
        await run()
    return (time.perf_counter() - start) / UNITS


async def compare(url: str, backend: str) -> Result:
    async with AsyncDatabase(url) as adb:
        statements, ids = await capture(adb)
        counter = iter(range(10**9))
        raw_unit = await raw_runner(adb, backend, statements, ids)
        ours_samples, raw_samples = [], []
        await timed(lambda: unit(adb, f"warm-{next(counter)}"))
        for sample in range(SAMPLES):
            sides = [("ours", lambda: unit(adb, str(next(counter)))), ("raw", raw_unit)]
            for name, run in sides if sample % 2 == 0 else reversed(sides):
                (ours_samples if name == "ours" else raw_samples).append(await timed(run))
        note(
            "async uow submit + 2 fills",
            backend,
            f"  {backend}: {len(statements)} statements a unit besides BEGIN/COMMIT: "
            + ", ".join(" ".join(sql.split()[:2]) for sql, _ in statements),
        )
        note(
            "async uow submit + 2 fills",
            backend,
            f"  {backend} samples (ms per unit), tradestore: "
            + " ".join(f"{v * 1e3:.2f}" for v in ours_samples)
            + "; raw: "
            + " ".join(f"{v * 1e3:.2f}" for v in raw_samples),
        )
        await raw_unit.close()  # type: ignore[attr-defined]
    raw_label = "raw asyncpg" if backend == "postgresql" else "raw aiosqlite"
    return Result(
        "async uow submit + 2 fills",
        backend,
        statistics.median(ours_samples),
        statistics.median(raw_samples),
        raw_label,
        target=TARGET if backend == "postgresql" else None,
    )


class _RawPostgres:
    def __init__(self, connection: asyncpg.Connection, statements: Statements, ids: list[str]):
        self.connection, self.statements, self.ids = connection, statements, ids

    async def __call__(self) -> None:
        async with self.connection.transaction():
            for sql, params in fresh(self.statements, self.ids):
                await self.connection.fetch(sql, *params)

    async def close(self) -> None:
        await self.connection.close()


class _RawSqlite:
    def __init__(self, connection: aiosqlite.Connection, statements: Statements, ids: list[str]):
        self.connection, self.statements, self.ids = connection, statements, ids

    async def __call__(self) -> None:
        connection = self.connection
        await connection.execute("BEGIN IMMEDIATE")
        for sql, params in fresh(self.statements, self.ids):
            cursor = await connection.execute(sql, params)
            await cursor.fetchall()
            await cursor.close()
        await connection.execute("COMMIT")

    async def close(self) -> None:
        await self.connection.close()


async def raw_runner(
    adb: AsyncDatabase, backend: str, statements: Statements, ids: list[str]
) -> Any:
    url = adb.url
    if backend == "postgresql":
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password,
            database=url.database, server_settings={"timezone": "UTC"},
        )  # fmt: skip
        return _RawPostgres(connection, statements, ids)
    connection = await aiosqlite.connect(str(sqlite_path(url)), isolation_level=None)
    for pragma in ("synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        await connection.execute(f"PRAGMA {pragma}")
    return _RawSqlite(connection, statements, ids)


def main() -> None:
    results = []
    backends = ["sqlite"] + (["postgresql"] if postgres_admin_url() else [])
    for backend in backends:
        with fresh_database(backend, tmpfs=True) as db:
            with db.unit_of_work() as uow:
                uow.bots.register(BOT)
            url = db.url.render_as_string(hide_password=False)
            results.append(asyncio.run(compare(url, backend)))
    report(results)


if __name__ == "__main__":
    main()
