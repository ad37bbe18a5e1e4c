"""Rows: the typed result container, and its DataFrames (pandas is an optional extra)."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal

import pytest
from readside_data import Dataset

from tradestore import Database
from tradestore.analytics import Analytics, ClosedTrade, Rows
from tradestore.domain.enums import PositionSide


@dataclass(frozen=True, slots=True)
class Point:
    when: dt.datetime | None
    side: PositionSide
    amount: Decimal
    ratio: float | None


POINTS = [
    Point(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), PositionSide.LONG, Decimal("1.10"), 0.5),
    Point(None, PositionSide.SHORT, Decimal("-2.25"), None),
]


def test_rows_is_an_immutable_sequence():
    rows = Rows(Point, POINTS)
    assert len(rows) == 2
    assert rows[1].side is PositionSide.SHORT
    assert list(rows) == POINTS
    assert isinstance(rows[:1], Rows)
    assert rows[:1].row_type is Point
    assert list(rows[:1]) == POINTS[:1]
    assert rows.first() == POINTS[0]
    assert Rows(Point).first() is None
    assert rows == Rows(Point, POINTS)
    assert rows != Rows(Point, POINTS[:1])
    assert rows.columns == ("when", "side", "amount", "ratio")
    assert repr(rows) == "Rows[Point](2 rows)"
    assert rows.to_dicts()[0]["amount"] == Decimal("1.10")
    with pytest.raises(FrozenInstanceError):
        rows[0].amount = Decimal(0)  # type: ignore[misc]


def test_rows_need_a_dataclass():
    with pytest.raises(TypeError):
        Rows(dict, [])


def test_to_dataframe_keeps_columns_and_exact_money():
    frame = Rows(Point, POINTS).to_dataframe()
    assert list(frame.columns) == ["when", "side", "amount", "ratio"]
    assert str(frame["when"].dtype).startswith("datetime64")
    assert "UTC" in str(frame["when"].dtype)
    assert frame["when"].iloc[0].isoformat() == "2026-01-02T03:04:05+00:00"
    assert frame["side"].tolist() == ["long", "short"]  # enum members become their values
    assert frame["amount"].tolist() == [Decimal("1.10"), Decimal("-2.25")]
    as_float = Rows(Point, POINTS).to_dataframe(decimals_as_float=True)
    assert as_float["amount"].dtype == "float64"
    assert as_float["amount"].tolist() == [1.1, -2.25]


def test_empty_dataframe_still_has_the_columns():
    frame = Rows(ClosedTrade).to_dataframe()
    assert frame.empty
    assert list(frame.columns) == list(Rows(ClosedTrade).columns)


def test_to_dataframe_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=r"pip install 'tradestore\[pandas\]'"):
        Rows(Point, POINTS).to_dataframe()


def test_analytics_results_convert(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id="alpha").recent_closed_trades(limit=5)
        summary = Analytics(session, bot_id="alpha").daily_summary(now=seeded.now)
    frame = rows.to_dataframe()
    assert len(frame) == 5
    assert frame["realized_pnl"].tolist() == [r.realized_pnl for r in rows]
    assert set(frame["outcome"]) <= {"WIN", "LOSS", "BREAKEVEN"}
    assert str(frame["closed_at"].dtype) == "datetime64[ns, UTC]" or "UTC" in str(
        frame["closed_at"].dtype
    )
    assert summary.to_dataframe()["trade_date"].tolist() == [r.trade_date for r in summary]


def test_a_column_of_only_none_stays_none():
    frame = Rows(Point, [POINTS[1]]).to_dataframe()
    assert frame["when"].tolist() == [None]
