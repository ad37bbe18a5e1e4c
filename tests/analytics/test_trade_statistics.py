"""Whole-history trade statistics as a public call (issue 13.3): before, only the 30-day
``*_30d`` columns of ``metrics.compute`` exposed them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

import pytest

from tradestore import Database
from tradestore.analytics import Analytics, TradeStatistics
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.errors import ValidationError

T0 = dt.datetime(2023, 1, 2, 15, tzinfo=dt.UTC)
#: (days after T0, realized P&L, strategy)
TRADES = [
    (0, "120.50", "ppo"),
    (10, "-40.25", "ppo"),
    (40, "0", None),
    (70, "300", "sac"),
    (71, "-10", "sac"),
    (100, "-75.125", "ppo"),
    (120, "64.2", None),
]


@pytest.fixture
def traded(db: Database) -> Database:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        uow.bots.register("beta")
    with db.unit_of_work(bot_id="alpha") as uow:
        for days, pnl, strategy in TRADES:
            closed = T0 + dt.timedelta(days=days)
            position = uow.positions.open(
                "X",
                side="long",
                quantity=Decimal(1),
                entry_price=Decimal(100),
                strategy=strategy,
                opened_at=closed - dt.timedelta(hours=3),
            )
            uow.positions.close(
                position.position_id,
                exit_price=Decimal(100) + Decimal(pnl),
                exit_reason="take_profit",
                closed_at=closed,
            )
    with db.unit_of_work(bot_id="beta") as uow:
        position = uow.positions.open(
            "Y", side="long", quantity=Decimal(1), entry_price=Decimal(10), opened_at=T0
        )
        uow.positions.close(
            position.position_id, exit_price=Decimal(5), exit_reason="stop_loss", closed_at=T0
        )
    return db


def test_whole_history_by_hand(traded: Database) -> None:
    with traded.unit_of_work(bot_id="alpha") as uow:
        stats = uow.analytics.trade_statistics()
    assert isinstance(stats, TradeStatistics)
    assert (stats.total_trades, stats.winning_trades, stats.losing_trades) == (7, 3, 3)
    assert stats.win_rate == 3 / 7
    with localcontext(MONEY_CONTEXT):
        wins, losses, net = Decimal("484.7") / 3, Decimal("-125.375") / 3, Decimal("359.325") / 7
    assert stats.avg_win == fit(wins, traded.dialect_name)
    assert stats.avg_loss == fit(losses, traded.dialect_name)
    assert stats.expectancy == fit(net, traded.dialect_name)
    assert stats.profit_factor == pytest.approx(484.7 / 125.375, rel=1e-15)
    assert (stats.largest_win, stats.largest_loss) == (Decimal("300"), Decimal("-75.125"))


def test_since_until_and_strategy(traded: Database) -> None:
    with traded.session(readonly=True) as session:
        alpha = Analytics(session, bot_id="alpha")
        window = alpha.trade_statistics(
            since=T0 + dt.timedelta(days=10), until=T0 + dt.timedelta(days=100)
        )
        ppo = alpha.trade_statistics(strategy="ppo")
        every_bot = Analytics(session).trade_statistics()
        nothing = alpha.trade_statistics(since=T0 + dt.timedelta(days=500))
    # [since, until): day 10 in, day 100 out
    assert (window.total_trades, window.largest_win, window.largest_loss) == (
        4,
        Decimal("300"),
        Decimal("-40.25"),
    )
    assert window.profit_factor == pytest.approx(300 / 50.25, rel=1e-15)
    assert (ppo.total_trades, ppo.winning_trades, ppo.largest_loss) == (3, 1, Decimal("-75.125"))
    assert (every_bot.total_trades, every_bot.largest_loss) == (8, Decimal("-75.125"))
    assert nothing == TradeStatistics(0, 0, 0, None, None, None, None, None, None, None)


def test_agrees_with_the_stored_30_day_columns(traded: Database) -> None:
    as_of = (T0 + dt.timedelta(days=71)).date()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
    with traded.unit_of_work(bot_id="alpha") as uow:
        stored = uow.metrics.compute(as_of)
        stats = uow.analytics.trade_statistics(since=end - dt.timedelta(days=30), until=end)
    assert stats.total_trades == stored.total_trades_30d == 2
    assert (stats.win_rate, stats.avg_win, stats.avg_loss, stats.expectancy) == (
        stored.win_rate_30d,
        stored.avg_win_30d,
        stored.avg_loss_30d,
        stored.expectancy_30d,
    )
    assert stats.profit_factor == stored.profit_factor_30d


def test_bad_arguments_name_the_field(traded: Database) -> None:
    with traded.session(readonly=True) as session:
        analytics = Analytics(session, bot_id="alpha")
        with pytest.raises(ValidationError) as info:
            analytics.trade_statistics(since=dt.datetime(2023, 1, 1))  # naive
        assert info.value.field == "since"
        with pytest.raises(ValidationError) as info:
            analytics.trade_statistics(strategy="")
        assert info.value.field == "strategy"
