"""Several bots share one database: bot B never sees, changes or closes bot A's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tradestore import Database
from tradestore.domain.metrics import MetricValues
from tradestore.errors import PositionNotFound

D = Decimal
MONDAY = dt.date(2024, 3, 4)


@pytest.fixture
def two_bots(db: Database) -> tuple[str, str]:
    with db.unit_of_work() as uow:
        uow.bots.register("a", starting_balance=D(1000))
        uow.bots.register("b", starting_balance=D(2000))
    return "a", "b"


def test_positions_are_private(db: Database, two_bots: tuple[str, str]) -> None:
    with db.unit_of_work(bot_id="a") as uow:
        mine = uow.positions.open("AAPL", side="long", quantity=D(10), entry_price=D(100))
        uow.positions.open("MSFT", side="short", quantity=D(1), entry_price=D(300))
    with db.unit_of_work(bot_id="b") as uow:
        theirs = uow.positions.open("AAPL", side="long", quantity=D(5), entry_price=D(90))
        assert [p.position_id for p in uow.positions.list_open()] == [theirs.position_id]
        assert uow.positions.find(mine.position_id) is None
        with pytest.raises(PositionNotFound):
            uow.positions.get(mine.position_id)
        # marking AAPL for B leaves A's AAPL alone
        assert uow.positions.mark_to_market({"AAPL": D(120), "MSFT": D(1)}) == 1
        assert uow.positions.total_unrealized_pnl() == D(150)
    for quantity in (None, D(1)):
        with pytest.raises(PositionNotFound), db.unit_of_work(bot_id="b") as uow:
            uow.positions.close(
                mine.position_id, exit_price=D(1), exit_reason="manual", quantity=quantity
            )
    with db.unit_of_work(bot_id="a") as uow:
        assert uow.positions.get(mine.position_id) == mine
        assert len(uow.positions.list_open()) == 2
        uow.positions.close(mine.position_id, exit_price=D(110), exit_reason="manual")
    with db.unit_of_work(bot_id="b") as uow:
        assert uow.positions.list_closed() == []
        assert uow.positions.win_rate() is None
        assert uow.positions.best_performers() == []
        assert uow.positions.total_realized_pnl() == 0
        assert uow.positions.average_holding_period_by_exit_reason() == {}
    with db.unit_of_work(bot_id="a") as uow:
        assert uow.positions.win_rate() == 1.0


def test_snapshots_and_metrics_are_private(db: Database, two_bots: tuple[str, str]) -> None:
    for bot_id, equity in (("a", D(1000)), ("b", D(2000))):
        with db.unit_of_work(bot_id=bot_id) as uow:
            uow.snapshots.record(snapshot_date=MONDAY, total_equity=equity, cash_balance=equity)
            uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=float(equity)))
    with db.unit_of_work(bot_id="a") as uow:
        assert [p.total_equity for p in uow.snapshots.equity_curve()] == [D(1000)]
        assert uow.snapshots.latest().total_equity == D(1000)  # type: ignore[union-attr]
        assert [m.sharpe_ratio for m in uow.metrics.history()] == [1000.0]
        # same date, same strategy, different bot: a separate row, never an upsert of B's
        uow.metrics.compute(MONDAY)
    with db.unit_of_work(bot_id="b") as uow:
        assert uow.metrics.get(MONDAY).sharpe_ratio == 2000.0
        assert uow.snapshots.get(MONDAY).total_equity == D(2000)


def test_recovery_and_totals_are_private(db: Database, two_bots: tuple[str, str]) -> None:
    with db.unit_of_work(bot_id="a") as uow:
        p = uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
        uow.positions.close(p.position_id, exit_price=D(150), exit_reason="manual")
        uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
    with db.unit_of_work() as uow:
        state = uow.bots.recover("b")
        stopped = uow.bots.set_status("b", "stopped")
    assert state.open_positions == ()
    assert state.balances.realized_pnl == 0
    assert stopped.total_pnl == 0
