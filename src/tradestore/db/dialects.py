"""Dialect differences in one place.

SQLite and PostgreSQL share ``INSERT ... ON CONFLICT``; SQLAlchemy exposes it through each
dialect's own ``insert()``. Repositories ask here instead of branching on the dialect name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert_insert(name: str, table: Table | Any) -> Any:
    """An ``insert()`` that supports ``on_conflict_do_nothing/do_update`` on backend ``name``."""
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert support for {name}")
