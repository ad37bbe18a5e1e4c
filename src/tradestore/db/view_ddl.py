"""Keeping SQL views alive while a revision alters the tables under them.

Revision 0004 creates tradestore's views with literal SQL. Two things break views later:

* **SQLite**: Alembic's batch mode rebuilds a table (create a copy, move the rows, drop the
  original, rename the copy). SQLite checks every view when the copy is renamed and fails:
  ``error in view v_recent_orders: no such table: main.orders``.
* **PostgreSQL** refuses ``ALTER COLUMN ... TYPE`` on a column a view reads, even widening a
  ``VARCHAR`` ("cannot alter type of a column used by a view or rule"), and ``DROP COLUMN``.

**The rule**: a revision that alters a table wraps the alteration in ``preserved_views``::

    from tradestore.db.view_ddl import preserved_views

    def upgrade() -> None:
        with preserved_views("orders"):
            with op.batch_alter_table("orders") as batch:
                batch.alter_column("ticker", type_=sa.String(64))

It reads the definitions of the views that depend on the named tables *from the database*
(``pg_get_viewdef`` / ``sqlite_master``), drops them (dependents first), runs the block and
creates them again exactly as they were. It therefore never holds a copy of any view's SQL
that could go stale: an old revision means the same thing forever. A revision that also
changes a view says so inside the block, with the new SQL written out in full in the
revision::

        with preserved_views("orders") as views:
            ...
            views.redefine("v_recent_orders", "SELECT ... FROM orders ...")

(or ``views.discard(name)`` to leave one dropped). If a view no longer fits its table, for
instance because a column it reads was dropped, re-creating it fails and the revision rolls
back: that view must be redefined. Plain ``op.create_index`` / ``op.add_column`` need no
wrapping on either backend; only table rebuilds (SQLite batch) and column type changes or
drops (PostgreSQL) do.

A table rebuild on SQLite has a second casualty besides views: with foreign keys enforced,
dropping the original table would cascade into its children (rebuilding ``orders`` would
delete every fill). ``tradestore.migrate`` therefore runs revisions on SQLite with
``foreign_keys`` off and checks them after each revision; nothing to do in the revision.

On PostgreSQL, dependencies come from ``pg_depend`` (so views of any schema or application
are found, transitively), and each view's options (``security_barrier``...), comment, owner
and grants are restored; column comments and ``INSTEAD OF`` triggers on views are not.
SQLite records no dependencies: a view depends on a table when its SQL names the table (a
whole-word match, so a false positive only costs a needless drop and re-create), or names a
view that does. SQL functions are not touched: tradestore's are PL/pgSQL, which PostgreSQL
does not tie to the tables they read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, text


@dataclass
class SavedView:
    """One view as the database defined it when ``preserved_views`` began."""

    #: The name used in SQL (schema-qualified on PostgreSQL, e.g. ``public.v_recent_orders``).
    qualified_name: str
    #: The bare name, the key in ``PreservedViews``.
    name: str
    #: The statements that create it again, in order.
    statements: list[str]


@dataclass
class PreservedViews:
    """What ``preserved_views`` yields: the views it dropped and will re-create."""

    dialect: str
    views: dict[str, SavedView] = field(default_factory=dict)
    discarded: set[str] = field(default_factory=set)

    @property
    def names(self) -> list[str]:
        """Bare names, in the order they will be re-created."""
        return list(self.views)

    def redefine(self, name: str, select_sql: str) -> None:
        """Re-create view ``name`` from ``select_sql`` instead of its old definition."""
        saved = self._get(name)
        create = f"CREATE VIEW {saved.qualified_name} AS {select_sql.strip().rstrip(';')}"
        saved.statements = [create, *saved.statements[1:]]

    def discard(self, name: str) -> None:
        """Leave view ``name`` dropped."""
        self._get(name)
        self.discarded.add(name)

    def _get(self, name: str) -> SavedView:
        try:
            return self.views[name]
        except KeyError:
            raise KeyError(
                f"view {name!r} does not depend on the preserved tables "
                f"(these do: {', '.join(self.views) or 'none'})"
            ) from None


@contextmanager
def preserved_views(*tables: str, connection: Connection | None = None) -> Iterator[PreservedViews]:
    """Drop the views that depend on ``tables`` for the duration of the block, then
    re-create them. Call it inside a revision's ``upgrade()`` / ``downgrade()``; pass
    ``connection`` only when running outside Alembic."""
    if not tables:
        raise ValueError("preserved_views needs at least one table name")
    bind = connection if connection is not None else _migration_connection()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        saved = _postgresql_dependents(bind, tables)
    elif dialect == "sqlite":
        saved = _sqlite_dependents(bind, tables)
    else:
        raise NotImplementedError(f"preserved_views does not support {dialect}")
    preserved = PreservedViews(dialect, {view.name: view for view in saved})
    for view in reversed(saved):
        _run(bind, f"DROP VIEW {view.qualified_name}")
    yield preserved
    for view in preserved.views.values():
        if view.name in preserved.discarded:
            continue
        for statement in view.statements:
            _run(bind, statement)


def _migration_connection() -> Connection:
    from alembic import op

    if op.get_context().as_sql:
        raise RuntimeError(
            "preserved_views reads view definitions from the database, so it cannot run in "
            "offline (--sql) mode"
        )
    return op.get_bind()


def _run(bind: Connection, sql: str) -> None:
    # Escape colons so text() reads none as a bind parameter ('HH24:MI:SS', '::date').
    bind.execute(text(sql.replace(":", "\\:")))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- PostgreSQL --------------------------------------------------------------------------------

_PG_DEPENDENTS = text(
    """
WITH RECURSIVE dependents(oid) AS (
    SELECT r.ev_class
    FROM pg_depend d
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = ANY(CAST(:tables AS regclass[])) AND r.ev_class <> d.refobjid
  UNION
    SELECT r.ev_class
    FROM dependents s
    JOIN pg_depend d ON d.refobjid = s.oid AND d.refclassid = 'pg_class'::regclass
                    AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> s.oid
)
SELECT c.oid, c.relname, CAST(c.relkind AS text) AS relkind,  -- "char": bytes on asyncpg
       format('%I.%I', n.nspname, c.relname) AS qualified_name,
       pg_get_viewdef(c.oid) AS definition,
       obj_description(c.oid, 'pg_class') AS comment,
       array_to_string(c.reloptions, ', ') AS options,
       quote_ident(pg_get_userbyid(c.relowner)) AS owner,
       quote_ident(current_user) AS current_owner
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid IN (SELECT oid FROM dependents)
ORDER BY c.oid
"""
)

_PG_GRANTS = text(
    """
SELECT a.privilege_type,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.is_grantable
FROM pg_class c, LATERAL aclexplode(c.relacl) a
WHERE c.oid = :oid AND a.grantee <> c.relowner
ORDER BY 2, 1
"""
)


def _postgresql_dependents(bind: Connection, tables: tuple[str, ...]) -> list[SavedView]:
    existing = [
        name
        for name in tables
        if bind.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None
    ]
    if not existing:
        return []
    saved: list[SavedView] = []
    # oid order is creation order, and a view can only read views that existed before it.
    for row in bind.execute(_PG_DEPENDENTS, {"tables": existing}).mappings():
        if row["relkind"] != "v":
            raise RuntimeError(
                f"{row['qualified_name']} (relkind {row['relkind']!r}) depends on "
                f"{', '.join(tables)}; preserved_views handles plain views only"
            )
        name = row["qualified_name"]
        options = f" WITH ({row['options']})" if row["options"] else ""
        definition = str(row["definition"]).strip().rstrip(";")
        statements = [f"CREATE VIEW {name}{options} AS {definition}"]
        if row["comment"] is not None:
            statements.append(f"COMMENT ON VIEW {name} IS {_literal(row['comment'])}")
        if row["owner"] != row["current_owner"]:
            statements.append(f"ALTER VIEW {name} OWNER TO {row['owner']}")
        for privilege, grantee, grantable in bind.execute(_PG_GRANTS, {"oid": row["oid"]}):
            option = " WITH GRANT OPTION" if grantable else ""
            statements.append(f"GRANT {privilege} ON {name} TO {grantee}{option}")
        saved.append(SavedView(name, str(row["relname"]), statements))
    return saved


# --- SQLite ------------------------------------------------------------------------------------


def _names(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", sql, re.IGNORECASE) is not None


def _sqlite_dependents(bind: Connection, tables: tuple[str, ...]) -> list[SavedView]:
    rows = bind.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid")
    ).all()
    views = {str(name): str(sql) for name, sql in rows}
    affected: set[str] = set()
    targets = set(tables)
    changed = True
    while changed:
        changed = False
        for name, sql in views.items():
            if name not in affected and any(_names(sql, target) for target in targets):
                affected.add(name)
                targets.add(name)
                changed = True
    # Creation order: a view after every view it names (rowid order breaks ties).
    ordered: list[str] = []
    pending = [name for name in views if name in affected]
    while pending:
        for name in pending:
            needs = [other for other in pending if other != name and _names(views[name], other)]
            if not needs:
                ordered.append(name)
                pending.remove(name)
                break
        else:  # a naming cycle cannot be real dependencies; keep catalogue order
            ordered.extend(pending)
            pending = []
    return [SavedView(f'"{name}"', name, [views[name]]) for name in ordered]
