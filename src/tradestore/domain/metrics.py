"""Performance metrics as pure functions: equity curve and closed trades in, figures out.

No database here: ``repositories.metrics`` reads snapshots and closed positions, calls
``compute_metrics`` and stores the result. docs/reference/metrics.md states every formula; the short
version:

* returns are simple daily returns between consecutive snapshots, r_t = E_t / E_{t-1} - 1;
* dispersion uses the *sample* standard deviation (n - 1); downside deviation uses Sortino's
  lower partial moment over *all* periods (n);
* annualisation multiplies a per-period mean by N and a per-period deviation by sqrt(N),
  N = ``periods_per_year`` (252 trading days by default, 365 for markets that never close);
* the risk-free rate is annual and de-annualised geometrically, (1 + rf) ** (1 / N) - 1;
* a ratio whose denominator is zero (no volatility, no losses, no drawdown) is None, never
  inf, and so is any statistic without enough data (fewer than two returns for a dispersion):
  an infinite Sharpe ratio would top every leaderboard and poison every average.

Units: return, drawdown, volatility, benchmark return and alpha columns are in percent (1.5
means 1.5 %); ratios, beta and correlation are plain numbers; money amounts are Decimal.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, Final, TypeVar

from tradestore.domain.enums import MetricPeriod
from tradestore.domain.money import MONEY_CONTEXT

#: Trading days per year: the default annualisation factor.
#: The figures of an agent evaluation (agent_performance columns), by kind.
#: Floats: any double, NaN and ±inf included.
FLOAT_METRICS: Final = (
    "total_return",
    "total_return_pct",
    "annualized_return",
    "cumulative_reward",
    "avg_episode_reward",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "max_drawdown",
    "max_drawdown_pct",
    "volatility",
    "downside_deviation",
    "avg_win",
    "avg_loss",
    "profit_factor",
    "expectancy",
    "largest_win",
    "largest_loss",
    "buy_and_hold_return",
    "excess_return",
    "information_ratio",
    "avg_action_entropy",
    "avg_value_estimate",
    "policy_stability",
)
#: Counts: integers >= 0.
COUNT_METRICS: Final = ("num_episodes", "total_trades", "winning_trades", "losing_trades")

TRADING_DAYS_PER_YEAR = 252
#: Calendar days over which the *_30d trade statistics are taken (as_of included).
TRADE_WINDOW_DAYS = 30

_HUNDRED = Decimal(100)
K = TypeVar("K")

#: One point of an equity curve: (snapshot date, total equity).
DatedEquity = tuple[dt.date, Decimal]


@dataclass(frozen=True, kw_only=True)
class MetricValues:
    """Every metric column of performance_metrics; None = not defined / unknown."""

    # risk-adjusted returns
    sharpe_ratio: float | None = None
    sortino_ratio: float | None = None
    calmar_ratio: float | None = None
    omega_ratio: float | None = None
    # drawdown: amounts are positive declines from the running peak
    max_drawdown: Decimal | None = None
    max_drawdown_pct: float | None = None
    current_drawdown: Decimal | None = None
    current_drawdown_pct: float | None = None
    days_in_drawdown: int | None = None
    # returns, percent
    return_1d: float | None = None
    return_7d: float | None = None
    return_30d: float | None = None
    return_ytd: float | None = None
    return_inception: float | None = None
    # volatility, percent; downside deviation annualised
    volatility_daily: float | None = None
    volatility_annualized: float | None = None
    downside_deviation: float | None = None
    # trades closed in the 30 days ending on the metric date
    total_trades_30d: int | None = None
    winning_trades_30d: int | None = None
    losing_trades_30d: int | None = None
    win_rate_30d: float | None = None
    avg_win_30d: Decimal | None = None
    avg_loss_30d: Decimal | None = None
    profit_factor_30d: float | None = None
    expectancy_30d: Decimal | None = None
    #: The best winning trade (positive) and the worst losing trade (negative) of the window.
    largest_win_30d: Decimal | None = None
    largest_loss_30d: Decimal | None = None
    # benchmark comparison
    benchmark_return: float | None = None
    alpha: float | None = None
    beta: float | None = None
    correlation_to_benchmark: float | None = None


# --- returns and dispersion ------------------------------------------------------------------


def simple_returns(equity: Sequence[Decimal]) -> list[float] | None:
    """r_t = E_t / E_{t-1} - 1 for consecutive values; None if some E_{t-1} <= 0.

    A return relative to zero or negative equity has no meaning, so every return-based
    statistic of such a series is undefined rather than silently wrong. Each return is the
    exact ratio of the amounts rounded once to a float, so equal ratios give equal floats
    (a series growing by exactly 1 % a day has exactly zero volatility).
    """
    return _returns(_scaled(equity))


def _scaled(equity: Sequence[Decimal]) -> list[int]:
    """The amounts times one common denominator, as exact integers.

    Python's integer arithmetic is exact and its int / int division rounds correctly, so
    returns and drawdowns computed on these integers are the exact values rounded once,
    at a fraction of the cost of 100-digit Decimal division and of Decimal -> float.
    """
    ratios = list(map(_AS_INTEGER_RATIO, equity))
    denominators = {denominator for _numerator, denominator in ratios}
    if len(denominators) == 1:
        return [numerator for numerator, _denominator in ratios]
    common = math.lcm(*denominators)
    return [numerator * (common // denominator) for numerator, denominator in ratios]


_AS_INTEGER_RATIO = operator.methodcaller("as_integer_ratio")


def _returns(scaled: Sequence[int]) -> list[float] | None:
    if len(scaled) > 1 and min(scaled[:-1]) <= 0:
        return None
    return [(current - previous) / previous for previous, current in itertools.pairwise(scaled)]


def periodic_rate(annual_rate: float, periods_per_year: int) -> float:
    """The per-period rate that compounds to ``annual_rate`` over ``periods_per_year``."""
    return float((1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def sample_std(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); None below two values.

    Two passes in floats with exactly rounded sums (``math.fsum``) and the correction term
    of Chan, Golub & LeVeque for the rounding of the mean: within a few units in the last
    place of the exact deviation of the floats, where ``statistics.stdev``'s exact
    fractions cost ten times as much. Identical values have exactly zero deviation, which
    a rounded mean would turn into a tiny positive one (and a zero-volatility series into
    an enormous Sharpe ratio).
    """
    count = len(values)
    if count < 2:
        return None
    if min(values) == max(values):
        return 0.0
    centre = math.fsum(values) / count
    deviations = [value - centre for value in values]
    squares = math.fsum([deviation * deviation for deviation in deviations])
    drift = math.fsum(deviations)
    return math.sqrt(max(0.0, squares - drift * drift / count) / (count - 1))


def downside_deviation(returns: Sequence[float], *, target: float = 0.0) -> float | None:
    """sqrt(sum(min(0, r - target)^2) / n) over all n periods (Sortino & Price).

    Periods above the target count as zeros, not as missing: dividing by the number of bad
    periods instead would make one bad day look as risky as a bad day every day.
    """
    if len(returns) < 2:
        return None
    shortfalls = [r - target for r in returns if r < target]
    return math.sqrt(math.fsum([s * s for s in shortfalls]) / len(returns))


def sharpe_ratio(
    returns: Sequence[float],
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> float | None:
    """(mean(r) - rf_p) / std(r) * sqrt(N); None with < 2 returns or zero volatility."""
    deviation = sample_std(returns)
    if deviation is None or deviation == 0:
        return None
    excess = mean(returns) - periodic_rate(risk_free_rate, periods_per_year)
    return excess / deviation * math.sqrt(periods_per_year)


def sortino_ratio(
    returns: Sequence[float],
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> float | None:
    """(mean(r) - rf_p) / DD(target = rf_p) * sqrt(N); None when no period fell short."""
    target = periodic_rate(risk_free_rate, periods_per_year)
    deviation = downside_deviation(returns, target=target)
    if deviation is None or deviation == 0:
        return None
    return (mean(returns) - target) / deviation * math.sqrt(periods_per_year)


def omega_ratio(returns: Sequence[float], *, threshold: float = 0.0) -> float | None:
    """sum(max(r - t, 0)) / sum(max(t - r, 0)); None without any return below the threshold."""
    if not returns:
        return None
    gains = math.fsum([r - threshold for r in returns if r > threshold])
    losses = math.fsum([threshold - r for r in returns if r < threshold])
    if losses == 0:
        return None
    return gains / losses


def annualized_return(
    first: Decimal, last: Decimal, periods: int, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float | None:
    """Compound annual growth: (last / first) ** (N / periods) - 1, as a fraction."""
    if periods < 1 or first <= 0 or last < 0:
        return None
    growth = float(last / first)
    return float(growth ** (periods_per_year / periods) - 1.0)


def calmar_ratio(annual_return: float | None, max_drawdown_fraction: float | None) -> float | None:
    """Annualised return / maximum drawdown (both fractions); None without a drawdown."""
    if annual_return is None or not max_drawdown_fraction:
        return None
    return annual_return / max_drawdown_fraction


# --- drawdown --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawdown:
    max_drawdown: Decimal
    max_drawdown_pct: float | None
    current_drawdown: Decimal
    current_drawdown_pct: float | None
    days_in_drawdown: int


def drawdown(points: Sequence[DatedEquity], *, as_of: dt.date | None = None) -> Drawdown | None:
    """Declines from the running peak of the equity curve.

    ``max_drawdown`` is the largest peak-to-trough decline in money and ``max_drawdown_pct``
    the largest in percent of its peak; the two may come from different episodes (a $ loss
    from a high peak can be a smaller percentage). Percentages are None once a peak is <= 0.
    ``days_in_drawdown`` counts calendar days from the date of the current peak to ``as_of``
    (default: the last point), 0 at a new high.
    """
    if not points:
        return None
    equity = [value for _day, value in points]
    return _drawdown(points, equity, _scaled(equity), as_of)


def _drawdown(
    points: Sequence[DatedEquity],
    equity: Sequence[Decimal],
    scaled: Sequence[int],
    as_of: dt.date | None,
) -> Drawdown:
    """``drawdown`` on the exact integers of ``_scaled``: running peak and declines in C
    loops (``accumulate``, ``map``), each percentage the exact ratio rounded once."""
    peaks = list(itertools.accumulate(scaled, max))
    declines = list(map(operator.sub, peaks, scaled))
    deepest = max(declines)
    worst = Decimal(0)
    worst_pct: float | None = 0.0
    if deepest > 0:
        at = declines.index(deepest)
        # The peak of that decline: the last new high before it (``E_t >= peak`` moves it).
        peak_at = at - declines[at::-1].index(0)
        with localcontext(MONEY_CONTEXT):
            worst = equity[peak_at] - equity[at]
        # Peaks only rise, so a first positive peak makes every one positive; otherwise a
        # decline from a peak <= 0 has no percentage, and then neither has the maximum.
        if peaks[0] > 0 or not any(d and p <= 0 for d, p in zip(declines, peaks, strict=True)):
            worst_pct = max([100 * d / p for d, p in zip(declines, peaks, strict=True) if d])
        else:
            worst_pct = None
    peak_at = len(declines) - 1 - declines[::-1].index(0)
    peak = equity[peak_at]
    with localcontext(MONEY_CONTEXT):
        current = peak - equity[-1]
        current_pct = float(current / peak * _HUNDRED) if peak > 0 else None
    end = points[-1][0] if as_of is None else as_of
    days = (end - points[peak_at][0]).days if current > 0 else 0
    return Drawdown(worst, worst_pct, current, current_pct, days)


# --- series over the history (the report's charts, ``Analytics.returns``) -------------------


def dated_returns(points: Sequence[DatedEquity]) -> list[tuple[dt.date, float]] | None:
    """``simple_returns`` dated by the later snapshot of each pair (the day the return was
    earned); None where ``simple_returns`` is."""
    returns = simple_returns([equity for _day, equity in points])
    if returns is None:
        return None
    return [(day, r) for (day, _equity), r in zip(points[1:], returns, strict=True)]


def underwater(points: Sequence[DatedEquity]) -> list[tuple[dt.date, float | None]]:
    """Percent below the running peak at every point (0 at a new high, negative below it).

    The same running peak as ``drawdown``: its ``max_drawdown_pct`` is the deepest point of
    this curve, negated. None where the peak so far is <= 0 (no percentage of it exists).
    """
    curve: list[tuple[dt.date, float | None]] = []
    peak: Decimal | None = None
    with localcontext(MONEY_CONTEXT):
        for day, equity in points:
            peak = equity if peak is None or equity > peak else peak
            if peak <= 0:
                curve.append((day, None))
            else:
                curve.append((day, float((equity - peak) / peak * _HUNDRED)))
    return curve


def monthly_returns(points: Sequence[DatedEquity]) -> dict[tuple[int, int], float | None]:
    """Percent return of each calendar (year, month) with a snapshot: its last equity over
    the previous period's last (over the first snapshot for the first), so they compound
    to the total."""
    return _calendar_returns(points, lambda day: (day.year, day.month))


def yearly_returns(points: Sequence[DatedEquity]) -> dict[int, float | None]:
    """``monthly_returns`` by calendar year."""
    return _calendar_returns(points, lambda day: day.year)


def _calendar_returns(
    points: Sequence[DatedEquity], period: Callable[[dt.date], K]
) -> dict[K, float | None]:
    last: dict[K, Decimal] = {}
    for day, equity in points:
        last[period(day)] = equity
    returns: dict[K, float | None] = {}
    base: Decimal | None = points[0][1] if points else None
    for key, equity in last.items():  # insertion order: points are oldest first
        returns[key] = growth_pct(base, equity)
        base = equity
    return returns


def rolling_sharpe(
    returns: Sequence[tuple[dt.date, float]],
    window: int,
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> list[tuple[dt.date, float | None, bool]]:
    """Annualised Sharpe ratio of the last ``window`` returns at each date.

    Until ``window`` returns exist the ratio covers all returns so far, and the third item
    (``full``) is False, so a short history still shows its trend, marked as a warm-up.
    """
    values = [r for _day, r in returns]
    series: list[tuple[dt.date, float | None, bool]] = []
    for index, (day, _r) in enumerate(returns):
        start = max(0, index + 1 - window)
        ratio = sharpe_ratio(
            values[start : index + 1],
            risk_free_rate=risk_free_rate,
            periods_per_year=periods_per_year,
        )
        series.append((day, ratio, index + 1 >= window))
    return series


# --- point-to-point returns ------------------------------------------------------------------


def equity_on(points: Sequence[DatedEquity], day: dt.date) -> Decimal | None:
    """Equity carried forward: the last point on or before ``day`` (None before the first)."""
    index = bisect.bisect_right(points, day, key=_DAY)
    return points[index - 1][1] if index else None


_DAY = operator.itemgetter(0)


def growth_pct(base: Decimal | None, last: Decimal | None) -> float | None:
    """(last / base - 1) * 100, None without a positive base."""
    if base is None or last is None or base <= 0:
        return None
    with localcontext(MONEY_CONTEXT):
        return float((last / base - 1) * _HUNDRED)


def trailing_return(points: Sequence[DatedEquity], as_of: dt.date, days: int) -> float | None:
    """Percent return over the ``days`` calendar days ending ``as_of``.

    Equity is a step function between snapshots (carried forward), so the base is the last
    snapshot on or before as_of - days; None when the history does not reach back that far.
    """
    return growth_pct(equity_on(points, as_of - dt.timedelta(days=days)), equity_on(points, as_of))


def ytd_return(points: Sequence[DatedEquity], as_of: dt.date) -> float | None:
    """Percent return since the last snapshot of the previous year, else since inception."""
    year_start = dt.date(as_of.year, 1, 1)
    base = equity_on(points, year_start - dt.timedelta(days=1))
    if base is None:
        first = bisect.bisect_left(points, year_start, key=_DAY)
        in_year = first < len(points) and points[first][0] <= as_of
        base = points[first][1] if in_year else None
    return growth_pct(base, equity_on(points, as_of))


# --- trades ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeStatistics:
    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate: float | None
    #: Mean P&L of the winning trades (positive) / of the losing trades (negative).
    avg_win: Decimal | None
    avg_loss: Decimal | None
    #: Gross profit / |gross loss|; None without a losing trade.
    profit_factor: float | None
    #: Mean P&L per trade (= win_rate * avg_win + loss_rate * avg_loss).
    expectancy: Decimal | None
    #: The best winning trade (positive) / the worst losing trade (negative).
    largest_win: Decimal | None = None
    largest_loss: Decimal | None = None
    #: The sum of every trade's P&L (zero without a trade).
    net_pnl: Decimal = Decimal(0)


def trade_statistics(pnls: Iterable[Decimal]) -> TradeStatistics:
    """Statistics of realized P&L values; a trade at exactly zero is neither win nor loss."""
    wins: list[Decimal] = []
    losses: list[Decimal] = []
    total = 0
    with localcontext(MONEY_CONTEXT):
        net = Decimal(0)
        for value in pnls:
            total += 1
            net += value
            if value > 0:
                wins.append(value)
            elif value < 0:
                losses.append(value)
        gross_profit = sum(wins, Decimal(0))
        gross_loss = sum(losses, Decimal(0))
        return TradeStatistics(
            total_trades=total,
            winning_trades=len(wins),
            losing_trades=len(losses),
            win_rate=len(wins) / total if total else None,
            avg_win=gross_profit / len(wins) if wins else None,
            avg_loss=gross_loss / len(losses) if losses else None,
            profit_factor=float(gross_profit / -gross_loss) if losses else None,
            expectancy=net / total if total else None,
            largest_win=max(wins) if wins else None,
            largest_loss=min(losses) if losses else None,
            net_pnl=net,
        )


#: The ``period_start`` of the all-time row: the history has no later beginning.
ALL_TIME_START: Final = dt.date.min


def period_start(period: MetricPeriod, as_of: dt.date) -> dt.date:
    """The first day of the period that contains ``as_of``: the day itself, the Monday of its
    ISO week, the first of its month, or ``ALL_TIME_START``."""
    if period is MetricPeriod.DAILY:
        return as_of
    if period is MetricPeriod.WEEKLY:
        return as_of - dt.timedelta(days=as_of.weekday())
    if period is MetricPeriod.MONTHLY:
        return as_of.replace(day=1)
    return ALL_TIME_START


# --- benchmark -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkStatistics:
    #: Compounded benchmark return over the aligned dates, percent.
    benchmark_return: float | None
    #: Jensen's alpha, annualised, percent.
    alpha: float | None
    beta: float | None
    correlation: float | None


def benchmark_statistics(
    portfolio: Mapping[dt.date, float],
    benchmark: Mapping[dt.date, float],
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> BenchmarkStatistics:
    """Compare daily portfolio returns with benchmark returns on the dates both have.

    beta = cov(rp, rb) / var(rb); correlation is Pearson's; alpha = (mean(rp - rf_p) -
    beta * mean(rb - rf_p)) * N. Each needs two aligned dates and non-zero variance.
    """
    days = sorted(set(portfolio) & set(benchmark))
    if not days:
        return BenchmarkStatistics(None, None, None, None)
    rp = [portfolio[day] for day in days]
    rb = [benchmark[day] for day in days]
    compounded = math.prod(1.0 + r for r in rb) - 1.0
    if len(days) < 2:
        return BenchmarkStatistics(compounded * 100.0, None, None, None)
    mean_p, mean_b = mean(rp), mean(rb)
    covariance = math.fsum((p - mean_p) * (b - mean_b) for p, b in zip(rp, rb, strict=True))
    variance_b = math.fsum((b - mean_b) ** 2 for b in rb)
    variance_p = math.fsum((p - mean_p) ** 2 for p in rp)
    beta = covariance / variance_b if variance_b > 0 else None
    correlation = (
        covariance / math.sqrt(variance_p * variance_b)
        if variance_b > 0 and variance_p > 0
        else None
    )
    alpha = None
    if beta is not None:
        rf = periodic_rate(risk_free_rate, periods_per_year)
        alpha = ((mean_p - rf) - beta * (mean_b - rf)) * periods_per_year * 100.0
    return BenchmarkStatistics(compounded * 100.0, alpha, beta, correlation)


# --- everything at once ----------------------------------------------------------------------


def compute_metrics(
    points: Sequence[DatedEquity],
    trade_pnls: Iterable[Decimal],
    *,
    as_of: dt.date,
    inception_equity: Decimal | None = None,
    benchmark_returns: Mapping[dt.date, float] | None = None,
    risk_free_rate: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
    window_days: int | None = None,
) -> MetricValues:
    """Every metric column from an equity curve and the trades of the 30-day window.

    ``points`` are (date, equity) snapshots; those after ``as_of`` are ignored. Returns over
    fixed horizons (1d, 7d, 30d, YTD, inception) always use the whole history;
    ``window_days`` restricts the risk statistics (ratios, drawdown, volatility, benchmark)
    to the returns of the last ``window_days`` calendar days. ``inception_equity`` (the
    bot's starting balance) is the base of return_inception, else the first snapshot.
    ``trade_pnls`` are the realized P&L of the trades closed in the window (the caller
    selects them). Amounts come back exact; the repository rounds them for its backend.
    """
    history = sorted((p for p in points if p[0] <= as_of), key=_DAY)
    trades = trade_statistics(trade_pnls)
    values: dict[str, Any] = {
        "total_trades_30d": trades.total_trades,
        "winning_trades_30d": trades.winning_trades,
        "losing_trades_30d": trades.losing_trades,
        "win_rate_30d": trades.win_rate,
        "avg_win_30d": trades.avg_win,
        "avg_loss_30d": trades.avg_loss,
        "profit_factor_30d": trades.profit_factor,
        "expectancy_30d": trades.expectancy,
        "largest_win_30d": trades.largest_win,
        "largest_loss_30d": trades.largest_loss,
    }
    if not history:
        return MetricValues(**values)

    last = history[-1][1]
    inception = inception_equity if inception_equity is not None else history[0][1]
    values.update(
        return_1d=trailing_return(history, as_of, 1),
        return_7d=trailing_return(history, as_of, 7),
        return_30d=trailing_return(history, as_of, 30),
        return_ytd=ytd_return(history, as_of),
        return_inception=growth_pct(inception, last),
    )

    window = history
    if window_days is not None:
        start = as_of - dt.timedelta(days=window_days)
        before = [p for p in history if p[0] <= start]
        window = before[-1:] + [p for p in history if p[0] > start]

    equity = [value for _day, value in window]
    scaled = _scaled(equity)
    dd = _drawdown(window, equity, scaled, as_of)
    values.update(
        max_drawdown=dd.max_drawdown,
        max_drawdown_pct=dd.max_drawdown_pct,
        current_drawdown=dd.current_drawdown,
        current_drawdown_pct=dd.current_drawdown_pct,
        days_in_drawdown=dd.days_in_drawdown,
    )

    returns = _returns(scaled)
    if returns is None:
        return MetricValues(**values)
    # Each statistic once: sharpe_ratio and sortino_ratio would compute them again.
    target = periodic_rate(risk_free_rate, periods_per_year)
    daily = sample_std(returns)
    downside = downside_deviation(returns, target=target)
    excess = mean(returns) - target if returns else None
    root_n = math.sqrt(periods_per_year)
    cagr = annualized_return(window[0][1], window[-1][1], len(returns), periods_per_year)
    drawdown_fraction = dd.max_drawdown_pct / 100.0 if dd.max_drawdown_pct else None
    values.update(
        sharpe_ratio=excess / daily * root_n if excess is not None and daily else None,
        sortino_ratio=excess / downside * root_n if excess is not None and downside else None,
        calmar_ratio=calmar_ratio(cagr, drawdown_fraction),
        omega_ratio=omega_ratio(returns, threshold=target),
        volatility_daily=None if daily is None else daily * 100.0,
        volatility_annualized=None if daily is None else daily * root_n * 100.0,
        downside_deviation=None if downside is None else downside * root_n * 100.0,
    )
    if benchmark_returns is not None:
        by_day = {day: r for (day, _equity), r in zip(window[1:], returns, strict=True)}
        bench = benchmark_statistics(
            by_day,
            benchmark_returns,
            risk_free_rate=risk_free_rate,
            periods_per_year=periods_per_year,
        )
        values.update(
            benchmark_return=bench.benchmark_return,
            alpha=bench.alpha,
            beta=bench.beta,
            correlation_to_benchmark=bench.correlation,
        )
    return MetricValues(**values)
