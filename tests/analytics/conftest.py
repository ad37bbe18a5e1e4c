"""Fixtures of the read-side tests: ``seeded`` writes ``readside_data``'s data set."""

from __future__ import annotations

import datetime as dt

import pytest
from readside_data import Dataset, build, write

from tradestore import Database


@pytest.fixture
def now() -> dt.datetime:
    # Whole seconds, and far enough from every window edge the data set places rows at.
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def seeded(db: Database, now: dt.datetime) -> Dataset:
    data = build(now, db.dialect_name)
    with db.session() as session:
        write(session, data)
    return data
