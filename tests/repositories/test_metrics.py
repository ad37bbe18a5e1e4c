"""MetricsRepository on both backends: upsert per (bot, date, strategy) and compute() from the
bot's snapshots and closed positions, checked against the hand-worked series of
tests/domain/test_metric_formulas.py."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, text

import metric_reference as ref
from tradestore import Database
from tradestore.domain.metrics import MetricValues
from tradestore.errors import BotNotFound, NotFound, ValidationError
from tradestore.models import ALL_STRATEGIES
from tradestore.models.trading import PortfolioSnapshot

D = Decimal
DAY = dt.timedelta(days=1)
MONDAY = dt.date(2024, 3, 4)
SERIES = ("100", "101", "103.02", "101.9898")


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    return "alpha"


def at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def record_series(db: Database, bot: str, values: tuple[str, ...] = SERIES) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for i, equity in enumerate(values):
            uow.snapshots.record(
                snapshot_date=MONDAY + i * DAY, total_equity=D(equity), cash_balance=D(0)
            )


def trade(
    db: Database, bot: str, pnl: str, closed: dt.datetime, strategy: str | None = None
) -> None:
    """A closed trade of 1 unit entered at 100 with realized P&L ``pnl``."""
    with db.unit_of_work(bot_id=bot) as uow:
        position = uow.positions.open(
            "X",
            side="long",
            quantity=D(1),
            entry_price=D(100),
            strategy=strategy,
            opened_at=closed - dt.timedelta(hours=1),
        )
        uow.positions.close(
            position.position_id,
            exit_price=D(100) + D(pnl),
            exit_reason="manual",
            closed_at=closed,
        )


# --- record ----------------------------------------------------------------------------------


def test_record_upserts_per_date_and_strategy(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=1.5, total_trades_30d=3))
        uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=0.7), strategy="ppo")
    with db.unit_of_work(bot_id=bot) as uow:
        again = uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=2.0, max_drawdown=D("12.5")))
        assert again.metric_id == first.metric_id
        assert again.strategy == ALL_STRATEGIES
        assert (again.sharpe_ratio, again.total_trades_30d, again.max_drawdown) == (
            2.0,
            None,  # the row is replaced, not merged
            D("12.5"),
        )
        assert uow.metrics.get(MONDAY) == again
        assert uow.metrics.get(MONDAY, strategy="ppo").sharpe_ratio == 0.7
        assert uow.metrics.find(MONDAY, strategy="ppo") == uow.metrics.get(MONDAY, strategy="ppo")
        assert uow.metrics.find(MONDAY + DAY) is None
        with pytest.raises(NotFound, match="metrics") as missing:
            uow.metrics.get(MONDAY + DAY, strategy="ppo")
        assert missing.value.key == (MONDAY + DAY, "ppo")
        assert uow.metrics.strategies() == ["ppo"]
        assert again.values == MetricValues(sharpe_ratio=2.0, max_drawdown=D("12.5"))
    with db.session() as session:
        stored = session.execute(
            text("SELECT strategy FROM performance_metrics ORDER BY strategy")
        ).scalars()
        assert list(stored) == [ALL_STRATEGIES, "ppo"]


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("win_rate_30d", MetricValues(win_rate_30d=1.5)),
        ("total_trades_30d", MetricValues(total_trades_30d=-1)),
        ("winning_trades_30d", MetricValues(total_trades_30d=2, winning_trades_30d=3)),
        ("sharpe_ratio", MetricValues(sharpe_ratio=float("inf"))),
        ("sharpe_ratio", MetricValues(sharpe_ratio=float("nan"))),
        ("max_drawdown", MetricValues(max_drawdown=D(-5))),
        ("avg_win_30d", MetricValues(avg_win_30d=float("nan"))),  # type: ignore[arg-type]
    ],
)
def test_record_validates(db: Database, bot: str, field: str, values: MetricValues) -> None:
    with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.metrics.record(MONDAY, values)
    assert info.value.field == field


def test_the_portfolio_row_is_all_as_in_analytics_and_none_is_its_alias(
    db: Database, bot: str
) -> None:
    # Before: compute/record refused 'all', the spelling performance_summary, current_risk
    # and the views use for the same row.
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=1.0), strategy=ALL_STRATEGIES)
        alias = uow.metrics.record(MONDAY, MetricValues(sharpe_ratio=2.0), strategy=None)
        assert alias.metric_id == first.metric_id
        assert alias.strategy == ALL_STRATEGIES
        computed = uow.metrics.compute(MONDAY, strategy="all")
        assert computed.metric_id == first.metric_id
        assert uow.metrics.get(MONDAY, strategy="all") == computed == uow.metrics.latest()
        assert uow.metrics.history(strategy="all") == [computed]
        assert uow.metrics.strategies() == []
        [risk] = uow.analytics.current_risk(strategy=computed.strategy)
        assert (risk.metric_date, risk.strategy) == (MONDAY, computed.strategy)


def test_record_for_an_unregistered_bot(db: Database) -> None:
    with pytest.raises(BotNotFound), db.unit_of_work(bot_id="ghost") as uow:
        uow.metrics.record(MONDAY, MetricValues())


# --- compute ---------------------------------------------------------------------------------


def test_compute_the_portfolio_row_by_hand(db: Database, bot: str) -> None:
    record_series(db, bot)
    as_of = MONDAY + 3 * DAY
    trade(db, bot, "10", at(as_of))
    trade(db, bot, "-5", at(as_of - 29 * DAY, 0))  # first instant of the 30-day window
    trade(db, bot, "99", at(as_of - 30 * DAY, 23))  # just before it
    trade(db, bot, "77", at(as_of + DAY, 0))  # after as_of
    with db.unit_of_work(bot_id=bot) as uow:
        row = uow.metrics.compute(as_of)
    assert row.metric_date == as_of
    assert row.strategy == ALL_STRATEGIES
    assert row.sharpe_ratio == pytest.approx(4 * math.sqrt(3))
    assert row.sortino_ratio == pytest.approx(2 / 3 * math.sqrt(756))
    assert row.omega_ratio == pytest.approx(3.0)
    assert row.calmar_ratio == pytest.approx(((1.019898) ** 84 - 1) / 0.01)
    assert row.max_drawdown == D("1.0302")
    assert row.max_drawdown_pct == pytest.approx(1.0)
    assert row.current_drawdown_pct == pytest.approx(1.0)
    assert row.days_in_drawdown == 1
    assert row.return_1d == pytest.approx(-1.0)
    assert row.return_inception == pytest.approx(1.9898)
    assert row.return_ytd == pytest.approx(1.9898)
    assert row.return_7d is None
    assert row.volatility_daily == pytest.approx(math.sqrt(7 / 3))
    assert row.volatility_annualized == pytest.approx(math.sqrt(7 / 3 * 252))
    assert row.downside_deviation == pytest.approx(math.sqrt(252 / 3))
    assert (row.total_trades_30d, row.winning_trades_30d, row.losing_trades_30d) == (2, 1, 1)
    assert row.win_rate_30d == 0.5
    assert (row.avg_win_30d, row.avg_loss_30d) == (D(10), D(-5))
    assert row.profit_factor_30d == pytest.approx(2.0)
    assert row.expectancy_30d == D("2.5")
    assert (row.benchmark_return, row.alpha, row.beta) == (None, None, None)
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.metrics.latest() == row


def test_compute_again_replaces_the_row(db: Database, bot: str) -> None:
    record_series(db, bot)
    as_of = MONDAY + 3 * DAY
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.metrics.compute(as_of)
    trade(db, bot, "10", at(as_of))
    with db.unit_of_work(bot_id=bot) as uow:
        second = uow.metrics.compute(as_of)
        assert len(uow.metrics.history()) == 1
    assert second.metric_id == first.metric_id
    assert (first.total_trades_30d, second.total_trades_30d) == (0, 1)


def test_compute_with_a_benchmark_and_a_risk_free_rate(db: Database, bot: str) -> None:
    record_series(db, bot)
    as_of = MONDAY + 3 * DAY
    bench = {MONDAY + (i + 1) * DAY: r / 2 for i, r in enumerate((0.01, 0.02, -0.01))}
    with db.unit_of_work(bot_id=bot) as uow:
        row = uow.metrics.compute(as_of, benchmark_returns=bench, risk_free_rate=0.0252)
    per_day = 1.0252 ** (1 / 252) - 1
    assert row.sharpe_ratio == pytest.approx(
        (1 / 150 - per_day) / (math.sqrt(7 / 3) / 100) * math.sqrt(252)
    )
    assert row.beta == pytest.approx(2.0)
    assert row.correlation_to_benchmark == pytest.approx(1.0)
    # alpha = (mean(rp) - rf - 2 * (mean(rb) - rf)) * 252 = rf * 252 (mean(rp) = 2 mean(rb))
    assert row.alpha == pytest.approx(per_day * 252 * 100)
    assert row.benchmark_return == pytest.approx((1.005 * 1.01 * 0.995 - 1) * 100)
    with pytest.raises(ValidationError), db.unit_of_work(bot_id=bot) as uow:
        uow.metrics.compute(as_of, benchmark_returns={"2024-03-05": 0.01})  # type: ignore[dict-item]
    with pytest.raises(ValidationError), db.unit_of_work(bot_id=bot) as uow:
        uow.metrics.compute(as_of, benchmark_returns={MONDAY + DAY: float("inf")})
    # NaN is "no return that day": the day is left out, as if the mapping did not have it.
    with db.unit_of_work(bot_id=bot) as uow:
        gap = uow.metrics.compute(
            as_of, benchmark_returns={**bench, MONDAY: float("nan")}, risk_free_rate=0.0252
        )
    assert (gap.beta, gap.benchmark_return) == (row.beta, row.benchmark_return)
    # Two keys on one day (a date and a datetime of it) would silently replace each other.
    twice = {MONDAY + DAY: 0.01, dt.datetime.combine(MONDAY + DAY, dt.time(9), dt.UTC): 0.02}
    with pytest.raises(ValidationError, match="same day"), db.unit_of_work(bot_id=bot) as uow:
        uow.metrics.compute(as_of, benchmark_returns=twice)  # type: ignore[arg-type]


def test_compute_degenerate_histories(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        empty = uow.metrics.compute(MONDAY)
    assert empty.total_trades_30d == 0
    assert empty.return_1d is None
    assert empty.sharpe_ratio is None
    record_series(db, bot, ("100",))
    with db.unit_of_work(bot_id=bot) as uow:
        one = uow.metrics.compute(MONDAY)
    assert one.return_inception == 0.0
    assert one.max_drawdown == 0
    assert (one.sharpe_ratio, one.volatility_daily, one.calmar_ratio) == (None, None, None)
    record_series(db, bot, ("100", "101", "102.01", "103.0301"))  # +1 % every day
    with db.unit_of_work(bot_id=bot) as uow:
        flat = uow.metrics.compute(MONDAY + 3 * DAY)
    assert flat.volatility_daily == 0.0
    assert (flat.sharpe_ratio, flat.sortino_ratio, flat.omega_ratio) == (None, None, None)
    assert flat.calmar_ratio is None
    assert flat.return_inception == pytest.approx(3.0301)


def test_compute_a_strategy_row_from_its_realized_curve(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(1000))
    record_series(db, "alpha", ("1000", "1000", "1000", "1000"))
    trade(db, "alpha", "10", at(MONDAY + DAY), strategy="ppo")  # curve 1000, 1010
    trade(db, "alpha", "-20", at(MONDAY + 2 * DAY), strategy="ppo")  # 990
    trade(db, "alpha", "5", at(MONDAY + 3 * DAY), strategy="ppo")  # 995
    trade(db, "alpha", "500", at(MONDAY + 3 * DAY), strategy="other")
    with db.unit_of_work(bot_id="alpha") as uow:
        row = uow.metrics.compute(MONDAY + 3 * DAY, strategy="ppo")
        portfolio = uow.metrics.compute(MONDAY + 3 * DAY)
    assert row.strategy == "ppo"
    assert row.return_inception == pytest.approx(-0.5)
    assert row.max_drawdown == D(20)
    assert row.max_drawdown_pct == pytest.approx(20 / 1010 * 100)
    assert row.return_1d == pytest.approx((995 / 990 - 1) * 100)
    assert row.total_trades_30d == 3
    assert row.profit_factor_30d == pytest.approx(15 / 20)
    returns = [0.01, 990 / 1010 - 1, 995 / 990 - 1]
    mean = sum(returns) / 3
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)
    assert row.sharpe_ratio == pytest.approx(mean / sd * math.sqrt(252))
    assert portfolio.total_trades_30d == 4
    assert portfolio.return_inception == 0.0  # the snapshots are flat


def test_compute_validates_its_arguments(db: Database, bot: str) -> None:
    cases: list[dict[str, Any]] = [
        {"as_of": dt.datetime(2024, 3, 4)},  # naive: which day is not known
        {"as_of": MONDAY, "periods_per_year": 0},
        {"as_of": MONDAY, "risk_free_rate": -1.5},
        {"as_of": MONDAY, "window_days": 0},
        {"as_of": MONDAY, "benchmark_returns": [(MONDAY, 0.01)]},
    ]
    for kwargs in cases:
        with pytest.raises(ValidationError), db.unit_of_work(bot_id=bot) as uow:
            uow.metrics.compute(**kwargs)


def test_history_and_latest_per_strategy(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for i in range(3):
            uow.metrics.record(MONDAY + i * DAY, MetricValues(sharpe_ratio=float(i)))
        uow.metrics.record(MONDAY + 5 * DAY, MetricValues(sharpe_ratio=9.0), strategy="s")
    with db.unit_of_work(bot_id=bot) as uow:
        assert [r.sharpe_ratio for r in uow.metrics.history()] == [0.0, 1.0, 2.0]
        assert [r.sharpe_ratio for r in uow.metrics.history(MONDAY + DAY, MONDAY + DAY)] == [1.0]
        assert [r.sharpe_ratio for r in uow.metrics.history(limit=1, offset=1)] == [1.0]
        assert uow.metrics.latest().sharpe_ratio == 2.0  # type: ignore[union-attr]
        assert uow.metrics.latest(strategy="s").metric_date == MONDAY + 5 * DAY  # type: ignore[union-attr]
        assert uow.metrics.latest(strategy="none") is None


def test_compute_over_2148_trading_days_agrees_with_exact_arithmetic(
    db: Database, bot: str
) -> None:
    """The read of the whole history (raw columns, converted in bulk) and the float formulas
    together: every ratio within 1e-12 of 60-digit arithmetic on the stored Decimals."""
    series = ref.random_walk(2_148, stream=11)
    with db.unit_of_work(bot_id=bot) as uow:  # one executemany: record() per day takes seconds
        uow.session.execute(
            insert(PortfolioSnapshot),
            [
                {
                    "bot_id": bot,
                    "snapshot_date": day,
                    "snapshot_time": at(day, 21),
                    "total_equity": equity,
                    "cash_balance": D(0),
                }
                for day, equity in series
            ],
        )
    with db.unit_of_work(bot_id=bot) as uow:
        stored = uow.metrics.compute(series[-1][0])
        read_back = [(s.snapshot_date, s.total_equity) for s in uow.snapshots.history()]
    assert read_back == series
    equity = [value for _day, value in series]
    for name, exact in ref.reference(equity).items():
        assert exact is not None
        assert math.isclose(getattr(stored, name), exact, rel_tol=1e-12), name
    assert stored.max_drawdown == ref.max_money_drawdown(equity)
