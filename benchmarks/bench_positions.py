"""Positions hot paths: open+close as one unit of work, and mark-to-market of 500 tickers.

Each is timed next to the same work written by hand with the raw driver (sqlite3 / psycopg2)
in the same run, on the same database:

* open+close: one transaction that inserts a position, closes it (computing P&L, commission
  and holding period in Python with Decimal, as tradestore does) and commits. Two raw
  versions: the hand-written one (``sqlite3`` / ``psycopg2``: INSERT; DELETE ... RETURNING;
  INSERT into closed_positions, the plan of today's benchmarks) and "replay": the exact
  statements tradestore sent, captured with a ``before_cursor_execute`` listener and run
  with the same parameters (``benchmarks/replay.py``; the number captured is printed). The
  SQLite file is on tmpfs (/dev/shm), where a COMMIT costs microseconds.
* mark 500: one transaction that marks 500 open positions. Two raw versions: "raw exact"
  does what tradestore does (SELECT, Decimal arithmetic rounded for the backend, one
  set-based UPDATE); "raw SQL math" is the idiomatic hand-written one (one UPDATE per
  ticker with the arithmetic in SQL; executemany on SQLite, execute_values on PostgreSQL),
  which on SQLite computes P&L in binary floating point. Both ratios are printed.

Run: ``python -m benchmarks positions`` (PostgreSQL from TRADESTORE_BENCH_POSTGRES_URL or
TRADESTORE_TEST_POSTGRES_URL, default postgresql+psycopg2://postgres@127.0.0.1:5432/test;
set TRADESTORE_BENCH_SKIP_POSTGRES=1 to skip it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import bindparam, update

from benchmarks import replay
from benchmarks.harness import Result, fresh_database, note, postgres_admin_url, report
from tradestore import Database
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.models import Bot

BOT = "bench"
REPEAT = int(os.environ.get("TRADESTORE_BENCH_REPEAT", "9"))
OPS_PER_SAMPLE = int(os.environ.get("TRADESTORE_BENCH_OPS", "300"))
TICKERS = 500
MARK_ROUNDS = int(os.environ.get("TRADESTORE_BENCH_MARK_ROUNDS", "20"))
TARGET = {"sqlite": 2.0, "postgresql": 1.3}
#: Against the replay of tradestore's own statements (issue 16).
REPLAY_TARGET = {"sqlite": 1.5, "postgresql": 1.3}
#: Against today's hand-written plan: fewer statements should win outright on PostgreSQL.
HAND_TARGET = {"sqlite": 2.0, "postgresql": 1.0}

QTY = Decimal("100")
ENTRY = Decimal("150.25")
EXIT = Decimal("151.75")
FEE = Decimal("1.00")


def _sqlite_text(instant: dt.datetime) -> str:
    """SQLAlchemy's storage format for UTCDateTime on SQLite."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- tradestore ----------------------------------------------------------------------------


def open_close(uow: Any, _n: int = 0) -> None:
    """The unit of work's body: open a position, close it in full."""
    position = uow.positions.open(
        "AAPL",
        side="long",
        quantity=QTY,
        entry_price=ENTRY,
        strategy="bench",
        commission=FEE,
    )
    uow.positions.close(
        position.position_id,
        exit_price=EXIT,
        exit_reason="take_profit",
        commission=FEE,
    )


def ours_open_close(db: Database) -> Callable[[], None]:
    def run() -> None:
        for _ in range(OPS_PER_SAMPLE):
            with db.unit_of_work(bot_id=BOT) as uow:
                open_close(uow)

    return run


def ours_mark(db: Database, prices: list[dict[str, Decimal]]) -> Callable[[], None]:
    def run() -> None:
        for round_prices in prices:
            with db.unit_of_work(bot_id=BOT) as uow:
                uow.positions.mark_to_market(round_prices)

    return run


def ours_floor(db: Database) -> Callable[[], None]:
    """The fixed cost of a writing unit of work: one prebuilt UPDATE, nothing else.

    The value changes every time: SQLite skips the write of a row updated to what it holds.
    """
    bots = Bot.__table__
    stmt = update(bots).where(bots.c.bot_id == BOT).values(notes=bindparam("b_notes"))

    def run() -> None:
        for i in range(OPS_PER_SAMPLE):
            with db.unit_of_work(bot_id=BOT) as uow:
                uow.executor.execute(stmt, {"b_notes": str(i)})

    return run


def ours_empty(db: Database) -> Callable[[], None]:
    """The unit of work alone: begin and commit a writing transaction that does nothing."""

    def run() -> None:
        for _ in range(OPS_PER_SAMPLE):
            with db.unit_of_work(bot_id=BOT):
                pass

    return run


def raw_sqlite_empty(conn: sqlite3.Connection) -> Callable[[], None]:
    def run() -> None:
        for _ in range(OPS_PER_SAMPLE):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")

    return run


def raw_sqlite_floor(conn: sqlite3.Connection) -> Callable[[], None]:
    def run() -> None:
        for i in range(OPS_PER_SAMPLE):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE bots SET notes = ? WHERE bot_id = ?", (str(i), BOT))
            conn.execute("COMMIT")

    return run


def raw_pg_floor(conn: Any) -> Callable[[], None]:
    def run() -> None:
        cur = conn.cursor()
        for i in range(OPS_PER_SAMPLE):
            cur.execute("UPDATE bots SET notes = %s WHERE bot_id = %s", (str(i), BOT))
            conn.commit()

    return run


# --- raw drivers: the close arithmetic, as a careful hand-written bot would do it ---------------


def _close_math(
    entry: Decimal, qty: Decimal, fee_open: Decimal, opened: dt.datetime, dialect: str
) -> tuple[Decimal, float, Decimal, float, dt.datetime]:
    closed = dt.datetime.now(dt.UTC)
    with localcontext(MONEY_CONTEXT):
        commission = fee_open + FEE
        realized = fit((EXIT - entry) * qty - commission, dialect)
        pct = float(realized / (entry * qty) * 100)
    hours = (closed - opened).total_seconds() / 3600
    return realized, pct, commission, hours, closed


SQLITE_INSERT_POSITION = (
    "INSERT INTO positions (position_id, bot_id, ticker, side, quantity, entry_price,"
    " current_price, unrealized_pnl, unrealized_pnl_pct, stop_loss_price, take_profit_price,"
    " max_favorable_excursion, max_adverse_excursion, commission, opened_at, updated_at,"
    " strategy, signal_score, metadata) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
SQLITE_DELETE_RETURNING = (
    "DELETE FROM positions WHERE position_id = ? AND bot_id = ? RETURNING ticker, side,"
    " quantity, entry_price, commission, opened_at, strategy, max_favorable_excursion,"
    " max_adverse_excursion"
)
SQLITE_INSERT_CLOSED = (
    "INSERT INTO closed_positions (position_id, bot_id, ticker, side, quantity, entry_price,"
    " exit_price, current_price, realized_pnl, realized_pnl_pct, opened_at, closed_at,"
    " updated_at, holding_period_hours, exit_reason, commission, max_favorable_excursion,"
    " max_adverse_excursion, strategy) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " RETURNING closed_position_id"
)


def sqlite_connect(db: Database) -> sqlite3.Connection:
    conn = sqlite3.connect(db.url.database or "", isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def raw_sqlite_open_close(conn: sqlite3.Connection) -> Callable[[], None]:
    def run() -> None:
        for _ in range(OPS_PER_SAMPLE):
            conn.execute("BEGIN IMMEDIATE")
            pid = f"pos_{uuid.uuid4().hex}"
            now = dt.datetime.now(dt.UTC)
            stamp = _sqlite_text(now)
            price = float(ENTRY)
            conn.execute(
                SQLITE_INSERT_POSITION,
                (pid, BOT, "AAPL", "long", float(QTY), price, price, 0.0, 0.0, None, None,
                 price, price, float(FEE), stamp, stamp, "bench", None, None),
            )  # fmt: skip
            row = conn.execute(SQLITE_DELETE_RETURNING, (pid, BOT)).fetchone()
            ticker, side, qty, entry, fee, opened, strategy, mfe, mae = row
            entry_d, qty_d = Decimal(repr(entry)), Decimal(repr(qty))
            opened_at = dt.datetime.fromisoformat(opened).replace(tzinfo=dt.UTC)
            realized, pct, commission, hours, closed = _close_math(
                entry_d, qty_d, Decimal(repr(fee)), opened_at, "sqlite"
            )
            closed_text = _sqlite_text(closed)
            conn.execute(
                SQLITE_INSERT_CLOSED,
                (pid, BOT, ticker, side, qty, entry, float(EXIT), float(EXIT), float(realized),
                 pct, opened, closed_text, closed_text, hours, "take_profit", float(commission),
                 max(mfe, float(EXIT)), min(mae, float(EXIT)), strategy),
            ).fetchone()  # fmt: skip
            conn.execute("COMMIT")

    return run


def raw_sqlite_mark_exact(
    conn: sqlite3.Connection, prices: list[dict[str, Decimal]]
) -> Callable[[], None]:
    """tradestore's plan by hand: SELECT, Decimal P&L rounded for SQLite, one executemany."""
    sql = (
        "UPDATE positions SET current_price = ?, unrealized_pnl = ?, unrealized_pnl_pct = ?,"
        " max_favorable_excursion = CASE side WHEN 'long' THEN max(max_favorable_excursion, ?)"
        "   ELSE min(max_favorable_excursion, ?) END,"
        " max_adverse_excursion = CASE side WHEN 'long' THEN min(max_adverse_excursion, ?)"
        "   ELSE max(max_adverse_excursion, ?) END,"
        " updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now') WHERE position_id = ?"
    )

    def run() -> None:
        for round_prices in prices:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(
                "SELECT position_id, ticker, side, quantity, entry_price FROM positions"
                " WHERE bot_id = ? AND ticker IN (SELECT value FROM json_each(?))",
                (BOT, json.dumps(list(round_prices))),
            ).fetchall()
            params = []
            with localcontext(MONEY_CONTEXT):
                for pid, ticker, side, qty, entry in rows:
                    price = round_prices[ticker]
                    entry_d = Decimal(repr(entry))
                    move = price - entry_d if side == "long" else entry_d - price
                    pnl = fit((move * Decimal(repr(qty))), "sqlite")
                    p = float(price)
                    params.append((p, float(pnl), float(move) / entry * 100, p, p, p, p, pid))
            conn.executemany(sql, params)
            conn.execute("COMMIT")

    return run


def raw_sqlite_mark_sql(
    conn: sqlite3.Connection, prices: list[dict[str, Decimal]]
) -> Callable[[], None]:
    sql = (
        "UPDATE positions SET current_price = :p,"
        " unrealized_pnl = CASE side WHEN 'long' THEN (:p - entry_price) * quantity"
        "   ELSE (entry_price - :p) * quantity END,"
        " unrealized_pnl_pct = CASE side WHEN 'long' THEN (:p - entry_price) / entry_price * 100"
        "   ELSE (entry_price - :p) / entry_price * 100 END,"
        " max_favorable_excursion = CASE side WHEN 'long' THEN max(max_favorable_excursion, :p)"
        "   ELSE min(max_favorable_excursion, :p) END,"
        " max_adverse_excursion = CASE side WHEN 'long' THEN min(max_adverse_excursion, :p)"
        "   ELSE max(max_adverse_excursion, :p) END,"
        " updated_at = :t WHERE bot_id = :b AND ticker = :k"
    )

    def run() -> None:
        for round_prices in prices:
            conn.execute("BEGIN IMMEDIATE")
            stamp = _sqlite_text(dt.datetime.now(dt.UTC))
            conn.executemany(
                sql,
                [
                    {"p": float(price), "t": stamp, "b": BOT, "k": ticker}
                    for ticker, price in round_prices.items()
                ],
            )
            conn.execute("COMMIT")

    return run


PG_INSERT_POSITION = SQLITE_INSERT_POSITION.replace("?", "%s")
PG_DELETE_RETURNING = SQLITE_DELETE_RETURNING.replace("?", "%s")
PG_INSERT_CLOSED = SQLITE_INSERT_CLOSED.replace("?", "%s")


def pg_connect(db: Database) -> Any:
    import psycopg2

    url = db.url
    return psycopg2.connect(
        host=url.host, port=url.port or 5432, user=url.username, dbname=url.database,
        password=url.password,
    )  # fmt: skip


def raw_pg_open_close(conn: Any, *, ping: bool = False) -> Callable[[], None]:
    """``ping``: first a ``SELECT 1`` outside the transaction, as the pool's pre-ping sends.

    That variant is the floor for any library that checks a connection before using it: the
    same statements plus one round trip, with no library code at all.
    """

    def run() -> None:
        cur = conn.cursor()
        for _ in range(OPS_PER_SAMPLE):
            if ping:
                conn.autocommit = True
                cur.execute("SELECT 1")
                conn.autocommit = False
            pid = f"pos_{uuid.uuid4().hex}"
            now = dt.datetime.now(dt.UTC)
            cur.execute(
                PG_INSERT_POSITION,
                (pid, BOT, "AAPL", "long", QTY, ENTRY, ENTRY, Decimal(0), 0.0, None, None,
                 ENTRY, ENTRY, FEE, now, now, "bench", None, None),
            )  # fmt: skip
            cur.execute(PG_DELETE_RETURNING, (pid, BOT))
            ticker, side, qty, entry, fee, opened, strategy, mfe, mae = cur.fetchone()
            realized, pct, commission, hours, closed = _close_math(
                entry, qty, fee, opened, "postgresql"
            )
            cur.execute(
                PG_INSERT_CLOSED,
                (pid, BOT, ticker, side, qty, entry, EXIT, EXIT, realized, pct, opened, closed,
                 closed, hours, "take_profit", commission, max(mfe, EXIT), min(mae, EXIT),
                 strategy),
            )  # fmt: skip
            cur.fetchone()
            conn.commit()

    return run


def raw_pg_mark_exact(conn: Any, prices: list[dict[str, Decimal]]) -> Callable[[], None]:
    """tradestore's plan by hand: SELECT ... FOR UPDATE, Decimal P&L, UPDATE ... FROM unnest."""
    sql = (
        "UPDATE positions AS p SET current_price = m.price, unrealized_pnl = m.pnl,"
        " unrealized_pnl_pct = m.pct,"
        " max_favorable_excursion = CASE p.side WHEN 'long'"
        "   THEN greatest(p.max_favorable_excursion, m.price)"
        "   ELSE least(p.max_favorable_excursion, m.price) END,"
        " max_adverse_excursion = CASE p.side WHEN 'long'"
        "   THEN least(p.max_adverse_excursion, m.price)"
        "   ELSE greatest(p.max_adverse_excursion, m.price) END,"
        " updated_at = %s"
        " FROM unnest(%s::varchar[], %s::numeric[], %s::numeric[], %s::float8[])"
        " AS m(position_id, price, pnl, pct) WHERE p.position_id = m.position_id"
    )

    def run() -> None:
        cur = conn.cursor()
        for round_prices in prices:
            cur.execute(
                "SELECT position_id, ticker, side, quantity, entry_price FROM positions"
                " WHERE bot_id = %s AND ticker = ANY(%s) FOR UPDATE",
                (BOT, list(round_prices)),
            )
            ids, new_prices, pnls, pcts = [], [], [], []
            with localcontext(MONEY_CONTEXT):
                for pid, ticker, side, qty, entry in cur.fetchall():
                    price = round_prices[ticker]
                    move = price - entry if side == "long" else entry - price
                    ids.append(pid)
                    new_prices.append(price)
                    pnls.append(fit(move * qty, "postgresql"))
                    pcts.append(float(move) / float(entry) * 100)
            cur.execute(sql, (dt.datetime.now(dt.UTC), ids, new_prices, pnls, pcts))
            conn.commit()

    return run


def raw_pg_mark_sql(conn: Any, prices: list[dict[str, Decimal]]) -> Callable[[], None]:
    from psycopg2.extras import execute_values

    sql = (
        "UPDATE positions AS p SET current_price = v.price,"
        " unrealized_pnl = CASE p.side WHEN 'long' THEN (v.price - p.entry_price) * p.quantity"
        "   ELSE (p.entry_price - v.price) * p.quantity END,"
        " unrealized_pnl_pct = (CASE p.side WHEN 'long' THEN (v.price - p.entry_price)"
        "   ELSE (p.entry_price - v.price) END / p.entry_price * 100)::float8,"
        " max_favorable_excursion = CASE p.side WHEN 'long'"
        "   THEN greatest(p.max_favorable_excursion, v.price)"
        "   ELSE least(p.max_favorable_excursion, v.price) END,"
        " max_adverse_excursion = CASE p.side WHEN 'long'"
        "   THEN least(p.max_adverse_excursion, v.price)"
        "   ELSE greatest(p.max_adverse_excursion, v.price) END,"
        " updated_at = now()"
        " FROM (VALUES %s) AS v(ticker, price)"
        " WHERE p.bot_id = 'bench' AND p.ticker = v.ticker"
    )

    def run() -> None:
        cur = conn.cursor()
        for round_prices in prices:
            execute_values(
                cur, sql, list(round_prices.items()), template="(%s, %s::numeric)", page_size=1000
            )
            conn.commit()

    return run


# --- setup and driver ------------------------------------------------------------------------


def paired_medians(*fns: Callable[[], None], repeat: int = REPEAT) -> list[float]:
    """Median seconds of each function, timed in alternation (ours, raw, ours, raw, ...).

    Alternating keeps a burst of load on a shared machine from landing on one side only,
    which is what a ratio needs; one untimed warm-up run each first.
    """
    for fn in fns:
        fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[index].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def _setup(db: Database) -> list[dict[str, Decimal]]:
    with db.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=Decimal("1000000"))
    with db.unit_of_work(bot_id=BOT) as uow:
        for i in range(TICKERS):
            uow.positions.open(
                f"T{i:04d}",
                side="long" if i % 2 else "short",
                quantity=Decimal(10 + i),
                entry_price=Decimal("100") + Decimal(i) / 100,
            )
    return [
        {f"T{i:04d}": Decimal("100") + Decimal((i * 7 + r * 13) % 400 - 200) / 100
         for i in range(TICKERS)}
        for r in range(MARK_ROUNDS)
    ]  # fmt: skip


def run_backend(backend: str) -> list[Result]:
    results: list[Result] = []
    with fresh_database(backend, tmpfs=True) as db:
        prices = _setup(db)
        raw: Any = sqlite_connect(db) if backend == "sqlite" else pg_connect(db)
        replayed = replay.capture(db, open_close, bot_id=BOT)
        note("open+close (one unit of work)", backend, replayed.capture.summary(backend))
        replay_conn: Any = (
            replay.sqlite_replay_connection(db, replayed) if backend == "sqlite" else raw
        )
        raw_replay = replay.unit_runner(replay_conn, backend, replayed, units=OPS_PER_SAMPLE)
        try:
            if backend == "sqlite":
                raw_floor = raw_sqlite_floor(raw)
                raw_oc, raw_exact, raw_sql = (
                    raw_sqlite_open_close(raw),
                    raw_sqlite_mark_exact(raw, prices),
                    raw_sqlite_mark_sql(raw, prices),
                )
                raw_label = "sqlite3"
            else:
                raw_floor = raw_pg_floor(raw)
                raw_oc, raw_exact, raw_sql = (
                    raw_pg_open_close(raw),
                    raw_pg_mark_exact(raw, prices),
                    raw_pg_mark_sql(raw, prices),
                )
                raw_label = "psycopg2"
            ours_fl, raw_fl = (
                seconds / OPS_PER_SAMPLE for seconds in paired_medians(ours_floor(db), raw_floor)
            )
            empty: tuple[float, float] | None = None
            if backend == "sqlite":
                # On PostgreSQL an empty transaction sends nothing (psycopg2 begins lazily).
                a, b = paired_medians(ours_empty(db), raw_sqlite_empty(raw))
                empty = (a / OPS_PER_SAMPLE, b / OPS_PER_SAMPLE)
            pinged: float | None = None
            if backend == "sqlite":
                ours_oc, raw_oc_s, replay_s = (
                    seconds / OPS_PER_SAMPLE
                    for seconds in paired_medians(ours_open_close(db), raw_oc, raw_replay)
                )
            else:
                ours_oc, raw_oc_s, replay_s, pinged = (
                    seconds / OPS_PER_SAMPLE
                    for seconds in paired_medians(
                        ours_open_close(db), raw_oc, raw_replay, raw_pg_open_close(raw, ping=True)
                    )
                )
            no_ping: tuple[float, float] | None = None
            if backend == "postgresql":
                # Diagnostic, not a configuration tradestore offers: the same unit of work
                # without the pool's pre-ping (one SELECT 1 round trip per checkout).
                pool: Any = db.engine.pool
                pool._pre_ping = False
                try:
                    a, b = paired_medians(ours_open_close(db), raw_oc)
                    no_ping = (a / OPS_PER_SAMPLE, b / OPS_PER_SAMPLE)
                finally:
                    pool._pre_ping = True
            ours_mk, raw_exact_s, raw_sql_s = (
                seconds / MARK_ROUNDS
                for seconds in paired_medians(ours_mark(db, prices), raw_exact, raw_sql)
            )
        finally:
            if replay_conn is not raw:
                replay_conn.close()
            raw.close()
    target = TARGET[backend]
    if empty is not None:
        results.append(Result("empty unit of work", backend, *empty, raw_label))
    results.append(Result("floor: unit of work, one UPDATE", backend, ours_fl, raw_fl, raw_label))
    results.append(
        Result(
            "open+close (one unit of work)", backend, ours_oc, raw_oc_s, raw_label,
            HAND_TARGET[backend],
        )
    )  # fmt: skip
    results.append(
        Result(
            "open+close (one unit of work)", backend, ours_oc, replay_s,
            f"{raw_label} replay of its SQL", REPLAY_TARGET[backend],
        )
    )  # fmt: skip
    if pinged is not None:
        # The floor with pre-ping on: what is left is tradestore's own cost.
        results.append(
            Result(
                "open+close vs raw + ping (diag.)", backend, ours_oc, pinged, "psycopg2 + SELECT 1"
            )
        )
    if no_ping is not None:
        results.append(
            Result("open+close, pool pre-ping off (diag.)", backend, *no_ping, raw_label, target)
        )
    results.append(
        Result("mark 500 tickers", backend, ours_mk, raw_exact_s, f"{raw_label} exact", target)
    )
    results.append(
        Result("mark 500 tickers", backend, ours_mk, raw_sql_s, f"{raw_label} SQL math", target)
    )
    return results


def main() -> None:
    backends = ["sqlite"]
    if postgres_admin_url() is not None:
        backends.append("postgresql")
    for backend in backends:
        report(run_backend(backend))


if __name__ == "__main__":
    sys.exit(main())
