"""Rows and sizes per table and index (the usual monitoring queries), and the database size.

Row counts are exact (``count(*)`` in one read snapshot), because "how many rows did that
prune leave?" deserves an exact answer. Sizes come from ``pg_total_relation_size`` and friends on
PostgreSQL and from the ``dbstat`` virtual table on SQLite (None when SQLite was built
without it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

from tradestore.config import sqlite_path
from tradestore.database import Database
from tradestore.db import partitioning
from tradestore.ops._common import Progress, no_progress, read_connection


@dataclass(frozen=True)
class TableStats:
    name: str
    rows: int
    #: Table plus its indexes (and TOAST on PostgreSQL), bytes.
    total_bytes: int | None
    table_bytes: int | None
    index_bytes: int | None


@dataclass(frozen=True)
class IndexStats:
    table: str
    name: str
    size_bytes: int | None
    #: Index scans since statistics were reset (PostgreSQL only; SQLite keeps no such count).
    scans: int | None


@dataclass(frozen=True)
class DatabaseStats:
    database: str
    backend: str
    #: The database file (SQLite, without the WAL) or ``pg_database_size``.
    size_bytes: int | None
    #: The ``-wal`` file beside a SQLite database; None on PostgreSQL.
    wal_bytes: int | None
    tables: tuple[TableStats, ...]
    indexes: tuple[IndexStats, ...]

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)


def database_stats(
    database: Database, *, indexes: bool = False, progress: Progress = no_progress
) -> DatabaseStats:
    """Rows and size of every table in the database's schema (and of every index if asked)."""
    with read_connection(database) as connection:
        # Partitions are counted in their partitioned table (revision 0016), not on their own.
        names = sorted(
            n
            for n in inspect(connection).get_table_names()
            if not partitioning.is_partition_name(n)
        )
        counts: dict[str, int] = {}
        for done, name in enumerate(names, start=1):
            counts[name] = _count(connection, name)
            progress("counting rows", done, len(names))
        if connection.dialect.name == "postgresql":
            sizes, index_stats, size = _postgres_sizes(connection, names, indexes)
            wal = None
        else:
            sizes, index_stats, size = _sqlite_sizes(connection, names, indexes)
            path = sqlite_path(database.url)
            wal_file = path.with_name(path.name + "-wal") if path is not None else None
            wal = wal_file.stat().st_size if wal_file is not None and wal_file.exists() else None
    tables = tuple(
        TableStats(name, counts[name], *sizes.get(name, (None, None, None))) for name in names
    )
    return DatabaseStats(
        database=database.safe_url,
        backend=database.dialect_name,
        size_bytes=size,
        wal_bytes=wal,
        tables=tables,
        indexes=tuple(index_stats),
    )


def row_counts(database: Database, tables: list[str] | None = None) -> dict[str, int]:
    """Exact row count of each table (default: every table in the schema), one snapshot."""
    with read_connection(database) as connection:
        if tables is None:
            # a partition's rows are counted in its partitioned table (revision 0016)
            names = sorted(
                n
                for n in inspect(connection).get_table_names()
                if not partitioning.is_partition_name(n)
            )
        else:
            names = sorted(tables)
        return {name: _count(connection, name) for name in names}


def _count(connection: Connection, name: str) -> int:
    quoted = connection.dialect.identifier_preparer.quote(name)
    return int(connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())  # noqa: S608 - quoted table name from our metadata


_Sizes = dict[str, tuple[int | None, int | None, int | None]]


def _postgres_sizes(
    connection: Connection, names: list[str], with_indexes: bool
) -> tuple[_Sizes, list[IndexStats], int | None]:
    rows = connection.execute(
        text(
            # A partitioned table (revision 0016) has no storage of its own: its sizes are
            # the sums over its partitions (pg_partition_tree lists none for a plain table).
            "SELECT c.relname, sum(pg_total_relation_size(coalesce(t.relid, c.oid))), "
            "sum(pg_relation_size(coalesce(t.relid, c.oid))), "
            "sum(pg_indexes_size(coalesce(t.relid, c.oid))) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON true "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition GROUP BY c.relname"
        )
    )
    sizes: _Sizes = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}
    index_stats: list[IndexStats] = []
    if with_indexes:
        for row in connection.execute(
            text(
                "SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan "
                "FROM pg_stat_user_indexes s WHERE s.schemaname = current_schema() "
                "ORDER BY s.relname, s.indexrelname"
            )
        ):
            if row[0] in names:
                index_stats.append(IndexStats(row[0], row[1], int(row[2]), int(row[3])))
    size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return sizes, index_stats, int(size)


def _sqlite_sizes(
    connection: Connection, names: list[str], with_indexes: bool
) -> tuple[_Sizes, list[IndexStats], int | None]:
    page_size = int(connection.execute(text("PRAGMA page_size")).scalar_one())
    page_count = int(connection.execute(text("PRAGMA page_count")).scalar_one())
    owners = {
        str(row[0]): (str(row[1]), str(row[2]))
        for row in connection.execute(
            text("SELECT name, tbl_name, type FROM sqlite_master WHERE type IN ('table', 'index')")
        )
    }
    savepoint = connection.begin_nested()
    try:
        btrees = {
            str(row[0]): int(row[1])
            for row in connection.execute(
                text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            )
        }
    except DBAPIError as exc:
        savepoint.rollback()
        if "dbstat" not in str(exc.orig):  # an I/O error is not "no dbstat here"
            raise
        return {}, [], page_size * page_count  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
    savepoint.commit()
    table_bytes: dict[str, int] = {}
    index_bytes: dict[str, int] = {}
    index_stats: list[IndexStats] = []
    for btree, size in btrees.items():
        owner, kind = owners.get(btree, (btree, "table"))
        if kind == "index":
            index_bytes[owner] = index_bytes.get(owner, 0) + size
            if with_indexes and owner in names:
                index_stats.append(IndexStats(owner, btree, size, None))
        else:
            table_bytes[owner] = table_bytes.get(owner, 0) + size
    sizes: _Sizes = {
        name: (
            table_bytes.get(name, 0) + index_bytes.get(name, 0),
            table_bytes.get(name, 0),
            index_bytes.get(name, 0),
        )
        for name in names
    }
    index_stats.sort(key=lambda ix: (ix.table, ix.name))
    return sizes, index_stats, page_size * page_count
