"""Time-partitioned history on PostgreSQL: listing, creating ahead and dropping partitions.

Revision 0016 range-partitions ``fills`` by ``filled_at`` and ``portfolio_snapshots`` by
``snapshot_date`` (PostgreSQL's declarative partitioning; SQLite and ``partitioning=none``
databases keep plain tables and none of this applies). ``partition_policies`` says how each is
cut. Three rules shape this module:

* **No row is ever refused for want of a partition.** Each table has a ``DEFAULT`` partition;
  a row outside every range lands there. ``ensure`` later gives such rows a partition of their
  own: it creates the partition as a plain table, moves the rows in from the default partition
  (the default partition locked meanwhile), then attaches it.
* **Creating a partition does not stop the bots.** ``CREATE TABLE ... PARTITION OF`` locks
  the parent ``ACCESS EXCLUSIVE``; ``ATTACH PARTITION`` takes only ``SHARE UPDATE EXCLUSIVE``
  on it, which inserts, updates and reads do not wait for. So a partition is created
  standalone (``LIKE`` the parent, its checks and defaults, the newest partition's storage
  parameters) and attached; the parent's indexes, foreign keys and triggers are cloned onto it
  by the attach.
* **The fill_id guard follows the rows.** A fill's ``(bot_id, fill_id)`` is unique across all
  partitions through the unpartitioned ``fill_ids`` table (revision 0016: PostgreSQL cannot
  enforce a unique index without the partition key). Rows moved out of the default partition
  fire its delete trigger, so their guard rows are put back; a dropped partition's guard rows
  are deleted by its range (the guard keeps ``filled_at`` for that, indexed).

Partition bounds are UTC midnights (dates); a partition is named after its lower bound,
``fills_p20260101``, whatever its interval, and the default one ``fills_default``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

#: PostgreSQL's ``date_trunc`` names, narrowest first (models.partitions keeps the same list).
INTERVALS = ("day", "week", "month", "quarter", "year")

#: The tables revision 0016 may partition (on PostgreSQL).
PARTITIONABLE = ("fills", "portfolio_snapshots")

#: Tables whose uniqueness across partitions is kept by a guard table: table -> (guard table,
#: the guard's columns, the partition key's column in it).
GUARDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "fills": ("fill_ids", ("bot_id", "fill_id", "filled_at"), "filled_at"),
}

#: How long DDL on a partitioned table waits for a lock before giving up (the bots' own
#: transactions are short; a DDL statement queued behind a long one would block them all).
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Policy:
    """A row of ``partition_policies``: how ``table`` is cut."""

    table: str
    column: str
    interval: str
    premake: int


@dataclass(frozen=True)
class Partition:
    """One partition: its range ``[lower, upper)`` in UTC dates, or the default partition."""

    table: str
    name: str
    lower: dt.date | None
    upper: dt.date | None
    #: The planner's estimate (``reltuples``; -1 before the first VACUUM or ANALYZE).
    estimated_rows: int
    total_bytes: int

    @property
    def is_default(self) -> bool:
        return self.lower is None


_PARTITION_NAME = re.compile(rf"(?:{'|'.join(PARTITIONABLE)})_(?:p\d{{8}}|default)")


#: What revision 0016 creates besides the models' tables where it partitions ``fills``: the
#: guard table, its key and index, and the fills triggers with their functions.
GUARD_TABLES = frozenset({"fill_ids"})
GUARD_INDEXES = frozenset({"pk_fill_ids", "idx_fill_ids_filled_at"})
GUARD_CONSTRAINTS = frozenset({("fill_ids", "pk_fill_ids")})
GUARD_TRIGGERS = frozenset(
    {"fills_claim_fill_id", "fills_free_fill_id", "fills_key_unchanged", "fills_truncate_fill_ids"}
)
GUARD_FUNCTIONS = GUARD_TRIGGERS

_PARTITION_OBJECT = re.compile(rf"(?:{'|'.join(PARTITIONABLE)})_(?:p\d{{8}}|default)(?:_\w+)?")


def is_partition_object_name(name: str) -> bool:
    """A partition, or an index PostgreSQL named after one (``fills_p20260101_pkey``)."""
    return bool(_PARTITION_OBJECT.fullmatch(name))


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is how this module names a partition (``fills_p20260101``,
    ``fills_default``): a table that only holds a partitioned table's rows."""
    return bool(_PARTITION_NAME.fullmatch(name))


def is_storage_of_partitioned(name: str) -> bool:
    """Whether a table of that name is one of the partitions of a partitioned table or the
    fill_id guard: storage the models do not declare (schema comparisons leave them out)."""
    return name in {guard for guard, _, _ in GUARDS.values()} or is_partition_name(name)


# --- reading -----------------------------------------------------------------------------------


def is_partitioned(connection: Connection, table: str) -> bool:
    """Whether ``table`` (in the current schema) is a partitioned table; False on SQLite."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text(
            "SELECT CAST(c.relkind AS text) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = :name"
        ),
        {"name": table},
    ).scalar()
    return kind == "p"


def policies(connection: Connection) -> list[Policy]:
    """The policies of the tables that are partitioned here (none on SQLite)."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        text(
            "SELECT table_name, column_name, interval, premake FROM partition_policies "
            "ORDER BY table_name"
        )
    ).all()
    return [Policy(*row) for row in rows if is_partitioned(connection, row[0])]


def policy(connection: Connection, table: str) -> Policy | None:
    return next((p for p in policies(connection) if p.table == table), None)


_BOUND = re.compile(r"FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)")


def partitions(connection: Connection, table: str) -> list[Partition]:
    """``table``'s partitions, ranges in order, the default partition last."""
    rows = connection.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "CAST(c.reltuples AS bigint), pg_total_relation_size(c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:table AS regclass)"
        ),
        {"table": table},
    ).all()
    found = []
    for name, bound, estimate, size in rows:
        lower = upper = None
        match = _BOUND.fullmatch(bound)
        if match is not None:
            lower, upper = _bound_date(match[1]), _bound_date(match[2])
        found.append(Partition(table, name, lower, upper, int(estimate), int(size)))
    return sorted(found, key=lambda p: (p.lower is None, p.lower or dt.date.min))


def _bound_date(literal: str) -> dt.date:
    """A bound as PostgreSQL prints it: a date, or a timestamptz in the session's time zone
    (a UTC midnight printed in another zone is still that UTC date)."""
    if len(literal) == 10:
        return dt.date.fromisoformat(literal)
    return dt.datetime.fromisoformat(literal).astimezone(dt.UTC).date()


# --- interval arithmetic -----------------------------------------------------------------------


def floor(day: dt.date, interval: str) -> dt.date:
    """The first day of the interval holding ``day`` (weeks start on Monday, as ISO's and
    PostgreSQL's ``date_trunc('week', ...)`` do)."""
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if interval == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(f"unknown partition interval {interval!r}; one of {', '.join(INTERVALS)}")


def advance(start: dt.date, interval: str, steps: int = 1) -> dt.date:
    """``start`` moved ``steps`` intervals on (``start`` is the first day of an interval)."""
    if interval == "day":
        return start + dt.timedelta(days=steps)
    if interval == "week":
        return start + dt.timedelta(weeks=steps)
    months = {"month": 1, "quarter": 3, "year": 12}[interval] * steps
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


# --- creating ----------------------------------------------------------------------------------


def partition_name(table: str, lower: dt.date) -> str:
    return f"{table}_p{lower:%Y%m%d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def ensure(
    connection: Connection,
    policy: Policy,
    today: dt.date,
    *,
    rows_from: str | None = None,
    storage: Sequence[str] | None = None,
) -> list[str]:
    """Create the partitions ``policy.table`` lacks, in the caller's transaction; returns
    their names.

    Wanted: the interval holding ``today`` and ``policy.premake`` intervals after it, and one
    for each interval that has rows in the default partition (or in ``rows_from``, the old
    table while revision 0016 converts it). A wanted range that overlaps existing partitions
    (after the interval was changed) is clipped to the gap between them. ``storage`` is the
    storage parameters (``name=value``) of a new partition; None takes the newest
    partition's.
    """
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    existing = partitions(connection, policy.table)
    ranges = sorted((p.lower, p.upper) for p in existing if p.lower and p.upper)
    default = next((p for p in existing if p.is_default), None)
    if storage is None:
        storage = _storage_of(connection, [p.name for p in existing if not p.is_default][-1:])
    current = floor(today, policy.interval)
    starts = {advance(current, policy.interval, k) for k in range(policy.premake + 1)}
    source = rows_from or (default.name if default else None)
    if source is not None:
        starts.update(_starts_with_rows(connection, source, policy))
    created = []
    for start in sorted(starts):
        bounds = _clip(start, advance(start, policy.interval), ranges)
        if bounds is None:
            continue
        lower, upper = bounds
        # After a change of interval the new boundaries need not meet the old ones: the first
        # partition of the new interval starts where the last one ends (no gap of less than
        # an interval for rows to fall into the default partition).
        previous = max((end for _, end in ranges if end <= lower), default=None)
        if previous is not None and advance(previous, policy.interval) > lower:
            lower = previous
        name = partition_name(policy.table, lower)
        # Converting (rows_from): the default partition was just created, empty.
        _create(connection, policy, name, lower, upper, storage, None if rows_from else default)
        ranges = sorted([*ranges, (lower, upper)])
        created.append(name)
    return created


def _clip(
    lower: dt.date, upper: dt.date, ranges: Iterable[tuple[dt.date, dt.date]]
) -> tuple[dt.date, dt.date] | None:
    for start, end in ranges:
        if end <= lower or start >= upper:
            continue
        if start <= lower:
            lower = end
        else:
            upper = start
        if lower >= upper:
            return None
    return lower, upper


def _starts_with_rows(connection: Connection, relation: str, policy: Policy) -> set[dt.date]:
    quote = connection.dialect.identifier_preparer.quote
    column = quote(policy.column)
    utc = f"{column} AT TIME ZONE 'UTC'" if _is_timestamptz(connection, policy) else column
    rows = connection.execute(
        text(
            f"SELECT DISTINCT CAST(date_trunc('{policy.interval}', {utc}) AS date) "  # noqa: S608 - quoted identifiers, date literals
            f"FROM {quote(relation)}"
        )
    ).scalars()
    return {floor(day, policy.interval) for day in rows}


def _is_timestamptz(connection: Connection, policy: Policy) -> bool:
    kind = connection.execute(
        text(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = CAST(:table AS regclass) AND a.attname = :column"
        ),
        {"table": policy.table, "column": policy.column},
    ).scalar_one()
    return str(kind).startswith("timestamp with time zone")


def bound_literal(connection: Connection, policy: Policy, day: dt.date) -> str:
    if _is_timestamptz(connection, policy):
        return f"'{day.isoformat()} 00:00:00+00'"
    return f"'{day.isoformat()}'"


def _storage_of(connection: Connection, names: Sequence[str]) -> list[str]:
    if not names:
        return []
    options = connection.execute(
        text("SELECT reloptions FROM pg_class WHERE oid = CAST(:name AS regclass)"),
        {"name": names[0]},
    ).scalar()
    return list(options or [])


def _create(
    connection: Connection,
    policy: Policy,
    name: str,
    lower: dt.date,
    upper: dt.date,
    storage: Sequence[str],
    default: Partition | None,
) -> None:
    q = connection.dialect.identifier_preparer.quote
    table, column = q(policy.table), q(policy.column)
    low, high = bound_literal(connection, policy, lower), bound_literal(connection, policy, upper)
    with_ = f" WITH ({', '.join(storage)})" if storage else ""
    connection.execute(
        text(
            f"CREATE TABLE {q(name)} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            f"INCLUDING STORAGE INCLUDING COMMENTS){with_}"
        )
    )
    if default is not None:
        # Lock the default partition before looking at it: no row for this range can arrive
        # there between the move and the attach (the attach checks it holds none).
        connection.execute(text(f"LOCK TABLE {q(default.name)} IN ACCESS EXCLUSIVE MODE"))
        moved = connection.execute(
            text(
                f"WITH moved AS (DELETE FROM {q(default.name)} "  # noqa: S608 - quoted identifiers, date literals
                f"WHERE {column} >= {low} AND {column} < {high} RETURNING *) "
                f"INSERT INTO {q(name)} SELECT * FROM moved"
            )
        ).rowcount
        guard = GUARDS.get(policy.table)
        if moved and guard is not None:
            guard_table, guard_columns, _ = guard
            names = ", ".join(q(c) for c in guard_columns)
            connection.execute(
                text(f"INSERT INTO {q(guard_table)} ({names}) SELECT {names} FROM {q(name)}")  # noqa: S608 - quoted identifiers, date literals
            )
    connection.execute(
        text(f"ALTER TABLE {table} ATTACH PARTITION {q(name)} FOR VALUES FROM ({low}) TO ({high})")
    )


def create_default(connection: Connection, policy: Policy, storage: Sequence[str]) -> str:
    """The default partition (revision 0016 creates it with the parent, before any row)."""
    q = connection.dialect.identifier_preparer.quote
    name = default_name(policy.table)
    with_ = f" WITH ({', '.join(storage)})" if storage else ""
    connection.execute(
        text(f"CREATE TABLE {q(name)} PARTITION OF {q(policy.table)} DEFAULT{with_}")
    )
    return name


# --- dropping ----------------------------------------------------------------------------------


def lock_for_drop(connection: Connection, table: str) -> None:
    """Take the lock detaching needs first (``ACCESS EXCLUSIVE`` on the parent, bounded by
    ``LOCK_TIMEOUT``), so a check made after it still holds when the partition goes."""
    q = connection.dialect.identifier_preparer.quote
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    connection.execute(text(f"LOCK TABLE {q(table)} IN ACCESS EXCLUSIVE MODE"))


def detach_and_drop(connection: Connection, policy: Policy, partition: Partition) -> None:
    """Detach and drop a range partition in the caller's transaction, its guard rows with it.

    Instant whatever its size: no row is deleted from the partition, nothing is left for
    VACUUM. The caller holds :func:`lock_for_drop` and has checked every row may go.
    """
    if partition.lower is None or partition.upper is None:
        raise ValueError(f"{partition.name} is the default partition; it is never dropped")
    q = connection.dialect.identifier_preparer.quote
    guard = GUARDS.get(policy.table)
    if guard is not None:
        guard_table, _, guard_column = guard
        low = bound_literal(connection, policy, partition.lower)
        high = bound_literal(connection, policy, partition.upper)
        connection.execute(
            text(
                f"DELETE FROM {q(guard_table)} "  # noqa: S608 - quoted identifiers, date literals
                f"WHERE {q(guard_column)} >= {low} AND {q(guard_column)} < {high}"
            )
        )
    connection.execute(text(f"ALTER TABLE {q(policy.table)} DETACH PARTITION {q(partition.name)}"))
    connection.execute(text(f"DROP TABLE {q(partition.name)}"))


def set_policy(
    connection: Connection, table: str, *, interval: str | None = None, premake: int | None = None
) -> Policy:
    """Change how partitions created from now on are cut; existing ones stay as they are."""
    current = policy(connection, table)
    if current is None:
        raise LookupError(table)
    new = Policy(
        table,
        current.column,
        interval if interval is not None else current.interval,
        premake if premake is not None else current.premake,
    )
    connection.execute(
        text(
            "UPDATE partition_policies SET interval = :interval, premake = :premake "
            "WHERE table_name = :table"
        ),
        {"interval": new.interval, "premake": new.premake, "table": table},
    )
    return new


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL's ``lock_not_available`` (55P03): ``LOCK_TIMEOUT`` ran out."""
    original = getattr(exc, "orig", exc)
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    return code == "55P03"
