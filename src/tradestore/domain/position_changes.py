"""Changing an open position: its stops, a trailing stop, adding to it. Pure, no database.

The rules live here so that ``open``, ``update``, ``trail_stop``, ``scale_in`` and
``stops_hit`` apply one definition each, and so they can be tested without a database.

* **Side rule of the stops** (``check_stops``): a long's stop is below the current price and
  its target above its entry price; a short's are reversed. The stop is held to the price *at
  the time it is set* (the mark, or the price a trailing stop follows), so a trailing stop may
  lock in a profit: a long's stop may rise above its entry once the price has. The target is
  held to the entry price, as the schema's CHECK ``ck_positions_stops_by_side`` holds it; the
  schema holds the stop to being positive only, since a stored mark moves on without it. Adding
  to a position moves the entry price, so a scale-in that would put the entry on the wrong
  side of the target is refused.
* **Trailing stop** (``trailed_stop``): the stop follows the price at a fixed distance or
  percentage and only ever moves in the position's favour (up for a long, down for a short).
* **Crossed levels** (``crossed``): a long's stop is hit at or below it and its target at or
  above it; a short's reversed.
* **Scaling in** (``scale_in_figures``): the entry price becomes the quantity-weighted average
  of the open quantity at the old entry and the added quantity at its price, computed exactly
  and rounded once with ``money.fit``, as an order's VWAP is (``fill_accounting``). The
  quantity is a sum and is never rounded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final

from tradestore.domain import pnl
from tradestore.domain.enums import ExitReason, PositionSide
from tradestore.domain.fill_accounting import vwap
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.errors import ValidationError

_HUNDRED = Decimal(100)


class Unchanged(enum.Enum):
    """The type of ``UNCHANGED``: an argument left out, as opposed to one set to None."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default of ``positions.update``'s arguments: keep the stored value (None clears it).
UNCHANGED: Final = Unchanged.UNCHANGED


def check_stops(
    side: PositionSide,
    entry: Decimal,
    stop: Decimal | None,
    take: Decimal | None,
    *,
    price: Decimal,
) -> None:
    """A long's stop is below ``price`` (the price when it is set) and its target above
    ``entry``; a short's reversed."""
    check_stop(side, stop, price)
    check_target(side, entry, take)


def check_stop(side: PositionSide, stop: Decimal | None, price: Decimal) -> None:
    """A long's stop below ``price``, a short's above: a stop the price has already passed
    would fire at once, which is a close, not a stop."""
    if stop is None:
        return
    if side is PositionSide.LONG and stop >= price:
        raise ValidationError("stop_loss_price", stop, f"a long's stop must be < {price}")
    if side is PositionSide.SHORT and stop <= price:
        raise ValidationError("stop_loss_price", stop, f"a short's stop must be > {price}")


def check_target(side: PositionSide, entry: Decimal, take: Decimal | None) -> None:
    """A long's target above its entry price, a short's below (the schema's rule)."""
    if take is None:
        return
    if side is PositionSide.LONG and take <= entry:
        raise ValidationError("take_profit_price", take, f"a long's target must be > {entry}")
    if side is PositionSide.SHORT and take >= entry:
        raise ValidationError("take_profit_price", take, f"a short's target must be < {entry}")


def trailed_stop(
    side: PositionSide,
    stop: Decimal | None,
    price: Decimal,
    *,
    distance: Decimal | None,
    percent: Decimal | None,
    dialect_name: str,
) -> Decimal | None:
    """The stop ``distance`` (price units) or ``percent`` away from ``price``, or None when it
    would not move the stop in the position's favour (or would not be a price at all).

    Exactly one of ``distance`` and ``percent`` is given (the caller validates). The level is
    rounded once for the backend (``money.fit``); a percentage of a price has more digits than
    either.
    """
    with localcontext(MONEY_CONTEXT):
        if distance is not None:
            offset = distance
        else:
            assert percent is not None
            offset = price * percent / _HUNDRED
        level = fit(price - offset if side is PositionSide.LONG else price + offset, dialect_name)
    if level <= 0:
        return None
    if stop is None:
        return level
    favourable = level > stop if side is PositionSide.LONG else level < stop
    return level if favourable else None


def crossed(
    side: PositionSide, price: Decimal, stop: Decimal | None, take: Decimal | None
) -> ExitReason | None:
    """Which level ``price`` reached: STOP_LOSS, TAKE_PROFIT or None. The stop wins when a
    (malformed) pair of levels is reached at once: the loss is the one to limit."""
    if side is PositionSide.LONG:
        if stop is not None and price <= stop:
            return ExitReason.STOP_LOSS
        if take is not None and price >= take:
            return ExitReason.TAKE_PROFIT
    else:
        if stop is not None and price >= stop:
            return ExitReason.STOP_LOSS
        if take is not None and price <= take:
            return ExitReason.TAKE_PROFIT
    return None


@dataclass(frozen=True)
class ScaleInFigures:
    """What a scale-in writes to the open row."""

    quantity: Decimal
    entry_price: Decimal
    commission: Decimal
    current_price: Decimal
    unrealized_pnl: Decimal
    unrealized_pnl_pct: float
    max_favorable_excursion: Decimal
    max_adverse_excursion: Decimal


def scale_in_figures(
    *,
    side: PositionSide,
    open_quantity: Decimal,
    entry_price: Decimal,
    open_commission: Decimal,
    max_favorable_excursion: Decimal | None,
    max_adverse_excursion: Decimal | None,
    take_profit_price: Decimal | None,
    quantity: Decimal,
    price: Decimal,
    commission: Decimal,
    dialect_name: str,
) -> ScaleInFigures:
    """Add ``quantity`` at ``price`` (and its ``commission``) to the open position.

    The position is marked at ``price``, the freshest price there is (a partial close marks
    at its exit price for the same reason). Raises ``ValidationError`` when the new entry
    price is on the wrong side of the stop or the target. The quantity is an exact sum and
    is never rounded: whether the backend stores it is the caller's check (the one an order's
    filled quantity passes, ``order_accounting.exact_sum``). The commission is fitted like
    any derived amount: after a partial close the open row's commission is a pro-rata share
    with up to 18 decimals, and on SQLite adding a fee to it may land between two doubles.
    """
    with localcontext(MONEY_CONTEXT):
        total = open_quantity + quantity
        fee = open_commission + commission
    average = vwap(((open_quantity, entry_price), (quantity, price)))
    assert average is not None  # both quantities are positive
    entry = fit(average, dialect_name)
    check_target(side, entry, take_profit_price)
    best, worst = pnl.excursions(side, max_favorable_excursion, max_adverse_excursion, price)
    return ScaleInFigures(
        quantity=total,
        entry_price=entry,
        commission=fit(fee, dialect_name),
        current_price=price,
        unrealized_pnl=fit(pnl.pnl(side, total, entry, price), dialect_name),
        unrealized_pnl_pct=pnl.pnl_pct(side, entry, price),
        max_favorable_excursion=best,
        max_adverse_excursion=worst,
    )
