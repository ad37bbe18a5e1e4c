"""Fill accounting against a locked order: shared by ``record_fill`` and ``ingest_fills``.

One implementation of "what an order becomes once its fills add up to X", so that a fill
recorded live and the same fill imported in bulk leave the order in exactly the same state
(a property test holds the two paths to that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from tradestore.domain import order_states
from tradestore.domain.enums import Liquidity, OrderSide, OrderStatus
from tradestore.domain.fill_accounting import (
    FillTotals,
    reference_price,
    slippage,
    slippage_bps,
    totals_of,
)
from tradestore.domain.money import (
    MONEY_CONTEXT,
    check_storable,
    fit,
)
from tradestore.errors import (
    ConflictError,
    DuplicateFill,
    InvalidTransition,
    Overfill,
    ValidationError,
)
from tradestore.repositories.order_records import FillRecord, OrderRecord

_NO_FILLS = FillTotals()


@dataclass(slots=True)
class LockedOrder:
    """The locked order's accounting columns and its fills (``LOCK_FILL_COLUMNS`` rows)."""

    bot_id: str
    order_id: str
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    side: OrderSide
    ticker: str
    position_id: str | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    reference_price: Decimal | None
    fill_rows: list[tuple[Any, ...]]
    #: ``totals`` as computed once by record_fill (which does not change fill_rows).
    current_totals: FillTotals = _NO_FILLS

    @classmethod
    def from_rows(
        cls,
        bot_id: str,
        order_id: str,
        order: Sequence[Any],
        fill_rows: Sequence[tuple[Any, ...]],
    ) -> LockedOrder:
        """From the order columns of ``LOCK_ORDER_COLUMNS`` order, as the column types
        converted them (status and side are enum members already)."""
        status, quantity, filled_quantity, side, ticker, position_id, limit, stop, ref = order
        assert isinstance(status, OrderStatus)
        assert isinstance(side, OrderSide)
        return cls(
            bot_id,
            order_id,
            status,
            quantity,
            filled_quantity,
            side,
            ticker,
            position_id,
            limit,
            stop,
            ref,
            list(fill_rows),
        )

    @classmethod
    def from_record(cls, order: OrderRecord) -> LockedOrder:
        """The accounting columns of a whole order row (its fills to be added)."""
        return cls(
            order.bot_id,
            order.order_id,
            order.status,
            order.quantity,
            order.filled_quantity,
            order.side,
            order.ticker,
            order.position_id,
            order.limit_price,
            order.stop_price,
            order.reference_price,
            [],
        )

    @property
    def totals(self) -> FillTotals:
        """Recomputed from ``fill_rows`` (which ingest appends to)."""
        return totals_of((q, p, c, at) for _fid, q, p, c, at, _liq in self.fill_rows)

    def fill(self, fill_id: str) -> FillRecord | None:
        for stored_id, q, p, c, at, liq in self.fill_rows:
            if stored_id == fill_id:
                return FillRecord(
                    bot_id=self.bot_id,
                    fill_id=fill_id,
                    order_id=self.order_id,
                    ticker=self.ticker,
                    side=self.side,
                    quantity=q,
                    price=p,
                    filled_at=at,
                    liquidity=Liquidity(liq),
                    commission=c,
                    position_id=self.position_id,
                )
        return None

    def check_consistent(self) -> None:
        """The fills must add up to the order's filled_quantity (tradestore's invariant)."""
        self.check_consistent_with(self.totals.filled_quantity)

    def check_consistent_with(self, total: Decimal) -> None:
        """``check_consistent`` for fills summed elsewhere (by the database)."""
        if total != self.filled_quantity:
            raise ConflictError(
                f"order {self.order_id!r}: filled_quantity {self.filled_quantity} does not "
                f"match its fills ({total}); the order was written outside tradestore"
            )

    def check_fillable(self, row: int | None = None) -> None:
        """Raise unless the order's status accepts a fill (naming the ingest ``row``).

        Open orders do, and so do cancelled and expired ones (a late report of an
        execution that came first: see ``order_states.LATE_FILL_STATUSES``).
        """
        if self.status in order_states.FILLABLE or self.status in order_states.LATE_FILL_STATUSES:
            return
        where = "" if row is None else f"rows[{row}]: "
        if self.status is OrderStatus.FILLED:
            raise Overfill(
                f"{where}order {self.order_id!r} is already completely filled ({self.quantity})"
            )
        entity = f"{where}order" if where else "order"
        raise InvalidTransition(entity, self.order_id, self.status.value, "filled")


class OrderChanges(NamedTuple):
    """The order columns that follow from its fills (values fitted to the backend)."""

    filled_quantity: Decimal
    filled_avg_price: Decimal
    commission: Decimal
    slippage: Decimal | None
    slippage_bps: float | None
    status: OrderStatus
    filled_at: dt.datetime | None


def order_changes(
    state: LockedOrder,
    *,
    filled_quantity: Decimal,
    notional: Decimal,
    commission: Decimal,
    last_filled_at: dt.datetime | None,
    dialect: str,
    row: int | None = None,
) -> OrderChanges:
    """What the order becomes once its fills add up to these sums (exact, then fitted once).

    ``row`` names the ingest row a precision refusal is reported against.
    """
    filled_quantity = exact_sum("quantity", filled_quantity, dialect, "filled_quantity", row)
    commission = exact_sum("commission", commission, dialect, "order commission", row)
    average = fit(MONEY_CONTEXT.divide(notional, filled_quantity), dialect)
    status = order_states.status_after_fill(filled_quantity, state.quantity, state.status)
    reference = reference_price(
        reference=state.reference_price, limit_price=state.limit_price, stop_price=state.stop_price
    )
    slip = slippage(state.side, average, reference)
    stored_slip = None if slip is None else fit(slip, dialect)
    bps = slippage_bps(stored_slip, reference)
    return OrderChanges(
        filled_quantity,
        average,
        commission,
        stored_slip,
        None if bps is None else float(bps),
        status,
        # The completing execution's time, also for a late fill completing a cancelled
        # order: filled_at says when the order was fully executed, whatever its status.
        last_filled_at if filled_quantity == state.quantity else None,
    )


def fill_changes(
    state: LockedOrder, fill: FillRecord, dialect: str
) -> tuple[FillTotals, OrderChanges]:
    """The order's totals and columns once ``fill`` is added to ``state.current_totals``;
    refuses a fill the order does not take (its status, an overfill, a total too big)."""
    state.check_fillable()
    totals = state.current_totals.add(fill.quantity, fill.price, fill.commission, fill.filled_at)
    check_overfill(state, fill, state.current_totals.filled_quantity)
    changes = order_changes(
        state,
        filled_quantity=totals.filled_quantity,
        notional=totals.notional,
        commission=totals.commission,
        last_filled_at=totals.last_filled_at,
        dialect=dialect,
    )
    return totals, changes


def check_overfill(state: LockedOrder, fill: FillRecord, filled: Decimal) -> None:
    total = MONEY_CONTEXT.add(filled, fill.quantity)
    if total > state.quantity:
        raise Overfill(
            f"fill {fill.fill_id!r} of {fill.quantity} would bring order {fill.order_id!r} "
            f"to {total}, above its quantity {state.quantity}"
        )


def replay_refusal(
    stored: FillRecord, fill: FillRecord, given_time: dt.datetime | None
) -> DuplicateFill | None:
    """``stored`` took ``fill``'s id: None for a replay (``filled_at`` compared only when
    the replay gives one), else the ``DuplicateFill`` naming what differs."""
    differing = [
        name
        for name, mine, theirs in (
            ("order_id", fill.order_id, stored.order_id),
            ("quantity", fill.quantity, stored.quantity),
            ("price", fill.price, stored.price),
            ("commission", fill.commission, stored.commission),
            ("liquidity", fill.liquidity, stored.liquidity),
            (
                "filled_at",
                given_time if given_time is not None else stored.filled_at,
                stored.filled_at,
            ),
        )
        if mine != theirs
    ]
    if not differing:
        return None
    return DuplicateFill(
        f"fill_id {stored.fill_id!r} was already recorded (order {stored.order_id!r}) "
        f"with a different {', '.join(differing)}"
    )


def exact_sum(
    name: str, value: Decimal, dialect: str, what: str, row: int | None = None
) -> Decimal:
    """A sum the backend must store exactly (the fills must add up to it), or a refusal.

    The refusal names the input field (``quantity``, or ``rows[i].quantity`` for an import).
    """
    field = name if row is None else f"rows[{row}].{name}"
    try:
        return check_storable(field, value, dialect)
    except ValidationError as exc:
        raise type(exc)(
            field, value, f"the {what} would become {value}, which {exc.reason}"
        ) from None
