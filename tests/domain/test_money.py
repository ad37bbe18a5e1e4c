"""The one fast path of the money rules (``storable_at_a_glance``) never decides differently
from the full checks it skips: storability, fitting, and the hot paths' ``fast_money``."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.domain.money import (
    MONEY_CONTEXT,
    SQLITE_SIGNIFICANT_DIGITS,
    _check_in_full,
    _digits,
    _fit_in_full,
    _significant,
    check_storable,
    fast_money,
    fit,
    fit_aggregate,
    storable_at_a_glance,
)
from tradestore.domain.validation import money
from tradestore.errors import ValidationError

decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=Decimal("-1E+25"), max_value=Decimal("1E+25"), places=20),
    st.integers(min_value=-(10**22), max_value=10**22).map(Decimal),
    st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(min_value=-(10**18), max_value=10**18),
        st.integers(min_value=-25, max_value=25),
    ),
)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@given(value=decimals)
@settings(max_examples=500)
def test_storable_at_a_glance_is_sound(dialect: str, value: Decimal) -> None:
    """What the glance accepts, the full check accepts and ``fit`` leaves as it is."""
    if storable_at_a_glance(value, dialect == "sqlite"):
        assert _check_in_full("x", value, dialect) == value
        if not value.is_zero():
            assert _fit_in_full(value, dialect) == value
        if dialect == "sqlite":  # so fit_aggregate, which rounds beyond 15 digits, keeps it too
            assert _digits(value)[0] <= SQLITE_SIGNIFICANT_DIGITS


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@given(value=decimals)
@settings(max_examples=300)
def test_the_fast_path_changes_no_verdict(dialect: str, value: Decimal) -> None:
    """check_storable, fit and fit_aggregate with the fast path = the full rules without it."""
    try:
        expected: Decimal | type[Exception] = _check_in_full("x", value, dialect)
    except ValidationError as exc:
        expected = type(exc)
    if isinstance(expected, Decimal):
        assert check_storable("x", value, dialect) == expected
    else:
        with pytest.raises(expected):
            check_storable("x", value, dialect)
    if not value.is_zero():
        assert fit(value, dialect) == _fit_in_full(value, dialect)
    rounded = value
    if dialect == "sqlite" and _digits(value)[0] > SQLITE_SIGNIFICANT_DIGITS:
        with localcontext(MONEY_CONTEXT):
            rounded = _significant(value, SQLITE_SIGNIFICANT_DIGITS)
    expected_aggregate = rounded if rounded.is_zero() else _fit_in_full(rounded, dialect)
    assert fit_aggregate(value, dialect) == expected_aggregate


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_non_finite_values_are_never_storable_at_a_glance(text: str) -> None:
    assert not storable_at_a_glance(Decimal(text), True)
    assert not storable_at_a_glance(Decimal(text), False)
    assert fast_money(Decimal(text), True, positive=False) is None


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("positive", [True, False])
@given(value=decimals)
@settings(max_examples=300)
def test_fast_money_agrees_with_validation(dialect: str, positive: bool, value: Decimal) -> None:
    fast = fast_money(value, dialect == "sqlite", positive=positive)
    if fast is None:
        return
    options = {"positive": True} if positive else {"non_negative": True}
    assert money("x", value, dialect, **options) == fast


@pytest.mark.parametrize(
    ("value", "sqlite", "expected"),
    [
        ("149.95", True, True),
        ("123456789012345", True, True),
        ("1234567890123456", True, False),  # 16 digits: SQLite would round it
        ("1234567890123456", False, True),
        ("0.000000000000000001", False, False),  # scientific str(): the full check decides
        ("1.000000000000000000000", False, False),  # >18 decimals written out
        ("-0.5", True, True),
        ("-1234567.890123", True, True),  # 15 characters: storable without counting digits
        ("0.000001234567", False, True),  # 14 characters, 12 decimals
        ("99999999999999999999", False, True),  # 20 integer digits
    ],
)
def test_storable_at_a_glance_examples(value: str, sqlite: bool, expected: bool) -> None:
    assert storable_at_a_glance(Decimal(value), sqlite) is expected


def test_fast_money_boundaries() -> None:
    """The mark-to-market price shortcut: a positive, plainly storable Decimal, nothing else."""
    assert fast_money(Decimal("155.50"), True, positive=True) == Decimal("155.50")
    assert fast_money(Decimal("123456789012345"), True, positive=True) is not None
    assert fast_money(Decimal("1234567890123456"), True, positive=True) is None  # 16 digits
    assert fast_money(Decimal("1234567890123456"), False, positive=True) is not None
    assert fast_money(Decimal("1E-19"), False, positive=True) is None
    assert fast_money(Decimal("1E+20"), False, positive=True) is None  # 21 integer digits
    assert fast_money(Decimal(0), True, positive=True) is None
    assert fast_money(Decimal(0), True, positive=False) == 0
    assert fast_money(Decimal(-1), True, positive=False) is None
    assert fast_money("155.5", True, positive=True) is None


def test_refused_by_the_full_check() -> None:
    with pytest.raises(ValidationError):
        check_storable("x", Decimal("123456789012345678901"), "postgresql")
    assert not storable_at_a_glance(Decimal("123456789012345678901"), False)
