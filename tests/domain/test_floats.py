"""tradestore.domain.floats: the NaN/inf rule and the moving average, without a database."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.domain.floats import fix_aggregate, moving_average

NAN = math.nan
INF = math.inf


def reference(values: list[float | None], window: int) -> list[float | None]:
    """The rule spelled out: skip None/NaN, IEEE for infinities, exact sum otherwise."""
    result: list[float | None] = []
    for i in range(len(values)):
        defined = [v for v in values[max(0, i - window + 1) : i + 1] if v is not None and v == v]
        if not defined:
            result.append(None)
        elif INF in defined and -INF in defined:
            result.append(NAN)
        elif INF in defined:
            result.append(INF)
        elif -INF in defined:
            result.append(-INF)
        else:
            result.append(math.fsum(defined) / len(defined))
    return result


def same(a: float | None, b: float | None, *, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def test_finite_values_average_over_the_trailing_window() -> None:
    assert moving_average([1.0, 2.0, 3.0, 4.0, 5.0], 2) == [1.0, 1.5, 2.5, 3.5, 4.5]


def test_the_first_points_average_what_is_available() -> None:
    assert moving_average([2.0, 4.0, 6.0], 10) == [2.0, 3.0, 4.0]


def test_window_of_one_is_the_values() -> None:
    values = [0.5, -1.0, 3.25]
    assert moving_average(values, 1) == values


def test_empty_input() -> None:
    assert moving_average([], 5) == []


def test_nan_is_skipped_like_none() -> None:
    assert moving_average([1.0, NAN, 3.0], 3) == [1.0, 1.0, 2.0]
    assert moving_average([1.0, None, 3.0], 3) == [1.0, 1.0, 2.0]


def test_a_window_without_defined_values_is_none() -> None:
    assert moving_average([NAN, None, 1.0], 2) == [None, None, 1.0]


def test_infinities_follow_ieee_and_leave_the_window() -> None:
    result = moving_average([1.0, INF, 2.0, -INF, 4.0, 6.0, 8.0], 3)
    assert result[:3] == [1.0, INF, INF]
    assert math.isnan(result[3] or 0.0)  # +inf and -inf in one window
    assert result[4:6] == [-INF, -INF]
    assert result[6] == 6.0  # both infinities have left the window


def test_huge_finite_values_do_not_overflow_into_nan() -> None:
    big = 1e308
    result = moving_average([big, big, -big, -big, 1.0], 2)
    assert result == [big, big, 0.0, -big, (-big + 1.0) / 2]


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], 0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
anything = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))


@given(st.lists(finite, max_size=300), st.integers(min_value=1, max_value=50))
@settings(max_examples=200)
def test_matches_the_reference_on_finite_data(values: list[float], window: int) -> None:
    got = moving_average(values, window)
    want = reference(list(values), window)
    assert len(got) == len(want)
    assert all(same(a, b, rel=1e-9, abs_=1e-6) for a, b in zip(got, want, strict=True))


@given(
    st.lists(st.one_of(finite, st.sampled_from([NAN, INF, -INF, None])), max_size=200),
    st.integers(min_value=1, max_value=30),
)
@settings(max_examples=200)
def test_matches_the_reference_with_nan_none_and_infinities(
    values: list[float | None], window: int
) -> None:
    got = moving_average(values, window)
    want = reference(values, window)
    assert all(same(a, b, rel=1e-9, abs_=1e-6) for a, b in zip(got, want, strict=True))


def test_fix_aggregate_reads_sqlite_null_as_nan_when_values_were_defined() -> None:
    assert math.isnan(fix_aggregate(None, 2) or 0.0)
    assert fix_aggregate(None, 0) is None
    assert fix_aggregate(1.5, 3) == 1.5
    assert fix_aggregate(INF, 1) == INF


def test_real_binds_nan_as_text_on_sqlite_and_as_a_float_elsewhere() -> None:
    # SQLite binds a float NaN as NULL; Float's own SQLite processor would undo the 'NaN'.
    from sqlalchemy.dialects import postgresql, sqlite

    from tradestore.db.types import Real

    to_sqlite = Real().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert to_sqlite is not None
    assert to_sqlite(NAN) == "NaN"
    assert to_sqlite(INF) == INF
    assert to_sqlite(None) is None
    to_postgres = Real().dialect_impl(postgresql.dialect()).bind_processor(postgresql.dialect())
    value = to_postgres(NAN) if to_postgres is not None else NAN
    assert math.isnan(value)
