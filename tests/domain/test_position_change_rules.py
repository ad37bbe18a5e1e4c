"""The pure rules of changing an open position: side rule, trailing stop, crossed levels,
scale-in figures."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradestore.domain.enums import ExitReason, PositionSide
from tradestore.domain.money import fit
from tradestore.domain.position_changes import (
    UNCHANGED,
    ScaleInFigures,
    check_stops,
    crossed,
    scale_in_figures,
    trailed_stop,
)
from tradestore.errors import ValidationError

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
prices = st.decimals(min_value=D("0.01"), max_value=D(10000), places=2)


def test_unchanged_is_not_none_and_reads_as_its_name() -> None:
    assert UNCHANGED is not None
    assert repr(UNCHANGED) == "UNCHANGED"


@pytest.mark.parametrize(
    ("side", "stop", "take", "field"),
    [
        (LONG, D(105), None, "stop_loss_price"),
        (LONG, D(106), None, "stop_loss_price"),
        (LONG, None, D(100), "take_profit_price"),
        (SHORT, D(105), None, "stop_loss_price"),
        (SHORT, None, D(101), "take_profit_price"),
    ],
)
def test_stops_on_the_wrong_side_are_refused(
    side: PositionSide, stop: Decimal | None, take: Decimal | None, field: str
) -> None:
    """The stop is held to the price when it is set (105), the target to the entry (100)."""
    with pytest.raises(ValidationError) as caught:
        check_stops(side, D(100), stop, take, price=D(105))
    assert caught.value.field == field


def test_stops_on_the_right_side_pass() -> None:
    check_stops(LONG, D(100), D(99), D(101), price=D(100))
    check_stops(SHORT, D(100), D(101), D(99), price=D(100))
    check_stops(LONG, D(100), None, None, price=D(100))


def test_a_stop_may_lock_in_a_profit_once_the_price_has_moved() -> None:
    """A long bought at 100 and now at 120 may hold its stop at 110, above its entry; a short
    sold at 100 and now at 80 its stop at 90. The stop is still refused past the price."""
    check_stops(LONG, D(100), D(110), None, price=D(120))
    check_stops(SHORT, D(100), D(90), None, price=D(80))
    with pytest.raises(ValidationError):
        check_stops(LONG, D(100), D(120), None, price=D(120))
    with pytest.raises(ValidationError):
        check_stops(SHORT, D(100), D(80), None, price=D(80))


def test_a_long_stop_trails_up_and_never_down() -> None:
    trail = {"distance": D(2), "percent": None, "dialect_name": "postgresql"}
    assert trailed_stop(LONG, None, D(100), **trail) == D(98)
    assert trailed_stop(LONG, D(98), D(101), **trail) == D(99)
    assert trailed_stop(LONG, D(99), D(100), **trail) is None  # would loosen
    assert trailed_stop(LONG, D(99), D(101), **trail) is None  # same level: not a move


def test_a_short_stop_trails_down_by_percent() -> None:
    trail = {"distance": None, "percent": D(10), "dialect_name": "sqlite"}
    assert trailed_stop(SHORT, None, D(100), **trail) == D(110)
    assert trailed_stop(SHORT, D(110), D(90), **trail) == D(99)
    assert trailed_stop(SHORT, D(99), D(95), **trail) is None


def test_a_level_that_is_no_price_does_not_move_the_stop() -> None:
    assert (
        trailed_stop(LONG, None, D(1), distance=D(5), percent=None, dialect_name="sqlite") is None
    )


@given(
    side=st.sampled_from([LONG, SHORT]),
    path=st.lists(prices, min_size=1, max_size=30),
    distance=st.decimals(min_value=D("0.01"), max_value=D(50), places=2),
)
def test_property_a_trailed_stop_never_loosens_and_follows_the_best_price(
    side: PositionSide, path: list[Decimal], distance: Decimal
) -> None:
    stop: Decimal | None = None
    for price in path:
        moved = trailed_stop(side, stop, price, distance=distance, percent=None, dialect_name="x")
        if moved is not None:
            assert stop is None or (moved > stop if side is LONG else moved < stop)
            stop = moved
    # the stop is the best price's level, unless that level is no price at all
    best = max(path) if side is LONG else min(path)
    level = best - distance if side is LONG else best + distance
    assert stop == (level if level > 0 else None)


@pytest.mark.parametrize(
    ("side", "price", "expected"),
    [
        (LONG, D(95), ExitReason.STOP_LOSS),
        (LONG, D(94), ExitReason.STOP_LOSS),
        (LONG, D(96), None),
        (LONG, D(110), ExitReason.TAKE_PROFIT),
        (SHORT, D(110), ExitReason.STOP_LOSS),
        (SHORT, D(95), ExitReason.TAKE_PROFIT),
        (SHORT, D(100), None),
    ],
)
def test_crossed_levels(side: PositionSide, price: Decimal, expected: ExitReason | None) -> None:
    stop, take = (D(95), D(110)) if side is LONG else (D(110), D(95))
    assert crossed(side, price, stop, take) is expected
    assert crossed(side, price, None, None) is None


def _scale_in(side: PositionSide = LONG, **changes: object) -> ScaleInFigures:
    arguments: dict[str, object] = {
        "side": side,
        "open_quantity": D(10),
        "entry_price": D(100),
        "open_commission": D("1.5"),
        "max_favorable_excursion": D(100),
        "max_adverse_excursion": D(100),
        "take_profit_price": None,
        "quantity": D(30),
        "price": D(96),
        "commission": D("0.25"),
        "dialect_name": "postgresql",
    }
    arguments.update(changes)
    return scale_in_figures(**arguments)  # type: ignore[arg-type]


def test_scale_in_averages_the_entry_and_adds_the_commission() -> None:
    figures = _scale_in()
    assert figures.quantity == 40
    assert figures.entry_price == 97  # (10*100 + 30*96) / 40
    assert figures.commission == D("1.75")
    assert figures.current_price == 96
    assert figures.unrealized_pnl == -40
    assert figures.max_adverse_excursion == 96


def test_scale_in_rounds_the_average_once_like_a_vwap() -> None:
    figures = _scale_in(quantity=D(20), price=D(101), dialect_name="postgresql")
    exact = (D(10) * 100 + D(20) * 101) / D(30)
    assert figures.entry_price == fit(exact, "postgresql")
    assert figures.entry_price == D("100.666666666666666667")


def test_a_scale_in_that_moves_the_entry_past_the_target_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _scale_in(SHORT, take_profit_price=D(97), price=D(90))
    assert caught.value.field == "take_profit_price"


@given(
    quantities=st.lists(
        st.decimals(min_value=D("0.001"), max_value=D(1000), places=3), min_size=2, max_size=8
    ),
    entries=st.lists(prices, min_size=8, max_size=8),
)
def test_property_repeated_scale_ins_stay_within_one_rounding_per_step_of_the_vwap(
    quantities: list[Decimal], entries: list[Decimal]
) -> None:
    quantity, entry = quantities[0], entries[0]
    for added, price in zip(quantities[1:], entries[1:], strict=False):
        figures = _scale_in(open_quantity=quantity, entry_price=entry, quantity=added, price=price)
        quantity, entry = figures.quantity, figures.entry_price
    pairs = list(zip(quantities, entries, strict=False))
    exact = sum(Fraction(q) * Fraction(p) for q, p in pairs) / sum(Fraction(q) for q, _ in pairs)
    assert quantity == sum(quantities, D(0))
    assert abs(Fraction(entry) - exact) <= Fraction(len(pairs), 2 * 10**18)
