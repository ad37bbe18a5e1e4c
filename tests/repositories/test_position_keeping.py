"""Position keeping from fills (netting), on both backends, through all three fill paths.

A bot in 'netting' (or an order with ``keep_position=True``) has its fills move the one
position of its ticker and strategy: opening, adding at the VWAP, reducing with a closed row
written as ``close`` writes it, closing, reversing; the bot's cash follows every fill. A
replayed fill moves nothing; 'manual' (the default) moves nothing at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, text

from sibling import load
from tradestore import Database
from tradestore.domain.enums import ExitReason, PositionKeeping, PositionSide
from tradestore.errors import PrecisionError, TransactionAborted, ValidationError

D = Decimal
ZERO = D(0)
BALANCE = D("10000")
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
PATHS = ("record_fill", "record_fills", "ingest_fills")
_ids = itertools.count()

totals_test = load("repositories/test_position_totals.py")


def register(
    db: Database, bot_id: str, *, keeping: str = "netting", balance: Decimal | None = BALANCE
) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register(bot_id, starting_balance=balance, position_keeping=keeping)


@pytest.fixture
def bot(db: Database) -> str:
    register(db, "alpha")
    return "alpha"


def submit(
    db: Database,
    bot_id: str,
    side: str,
    quantity: Decimal,
    *,
    ticker: str = "AAPL",
    strategy: str | None = None,
    **extra: Any,
) -> str:
    with db.unit_of_work(bot_id=bot_id) as uow:
        order = uow.orders.submit(
            client_order_id=f"c-{next(_ids)}",
            ticker=ticker,
            side=side,
            order_type="market",
            quantity=quantity,
            strategy=strategy,
            **extra,
        )
    return order.order_id


def fill(
    db: Database,
    bot_id: str,
    order_id: str,
    quantity: Decimal,
    price: Decimal,
    *,
    commission: Decimal = ZERO,
    path: str = "record_fill",
    fill_id: str | None = None,
    minutes: int = 0,
) -> Any:
    """One fill through ``path``; what that path returns for it."""
    arguments = {
        "fill_id": fill_id or f"f-{next(_ids)}",
        "quantity": quantity,
        "price": price,
        "commission": commission,
        "filled_at": T0 + dt.timedelta(minutes=minutes),
    }
    with db.unit_of_work(bot_id=bot_id) as uow:
        if path == "record_fill":
            return uow.orders.record_fill(order_id, **arguments)
        if path == "record_fills":
            [outcome] = uow.orders.record_fills([{"order_id": order_id, **arguments}])
            return outcome
        return uow.orders.ingest_fills([{"order_id": order_id, **arguments}])


def trade(
    db: Database,
    bot_id: str,
    side: str,
    quantity: Decimal,
    price: Decimal,
    *,
    commission: Decimal = ZERO,
    path: str = "record_fill",
    **order: Any,
) -> str:
    """Submit an order and fill it whole; its order_id."""
    order_id = submit(db, bot_id, side, quantity, **order)
    fill(db, bot_id, order_id, quantity, price, commission=commission, path=path)
    return order_id


def state(db: Database, bot_id: str) -> tuple[Any, ...]:
    with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
        return (
            uow.positions.list_open(order_by="ticker"),
            uow.positions.list_closed(),
            uow.bots.get(bot_id).current_balance,
        )


def test_manual_bots_keep_nothing_from_fills(db: Database) -> None:
    register(db, "alpha", keeping="manual")
    order_id = trade(db, "alpha", "buy", D("10"), D("100"), commission=D("1"))
    opened, closed, cash = state(db, "alpha")
    assert list(opened) == []
    assert list(closed) == []
    assert cash == D("10000")
    with db.unit_of_work(bot_id="alpha", readonly=True) as uow:
        assert uow.orders.get(order_id).position_id is None
        assert uow.orders.get(order_id).keep_position is False  # frozen at the first fill
        assert uow.bots.get("alpha").position_keeping is PositionKeeping.MANUAL


@pytest.mark.parametrize("path", PATHS)
def test_open_add_reduce_reverse_close(db: Database, bot: str, path: str) -> None:
    first = trade(db, bot, "buy", D("10"), D("100"), commission=D("1"), path=path)
    [position], _, cash = state(db, bot)
    assert (position.side, position.quantity, position.entry_price) == (
        PositionSide.LONG,
        D("10"),
        D("100"),
    )
    assert position.commission == D("1")
    assert position.kept_from_fills
    assert cash == D("10000") - D("1000") - D("1")
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        order = uow.orders.get(first)
        assert order.position_id == position.position_id
        assert [f.position_id for f in uow.orders.fills(first)] == [position.position_id]

    # Adding at another price: the entry is the VWAP of the increasing fills.
    trade(db, bot, "buy", D("5"), D("106"), commission=D("0.5"), path=path)
    [added], _, cash = state(db, bot)
    assert added.position_id == position.position_id
    assert (added.quantity, added.entry_price, added.commission) == (D("15"), D("102"), D("1.5"))
    assert cash == D("8999") - D("530") - D("0.5")

    # Reducing: a partial close at the fill price, with the pro-rata entry commission.
    trade(db, bot, "sell", D("6"), D("110"), commission=D("0.6"), path=path)
    [reduced], [part], cash = state(db, bot)
    assert (reduced.quantity, reduced.entry_price, reduced.commission) == (
        D("9"),
        D("102"),
        D("0.9"),
    )
    assert part.position_id == position.position_id
    assert part.quantity == D("6")
    assert part.gross_pnl == D("48")
    assert part.commission == D("1.2")
    assert part.realized_pnl == D("46.8")
    assert part.exit_reason is ExitReason.SIGNAL
    assert cash == D("8468.5") + D("660") - D("0.6")

    # Past zero: the 9 close, the other 3 open a short at the fill price.
    reversal = trade(db, bot, "sell", D("12"), D("100"), commission=D("1.2"), path=path)
    [short], closed, cash = state(db, bot)
    assert short.position_id != position.position_id
    assert short.kept_from_fills
    assert (short.side, short.quantity, short.entry_price, short.commission) == (
        PositionSide.SHORT,
        D("3"),
        D("100"),
        D("0.3"),
    )
    last = closed[0]
    assert (last.position_id, last.quantity, last.gross_pnl) == (
        position.position_id,
        D("9"),
        D("-18"),
    )
    assert last.commission == D("1.8")
    assert last.realized_pnl == D("-19.8")
    assert cash == D("9127.9") + D("1200") - D("1.2")
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        # The reversing order and its fill name the position they leave open.
        assert uow.orders.get(reversal).position_id == short.position_id
        assert [f.position_id for f in uow.orders.fills(reversal)] == [short.position_id]

    # Buying the short back closes it.
    trade(db, bot, "buy", D("3"), D("95"), commission=D("0.3"), path=path)
    opened, closed, cash = state(db, bot)
    assert list(opened) == []
    assert (closed[0].position_id, closed[0].side, closed[0].realized_pnl) == (
        short.position_id,
        PositionSide.SHORT,
        D("15") - D("0.6"),
    )
    assert cash == D("10326.7") - D("285") - D("0.3")
    # Realized P&L is the cash made: nothing is open any more.
    assert sum(row.realized_pnl for row in closed) == cash - D("10000")
    totals_test.assert_totals_recomputed(db, bot)


@pytest.mark.parametrize("path", PATHS)
def test_a_replayed_fill_moves_nothing(db: Database, bot: str, path: str) -> None:
    order_id = submit(db, bot, "buy", D("10"))
    fill(db, bot, order_id, D("4"), D("100"), fill_id="same", path=path)
    before = state(db, bot)
    replay = fill(db, bot, order_id, D("4"), D("100"), fill_id="same", path=path)
    if path == "ingest_fills":
        assert (replay.inserted, replay.replayed) == (0, 1)
    else:
        assert replay.replayed
        assert replay.fill.position_id == before[0][0].position_id
    assert state(db, bot) == before


def test_the_order_chooses_over_the_bot(db: Database) -> None:
    register(db, "manual", keeping="manual")
    register(db, "netting")
    trade(db, "manual", "buy", D("2"), D("50"), keep_position=True)
    trade(db, "netting", "buy", D("2"), D("50"), keep_position=False)
    [kept], _, cash = state(db, "manual")
    assert kept.quantity == D("2")
    assert cash == D("9900")
    opened, _, cash = state(db, "netting")
    assert list(opened) == []
    assert cash == D("10000")


def test_an_order_naming_a_position_belongs_to_the_explicit_api(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        position = uow.positions.open("AAPL", side="long", quantity=D("1"), entry_price=D("10"))
    with pytest.raises(ValidationError, match="keep_position"):
        submit(db, bot, "sell", D("1"), position_id=position.position_id, keep_position=True)
    order_id = submit(db, bot, "sell", D("1"), position_id=position.position_id)
    fill(db, bot, order_id, D("1"), D("11"))
    [still], closed, cash = state(db, bot)
    assert still == position
    assert list(closed) == []
    assert cash == D("10000")
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        assert uow.orders.get(order_id).keep_position is False


def test_each_ticker_and_strategy_is_a_key_of_its_own(db: Database, bot: str) -> None:
    trade(db, bot, "buy", D("1"), D("10"))
    trade(db, bot, "buy", D("2"), D("10"), strategy="dca")
    trade(db, bot, "sell", D("3"), D("10"), strategy="mm")
    trade(db, bot, "buy", D("4"), D("10"), ticker="MSFT")
    trade(db, bot, "buy", D("1"), D("12"))
    opened, closed, _ = state(db, bot)
    assert list(closed) == []
    assert sorted((p.ticker, p.strategy or "", p.side.value, p.quantity) for p in opened) == [
        ("AAPL", "", "long", D("2")),
        ("AAPL", "dca", "long", D("2")),
        ("AAPL", "mm", "short", D("3")),
        ("MSFT", "", "long", D("4")),
    ]


def test_a_bot_without_a_balance_keeps_none(db: Database) -> None:
    register(db, "alpha", balance=None)
    trade(db, "alpha", "buy", D("1"), D("10"), commission=D("0.1"))
    [position], _, cash = state(db, "alpha")
    assert position.quantity == D("1")
    assert cash is None


def test_slippage_against_the_reference_price(db: Database, bot: str) -> None:
    trade(db, bot, "buy", D("2"), D("100"))
    trade(db, bot, "sell", D("2"), D("99.5"), reference_price=D("100"))
    _, [closed], _ = state(db, bot)
    # A sell below its reference: adverse, positive; in basis points of the exit price.
    assert closed.slippage == D("0.5")
    assert closed.slippage_bps == pytest.approx(50.2513)


def test_a_reduced_position_writes_what_close_writes(db: Database) -> None:
    """The same trades, kept from fills and done with the explicit API, leave equal rows."""
    register(db, "kept")
    register(db, "explicit", keeping="manual")
    trade(db, "kept", "buy", D("10"), D("100"), commission=D("1"))
    trade(db, "kept", "buy", D("10"), D("90"), commission=D("1"))
    trade(db, "kept", "sell", D("5"), D("97"), commission=D("0.5"))
    trade(db, "kept", "sell", D("15"), D("94"), commission=D("1.5"))
    with db.unit_of_work(bot_id="explicit") as uow:
        opened = uow.positions.open(
            "AAPL", side="long", quantity=D("10"), entry_price=D("100"), commission=D("1"),
            opened_at=T0,
        )  # fmt: skip
        pid = opened.position_id
        uow.positions.scale_in(pid, quantity=D("10"), price=D("90"), commission=D("1"))
        for quantity, price, fee in ((D("5"), D("97"), D("0.5")), (D("15"), D("94"), D("1.5"))):
            uow.positions.close(
                pid, exit_price=price, exit_reason="signal", quantity=quantity,
                commission=fee, closed_at=T0,
            )  # fmt: skip
    ignored = {"closed_position_id", "position_id", "bot_id", "updated_at"}

    def rows(bot_id: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.__dict__.items() if k not in ignored}
            for row in state(db, bot_id)[1]
        ]

    assert rows("kept") == rows("explicit")
    totals_test.assert_totals_recomputed(db, "kept")


def test_batches_move_positions_in_call_order(db: Database, bot: str) -> None:
    buy = submit(db, bot, "buy", D("10"))
    sell = submit(db, bot, "sell", D("10"))
    other = submit(db, bot, "buy", D("3"), ticker="MSFT")
    calls = [
        (buy, "b1", D("4"), D("10")),
        (other, "m1", D("3"), D("7")),
        (sell, "s1", D("6"), D("11")),
        (buy, "b1", D("4"), D("10")),
        (buy, "b2", D("6"), D("9")),
    ]
    with db.unit_of_work(bot_id=bot) as uow:
        outcomes = uow.orders.record_fills(
            {"order_id": o, "fill_id": f, "quantity": q, "price": p, "filled_at": T0}
            for o, f, q, p in calls
        )
    assert [getattr(o, "replayed", None) for o in outcomes] == [False, False, False, True, False]
    opened, closed, cash = state(db, bot)
    # 4 long, then 6 sold (4 closed, 2 short), then 6 bought (2 closed, 4 long at 9).
    assert [(p.ticker, p.side, p.quantity, p.entry_price) for p in opened] == [
        ("AAPL", PositionSide.LONG, D("4"), D("9")),
        ("MSFT", PositionSide.LONG, D("3"), D("7")),
    ]
    assert sorted(row.realized_pnl for row in closed) == [D("4"), D("4")]
    assert cash == D("10000") - D("40") - D("21") + D("66") - D("54")
    assert outcomes[4].fill.position_id == opened[0].position_id
    assert outcomes[2].order.position_id == outcomes[2].fill.position_id


def test_an_order_keeps_the_choice_of_its_first_fill_whatever_the_bot_switches_to(
    db: Database, bot: str
) -> None:
    """The keeping choice is frozen on the order at its first fill: a switch is not refused,
    and the order's later fills (a late fill of a cancelled order too) go the same way."""
    kept = submit(db, bot, "buy", D("10"))
    fill(db, bot, kept, D("4"), D("100"))
    cancelled = submit(db, bot, "buy", D("10"), ticker="MSFT")
    fill(db, bot, cancelled, D("5"), D("100"))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.orders.cancel(cancelled)
        assert uow.orders.get(kept).keep_position is True
    with db.unit_of_work() as uow:
        assert uow.bots.set_position_keeping(bot, "manual").position_keeping == "manual"
    fill(db, bot, kept, D("6"), D("100"))
    fill(db, bot, cancelled, D("3"), D("100"), minutes=1)  # executed before the cancel
    fresh = submit(db, bot, "buy", D("2"), ticker="NVDA")
    fill(db, bot, fresh, D("1"), D("100"))  # first fill under 'manual'
    with db.unit_of_work() as uow:
        uow.bots.register(bot, position_keeping="netting")
    fill(db, bot, fresh, D("1"), D("100"))
    opened, _, cash = state(db, bot)
    assert [(p.ticker, p.quantity) for p in opened] == [("AAPL", D("10")), ("MSFT", D("8"))]
    assert cash == D("10000") - D("1800")
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        assert uow.orders.get(fresh).keep_position is False
        assert uow.orders.get(fresh).position_id is None
    with pytest.raises(ValidationError, match="position_keeping"), db.unit_of_work() as uow:
        uow.bots.set_position_keeping(bot, "hedging")


def test_batches_freeze_the_keeping_choice_too(db: Database, bot: str) -> None:
    """record_fills and ingest_fills store the choice on the order like record_fill."""
    first, second = submit(db, bot, "buy", D("10")), submit(db, bot, "buy", D("10"))
    with db.unit_of_work(bot_id=bot) as uow:
        uow.orders.record_fills(
            [{"order_id": first, "fill_id": "a", "quantity": D("4"), "price": D("100")}]
        )
        uow.orders.ingest_fills(
            [
                {
                    "order_id": second,
                    "fill_id": "b",
                    "quantity": D("4"),
                    "price": D("100"),
                    "filled_at": T0,
                }
            ]
        )
    with db.unit_of_work() as uow:
        uow.bots.set_position_keeping(bot, "manual")
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.orders.get(first).keep_position is True
        assert uow.orders.get(second).keep_position is True
        out = uow.orders.record_fills(
            [{"order_id": first, "fill_id": "c", "quantity": D("6"), "price": D("100")}]
        )
        assert out[0].order.keep_position is True  # type: ignore[union-attr]
        uow.orders.ingest_fills(
            [
                {
                    "order_id": second,
                    "fill_id": "d",
                    "quantity": D("6"),
                    "price": D("100"),
                    "filled_at": T0,
                }
            ]
        )
    opened, _, cash = state(db, bot)
    assert [p.quantity for p in opened] == [D("20")]
    assert cash == D("8000")


def test_one_kept_position_per_key_whoever_writes(db: Database, bot: str) -> None:
    """The partial unique indexes refuse a second kept position of a key, also to raw SQL."""
    trade(db, bot, "buy", D("1"), D("10"))
    trade(db, bot, "buy", D("1"), D("10"), strategy="s")
    with db.connect() as connection:
        for strategy in ("NULL", "'s'"):
            with pytest.raises(Exception, match=r"(?i)unique"):
                same = "IS NOT DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS"
                connection.execute(
                    text(
                        "INSERT INTO positions (position_id, bot_id, ticker, side, quantity, "
                        "entry_price, current_price, unrealized_pnl, unrealized_pnl_pct, "
                        "commission, opened_at, updated_at, strategy, kept_from_fills) "
                        "SELECT 'p2', bot_id, ticker, side, quantity, entry_price, "
                        "current_price, unrealized_pnl, unrealized_pnl_pct, commission, "
                        "opened_at, updated_at, strategy, kept_from_fills "
                        f"FROM positions WHERE strategy {same} {strategy}"
                    )
                )
            connection.rollback()


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The statements run meanwhile (every one goes through the engine's cursor events)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


#: Statements a record_fill of a keeping order runs beyond the same fill of a manual order
#: (one statement on PostgreSQL, three on SQLite), per move and backend, for an order's
#: first fill (a later fill of the order skips SQLite's link of the order);
#: docs/guide/positions.md lists them.
EXTRA_STATEMENTS = {
    # a reduce, close or reversal on SQLite also reads the bot's open trading session
    # (revision 0014's prior sums), one statement more than before that merge
    "sqlite": {"open": 6, "add": 6, "reduce": 10, "close": 10, "reverse": 11},
    "postgresql": {"open": 3, "add": 3, "reduce": 3, "close": 4, "reverse": 5},
}


def test_statements_per_kept_fill(db: Database, backend: str) -> None:
    register(db, "kept")
    register(db, "plain", keeping="manual")
    moves = [
        ("open", "buy", D("10")),
        ("add", "buy", D("5")),
        ("reduce", "sell", D("5")),
        ("close", "sell", D("10")),
        ("open", "buy", D("10")),
        ("reverse", "sell", D("15")),
    ]
    extra: dict[str, int] = {}
    for move, side, quantity in moves:
        counts = []
        for bot_id in ("kept", "plain"):
            order_id = submit(db, bot_id, side, quantity)
            with counted(db) as seen:
                fill(db, bot_id, order_id, quantity, D("100"))
            counts.append(len(seen))
        extra[move] = counts[0] - counts[1]
    assert extra == EXTRA_STATEMENTS[backend]


def test_a_fill_reported_before_the_position_opened_closes_it_at_its_opening(
    db: Database, bot: str
) -> None:
    """Fills arrive out of order: a reducing fill dated before the kept position opened
    closes it at the time it opened (a close never precedes its open)."""
    buy = submit(db, bot, "buy", D("2"))
    fill(db, bot, buy, D("2"), D("10"), minutes=10)
    sell = submit(db, bot, "sell", D("2"))
    fill(db, bot, sell, D("2"), D("11"), minutes=0)
    _, [closed], _ = state(db, bot)
    assert closed.opened_at == closed.closed_at == T0 + dt.timedelta(minutes=10)
    assert closed.holding_period_hours == 0
    assert closed.realized_pnl == D("2")


def test_an_average_past_the_target_clears_the_target(db: Database, bot: str) -> None:
    """A fill is a fact: adding below a long's target keeps it, an average above it clears
    it (the schema holds a long's target above its entry)."""
    trade(db, bot, "buy", D("1"), D("100"))
    [position], _, _ = state(db, bot)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.positions.update(position.position_id, take_profit_price=D("120"))
    trade(db, bot, "buy", D("1"), D("110"))
    [added], _, _ = state(db, bot)
    assert (added.entry_price, added.take_profit_price) == (D("105"), D("120"))
    trade(db, bot, "buy", D("2"), D("150"))
    [added], _, _ = state(db, bot)
    assert (added.entry_price, added.take_profit_price) == (D("127.5"), None)


def test_a_batch_moves_the_cash_as_its_fills_one_by_one_would(db: Database) -> None:
    """SQLite rounds each new balance to what it stores (15 significant digits): a batch
    folds its fills' cash changes in one at a time, as record_fill after record_fill does,
    and still writes once (found by tests on random fills; PostgreSQL adds exactly)."""
    start = D("751829545.519")
    fills = [
        ("buy", D("975.7632"), D("686028.114"), D("0.04881")),
        ("buy", D("91.89628"), D("67.41915"), D("0.007812")),
        ("buy", D("83.28454"), D("5709.30265"), D("0.041175")),
    ]
    balances = {}
    for path in PATHS:
        register(db, path, balance=start)
        rows = [
            {
                "order_id": submit(db, path, side, quantity, ticker=f"T{i}"),
                "fill_id": f"f{i}",
                "quantity": quantity,
                "price": price,
                "commission": commission,
                "filled_at": T0,
            }
            for i, (side, quantity, price, commission) in enumerate(fills)
        ]
        if path == "record_fill":
            for row in rows:
                with db.unit_of_work(bot_id=path) as uow:
                    uow.orders.record_fill(row.pop("order_id"), **row)
        else:
            with db.unit_of_work(bot_id=path) as uow:
                getattr(uow.orders, path)(rows)
        balances[path] = state(db, path)[2]
    assert len(set(balances.values())) == 1, balances


def test_a_refused_kept_fill_breaks_the_unit_of_work_unless_in_a_savepoint(
    db: Database, backend: str, bot: str
) -> None:
    """record_fill's keeper refusal comes after the fill is written: outside a savepoint the
    unit of work commits nothing; inside one the savepoint undoes the fill and work goes on."""
    if backend != "sqlite":
        pytest.skip("only SQLite refuses a quantity it cannot store exactly")
    big = submit(db, bot, "buy", D("123456789012.5"), ticker="SHIB")
    fill(db, bot, big, D("123456789012.5"), D("0.00001"))
    more = submit(db, bot, "buy", D("0.12345"), ticker="SHIB")
    arguments = {"fill_id": "bad", "quantity": D("0.12345"), "price": D("0.00001")}
    with db.unit_of_work(bot_id=bot) as uow:
        with pytest.raises(PrecisionError), uow.executor.savepoint():
            uow.orders.record_fill(more, **arguments)
        assert uow.positions.mark_to_market({"SHIB": D("0.00002")}) == 1
    with db.unit_of_work(bot_id=bot, readonly=True) as uow:
        assert uow.orders.get(more).filled_quantity == 0
        [position] = uow.positions.list_open()
        assert position.current_price == D("0.00002")
    with pytest.raises(TransactionAborted), db.unit_of_work(bot_id=bot) as uow:
        with pytest.raises(PrecisionError):
            uow.orders.record_fill(more, **arguments)
        uow.positions.mark_to_market({"SHIB": D("0.00003")})
