"""Orders and fills: tradestore against the same work hand-written with sqlite3 / psycopg2.

Three benchmarks, each timed in the same run on the same database:

* ``submit + 2 fills``: one unit of work that submits a limit order and records two partial
  fills (the bot's hot path), SQLite on tmpfs (/dev/shm). Two raw sides: the hand-written
  one runs the statements a careful author would need for the same guarantees (an
  idempotent ``INSERT ... ON CONFLICT DO NOTHING`` of the order; per fill, a locking read of
  the order and its fills, ``FOR NO KEY UPDATE OF`` on PostgreSQL, an idempotent fill insert,
  and an order update computed with Decimal arithmetic that returns the order; then
  COMMIT); "replay" runs the exact statements tradestore sent, with the same parameters
  (``benchmarks/replay.py``; how many were captured is printed).
* ``fill in a batch``: ``TRADESTORE_BENCH_BATCH`` (200) pending orders, then one unit of work
  that, per order, does what a bot does on a fill report: ``orders.get(client_order_id=...)``
  and ``record_fill``. Reported per fill, against the same by hand and the replay; on
  PostgreSQL also against the absolute target (0.5 ms).
* ``ingest 100k fills``: 50,000 accepted orders receive two fills each in one call, SQLite in
  TMPDIR. The headline compares it with the same work by hand, every order's totals exact:
  the fill insert (``executemany`` / ``execute_values``), each order's totals read, summed
  with Decimal and written back (``raw_ingest_sqlite_exact``, ``raw_ingest_postgresql_exact``).
  Also printed: the insert plus one set-based ``UPDATE ... FROM (SELECT ... GROUP BY)``
  (float arithmetic on SQLite, so not the same work there; exact numeric on PostgreSQL), and,
  as a diagnostic without target, the bare insert, which does less work.

Run: ``python -m benchmarks orders`` (PostgreSQL from TRADESTORE_BENCH_POSTGRES_URL or
TRADESTORE_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test; set
TRADESTORE_BENCH_SKIP_POSTGRES=1 to skip it). Sizes: ``TRADESTORE_BENCH_UNITS``, ``_SAMPLES``,
``_BATCH``, ``_INGEST_ORDERS``, ``_INGEST_REPEAT``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import text

from benchmarks import replay
from benchmarks.harness import Result, fresh_database, note, postgres_admin_url, report
from tradestore import Database
from tradestore.domain.money import MONEY_CONTEXT, fit

BOT = "bench-bot"
UNITS_PER_SAMPLE = int(os.environ.get("TRADESTORE_BENCH_UNITS", "300"))
SAMPLES = int(os.environ.get("TRADESTORE_BENCH_SAMPLES", "7"))
INGEST_ORDERS = int(os.environ.get("TRADESTORE_BENCH_INGEST_ORDERS", "50000"))
FILLS_PER_ORDER = 2
INGEST_REPEAT = int(os.environ.get("TRADESTORE_BENCH_INGEST_REPEAT", "5"))
BATCH = int(os.environ.get("TRADESTORE_BENCH_BATCH", "200"))
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)

_counter = itertools.count()


def _sqlite_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# --- the hot path -------------------------------------------------------------------------


def submit(uow: Any, client_order_id: str) -> Any:
    return uow.orders.submit(
        client_order_id=client_order_id,
        ticker="TSLA",
        side="buy",
        order_type="limit",
        quantity=Decimal("50"),
        limit_price=Decimal("250.00"),
        strategy="ppo_agent",
    )


def submit_two_fills(uow: Any, n: int) -> None:
    """The unit of work's body: submit a limit order, record two partial fills."""
    order = submit(uow, f"c-{n}")
    uow.orders.record_fill(
        order.order_id,
        fill_id=f"f-{n}-1",
        quantity=Decimal("20"),
        price=Decimal("249.90"),
        filled_at=T0,
        commission=Decimal("0.10"),
    )
    uow.orders.record_fill(
        order.order_id,
        fill_id=f"f-{n}-2",
        quantity=Decimal("30"),
        price=Decimal("249.95"),
        filled_at=T0,
        commission=Decimal("0.15"),
    )


def tradestore_unit(db: Database) -> None:
    n = next(_counter)
    with db.unit_of_work(bot_id=BOT) as uow:
        submit_two_fills(uow, n)


def get_and_fill(uow: Any, client_order_id: str) -> None:
    """What a bot does when a fill report arrives: find the order, record the fill."""
    order = uow.orders.get(client_order_id=client_order_id)
    uow.orders.record_fill(
        order.order_id,
        fill_id=f"b{order.order_id}",
        quantity=Decimal("50"),
        price=Decimal("249.90"),
        filled_at=T0,
        commission=Decimal("0.25"),
    )


def submit_batch(db: Database, prefix: str, count: int) -> dict[str, str]:
    """``count`` pending orders (setup, not timed): client order id -> order id."""
    with db.unit_of_work(bot_id=BOT) as uow:
        return {f"{prefix}-{i}": submit(uow, f"{prefix}-{i}").order_id for i in range(count)}


_ORDER_COLUMNS = (
    "order_id, bot_id, client_order_id, broker_order_id, ticker, side, order_type, quantity, "
    "limit_price, stop_price, reference_price, time_in_force, status, submitted_at, "
    "accepted_at, filled_at, cancelled_at, rejected_at, expired_at, updated_at, "
    "filled_quantity, filled_avg_price, commission, slippage, position_id, strategy, "
    "reject_reason, metadata"
)
_FILL_COLUMNS = (
    "bot_id, fill_id, order_id, ticker, side, quantity, price, filled_at, liquidity, "
    "commission, position_id"
)
_LOCK_SQL = (
    "SELECT o.status, o.quantity, o.filled_quantity, o.side, o.ticker, o.position_id, "
    "o.limit_price, o.stop_price, o.reference_price, f.fill_id, f.quantity, f.price, "
    "f.commission, f.filled_at, f.liquidity FROM orders o LEFT OUTER JOIN fills f "
    "ON f.bot_id = o.bot_id AND f.order_id = o.order_id "
    "WHERE o.bot_id = {p} AND o.order_id = {p}"
)
_UPDATE_SQL = (
    "UPDATE orders SET filled_quantity = {p}, filled_avg_price = {p}, commission = {p}, "
    "slippage = {p}, status = {p}, filled_at = {p}, updated_at = {p} "
    "WHERE bot_id = {p} AND order_id = {p} AND filled_quantity = {p} AND status = {p} "
    f"RETURNING {_ORDER_COLUMNS}"
)


class RawUnit:
    """The hot path by hand: same statements, Decimal accounting, driver values by hand."""

    def __init__(self, connection: Any, backend: str) -> None:
        self.connection = connection
        self.backend = backend
        p = "?" if backend == "sqlite" else "%s"
        self.insert_order = (
            f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES ({', '.join([p] * 28)}) "
            "ON CONFLICT DO NOTHING"
        )
        self.insert_fill = (
            f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES ({', '.join([p] * 11)}) "
            "ON CONFLICT DO NOTHING"
        )
        lock_clause = "" if backend == "sqlite" else " FOR NO KEY UPDATE OF o"
        self.lock = _LOCK_SQL.format(p=p) + lock_clause
        self.update = _UPDATE_SQL.format(p=p)
        self.get = (
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE bot_id = {p} AND client_order_id = {p}"
        )

    def money(self, value: Decimal | None) -> Any:
        if value is None:
            return None
        return float(value) if self.backend == "sqlite" else value

    def time(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        return _sqlite_time(value) if self.backend == "sqlite" else value

    def decimal(self, value: Any) -> Decimal:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

    def __call__(self) -> None:
        n = next(_counter)
        cursor = self.connection.cursor()
        if self.backend == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        now = dt.datetime.now(dt.UTC)
        order_id = f"raw-{n}"
        cursor.execute(
            self.insert_order,
            (
                order_id, BOT, f"rc-{n}", None, "TSLA", "buy", "limit",
                self.money(Decimal("50")), self.money(Decimal("250.00")), None, None, "day",
                "pending", self.time(now), None, None, None, None, None, self.time(now),
                self.money(Decimal(0)), None, self.money(Decimal(0)), None, None,
                "ppo_agent", None, None,
            ),
        )  # fmt: skip
        assert cursor.rowcount == 1
        for k, (quantity, price, commission) in enumerate(
            ((Decimal("20"), Decimal("249.90"), Decimal("0.10")),
             (Decimal("30"), Decimal("249.95"), Decimal("0.15"))),
            start=1,
        ):  # fmt: skip
            self.fill(cursor, order_id, f"rf-{n}-{k}", quantity, price, commission, now)
        self.connection.commit()
        cursor.close()

    def fill(
        self,
        cursor: Any,
        order_id: str,
        fill_id: str,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        now: dt.datetime,
    ) -> None:
        """One fill of a limit order at 250.00: locking read, idempotent insert, update."""
        cursor.execute(self.lock, (BOT, order_id))
        rows = cursor.fetchall()
        status, order_quantity, filled = rows[0][0], self.decimal(rows[0][1]), rows[0][2]
        with localcontext(MONEY_CONTEXT):
            total_q, notional, total_c = quantity, quantity * price, commission
            for row in rows:
                if row[9] is not None:
                    q = self.decimal(row[10])
                    total_q += q
                    notional += q * self.decimal(row[11])
                    total_c += self.decimal(row[12])
            assert total_q <= order_quantity
            vwap = fit(notional / total_q, self.backend)
            slip = fit(vwap - Decimal("250.00"), self.backend)
        new_status = "filled" if total_q == order_quantity else "partially_filled"
        cursor.execute(
            self.insert_fill,
            (BOT, fill_id, order_id, "TSLA", "buy", self.money(quantity), self.money(price),
             self.time(T0), "unknown", self.money(commission), None),
        )  # fmt: skip
        assert cursor.rowcount == 1
        cursor.execute(
            self.update,
            (self.money(total_q), self.money(vwap), self.money(total_c), self.money(slip),
             new_status, self.time(T0) if new_status == "filled" else None,
             self.time(now), BOT, order_id, filled, status),
        )  # fmt: skip
        assert cursor.fetchall()

    def batch(self, client_order_ids: list[str]) -> None:
        """One transaction: per order, the read a bot does (by client order id), one fill."""
        cursor = self.connection.cursor()
        if self.backend == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        now = dt.datetime.now(dt.UTC)
        for client_order_id in client_order_ids:
            cursor.execute(self.get, (BOT, client_order_id))
            order_id = cursor.fetchone()[0]
            self.fill(cursor, order_id, f"b{order_id}", Decimal("50"), Decimal("249.90"),
                      Decimal("0.25"), now)  # fmt: skip
        self.connection.commit()
        cursor.close()


# --- bulk ingest ----------------------------------------------------------------------------


def ingest_rows(order_ids: list[str], run: int) -> list[dict[str, Any]]:
    rows = []
    for i, order_id in enumerate(order_ids):
        for k in range(FILLS_PER_ORDER):
            rows.append(
                {
                    "fill_id": f"x{run}-{i}-{k}",
                    "order_id": order_id,
                    "quantity": Decimal("50"),
                    "price": Decimal("149.95") + Decimal(k) / 100,
                    "filled_at": T0 + dt.timedelta(seconds=i, milliseconds=k),
                    "liquidity": "maker",
                    "commission": Decimal("0.35"),
                }
            )
    return rows


def create_orders(db: Database, run: int) -> list[str]:
    """INGEST_ORDERS accepted orders of 100 shares, written directly (setup, not timed)."""
    ids = [f"o{run}-{i}" for i in range(INGEST_ORDERS)]
    with db.unit_of_work(bot_id=BOT) as uow:
        connection = uow.session.connection()
        connection.execute(
            text(
                "INSERT INTO orders (order_id, bot_id, client_order_id, ticker, order_type, "
                "side, quantity, limit_price, time_in_force, status, submitted_at, updated_at, "
                "filled_quantity, commission) VALUES (:id, :bot, :id, 'AAPL', 'limit', 'buy', "
                "100, 150, 'day', 'accepted', :at, :at, 0, 0)"
            ),
            [{"id": oid, "bot": BOT, "at": _sqlite_time(T0)} for oid in ids],
        )
    return ids


_RAW_UPDATE = (
    "UPDATE orders SET filled_quantity = a.q, filled_avg_price = a.n / a.q, commission = a.c, "
    "status = CASE WHEN a.q >= orders.quantity THEN 'filled' ELSE 'partially_filled' END, "
    "filled_at = CASE WHEN a.q >= orders.quantity THEN a.last END, updated_at = {p} "
    "FROM (SELECT order_id, SUM(quantity) AS q, SUM(quantity * price) AS n, "
    "SUM(commission) AS c, MAX(filled_at) AS last FROM fills "
    "WHERE bot_id = {p} AND order_id {ids} GROUP BY order_id) AS a "
    "WHERE orders.bot_id = {p} AND orders.order_id = a.order_id"
)


def _raw_insert_fills_sqlite(connection: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    """The bare insert every SQLite baseline starts with: one ``executemany``."""
    tuples = [
        (BOT, r["fill_id"], r["order_id"], "AAPL", "buy", float(r["quantity"]),
         float(r["price"]), _sqlite_time(r["filled_at"]), r["liquidity"],
         float(r["commission"]), None)
        for r in rows
    ]  # fmt: skip
    connection.executemany(
        f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT DO NOTHING",
        tuples,
    )


def raw_ingest_sqlite(
    connection: sqlite3.Connection, rows: list[dict[str, Any]], *, update: bool
) -> None:
    connection.execute("BEGIN IMMEDIATE")
    _raw_insert_fills_sqlite(connection, rows)
    if update:
        ids = json.dumps(sorted({r["order_id"] for r in rows}))
        connection.execute(
            _RAW_UPDATE.format(p="?", ids="IN (SELECT value FROM json_each(?))"),
            (_sqlite_time(dt.datetime.now(dt.UTC)), BOT, ids, BOT),
        )
    connection.execute("COMMIT")


def raw_ingest_sqlite_exact(connection: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    """The insert, then the orders updated with exact Decimal sums, as tradestore keeps them.

    SQL's float SUM (``raw_ingest_sqlite``) can leave 0.1 + 0.2 short of an order of 0.3,
    which is why tradestore sums in Python. This is that work by hand: read each order's
    totals, add its new fills in Decimal, write the order back with one ``executemany``.
    No validation, no idempotency check of replays: only the arithmetic and the I/O.
    """
    connection.execute("BEGIN IMMEDIATE")
    _raw_insert_fills_sqlite(connection, rows)
    ids = sorted({r["order_id"] for r in rows})
    totals: dict[str, list[Any]] = {}
    for order_id, quantity, filled, average, commission in connection.execute(
        "SELECT order_id, quantity, filled_quantity, filled_avg_price, commission FROM orders "
        "WHERE bot_id = ? AND order_id IN (SELECT value FROM json_each(?))",
        (BOT, json.dumps(ids)),
    ):
        filled_d = Decimal(repr(filled))
        notional = filled_d * Decimal(repr(average)) if average is not None else Decimal(0)
        totals[order_id] = [Decimal(repr(quantity)), filled_d, notional,
                            Decimal(repr(commission)), None]  # fmt: skip
    with localcontext(MONEY_CONTEXT):
        for r in rows:
            t = totals[r["order_id"]]
            t[1] += r["quantity"]
            t[2] += r["quantity"] * r["price"]
            t[3] += r["commission"]
            t[4] = r["filled_at"] if t[4] is None or r["filled_at"] > t[4] else t[4]
        now = _sqlite_time(dt.datetime.now(dt.UTC))
        updates = []
        for order_id, (quantity, filled, notional, commission, last) in totals.items():
            assert filled <= quantity
            done = filled == quantity
            updates.append(
                (float(filled), float(fit(notional / filled, "sqlite")), float(commission),
                 "filled" if done else "partially_filled",
                 _sqlite_time(last) if done else None, now, BOT, order_id)
            )  # fmt: skip
    connection.executemany(
        "UPDATE orders SET filled_quantity = ?, filled_avg_price = ?, commission = ?, "
        "status = ?, filled_at = ?, updated_at = ? WHERE bot_id = ? AND order_id = ?",
        updates,
    )
    connection.execute("COMMIT")


def _insert_fills_postgresql(cursor: Any, rows: list[dict[str, Any]]) -> None:
    from psycopg2.extras import execute_values

    tuples = [
        (BOT, r["fill_id"], r["order_id"], "AAPL", "buy", r["quantity"], r["price"],
         r["filled_at"], r["liquidity"], r["commission"], None)
        for r in rows
    ]  # fmt: skip
    execute_values(
        cursor,
        f"INSERT INTO fills ({_FILL_COLUMNS}) VALUES %s ON CONFLICT DO NOTHING",
        tuples,
        page_size=1000,
    )


def raw_ingest_postgresql_exact(connection: Any, rows: list[dict[str, Any]]) -> None:
    """``raw_ingest_sqlite_exact`` on PostgreSQL: the insert, then Decimal totals written back.

    The orders are read with ``FOR UPDATE`` (the lost-update guarantee tradestore gives) and
    updated by ``execute_values`` of ``UPDATE ... FROM (VALUES ...)``, the idiomatic psycopg2
    bulk update. No validation, no replay check: only the arithmetic and the I/O.
    """
    from psycopg2.extras import execute_values

    with connection.cursor() as cursor:
        _insert_fills_postgresql(cursor, rows)
        ids = sorted({r["order_id"] for r in rows})
        cursor.execute(
            "SELECT order_id, quantity, filled_quantity, filled_avg_price, commission "
            "FROM orders WHERE bot_id = %s AND order_id = ANY(%s) FOR UPDATE",
            (BOT, ids),
        )
        totals: dict[str, list[Any]] = {}
        for order_id, quantity, filled, average, commission in cursor.fetchall():
            notional = filled * average if average is not None else Decimal(0)
            totals[order_id] = [quantity, filled, notional, commission, None]
        with localcontext(MONEY_CONTEXT):
            for r in rows:
                t = totals[r["order_id"]]
                t[1] += r["quantity"]
                t[2] += r["quantity"] * r["price"]
                t[3] += r["commission"]
                t[4] = r["filled_at"] if t[4] is None or r["filled_at"] > t[4] else t[4]
            now = dt.datetime.now(dt.UTC)
            updates = []
            for order_id, (quantity, filled, notional, commission, last) in totals.items():
                assert filled <= quantity
                done = filled == quantity
                updates.append(
                    (BOT, order_id, filled, fit(notional / filled, "postgresql"), commission,
                     "filled" if done else "partially_filled", last if done else None, now)
                )  # fmt: skip
        execute_values(
            cursor,
            "UPDATE orders SET filled_quantity = u.q, filled_avg_price = u.p, commission = u.c, "
            "status = u.s, filled_at = u.f, updated_at = u.t FROM (VALUES %s) AS "
            "u(b, id, q, p, c, s, f, t) WHERE orders.bot_id = u.b AND orders.order_id = u.id",
            updates,
            template="(%s, %s, %s::numeric, %s::numeric, %s::numeric, %s, %s::timestamptz, "
            "%s::timestamptz)",
            page_size=1000,
        )
    connection.commit()


def raw_ingest_postgresql(connection: Any, rows: list[dict[str, Any]], *, update: bool) -> None:
    with connection.cursor() as cursor:
        _insert_fills_postgresql(cursor, rows)
        if update:
            ids = sorted({r["order_id"] for r in rows})
            cursor.execute(
                _RAW_UPDATE.format(p="%s", ids="= ANY(%s)"),
                (dt.datetime.now(dt.UTC), BOT, ids, BOT),
            )
    connection.commit()


# --- plumbing ---------------------------------------------------------------------------------


@contextmanager
def raw_connection(db: Database) -> Iterator[Any]:
    if db.dialect_name == "sqlite":
        path = db.url.database
        assert path
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA cache_size=-40000")
        connection.execute("PRAGMA temp_store=MEMORY")
        connection.execute("PRAGMA mmap_size=30000000000")
        try:
            yield connection
        finally:
            connection.close()
        return
    import psycopg2

    connection = psycopg2.connect(db.url.set(drivername="postgresql").render_as_string(False))
    try:
        yield connection
    finally:
        connection.close()


def interleaved_medians(*sides: Callable[[], object], units: int, samples: int) -> list[float]:
    """Per-unit medians, alternating the sides so drift hits them all equally."""
    for _ in range(units // 5 + 1):
        for fn in sides:
            fn()
    out: list[list[float]] = [[] for _ in sides]
    for _ in range(samples):
        for fn, times in zip(sides, out, strict=True):
            start = time.perf_counter()
            for _ in range(units):
                fn()
            times.append((time.perf_counter() - start) / units)
    return [statistics.median(times) for times in out]


def setup_bot(db: Database) -> None:
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
                "VALUES (:bot, 'paper', 'running', 0, 0)"
            ),
            {"bot": BOT},
        )


HOT_TARGET = {"sqlite": 2.0, "postgresql": 1.0}  # vs the hand-written unit
REPLAY_TARGET = {"sqlite": 1.5, "postgresql": 1.3}  # vs the replay of its own statements
INGEST_TARGET = {"sqlite": 1.2, "postgresql": 1.0}  # vs the same exact work by hand
BATCH_FILL_TARGET_S = 0.5e-3  # per fill, one batched transaction, loopback PostgreSQL


def bench_hot_path(backend: str) -> list[Result]:
    """submit + 2 fills, and fills in one batched transaction; SQLite on tmpfs."""
    results = []
    raw_label = "sqlite3" if backend == "sqlite" else "psycopg2"
    with fresh_database(backend, tmpfs=True) as db, raw_connection(db) as raw:
        setup_bot(db)
        unit = "submit + 2 fills (one unit)"
        replayed = replay.capture(db, submit_two_fills, bot_id=BOT)
        note(unit, backend, replayed.capture.summary(backend))
        replay_conn = replay.sqlite_replay_connection(db, replayed) if backend == "sqlite" else raw
        try:
            ours_s, raw_s, replay_s = interleaved_medians(
                lambda: tradestore_unit(db),
                RawUnit(raw, backend),
                replay.unit_runner(replay_conn, backend, replayed, units=1),
                units=UNITS_PER_SAMPLE,
                samples=SAMPLES,
            )
            results.append(Result(unit, backend, ours_s, raw_s, raw_label, HOT_TARGET[backend]))
            results.append(
                Result(unit, backend, ours_s, replay_s, f"{raw_label} replay of its SQL",
                       REPLAY_TARGET[backend])
            )  # fmt: skip
            report(results[-2:])
            results.extend(bench_batched_fills(db, raw, replay_conn, backend, raw_label))
        finally:
            if replay_conn is not raw:
                replay_conn.close()
    return results


def bench_batched_fills(
    db: Database, raw: Any, replay_conn: Any, backend: str, raw_label: str
) -> list[Result]:
    """BATCH orders, each ``get`` + ``record_fill`` in one unit of work: the cost per fill."""
    name = f"fill in a batch of {BATCH} (get+record_fill)"
    pending = list(submit_batch(db, "capture", 3).items())
    used: list[tuple[str, str]] = []

    def body(uow: Any, _n: int) -> None:
        used.append(pending.pop(0))
        get_and_fill(uow, used[-1][0])

    replayed = replay.capture(db, body, bot_id=BOT)
    note(name, backend, replayed.capture.summary(backend))
    captured_client, captured_order = used[-1]
    hand = RawUnit(raw, backend)

    def ours(orders: dict[str, str]) -> None:
        with db.unit_of_work(bot_id=BOT) as uow:
            for client_order_id in orders:
                get_and_fill(uow, client_order_id)

    def replay_batch(orders: dict[str, str]) -> None:
        cursor = replay_conn.cursor()
        if backend == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        for client_order_id, order_id in orders.items():
            statements = replayed.bound({captured_client: client_order_id,
                                         captured_order: order_id})  # fmt: skip
            replay.Replay.run(cursor, statements)
        replay_conn.commit()
        cursor.close()

    sides: list[tuple[str, Callable[[dict[str, str]], None]]] = [
        ("ours", ours),
        ("hand", lambda orders: hand.batch(list(orders))),
        ("replay", replay_batch),
    ]
    samples: dict[str, list[float]] = {side: [] for side, _ in sides}
    for sample in range(SAMPLES + 1):  # the first round warms up
        turn = sample % len(sides)
        for side, fn in sides[turn:] + sides[:turn]:
            orders = submit_batch(db, f"batch{sample}{side}", BATCH)
            start = time.perf_counter()
            fn(orders)
            if sample:
                samples[side].append((time.perf_counter() - start) / BATCH)
    ours_s = statistics.median(samples["ours"])
    results = [
        Result(name, backend, ours_s, statistics.median(samples["hand"]), raw_label),
        Result(name, backend, ours_s, statistics.median(samples["replay"]),
               f"{raw_label} replay of its SQL"),
    ]  # fmt: skip
    report(results)
    if backend == "postgresql":
        verdict = "met" if ours_s <= BATCH_FILL_TARGET_S else "MISSED"
        target_ms = BATCH_FILL_TARGET_S * 1e3
        note(
            name,
            backend,
            f"  per fill {ours_s * 1e3:.3f} ms in one transaction (target <= {target_ms:.1f} ms)"
            f": {verdict}",
        )
    return results


def bench_ingest(backend: str) -> list[Result]:
    """ingest_fills of 100k fills against the same exact work by hand; SQLite in TMPDIR."""
    results = []
    raw_label = "sqlite3" if backend == "sqlite" else "psycopg2"
    with fresh_database(backend) as db, raw_connection(db) as raw:
        setup_bot(db)
        ingest = raw_ingest_sqlite if backend == "sqlite" else raw_ingest_postgresql
        exact = raw_ingest_sqlite_exact if backend == "sqlite" else raw_ingest_postgresql_exact
        ours_t: list[float] = []
        exact_t: list[float] = []
        full_t: list[float] = []
        insert_t: list[float] = []
        sides = [("ours", ours_t), ("exact", exact_t), ("full", full_t), ("insert", insert_t)]
        for repeat in range(INGEST_REPEAT):
            # Rotate who goes first: the database grows with every run and load drifts.
            turn = repeat % len(sides)
            for side, out in sides[turn:] + sides[:turn]:
                batch = next(_counter)
                rows = ingest_rows(create_orders(db, batch), batch)
                start = time.perf_counter()
                if side == "ours":
                    with db.unit_of_work(bot_id=BOT) as uow:
                        report_ = uow.orders.ingest_fills(rows)
                    assert report_.inserted == len(rows), report_
                elif side == "exact":
                    exact(raw, rows)
                else:
                    ingest(raw, rows, update=side == "full")
                out.append(time.perf_counter() - start)
        n = INGEST_ORDERS * FILLS_PER_ORDER
        label = f"ingest_fills {n // 1000}k"
        ours = statistics.median(ours_t)
        insert_label = "sqlite3.executemany" if backend == "sqlite" else "execute_values"
        results = [
            # The headline: the same work, every order's totals exact.
            Result(label, backend, ours, statistics.median(exact_t),
                   f"{raw_label} + exact update", INGEST_TARGET[backend]),
            # SQL arithmetic: float on SQLite (not exact), numeric on PostgreSQL (exact).
            Result(label, backend, ours, statistics.median(full_t), f"{raw_label} insert+update",
                   INGEST_TARGET[backend] if backend == "postgresql" else None),
            # Diagnostic only: the bare insert does less work (no order totals at all).
            Result(label, backend, ours, statistics.median(insert_t), insert_label),
        ]  # fmt: skip
        report(results)
    return results


def bench_backend(backend: str) -> list[Result]:
    return bench_hot_path(backend) + bench_ingest(backend)


def main() -> None:
    backends = ["sqlite"]
    if postgres_admin_url() is not None:
        backends.append("postgresql")
    for backend in backends:
        bench_backend(backend)


if __name__ == "__main__":
    main()
