"""Metric values worked out independently of ``tradestore.domain.metrics``: 60-digit Decimal
arithmetic on the Decimal equity (exact Fractions where the data stay small), rounded to a
float only at the end. docs/reference/metrics.md is the specification; nothing
here shares code with the implementation, so an error in its float algorithms (rounded means,
cancelling sums) shows up as a disagreement.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Context, Decimal, localcontext
from fractions import Fraction

D = Decimal
F = Fraction
_WIDE = Context(prec=60)


def sqrt(value: Fraction) -> float:
    return float(_WIDE.sqrt(_WIDE.divide(D(value.numerator), D(value.denominator))))


def random_walk(days: int, *, stream: int) -> list[tuple[dt.date, Decimal]]:
    """``days`` trading days (weekdays) of equity in cents, a daily move of about 1.2 %."""
    rng = random.Random(stream)
    equity, day, points = 10_000.0, dt.date(2015, 1, 2), []
    for _ in range(days):
        equity *= 1 + rng.gauss(0.0004, 0.012)
        points.append((day, D(f"{equity:.2f}")))
        day += dt.timedelta(days=3 if day.weekday() == 4 else 1)
    return points


def exact_returns(equity: list[Decimal]) -> list[Fraction]:
    return [F(current) / F(previous) - 1 for previous, current in itertools.pairwise(equity)]


def exact_std(values: list[Fraction]) -> Fraction:
    """The sample variance (n - 1), exact."""
    n = len(values)
    centre = sum(values, F(0)) / n
    return sum(((v - centre) ** 2 for v in values), F(0)) / (n - 1)


def reference(equity: list[Decimal], periods_per_year: int = 252) -> dict[str, float | None]:
    """Sharpe, Sortino, Omega, volatilities, downside deviation, drawdown %, Calmar (rf = 0).

    In 60-digit Decimals (exact Fractions grow a denominator per day and take seconds per
    statistic): every intermediate is within 1e-55 of the exact value.
    """
    with localcontext(_WIDE):
        returns = [current / previous - 1 for previous, current in itertools.pairwise(equity)]
        n = len(returns)
        mean = sum(returns, D(0)) / n
        variance = sum(((r - mean) ** 2 for r in returns), D(0)) / (n - 1)
        shortfall = sum((r * r for r in returns if r < 0), D(0)) / n
        gains = sum((r for r in returns if r > 0), D(0))
        losses = -sum((r for r in returns if r < 0), D(0))
        peak, worst = equity[0], D(0)
        for value in equity:
            peak = max(peak, value)
            worst = max(worst, (peak - value) / peak)
        root_n = D(periods_per_year).sqrt()
        cagr = (equity[-1] / equity[0]) ** (D(periods_per_year) / n) - 1
        sd, dd = variance.sqrt(), shortfall.sqrt()
        return {
            "sharpe_ratio": float(mean / sd * root_n) if variance else None,
            "sortino_ratio": float(mean / dd * root_n) if shortfall else None,
            "omega_ratio": float(gains / losses) if losses else None,
            "volatility_daily": float(sd * 100),
            "volatility_annualized": float(sd * root_n * 100),
            "downside_deviation": float(dd * root_n * 100),
            "max_drawdown_pct": float(worst * 100),
            "calmar_ratio": float(cagr / worst) if worst else None,
        }


def max_money_drawdown(equity: list[Decimal]) -> Decimal:
    peak, worst = equity[0], D(0)
    for value in equity:
        peak = max(peak, value)
        worst = max(worst, _WIDE.subtract(peak, value))
    return worst
