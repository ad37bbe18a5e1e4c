"""Routine maintenance a production desk runs while its bots keep writing.

PostgreSQL, per table: ``VACUUM (ANALYZE)`` (or ``ANALYZE`` alone with ``analyze_only``), then
``REINDEX INDEX CONCURRENTLY`` for the table's indexes that look bloated (or every index, or
none). SQLite: ``PRAGMA optimize``, ``PRAGMA incremental_vacuum`` when the file was created with
``auto_vacuum=INCREMENTAL``, ``ANALYZE`` per table, then ``PRAGMA wal_checkpoint(TRUNCATE)``.

None of it takes a lock that stops a bot for long (the locks are documented per step in
:data:`LOCKS` and in docs/operations.md, Maintenance):

* PostgreSQL: ``VACUUM`` (never ``VACUUM FULL``), ``ANALYZE`` and ``REINDEX ... CONCURRENTLY``
  (never plain ``REINDEX``) take SHARE UPDATE EXCLUSIVE, which conflicts with DDL and other
  vacuums of the same table, never with SELECT, INSERT, UPDATE or DELETE. Each runs on an
  autocommit connection: neither VACUUM nor a concurrent REINDEX can run in a transaction block.
* SQLite has one writer at a time: ``ANALYZE`` of a table and ``incremental_vacuum`` hold the
  write lock while they run (a bot's write waits, up to its busy timeout, for one table's scan);
  the TRUNCATE checkpoint waits for the current writer, then blocks writers while it copies the
  WAL into the file and truncates it. Readers are never blocked (WAL). Every statement commits
  on its own, so the lock is never held from one step to the next.

Which indexes are "bloated": a B-tree whose size is more than ``bloat_ratio`` times the size its
entry count and column widths call for (``pg_class.reltuples`` and ``pg_stats.avg_width``,
fresh after the table's own ``VACUUM (ANALYZE)``; leaf pages 90 % full, as a fresh build leaves
them) and at least ``min_index_bytes``. It is an estimate, deliberately coarse: a rebuild of a
healthy index costs I/O but harms nothing, and pgstattuple is not installed everywhere.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy import Connection, inspect, text

from tradestore.database import Database
from tradestore.db import partitioning
from tradestore.db.engine import SQLITE_BEGIN
from tradestore.errors import ValidationError
from tradestore.ops._common import Progress, no_progress
from tradestore.ops.partitions import ensure_partitions

Reindex = Literal["none", "bloated", "all"]
REINDEX_CHOICES: tuple[Reindex, ...] = ("none", "bloated", "all")
DEFAULT_BLOAT_RATIO = 2.0
DEFAULT_MIN_INDEX_BYTES = 1 << 20

#: What each kind of step locks, and so what it can make a bot wait for.
LOCKS: dict[str, str] = {
    "vacuum": "SHARE UPDATE EXCLUSIVE on the table: reads and writes go on",
    "analyze": "SHARE UPDATE EXCLUSIVE on the table: reads and writes go on",
    "reindex": "SHARE UPDATE EXCLUSIVE on the table and index: reads and writes go on",
    "optimize": "the write lock, only for tables whose statistics it refreshes",
    "incremental_vacuum": "the write lock while free pages are released",
    "sqlite_analyze": "the write lock for one scan of the table (writers wait, readers do not)",
    "checkpoint": "waits for the current writer, then blocks writers while the WAL is copied",
    "partitions": "SHARE UPDATE EXCLUSIVE on the table (ATTACH PARTITION): reads and writes go "
    "on; its DEFAULT partition is locked while rows of a new range move out of it",
}

_PAGE = 8192
#: Bytes of a B-tree page that hold entries (header 24, special space 16).
_USABLE = _PAGE - 40
#: A fresh B-tree build fills leaf pages to 90 %.
_LEAF_FILL = 0.9


@dataclass(frozen=True)
class MaintenanceStep:
    """One statement of the plan and, once run, how long it took and what it answered."""

    action: str
    #: The table or index the step works on; None for a step on the whole database.
    target: str | None
    statement: str
    lock: str
    #: Why the step is there (an index's size against its estimate), when it needs saying.
    reason: str | None = None
    seconds: float | None = None
    #: What the statement answered, when it answers something (a checkpoint's page counts).
    result: str | None = None


@dataclass(frozen=True)
class MaintenanceReport:
    backend: str
    dry_run: bool
    steps: tuple[MaintenanceStep, ...] = ()
    #: Things the operator should know: settings that make a step a no-op, leftover indexes.
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Index:
    table: str
    name: str
    size: int
    estimated: int | None
    valid: bool


def maintain_database(
    database: Database,
    *,
    tables: Collection[str] | None = None,
    reindex: Reindex = "bloated",
    analyze_only: bool = False,
    dry_run: bool = False,
    bloat_ratio: float = DEFAULT_BLOAT_RATIO,
    min_index_bytes: int = DEFAULT_MIN_INDEX_BYTES,
    progress: Progress = no_progress,
) -> MaintenanceReport:
    """Run (or with ``dry_run`` only plan) the maintenance of the module doc.

    ``tables`` limits the per-table steps (default: every table of the schema); the SQLite
    steps on the whole file (optimize, incremental vacuum, checkpoint) run whatever it says.
    ``reindex`` is ``"bloated"`` (default), ``"all"`` or ``"none"``; PostgreSQL only.
    ``analyze_only`` refreshes statistics and does nothing else.
    """
    started = time.monotonic()
    if reindex not in REINDEX_CHOICES:
        raise ValidationError("reindex", reindex, f"choose from {', '.join(REINDEX_CHOICES)}")
    if not bloat_ratio > 1:
        raise ValidationError("bloat_ratio", bloat_ratio, "must be greater than 1")
    if min_index_bytes < 0:
        raise ValidationError("min_index_bytes", min_index_bytes, "must not be negative")
    partition_steps: list[MaintenanceStep] = []
    if (
        database.dialect_name == "postgresql"
        and not analyze_only
        and (tables is None or set(tables) & set(partitioning.PARTITIONABLE))
    ):
        partition_steps = _ensure_partitions(database, tables, dry_run)
    with _autocommit(database) as connection:
        selected = _selected(connection, tables)
        if connection.dialect.name == "postgresql":
            steps, notes = _postgres(
                connection, selected, reindex, analyze_only, dry_run,
                bloat_ratio, min_index_bytes, progress,
            )  # fmt: skip
        else:
            steps, notes = _sqlite(connection, selected, analyze_only, dry_run, progress)
    return MaintenanceReport(
        backend=database.dialect_name,
        dry_run=dry_run,
        steps=(*partition_steps, *steps),
        notes=tuple(notes),
        seconds=time.monotonic() - started,
    )


def _ensure_partitions(
    database: Database, tables: Collection[str] | None, dry_run: bool
) -> list[MaintenanceStep]:
    """Partitions created ahead first (``ops.partitions``): a table whose next interval has
    no partition yet would collect its rows in the default partition."""
    started = time.monotonic()
    report = ensure_partitions(database, dry_run=dry_run)
    seconds = None if dry_run else time.monotonic() - started
    return [
        MaintenanceStep(
            "partitions",
            policy.table,
            f"ensure partitions of {policy.table} ({policy.interval}ly, {policy.premake} ahead)",
            LOCKS["partitions"],
            seconds=seconds,
            result=", ".join(n for n in report.created if n.startswith(f"{policy.table}_p"))
            or "none missing",
        )
        for policy in report.policies
        if tables is None or policy.table in tables
    ]


@contextlib.contextmanager
def _autocommit(database: Database) -> Iterator[Connection]:
    """A connection on which every statement commits on its own (no transaction block)."""
    with database.connect() as connection:
        if connection.dialect.name == "postgresql":
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            yield connection.execution_options(**{SQLITE_BEGIN: "NONE"})


def _selected(connection: Connection, tables: Collection[str] | None) -> list[str]:
    # A partition is vacuumed, analyzed and reindexed through its partitioned table (which
    # autovacuum never analyzes on its own: only this ANALYZE gives the planner its figures).
    present = sorted(
        n for n in inspect(connection).get_table_names() if not partitioning.is_partition_name(n)
    )
    if tables is None:
        return present
    unknown = sorted(set(tables) - set(present))
    if unknown:
        raise ValidationError("tables", sorted(tables), f"no such table: {', '.join(unknown)}")
    return [name for name in present if name in tables]


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _run(connection: Connection, step: MaintenanceStep) -> MaintenanceStep:
    began = time.monotonic()
    result = connection.exec_driver_sql(step.statement)
    answer = None
    if result.returns_rows:
        rows = result.all()
        if step.action == "checkpoint" and rows:
            busy, log, done = rows[0]
            answer = f"busy={busy} wal_frames={log} checkpointed={done}"
    return replace(step, seconds=time.monotonic() - began, result=answer)


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres(
    connection: Connection,
    selected: list[str],
    reindex: Reindex,
    analyze_only: bool,
    dry_run: bool,
    bloat_ratio: float,
    min_index_bytes: int,
    progress: Progress,
) -> tuple[list[MaintenanceStep], list[str]]:
    notes: list[str] = []
    invalid = [ix for ix in _indexes(connection, selected) if not ix.valid]
    for index in invalid:
        notes.append(
            f"index {index.name} on {index.table} is invalid (a failed CREATE INDEX or REINDEX "
            f"CONCURRENTLY left it): DROP INDEX CONCURRENTLY {index.name}, then re-create it "
            "with `tradestore db upgrade`'s revision or REINDEX it"
        )
    steps: list[MaintenanceStep] = []
    total = len(selected)
    for done, table in enumerate(selected, start=1):
        quoted = _quote(connection, table)
        if analyze_only:
            first = MaintenanceStep("analyze", table, f"ANALYZE {quoted}", LOCKS["analyze"])
        else:
            first = MaintenanceStep("vacuum", table, f"VACUUM (ANALYZE) {quoted}", LOCKS["vacuum"])
        steps.append(first if dry_run else _run(connection, first))
        if not analyze_only and reindex != "none":
            # After the table's own VACUUM (ANALYZE): the estimates use fresh statistics.
            for index in _indexes(connection, [table]):
                step = _reindex_step(connection, index, reindex, bloat_ratio, min_index_bytes)
                if step is not None:
                    steps.append(step if dry_run else _reindex(connection, step))
        progress("maintenance", done, total)
    if dry_run and reindex == "bloated" and not analyze_only:
        notes.append(
            "dry run: bloat judged from the current statistics; a real run judges it again "
            "after each table's VACUUM (ANALYZE)"
        )
    return steps, notes


def _reindex_step(
    connection: Connection,
    index: _Index,
    reindex: Reindex,
    bloat_ratio: float,
    min_index_bytes: int,
) -> MaintenanceStep | None:
    if not index.valid:
        return None  # see the note: an invalid leftover is dropped, not rebuilt
    reason = None
    if index.estimated is not None:
        ratio = index.size / max(index.estimated, _PAGE)
        reason = f"{index.size:,} bytes, about {ratio:.1f}x the {index.estimated:,} estimated"
    if reindex == "bloated":
        if index.estimated is None or index.size < min_index_bytes:
            return None
        if index.size <= bloat_ratio * max(index.estimated, _PAGE):
            return None
    statement = f"REINDEX INDEX CONCURRENTLY {_quote(connection, index.name)}"
    return MaintenanceStep("reindex", index.name, statement, LOCKS["reindex"], reason)


def _reindex(connection: Connection, step: MaintenanceStep) -> MaintenanceStep:
    """Rebuild; if the rebuild fails, drop the invalid copy it leaves (``<name>_ccnew``)."""
    try:
        return _run(connection, step)
    except Exception:
        assert step.target is not None
        leftovers = connection.execute(
            text(
                "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND NOT x.indisvalid "
                "AND c.relname LIKE :pattern"
            ),
            {"pattern": step.target.replace("_", r"\_") + r"\_ccnew%"},
        ).scalars()
        for name in list(leftovers):
            connection.exec_driver_sql(
                f"DROP INDEX CONCURRENTLY IF EXISTS {_quote(connection, name)}"
            )
        raise


def _indexes(connection: Connection, tables: list[str]) -> list[_Index]:
    """B-tree indexes of ``tables``: size, estimated size, validity."""
    if not tables:
        return []
    rows = connection.execute(
        text(
            """
            SELECT t.relname, i.relname, pg_relation_size(i.oid), i.reltuples, x.indisvalid,
                   (SELECT sum(coalesce(s.avg_width, 8))
                      FROM unnest(x.indkey) AS k(attnum)
                      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                      LEFT JOIN pg_stats s ON s.schemaname = n.nspname
                           AND s.tablename = t.relname AND s.attname = a.attname) AS width,
                   (SELECT bool_and(s.avg_width IS NOT NULL)
                      FROM unnest(x.indkey) AS k(attnum)
                      LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                      LEFT JOIN pg_stats s ON s.schemaname = n.nspname
                           AND s.tablename = t.relname AND s.attname = a.attname) AS known
              FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
              JOIN pg_am am ON am.oid = i.relam
             WHERE n.nspname = current_schema() AND am.amname = 'btree'
               AND t.relname = ANY(:tables)
             ORDER BY t.relname, i.relname
            """
        ),
        {"tables": tables},
    )
    found: list[_Index] = []
    for table, name, size, tuples, valid, width, known in rows:
        estimated = None
        # reltuples is -1 before the first VACUUM/ANALYZE; a width from a column never
        # analyzed is a guess: neither is a base for judging bloat.
        if tuples is not None and tuples >= 0 and known:
            entry = 4 + 8 * math.ceil((8 + float(width or 0)) / 8)  # line pointer + tuple
            leaf_pages = math.ceil(float(tuples) * entry / (_USABLE * _LEAF_FILL))
            estimated = (1 + leaf_pages + math.ceil(leaf_pages / 100)) * _PAGE
        found.append(_Index(table, name, int(size), estimated, bool(valid)))
    return found


# --- SQLite -------------------------------------------------------------------------------


def _sqlite(
    connection: Connection,
    selected: list[str],
    analyze_only: bool,
    dry_run: bool,
    progress: Progress,
) -> tuple[list[MaintenanceStep], list[str]]:
    notes: list[str] = []
    plan: list[MaintenanceStep] = []
    if not analyze_only:
        plan.append(MaintenanceStep("optimize", None, "PRAGMA optimize", LOCKS["optimize"]))
        mode = int(connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one())
        if mode == 2:
            plan.append(
                MaintenanceStep(
                    "incremental_vacuum", None, "PRAGMA incremental_vacuum",
                    LOCKS["incremental_vacuum"],
                )
            )  # fmt: skip
        else:
            free = int(connection.exec_driver_sql("PRAGMA freelist_count").scalar_one())
            notes.append(
                f"auto_vacuum is {('NONE', 'FULL')[mode] if mode in (0, 1) else mode}, so "
                f"there is no incremental vacuum ({free:,} free pages stay in the file). To "
                "enable it: PRAGMA auto_vacuum=INCREMENTAL, then VACUUM once, with the bots "
                "stopped (VACUUM rewrites the file, holds the write lock throughout and needs "
                "free disk space of about the file's size)"
            )
    for table in selected:
        statement = f"ANALYZE {_quote(connection, table)}"
        plan.append(MaintenanceStep("analyze", table, statement, LOCKS["sqlite_analyze"]))
    if not analyze_only:
        plan.append(
            MaintenanceStep(
                "checkpoint", None, "PRAGMA wal_checkpoint(TRUNCATE)", LOCKS["checkpoint"]
            )
        )
    if dry_run:
        return plan, notes
    steps: list[MaintenanceStep] = []
    for done, step in enumerate(plan, start=1):
        steps.append(_run(connection, step))
        progress("maintenance", done, len(plan))
    last = steps[-1] if steps else None
    if (
        last is not None
        and last.action == "checkpoint"
        and (last.result or "").startswith("busy=1")
    ):
        notes.append(
            "the checkpoint could not finish (a reader or writer held the WAL): the WAL was "
            "not truncated; run maintain again when the bots are quieter"
        )
    return steps, notes
