"""Time-partitioned history on PostgreSQL: fills by filled_at, portfolio snapshots by date.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

The two tables that grow with every bot-day are converted to native range partitioning,
monthly unless the upgrade says otherwise (``alembic -x partitioning=week upgrade head``,
``Database.upgrade(partitioning="week")``; ``none`` keeps plain tables, the choice for a
small desk). Every row is kept: the old table is renamed, a partitioned table of the same
columns takes its name, one partition per interval that holds rows (plus the current one and
three ahead, plus a ``DEFAULT`` partition so no row is ever refused), the rows are copied,
the old table is dropped, then its constraints, indexes, comments, grants and storage
parameters (revision 0015's autovacuum settings, now on each partition) are put back. Views
over the tables are dropped and re-created around it (``preserved_views``).

PostgreSQL enforces a unique index of a partitioned table only if it holds the partition key,
so two keys change:

* ``fills``: primary key (bot_id, fill_id) becomes (bot_id, fill_id, filled_at). A replayed
  fill need not carry the same ``filled_at`` (``record_fill`` stamps the clock), so
  idempotency on fill_id is kept by a guard table ``fill_ids`` (primary key (bot_id,
  fill_id), not partitioned): a ``BEFORE INSERT`` trigger on fills claims the id there
  (``ON CONFLICT DO NOTHING``) and skips the fill when it was taken, which is what every
  tradestore write path asks for (``INSERT ... ON CONFLICT DO NOTHING``, the batch paths'
  count check); a concurrent second writer waits for the first to commit, as it would on a
  unique index. An ``AFTER DELETE`` trigger frees the id; dropping a partition deletes its
  ids by range (``fill_ids.filled_at`` is indexed for that), a ``TRUNCATE fills`` empties
  the guard too (a partition truncated on its own does not: use DELETE or drop it). A fill's key columns cannot be
  updated (a third trigger refuses it): a fill is a fact from the broker.
* ``portfolio_snapshots``: primary key snapshot_id becomes (snapshot_id, snapshot_date);
  snapshot_id stays unique in practice (its sequence); (bot_id, snapshot_date), the key
  every write uses, already holds the partition key.

The downgrade converts back the same way, with every row, and drops the guard and the
policies table. On SQLite only ``partition_policies`` is created (empty).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic import context as environment
from alembic import op

from tradestore.db import partitioning
from tradestore.db.view_ddl import preserved_views

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table -> (partition key, the primary key's columns before this revision).
TABLES = {
    "fills": ("filled_at", ("bot_id", "fill_id")),
    "portfolio_snapshots": ("snapshot_date", ("snapshot_id",)),
}
DEFAULT_INTERVAL = "month"
PREMAKE = 3

_GUARD_DDL = (
    """CREATE FUNCTION fills_claim_fill_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fill_ids (bot_id, fill_id, filled_at)
    VALUES (NEW.bot_id, NEW.fill_id, NEW.filled_at)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$""",
    """CREATE FUNCTION fills_free_fill_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM fill_ids WHERE bot_id = OLD.bot_id AND fill_id = OLD.fill_id;
    RETURN OLD;
END $$""",
    """CREATE FUNCTION fills_key_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a fill''s bot_id, fill_id and filled_at cannot be changed'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'fills_key_unchanged';
END $$""",
    """CREATE FUNCTION fills_truncate_fill_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE fill_ids;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER fills_claim_fill_id BEFORE INSERT ON fills "
    "FOR EACH ROW EXECUTE FUNCTION fills_claim_fill_id()",
    "CREATE TRIGGER fills_free_fill_id AFTER DELETE ON fills "
    "FOR EACH ROW EXECUTE FUNCTION fills_free_fill_id()",
    "CREATE TRIGGER fills_truncate_fill_ids AFTER TRUNCATE ON fills "
    "FOR EACH STATEMENT EXECUTE FUNCTION fills_truncate_fill_ids()",
    "CREATE TRIGGER fills_key_unchanged BEFORE UPDATE OF bot_id, fill_id, filled_at ON fills "
    "FOR EACH ROW WHEN (OLD.bot_id IS DISTINCT FROM NEW.bot_id "
    "OR OLD.fill_id IS DISTINCT FROM NEW.fill_id "
    "OR OLD.filled_at IS DISTINCT FROM NEW.filled_at) "
    "EXECUTE FUNCTION fills_key_unchanged()",
)

_DROP_GUARD = (
    "DROP TRIGGER IF EXISTS fills_claim_fill_id ON fills",
    "DROP TRIGGER IF EXISTS fills_free_fill_id ON fills",
    "DROP TRIGGER IF EXISTS fills_key_unchanged ON fills",
    "DROP TRIGGER IF EXISTS fills_truncate_fill_ids ON fills",
    "DROP FUNCTION IF EXISTS fills_claim_fill_id()",
    "DROP FUNCTION IF EXISTS fills_free_fill_id()",
    "DROP FUNCTION IF EXISTS fills_key_unchanged()",
    "DROP FUNCTION IF EXISTS fills_truncate_fill_ids()",
    "DROP TABLE IF EXISTS fill_ids",
)


@dataclass
class _Definition:
    """What a table carries beyond its columns, read from the catalogs before it is replaced."""

    constraints: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, def
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, CREATE INDEX
    comments: list[str] = field(default_factory=list)  # COMMENT ON ... statements
    grants: list[str] = field(default_factory=list)
    sequences: list[tuple[str, str]] = field(default_factory=list)  # sequence, column
    storage: list[str] = field(default_factory=list)


def _interval() -> str:
    chosen = environment.config.attributes.get("partitioning")
    if chosen is None:
        chosen = environment.get_x_argument(as_dictionary=True).get("partitioning")
    chosen = (chosen or DEFAULT_INTERVAL).strip().lower()
    if chosen != "none" and chosen not in partitioning.INTERVALS:
        raise ValueError(
            f"partitioning={chosen!r}: one of none, {', '.join(partitioning.INTERVALS)}"
        )
    return chosen


def _run(bind: sa.Connection, sql: str, **params: object) -> Any:
    return bind.execute(sa.text(sql), params)


def _quote(bind: sa.Connection, name: str) -> str:
    return bind.dialect.identifier_preparer.quote(name)


def _definition(bind: sa.Connection, table: str) -> _Definition:
    found = _Definition()
    # Every catalog lookup names the table (CAST(:oid AS regclass)): asyncpg binds a
    # regclass parameter as text only.
    oid = table
    for name, kind, sql, comment in _run(
        bind,
        "SELECT conname, CAST(contype AS text), pg_get_constraintdef(oid), "
        "obj_description(oid, 'pg_constraint') "
        "FROM pg_constraint WHERE conrelid = CAST(:oid AS regclass) AND contype IN ('p', 'u', 'c', 'f') "
        "ORDER BY contype = 'f', conname",
        oid=oid,
    ):
        found.constraints.append((name, kind, sql))
        if comment is not None:
            found.comments.append(
                f"COMMENT ON CONSTRAINT {_quote(bind, name)} ON {_quote(bind, table)} "
                f"IS {_literal(comment)}"
            )
    for name, sql, comment in _run(
        bind,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), obj_description(c.oid, 'pg_class') "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = CAST(:oid AS regclass) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
        "AND k.conrelid = CAST(:oid AS regclass)) "
        "ORDER BY c.relname",
        oid=oid,
    ):
        found.indexes.append((name, sql.replace(" ON ONLY ", " ON ")))
        if comment is not None:
            found.comments.append(f"COMMENT ON INDEX {_quote(bind, name)} IS {_literal(comment)}")
    comment = _run(
        bind, "SELECT obj_description(CAST(:oid AS regclass), 'pg_class')", oid=oid
    ).scalar()
    if comment is not None:
        found.comments.append(f"COMMENT ON TABLE {_quote(bind, table)} IS {_literal(comment)}")
    for privilege, grantee in _run(
        bind,
        "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
        "ELSE quote_ident(pg_get_userbyid(a.grantee)) END "
        "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = CAST(:oid AS regclass) "
        "AND a.grantee <> c.relowner",
        oid=oid,
    ):
        found.grants.append(f"GRANT {privilege} ON {_quote(bind, table)} TO {grantee}")
    for column in _run(
        bind,
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:oid AS regclass) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        oid=oid,
    ).scalars():
        sequence = _run(bind, "SELECT pg_get_serial_sequence(:t, :c)", t=table, c=column).scalar()
        if sequence is not None:
            found.sequences.append((sequence, column))
    leaf = _run(
        bind,
        "SELECT c.reloptions FROM pg_partition_tree(CAST(:oid AS regclass)) t "
        "JOIN pg_class c ON c.oid = t.relid "
        "WHERE t.isleaf AND c.reloptions IS NOT NULL ORDER BY t.relid DESC LIMIT 1",
        oid=oid,
    ).scalar()
    found.storage = list(leaf or [])
    return found


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _restore(bind: sa.Connection, table: str, found: _Definition, primary_key: str) -> None:
    """Put back what ``_definition`` read, ``primary_key`` being the new key's column list."""
    q = _quote(bind, table)
    for name, kind, sql in found.constraints:
        if kind == "p":
            sql = f"PRIMARY KEY ({primary_key})"
        elif kind == "u":
            raise RuntimeError(f"{table}: unique constraint {name} is not carried over")
        _run(bind, f"ALTER TABLE {q} ADD CONSTRAINT {_quote(bind, name)} {sql}")
    for _, sql in found.indexes:
        _run(bind, sql)
    for statement in found.comments + found.grants:
        _run(bind, statement)
    for sequence, column in found.sequences:
        _run(bind, f"ALTER SEQUENCE {sequence} OWNED BY {q}.{_quote(bind, column)}")


def _partition(bind: sa.Connection, table: str, interval: str, today: dt.date) -> None:
    column, old_key = TABLES[table]
    q, old = _quote(bind, table), f"{table}__unpartitioned"
    found = _definition(bind, table)
    found.storage = list(
        _run(
            bind, "SELECT reloptions FROM pg_class WHERE oid = CAST(:t AS regclass)", t=table
        ).scalar()
        or []
    )
    _run(bind, f"ALTER TABLE {q} RENAME TO {_quote(bind, old)}")
    _run(
        bind,
        f"CREATE TABLE {q} (LIKE {_quote(bind, old)} INCLUDING DEFAULTS INCLUDING COMMENTS "
        f"INCLUDING STORAGE) PARTITION BY RANGE ({_quote(bind, column)})",
    )
    for sequence, name in found.sequences:
        _run(bind, f"ALTER SEQUENCE {sequence} OWNED BY {q}.{_quote(bind, name)}")
    policy = partitioning.Policy(table, column, interval, PREMAKE)
    _run(
        bind,
        "INSERT INTO partition_policies (table_name, column_name, interval, premake) "
        "VALUES (:t, :c, :i, :p)",
        t=table,
        c=column,
        i=interval,
        p=PREMAKE,
    )
    partitioning.create_default(bind, policy, found.storage)
    partitioning.ensure(bind, policy, today, rows_from=old, storage=found.storage)
    _run(bind, f"INSERT INTO {q} SELECT * FROM {_quote(bind, old)}")  # noqa: S608 - quoted identifiers, date literals
    _run(bind, f"DROP TABLE {_quote(bind, old)}")
    _restore(bind, table, found, ", ".join([*old_key, column]))


def _unpartition(bind: sa.Connection, table: str) -> None:
    _, old_key = TABLES[table]
    q, partitioned = _quote(bind, table), f"{table}__partitioned"
    found = _definition(bind, table)
    _run(bind, f"ALTER TABLE {q} RENAME TO {_quote(bind, partitioned)}")
    options = f" WITH ({', '.join(found.storage)})" if found.storage else ""
    _run(
        bind,
        f"CREATE TABLE {q} (LIKE {_quote(bind, partitioned)} INCLUDING DEFAULTS "
        f"INCLUDING COMMENTS INCLUDING STORAGE){options}",
    )
    for sequence, name in found.sequences:
        _run(bind, f"ALTER SEQUENCE {sequence} OWNED BY {q}.{_quote(bind, name)}")
    _run(bind, f"INSERT INTO {q} SELECT * FROM {_quote(bind, partitioned)}")  # noqa: S608 - quoted identifiers, date literals
    _run(bind, f"DROP TABLE {_quote(bind, partitioned)}")
    _restore(bind, table, found, ", ".join(old_key))
    _run(bind, "DELETE FROM partition_policies WHERE table_name = :t", t=table)


def _create_guard(bind: sa.Connection) -> None:
    _run(
        bind,
        "CREATE TABLE fill_ids (bot_id VARCHAR(64) NOT NULL, fill_id VARCHAR(128) NOT NULL, "
        "filled_at TIMESTAMP WITH TIME ZONE NOT NULL, "
        "CONSTRAINT pk_fill_ids PRIMARY KEY (bot_id, fill_id))",
    )
    _run(
        bind,
        "INSERT INTO fill_ids (bot_id, fill_id, filled_at) SELECT bot_id, fill_id, filled_at FROM fills",
    )
    _run(bind, "CREATE INDEX idx_fill_ids_filled_at ON fill_ids (filled_at)")
    _run(
        bind,
        "COMMENT ON TABLE fill_ids IS 'Every fill''s (bot_id, fill_id), unique across the "
        "partitions of fills; written and freed by the fills triggers'",
    )
    for grant in _definition(bind, "fills").grants:
        _run(bind, grant.replace(" ON fills ", " ON fill_ids "))
    # Keep the guard as vacuumed as the history it guards (revision 0015's history settings).
    _run(
        bind,
        "ALTER TABLE fill_ids SET (autovacuum_vacuum_scale_factor = 0.02, "
        "autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01)",
    )
    for statement in _GUARD_DDL:
        bind.exec_driver_sql(statement)


def upgrade() -> None:
    op.create_table(
        "partition_policies",
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("column_name", sa.String(length=63), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("premake", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "interval IN ('day', 'week', 'month', 'quarter', 'year')",
            name=op.f("ck_partition_policies_interval_known"),
        ),
        sa.CheckConstraint(
            "premake >= 0 AND premake <= 120", name=op.f("ck_partition_policies_premake_range")
        ),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_partition_policies")),
    )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    interval = _interval()
    if interval == "none":
        return
    today = dt.datetime.now(dt.UTC).date()
    with preserved_views(*TABLES):
        for table in TABLES:
            _partition(bind, table, interval, today)
    _create_guard(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        partitioned = [t for t in TABLES if partitioning.is_partitioned(bind, t)]
        for statement in _DROP_GUARD:
            bind.exec_driver_sql(statement)
        if partitioned:
            with preserved_views(*partitioned):
                for table in partitioned:
                    _unpartition(bind, table)
    op.drop_table("partition_policies")
