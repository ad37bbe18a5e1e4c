"""The bulk paths store what Core stores, skip replays, and are seen by the cursor events."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql

from tradestore import Database
from tradestore.db import bulk
from tradestore.db.executor import Prepared
from tradestore.db.types import Money, Real, UTCDateTime, storage
from tradestore.errors import IntegrityViolation

probe_metadata = MetaData()
#: Fixed-width columns only: PostgreSQL takes them as binary COPY.
numbers = Table(
    "bulk_probe_numbers",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("n", Integer),
    Column("at", UTCDateTime()),
    Column("ratio", Real()),
)
#: Amounts and text: CSV COPY.
amounts = Table(
    "bulk_probe_amounts",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("owner", String(16), nullable=False),
    Column("amount", Money()),
    Column("at", UTCDateTime()),
    Column("note", String(32)),
)
EASTERN = dt.timezone(dt.timedelta(hours=-5))
OWNER = {"owner": "bot-1"}
T0 = dt.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def probe_db(db: Database) -> Iterator[Database]:
    """The test's database with tables of its own, dropped afterwards (on PostgreSQL the
    session shares one database, and ``db verify`` tests would see them as foreign)."""
    with db.engine.begin() as conn:
        probe_metadata.create_all(conn)
    yield db
    with db.engine.begin() as conn:
        probe_metadata.drop_all(conn)


NUMBERS = {
    "id": [1, 2, 3],
    "n": [10, None, 2**31 - 1],
    "at": [T0, T0.astimezone(EASTERN), None],
    "ratio": [math.nan, -math.inf, None],
}
AMOUNTS = {
    "id": [1, 2],
    "amount": [Decimal("0.000000000000000001"), Decimal("12345.678")],
    "at": [T0.astimezone(EASTERN), None],
    "note": ['comma, "quote"\nnewline', None],
}


def _core_copy(db: Database, probe: Table, columns: dict[str, list[Any]], **constants: Any) -> None:
    """The same rows written through Core, into ids shifted by 100: the reference."""
    rows = [
        dict(zip(columns, values, strict=True)) | constants
        for values in zip(*columns.values(), strict=True)
    ]
    for row in rows:
        row["id"] += 100
    with db.engine.begin() as conn:
        conn.execute(insert(probe), rows)


def _stored(db: Database, probe: Table) -> dict[int, tuple[Any, ...]]:
    """The rows as the database holds them, raw (not through the column types)."""
    names = ", ".join(c.name for c in probe.columns if c.name != "id")
    with db.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, {names} FROM {probe.name}")).all()
    return {row[0] % 100: tuple(row[1:]) for row in rows}


def _same(a: dict[int, tuple[Any, ...]], b: dict[int, tuple[Any, ...]]) -> bool:
    def key(value: Any) -> Any:
        return "nan" if isinstance(value, float) and math.isnan(value) else value

    return {k: tuple(map(key, v)) for k, v in a.items()} == {
        k: tuple(map(key, v)) for k, v in b.items()
    }


@pytest.mark.parametrize(("probe", "columns", "constants", "fmt"), [
    (numbers, NUMBERS, {}, "binary"),
    (amounts, AMOUNTS, OWNER, "csv"),
])  # fmt: skip
def test_insert_rows_stores_what_core_stores_and_skips_replays(
    probe_db: Database,
    probe: Table,
    columns: dict[str, list[Any]],
    constants: dict[str, Any],
    fmt: bulk.CopyFormat,
) -> None:
    with probe_db.unit_of_work() as uow:
        inserted = bulk.insert_rows(
            uow.executor,
            probe,
            columns,
            constants=constants,
            skip_conflicts_on=["id"],
            format=fmt,
        )
        again = bulk.insert_rows(
            uow.executor,
            probe,
            columns,
            constants=constants,
            skip_conflicts_on=["id"],
            format=fmt,
        )
    assert (inserted, again) == (len(columns["id"]), 0)
    ours = _stored(probe_db, probe)
    with probe_db.engine.begin() as conn:
        conn.execute(probe.delete())
    _core_copy(probe_db, probe, columns, **constants)
    assert _same(ours, _stored(probe_db, probe))


def test_copy_without_a_conflict_key_refuses_a_taken_key(probe_db: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    with probe_db.unit_of_work() as uow:
        assert bulk.copy_rows(uow.executor, amounts, AMOUNTS, constants=OWNER, format="csv") == 2
    with pytest.raises(IntegrityViolation), probe_db.unit_of_work() as uow:
        bulk.copy_rows(uow.executor, amounts, AMOUNTS, constants=OWNER, format="csv")


def test_every_bulk_statement_reaches_the_cursor_events(probe_db: Database, backend: str) -> None:
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(probe_db.engine, "before_cursor_execute", listen)
    try:
        with probe_db.unit_of_work() as uow:
            bulk.insert_rows(uow.executor, numbers, NUMBERS, skip_conflicts_on=["id"])
    finally:
        event.remove(probe_db.engine, "before_cursor_execute", listen)
    if backend == "postgresql":
        assert seen[seen.index("CREATE") :] == [
            "CREATE",
            "COPY",
            "INSERT",
            "TRUNCATE",
        ]
    else:
        assert "INSERT" in seen


def test_run_many_binds_each_name_by_its_type_wherever_the_statement_uses_it(
    probe_db: Database, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("executemany of driver values is SQLite's path")
    twice = Prepared(
        update(amounts)
        .where(amounts.c.id == bindparam("key"))
        .values(
            amount=bindparam("a", type_=Money()),
            note=bindparam("who", type_=String()) + "/" + bindparam("who", type_=String()),
            owner=bindparam("who", type_=String()),
        ),
        name="test.bulk.update",
    )
    with probe_db.unit_of_work() as uow:
        bulk.insert_rows(uow.executor, amounts, AMOUNTS, constants={"owner": "o"})
        updated = bulk.run_many(
            uow.executor,
            twice,
            {"key": [1, 2], "a": [Decimal("1.5"), Decimal("2.25")]},
            constants={"who": "me"},
        )
    assert updated == 2
    with probe_db.engine.connect() as conn:
        rows = conn.execute(select(amounts.c.amount, amounts.c.note).order_by("id")).all()
    assert rows == [(Decimal("1.5"), "me/me"), (Decimal("2.25"), "me/me")]


def test_copy_binary_frames_every_row() -> None:
    dialect = postgresql.dialect()
    kinds = [storage(numbers.c[name].type, dialect) for name in NUMBERS]
    full = [[1, 2, 3], [4, 5, 6], [T0, T0, T0], [0.5, math.nan, math.inf]]
    data = bulk.copy_binary(kinds, full, 3)
    assert data.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert data.endswith(b"\xff\xff")
    # 19-byte header, per row: 2-byte field count + (4-byte length + value) per field.
    per_row = 2 + 2 * (4 + 4) + 2 * (4 + 8)
    assert len(data) == 19 + 3 * per_row + 2
    # NULL is a length of -1 with no value.
    sparse = bulk.copy_binary(kinds, list(NUMBERS.values()), 3)
    assert len(sparse) == 19 + 3 * per_row + 2 - 4 - 8 - 8  # one NULL int, time and double
    with pytest.raises(TypeError, match="csv"):
        bulk.copy_binary([storage(Money(), dialect)], [[Decimal(1)]], 1)
