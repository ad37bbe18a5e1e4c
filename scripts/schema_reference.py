#!/usr/bin/env python3
"""Regenerate the table reference in docs/reference/schema.md from the models.

    python scripts/schema_reference.py          # rewrite the generated section
    python scripts/schema_reference.py --check  # exit 1 if docs/reference/schema.md is stale

The prose of docs/reference/schema.md (decisions, conventions) is written by hand; the per-table
column, constraint and index lists between the two markers are generated, so the reference
cannot drift from the schema (a test runs --check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import CheckConstraint, Enum, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import False_

from tradestore.models import Base

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "schema.md"
BEGIN = "<!-- BEGIN GENERATED TABLE REFERENCE (scripts/schema_reference.py) -->"
END = "<!-- END GENERATED TABLE REFERENCE -->"
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
                columns = ", ".join(c.name for c in index.columns)
                unique = "UNIQUE " if index.unique else ""
                out.append(f"- `{index.name}`: {unique}({columns})")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate docs/reference/schema.md's table reference"
    )
    parser.add_argument("--check", action="store_true", help="fail if the reference is stale")
    args = parser.parse_args(argv)
    text = DOC.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n\n{render()}\n{END}{tail}"
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


if __name__ == "__main__":
    sys.exit(main())
