"""PositionRepository on both backends: open, mark, close, partial close, common queries."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tradestore import Database
from tradestore.domain.enums import ExitReason, PositionSide
from tradestore.errors import (
    BotNotFound,
    ConflictError,
    NaiveDatetimeError,
    PositionClosed,
    PositionNotFound,
    PrecisionError,
    ValidationError,
)
from tradestore.repositories.positions import PositionRecord

D = Decimal
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D("100000"))
    return "alpha"


def count(db: Database, table: str) -> int:
    with db.session() as session:
        return int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def open_position(db: Database, bot: str, ticker: str = "AAPL", **kwargs: Any) -> PositionRecord:
    arguments: dict[str, Any] = {"side": "long", "quantity": D(100), "entry_price": D(150)}
    arguments.update(kwargs)
    with db.unit_of_work(bot_id=bot) as uow:
        return uow.positions.open(ticker, **arguments)


# --- open ------------------------------------------------------------------------------------


def test_open_returns_what_get_reads_back(db: Database, bot: str) -> None:
    position = open_position(
        db,
        bot,
        quantity=D("0.015"),
        entry_price=D("64250.5"),
        stop_loss_price=D("60000"),
        take_profit_price=D("70000"),
        strategy="ppo_agent",
        signal_score=0.85,
        metadata={"alert": "breakout", "tags": ["btc"]},
        commission=D("0.75"),
        opened_at=T0,
    )
    assert position.position_id.startswith("pos_")
    assert position.current_price == D("64250.5")
    assert position.unrealized_pnl == 0
    assert position.max_favorable_excursion == position.max_adverse_excursion == D("64250.5")
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get(position.position_id) == position


def test_open_with_an_explicit_id_and_a_current_price(db: Database, bot: str) -> None:
    position = open_position(
        db, bot, side="short", position_id="my-1", entry_price=D(50), current_price=D(48)
    )
    assert position.position_id == "my-1"
    assert position.unrealized_pnl == D(200)  # short 100 from 50, now 48
    assert position.unrealized_pnl_pct == pytest.approx(4.0)
    assert (position.max_favorable_excursion, position.max_adverse_excursion) == (D(48), D(50))
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get("my-1") == position


BAD_OPENS: list[tuple[str, dict[str, Any]]] = [
    ("side", {"side": "flat"}),
    ("quantity", {"quantity": D(0)}),
    ("quantity", {"quantity": D(-1)}),
    ("quantity", {"quantity": float("nan")}),
    ("entry_price", {"entry_price": D(0)}),
    ("entry_price", {"entry_price": "abc"}),
    ("current_price", {"current_price": D(-2)}),
    ("stop_loss_price", {"stop_loss_price": D(150)}),
    ("stop_loss_price", {"stop_loss_price": D(151)}),
    ("take_profit_price", {"take_profit_price": D(149)}),
    ("stop_loss_price", {"side": "short", "stop_loss_price": D(149)}),
    ("take_profit_price", {"side": "short", "take_profit_price": D(151)}),
    ("signal_score", {"signal_score": 1.01}),
    ("signal_score", {"signal_score": -0.1}),
    ("signal_score", {"signal_score": float("nan")}),
    ("metadata", {"metadata": {"x": object()}}),
    ("metadata", {"metadata": ["not", "a", "mapping"]}),
    ("commission", {"commission": D(-1)}),
    ("opened_at", {"opened_at": dt.datetime(2024, 1, 1)}),
    ("strategy", {"strategy": "x" * 101}),
    ("position_id", {"position_id": ""}),
    ("position_id", {"position_id": "p" * 65}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD_OPENS)
def test_open_refuses_bad_input_and_writes_nothing(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        open_position(db, bot, **kwargs)
    assert info.value.field == field
    assert count(db, "positions") == 0


@pytest.mark.parametrize("ticker", ["", "   ", "T" * 33, None, 7])
def test_open_refuses_a_bad_ticker(db: Database, bot: str, ticker: Any) -> None:
    with pytest.raises(ValidationError) as info:
        open_position(db, bot, ticker=ticker)
    assert info.value.field == "ticker"


def test_naive_datetimes_are_refused_with_their_own_error(db: Database, bot: str) -> None:
    with pytest.raises(NaiveDatetimeError):
        open_position(db, bot, opened_at=dt.datetime(2024, 1, 1, 12))


def test_more_digits_than_sqlite_keeps_are_refused_there(
    db: Database, bot: str, backend: str
) -> None:
    quantity = D("1.234567890123456789")  # 19 significant digits, 18 decimals
    if backend == "sqlite":
        with pytest.raises(PrecisionError):
            open_position(db, bot, quantity=quantity)
    else:
        assert open_position(db, bot, quantity=quantity).quantity == quantity


def test_open_for_an_unregistered_bot_raises_bot_not_found(db: Database) -> None:
    with pytest.raises(BotNotFound), db.unit_of_work(bot_id="ghost") as uow:
        uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(1))


def test_open_twice_with_one_id_raises_and_reopening_a_closed_id_too(
    db: Database, bot: str
) -> None:
    open_position(db, bot, position_id="dup")
    with pytest.raises(ConflictError):
        open_position(db, bot, position_id="dup")
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close("dup", exit_price=D(151), exit_reason="manual")
    with pytest.raises(PositionClosed):
        open_position(db, bot, position_id="dup")


# --- list_open -------------------------------------------------------------------------------


def test_list_open_filters_orders_and_paginates(db: Database, bot: str) -> None:
    opened = [
        open_position(db, bot, "AAPL", strategy="a", opened_at=T0),
        open_position(db, bot, "MSFT", strategy="b", opened_at=T0 + HOUR),
        open_position(db, bot, "AAPL", side="short", strategy="b", opened_at=T0 + 2 * HOUR),
        open_position(db, bot, "TSLA", strategy="a", opened_at=T0 + 3 * HOUR),
    ]
    with db.unit_of_work(bot_id=bot) as uow:
        repo = uow.positions
        uow.positions.mark_to_market({"AAPL": D(160), "MSFT": D(140), "TSLA": D(155)})
        ids = [p.position_id for p in opened]
        assert [p.position_id for p in repo.list_open()] == ids
        assert [p.position_id for p in repo.list_open(order_by="-opened_at")] == ids[::-1]
        assert [p.position_id for p in repo.list_open(ticker="AAPL")] == [ids[0], ids[2]]
        assert [p.position_id for p in repo.list_open(strategy="b")] == [ids[1], ids[2]]
        assert [p.position_id for p in repo.list_open(side=PositionSide.SHORT)] == [ids[2]]
        assert [p.position_id for p in repo.list_open(ticker="AAPL", side="long")] == [ids[0]]
        by_pnl = [p.unrealized_pnl for p in repo.list_open(order_by="-unrealized_pnl")]
        assert by_pnl == sorted(by_pnl, reverse=True)
        assert [p.position_id for p in repo.list_open(limit=2)] == ids[:2]
        assert [p.position_id for p in repo.list_open(limit=2, offset=2)] == ids[2:]
        assert repo.list_open(ticker="NONE") == []
        with pytest.raises(ValidationError):
            repo.list_open(order_by="position_id; DROP TABLE positions")
        with pytest.raises(ValidationError):
            repo.list_open(limit=0)
        with pytest.raises(ValidationError):
            repo.list_open(offset=-1)


# --- mark_to_market --------------------------------------------------------------------------


def test_mark_to_market_updates_longs_and_shorts(db: Database, bot: str) -> None:
    long_ = open_position(db, bot, "AAPL", quantity=D(100), entry_price=D(150))
    short = open_position(db, bot, "TSLA", side="short", quantity=D(10), entry_price=D(250))
    other = open_position(db, bot, "MSFT")
    with db.unit_of_work(bot_id=bot) as uow:
        updated = uow.positions.mark_to_market(
            {"AAPL": D("155.50"), "TSLA": D("240.10"), "NOPE": D(1)}
        )
        assert updated == 2
        a = uow.positions.get(long_.position_id)
        t = uow.positions.get(short.position_id)
        m = uow.positions.get(other.position_id)
    assert (a.current_price, a.unrealized_pnl) == (D("155.5"), D(550))
    assert a.unrealized_pnl_pct == pytest.approx(5.5 / 150 * 100)
    assert (t.current_price, t.unrealized_pnl) == (D("240.1"), D(99))
    assert t.unrealized_pnl_pct == pytest.approx(9.9 / 250 * 100)
    assert m == other  # not marked, untouched
    assert a.updated_at >= long_.updated_at


def test_excursions_track_the_best_and_worst_price_seen(db: Database, bot: str) -> None:
    long_ = open_position(db, bot, "AAPL", entry_price=D(100))
    short = open_position(db, bot, "TSLA", side="short", entry_price=D(100))
    for price in ("104", "97", "101"):
        with db.unit_of_work(bot_id=bot) as uow:
            uow.positions.mark_to_market({"AAPL": D(price), "TSLA": D(price)})
    with db.unit_of_work(bot_id=bot) as uow:
        a = uow.positions.get(long_.position_id)
        t = uow.positions.get(short.position_id)
        closed = uow.positions.close(long_.position_id, exit_price=D(106), exit_reason="manual")
    assert (a.max_favorable_excursion, a.max_adverse_excursion) == (D(104), D(97))
    assert (t.max_favorable_excursion, t.max_adverse_excursion) == (D(97), D(104))
    # the exit price is a price seen too
    assert (closed.max_favorable_excursion, closed.max_adverse_excursion) == (D(106), D(97))


def test_mark_to_market_keeps_money_exact_on_both_backends(db: Database, bot: str) -> None:
    position = open_position(db, bot, "X", quantity=D(3), entry_price=D("0.1"))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"X": D("0.3")})
        marked = uow.positions.get(position.position_id)
    # binary floating point would give 0.6000000000000001 (0.3 - 0.1 = 0.19999999999999998)
    assert marked.unrealized_pnl == D("0.6")
    assert str(marked.unrealized_pnl.normalize()) == "0.6"


def test_mark_to_market_rounds_a_derived_pnl_for_sqlite(
    db: Database, bot: str, backend: str
) -> None:
    position = open_position(db, bot, "X", quantity=D("123456.789"), entry_price=D("1.23456789"))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"X": D("9.87654321")})
        marked = uow.positions.get(position.position_id)
    exact = (D("9.87654321") - D("1.23456789")) * D("123456.789")  # 1066910.52362444748
    if backend == "sqlite":
        # The decimal of the nearest double: 1066910.5236244474
        assert marked.unrealized_pnl == D(repr(float(exact)))
    else:
        assert marked.unrealized_pnl == exact


def test_mark_to_market_refuses_bad_prices_and_writes_nothing(db: Database, bot: str) -> None:
    position = open_position(db, bot, "AAPL")
    for prices, field in (
        ({"AAPL": D(0)}, "prices['AAPL']"),
        ({"AAPL": float("inf")}, "prices['AAPL']"),
        ({"": D(1)}, "ticker"),
    ):
        with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
            uow.positions.mark_to_market({"MSFT": D(1), **prices})
        assert info.value.field == field
    with pytest.raises(ValidationError), db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market([("AAPL", D(1))])  # type: ignore[arg-type]
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get(position.position_id) == position
        assert uow.positions.mark_to_market({}) == 0


def test_mark_to_market_many_tickers_and_lots(db: Database, bot: str) -> None:
    for i in range(60):
        open_position(db, bot, f"T{i % 30}", quantity=D(i + 1), entry_price=D(10))
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.mark_to_market({f"T{i}": D(11) for i in range(30)}) == 60
        positions = uow.positions.list_open()
    assert all(p.unrealized_pnl == p.quantity for p in positions)


# --- close -----------------------------------------------------------------------------------


def test_full_close_moves_the_position_with_its_figures(db: Database, bot: str) -> None:
    position = open_position(
        db,
        bot,
        quantity=D(100),
        entry_price=D(150),
        commission=D("1.00"),
        opened_at=T0,
        strategy="ppo",
        signal_score=0.5,
        stop_loss_price=D(140),
        metadata={"k": 1},
    )
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"AAPL": D(145)})
        closed = uow.positions.close(
            position.position_id,
            exit_price=D(160),
            exit_reason=ExitReason.TAKE_PROFIT,
            commission=D("0.50"),
            slippage=D("-0.02"),
            closed_at=T0 + 30 * HOUR,
        )
    assert closed.quantity == 100
    assert closed.realized_pnl == D("998.50")  # 1000 gross - 1.00 entry - 0.50 exit
    assert closed.realized_pnl_pct == pytest.approx(998.5 / 15000 * 100)
    assert closed.commission == D("1.50")
    assert closed.slippage == D("-0.02")
    assert closed.holding_period_hours == pytest.approx(30.0)
    assert (closed.max_favorable_excursion, closed.max_adverse_excursion) == (D(160), D(145))
    assert (closed.strategy, closed.signal_score, closed.metadata) == ("ppo", 0.5, {"k": 1})
    assert closed.outcome == "WIN"
    assert count(db, "positions") == 0
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.list_closed() == [closed]
        with pytest.raises(PositionClosed):
            uow.positions.get(position.position_id)
        assert uow.positions.find(position.position_id) is None


def test_closing_a_short_at_a_loss(db: Database, bot: str) -> None:
    position = open_position(db, bot, "TSLA", side="short", quantity=D(10), entry_price=D(250))
    with db.unit_of_work(bot_id=bot) as uow:
        closed = uow.positions.close(
            position.position_id, exit_price=D(262), exit_reason="stop_loss"
        )
    assert closed.realized_pnl == D(-120)
    assert closed.realized_pnl_pct == pytest.approx(-4.8)
    assert closed.outcome == "LOSS"
    assert (closed.max_favorable_excursion, closed.max_adverse_excursion) == (D(250), D(262))


def test_closing_twice_or_an_unknown_id_raises(db: Database, bot: str) -> None:
    position = open_position(db, bot)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close(position.position_id, exit_price=D(151), exit_reason="manual")
    for quantity in (None, D(1)):
        with pytest.raises(PositionClosed), db.unit_of_work(bot_id=bot) as uow:
            uow.positions.close(
                position.position_id, exit_price=D(151), exit_reason="manual", quantity=quantity
            )
        with pytest.raises(PositionNotFound), db.unit_of_work(bot_id=bot) as uow:
            uow.positions.close("nope", exit_price=D(151), exit_reason="manual", quantity=quantity)
    assert count(db, "closed_positions") == 1


BAD_CLOSES: list[tuple[str, dict[str, Any]]] = [
    ("exit_price", {"exit_price": D(0)}),
    ("exit_reason", {"exit_reason": ""}),  # free text since 0006, but not empty
    ("quantity", {"quantity": D(0)}),
    ("quantity", {"quantity": D(101)}),
    ("commission", {"commission": D(-1)}),
    ("closed_at", {"closed_at": T0 - HOUR}),
    ("closed_at", {"closed_at": dt.datetime(2024, 3, 5)}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD_CLOSES)
def test_a_refused_close_leaves_the_position_open(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    position = open_position(db, bot, opened_at=T0)
    arguments: dict[str, Any] = {"exit_price": D(151), "exit_reason": "manual"}
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close(position.position_id, **arguments)
    assert info.value.field == field
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get(position.position_id) == position
    assert count(db, "closed_positions") == 0


def test_a_refused_full_close_writes_nothing_even_if_the_caller_commits(
    db: Database, bot: str
) -> None:
    """The full close deletes first (DELETE ... RETURNING); a refusal must put the row back."""
    position = open_position(db, bot, opened_at=T0)
    with db.unit_of_work(bot_id=bot) as uow, pytest.raises(ValidationError):
        uow.positions.close(
            position.position_id,
            exit_price=D(151),
            exit_reason="manual",
            closed_at=T0 - HOUR,
        )
        # the caller swallows the error and the unit of work commits
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get(position.position_id) == position


def test_partial_closes_shrink_the_position_and_record_each_part(db: Database, bot: str) -> None:
    position = open_position(
        db, bot, quantity=D(100), entry_price=D(150), commission=D("3.00"), opened_at=T0
    )
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.positions.close(
            position.position_id,
            exit_price=D(160),
            exit_reason="take_profit",
            quantity=D(40),
            commission=D("0.40"),
            closed_at=T0 + HOUR,
        )
        remaining = uow.positions.get(position.position_id)
    assert first.quantity == 40
    assert first.commission == D("1.60")  # 40 % of 3.00 + 0.40
    assert first.realized_pnl == D("398.40")
    assert remaining.quantity == 60
    assert remaining.commission == D("1.80")
    assert remaining.current_price == 160  # marked at the exit price
    assert remaining.unrealized_pnl == D(600)
    with db.unit_of_work(bot_id=bot) as uow:
        second = uow.positions.close(
            position.position_id,
            exit_price=D(140),
            exit_reason="stop_loss",
            quantity=D(60),  # exactly what is left: a full close
            closed_at=T0 + 2 * HOUR,
        )
        parts = uow.positions.list_closed(position_id=position.position_id)
    assert second.quantity == 60
    assert second.commission == D("1.80")
    assert second.realized_pnl == D("-601.80")
    assert count(db, "positions") == 0
    assert [p.closed_position_id for p in parts] == [
        second.closed_position_id,
        first.closed_position_id,
    ]
    assert sum((p.quantity for p in parts), D(0)) == 100
    assert sum((p.commission for p in parts), D(0)) == D("3.40")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    side=st.sampled_from(["long", "short"]),
    quantity=st.decimals(min_value=D("0.001"), max_value=D(100000), places=3),
    fractions=st.lists(st.integers(min_value=1, max_value=99), min_size=1, max_size=4),
    entry=st.decimals(min_value=D("0.01"), max_value=D(100000), places=2),
    exit_=st.decimals(min_value=D("0.01"), max_value=D(100000), places=2),
    commission=st.decimals(min_value=D(0), max_value=D(50), places=2),
)
def test_property_partial_closes_conserve_quantity_and_pnl(
    db: Database,
    bot: str,
    backend: str,
    side: str,
    quantity: Decimal,
    fractions: list[int],
    entry: Decimal,
    exit_: Decimal,
    commission: Decimal,
) -> None:
    """Closed parts + remainder == original quantity after every step (exactly: quantities are
    never rounded), the commission is conserved exactly, and the net P&L of all parts is the
    whole position's gross P&L less its commission: exactly on PostgreSQL, within the rounding
    of each part's P&L to 15 significant digits on SQLite."""
    position = open_position(
        db, bot, side=side, quantity=quantity, entry_price=entry, commission=commission
    )
    pid = position.position_id
    remaining = quantity
    with db.unit_of_work(bot_id=bot) as uow:
        for percent in fractions:
            part = (remaining * percent / 100).quantize(D("0.001"))
            if part <= 0 or part >= remaining:
                continue
            uow.positions.close(pid, exit_price=exit_, exit_reason="manual", quantity=part)
            remaining -= part
            closed = sum((p.quantity for p in uow.positions.list_closed(position_id=pid)), D(0))
            assert closed + uow.positions.get(pid).quantity == quantity
        uow.positions.close(pid, exit_price=exit_, exit_reason="manual")
        parts = uow.positions.list_closed(position_id=pid, limit=None)
    assert sum((p.quantity for p in parts), D(0)) == quantity
    assert sum((p.commission for p in parts), D(0)) == commission
    move = exit_ - entry if side == "long" else entry - exit_
    expected = move * quantity - commission
    total = sum((p.realized_pnl for p in parts), D(0))
    if backend == "postgresql":
        assert total == expected
    else:
        largest = max([abs(expected), commission, *(abs(p.realized_pnl) for p in parts)])
        assert abs(total - expected) <= len(parts) * largest * D("1e-14")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    side=st.sampled_from(["long", "short"]),
    quantity=st.decimals(min_value=D("0.0001"), max_value=D(1000000), places=4),
    entry=st.decimals(min_value=D("0.0001"), max_value=D(100000), places=4),
    mark=st.decimals(min_value=D("0.0001"), max_value=D(100000), places=4),
    exit_=st.decimals(min_value=D("0.0001"), max_value=D(100000), places=4),
)
def test_property_stored_pnl_matches_the_side(
    db: Database,
    bot: str,
    backend: str,
    side: str,
    quantity: Decimal,
    entry: Decimal,
    mark: Decimal,
    exit_: Decimal,
) -> None:
    position = open_position(db, bot, "P", side=side, quantity=quantity, entry_price=entry)
    sign = 1 if side == "long" else -1
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"P": mark})
        marked = uow.positions.get(position.position_id)
        closed = uow.positions.close(position.position_id, exit_price=exit_, exit_reason="manual")
        [stored] = uow.positions.list_closed(position_id=position.position_id)
    tolerance = D("1e-14") * max(abs((mark - entry) * quantity), D(1))
    assert abs(marked.unrealized_pnl - sign * (mark - entry) * quantity) <= (
        tolerance if backend == "sqlite" else 0
    )
    exact = sign * (exit_ - entry) * quantity
    tolerance = D("1e-14") * max(abs(exact), D(1))
    assert abs(closed.realized_pnl - exact) <= (tolerance if backend == "sqlite" else 0)
    assert stored == closed
    assert (marked.unrealized_pnl > 0) == (sign * (mark - entry) > 0 and marked.unrealized_pnl != 0)


# --- common queries ------------------------------------------------------------------------


def close(db: Database, bot: str, position: PositionRecord, price: str, **kwargs: Any) -> None:
    arguments: dict[str, Any] = {"exit_reason": "manual", "exit_price": D(price)}
    arguments.update(kwargs)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close(position.position_id, **arguments)


def test_common_queries(db: Database, bot: str) -> None:
    a = open_position(db, bot, "A", quantity=D(10), entry_price=D(100), opened_at=T0)
    b = open_position(db, bot, "B", quantity=D(10), entry_price=D(100), opened_at=T0)
    c = open_position(db, bot, "C", quantity=D(10), entry_price=D(100), opened_at=T0)
    e = open_position(db, bot, "E", quantity=D(10), entry_price=D(100), opened_at=T0, strategy="s")
    close(db, bot, a, "110", exit_reason="take_profit", closed_at=T0 + 2 * HOUR)  # +100
    close(db, bot, b, "95", exit_reason="stop_loss", closed_at=T0 + 4 * HOUR)  # -50
    close(db, bot, c, "130", exit_reason="take_profit", closed_at=T0 + 6 * HOUR)  # +300
    close(db, bot, e, "100", closed_at=T0 + 8 * HOUR)  # 0: breakeven
    open_position(db, bot, "X", quantity=D(3), entry_price=D("0.1"))
    open_position(db, bot, "Y", quantity=D(3), entry_price=D("0.1"))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"X": D("0.2"), "Y": D("0.3")})
        repo = uow.positions
        assert repo.total_unrealized_pnl() == D("0.9")  # 0.3 + 0.6, exact on SQLite too
        assert repo.win_rate() == pytest.approx(0.5)
        assert repo.win_rate(strategy="s") == 0.0
        assert repo.win_rate(since=T0 + 3 * HOUR, until=T0 + 7 * HOUR) == pytest.approx(0.5)
        assert repo.win_rate(since=T0 + 100 * HOUR) is None
        assert repo.average_holding_period_by_exit_reason() == pytest.approx(
            {ExitReason.TAKE_PROFIT: 4.0, ExitReason.STOP_LOSS: 4.0, ExitReason.MANUAL: 8.0}
        )
        best = repo.best_performers(limit=2)
        assert [(p.ticker, p.realized_pnl) for p in best] == [("C", 300), ("A", 100)]
        assert best[0].realized_pnl_pct == pytest.approx(30.0)
        assert repo.total_realized_pnl() == D(350)
        assert [p.ticker for p in repo.list_closed(exit_reason="take_profit")] == ["C", "A"]
        assert [p.ticker for p in repo.list_closed(ticker="B")] == ["B"]
        assert [p.outcome for p in repo.list_closed(strategy="s")] == ["BREAKEVEN"]


def test_common_queries_on_an_empty_book(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.total_unrealized_pnl() == 0
        assert uow.positions.total_realized_pnl() == 0
        assert uow.positions.win_rate() is None
        assert uow.positions.average_holding_period_by_exit_reason() == {}
        assert uow.positions.best_performers() == []


def test_the_repository_refuses_a_bad_bot_id(db: Database) -> None:
    for bad in ("", "b" * 65):
        with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bad) as uow:
            uow.positions.list_open()
        assert info.value.field == "bot_id"


# --- concurrency and storage details --------------------------------------------------------


def test_concurrent_closes_of_one_position_close_it_once(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D(100))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def close_it() -> None:
        barrier.wait()
        try:
            with db.unit_of_work(bot_id=bot) as uow:
                uow.positions.close(position.position_id, exit_price=D(151), exit_reason="manual")
            outcomes.append("closed")
        except PositionClosed:
            outcomes.append("already closed")

    threads = [threading.Thread(target=close_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already closed"] * 3 + ["closed"]
    assert count(db, "closed_positions") == 1


def test_concurrent_partial_closes_never_lose_a_unit(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D(100), commission=D("10.00"))
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def close_part() -> None:
        barrier.wait()
        try:
            for _ in range(2):
                with db.unit_of_work(bot_id=bot) as uow:
                    uow.positions.close(
                        position.position_id,
                        exit_price=D(151),
                        exit_reason="manual",
                        quantity=D(10),
                    )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=close_part) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(db, "positions") == 0
    with db.unit_of_work(bot_id=bot) as uow:
        parts = uow.positions.list_closed(position_id=position.position_id)
    assert len(parts) == 10
    assert sum((p.quantity for p in parts), D(0)) == 100
    assert sum((p.commission for p in parts), D(0)) == D("10.00")


def test_absent_metadata_is_sql_null(db: Database, bot: str) -> None:
    """None is stored as SQL NULL, not as the JSON document 'null' (so IS NULL finds it)."""
    position = open_position(db, bot)
    open_position(db, bot)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close(position.position_id, exit_price=D(151), exit_reason="manual")
    with db.session() as session:
        for table in ("positions", "closed_positions", "bots"):
            nulls = session.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE metadata IS NULL")
            ).scalar_one()
            total = session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            assert nulls == total


def test_repository_methods_let_no_driver_error_out() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    from tradestore.db.net import translated
    from tradestore.errors import DatabaseUnavailable, IntegrityViolation

    @translated
    def conflict() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("CHECK constraint failed: x"))

    @translated
    def unreachable() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(IntegrityViolation) as info:
        conflict()
    assert info.value.constraint == "x"
    with pytest.raises(DatabaseUnavailable):
        unreachable()


def test_a_database_refusal_is_a_tradestore_error_inside_the_unit_of_work(
    db: Database, bot: str
) -> None:
    """Caught inside the ``with`` block, not only when the unit of work ends."""
    from tradestore.errors import TradestoreError

    open_position(db, bot, position_id="p1")
    with db.unit_of_work(bot_id=bot) as uow:
        cascade = " CASCADE" if db.dialect_name == "postgresql" else ""  # views depend on it
        uow.session.execute(text(f"DROP TABLE closed_positions{cascade}"))
        try:
            uow.positions.close("p1", exit_price=D(151), exit_reason="manual")
        except TradestoreError as error:
            caught: Exception = error
        uow.session.rollback()
    assert isinstance(caught, TradestoreError)
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.get("p1").quantity == 100
