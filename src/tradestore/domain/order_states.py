"""The order status state machine, as data: which status may follow which.

    pending -> new -> accepted -> partially_filled -> filled
          \\________\\__________\\_________________\\-> cancelled | rejected | expired

Forward skips are allowed. Brokers do skip states: a market order can be reported ``filled``
before the bot ever saw ``accepted``, a REST acknowledgement can arrive after the first fill
on the websocket, and a paper broker may never send ``new`` at all. Refusing those would make
the bot's record disagree with the broker's. What is refused:

* moving backwards (``accepted`` -> ``new``): a stale event, not a state change;
* leaving a terminal status (``filled``, ``cancelled``, ``rejected``, ``expired``);
* setting ``partially_filled`` or ``filled`` by hand: they follow from recorded fills, so that
  ``filled_quantity`` and the status can never disagree (see ``FILL_DRIVEN``).

A fill is not a status change, and a cancelled or expired order still takes one: an execution
that happened before the cancel or the expiry took effect can be reported after it (the
broker's cancel acknowledgement and its execution report cross, or the bot reconciles from
two feeds). The execution is real money; refusing it would leave the bot's books short of the
broker's. So the fill is recorded and counted, and the order keeps its terminal status
(``LATE_FILL_STATUSES``). A ``rejected`` order never reached the market and takes none.

Setting the status an order already has is a no-op, not an error: brokers redeliver events,
and a replayed "accepted" must not crash the bot (the same idempotency rule as for fills).

Pure module: no database, tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from tradestore.domain.enums import TERMINAL_ORDER_STATUSES, OrderStatus

_S = OrderStatus
_ENDINGS = frozenset({_S.CANCELLED, _S.REJECTED, _S.EXPIRED})

#: Every allowed status change (same-status no-ops excluded). ``partially_filled`` may follow
#: itself: each further partial fill is a real transition of the fill state.
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.NEW, _S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED}) | _ENDINGS,
        _S.NEW: frozenset({_S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED}) | _ENDINGS,
        _S.ACCEPTED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED}) | _ENDINGS,
        _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED}) | _ENDINGS,
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
    }
)

#: Statuses that only fills can set (``record_fill`` / ``ingest_fills``), never ``set_status``.
FILL_DRIVEN = frozenset({_S.PARTIALLY_FILLED, _S.FILLED})
#: Statuses in which an order accepts a fill. ``filled`` is left out on purpose: any fill on a
#: complete order is an overfill, reported as such rather than as a bad transition.
FILLABLE = frozenset({_S.PENDING, _S.NEW, _S.ACCEPTED, _S.PARTIALLY_FILLED})
OPEN_STATUSES = frozenset(_S) - TERMINAL_ORDER_STATUSES
#: Ended orders that still accept a fill reported late; the fill leaves their status as it is.
LATE_FILL_STATUSES = frozenset({_S.CANCELLED, _S.EXPIRED})


def is_allowed(current: OrderStatus, requested: OrderStatus) -> bool:
    """True if ``requested`` may follow ``current`` (a same-status request is not a move)."""
    return requested in TRANSITIONS[current]


def is_noop(current: OrderStatus, requested: OrderStatus) -> bool:
    """A redelivered status: the order already has it, nothing changes.

    ``partially_filled`` is excluded because, driven by fills, it is never requested by hand.
    """
    return current == requested and requested not in FILL_DRIVEN


def sources_of(requested: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses from which ``requested`` may be reached (used in guarded UPDATEs)."""
    return frozenset(status for status, targets in TRANSITIONS.items() if requested in targets)


def status_after_fill(
    filled_quantity: Decimal, quantity: Decimal, current: OrderStatus | None = None
) -> OrderStatus:
    """The status an order has once ``filled_quantity`` of its ``quantity`` is filled.

    ``current`` is the status before the fill: a late fill on a cancelled or expired order
    leaves that status in place (see ``LATE_FILL_STATUSES``).
    """
    if filled_quantity <= 0:
        raise ValueError("status_after_fill needs a positive filled quantity")
    if filled_quantity > quantity:
        raise ValueError("filled quantity above the order quantity is an overfill")
    if current in LATE_FILL_STATUSES:
        return current
    return _S.FILLED if filled_quantity == quantity else _S.PARTIALLY_FILLED
