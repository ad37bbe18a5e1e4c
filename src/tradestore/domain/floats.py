"""Floats that may be NaN or infinite: one meaning on both backends.

Rewards and losses of a diverging RL run, and ratios such as a profit factor without losses,
are legitimately NaN or infinite. ``db.types.Real`` stores them faithfully (PostgreSQL float8
natively; SQLite keeps ±inf as REAL and NaN as the text ``'NaN'``, because SQLite turns a bound
NaN into NULL). Reading a row back always returns exactly what was written.

Where values are *combined* (averages, maxima, rankings, moving averages) the two backends
disagree out of the box: PostgreSQL's AVG propagates NaN and sorts NaN above +inf; SQLite's AVG
counts the text 'NaN' as 0, and returns NULL where IEEE arithmetic gives NaN (+inf + -inf).
tradestore applies one rule on both:

* **NaN means "undefined" and is skipped**, like NULL (pandas' ``skipna``): an average, maximum
  or ranking ignores it; an aggregate over no defined value is ``None``.
* **±inf are values** and follow IEEE arithmetic: an average that includes +inf is +inf, one
  that includes both +inf and -inf is NaN; +inf ranks first, -inf last.

The SQL helpers of ``tradestore.db.float_sql`` express the rule in both dialects and
:func:`fix_aggregate` repairs the one case SQL cannot express on SQLite (a NaN result);
:func:`moving_average` applies the same rule in Python, so a reward curve is identical
whichever backend stored the episodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate, repeat
from operator import sub, truediv
from typing import Any

NAN = float("nan")


def fix_aggregate(value: Any, count: int) -> float | None:
    """The Python value of an ``average``/``maximum`` over ``count`` defined inputs.

    SQLite returns NULL where the IEEE result is NaN (+inf and -inf averaged); with defined
    inputs present, that NULL means NaN.
    """
    if value is None:
        return NAN if count > 0 else None
    return float(value)


def moving_average(values: Sequence[float | None], window: int) -> list[float | None]:
    """Trailing mean of the last ``window`` values at every position, NaN-aware.

    The first ``window - 1`` positions average what is available (pandas' ``min_periods=1``).
    NaN and None are skipped; a window with no defined value gives None. ±inf follow IEEE.

    Finite data takes a prefix-sum path that runs in C (absolute error about
    ``len(values) * eps * max|value|``, far below what a plot shows); data with NaN, None or
    infinities takes an exact sliding window with counters, recomputing the finite sum with
    ``math.fsum`` every ``window`` steps so rounding never accumulates.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    n = len(values)
    if n == 0:
        return []
    try:
        total = sum(values)  # type: ignore[arg-type]
    except TypeError:  # None present
        return _moving_average_nonfinite(values, window)
    if math.isfinite(total):
        prefix: list[float] = list(accumulate(values, initial=0.0))  # type: ignore[arg-type]
        # Finite inputs can still overflow a prefix sum (1e308 + 1e308).
        if math.isfinite(max(prefix)) and math.isfinite(min(prefix)):
            head = min(window, n)
            result: list[float | None] = list(
                map(truediv, prefix[1 : head + 1], range(1, head + 1))
            )
            if n > window:
                differences = map(sub, prefix[window + 1 :], prefix[1 : n - window + 1])
                result.extend(map(truediv, differences, repeat(window)))
            return result
    return _moving_average_nonfinite(values, window)


def _moving_average_nonfinite(values: Sequence[float | None], window: int) -> list[float | None]:
    result: list[float | None] = []
    finite_sum = 0.0
    finite_count = 0
    positive = 0
    negative = 0
    since_exact = 0

    def classify(value: float | None) -> int:
        # 0: skipped (None/NaN), 1: finite, 2: +inf, 3: -inf
        if value is None or value != value:
            return 0
        if value == math.inf:
            return 2
        if value == -math.inf:
            return 3
        return 1

    for i, value in enumerate(values):
        kind = classify(value)
        if kind == 1:
            finite_sum += value  # type: ignore[operator]
            finite_count += 1
        elif kind == 2:
            positive += 1
        elif kind == 3:
            negative += 1
        if i >= window:
            old = values[i - window]
            old_kind = classify(old)
            if old_kind == 1:
                finite_sum -= old  # type: ignore[operator]
                finite_count -= 1
            elif old_kind == 2:
                positive -= 1
            elif old_kind == 3:
                negative -= 1
        since_exact += 1
        if since_exact >= window:
            start = max(0, i - window + 1)
            finite = [v for v in values[start : i + 1] if v is not None and math.isfinite(v)]
            try:
                finite_sum = math.fsum(finite)
            except OverflowError:  # the exact sum exceeds the float range
                finite_sum = sum(finite)
            since_exact = 0
        defined_count = finite_count + positive + negative
        if defined_count == 0:
            result.append(None)
        elif positive and negative:
            result.append(NAN)
        elif positive:
            result.append(math.inf)
        elif negative:
            result.append(-math.inf)
        elif math.isfinite(finite_sum):
            result.append(finite_sum / finite_count)
        else:  # the sum overflowed (values near the float limit): divide first, then add
            start = max(0, i - window + 1)
            finite = [v for v in values[start : i + 1] if v is not None and math.isfinite(v)]
            result.append(math.fsum(v / finite_count for v in finite))
    return result
