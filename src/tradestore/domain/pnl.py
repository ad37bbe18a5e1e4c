"""Position arithmetic: P&L, excursions, partial closes. Pure functions, no database.

Everything here works on ``Decimal`` under ``money.MONEY_CONTEXT`` (100 digits, so products of
two stored amounts stay exact) and rounds a *derived* amount only once, at the end, with
``money.fit`` for the backend that will store it. Inputs are assumed already validated (the
repository calls ``validation.money`` first); the checks here are the ones that need the open
position's stored values (a close larger than the open quantity, a close before the open).

Sign conventions (see docs/guide/positions.md):

* a long gains when the price rises, a short when it falls;
* unrealized P&L is gross (the entry commission stays in ``positions.commission``);
* realized P&L is net of every commission of the closed part: its pro-rated share of the entry
  commission plus the exit commission. Slippage is recorded, never deducted: the exit price is
  the price actually obtained, so it already contains the slippage.
* percentages are percent (``2.5`` means 2.5 %), relative to the cost basis entry * quantity;
* excursions are *prices*: the best (favorable) and worst (adverse) price seen while the
  position was open, entry and exit included. For a long favorable is the highest price, for a
  short the lowest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, localcontext

from tradestore.domain.enums import PositionSide
from tradestore.domain.money import (
    MONEY_CONTEXT,
    check_storable,
    fit,
)
from tradestore.errors import PrecisionError, ValidationError

_HUNDRED = Decimal(100)
_SECONDS_PER_HOUR = 3600.0


def price_move(side: PositionSide, entry_price: Decimal, price: Decimal) -> Decimal:
    """Gain per unit at ``price``: price - entry for a long, entry - price for a short."""
    with localcontext(MONEY_CONTEXT):
        return price - entry_price if side is PositionSide.LONG else entry_price - price


def pnl(side: PositionSide, quantity: Decimal, entry_price: Decimal, price: Decimal) -> Decimal:
    """Exact gross P&L of ``quantity`` units entered at ``entry_price`` and valued at ``price``."""
    with localcontext(MONEY_CONTEXT):
        return price_move(side, entry_price, price) * quantity


def pnl_pct(side: PositionSide, entry_price: Decimal, price: Decimal) -> float:
    """Gross P&L in percent of the entry price (independent of quantity).

    A float statistic, so it is computed in floating point from the exact price move: a
    100-digit Decimal division would cost more than the rest of a mark and change nothing
    at double precision.
    """
    return float(price_move(side, entry_price, price)) / float(entry_price) * 100.0


def excursions(
    side: PositionSide, favorable: Decimal | None, adverse: Decimal | None, price: Decimal
) -> tuple[Decimal, Decimal]:
    """Fold ``price`` into the (favorable, adverse) prices seen so far.

    For a long the favorable price is the highest, the adverse the lowest; a short reverses
    both. ``None`` means nothing was seen yet.
    """
    if side is PositionSide.LONG:
        best = price if favorable is None else max(favorable, price)
        worst = price if adverse is None else min(adverse, price)
    else:
        best = price if favorable is None else min(favorable, price)
        worst = price if adverse is None else max(adverse, price)
    return best, worst


def holding_period_hours(opened_at: dt.datetime, closed_at: dt.datetime) -> float:
    return (closed_at - opened_at).total_seconds() / _SECONDS_PER_HOUR


def split_amount(
    total: Decimal, part: Decimal, whole: Decimal, dialect_name: str
) -> tuple[Decimal, Decimal]:
    """Split ``total`` pro rata into (share for ``part`` of ``whole``, the rest).

    Both pieces are storable on ``dialect_name`` and add up to ``total`` exactly, so a position
    closed in several parts never creates or loses commission. The share starts at the finest
    precision the backend stores and is rounded more coarsely only when the rest would
    otherwise carry more significant digits than SQLite keeps (a small share of a large total).
    """
    if total.is_zero() or part == whole:
        return (total, Decimal(0)) if part == whole else (Decimal(0), total)
    with localcontext(MONEY_CONTEXT):
        exact = total * part / whole
        share = fit(exact, dialect_name)
        exponent = share.as_tuple().exponent
        assert isinstance(exponent, int)
        # Coarser and coarser shares until the rest is storable too. On the total's own
        # grid the rest is not always storable on SQLite (a 17-digit total minus a share
        # can land between two doubles), so the loop ends only on a storable rest, at the
        # latest with a share of zero (the rest is then the stored total itself).
        while not share.is_zero():
            rest = total - share
            if fit(rest, dialect_name) == rest:
                return share, rest
            exponent += 1
            share = exact.quantize(Decimal(1).scaleb(exponent))
        return Decimal(0), total


@dataclass(frozen=True)
class CloseFigures:
    """Everything a close writes, computed from the open row and the close arguments."""

    quantity: Decimal
    remaining_quantity: Decimal
    #: Entry commission attributed to the closed part / left on the open remainder.
    entry_commission: Decimal
    remaining_commission: Decimal
    #: Commission recorded on the closed row: entry share + exit commission.
    commission: Decimal
    gross_pnl: Decimal
    realized_pnl: Decimal
    realized_pnl_pct: float
    max_favorable_excursion: Decimal
    max_adverse_excursion: Decimal
    holding_period_hours: float
    #: Unrealized P&L of the remainder, marked at the exit price (zero for a full close).
    remaining_unrealized_pnl: Decimal

    @property
    def is_full(self) -> bool:
        return self.remaining_quantity.is_zero()


def close_figures(
    *,
    side: PositionSide,
    open_quantity: Decimal,
    entry_price: Decimal,
    open_commission: Decimal,
    max_favorable_excursion: Decimal | None,
    max_adverse_excursion: Decimal | None,
    opened_at: dt.datetime,
    exit_price: Decimal,
    close_quantity: Decimal | None,
    exit_commission: Decimal,
    closed_at: dt.datetime,
    dialect_name: str,
) -> CloseFigures:
    """The figures of closing ``close_quantity`` (None: everything) at ``exit_price``.

    Raises ``ValidationError`` for a close larger than the open quantity or dated before the
    open, and ``PrecisionError`` when the remaining quantity is not storable exactly (on
    SQLite, when a double would change it): quantities are never rounded, so closed parts plus
    the remainder always add up to the original quantity.
    """
    quantity = open_quantity if close_quantity is None else close_quantity
    if quantity > open_quantity:
        raise ValidationError(
            "quantity", close_quantity, f"larger than the open quantity {open_quantity}"
        )
    if closed_at < opened_at:
        raise ValidationError(
            "closed_at", closed_at, f"before the position was opened ({opened_at.isoformat()})"
        )
    with localcontext(MONEY_CONTEXT):
        remaining = open_quantity - quantity
        try:
            check_storable("quantity", remaining, dialect_name)
        except PrecisionError:
            raise PrecisionError(
                "quantity",
                close_quantity,
                f"the remaining open quantity {remaining} would not be stored exactly",
            ) from None
        entry_share, remaining_commission = split_amount(
            open_commission, quantity, open_quantity, dialect_name
        )
        gross = pnl(side, quantity, entry_price, exit_price)
        commission = entry_share + exit_commission
        realized = fit(gross - commission, dialect_name)
        realized_pct = float(realized / (entry_price * quantity) * _HUNDRED)
        remaining_unrealized = fit(pnl(side, remaining, entry_price, exit_price), dialect_name)
    best, worst = excursions(side, max_favorable_excursion, max_adverse_excursion, exit_price)
    return CloseFigures(
        quantity=quantity,
        remaining_quantity=remaining,
        entry_commission=entry_share,
        remaining_commission=remaining_commission,
        commission=fit(commission, dialect_name),
        gross_pnl=fit(gross, dialect_name),
        realized_pnl=realized,
        realized_pnl_pct=realized_pct,
        max_favorable_excursion=best,
        max_adverse_excursion=worst,
        holding_period_hours=holding_period_hours(opened_at, closed_at),
        remaining_unrealized_pnl=remaining_unrealized,
    )
