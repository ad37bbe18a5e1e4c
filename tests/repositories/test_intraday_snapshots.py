"""Hourly, intraday and manual snapshots on both backends, with their per-symbol lines; the
daily snapshot of the same bot is another table and stays one row per day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.domain.enums import SnapshotKind
from tradestore.errors import BotNotFound, NotFound, ValidationError
from tradestore.repositories.snapshots import SymbolLine

D = Decimal
T0 = dt.datetime(2024, 3, 4, 14, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        uow.bots.register("beta")
    return "alpha"


def _count(db: Database, table: str) -> int:
    with db.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_record_read_back_and_breakdown(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        snapshot = uow.snapshots.record_intraday(
            total_equity=D("100250.75"),
            cash_balance=D(50_000),
            snapshot_time=T0,
            long_market_value=D("60250.75"),
            short_market_value=D(-10_000),
            positions_count=2,
            realized_pnl=D(120),
            unrealized_pnl=D("130.75"),
            total_trades=4,
            winning_trades=3,
            losing_trades=1,
            by_symbol={
                "AAPL": SymbolLine(
                    quantity=D(400), market_value=D("60250.75"), unrealized_pnl=D("250.75")
                ),
                "TSLA": {"quantity": D(-40), "market_value": D(-10_000), "realized_pnl": D(120),
                         "unrealized_pnl": D(-120)},
            },
        )  # fmt: skip
        lines = uow.snapshots.by_symbol(snapshot.snapshot_id)
        daily = uow.snapshots.latest()
    assert snapshot.snapshot_kind is SnapshotKind.HOURLY
    assert snapshot.snapshot_time == T0
    assert snapshot.win_rate == 0.75
    assert [(x.ticker, x.quantity, x.total_pnl) for x in lines] == [
        ("AAPL", D(400), D("250.75")),
        ("TSLA", D(-40), D(0)),
    ]
    assert daily is None  # the daily table is another one
    assert _count(db, "portfolio_snapshots") == 0


def test_same_kind_and_time_replaces_the_snapshot_and_its_lines(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.snapshots.record_intraday(
            total_equity=D(100), cash_balance=D(100), snapshot_time=T0,
            by_symbol={"AAPL": {"realized_pnl": D(1)}, "MSFT": {"realized_pnl": D(2)}},
        )  # fmt: skip
        again = uow.snapshots.record_intraday(
            total_equity=D(101), cash_balance=D(100), snapshot_time=T0,
            by_symbol={"AAPL": {"realized_pnl": D(3)}},
        )  # fmt: skip
        manual = uow.snapshots.record_intraday(
            kind="manual", total_equity=D(99), cash_balance=D(99), snapshot_time=T0,
            notes="before the rebalance",
        )  # fmt: skip
        lines = uow.snapshots.by_symbol(again.snapshot_id)
        assert uow.snapshots.by_symbol(manual.snapshot_id) == []
        history = uow.snapshots.intraday_history()
        manual_only = uow.snapshots.intraday_history(kind="manual")
    assert again.snapshot_id == first.snapshot_id
    assert again.total_equity == D(101)
    assert [(x.ticker, x.realized_pnl) for x in lines] == [("AAPL", D(3))]
    assert [s.snapshot_kind for s in history] == [SnapshotKind.HOURLY, SnapshotKind.MANUAL]
    assert [s.notes for s in manual_only] == ["before the rebalance"]
    assert _count(db, "intraday_snapshot_symbols") == 1


def test_history_window_and_pages(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for hour in range(5):
            uow.snapshots.record_intraday(
                total_equity=D(100 + hour), cash_balance=D(100), snapshot_time=T0 + hour * HOUR
            )
        window = uow.snapshots.intraday_history(T0 + HOUR, T0 + 3 * HOUR)
        page = uow.snapshots.intraday_history(limit=2, offset=3)
        aapl = uow.snapshots.symbol_pnl("AAPL")
    assert [s.total_equity for s in window] == [D(101), D(102)]
    assert [s.total_equity for s in page] == [D(103), D(104)]
    assert aapl == []


def test_snapshots_are_per_bot(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id="beta") as uow:
        theirs = uow.snapshots.record_intraday(
            total_equity=D(1), cash_balance=D(1), by_symbol={"AAPL": {}}
        )
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.snapshots.intraday_history() == []
        assert uow.snapshots.symbol_pnl() == []
        with pytest.raises(NotFound, match="intraday snapshot"):
            uow.snapshots.by_symbol(theirs.snapshot_id)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "daily"}),
        ("total_equity", {"total_equity": "lots"}),
        ("snapshot_time", {"snapshot_time": dt.datetime(2024, 3, 4)}),
        ("winning_trades", {"total_trades": 1, "winning_trades": 1, "losing_trades": 1}),
        ("positions_count", {"positions_count": -1}),
        ("by_symbol", {"by_symbol": ["AAPL"]}),
        ("by_symbol", {"by_symbol": {"": {}}}),
        ("by_symbol['AAPL']", {"by_symbol": {"AAPL": {"price": D(1)}}}),
        ("by_symbol['AAPL'].realized_pnl", {"by_symbol": {"AAPL": {"realized_pnl": "x"}}}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    db: Database, bot: str, field: str, kwargs: dict[str, object]
) -> None:
    values: dict[str, object] = {"total_equity": D(1), "cash_balance": D(1), **kwargs}
    with db.unit_of_work(bot_id=bot) as uow:
        with pytest.raises(ValidationError) as refused:
            uow.snapshots.record_intraday(**values)  # type: ignore[arg-type]
        assert refused.value.field == field
    assert _count(db, "intraday_snapshots") == 0


def test_unknown_bot(db: Database) -> None:
    with db.unit_of_work(bot_id="ghost") as uow, pytest.raises(BotNotFound):
        uow.snapshots.record_intraday(total_equity=D(1), cash_balance=D(1))
    assert _count(db, "intraday_snapshots") == 0
