"""Which schema objects are tradestore's, and which are not.

A trigger, rule, view, function, table, index, constraint or policy that tradestore's
migrations did not create can change what tradestore's own statements do (a trigger on
``fills`` that deletes orders; a rule that rewrites an INSERT) while every table still
matches the models. ``verify`` and restore's pre-check therefore refuse any such object and
list it.

"Tradestore's objects" are derived, never listed by hand: the tables, indexes and constraint
names of ``Base.metadata`` (the models Alembic's compare holds the migrations to), the version
table, the views the read side declares (``tradestore.analytics.schema.VIEWS``), the functions
revision 0004 creates (``POSTGRESQL_FUNCTIONS``) and the expression index the models cannot
declare (``tradestore.migrate.UNMODELLED_INDEXES``), and on a partitioned PostgreSQL
database the partitions and the fill_id guard (``tradestore.db.partitioning``). The tests
check that a freshly migrated database holds exactly these objects, so the derivation cannot
drift from the migrations.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, text
from sqlalchemy.dialects import postgresql

from tradestore.analytics.schema import POSTGRESQL_FUNCTIONS, VIEWS
from tradestore.db import partitioning
from tradestore.migrate import UNMODELLED_INDEXES, VERSION_TABLE
from tradestore.models import Base


@dataclass(frozen=True, order=True)
class SchemaObject:
    #: "table", "view", "index", "trigger", "rule", "function", "constraint", "policy", ...
    kind: str
    name: str
    #: The table a trigger, rule, index, constraint or policy belongs to.
    table: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.table}.{self.name}" if self.table else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Expected:
    tables: frozenset[str]
    views: frozenset[str]
    indexes: frozenset[str]
    functions: frozenset[str]
    #: (table, constraint name).
    constraints: frozenset[tuple[str, str]]


@cache
def expected_objects() -> Expected:
    """Tradestore's objects, from the models and the read side's declarations."""
    preparer = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
    tables = frozenset({*Base.metadata.tables, VERSION_TABLE})
    indexes = {index.name for table in Base.metadata.tables.values() for index in table.indexes}
    constraints = {(VERSION_TABLE, f"{VERSION_TABLE}_pkc")}  # Alembic's name for its key
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            name = preparer.format_constraint(constraint)
            if name:
                constraints.add((table.name, str(name).strip('"')))
    return Expected(
        tables=tables,
        views=frozenset(view.name for view in VIEWS),
        indexes=frozenset(str(name) for name in indexes if name) | UNMODELLED_INDEXES,
        functions=frozenset(POSTGRESQL_FUNCTIONS),
        constraints=frozenset(constraints),
    )


def foreign(
    objects: Iterable[SchemaObject], *, also_views: Iterable[str] = ()
) -> list[SchemaObject]:
    """The objects that are not tradestore's, sorted. ``also_views``: views the caller
    requires as well (``verify_database(views=...)``), so accepted as expected."""
    expected = expected_objects()
    views = expected.views | set(also_views)
    found: set[SchemaObject] = set()
    for item in objects:
        if _partition_storage(item):
            continue
        if item.kind == "table":
            known = item.name in expected.tables
        elif item.kind == "view":
            known = item.name in views
        elif item.kind == "index":
            # A primary key's or unique constraint's index carries the constraint's name.
            known = item.name in expected.indexes or any(
                name == item.name for _table, name in expected.constraints
            )
        elif item.kind == "function":
            known = item.name in expected.functions
        elif item.kind == "constraint":
            known = (item.table or "", item.name) in expected.constraints
        else:  # triggers, rules, policies, materialized views, event triggers: never ours
            known = False
        if not known:
            found.add(item)
    return sorted(found)


def _partition_storage(item: SchemaObject) -> bool:
    """Revision 0016's partitions (and what PostgreSQL clones onto them from their parent:
    indexes, constraints, triggers) and the fill_id guard with its triggers."""
    if item.table is not None and partitioning.is_partition_name(item.table):
        return True
    if item.kind in ("table", "index") and partitioning.is_partition_object_name(item.name):
        return True
    if item.kind == "table":
        return item.name in partitioning.GUARD_TABLES
    if item.kind == "index":
        return item.name in partitioning.GUARD_INDEXES
    if item.kind == "constraint":
        return (item.table or "", item.name) in partitioning.GUARD_CONSTRAINTS
    if item.kind == "trigger":
        return item.table == "fills" and item.name in partitioning.GUARD_TRIGGERS
    if item.kind == "function":
        return item.name in partitioning.GUARD_FUNCTIONS
    return False


def describe(objects: list[SchemaObject], limit: int = 10) -> str:
    shown = ", ".join(str(item) for item in objects[:limit])
    more = f" (and {len(objects) - limit} more)" if len(objects) > limit else ""
    return f"{len(objects)} not created by tradestore: {shown}{more}"


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_rows(rows: Iterable[tuple[str, str, str]]) -> list[SchemaObject]:
    objects = []
    for kind, name, table in rows:
        if name.startswith("sqlite_"):  # SQLite's own: autoindexes, sqlite_sequence, stat1
            continue
        owner = table if kind in ("index", "trigger") else None
        objects.append(SchemaObject(kind, name, owner))
    return objects


_SQLITE_MASTER = "SELECT type, name, tbl_name FROM sqlite_master"


def sqlite_objects(connection: Connection) -> list[SchemaObject]:
    return _sqlite_rows(connection.execute(text(_SQLITE_MASTER)).all())


def sqlite_file_objects(connection: sqlite3.Connection) -> list[SchemaObject]:
    return _sqlite_rows(connection.execute(_SQLITE_MASTER).fetchall())


# --- PostgreSQL ----------------------------------------------------------------------------------

_POSTGRES_OBJECTS = """
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table'
       WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'index' END,
       c.relname, CASE WHEN c.relkind IN ('i', 'I') THEN t.relname END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index x ON x.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = x.indrelid
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'i', 'I')
UNION ALL
SELECT 'trigger', g.tgname, c.relname FROM pg_trigger g
JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT g.tgisinternal AND n.nspname = current_schema()
UNION ALL
SELECT 'rule', r.rulename, c.relname FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND n.nspname = current_schema()
UNION ALL
SELECT 'policy', p.polname, c.relname FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
UNION ALL
SELECT 'constraint', k.conname, c.relname FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
UNION ALL
SELECT 'function', p.proname, NULL FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'event trigger', e.evtname, NULL FROM pg_event_trigger e
"""


def postgres_objects(connection: Connection) -> list[SchemaObject]:
    rows = connection.execute(text(_POSTGRES_OBJECTS)).all()
    return [SchemaObject(kind, name, table) for kind, name, table in rows]


#: pg_restore --list entries: ``<id>; <catalog oid> <oid> <DESC> <schema> <tag> <owner>``.
_TOC_LINE = re.compile(r"^\s*\d+;\s+\d+\s+\d+\s+(?P<rest>.+?)\s*$")
#: Entry kinds that describe an object (rather than its data, comment, owner or grants), the
#: longest first so "FK CONSTRAINT" wins over "CONSTRAINT"; the tag of the last group names
#: "<table> <object>".
_TOC_KINDS: tuple[tuple[str, str, bool], ...] = (
    ("EVENT TRIGGER", "event trigger", False),
    ("MATERIALIZED VIEW DATA", "", False),
    ("MATERIALIZED VIEW", "materialized view", False),
    ("FK CONSTRAINT", "constraint", True),
    ("CONSTRAINT", "constraint", True),
    ("CHECK CONSTRAINT", "constraint", True),
    ("FOREIGN TABLE", "foreign table", False),
    ("TABLE DATA", "", False),
    ("TABLE ATTACH", "", False),
    ("TABLE", "table", False),
    ("VIEW", "view", False),
    ("INDEX ATTACH", "", False),
    ("INDEX", "index", False),
    ("TRIGGER", "trigger", True),
    ("RULE", "rule", True),
    ("POLICY", "policy", True),
    ("FUNCTION", "function", False),
    ("PROCEDURE", "function", False),
    ("AGGREGATE", "function", False),
)


def dump_objects(listing: str) -> list[SchemaObject]:
    """The schema objects of a pg_dump custom-format file, from ``pg_restore --list``."""
    objects = []
    for line in listing.splitlines():
        match = _TOC_LINE.match(line)
        if match is None:
            continue
        rest = match["rest"]
        for desc, kind, on_table in _TOC_KINDS:
            if not rest.startswith(desc + " "):
                continue
            if not kind:
                break
            fields = rest[len(desc) + 1 :].split(" ")
            # schema, tag..., owner: the tag may hold spaces ("<table> <name>", signatures).
            tag = fields[1:-1] if len(fields) > 2 else fields[1:]
            if on_table and len(tag) >= 2:
                objects.append(SchemaObject(kind, tag[-1], tag[0]))
            else:
                name = " ".join(tag)
                if kind == "function":
                    name = name.split("(", 1)[0]
                objects.append(SchemaObject(kind, name, None))
            break
    return objects
