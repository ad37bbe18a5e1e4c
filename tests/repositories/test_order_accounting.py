"""The fast acceptance checks never accept what the full validators refuse (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.errors import ValidationError
from tradestore.repositories.order_accounting import fast_money, storable_at_a_glance
from tradestore.types import check_storable
from tradestore.validation import money

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
    if storable_at_a_glance(value, dialect == "sqlite"):
        assert check_storable("x", value, dialect) == value


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


def test_refused_by_the_full_check() -> None:
    with pytest.raises(ValidationError):
        check_storable("x", Decimal("123456789012345678901"), "postgresql")
    assert not storable_at_a_glance(Decimal("123456789012345678901"), False)
