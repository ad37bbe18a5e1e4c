"""Intraday and manual snapshots on both backends: the intraday equity curve and per-symbol
P&L reads, and every daily reader (each view, the daily curve, the latest snapshot) giving
exactly the rows it gave before intraday rows were added."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from readside_data import BOTS, Dataset
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.domain.enums import SnapshotKind
from tradestore.errors import ValidationError

D = Decimal
#: v_position_summary's hours held follow the database server's clock between two readings.
CLOCK_COLUMNS = {"hours_held"}


def _daily_readers(db: Database) -> dict[str, Any]:
    """Every view's rows, and each bot's daily snapshot reads."""
    out: dict[str, Any] = {}
    with db.connect() as connection:
        for name in sorted(inspect(connection).get_view_names()):
            result = connection.execute(text(f"SELECT * FROM {name}"))
            kept = [i for i, c in enumerate(result.keys()) if c not in CLOCK_COLUMNS]
            rows = [tuple(row[i] for i in kept) for row in result]
            out[name] = sorted(rows, key=repr)
    for bot in BOTS:
        with db.unit_of_work(bot_id=bot, readonly=True) as uow:
            out[f"{bot} history"] = list(uow.snapshots.history())
            out[f"{bot} latest"] = uow.snapshots.latest()
            out[f"{bot} equity_curve"] = list(uow.analytics.equity_curve())
            out[f"{bot} performance_summary"] = list(uow.analytics.performance_summary())
    return out


def _intraday(db: Database, now: dt.datetime) -> None:
    for bot in BOTS:
        with db.unit_of_work(bot_id=bot) as uow:
            for hour in range(6):
                at = now - dt.timedelta(hours=6 - hour)
                uow.snapshots.record_intraday(
                    total_equity=D(100_000) + hour,
                    cash_balance=D(50_000),
                    snapshot_time=at,
                    by_symbol={"AAPL": {"realized_pnl": D(hour), "unrealized_pnl": D("0.5")}},
                )
            uow.snapshots.record_intraday(
                kind="manual", total_equity=D(99_000), cash_balance=D(50_000), snapshot_time=now
            )


def test_the_daily_readers_give_the_same_rows_after_intraday_snapshots(
    db: Database, seeded: Dataset
) -> None:
    before = _daily_readers(db)
    assert any(before[f"{bot} history"] for bot in BOTS)
    assert any(name.startswith("v_") and rows for name, rows in before.items())
    _intraday(db, seeded.now)
    after = _daily_readers(db)
    assert after == before


def test_intraday_equity_curve_and_symbol_pnl(db: Database, seeded: Dataset) -> None:
    _intraday(db, seeded.now)
    bot = BOTS[0]
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        every = uow.analytics.intraday_equity_curve()
        hourly = uow.analytics.intraday_equity_curve(kind="hourly")
        window = uow.analytics.intraday_equity_curve(
            start=seeded.now - dt.timedelta(hours=3), end=seeded.now
        )
        aapl = uow.analytics.symbol_pnl(ticker="AAPL")
        alias = uow.snapshots.intraday_equity_curve(kind=["hourly", SnapshotKind.MANUAL])
    assert [p.bot_id for p in every] == [bot] * 7
    assert [p.snapshot_kind for p in every][-1] == SnapshotKind.MANUAL
    assert [p.total_equity for p in hourly] == [D(100_000) + h for h in range(6)]
    times = [p.snapshot_time for p in every]
    assert times == sorted(times)
    assert [p.snapshot_time for p in window] == [
        seeded.now - dt.timedelta(hours=h) for h in (3, 2, 1)
    ]  # [start, end): the manual snapshot at ``end`` is left out
    assert [line.realized_pnl for line in aapl] == [D(h) for h in range(6)]
    assert [line.total_pnl for line in aapl] == [D(h) + D("0.5") for h in range(6)]
    assert list(alias) == list(every)
    with db.unit_of_work(readonly=True) as uow:  # every bot
        assert len(uow.analytics.intraday_equity_curve()) == 7 * len(BOTS)
        assert len(uow.analytics.symbol_pnl()) == 6 * len(BOTS)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "weekly"}),
        ("kind", {"kind": []}),
        ("start", {"start": dt.datetime(2024, 1, 1)}),
        ("end", {"start": dt.datetime(2024, 1, 2, tzinfo=dt.UTC), "end": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_arguments_name_the_field(db: Database, field: str, kwargs: dict[str, Any]) -> None:
    with db.unit_of_work(bot_id="alpha", readonly=True) as uow:
        with pytest.raises(ValidationError) as refused:
            uow.analytics.intraday_equity_curve(**kwargs)
        assert refused.value.field == field
        with pytest.raises(ValidationError) as refused:
            uow.analytics.symbol_pnl(**kwargs)
        assert refused.value.field == field
