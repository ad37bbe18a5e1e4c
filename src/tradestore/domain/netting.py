"""Position keeping from fills (netting): how one fill moves the position of its key. Pure.

A bot (or an order) that keeps positions from fills has at most one open position per
netting key: bot, ticker and strategy (no strategy is a key of its own). Each new fill of a
keeping order moves it:

* a BUY adds to a long or reduces a short, a SELL adds to a short or reduces a long;
* the **increasing** part raises the quantity; the entry price becomes the VWAP of the
  increasing fills (``position_changes.scale_in_figures``) and the fill's share of commission
  for that part is added to the position's pending entry commission;
* the **reducing** part is a partial close at the fill price (``pnl.close_figures``):
  realized P&L = side x (price - entry) x quantity - (the pro-rata share of the pending entry
  commission + the fill's share of commission for that part);
* reaching zero closes the position; going past zero **reverses** it: the whole position is
  closed and the rest of the fill opens a new one on the other side at the fill price, with
  the rest of the fill's commission.

The fill's commission is split between the two parts pro rata to quantity with
``pnl.split_amount``, so the pieces add up to it exactly. The bot's cash moves by
``cash_change`` for every fill of a keeping order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from tradestore.domain.enums import OrderSide, PositionSide
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.domain.pnl import split_amount

_ZERO = Decimal(0)


def side_of(order_side: OrderSide) -> PositionSide:
    """The position a fill of this side builds: a buy is long, a sell short."""
    return PositionSide.LONG if order_side is OrderSide.BUY else PositionSide.SHORT


@dataclass(frozen=True, slots=True)
class FillSplit:
    """One fill against the open position of its key: what it reduces, what it adds."""

    #: Quantity taken off the open position (zero when it only adds).
    reducing: Decimal
    #: The fill's commission attributed to the reducing part (an exit commission).
    reducing_commission: Decimal
    #: Quantity added: to the open position on the same side, or to a new one on
    #: ``side`` when there is none or the fill reverses it.
    increasing: Decimal
    #: The rest of the fill's commission (an entry commission).
    increasing_commission: Decimal
    #: The side of the increasing part: the fill's (a buy is long).
    side: PositionSide
    #: The reducing part is the whole open quantity: the position closes (and, with an
    #: increasing part, reverses).
    closes: bool = False


def split_fill(
    *,
    open_side: PositionSide | None,
    open_quantity: Decimal,
    fill_side: OrderSide,
    quantity: Decimal,
    commission: Decimal,
    dialect_name: str,
) -> FillSplit:
    """Split a fill of ``quantity`` against an open position (``open_side`` None: none).

    ``closes`` is set when the reducing part is the whole open quantity: the caller closes
    the position, and opens the reversed one with ``increasing`` when that is above zero.
    """
    side = side_of(fill_side)
    if open_side is None or open_side is side:
        return FillSplit(_ZERO, _ZERO, quantity, commission, side)
    reducing = min(quantity, open_quantity)
    with localcontext(MONEY_CONTEXT):
        increasing = quantity - reducing
    exit_fee, entry_fee = split_amount(commission, reducing, quantity, dialect_name)
    return FillSplit(reducing, exit_fee, increasing, entry_fee, side, reducing == open_quantity)


def cash_change(
    fill_side: OrderSide, quantity: Decimal, price: Decimal, commission: Decimal, dialect_name: str
) -> Decimal:
    """How a fill moves the bot's cash: -(signed quantity x price) - commission, where a buy's
    quantity is positive and a sell's negative; rounded once for the backend (``money.fit``),
    which leaves it exact whenever the product has at most 18 decimals (on SQLite, when it
    survives a double)."""
    with localcontext(MONEY_CONTEXT):
        cost = quantity * price
        signed = cost if fill_side is OrderSide.BUY else -cost
        return fit(-signed - commission, dialect_name)
