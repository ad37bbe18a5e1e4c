"""Changing an open position on both backends: update, trail_stop, stops_hit, scale_in and
scale_out, their refusals, concurrency and the accounting properties of any sequence."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tradestore import Database
from tradestore.domain.enums import ExitReason
from tradestore.errors import (
    PositionClosed,
    PositionNotFound,
    PrecisionError,
    ValidationError,
)
from tradestore.repositories.positions import PositionRecord

D = Decimal
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D("100000"))
    return "alpha"


def open_position(db: Database, bot: str, ticker: str = "AAPL", **kwargs: Any) -> PositionRecord:
    arguments: dict[str, Any] = {"side": "long", "quantity": D(100), "entry_price": D(150)}
    arguments.update(kwargs)
    with db.unit_of_work(bot_id=bot) as uow:
        return uow.positions.open(ticker, **arguments)


def stored(db: Database, bot: str, position_id: str) -> PositionRecord:
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        return uow.positions.get(position_id)


def closed_count(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT COUNT(*) FROM closed_positions")).scalar_one())


# --- update ----------------------------------------------------------------------------------


def test_update_changes_only_what_is_given_and_none_clears(db: Database, bot: str) -> None:
    position = open_position(
        db, bot, stop_loss_price=D(140), take_profit_price=D(170), metadata={"a": 1}
    )
    with db.unit_of_work(bot_id=bot) as uow:
        moved = uow.positions.update(position.position_id, stop_loss_price=D(145))
    assert moved == stored(db, bot, position.position_id)
    assert (moved.stop_loss_price, moved.take_profit_price, moved.metadata) == (
        145,
        170,
        {"a": 1},
    )
    with db.unit_of_work(bot_id=bot) as uow:
        cleared = uow.positions.update(position.position_id, take_profit_price=None)
    assert cleared == stored(db, bot, position.position_id)
    assert (cleared.stop_loss_price, cleared.take_profit_price) == (145, None)


def test_update_merges_metadata_unless_told_to_replace(db: Database, bot: str) -> None:
    position = open_position(db, bot, metadata={"alert": "a-1", "tags": ["dca"]})
    pid = position.position_id
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(pid, metadata={"tags": ["dca", "2nd"], "note": None})
    assert stored(db, bot, pid).metadata == {"alert": "a-1", "tags": ["dca", "2nd"], "note": None}
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(pid, metadata={"only": True}, replace_metadata=True)
    assert stored(db, bot, pid).metadata == {"only": True}
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(pid, metadata=None)
    assert stored(db, bot, pid).metadata is None
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(pid, metadata={"fresh": 1})  # merged into nothing
    assert stored(db, bot, pid).metadata == {"fresh": 1}


def test_update_takes_updated_at_from_the_database_clock(db_url: str) -> None:
    times = iter([T0 + dt.timedelta(minutes=n) for n in range(10)])
    database = Database(db_url, clock=lambda: next(times))
    try:
        with database.unit_of_work() as uow:
            uow.bots.register("alpha")
        with database.unit_of_work(bot_id="alpha") as uow:
            position = uow.positions.open(
                "AAPL", side="long", quantity=D(1), entry_price=D(10), opened_at=T0
            )
        with database.unit_of_work(bot_id="alpha") as uow:
            changed = uow.positions.update(position.position_id, take_profit_price=D(12))
            again = uow.positions.get(position.position_id)
    finally:
        database.dispose()
    assert changed.updated_at > position.updated_at
    assert again.updated_at == changed.updated_at


def test_update_with_nothing_given_writes_nothing(db: Database, bot: str) -> None:
    position = open_position(db, bot)
    with db.unit_of_work(bot_id=bot) as uow:
        same = uow.positions.update(position.position_id)
    assert same == position == stored(db, bot, position.position_id)


BAD_UPDATES = [
    ("stop_loss_price", {"stop_loss_price": D(150)}),  # a long's stop must be < entry
    ("stop_loss_price", {"stop_loss_price": D(-1)}),
    ("take_profit_price", {"take_profit_price": D(149)}),
    ("take_profit_price", {"take_profit_price": "abc"}),
    ("metadata", {"metadata": {1: "x"}}),
    ("metadata", {"metadata": "not a mapping"}),
    ("replace_metadata", {"replace_metadata": "yes"}),
]


@pytest.mark.parametrize(("field", "kwargs"), BAD_UPDATES)
def test_a_refused_update_names_the_field_and_writes_nothing(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    position = open_position(db, bot, stop_loss_price=D(140), metadata={"a": 1})
    with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(position.position_id, **kwargs)
    assert caught.value.field.startswith(field)
    assert stored(db, bot, position.position_id) == position


def test_a_short_s_stops_are_reversed(db: Database, bot: str) -> None:
    position = open_position(db, bot, side="short")
    with db.unit_of_work(bot_id=bot) as uow:
        changed = uow.positions.update(
            position.position_id, stop_loss_price=D(160), take_profit_price=D(120)
        )
    assert (changed.stop_loss_price, changed.take_profit_price) == (160, 120)
    with pytest.raises(ValidationError, match="short's stop"), db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(position.position_id, stop_loss_price=D(149))


@pytest.mark.parametrize(
    "change",
    [
        lambda p, pid: p.update(pid, stop_loss_price=D(1)),
        lambda p, pid: p.trail_stop(pid, price=D(150), distance=D(1)),
        lambda p, pid: p.scale_in(pid, quantity=D(1), price=D(150)),
        lambda p, pid: p.scale_out(pid, quantity=D(1), price=D(150), exit_reason="manual"),
    ],
    ids=["update", "trail_stop", "scale_in", "scale_out"],
)
def test_a_closed_or_unknown_position_is_refused(db: Database, bot: str, change: Any) -> None:
    position = open_position(db, bot)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.close(position.position_id, exit_price=D(151), exit_reason="manual")
    with pytest.raises(PositionClosed), db.unit_of_work(bot_id=bot) as uow:
        change(uow.positions, position.position_id)
    with pytest.raises(PositionNotFound), db.unit_of_work(bot_id=bot) as uow:
        change(uow.positions, "pos_unknown")
    with db.unit_of_work() as uow:
        uow.bots.register("beta")
    other = open_position(db, "beta")
    with pytest.raises(PositionNotFound), db.unit_of_work(bot_id=bot) as uow:
        change(uow.positions, other.position_id)  # another bot's id is unknown here
    assert stored(db, "beta", other.position_id) == other
    assert closed_count(db) == 1


# --- trailing stops --------------------------------------------------------------------------


def test_trail_stop_ratchets_and_never_loosens(db: Database, bot: str) -> None:
    position = open_position(db, bot, entry_price=D(150), stop_loss_price=D(140))
    pid = position.position_id
    moves = []
    with db.unit_of_work(bot_id=bot) as uow:
        for price in ("145", "148", "146", "149.5", "141"):
            moves.append(uow.positions.trail_stop(pid, price=D(price), distance=D(4)))
    assert moves == [True, True, False, True, False]
    assert stored(db, bot, pid).stop_loss_price == D("145.5")


def test_trail_stop_by_percent_for_a_short(db: Database, bot: str) -> None:
    position = open_position(db, bot, side="short", entry_price=D(100))
    pid = position.position_id
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.trail_stop(pid, price=D(95), percent=D(10)) is True
        assert uow.positions.trail_stop(pid, price=D(96), percent=D(10)) is False
    assert stored(db, bot, pid).stop_loss_price == D("104.5")


def test_a_trailed_stop_locks_in_profit_and_the_row_holds_it(db: Database, bot: str) -> None:
    """A long bought at 150 and trailed at 160 holds its stop at 155, above its entry: the
    stop is held to the price it follows, not to the entry (revision 0009)."""
    position = open_position(db, bot, entry_price=D(150), stop_loss_price=D(140))
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.trail_stop(position.position_id, price=D(160), distance=D(5))
    assert stored(db, bot, position.position_id).stop_loss_price == D(155)
    short = open_position(db, bot, "MSFT", side="short", entry_price=D(100))
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.positions.trail_stop(short.position_id, price=D(80), percent=D(10))
    assert stored(db, bot, short.position_id).stop_loss_price == D(88)


def test_a_stop_is_held_to_the_mark_when_it_is_set(db: Database, bot: str) -> None:
    """update holds the stop to the last mark: above the entry once the price has risen
    past it, never at or above the mark itself; the target keeps its side of the entry."""
    position = open_position(db, bot, entry_price=D(150))
    pid = position.position_id
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.mark_to_market({"AAPL": D(170)})
        assert uow.positions.update(pid, stop_loss_price=D(160)).stop_loss_price == D(160)
    for field, change in (
        ("stop_loss_price", {"stop_loss_price": D(170)}),
        ("take_profit_price", {"take_profit_price": D(150)}),
    ):
        before = stored(db, bot, pid)
        with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
            uow.positions.update(pid, **change)
        assert caught.value.field == field
        assert stored(db, bot, pid) == before


def test_open_holds_the_stop_to_the_price_it_opens_at(db: Database, bot: str) -> None:
    """With a current price above the entry, a long may open with a stop above its entry."""
    position = open_position(
        db, bot, entry_price=D(150), current_price=D(160), stop_loss_price=D(152)
    )
    assert stored(db, bot, position.position_id).stop_loss_price == D(152)
    with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.open("MSFT", side="long", quantity=D(1), entry_price=D(150),
                           stop_loss_price=D(150))  # fmt: skip
    assert caught.value.field == "stop_loss_price"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("distance", {"price": D(150)}),
        ("distance", {"price": D(150), "distance": D(1), "percent": D(1)}),
        ("distance", {"price": D(150), "distance": D(0)}),
        ("percent", {"price": D(150), "percent": D(100)}),
        ("percent", {"price": D(150), "percent": D(-5)}),
        ("price", {"price": D(0), "distance": D(1)}),
    ],
)
def test_trail_stop_refuses_bad_arguments(
    db: Database, bot: str, field: str, kwargs: dict[str, Any]
) -> None:
    position = open_position(db, bot)
    with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.trail_stop(position.position_id, **kwargs)
    assert caught.value.field == field
    assert stored(db, bot, position.position_id) == position


def test_stops_hit_lists_the_crossed_levels_and_closes_nothing(db: Database, bot: str) -> None:
    long = open_position(db, bot, "AAPL", stop_loss_price=D(140), take_profit_price=D(170))
    short = open_position(db, bot, "TSLA", side="short", entry_price=D(200), stop_loss_price=D(210))
    open_position(db, bot, "MSFT", stop_loss_price=D(100))  # not reached
    open_position(db, bot, "NVDA")  # no levels at all
    with db.unit_of_work(bot_id=bot) as uow:
        hits = uow.positions.stops_hit(
            {"AAPL": D(171), "TSLA": D(210), "MSFT": D(101), "NVDA": D(1), "AMD": D(5)}
        )
        assert uow.positions.stops_hit({}) == []
    assert [(h.position_id, h.level, h.price) for h in hits] == [
        (long.position_id, ExitReason.TAKE_PROFIT, D(171)),
        (short.position_id, ExitReason.STOP_LOSS, D(210)),
    ]
    assert closed_count(db) == 0
    with pytest.raises(ValidationError), db.unit_of_work(bot_id=bot) as uow:
        uow.positions.stops_hit({"AAPL": D(-1)})


def test_a_trailing_stop_driven_by_marks_then_closed(db: Database, bot: str) -> None:
    """The loop the guide shows: mark, trail, close what the stop caught."""
    position = open_position(db, bot, entry_price=D(150), stop_loss_price=D(140))
    closed = []
    for price in ("148", "149", "147", "144.5"):
        with db.unit_of_work(bot_id=bot) as uow:
            prices = {"AAPL": D(price)}
            uow.positions.mark_to_market(prices)
            for hit in uow.positions.stops_hit(prices):
                closed.append(
                    uow.positions.close(
                        hit.position_id, exit_price=hit.price, exit_reason="trailing_stop"
                    )
                )
            for open_ in uow.positions.list_open(ticker="AAPL"):
                uow.positions.trail_stop(open_.position_id, price=prices["AAPL"], distance=D(4))
    [row] = closed
    assert (row.position_id, row.exit_reason, row.stop_loss_price) == (
        position.position_id,
        ExitReason.TRAILING_STOP,
        D(145),
    )


# --- scaling in and out ----------------------------------------------------------------------


def test_scale_in_averages_the_entry_and_accumulates_the_commission(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D(10), entry_price=D(100), commission=D("1.00"))
    with db.unit_of_work(bot_id=bot) as uow:
        grown = uow.positions.scale_in(
            position.position_id, quantity=D(30), price=D(96), commission=D("0.50")
        )
    assert grown == stored(db, bot, position.position_id)
    assert (grown.quantity, grown.entry_price, grown.commission) == (40, 97, D("1.50"))
    assert (grown.current_price, grown.unrealized_pnl, grown.max_adverse_excursion) == (96, -40, 96)


def test_scale_in_then_out_realizes_against_the_average(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D(10), entry_price=D(100), commission=D("4"))
    pid = position.position_id
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.scale_in(pid, quantity=D(10), price=D(90))  # entry 95
        part = uow.positions.scale_out(
            pid, quantity=D(5), price=D(105), exit_reason="take_profit", commission=D("0.25")
        )
        rest = uow.positions.get(pid)
    assert (part.quantity, part.entry_price, part.commission) == (5, 95, D("1.25"))
    assert part.realized_pnl == 5 * (105 - 95) - D("1.25")
    assert (rest.quantity, rest.entry_price, rest.commission) == (15, 95, 3)
    with db.unit_of_work(bot_id=bot) as uow:
        last = uow.positions.scale_out(pid, quantity=D(15), price=D(94), exit_reason="manual")
        assert uow.positions.find(pid) is None
    assert last.realized_pnl == 15 * (94 - 95) - 3


BAD_SCALES = [
    ("quantity", "scale_in", {"quantity": D(0), "price": D(150)}),
    ("quantity", "scale_in", {"quantity": D(-1), "price": D(150)}),
    ("price", "scale_in", {"quantity": D(1), "price": D(0)}),
    ("commission", "scale_in", {"quantity": D(1), "price": D(150), "commission": D(-1)}),
    # the new average 160 would put the entry on the target
    ("take_profit_price", "scale_in", {"quantity": D(100), "price": D(170)}),
    ("quantity", "scale_out", {"quantity": D(0), "price": D(150), "exit_reason": "manual"}),
    ("quantity", "scale_out", {"quantity": D(101), "price": D(150), "exit_reason": "manual"}),
    ("quantity", "scale_out", {"quantity": None, "price": D(150), "exit_reason": "manual"}),
    ("exit_price", "scale_out", {"quantity": D(1), "price": D(0), "exit_reason": "manual"}),
    ("exit_reason", "scale_out", {"quantity": D(1), "price": D(150), "exit_reason": ""}),
]


@pytest.mark.parametrize(("field", "method", "kwargs"), BAD_SCALES)
def test_a_refused_scale_names_the_field_and_writes_nothing(
    db: Database, bot: str, field: str, method: str, kwargs: dict[str, Any]
) -> None:
    position = open_position(db, bot, stop_loss_price=D(140), take_profit_price=D(160))
    with pytest.raises(ValidationError) as caught, db.unit_of_work(bot_id=bot) as uow:
        getattr(uow.positions, method)(position.position_id, **kwargs)
    assert caught.value.field == field
    assert stored(db, bot, position.position_id) == position
    assert closed_count(db) == 0


@pytest.mark.sqlite_only  # NUMERIC(38, 18) stores every sum of two storable quantities
def test_a_quantity_sum_sqlite_cannot_store_is_refused(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D("1e15"), entry_price=D(1))
    with pytest.raises(PrecisionError) as caught, db.unit_of_work(bot_id=bot) as uow:
        uow.positions.scale_in(position.position_id, quantity=D("0.001"), price=D(1))
    assert caught.value.field == "quantity"
    assert stored(db, bot, position.position_id) == position


def test_concurrent_scale_ins_of_one_position_lose_nothing(db: Database, bot: str) -> None:
    position = open_position(db, bot, quantity=D(1), entry_price=D(100), commission=D("0.10"))
    writers = 6
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def add(i: int) -> None:
        barrier.wait()
        try:
            for k in range(2):
                with db.unit_of_work(bot_id=bot) as uow:
                    uow.positions.scale_in(
                        position.position_id,
                        quantity=D(1),
                        price=D(100 + i * 2 + k),
                        commission=D("0.10"),
                    )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = stored(db, bot, position.position_id)
    assert final.quantity == 1 + 2 * writers
    assert final.commission == D("0.10") * (1 + 2 * writers)
    prices = [100] + [100 + i * 2 + k for i in range(writers) for k in range(2)]
    exact = Fraction(sum(prices), len(prices))
    assert abs(Fraction(final.entry_price) - exact) <= Fraction(len(prices), 10**14)


PROCESSES = 4
STEPS_EACH = 5


def _process_scaler(url: str, position_id: str, worker: int, barrier: Any) -> None:
    database = Database(url)
    try:
        barrier.wait(60)
        for k in range(STEPS_EACH):
            with database.unit_of_work(bot_id="alpha") as uow:
                uow.positions.scale_in(position_id, quantity=D(2), price=D(100 + worker + k))
            with database.unit_of_work(bot_id="alpha") as uow:
                uow.positions.scale_out(
                    position_id, quantity=D(1), price=D(110), exit_reason="scale_out"
                )
    finally:
        database.dispose()


@pytest.mark.sqlite_only
def test_processes_scaling_one_position_on_one_sqlite_file_lose_nothing(
    db: Database, db_url: str, bot: str
) -> None:
    position = open_position(db, bot, quantity=D(10), entry_price=D(100))
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    db.dispose()  # no inherited connections in the children
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_process_scaler, args=(db_url, position.position_id, i, barrier))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    final = stored(db, bot, position.position_id)
    assert final.quantity == 10 + PROCESSES * STEPS_EACH * (2 - 1)
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        parts = uow.positions.list_closed(position_id=position.position_id)
    assert len(parts) == PROCESSES * STEPS_EACH
    assert sum((p.quantity for p in parts), D(0)) == PROCESSES * STEPS_EACH


# --- properties --------------------------------------------------------------------------------

_STEP = st.tuples(
    st.sampled_from(["in", "out"]),
    st.decimals(min_value=D("0.001"), max_value=D(1000), places=3),  # quantity to add
    st.integers(min_value=1, max_value=99),  # percent of the open quantity to take off
    st.decimals(min_value=D("0.01"), max_value=D(10000), places=2),  # price
    st.decimals(min_value=D(0), max_value=D(5), places=2),  # commission
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    side=st.sampled_from(["long", "short"]),
    quantity=st.decimals(min_value=D("0.001"), max_value=D(1000), places=3),
    entry=st.decimals(min_value=D("0.01"), max_value=D(10000), places=2),
    commission=st.decimals(min_value=D(0), max_value=D(5), places=2),
    steps=st.lists(_STEP, max_size=8),
    last=st.decimals(min_value=D("0.01"), max_value=D(10000), places=2),
)
def test_property_any_sequence_of_scales_accounts_exactly(
    db: Database,
    bot: str,
    backend: str,
    side: str,
    quantity: Decimal,
    entry: Decimal,
    commission: Decimal,
    steps: list[tuple[str, Decimal, int, Decimal, Decimal]],
    last: Decimal,
) -> None:
    """After every step the open quantity is the sum of the signed changes (exactly); the
    entry price is the average cost (the VWAP of the increasing parts, each reduction taking
    its quantity off at the average) within one rounding per scale-in; each closed part is
    realized against the entry of its time; once everything is closed, the commissions of the
    closed rows are every commission paid (exactly on PostgreSQL) and their realized P&L is
    the average-cost model's gross P&L less those commissions."""
    sign = 1 if side == "long" else -1
    position = open_position(
        db, bot, side=side, quantity=quantity, entry_price=entry, commission=commission
    )
    pid = position.position_id
    held, cost = Fraction(quantity), Fraction(quantity) * Fraction(entry)
    signed_sum, paid, gross, rounding_steps, taken_off = quantity, commission, Fraction(0), 1, []
    with db.unit_of_work(bot_id=bot) as uow:
        for kind, added, percent, price, fee in steps:
            if kind == "in":
                uow.positions.scale_in(pid, quantity=added, price=price, commission=fee)
                held += Fraction(added)
                cost += Fraction(added) * Fraction(price)
                signed_sum += added
                paid += fee
                rounding_steps += 1
            else:
                part = (uow.positions.get(pid).quantity * percent / 100).quantize(D("0.001"))
                if part <= 0 or part >= signed_sum:
                    continue
                before = uow.positions.get(pid)
                row = uow.positions.scale_out(
                    pid, quantity=part, price=price, exit_reason="scale_out", commission=fee
                )
                assert row.entry_price == before.entry_price
                gross += sign * (Fraction(price) - cost / held) * Fraction(part)
                cost -= cost * Fraction(part) / held
                held -= Fraction(part)
                signed_sum -= part
                paid += fee
                taken_off.append(part)
            now = uow.positions.get(pid)
            assert now.quantity == signed_sum
            tolerance = (
                Fraction(rounding_steps, 10**18)
                if backend == "postgresql"
                else Fraction(rounding_steps) * Fraction(now.entry_price) / 10**14
            )
            assert abs(Fraction(now.entry_price) - cost / held) <= tolerance
        uow.positions.scale_out(pid, quantity=signed_sum, price=last, exit_reason="manual")
        gross += sign * (Fraction(last) - cost / held) * held
        taken_off.append(signed_sum)
        rows = uow.positions.list_closed(position_id=pid)
    assert sorted(r.quantity for r in rows) == sorted(taken_off)
    commissions = sum((r.commission for r in rows), D(0))
    if backend == "postgresql":
        assert commissions == paid
    else:  # each closed row's commission (entry share + exit fee) is fitted to a double
        assert abs(commissions - paid) <= len(rows) * max(paid, D(1)) * D("1e-15")
    realized = sum((Fraction(r.realized_pnl) for r in rows), Fraction(0))
    # each part's P&L uses the stored entry (off the exact average by ``tolerance`` at most)
    # and is rounded once to what the backend stores
    biggest = max([abs(gross), Fraction(paid), *(abs(Fraction(r.realized_pnl)) for r in rows)])
    per_unit = Fraction(rounding_steps, 10**18) if backend == "postgresql" else Fraction(0)
    allowed = per_unit * Fraction(sum(taken_off, D(0))) + Fraction(len(rows), 10**18)
    if backend == "sqlite":
        scale = Fraction(max(entry, last, *(s[3] for s in steps))) * Fraction(sum(taken_off, D(0)))
        allowed = (rounding_steps + len(rows)) * max(biggest, scale) / 10**13
    assert abs(realized - (gross - Fraction(paid))) <= allowed
