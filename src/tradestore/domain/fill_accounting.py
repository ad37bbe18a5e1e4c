"""Fill accounting: filled quantity, volume-weighted average price, commission, slippage.

Pure functions on Decimals, shared by ``record_fill`` and ``ingest_fills`` so that one fill
recorded live and the same fill imported in bulk leave the order in exactly the same state.

Definitions (docs/guide/orders-and-fills.md repeats them for bot authors):

* **filled quantity** = sum of the fills' quantities; never above the order quantity.
* **VWAP** (``filled_avg_price``) = sum(quantity x price) / sum(quantity) over *all* fills of
  the order, recomputed from the fills rather than updated incrementally, so rounding never
  accumulates: the stored value is always the exact VWAP rounded once to what the backend
  stores (``money.fit``: 18 decimals; on SQLite, the decimal of the nearest double).
* **commission** = sum of the fills' commissions.
* **slippage** = how much worse than the reference price the order executed, per unit, in
  price units, *adverse positive*: ``VWAP - reference`` for a buy, ``reference - VWAP`` for a
  sell. Negative slippage is price improvement. The reference is the order's
  ``reference_price`` when the bot gave one (the quote or mid it decided on: the only
  reference a market order has), else the limit price (limit, stop_limit), else the stop
  price (stop, trailing_stop). With no reference, slippage is NULL, which the
  "average slippage by order type" query skips. Cost in currency = slippage x filled quantity.
* **slippage in basis points** = slippage x 10,000 / reference price, so that tickers of
  different prices compare: the exact quotient rounded to 4 decimals (a hundredth of a
  hundredth of a basis point), ties away from zero, from the *stored* slippage. Same sign as
  the slippage (adverse positive). The database computes the same figure in NUMERIC with
  integer division (``slippage_bps`` below is the rule both follow). It is stored as the
  nearest double, as every ratio is: a tiny reference price makes it larger than a money
  column holds (a slippage of 0.01 on a price of 1e-18 is 1e20 bps).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final

from tradestore.domain.enums import OrderSide
from tradestore.domain.money import MONEY_CONTEXT

#: Sums, products and quotients of amounts run in MONEY_CONTEXT (100 digits): exact for
#: anything the backends store, so rounding happens once, when the result is stored.

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class FillTotals:
    """What an order's fills add up to. ``add`` returns a new total; nothing is mutated."""

    filled_quantity: Decimal = _ZERO
    #: sum(quantity x price), exact (MONEY_CONTEXT keeps 100 digits).
    notional: Decimal = _ZERO
    commission: Decimal = _ZERO
    num_fills: int = 0
    first_filled_at: dt.datetime | None = None
    last_filled_at: dt.datetime | None = None

    def add(
        self, quantity: Decimal, price: Decimal, commission: Decimal, filled_at: dt.datetime
    ) -> FillTotals:
        exact = MONEY_CONTEXT
        return FillTotals(
            filled_quantity=exact.add(self.filled_quantity, quantity),
            notional=exact.add(self.notional, exact.multiply(quantity, price)),
            commission=exact.add(self.commission, commission),
            num_fills=self.num_fills + 1,
            first_filled_at=filled_at
            if self.first_filled_at is None
            else min(self.first_filled_at, filled_at),
            last_filled_at=filled_at
            if self.last_filled_at is None
            else max(self.last_filled_at, filled_at),
        )

    @property
    def average_price(self) -> Decimal | None:
        """The exact VWAP (to 100 digits), or None before the first fill."""
        if self.filled_quantity == 0:
            return None
        return MONEY_CONTEXT.divide(self.notional, self.filled_quantity)


def totals_of(fills: Iterable[tuple[Decimal, Decimal, Decimal, dt.datetime]]) -> FillTotals:
    """Totals of ``(quantity, price, commission, filled_at)`` tuples."""
    totals = FillTotals()
    for quantity, price, commission, filled_at in fills:
        totals = totals.add(quantity, price, commission, filled_at)
    return totals


def vwap(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Volume-weighted average price of ``(quantity, price)`` pairs; None if there are none."""
    quantity = notional = _ZERO
    with localcontext(MONEY_CONTEXT):
        for fill_quantity, price in fills:
            quantity += fill_quantity
            notional += fill_quantity * price
        return notional / quantity if quantity else None


def reference_price(
    *,
    reference: Decimal | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
) -> Decimal | None:
    """The price slippage is measured against (see the module docstring for the order)."""
    if reference is not None:
        return reference
    if limit_price is not None:
        return limit_price
    return stop_price


def slippage(side: OrderSide, average_price: Decimal, reference: Decimal | None) -> Decimal | None:
    """Per-unit slippage, adverse positive; None without a reference price."""
    if reference is None:
        return None
    if side is OrderSide.BUY:
        return MONEY_CONTEXT.subtract(average_price, reference)
    return MONEY_CONTEXT.subtract(reference, average_price)


#: Basis points per unit, and the scale the basis-point figure is kept to.
BPS_PER_UNIT: Final = Decimal(10_000)
BPS_DECIMALS: Final = 4
_BPS_STEPS = Decimal(10) ** BPS_DECIMALS


def slippage_bps(slippage: Decimal | None, reference: Decimal | None) -> Decimal | None:
    """``slippage`` in basis points of ``reference`` (positive), rounded to 4 decimals with
    ties away from zero; None without either.

    Integer division and its remainder, not a rounded quotient: the one rule the SQL
    (``div`` on NUMERIC) and Python follow, so both backends store the same figure.
    """
    if slippage is None or reference is None:
        return None
    with localcontext(MONEY_CONTEXT):
        scaled = slippage * BPS_PER_UNIT * _BPS_STEPS
        whole, remainder = divmod(scaled, reference)  # truncated towards zero
        if 2 * abs(remainder) >= reference:
            whole += 1 if scaled > 0 else -1
        return (whole / _BPS_STEPS).quantize(Decimal(1).scaleb(-BPS_DECIMALS))
