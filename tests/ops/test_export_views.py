"""Exporting tradestore's views gives the values the analytics API reads, on both backends.

SQLite hands a view's columns back as doubles and text, and reflection knows no better type,
so before exports read views with the read side's declarations (``tradestore.analytics.
schema``) a money column came out as ``249.840000000000003411`` and an instant without its
time zone. Every view is exported in every format, parsed back by the column's declared type
and compared, as a multiset of rows, with the rows the read side selects from the same view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import io
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, Integer, String, TableClause, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeEngine

from sibling import load
from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.analytics.schema import VIEWS
from tradestore.db.types import Money, OpenChoice, Real, UTCDateTime
from tradestore.ops.export import FORMATS, export_table

readside_data = load("analytics/readside_data.py")


@pytest.fixture
def filled(db: Database) -> Database:
    data = readside_data.build(dt.datetime.now(dt.UTC).replace(microsecond=0), db.dialect_name)
    with db.session() as session:
        readside_data.write(session, data)
    return db


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _api_rows(db: Database, view: TableClause) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.execute(select(view)).mappings().all()
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _from_text(type_: TypeEngine[Any]) -> Callable[[str], Any]:
    """How a CSV field (or a JSON string) of this declared type reads back."""
    if isinstance(type_, Money):
        return Decimal
    if isinstance(type_, UTCDateTime | DateTime):
        return dt.datetime.fromisoformat
    if isinstance(type_, Date):
        return dt.date.fromisoformat
    if isinstance(type_, Real):
        return float
    if isinstance(type_, Integer):
        return int
    assert isinstance(type_, SAEnum | String | OpenChoice), type_
    return str


def _parse_csv(text: str, view: TableClause) -> list[dict[str, Any]]:
    import csv

    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == [column.name for column in view.columns]
    return [
        {
            column.name: None
            if row[column.name] == ""
            else _from_text(column.type)(row[column.name])
            for column in view.columns
        }
        for row in reader
    ]


def _parse_jsonl(text: str, view: TableClause) -> list[dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        raw = json.loads(line, parse_float=Decimal)
        assert list(raw) == [column.name for column in view.columns]
        row = {}
        for column in view.columns:
            value = raw[column.name]
            if value is None:
                row[column.name] = None
            elif isinstance(column.type, Money):
                assert isinstance(value, Decimal | int), (column.name, value)
                row[column.name] = Decimal(value)
            elif isinstance(value, str):
                row[column.name] = _from_text(column.type)(value)
            elif isinstance(column.type, Real):
                row[column.name] = float(value)
            else:
                row[column.name] = value
        rows.append(row)
    return rows


def _parse_parquet(data: bytes, view: TableClause) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    assert table.schema.names == [column.name for column in view.columns]
    for column in view.columns:
        field = table.schema.field(column.name)
        if isinstance(column.type, Money):
            assert field.type == pa.decimal128(38, 18), column.name
        elif isinstance(column.type, UTCDateTime):
            assert field.type == pa.timestamp("us", tz="UTC"), column.name
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _export(db: Database, view: str, format: str) -> str | bytes:
    if format == "parquet":
        pytest.importorskip("pyarrow")
        binary = io.BytesIO()
        export_table(db, view, binary, format=format)
        return binary.getvalue()
    stream = io.StringIO()
    export_table(db, view, stream, format=format)
    return stream.getvalue()


def _key(row: dict[str, Any]) -> str:
    """An order for rows of any types (a view has no primary key to sort exports by)."""
    return repr(
        sorted(
            (key, "nan" if isinstance(value, float) and math.isnan(value) else value)
            for key, value in row.items()
        )
    )


#: Columns computed from the database's clock: two reads a moment apart differ in them.
CLOCK_COLUMNS = {"v_position_summary": {"hours_held": 1 / 60}}  # tolerance: a minute


def _without_clock(
    name: str, exported: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    """Check the clock columns row by row within their tolerance, then drop them."""
    for column, tolerance in CLOCK_COLUMNS.get(name, {}).items():
        pairs = zip(
            sorted(exported, key=lambda row: _key({**row, column: None})),
            sorted(expected, key=lambda row: _key({**row, column: None})),
            strict=True,
        )
        for mine, theirs in pairs:
            assert math.isclose(mine[column], theirs[column], abs_tol=tolerance), column
            assert isinstance(mine.pop(column), float)
            theirs.pop(column)


def _canonical(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN made comparable (NaN != NaN) and instants checked to be aware."""
    result = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            if isinstance(value, dt.datetime):
                assert value.utcoffset() == dt.timedelta(0), (key, value)
                value = value.astimezone(dt.UTC)
            if isinstance(value, float) and math.isnan(value):
                value = "NaN"
            clean[key] = value
        result.append(clean)
    return sorted(result, key=_key)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.name)
def test_view_export_matches_the_read_side(
    filled: Database, view: TableClause, format: str
) -> None:
    expected = _api_rows(filled, view)
    assert expected, f"the data set leaves {view.name} empty: the comparison would prove nothing"
    exported = _export(filled, view.name, format)
    if format == "csv":
        assert isinstance(exported, str)
        rows = _parse_csv(exported, view)
    elif format == "jsonl":
        assert isinstance(exported, str)
        rows = _parse_jsonl(exported, view)
    else:
        assert isinstance(exported, bytes)
        rows = _parse_parquet(exported, view)
    _without_clock(view.name, rows, expected)
    assert _canonical(rows) == _canonical(expected)


def test_view_export_matches_the_public_analytics_calls(filled: Database) -> None:
    """The analytics calls that return a whole view agree with its export (CSV)."""
    with filled.session() as session:
        analytics = Analytics(session)
        calls = {
            "v_position_summary": analytics.position_summary(),
            "v_paper_active_positions": analytics.active_positions(),
            "v_order_fill_stats": analytics.order_fill_stats(),
            "v_equity_curve": analytics.equity_curve(),
        }
    declared = {view.name: view for view in VIEWS}
    for name, result in calls.items():
        view = declared[name]
        exported = _parse_csv(str(_export(filled, name, "csv")), view)
        api = [
            {key: _plain(value) for key, value in dataclasses.asdict(row).items() if key in view.c}
            for row in result
        ]
        assert api, name
        _without_clock(name, exported, api)
        shared = set(api[0])
        assert {"bot_id"} < shared, (name, shared)
        assert _canonical(api) == _canonical(
            [{key: value for key, value in row.items() if key in shared} for row in exported]
        ), name
