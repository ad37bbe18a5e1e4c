"""domain.netting: how one fill splits against the open position of its key. No database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradestore.domain.enums import OrderSide, PositionSide
from tradestore.domain.netting import FillSplit, cash_change, side_of, split_fill

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.mark.parametrize(
    ("open_side", "open_quantity", "fill_side", "quantity", "commission", "expected"),
    [
        # nothing open: all of it opens, on the fill's side
        (None, D(0), BUY, D(5), D("0.5"), FillSplit(D(0), D(0), D(5), D("0.5"), LONG)),
        (None, D(0), SELL, D(5), D("0.5"), FillSplit(D(0), D(0), D(5), D("0.5"), SHORT)),
        # same side: all of it adds
        (LONG, D(3), BUY, D(2), D(1), FillSplit(D(0), D(0), D(2), D(1), LONG)),
        (SHORT, D(3), SELL, D(2), D(1), FillSplit(D(0), D(0), D(2), D(1), SHORT)),
        # the other side, smaller: all of it reduces
        (LONG, D(10), SELL, D(4), D("0.4"), FillSplit(D(4), D("0.4"), D(0), D(0), SHORT)),
        # exactly the open quantity: closes
        (SHORT, D(4), BUY, D(4), D("0.4"), FillSplit(D(4), D("0.4"), D(0), D(0), LONG, True)),
        # past zero: closes and reverses, the commission split pro rata
        (LONG, D(3), SELL, D(4), D("0.4"), FillSplit(D(3), D("0.3"), D(1), D("0.1"), SHORT, True)),
    ],
)
def test_split_fill(
    open_side: PositionSide | None,
    open_quantity: Decimal,
    fill_side: OrderSide,
    quantity: Decimal,
    commission: Decimal,
    expected: FillSplit,
) -> None:
    split = split_fill(
        open_side=open_side,
        open_quantity=open_quantity,
        fill_side=fill_side,
        quantity=quantity,
        commission=commission,
        dialect_name="postgresql",
    )
    assert split == expected
    assert split.reducing + split.increasing == quantity
    assert split.reducing_commission + split.increasing_commission == commission


def test_an_odd_commission_split_adds_up_exactly() -> None:
    split = split_fill(
        open_side=LONG,
        open_quantity=D(1),
        fill_side=SELL,
        quantity=D(3),
        commission=D("0.01"),
        dialect_name="sqlite",
    )
    assert split.reducing_commission + split.increasing_commission == D("0.01")
    assert split.closes


def test_cash_change() -> None:
    assert side_of(BUY) is LONG
    assert side_of(SELL) is SHORT
    assert cash_change(BUY, D(2), D("10.5"), D("0.1"), "postgresql") == D("-21.1")
    assert cash_change(SELL, D(2), D("10.5"), D("0.1"), "postgresql") == D("20.9")
