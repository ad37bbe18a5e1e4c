"""Helpers of the reliability tests: exact table state and the figures the tests report."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from sqlalchemy import Connection, select

from tradestore import Database
from tradestore.models import Base

#: test name -> figure name -> value (summed over repeated calls)
FIGURES: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


def record_figure(test: str, name: str, value: float) -> None:
    FIGURES[test][name] += value


def table_state(connection: Connection) -> dict[str, tuple[int, str]]:
    """Row count and a SHA-256 of every row (sorted) of every table: "unchanged" made exact."""
    state: dict[str, tuple[int, str]] = {}
    for table in Base.metadata.sorted_tables:
        rows = connection.execute(select(table)).all()
        encoded = sorted(repr(tuple(row)) for row in rows)
        digest = hashlib.sha256("\n".join(encoded).encode()).hexdigest()
        state[table.name] = (len(rows), digest)
    return state


def database_state(db: Database) -> dict[str, tuple[int, str]]:
    with db.connect() as connection:
        state = table_state(connection)
        connection.rollback()
    return state
