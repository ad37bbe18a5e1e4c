"""SnapshotRepository on both backends: one row per bot per date, upserted in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.errors import BotNotFound, NotFound, ValidationError

D = Decimal
MONDAY = dt.date(2024, 3, 4)
DAY = dt.timedelta(days=1)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    return "alpha"


def rows(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT COUNT(*) FROM portfolio_snapshots")).scalar_one())


def test_record_and_read_back(db: Database, bot: str) -> None:
    at = dt.datetime(2024, 3, 4, 21, 0, tzinfo=dt.UTC)
    with db.unit_of_work(bot_id=bot) as uow:
        snapshot = uow.snapshots.record(
            snapshot_time=at,
            total_equity=D("100250.75"),
            cash_balance=D("50000"),
            long_market_value=D("60250.75"),
            short_market_value=D("-10000"),
            positions_count=3,
            buying_power=D("100000"),
            leverage=0.7,
            unrealized_pnl=D("250.75"),
            realized_pnl_today=D("12.5"),
            trades_today=4,
            wins_today=3,
            losses_today=1,
        )
    assert snapshot.snapshot_date == MONDAY  # from the snapshot time
    assert snapshot.snapshot_time == at
    assert snapshot.total_equity == D("100250.75")
    assert (snapshot.trades_today, snapshot.wins_today, snapshot.losses_today) == (4, 3, 1)
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.snapshots.get(MONDAY) == snapshot
        assert uow.snapshots.latest() == snapshot
        assert uow.snapshots.find(MONDAY) == snapshot
        assert uow.snapshots.find(MONDAY + DAY) is None
        with pytest.raises(NotFound, match="snapshot") as missing:
            uow.snapshots.get(MONDAY + DAY)
        assert missing.value.key == MONDAY + DAY


def test_a_second_record_the_same_day_updates_in_place(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.snapshots.record(
            snapshot_date=MONDAY, total_equity=D(100), cash_balance=D(100), trades_today=1
        )
    with db.unit_of_work(bot_id=bot) as uow:
        second = uow.snapshots.record(
            snapshot_date=MONDAY, total_equity=D(105), cash_balance=D(40), positions_count=2
        )
    assert second.snapshot_id == first.snapshot_id
    assert second.created_at == first.created_at
    assert (second.total_equity, second.cash_balance, second.positions_count) == (
        D(105),
        D(40),
        2,
    )
    assert second.trades_today == 0  # the whole row is replaced, not merged
    assert rows(db) == 1


def test_daily_and_cumulative_figures_are_derived_when_omitted(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("funded", starting_balance=D(1000))
        uow.bots.register("unfunded")
    for bot_id in ("funded", "unfunded"):
        with db.unit_of_work(bot_id=bot_id) as uow:
            day1 = uow.snapshots.record(
                snapshot_date=MONDAY, total_equity=D(1010), cash_balance=D(1010)
            )
            day2 = uow.snapshots.record(
                snapshot_date=MONDAY + DAY, total_equity=D("1030.2"), cash_balance=D(1000)
            )
            given = uow.snapshots.record(
                snapshot_date=MONDAY + 2 * DAY,
                total_equity=D(1000),
                cash_balance=D(1000),
                daily_pnl=D(-1),
                cumulative_return_pct=-9.0,
            )
        assert day1.daily_pnl is None  # nothing before it
        assert day1.daily_return_pct is None
        assert day2.daily_pnl == D("20.2")
        assert day2.daily_return_pct == pytest.approx(2.0)
        assert given.daily_pnl == D(-1)  # passed values are stored as given
        assert given.daily_return_pct == pytest.approx((1000 / 1030.2 - 1) * 100)
        assert given.cumulative_return_pct == -9.0
        if bot_id == "funded":  # against the starting balance
            assert (day1.cumulative_pnl, day1.cumulative_return_pct) == (D(10), 1.0)
            assert day2.cumulative_pnl == D("30.2")
        else:  # against the first snapshot
            assert (day1.cumulative_pnl, day1.cumulative_return_pct) == (D(0), 0.0)
            assert day2.cumulative_return_pct == pytest.approx(2.0)


def test_history_and_equity_curve(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for i, equity in enumerate(("100", "110", "99", "120")):
            uow.snapshots.record(
                snapshot_date=MONDAY + i * DAY, total_equity=D(equity), cash_balance=D(0)
            )
    with db.unit_of_work(bot_id=bot) as uow:
        curve = uow.snapshots.equity_curve(MONDAY + DAY, MONDAY + 2 * DAY)
        assert [(p.snapshot_date, p.total_equity) for p in curve] == [
            (MONDAY + DAY, D(110)),
            (MONDAY + 2 * DAY, D(99)),
        ]
        assert curve[1].daily_return_pct == pytest.approx(-10.0)
        assert curve[1].cumulative_return_pct == pytest.approx(-1.0)
        assert curve == uow.analytics.equity_curve(start=MONDAY + DAY, end=MONDAY + 2 * DAY)
        assert len(uow.snapshots.equity_curve()) == 4
        assert [s.total_equity for s in uow.snapshots.history(start=MONDAY + 2 * DAY)] == [
            D(99),
            D(120),
        ]
        page = uow.snapshots.history(limit=2, offset=1)
        assert [s.total_equity for s in page] == [D(110), D(99)]
        assert uow.snapshots.latest(on_or_before=MONDAY + DAY).total_equity == D(110)  # type: ignore[union-attr]
        assert uow.snapshots.latest(on_or_before=MONDAY - DAY) is None
        with pytest.raises(ValidationError):
            uow.snapshots.equity_curve(MONDAY + DAY, MONDAY)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("total_equity", {"total_equity": float("nan")}),
        ("cash_balance", {"cash_balance": "x"}),
        ("long_market_value", {"long_market_value": D(-1)}),
        ("positions_count", {"positions_count": -1}),
        ("trades_today", {"trades_today": 1.0}),
        ("wins_today", {"trades_today": 2, "wins_today": 2, "losses_today": 1}),
        ("leverage", {"leverage": -0.1}),
        ("daily_return_pct", {"daily_return_pct": float("inf")}),
        ("snapshot_time", {"snapshot_time": dt.datetime(2024, 3, 4, 12)}),
        ("snapshot_date", {"snapshot_date": dt.datetime(2024, 3, 4, 12)}),  # naive
    ],
)
def test_record_validates_and_writes_nothing(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {"total_equity": D(100), "cash_balance": D(100)}
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.snapshots.record(**arguments)
    assert info.value.field == field
    assert rows(db) == 0


def test_record_for_an_unregistered_bot(db: Database) -> None:
    with pytest.raises(BotNotFound), db.unit_of_work(bot_id="ghost") as uow:
        uow.snapshots.record(total_equity=D(1), cash_balance=D(1))
