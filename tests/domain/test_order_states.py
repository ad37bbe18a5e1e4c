"""The order status machine as data (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradestore.domain import order_states
from tradestore.domain.enums import TERMINAL_ORDER_STATUSES, OrderStatus
from tradestore.domain.order_states import (
    FILL_DRIVEN,
    FILLABLE,
    LATE_FILL_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    is_allowed,
    is_noop,
    sources_of,
    status_after_fill,
)

S = OrderStatus
CHAIN = [S.PENDING, S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED]
ENDINGS = {S.CANCELLED, S.REJECTED, S.EXPIRED}


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


def test_terminal_statuses_have_no_exit() -> None:
    for status in TERMINAL_ORDER_STATUSES:
        assert TRANSITIONS[status] == frozenset(), status


@pytest.mark.parametrize("current", sorted(OPEN_STATUSES))
def test_endings_reachable_from_every_open_status(current: OrderStatus) -> None:
    for ending in ENDINGS:
        assert is_allowed(current, ending)


def test_forward_skips_allowed_backward_moves_refused() -> None:
    for i, current in enumerate(CHAIN[:-1]):
        for later in CHAIN[i + 1 :]:
            assert is_allowed(current, later), (current, later)
        for earlier in CHAIN[:i]:
            assert not is_allowed(current, earlier), (current, earlier)


def test_partially_filled_may_follow_itself_but_others_do_not() -> None:
    assert is_allowed(S.PARTIALLY_FILLED, S.PARTIALLY_FILLED)
    for status in set(OrderStatus) - {S.PARTIALLY_FILLED}:
        assert not is_allowed(status, status)


def test_noop_is_a_redelivered_status_not_driven_by_fills() -> None:
    assert is_noop(S.ACCEPTED, S.ACCEPTED)
    assert is_noop(S.CANCELLED, S.CANCELLED)
    assert not is_noop(S.PARTIALLY_FILLED, S.PARTIALLY_FILLED)
    assert not is_noop(S.FILLED, S.FILLED)
    assert not is_noop(S.NEW, S.ACCEPTED)


def test_sources_of_is_the_inverse_of_the_table() -> None:
    for target in OrderStatus:
        assert sources_of(target) == {s for s, targets in TRANSITIONS.items() if target in targets}
    assert sources_of(S.PENDING) == frozenset()
    assert sources_of(S.CANCELLED) == OPEN_STATUSES


def test_fill_sets() -> None:
    assert {S.PARTIALLY_FILLED, S.FILLED} == FILL_DRIVEN
    assert FILLABLE == OPEN_STATUSES
    assert {S.PENDING, S.NEW, S.ACCEPTED, S.PARTIALLY_FILLED} == order_states.OPEN_STATUSES


def test_status_after_fill() -> None:
    assert status_after_fill(Decimal("1"), Decimal("2")) is S.PARTIALLY_FILLED
    assert status_after_fill(Decimal("2.0"), Decimal("2")) is S.FILLED
    with pytest.raises(ValueError, match="overfill"):
        status_after_fill(Decimal("3"), Decimal("2"))
    with pytest.raises(ValueError, match="positive"):
        status_after_fill(Decimal("0"), Decimal("2"))


def test_a_late_fill_keeps_an_ended_status() -> None:
    assert {S.CANCELLED, S.EXPIRED} == LATE_FILL_STATUSES
    assert not LATE_FILL_STATUSES & FILLABLE
    for ended in LATE_FILL_STATUSES:
        assert status_after_fill(Decimal("1"), Decimal("2"), ended) is ended
        assert status_after_fill(Decimal("2"), Decimal("2"), ended) is ended
        with pytest.raises(ValueError, match="overfill"):
            status_after_fill(Decimal("3"), Decimal("2"), ended)
    assert status_after_fill(Decimal("2"), Decimal("2"), S.ACCEPTED) is S.FILLED
