"""VWAP, fill totals and slippage as pure functions (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.domain.enums import OrderSide
from tradestore.domain.fill_accounting import FillTotals, reference_price, slippage, totals_of, vwap

D = Decimal
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)

quantities = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4)
prices = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4)
fills_strategy = st.lists(st.tuples(quantities, prices), min_size=1, max_size=30)


def test_vwap_by_hand() -> None:
    assert vwap([(D("20"), D("249.9")), (D("30"), D("249.8"))]) == D("249.84")
    assert vwap([(D("1"), D("10")), (D("3"), D("20"))]) == D("17.5")
    assert vwap([]) is None


def test_vwap_of_a_repeating_decimal_keeps_many_digits() -> None:
    result = vwap([(D("1"), D("1")), (D("2"), D("2"))])  # 5/3
    assert result is not None
    assert str(result).startswith("1.6666666666666666666666666666666")


@given(fills_strategy)
@settings(max_examples=200)
def test_vwap_lies_between_the_extreme_prices(fills: list[tuple[Decimal, Decimal]]) -> None:
    result = vwap(fills)
    assert result is not None
    assert min(p for _, p in fills) <= result <= max(p for _, p in fills)


@given(fills_strategy, st.randoms())
@settings(max_examples=200)
def test_totals_do_not_depend_on_arrival_order(
    fills: list[tuple[Decimal, Decimal]], rnd: object
) -> None:
    legs = [(q, p, q * D("0.001"), T0 + dt.timedelta(seconds=i)) for i, (q, p) in enumerate(fills)]
    shuffled = list(legs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = totals_of(legs), totals_of(shuffled)
    assert a.filled_quantity == b.filled_quantity == sum(q for q, *_ in legs)
    assert a.notional == b.notional
    assert a.commission == b.commission
    assert a.average_price == b.average_price == vwap(fills)
    assert a.first_filled_at == T0
    assert a.last_filled_at == T0 + dt.timedelta(seconds=len(fills) - 1)
    assert a.num_fills == len(fills)


def test_empty_totals() -> None:
    totals = FillTotals()
    assert totals.average_price is None
    assert totals.filled_quantity == 0
    assert totals.first_filled_at is None


def test_add_returns_a_new_total() -> None:
    empty = FillTotals()
    one = empty.add(D("2"), D("10"), D("0.5"), T0)
    assert empty.num_fills == 0
    assert (one.filled_quantity, one.notional, one.commission) == (D("2"), D("20"), D("0.5"))


def test_slippage_is_adverse_positive() -> None:
    # A buy that paid more than its reference slipped; a sell that received less slipped.
    assert slippage(OrderSide.BUY, D("100.05"), D("100")) == D("0.05")
    assert slippage(OrderSide.SELL, D("99.95"), D("100")) == D("0.05")
    # Price improvement is negative.
    assert slippage(OrderSide.BUY, D("99.9"), D("100")) == D("-0.1")
    assert slippage(OrderSide.SELL, D("100.1"), D("100")) == D("-0.1")
    assert slippage(OrderSide.BUY, D("100"), None) is None


def test_reference_price_prefers_the_bots_reference_then_limit_then_stop() -> None:
    assert reference_price(reference=D("1"), limit_price=D("2"), stop_price=D("3")) == D("1")
    assert reference_price(reference=None, limit_price=D("2"), stop_price=D("3")) == D("2")
    assert reference_price(reference=None, limit_price=None, stop_price=D("3")) == D("3")
    assert reference_price(reference=None, limit_price=None, stop_price=None) is None
