"""Position arithmetic without a database: P&L by side, excursions, partial closes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradestore.domain import pnl
from tradestore.domain.enums import PositionSide
from tradestore.domain.money import check_storable, fit
from tradestore.errors import PrecisionError, ValidationError

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
T0 = dt.datetime(2024, 3, 1, 14, 30, tzinfo=dt.UTC)


def decimals(max_digits: int = 12, places: int = 4, min_value: str = "0.0001") -> st.SearchStrategy:
    return st.decimals(
        min_value=Decimal(min_value),
        max_value=Decimal(10 ** (max_digits - places)) - 1,
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def test_long_gains_when_the_price_rises_and_short_when_it_falls() -> None:
    assert pnl.pnl(LONG, Decimal(100), Decimal("150"), Decimal("155.50")) == Decimal("550.00")
    assert pnl.pnl(SHORT, Decimal(100), Decimal("150"), Decimal("155.50")) == Decimal("-550.00")
    assert pnl.pnl(SHORT, Decimal(10), Decimal("250"), Decimal("240.10")) == Decimal("99.00")
    assert pnl.pnl_pct(LONG, Decimal("200"), Decimal("210")) == pytest.approx(5.0)
    assert pnl.pnl_pct(SHORT, Decimal("200"), Decimal("210")) == pytest.approx(-5.0)


def test_excursions_are_best_and_worst_prices_by_side() -> None:
    best, worst = Decimal(100), Decimal(100)
    for price in ("103", "97", "101"):
        best, worst = pnl.excursions(LONG, best, worst, Decimal(price))
    assert (best, worst) == (Decimal(103), Decimal(97))
    best, worst = Decimal(100), Decimal(100)
    for price in ("103", "97", "101"):
        best, worst = pnl.excursions(SHORT, best, worst, Decimal(price))
    assert (best, worst) == (Decimal(97), Decimal(103))
    assert pnl.excursions(LONG, None, None, Decimal(5)) == (Decimal(5), Decimal(5))


def test_full_close_is_net_of_entry_and_exit_commission() -> None:
    figures = pnl.close_figures(
        side=LONG,
        open_quantity=Decimal(100),
        entry_price=Decimal("150"),
        open_commission=Decimal("1.00"),
        max_favorable_excursion=Decimal("155"),
        max_adverse_excursion=Decimal("149"),
        opened_at=T0,
        exit_price=Decimal("160"),
        close_quantity=None,
        exit_commission=Decimal("0.50"),
        closed_at=T0 + dt.timedelta(hours=6, minutes=30),
        dialect_name="sqlite",
    )
    assert figures.is_full
    assert figures.gross_pnl == Decimal(1000)
    assert figures.commission == Decimal("1.50")
    assert figures.realized_pnl == Decimal("998.50")
    assert figures.realized_pnl_pct == pytest.approx(998.5 / 15000 * 100)
    assert figures.holding_period_hours == pytest.approx(6.5)
    assert (figures.max_favorable_excursion, figures.max_adverse_excursion) == (
        Decimal(160),
        Decimal(149),
    )
    assert figures.remaining_commission == 0
    assert figures.remaining_unrealized_pnl == 0


def test_partial_close_of_a_short_prorates_the_entry_commission() -> None:
    figures = pnl.close_figures(
        side=SHORT,
        open_quantity=Decimal(10),
        entry_price=Decimal("250"),
        open_commission=Decimal("3.00"),
        max_favorable_excursion=None,
        max_adverse_excursion=None,
        opened_at=T0,
        exit_price=Decimal("240"),
        close_quantity=Decimal(4),
        exit_commission=Decimal(0),
        closed_at=T0,
        dialect_name="postgresql",
    )
    assert figures.quantity == 4
    assert figures.remaining_quantity == 6
    assert figures.entry_commission == Decimal("1.2")
    assert figures.remaining_commission == Decimal("1.8")
    assert figures.realized_pnl == Decimal("38.8")  # (250 - 240) * 4 - 1.2
    assert figures.remaining_unrealized_pnl == Decimal(60)
    assert (figures.max_favorable_excursion, figures.max_adverse_excursion) == (
        Decimal(240),
        Decimal(240),
    )


def test_close_refuses_more_than_open_and_a_close_before_the_open() -> None:
    common = {
        "side": LONG,
        "open_quantity": Decimal(5),
        "entry_price": Decimal(10),
        "open_commission": Decimal(0),
        "max_favorable_excursion": None,
        "max_adverse_excursion": None,
        "opened_at": T0,
        "exit_price": Decimal(11),
        "exit_commission": Decimal(0),
        "dialect_name": "sqlite",
    }
    with pytest.raises(ValidationError) as info:
        pnl.close_figures(**common, close_quantity=Decimal(6), closed_at=T0)
    assert info.value.field == "quantity"
    with pytest.raises(ValidationError) as info:
        pnl.close_figures(**common, close_quantity=None, closed_at=T0 - dt.timedelta(seconds=1))
    assert info.value.field == "closed_at"


def test_a_remainder_sqlite_cannot_store_exactly_is_refused_not_rounded() -> None:
    with pytest.raises(PrecisionError):
        pnl.close_figures(
            side=LONG,
            # 0.99999999999999999 remains, which a double would read back as 1.
            open_quantity=Decimal("1"),
            entry_price=Decimal(10),
            open_commission=Decimal(0),
            max_favorable_excursion=None,
            max_adverse_excursion=None,
            opened_at=T0,
            exit_price=Decimal(11),
            close_quantity=Decimal("0.00000000000000001"),
            exit_commission=Decimal(0),
            closed_at=T0,
            dialect_name="sqlite",
        )


def test_split_amount_coarsens_the_share_when_the_rest_would_lose_digits() -> None:
    share, rest = pnl.split_amount(Decimal("999999999999999"), Decimal(1), Decimal(1000), "sqlite")
    assert share + rest == Decimal("999999999999999")
    check_storable("share", share, "sqlite")
    check_storable("rest", rest, "sqlite")


@settings(max_examples=200, deadline=None)
@given(
    quantity=decimals(),
    entry=decimals(),
    price=decimals(),
)
def test_long_and_short_pnl_mirror_each_other(
    quantity: Decimal, entry: Decimal, price: Decimal
) -> None:
    long_pnl = pnl.pnl(LONG, quantity, entry, price)
    short_pnl = pnl.pnl(SHORT, quantity, entry, price)
    assert long_pnl == (price - entry) * quantity
    assert short_pnl == -long_pnl
    assert (long_pnl > 0) == (price > entry)
    if long_pnl:
        sign = 1 if long_pnl > 0 else -1
        assert (pnl.pnl_pct(LONG, entry, price) > 0) == (sign > 0)


@settings(max_examples=200, deadline=None)
@given(
    total=decimals(max_digits=15, places=6, min_value="0"),
    whole=decimals(max_digits=10, places=4),
    fraction=st.fractions(min_value=0, max_value=1),
    dialect=st.sampled_from(["sqlite", "postgresql"]),
)
def test_split_amount_conserves_the_total_and_stays_storable(
    total: Decimal, whole: Decimal, fraction: object, dialect: str
) -> None:
    part = fit(whole * Decimal(str(float(fraction))), "sqlite")  # type: ignore[arg-type]
    part = min(max(part, Decimal(0)), whole)
    share, rest = pnl.split_amount(total, part, whole, dialect)
    assert share + rest == total
    assert share >= 0
    assert rest >= 0
    check_storable("share", share, dialect)
    check_storable("rest", rest, dialect)


@settings(max_examples=150, deadline=None)
@given(
    side=st.sampled_from([LONG, SHORT]),
    parts=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=6),
    entry=decimals(max_digits=8, places=2, min_value="0.01"),
    exits=st.lists(decimals(max_digits=8, places=2, min_value="0.01"), min_size=6, max_size=6),
    commission=decimals(max_digits=6, places=2, min_value="0"),
)
def test_partial_closes_add_up_to_the_whole_position(
    side: PositionSide,
    parts: list[int],
    entry: Decimal,
    exits: list[Decimal],
    commission: Decimal,
) -> None:
    """Closed quantities + remainder == original; commissions are conserved; gross P&L of the
    parts equals the sum of each part valued at its own exit price."""
    quantity = Decimal(sum(parts))
    remaining, open_commission = quantity, commission
    closed_quantity = Decimal(0)
    entry_commissions = Decimal(0)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        figures = pnl.close_figures(
            side=side,
            open_quantity=remaining,
            entry_price=entry,
            open_commission=open_commission,
            max_favorable_excursion=None,
            max_adverse_excursion=None,
            opened_at=T0,
            exit_price=exits[index],
            close_quantity=None if last else Decimal(part),
            exit_commission=Decimal(0),
            closed_at=T0,
            dialect_name="postgresql",
        )
        assert figures.gross_pnl == pnl.pnl(side, figures.quantity, entry, exits[index])
        assert figures.realized_pnl == figures.gross_pnl - figures.entry_commission
        closed_quantity += figures.quantity
        entry_commissions += figures.entry_commission
        remaining, open_commission = figures.remaining_quantity, figures.remaining_commission
        assert closed_quantity + remaining == quantity
    assert remaining == 0
    assert closed_quantity == quantity
    assert entry_commissions == commission


def test_split_amount_of_a_rest_that_is_already_fine_grained_stays_storable() -> None:
    """A rest from an earlier split may carry 17 digits; splitting it again must not leave a
    rest between two doubles (found by the partial-close property test on SQLite)."""
    first, rest = pnl.split_amount(Decimal("0.37"), Decimal("0.045"), Decimal("0.126"), "sqlite")
    share, last = pnl.split_amount(rest, Decimal("0.001"), Decimal("0.081"), "sqlite")
    assert first + share + last == Decimal("0.37")
    for piece in (first, rest, share, last):
        assert fit(piece, "sqlite") == piece
        assert Decimal(repr(float(piece))) == piece  # what SQLite gives back


@settings(max_examples=200, deadline=None)
@given(
    total=decimals(max_digits=6, places=2, min_value="0"),
    parts=st.lists(st.integers(min_value=1, max_value=999), min_size=1, max_size=5),
)
def test_chained_splits_stay_storable_on_sqlite(total: Decimal, parts: list[int]) -> None:
    """Closing a position in several parts splits each rest again."""
    whole = Decimal(1000)
    remaining = total
    pieces = []
    for part in parts:
        if part >= whole:
            break
        share, remaining = pnl.split_amount(remaining, Decimal(part), whole, "sqlite")
        pieces.append(share)
        whole -= part
    pieces.append(remaining)
    assert sum(pieces, Decimal(0)) == total
    for piece in pieces:
        assert Decimal(repr(float(piece))) == piece
