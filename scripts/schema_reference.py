#!/usr/bin/env python3
"""Regenerate the entity-relationship diagram and the table reference in
docs/reference/schema.md from the models.

    python scripts/schema_reference.py          # rewrite the generated sections
    python scripts/schema_reference.py --check  # exit 1 if docs/reference/schema.md is stale

The prose of docs/reference/schema.md (decisions, conventions) is written by hand; the Mermaid
diagram and the per-table column, constraint and index lists between their markers are
generated from ``Base.metadata``, so neither can drift from the schema (a test runs --check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import CheckConstraint, Column, Enum, ForeignKeyConstraint, Index, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import False_, TextClause, UnaryExpression

from tradestore.models import Base

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "schema.md"
BEGIN = "<!-- BEGIN GENERATED TABLE REFERENCE (scripts/schema_reference.py) -->"
END = "<!-- END GENERATED TABLE REFERENCE -->"
DIAGRAM_BEGIN = "<!-- BEGIN GENERATED ER DIAGRAM (scripts/schema_reference.py) -->"
DIAGRAM_END = "<!-- END GENERATED ER DIAGRAM -->"
PG_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
SQLITE_DIALECT = sqlite.dialect()


def _check_sql(table: Table, constraint: CheckConstraint) -> str:
    name = str(constraint.name)
    short = name.removeprefix(f"ck_{table.name}_")
    column = table.columns.get(short)
    if column is not None and isinstance(column.type, Enum):
        values = ", ".join(f"'{v}'" for v in column.type.enums)
        return f"{column.name} IN ({values})"
    return str(constraint.sqltext)


def _index_keys(index: Index) -> str:
    """The index's key columns in order, ``DESC`` where it is descending."""
    keys = []
    for expression in index.expressions:
        if isinstance(expression, UnaryExpression) and isinstance(expression.element, Column):
            direction = " DESC" if expression.modifier is operators.desc_op else ""
            keys.append(f"{expression.element.name}{direction}")
        elif isinstance(expression, Column):
            keys.append(expression.name)
        else:
            keys.append(str(expression))
    return ", ".join(keys)


def _mermaid_type(column: Column[object]) -> str:
    """A one-word type for Mermaid (its attribute types take no spaces or arguments)."""
    compiled = column.type.compile(PG_DIALECT).lower().split("(")[0].strip()
    return {
        "timestamp with time zone": "timestamptz",
        "double precision": "double",
    }.get(compiled, compiled.replace(" ", "_"))


def _is_unique(table: Table, columns: list[str]) -> bool:
    """Whether ``columns`` (in any order) are the primary key or a unique index."""
    wanted = set(columns)
    if {c.name for c in table.primary_key.columns} == wanted:
        return True
    return any(
        index.unique and {c.name for c in index.columns} == wanted for index in table.indexes
    )


def render_diagram() -> str:
    """``erDiagram`` of every table: columns with PK / FK marks, one line per foreign key
    (``||--o|`` when the referencing columns are unique, one row per parent at most)."""
    out = ["```mermaid", "erDiagram"]
    tables = sorted(Base.metadata.sorted_tables, key=lambda t: t.name)
    for table in tables:
        out.append(f"    {table.name} {{")
        for column in table.columns:
            marks = [m for m, on in (("PK", column.primary_key), ("FK", column.foreign_keys)) if on]
            suffix = f" {', '.join(marks)}" if marks else ""
            out.append(f"        {_mermaid_type(column)} {column.name}{suffix}")
        out.append("    }")
    for table in tables:
        foreign_keys = sorted(
            (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)),
            key=lambda c: (c.referred_table.name, [col.name for col in c.columns]),
        )
        for fk in foreign_keys:
            columns = [column.name for column in fk.columns]
            many = "o|" if _is_unique(table, columns) else "o{"
            out.append(
                f'    {fk.referred_table.name} ||--{many} {table.name} : "{", ".join(columns)}"'
            )
    out.append("```")
    return "\n".join(out) + "\n"


def render() -> str:
    out: list[str] = []
    for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
        out.append(f"### `{table.name}`\n")
        if table.comment:
            out.append(f"{table.comment}\n")
        out.append("| column | PostgreSQL | SQLite | null | key / default |")
        out.append("|---|---|---|---|---|")
        for column in table.columns:
            notes = []
            if column.primary_key:
                notes.append("PK")
            for fk in sorted(column.foreign_keys, key=lambda f: f.target_fullname):
                notes.append(f"FK {fk.target_fullname} ON DELETE {fk.ondelete or 'NO ACTION'}")
            if column.server_default is not None:
                default = getattr(column.server_default, "arg", None)
                if isinstance(default, False_):
                    notes.append("default false")
                elif isinstance(default, TextClause) and default.text.startswith("'"):
                    notes.append(f"default {default.text}")
                else:
                    notes.append("default CURRENT_TIMESTAMP (tradestore writes its clock)")
            pg = column.type.compile(PG_DIALECT)
            lite = column.type.compile(SQLITE_DIALECT)
            null = "yes" if column.nullable else "no"
            out.append(f"| `{column.name}` | {pg} | {lite} | {null} | {'; '.join(notes)} |")
        out.append("")
        checks = sorted(
            (c for c in table.constraints if isinstance(c, CheckConstraint)),
            key=lambda c: str(c.name),
        )
        if checks:
            out.append("CHECK constraints:\n")
            for check in checks:
                name = str(check.name)
                full = name if name.startswith("ck_") else f"ck_{table.name}_{name}"
                out.append(f"- `{full}`: `{_check_sql(table, check)}`")
            out.append("")
        if table.indexes:
            out.append("Indexes:\n")
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                unique = "UNIQUE " if index.unique else ""
                where = index.dialect_options["postgresql"].get("where")
                partial = "" if where is None else f" WHERE {where}"
                out.append(f"- `{index.name}`: {unique}({_index_keys(index)}){partial}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate docs/reference/schema.md's table reference"
    )
    parser.add_argument("--check", action="store_true", help="fail if the reference is stale")
    args = parser.parse_args(argv)
    text = DOC.read_text()
    updated = _replace(text, DIAGRAM_BEGIN, DIAGRAM_END, render_diagram())
    updated = _replace(updated, BEGIN, END, render())
    if args.check:
        if updated != text:
            print(
                "docs/reference/schema.md is stale: run scripts/schema_reference.py",
                file=sys.stderr,
            )
            return 1
        return 0
    DOC.write_text(updated)
    return 0


def _replace(text: str, begin: str, end: str, body: str) -> str:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n\n{body}\n{end}{tail}"


if __name__ == "__main__":
    sys.exit(main())
