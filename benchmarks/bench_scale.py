"""tradestore at scale: partitioned and unpartitioned PostgreSQL side by side in one run.

``python -m benchmarks scale [--small | --fraction F] [--repeat N] [--seconds S]
[--skip-retention] [--no-bouncer-plain]``

The benchmark starts its own PostgreSQL cluster (initdb under a temporary directory, a port
of 55300-55349, bulk-load settings, fsync on: ``benchmarks/scale_servers.py``) and a PgBouncer
in front of it, and removes both at the end (also on Ctrl-C). In that cluster two databases
are migrated by tradestore itself: ``plain`` with ``upgrade(partitioning="none")`` and
``partitioned`` with ``upgrade()`` (fills by ``filled_at`` and portfolio snapshots by
``snapshot_date``, monthly). Before that keyword existed both arms ran ``upgrade()``; the
header says which schema each arm really has. Each gets the same data set
(``benchmarks/scale_data.py``: full size 200 bots, 1M orders, 10M fills, 10M episodes over
three years; ``--small`` 1/100, ``--fraction`` any), then, every measurement interleaved
between the arms (the order alternating per repetition), medians of ``--repeat``:

1. ingest: ``uow.orders.ingest_fills`` of 10,000 new fills (100 fresh open orders of
   ``bot-000`` per repetition, so every call does the same work) vs the same rows sent with
   psycopg2 ``COPY fills FROM STDIN`` (the buffer built from the rows inside the timing),
   rows/s and the ratio;
2. ``uow.bots.recover`` of one bot (its unit of work rolled back: every repetition restarts
   from the same state), and one bot's hot path alone: a unit of work submitting an order
   and recording its three fills (committed), EXPLAINed like the reads;
3. the reads a user makes, in read-only units of work: fill rate per day (90 days of one
   bot), equity curve of one bot over a year, reward curve of one run, the agent
   leaderboard; each against the raw driver replaying the exact statements tradestore sent
   (captured with a ``before_cursor_execute`` listener), and each statement EXPLAINed
   (``ANALYZE, BUFFERS``): the scans, the relations and partitions it touched, the
   partitions pruned at plan or run time;
4. 200 bots writing at once through PgBouncer (transaction pooling, 20 server connections):
   4 processes x 50 threads, each thread a bot running units of work (an order and its
   three fills) for ``--seconds``: units/s, fills/s, p50/p99 latency, errors, retries;
5. retention of the oldest year (destructive, so last): ``tradestore.ops.prune`` with the
   cut-off one year after the first day, first the trading history (orders with their
   fills, portfolio snapshots), then the rest; wall time and ``pg_total_relation_size`` of
   fills (all partitions, and the ``fill_ids`` guard table where there is one) and
   portfolio_snapshots before, after, and after a plain VACUUM.

The figures are printed as a Markdown table at the end (docs/performance.md, "At scale").
Not part of ``python -m benchmarks`` without a name: it is run by naming it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import io
import itertools
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks import scale_data, scale_servers, scale_writers
from benchmarks.harness import Result, note, report
from tradestore import Database, ops

#: Not run by a bare ``python -m benchmarks``: it starts servers and loads millions of rows.
EXPLICIT_ONLY = True
INGEST_ROWS = 10_000
RECOVER_BOT = "bot-007"
READ_BOT = "bot-042"
HOT_BOT = "bot-001"
PROCESSES = 4
THREADS = 50
ARMS = ("plain", "partitioned")
#: The calls of step 2 that write (no read-only replay for them).
WRITES = ("recover (1 bot)", "order + 3 fills (1 unit of work)")


def options(argv: list[str]) -> argparse.Namespace:
    """The benchmark's own flags, read from the command line (``python -m benchmarks scale
    --small``: the runner leaves them in sys.argv)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks scale",
        description="The scale benchmark: a throwaway PostgreSQL cluster and PgBouncer, "
        "partitioned and unpartitioned arms side by side (docs/performance.md, At scale).",
    )
    parser.add_argument("--small", action="store_true", help="1/100 of the full size")
    parser.add_argument("--fraction", type=float, default=None, help="any size (1.0: full)")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions per measurement")
    parser.add_argument(
        "--seconds", type=float, default=None, help="length of the PgBouncer phase (10 / 30)"
    )
    parser.add_argument(
        "--ingest-rows", type=int, default=INGEST_ROWS, help="fills per ingest_fills call"
    )
    parser.add_argument(
        "--no-bouncer-plain", action="store_true", help="the PgBouncer phase on one arm only"
    )
    parser.add_argument("--skip-retention", action="store_true", help="no prune phase")
    known, _ = parser.parse_known_args(argv)
    if known.fraction is None:
        known.fraction = 0.01 if known.small else 1.0
    if known.seconds is None:
        known.seconds = 10.0 if known.fraction < 0.1 else 30.0
    return known


def has_partitioning_keyword() -> bool:
    return "partitioning" in inspect.signature(Database.upgrade).parameters


# --- the arms ------------------------------------------------------------------------------


@dataclass
class Arm:
    name: str
    url: str
    db: Database
    server: scale_servers.Cluster
    partitioned: bool = False
    #: (statement, parameters) the engine's cursor saw while ``capturing``.
    captured: list[tuple[str, Any]] = field(default_factory=list)
    capturing: bool = False
    connections: dict[str, Any] = field(default_factory=dict)
    #: While not None: statement kind -> [count, seconds] (``statement_kind``).
    timing: dict[str, list[Any]] | None = None

    def listen(self) -> None:
        def record(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
        ) -> None:
            if self.capturing:
                self.captured.append((statement, parameters))

        def started(
            _conn: Any, _cursor: Any, _statement: str, _parameters: Any, ctx: Any, _many: bool
        ) -> None:
            if self.timing is not None and ctx is not None:
                ctx._scale_started = time.perf_counter()

        def ended(
            _conn: Any, _cursor: Any, statement: str, _parameters: Any, ctx: Any, _many: bool
        ) -> None:
            began = getattr(ctx, "_scale_started", None)
            if self.timing is not None and began is not None:
                kind = statement_kind(statement)
                spent = self.timing.setdefault(kind, [0, 0.0])
                spent[0] += 1
                spent[1] += time.perf_counter() - began

        event.listen(self.db.engine, "before_cursor_execute", record)
        event.listen(self.db.engine, "before_cursor_execute", started)
        event.listen(self.db.engine, "after_cursor_execute", ended)

    @contextmanager
    def capture(self) -> Iterator[list[tuple[str, Any]]]:
        self.captured = []
        self.capturing = True
        try:
            yield self.captured
        finally:
            self.capturing = False

    def raw(self) -> Any:
        return self.server.connect(self.name)

    def kept(self, kind: str) -> Any:
        """A raw connection kept for the whole run (the raw sides' "pool"): ``reader`` in
        read-only REPEATABLE READ transactions as tradestore's read-only units of work,
        ``writer`` for COPY."""
        connection = self.connections.get(kind)
        if connection is None:
            connection = self.connections[kind] = self.raw()
            if kind == "reader":
                connection.set_session(readonly=True, isolation_level="REPEATABLE READ")
        return connection

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()
        self.db.dispose()

    def scalar(self, sql: str) -> Any:
        connection = self.raw()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                row = cursor.fetchone()
                return None if row is None else row[0]
        finally:
            connection.close()


def statement_kind(statement: str) -> str:
    """``DELETE FROM fills``, ``SELECT ... FROM orders``: what a statement does, to what."""
    words = statement.split()
    head = " ".join(words[:3]).upper()
    if head.startswith(("DELETE FROM", "INSERT INTO")):
        return " ".join(words[:3])
    if words[:1] and words[0].upper() in ("SELECT", "WITH"):
        upper = [w.upper() for w in words]
        table = words[upper.index("FROM") + 1] if "FROM" in upper else "?"
        locking = " FOR UPDATE" if "FOR" in upper[-6:] else ""
        return f"SELECT ... FROM {table}{locking}"
    return " ".join(words[:2])


def make_arm(server: scale_servers.Cluster, name: str, start: dt.datetime) -> Arm:
    server.execute(f'CREATE DATABASE "{name}"')
    url = server.url(name)
    migrating = Database(url, check_schema=False)
    try:
        if has_partitioning_keyword():
            upgrade: Any = migrating.upgrade
            if name == "plain":
                upgrade(partitioning="none")
            else:
                upgrade()
        else:
            migrating.upgrade()
    finally:
        migrating.dispose()
    arm = Arm(name, url, Database(url), server)
    arm.partitioned = bool(
        arm.scalar(
            "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = 'fills'"
        )
    )
    if arm.partitioned:
        created = ensure_history_partitions(arm, start)
        print(f"  [{name}] ops.ensure_partitions created {created} partitions", flush=True)
    arm.listen()
    return arm


def ensure_history_partitions(arm: Arm, start: dt.datetime) -> int:
    """Partitions for three years of history before loading it, so that no row lands in the
    DEFAULT partition: ``ops.ensure_partitions(db, today=...)`` for every month since
    ``start`` (each call creates that month's partition and the policy's ``premake`` after
    it; the library has no "since" argument). Returns how many it created."""
    ensure = getattr(ops, "ensure_partitions", None)
    if ensure is None:
        return 0
    created = 0
    day = start.date().replace(day=1)
    while day <= dt.date.today():
        created += len(ensure(arm.db, today=day).created)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return created


def partition_count(arm: Arm, table: str) -> int:
    return int(arm.scalar(f"SELECT count(*) FROM pg_partition_tree('{table}') WHERE isleaf") or 0)


def leaf_names(arm: Arm) -> dict[str, str]:
    """Every partition of fills and portfolio_snapshots -> its parent."""
    connection = arm.raw()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relid::regclass::text, t FROM unnest(ARRAY['fills', "
                "'portfolio_snapshots']) AS t, pg_partition_tree(t::regclass) "
                "WHERE isleaf AND level > 0"
            )
            return {row[0]: row[1] for row in cursor.fetchall()}
    finally:
        connection.close()


# --- timing --------------------------------------------------------------------------------


def interleaved(
    work: dict[str, dict[str, Callable[[int], object]]], repeat: int, warmup: int = 1
) -> dict[str, dict[str, float]]:
    """{measurement: {arm/side: median seconds}}: each repetition runs every callable once,
    the arms' order alternating between repetitions. Callables get the repetition number
    (warm-ups get 0..warmup-1, timed ones warmup..)."""
    samples: dict[str, dict[str, list[float]]] = {
        m: {k: [] for k in sides} for m, sides in work.items()
    }
    for rep in range(warmup + repeat):
        for measurement, sides in work.items():
            keys = list(sides)
            if rep % 2:
                keys.reverse()
            for key in keys:
                began = time.perf_counter()
                sides[key](rep)
                took = time.perf_counter() - began
                if rep >= warmup:
                    samples[measurement][key].append(took)
    return {m: {k: statistics.median(v) for k, v in sides.items()} for m, sides in samples.items()}


# --- 1. ingest -----------------------------------------------------------------------------

_COPY = (
    "COPY fills (bot_id, fill_id, order_id, ticker, side, quantity, price, filled_at, "
    "liquidity, commission) FROM STDIN"
)


def ingest_rows(prefix: str, rep: int, count: int, at: dt.datetime) -> list[dict[str, Any]]:
    base = rep * scale_data.INGEST_ORDERS
    return [
        {
            "fill_id": f"{prefix}{rep}-{i}",
            "order_id": f"{prefix}{base + i % scale_data.INGEST_ORDERS}",
            "quantity": Decimal(1),
            "price": Decimal("100.25"),
            "filled_at": at + dt.timedelta(microseconds=i),
            "liquidity": "taker",
            "commission": Decimal("0.01"),
        }
        for i in range(count)
    ]


def ingest_work(arm: Arm, count: int) -> dict[str, Callable[[int], object]]:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ours_rows = {}
    raw_rows = {}

    def prepare(rep: int) -> None:
        if rep not in ours_rows:
            ours_rows[rep] = ingest_rows("ingest-", rep, count, at)
            raw_rows[rep] = ingest_rows("raw-", rep, count, at)

    def ours(rep: int) -> object:
        prepare(rep)
        with arm.db.unit_of_work(bot_id=scale_data.INGEST_BOT) as uow:
            return uow.orders.ingest_fills(ours_rows[rep])

    def raw(rep: int) -> object:
        prepare(rep)
        connection = arm.kept("writer")
        try:
            buffer = io.StringIO()
            for row in raw_rows[rep]:
                buffer.write(
                    f"{scale_data.INGEST_BOT}\t{row['fill_id']}\t{row['order_id']}\tT00\tbuy\t"
                    f"{row['quantity']}\t{row['price']}\t{row['filled_at'].isoformat()}\t"
                    f"{row['liquidity']}\t{row['commission']}\n"
                )
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.copy_expert(_COPY, buffer)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        return None

    # Rows are built outside the timing for both sides: prepare every repetition now.
    return {"tradestore": ours, "raw COPY": raw, "_prepare": prepare}


# --- 2./3. recover and the reads -----------------------------------------------------------


class _RolledBack(Exception):
    """Ends recover's unit of work without COMMIT: the next repetition starts alike."""


def recover(arm: Arm) -> object:
    state: object = None
    try:
        with arm.db.unit_of_work() as uow:
            state = uow.bots.recover(RECOVER_BOT)
            raise _RolledBack
    except _RolledBack:
        return state


_UNITS = itertools.count()


def hot_unit(arm: Arm) -> object:
    """One bot's hot path alone: a unit of work submitting an order and recording its three
    fills (what each of the 200 bots does below), committed."""
    with arm.db.unit_of_work(bot_id=HOT_BOT) as uow:
        scale_writers._trade(uow, f"hot-{arm.name}", next(_UNITS))
    return None


def reads(arm: Arm, run_id: str, today: dt.date) -> dict[str, Callable[[], object]]:
    def in_bot(call: Callable[[Any], object], bot: str | None = READ_BOT) -> Callable[[], object]:
        def run() -> object:
            with arm.db.unit_of_work(bot_id=bot, readonly=True) as uow:
                return call(uow)

        return run

    return {
        "fill rate per day (90 days)": in_bot(lambda uow: uow.analytics.daily_fill_rate(days=90)),
        "equity curve (1 year)": in_bot(
            lambda uow: uow.analytics.equity_curve(start=today - dt.timedelta(days=365), end=today)
        ),
        "reward curve (1 run)": in_bot(lambda uow: uow.training.reward_curve(run_id), None),
        "leaderboard (top 10)": in_bot(lambda uow: uow.analytics.agent_leaderboard(limit=10), None),
    }


def replayer(arm: Arm, statements: list[tuple[str, Any]]) -> Callable[[], object]:
    """The raw driver sending the captured statements in one read-only transaction."""
    queries = [(s, p) for s, p in statements if not _is_control(s)]

    def run() -> object:
        connection = arm.kept("reader")
        rows: list[Any] = []
        try:
            with connection.cursor() as cursor:
                for statement, parameters in queries:
                    cursor.execute(statement, parameters)
                    if cursor.description is not None:
                        rows.extend(cursor.fetchall())
        finally:
            connection.rollback()
        return rows

    return run


def _is_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET ", "SHOW "))


# --- EXPLAIN -------------------------------------------------------------------------------


@dataclass
class PlanSummary:
    #: Scan node type -> count (partitions' scans counted one each).
    scans: dict[str, int]
    #: Relations scanned, partitions named by their parent, with (in the plan, executed).
    relations: dict[str, list[int]]
    #: Partitioned table -> its number of partitions, for the tables the plan touched.
    leaves_of: dict[str, int]
    subplans_removed: int
    #: Partitioned table -> the partitions of it the plan scans.
    partitions: dict[str, set[str]]
    planning_ms: float
    execution_ms: float
    hit: int
    read: int

    def line(self) -> str:
        scans = ", ".join(f"{kind} x{n}" for kind, n in sorted(self.scans.items())) or "no scan"
        parts = []
        for relation, (planned, executed) in self.relations.items():
            if relation in self.leaves_of:
                distinct = len(self.partitions.get(relation, set()))
                parts.append(
                    f"{relation}: {distinct} of {self.leaves_of[relation]} partitions in the "
                    f"plan ({planned} partition scans, {executed} executed)"
                )
            else:
                parts.append(relation)
        removed = f", subplans removed {self.subplans_removed}" if self.subplans_removed else ""
        return (
            f"{scans} on {'; '.join(parts)}{removed}; planning {self.planning_ms:.2f} ms, "
            f"execution {self.execution_ms:.2f} ms; buffers hit {self.hit} read {self.read}"
        )


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def summarize(top: dict[str, Any], leaves: dict[str, str]) -> PlanSummary:
    scans: dict[str, int] = {}
    relations: dict[str, list[int]] = {}
    partitions: dict[str, set[str]] = {}
    removed = 0
    for node in _nodes(top["Plan"]):
        removed += int(node.get("Subplans Removed", 0))
        relation = node.get("Relation Name")
        if relation is None:
            continue
        kind = node["Node Type"]
        scans[kind] = scans.get(kind, 0) + 1
        index = node.get("Index Name")
        name = leaves.get(relation, relation)
        if name == relation and index:
            name = f"{relation} ({index})"
        if relation in leaves:
            partitions.setdefault(name, set()).add(relation)
        counts = relations.setdefault(name, [0, 0])
        counts[0] += 1
        counts[1] += 1 if node.get("Actual Loops", 1) else 0
    total = {parent: sum(1 for p in leaves.values() if p == parent) for parent in relations}
    root = top["Plan"]
    return PlanSummary(
        scans,
        relations,
        {parent: n for parent, n in total.items() if n},
        removed,
        partitions,
        float(top.get("Planning Time", 0.0)),
        float(top.get("Execution Time", 0.0)),
        int(root.get("Shared Hit Blocks", 0)),
        int(root.get("Shared Read Blocks", 0)),
    )


def explain(
    arm: Arm,
    statements: list[tuple[str, Any]],
    leaves: dict[str, str],
    kinds: tuple[str, ...] = ("SELECT", "WITH"),
) -> list[PlanSummary]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT captured, in a transaction rolled back;
    each twice, the second reported (the first pays the new connection's catalog caches)."""
    summaries = []
    connection = arm.raw()
    try:
        with connection.cursor() as cursor:
            for statement, parameters in statements:
                if not statement.lstrip().upper().startswith(kinds):
                    continue
                for _ in range(2):
                    cursor.execute(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
                    )
                    document = cursor.fetchone()[0]
                top = (json.loads(document) if isinstance(document, str) else document)[0]
                summaries.append(summarize(top, leaves))
        connection.rollback()
    finally:
        connection.close()
    return summaries


# --- 4. 200 bots through PgBouncer ---------------------------------------------------------


def _ready(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        return ""
    return process.stdout.readline().strip()


def concurrent_bots(
    bouncer: scale_servers.Bouncer, arm: Arm, seconds: float, tag: str
) -> dict[str, Any]:
    url = bouncer.url(arm.name)
    with tempfile.TemporaryDirectory(prefix="tradestore-scale-go-") as tmp:
        go = Path(tmp) / "go"
        command = [sys.executable, "-m", "benchmarks.scale_writers", url]
        processes = [
            subprocess.Popen(
                [*command, str(p), str(THREADS), str(seconds), str(go), f"{tag}{p}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=os.environ.copy(),
            )
            for p in range(PROCESSES)
        ]
        try:
            for process in processes:
                line = _ready(process, 180)
                if line != "ready":
                    _, err = process.communicate(timeout=30)
                    raise RuntimeError(f"writer process did not start: {line} {err[-2000:]}")
            clients = sum(1 for row in bouncer.show("CLIENTS") if arm.name in row)
            go.touch()
            most_servers = 0
            while any(process.poll() is None for process in processes):
                servers = sum(1 for row in bouncer.show("SERVERS") if arm.name in row)
                most_servers = max(most_servers, servers)
                time.sleep(0.25)
            outcomes = []
            for process in processes:
                out, err = process.communicate(timeout=60)
                if process.returncode != 0:
                    raise RuntimeError(f"writer process failed: {err[-2000:]}")
                outcomes.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    latencies = sorted(x for outcome in outcomes for x in outcome["latencies"])
    units = sum(outcome["units"] for outcome in outcomes)
    elapsed = max(outcome["elapsed"] for outcome in outcomes)

    def pct(q: float) -> float:
        if not latencies:
            return float("nan")
        return float(latencies[min(len(latencies) - 1, int(len(latencies) * q))]) * 1000

    return {
        "clients": clients,
        "servers": most_servers,
        "units": units,
        "units_s": units / elapsed,
        "fills_s": units * 3 / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": sum(outcome["errors"] for outcome in outcomes),
        "first_errors": [e for outcome in outcomes for e in outcome["first_errors"]][:3],
        "retries": sum(outcome["retries"] for outcome in outcomes),
    }


# --- 5. retention --------------------------------------------------------------------------


def sizes(arm: Arm) -> dict[str, int]:
    sql = (  # a partitioned table's own size is 0: the sum over its partitions
        "SELECT CASE WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(relid)) "
        "FROM pg_partition_tree(c.oid)) ELSE pg_total_relation_size(c.oid) END "
        "FROM pg_class c WHERE c.oid = to_regclass('{t}')"
    )
    found = {
        table: int(arm.scalar(sql.format(t=table)) or 0)
        for table in ("fills", "portfolio_snapshots", "orders", "training_episodes")
    }
    if arm.scalar("SELECT to_regclass('fill_ids') IS NOT NULL"):
        found["fill_ids"] = int(arm.scalar("SELECT pg_total_relation_size('fill_ids')") or 0)
    return found


def vacuum(arm: Arm) -> float:
    connection = arm.raw()
    try:
        connection.autocommit = True
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
        return time.perf_counter() - began
    finally:
        connection.close()


def retention(arm: Arm, cutoff: dt.datetime, say: Callable[[str], None]) -> dict[str, Any]:
    before = sizes(arm)
    arm.timing = {}
    with arm.capture() as statements:
        history = ops.prune(arm.db, cutoff=cutoff, tables=["orders", "portfolio_snapshots"])
    spent, arm.timing = arm.timing, None
    after = sizes(arm)
    for kind, (count, seconds) in sorted(spent.items(), key=lambda item: -item[1][1])[:6]:
        say(f"  [{arm.name}]   prune statements {kind}: {count} in {seconds:.1f} s")
    deletes = [(sql, p) for sql, p in statements if sql.startswith("DELETE FROM fills")]
    if deletes:
        # The first batch's DELETE of fills again (its rows are gone; the plan and its
        # planning time are what each batch paid), in a transaction rolled back.
        plan = explain(arm, deletes[:1], leaf_names(arm), kinds=("DELETE",))
        say(f"  [{arm.name}]   EXPLAIN of prune's DELETE FROM fills: {plan[0].line()}")
    rest = ops.prune(arm.db, cutoff=cutoff)
    vacuum_s = vacuum(arm)
    vacuumed = sizes(arm)
    dropped = tuple(getattr(history, "partitions", ()))
    say(
        f"  [{arm.name}] prune orders+fills+snapshots before {cutoff:%Y-%m-%d}: "
        f"{history.seconds:.1f} s, {history.counts}, {len(dropped)} partitions dropped "
        f"{list(dropped)}; the rest: {rest.seconds:.1f} s, {rest.counts}; "
        f"VACUUM {vacuum_s:.1f} s"
    )
    return {
        "history_s": history.seconds,
        "history_counts": history.counts,
        "dropped": len(dropped),
        "rest_s": rest.seconds,
        "rest_counts": rest.counts,
        "before": before,
        "after": after,
        "vacuumed": vacuumed,
    }


# --- the run -------------------------------------------------------------------------------


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size / 1024:,.0f} kB"


def tagged(arm: str, text: str) -> None:
    print(f"  [{arm}]{text}", flush=True)


def _ignore_rep(call: Callable[[], object], _rep: int) -> object:
    return call()


def main() -> None:
    args = options(sys.argv[1:])
    sizes_ = scale_data.Sizes.of(args.fraction)
    end = dt.datetime.now(dt.UTC)
    start, _ = scale_data.window(end)
    say = print
    ingest_orders = scale_data.INGEST_ORDERS * (args.repeat + 1)
    say(f"  size: fraction {args.fraction:g}: {sizes_.describe()}")
    say(f"  partitioning keyword in Database.upgrade: {has_partitioning_keyword()}")
    table: dict[str, dict[str, str]] = {}

    def row(label: str, arm: str, value: str) -> None:
        table.setdefault(label, {})[arm] = value

    with scale_servers.cluster() as server, scale_servers.bouncer(server) as bouncer:
        say(f"  PostgreSQL cluster on port {server.port}, PgBouncer on {bouncer.port}")
        arms = {name: make_arm(server, name, start) for name in ARMS}
        for arm in arms.values():
            say(
                f"  [{arm.name}] fills partitioned: {arm.partitioned} "
                f"({partition_count(arm, 'fills')} leaf tables), portfolio_snapshots: "
                f"{partition_count(arm, 'portfolio_snapshots')} leaf tables"
            )
        # -- load
        for arm in arms.values():
            began = time.perf_counter()
            timings = scale_data.generate(
                arm.db, sizes_, end, say=partial(tagged, arm.name), ingest_orders=ingest_orders
            )
            analyze_s = scale_data.analyze(arm.db)
            total = time.perf_counter() - began
            say(f"  [{arm.name}] VACUUM ANALYZE {analyze_s:.1f} s; generation took {total:.1f} s")
            fills_rate = sizes_.fills / timings["fills"]
            row("generate: fills INSERT ... SELECT", arm.name, f"{fills_rate:,.0f} rows/s")
            row("generate: whole data set", arm.name, f"{total:,.0f} s")
            leaves = partition_count(arm, "fills")
            row("fills / snapshot leaf tables", arm.name,
                f"{leaves} / {partition_count(arm, 'portfolio_snapshots')}")  # fmt: skip
        run_id = arms["plain"].scalar(
            "SELECT run_id FROM training_runs WHERE status = 'completed' ORDER BY run_id "
            f"OFFSET {sizes_.runs // 2} LIMIT 1"
        ) or arms["plain"].scalar("SELECT min(run_id) FROM training_runs")

        # -- 1. ingest
        work: dict[str, dict[str, Callable[[int], object]]] = {"ingest": {}}
        for arm in arms.values():
            sides = ingest_work(arm, args.ingest_rows)
            for rep in range(args.repeat + 1):
                sides["_prepare"](rep)
            work["ingest"][f"{arm.name}/tradestore"] = sides["tradestore"]
            work["ingest"][f"{arm.name}/raw"] = sides["raw COPY"]
        ingest = interleaved(work, args.repeat)["ingest"]
        results = []
        for name in ARMS:
            ours, raw = ingest[f"{name}/tradestore"], ingest[f"{name}/raw"]
            results.append(
                Result(f"ingest_fills {args.ingest_rows} rows", f"pg-{name}", ours, raw,
                       "psycopg2 COPY")
            )  # fmt: skip
            row("ingest_fills (10k fills): rows/s", name, f"{args.ingest_rows / ours:,.0f}")
            row("raw COPY of the same rows: rows/s", name, f"{args.ingest_rows / raw:,.0f}")
            row("ingest ratio to raw COPY", name, f"{ours / raw:.2f}x")
        report(results)

        # -- 2./3. recover and reads: capture, EXPLAIN, then time against the replay
        today = end.date()
        measurements: dict[str, dict[str, Callable[[int], object]]] = {}
        plans: dict[str, dict[str, list[PlanSummary]]] = {}
        for arm in arms.values():
            leaves_of_arm = leaf_names(arm)
            calls: dict[str, Callable[[], object]] = {
                "recover (1 bot)": partial(recover, arm),
                "order + 3 fills (1 unit of work)": partial(hot_unit, arm),
            }
            calls.update(reads(arm, str(run_id), today))
            for label, call in calls.items():
                call()  # warm: the schema check, compiled statements
                with arm.capture() as statements:
                    call()
                captured = list(statements)
                plans.setdefault(label, {})[arm.name] = explain(arm, captured, leaves_of_arm)

                def timed_call(_rep: int, c: Callable[[], object] = call) -> object:
                    return c()

                measurements.setdefault(label, {})[f"{arm.name}/tradestore"] = timed_call
                if label in WRITES:
                    continue  # it writes: no read-only replay
                replay = replayer(arm, captured)
                measurements[label][f"{arm.name}/raw"] = partial(_ignore_rep, replay)
        timed = interleaved(measurements, args.repeat)
        results = []
        for label, medians in timed.items():
            for name in ARMS:
                ours = medians[f"{name}/tradestore"]
                replayed = medians.get(f"{name}/raw")
                row(f"{label}: ms", name, f"{ours * 1000:.2f}")
                if replayed is not None:
                    results.append(Result(label, f"pg-{name}", ours, replayed, "psycopg2 replay"))
                    row(f"{label}: ratio to replay", name, f"{ours / replayed:.2f}x")
                else:
                    note("scale", f"pg-{name}", f"{label:<38} pg-{name:<7} tradestore "
                         f"{ours * 1000:10.3f} ms")  # fmt: skip
        report(results)
        say("  EXPLAIN (ANALYZE, BUFFERS) of each SELECT the call sent:")
        for label, by_arm in plans.items():
            for name, summaries in by_arm.items():
                for i, summary in enumerate(summaries, 1):
                    note("scale", f"pg-{name}", f"    {label} [{name}] #{i}: {summary.line()}")

        # -- 4. 200 bots through PgBouncer
        bouncer_arms = ["partitioned"] if args.no_bouncer_plain else ["partitioned", "plain"]
        for name in bouncer_arms:
            figures = concurrent_bots(bouncer, arms[name], args.seconds, f"w-{name}-")
            say(f"  [{name}] 200 bots through PgBouncer for {args.seconds:g} s: {figures}")
            row("200 bots via PgBouncer: units/s (order + 3 fills)", name,
                f"{figures['units_s']:,.0f}")  # fmt: skip
            row("200 bots via PgBouncer: fills/s", name, f"{figures['fills_s']:,.0f}")
            row("200 bots via PgBouncer: p50 / p99 ms", name,
                f"{figures['p50_ms']:.0f} / {figures['p99_ms']:.0f}")  # fmt: skip
            row("200 bots via PgBouncer: errors (retries)", name,
                f"{figures['errors']} ({figures['retries']})")  # fmt: skip
            row("200 bots via PgBouncer: clients / most server conns", name,
                f"{figures['clients']} / {figures['servers']}")  # fmt: skip

        # -- 5. retention of the oldest year
        cutoff = start + dt.timedelta(days=365)
        for name in () if args.skip_retention else ARMS:
            kept = retention(arms[name], cutoff, say)
            counts = kept["history_counts"]
            row("prune 1 year: orders+fills+snapshots, s", name, f"{kept['history_s']:.1f}")
            row("  rows deleted (orders / fills / snapshots)", name,
                f"{counts.get('orders', 0):,} / {counts.get('fills', 0):,} / "
                f"{counts.get('portfolio_snapshots', 0):,}")  # fmt: skip
            row("  partitions dropped whole", name, str(kept["dropped"]))
            row("prune 1 year: the rest (episodes ...), s", name, f"{kept['rest_s']:.1f}")
            for table_name in ("fills", "portfolio_snapshots"):
                b, a, v = (kept[k].get(table_name, 0) for k in ("before", "after", "vacuumed"))
                row(f"{table_name} size: before / after / after VACUUM", name,
                    f"{mb(b)} / {mb(a)} / {mb(v)}")  # fmt: skip
            if "fill_ids" in kept["before"]:
                b, a, v = (kept[k]["fill_ids"] for k in ("before", "after", "vacuumed"))
                row("fill_ids size: before / after / after VACUUM", name,
                    f"{mb(b)} / {mb(a)} / {mb(v)}")  # fmt: skip
        for arm in arms.values():
            arm.close()

    say(f"\n  At scale ({sizes_.describe()}; median of {args.repeat}):\n")
    say(f"| measurement | {' | '.join(ARMS)} |")
    say(f"|---|{'---|' * len(ARMS)}")
    for label, values in table.items():
        say(f"| {label} | {' | '.join(values.get(name, '-') for name in ARMS)} |")


if __name__ == "__main__":
    main()
