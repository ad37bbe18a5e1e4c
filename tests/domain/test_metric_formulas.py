"""Metric formulas checked against values worked out by hand (docs/reference/metrics.md).

The main series is 100 -> 101 -> 103.02 -> 101.9898: daily returns of +1 %, +2 %, -1 %.
mean = 1/150, sample variance = (1/300^2 + 4/300^2 + 25/300^2) ... = 7/3 * 1e-4, so
sd = sqrt(7/3) / 100; Sharpe = (1/150) / sd * sqrt(252) = (2/3) * sqrt(108) = 4 * sqrt(3).
Downside deviation (target 0) = sqrt(0.01^2 / 3) = 0.01 / sqrt(3), so Sortino =
(1/150) * sqrt(3) / 0.01 * sqrt(252) = (2/3) * sqrt(756). Omega = (0.01 + 0.02) / 0.01 = 3.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest

import metric_reference as ref
from tradestore.domain import metrics as m

D = Decimal
DAY = dt.timedelta(days=1)
START = dt.date(2024, 3, 4)  # a Monday
SERIES = [D("100"), D("101"), D("103.02"), D("101.9898")]
RETURNS = [0.01, 0.02, -0.01]


def points(values: list[Decimal], start: dt.date = START) -> list[tuple[dt.date, Decimal]]:
    return [(start + i * DAY, value) for i, value in enumerate(values)]


def test_simple_returns() -> None:
    assert m.simple_returns(SERIES) == pytest.approx(RETURNS)
    assert m.simple_returns([D(100)]) == []
    assert m.simple_returns([D(0), D(10)]) is None


def test_sharpe_sortino_omega_by_hand() -> None:
    assert m.sample_std(RETURNS) == pytest.approx(math.sqrt(7 / 3) / 100)
    assert m.sharpe_ratio(RETURNS) == pytest.approx(4 * math.sqrt(3))
    assert m.downside_deviation(RETURNS) == pytest.approx(0.01 / math.sqrt(3))
    assert m.sortino_ratio(RETURNS) == pytest.approx(2 / 3 * math.sqrt(756))
    assert m.omega_ratio(RETURNS) == pytest.approx(3.0)


def test_the_risk_free_rate_is_annual_and_deannualised_geometrically() -> None:
    per_day = (1.0252) ** (1 / 252) - 1
    assert m.periodic_rate(0.0252, 252) == pytest.approx(per_day)
    expected = (1 / 150 - per_day) / (math.sqrt(7 / 3) / 100) * math.sqrt(252)
    assert m.sharpe_ratio(RETURNS, risk_free_rate=0.0252) == pytest.approx(expected)
    # 365 periods a year (crypto) scales by sqrt(365)
    assert m.sharpe_ratio(RETURNS, periods_per_year=365) == pytest.approx(
        (1 / 150) / (math.sqrt(7 / 3) / 100) * math.sqrt(365)
    )


def test_drawdown_by_hand() -> None:
    # peak 120 -> trough 90: -$30 (25 %); then a new peak 130 -> 117: -$13 (10 %), current.
    series = points([D(100), D(120), D(90), D(110), D(130), D(117)])
    dd = m.drawdown(series, as_of=series[-1][0] + 2 * DAY)
    assert dd is not None
    assert dd.max_drawdown == D(30)
    assert dd.max_drawdown_pct == pytest.approx(25.0)
    assert dd.current_drawdown == D(13)
    assert dd.current_drawdown_pct == pytest.approx(10.0)
    assert dd.days_in_drawdown == 3  # peak on day 4, as_of is day 7


def test_the_largest_dollar_and_percent_drawdowns_may_differ() -> None:
    dd = m.drawdown(points([D(100), D(50), D(1000), D(800)]))
    assert dd is not None
    assert dd.max_drawdown == D(200)  # 1000 -> 800
    assert dd.max_drawdown_pct == pytest.approx(50.0)  # 100 -> 50


def test_at_a_new_high_there_is_no_current_drawdown() -> None:
    dd = m.drawdown(points([D(100), D(90), D(101)]))
    assert dd is not None
    assert (dd.current_drawdown, dd.current_drawdown_pct, dd.days_in_drawdown) == (D(0), 0.0, 0)


def test_calmar_annualises_the_return_over_the_periods() -> None:
    growth = (101.9898 / 100) ** (252 / 3) - 1
    assert m.annualized_return(D(100), D("101.9898"), 3) == pytest.approx(growth)
    # max drawdown 103.02 -> 101.9898 is 1 %
    assert m.calmar_ratio(growth, 0.01) == pytest.approx(growth / 0.01)
    assert m.calmar_ratio(growth, 0.0) is None
    assert m.calmar_ratio(None, 0.1) is None


def test_trailing_returns_carry_equity_forward_over_weekends() -> None:
    friday = dt.date(2024, 3, 8)
    series = [
        (friday - 7 * DAY, D(100)),
        (friday - DAY, D(104)),
        (friday, D(105)),
        (friday + 3 * DAY, D(102.9)),  # Monday
    ]
    sunday = friday + 2 * DAY
    monday = friday + 3 * DAY
    assert m.trailing_return(series, sunday, 1) == pytest.approx(0.0)  # nothing moved
    assert m.trailing_return(series, monday, 1) == pytest.approx(-2.0)  # vs Friday's 105
    assert m.trailing_return(series, friday, 7) == pytest.approx(5.0)
    assert m.trailing_return(series, friday, 30) is None  # history too short


def test_ytd_uses_the_previous_years_close_else_inception() -> None:
    series = [
        (dt.date(2023, 12, 29), D(200)),
        (dt.date(2024, 1, 2), D(210)),
        (dt.date(2024, 2, 1), D(220)),
    ]
    assert m.ytd_return(series, dt.date(2024, 2, 1)) == pytest.approx(10.0)
    assert m.ytd_return(series[1:], dt.date(2024, 2, 1)) == pytest.approx(220 / 210 * 100 - 100)


def test_trade_statistics_by_hand() -> None:
    stats = m.trade_statistics([D(100), D(-50), D(0), D(200), D(-25)])
    assert (stats.total_trades, stats.winning_trades, stats.losing_trades) == (5, 2, 2)
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.avg_win == D(150)
    assert stats.avg_loss == D("-37.5")
    assert stats.profit_factor == pytest.approx(300 / 75)
    assert stats.expectancy == D(45)  # 225 / 5


def test_trade_statistics_degenerate_cases() -> None:
    empty = m.trade_statistics([])
    assert empty.total_trades == 0
    assert (empty.win_rate, empty.avg_win, empty.avg_loss) == (None, None, None)
    assert (empty.profit_factor, empty.expectancy) == (None, None)
    no_losses = m.trade_statistics([D(10), D(20)])
    assert no_losses.win_rate == 1.0
    assert no_losses.profit_factor is None  # gross loss 0: undefined, not inf
    assert no_losses.avg_loss is None
    only_losses = m.trade_statistics([D(-10)])
    assert only_losses.profit_factor == 0.0


def test_benchmark_beta_alpha_correlation_by_hand() -> None:
    days = [START + i * DAY for i in range(4)]
    bench = dict(zip(days, [0.01, -0.02, 0.005, 0.015], strict=True))
    twice = {day: 2 * r for day, r in bench.items()}
    stats = m.benchmark_statistics(twice, bench)
    assert stats.beta == pytest.approx(2.0)
    assert stats.correlation == pytest.approx(1.0)
    assert stats.alpha == pytest.approx(0.0, abs=1e-12)
    assert stats.benchmark_return == pytest.approx((1.01 * 0.98 * 1.005 * 1.015 - 1) * 100)
    # a constant 0.1 % a day on top of the benchmark is alpha = 0.001 * 252 = 25.2 % a year
    shifted = {day: r + 0.001 for day, r in bench.items()}
    stats = m.benchmark_statistics(shifted, bench)
    assert stats.beta == pytest.approx(1.0)
    assert stats.alpha == pytest.approx(25.2)


def test_benchmark_degenerate_cases() -> None:
    day = START
    assert m.benchmark_statistics({day: 0.01}, {}) == m.BenchmarkStatistics(None, None, None, None)
    one = m.benchmark_statistics({day: 0.01}, {day: 0.02})
    assert one.benchmark_return == pytest.approx(2.0)
    assert (one.alpha, one.beta, one.correlation) == (None, None, None)
    flat = m.benchmark_statistics({day: 0.01, day + DAY: 0.02}, {day: 0.0, day + DAY: 0.0})
    assert (flat.beta, flat.alpha, flat.correlation) == (None, None, None)


def test_compute_metrics_on_the_hand_series() -> None:
    series = points(SERIES)
    as_of = series[-1][0]
    values = m.compute_metrics(series, [D(10), D(-5)], as_of=as_of)
    assert values.sharpe_ratio == pytest.approx(4 * math.sqrt(3))
    assert values.sortino_ratio == pytest.approx(2 / 3 * math.sqrt(756))
    assert values.omega_ratio == pytest.approx(3.0)
    assert values.volatility_daily == pytest.approx(math.sqrt(7 / 3))
    assert values.volatility_annualized == pytest.approx(math.sqrt(7 / 3) * math.sqrt(252))
    assert values.downside_deviation == pytest.approx(1 / math.sqrt(3) * math.sqrt(252))
    assert values.max_drawdown == D("1.0302")
    assert values.max_drawdown_pct == pytest.approx(1.0)
    assert values.current_drawdown == D("1.0302")
    assert values.days_in_drawdown == 1
    assert values.calmar_ratio == pytest.approx(((1.019898) ** 84 - 1) / 0.01)
    assert values.return_1d == pytest.approx(-1.0)
    assert values.return_inception == pytest.approx(1.9898)
    assert values.return_7d is None
    assert values.total_trades_30d == 2
    assert values.win_rate_30d == 0.5
    assert values.profit_factor_30d == pytest.approx(2.0)
    assert values.expectancy_30d == D("2.5")
    assert values.benchmark_return is None


def test_compute_metrics_with_one_snapshot() -> None:
    values = m.compute_metrics(points([D(100)]), [], as_of=START)
    assert values.return_inception == 0.0
    assert values.max_drawdown == 0
    assert values.days_in_drawdown == 0
    for name in ("sharpe_ratio", "sortino_ratio", "calmar_ratio", "omega_ratio"):
        assert getattr(values, name) is None
    assert values.volatility_daily is None
    assert values.total_trades_30d == 0
    assert values.win_rate_30d is None


def test_compute_metrics_with_two_snapshots_has_no_dispersion() -> None:
    values = m.compute_metrics(points([D(100), D(101)]), [], as_of=START + DAY)
    assert values.return_1d == pytest.approx(1.0)
    assert values.sharpe_ratio is None  # one return: no sample standard deviation
    assert values.volatility_daily is None
    assert values.omega_ratio is None  # no period below the threshold


def test_compute_metrics_with_zero_volatility_and_no_losses() -> None:
    series = points([D(100), D(101), D("102.01"), D("103.0301")])
    values = m.compute_metrics(series, [D(1), D(2)], as_of=series[-1][0])
    # every return is exactly 1 % (Decimal division is exact here): zero volatility
    assert values.volatility_daily == 0.0
    assert values.sharpe_ratio is None  # undefined, not inf
    assert values.sortino_ratio is None  # nothing fell below the target
    assert values.omega_ratio is None
    assert values.calmar_ratio is None  # no drawdown
    assert values.max_drawdown == 0
    assert values.profit_factor_30d is None


def test_exactly_constant_returns_give_no_sharpe() -> None:
    assert m.sharpe_ratio([0.01, 0.01, 0.01]) is None
    assert m.sharpe_ratio([0.0, 0.0]) is None


def test_compute_metrics_ignores_snapshots_after_as_of_and_handles_none() -> None:
    series = points(SERIES)
    values = m.compute_metrics(series, [], as_of=START + DAY)
    assert values.return_inception == pytest.approx(1.0)
    nothing = m.compute_metrics([], [], as_of=START)
    assert nothing.return_1d is None
    assert nothing.max_drawdown is None
    assert nothing.total_trades_30d == 0


def test_compute_metrics_with_a_starting_balance_and_a_window() -> None:
    series = points([D(100), D(50), D(60), D(66)])
    as_of = series[-1][0]
    values = m.compute_metrics(series, [], as_of=as_of, inception_equity=D(200), window_days=2)
    assert values.return_inception == pytest.approx(-67.0)
    # the window keeps the base point before it: 50 -> 60 -> 66, no drawdown inside
    assert values.max_drawdown == 0
    assert values.sharpe_ratio is not None


def test_compute_metrics_with_a_benchmark() -> None:
    series = points(SERIES)
    bench = {START + (i + 1) * DAY: r / 2 for i, r in enumerate(RETURNS)}
    values = m.compute_metrics(series, [], as_of=series[-1][0], benchmark_returns=bench)
    assert values.beta == pytest.approx(2.0)
    assert values.correlation_to_benchmark == pytest.approx(1.0)
    assert values.alpha == pytest.approx(0.0, abs=1e-9)
    assert values.benchmark_return == pytest.approx((1.005 * 1.01 * 0.995 - 1) * 100)


def test_negative_equity_makes_returns_undefined() -> None:
    values = m.compute_metrics(points([D(100), D(-10), D(5)]), [], as_of=START + 2 * DAY)
    assert values.sharpe_ratio is None
    assert values.volatility_daily is None
    assert values.max_drawdown == D(110)


# --- agreement with exact arithmetic (float algorithms held to 1e-12) -------------------------

REL = 1e-12
TRADING_DAYS = 2_148  # backtesting.py's GOOG history, the size users compare with


def agree(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=REL, abs_tol=0.0)


def assert_agrees_with_exact_arithmetic(series: list[tuple[dt.date, Decimal]]) -> None:
    equity = [value for _day, value in series]
    values = m.compute_metrics(series, [], as_of=series[-1][0])
    expected = ref.reference(equity)
    for name, exact in expected.items():
        assert agree(getattr(values, name), exact), (name, getattr(values, name), exact)
    assert values.max_drawdown == ref.max_money_drawdown(equity)


@pytest.mark.parametrize("stream", [1, 2, 3])
def test_a_random_2148_day_history_agrees_with_exact_arithmetic(stream: int) -> None:
    assert_agrees_with_exact_arithmetic(ref.random_walk(TRADING_DAYS, stream=stream))


def test_every_return_is_the_exact_ratio_rounded_once() -> None:
    equity = [value for _day, value in ref.random_walk(TRADING_DAYS, stream=4)]
    equity += [D("0.000000000000000001"), D("12345678901234567890.123456789012345678")]
    returns = m.simple_returns(equity)
    assert returns == [float(r) for r in ref.exact_returns(equity)]


def test_all_losses_agree_with_exact_arithmetic() -> None:
    series = points([D(1000) * D("0.99") ** i + D(i % 7) / 100 for i in range(300)])
    assert all(b < a for (_d, a), (_e, b) in itertools.pairwise(series))
    assert_agrees_with_exact_arithmetic(series)
    values = m.compute_metrics(series, [], as_of=series[-1][0])
    assert values.omega_ratio == 0.0
    assert values.sharpe_ratio is not None
    assert values.sharpe_ratio < 0


@pytest.mark.parametrize(
    "returns",
    [
        # a large offset with tiny variations: one-pass sum-of-squares formulas cancel here
        [0.01 + k * 1e-12 for k in (3, -1, 4, -1, 5, -9, 2, 6)] * 50,
        [1e8 + k for k in (0.5, -0.25, 0.125, 1.0)],
        [0.1] * 7 + [0.1 + 2**-55],  # every value equal but one, in the last bit
        [-0.3, 0.2, 1e-300, -5e-324],
    ],
)
def test_the_sample_deviation_agrees_with_exact_arithmetic_on_the_same_floats(
    returns: list[float],
) -> None:
    exact = ref.exact_std([Fraction(r) for r in returns])
    assert agree(m.sample_std(returns), ref.sqrt(exact))


def test_equal_returns_have_exactly_zero_deviation() -> None:
    for value in (0.1, 1 / 3, -0.0123456789, 5e-324):
        assert m.sample_std([value] * 2_148) == 0.0
    assert m.sample_std([0.1, 0.1]) == 0.0
    assert m.sample_std([0.1]) is None


def test_a_constant_history_of_2148_days() -> None:
    series = points([D("1234.56")] * TRADING_DAYS)
    values = m.compute_metrics(series, [], as_of=series[-1][0])
    assert (values.volatility_daily, values.downside_deviation) == (0.0, 0.0)
    assert values.max_drawdown == 0
    assert values.max_drawdown_pct == 0.0
    assert values.days_in_drawdown == 0
    for name in ("sharpe_ratio", "sortino_ratio", "omega_ratio", "calmar_ratio"):
        assert getattr(values, name) is None, name


def test_a_constant_growth_rate_has_zero_volatility_over_a_long_history() -> None:
    # Exact Decimals growing by exactly 0.5 % a day: every return is the same float.
    series = points([D(100) * D("1.005") ** i for i in range(400)])
    values = m.compute_metrics(series, [], as_of=series[-1][0])
    assert values.volatility_daily == 0.0
    assert values.sharpe_ratio is None
    assert values.return_1d == pytest.approx(0.5, rel=REL)


def test_drawdowns_agree_with_a_running_peak_in_exact_arithmetic() -> None:
    series = ref.random_walk(TRADING_DAYS, stream=5)
    equity = [value for _day, value in series]
    dd = m.drawdown(series)
    assert dd is not None
    assert dd.max_drawdown == ref.max_money_drawdown(equity)
    peak = max(equity)
    peak_day = max(day for day, value in series if value == peak)
    assert dd.current_drawdown == peak - equity[-1]
    assert dd.days_in_drawdown == (0 if peak == equity[-1] else (series[-1][0] - peak_day).days)
    # Peaks <= 0 leave the percentage undefined, as the definition says.
    negative = m.drawdown(points([D(-10), D(-20), D(5), D(4)]))
    assert negative is not None
    assert (negative.max_drawdown, negative.max_drawdown_pct) == (D(10), None)
    assert negative.current_drawdown_pct == pytest.approx(20.0)


def test_equity_on_is_the_last_point_on_or_before_the_day() -> None:
    series = ref.random_walk(500, stream=6)
    for day in (series[0][0] - DAY, series[0][0], series[17][0] + DAY, series[-1][0] + 9 * DAY):
        before = [value for point_day, value in series if point_day <= day]
        assert m.equity_on(series, day) == (before[-1] if before else None)
