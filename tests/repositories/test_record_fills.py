"""``uow.orders.record_fills``: the outcome of ``record_fill`` called fill by fill, set-based."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from tradestore import Database
from tradestore.errors import TradestoreError
from tradestore.unit_of_work import UnitOfWork

AT = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def _calls() -> list[dict[str, Any]]:
    """Fills of three orders with every kind of outcome: new, replayed (of a stored fill and
    of one earlier in the call), a changed replay, an overfill, an unknown order, bad input,
    a fill of a rejected order, a late fill of a cancelled one, one completing its order."""

    def fill(order: str, fill_id: str, quantity: str, price: str = "100", **extra: Any) -> Any:
        return {
            "order_id": order,
            "fill_id": fill_id,
            "quantity": Decimal(quantity),
            "price": Decimal(price),
            **extra,
        }

    return [
        fill("o-a", "a-1", "1"),
        fill("o-a", "a-0", "1"),  # stored before the call: a replay
        fill("o-a", "a-1", "1"),  # replays the first row
        fill("o-a", "a-1", "2"),  # same id, other quantity
        fill("o-a", "a-2", "9"),  # overfill
        fill("o-b", "b-1", "0.5", "10.25", filled_at=AT, liquidity="maker"),
        fill("o-x", "x-1", "1"),  # unknown order
        fill("o-b", "b-2", "-1"),  # bad quantity
        {"order_id": "o-b", "fill_id": "b-3"},  # missing keys
        fill("o-r", "r-1", "1"),  # rejected order
        fill("o-c", "c-1", "1"),  # cancelled: a late fill, counted
        fill("o-a", "a-3", "3"),  # completes o-a (1 + 1 + 3 of 5)
    ]


def _prepare(uow: UnitOfWork) -> None:
    for order_id in ("o-a", "o-b", "o-r", "o-c"):
        uow.orders.submit(
            client_order_id=f"c-{order_id}",
            order_id=order_id,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal(5),
            reference_price=Decimal(100),
            submitted_at=AT,
        )
    uow.orders.record_fill("o-a", fill_id="a-0", quantity=Decimal(1), price=Decimal(100))
    uow.orders.reject("o-r", reason="no margin")
    uow.orders.cancel("o-c")


_IGNORED = {"bot_id", "updated_at", "filled_at", "cancelled_at"}  # the bot; each call's clock


def _comparable(outcome: Any) -> Any:
    if isinstance(outcome, BaseException):
        return type(outcome), str(outcome)
    return _without_clock(dataclasses.asdict(outcome))


def _without_clock(values: Any) -> Any:
    if isinstance(values, dict):
        return {k: _without_clock(v) for k, v in values.items() if k not in _IGNORED}
    return values


def test_record_fills_answers_each_fill_as_record_fill_would(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("one-by-one")
        uow.bots.register("set-based")
    with db.unit_of_work(bot_id="one-by-one") as uow:
        _prepare(uow)
    with db.unit_of_work(bot_id="set-based") as uow:
        _prepare(uow)
    calls = _calls()
    one_by_one = []
    with db.unit_of_work(bot_id="one-by-one") as uow:
        for call in calls:
            try:
                one_by_one.append(uow.orders.record_fill(**call))
            except (TradestoreError, TypeError) as exc:
                one_by_one.append(exc)
    with db.unit_of_work(bot_id="set-based") as uow:
        at_once = uow.orders.record_fills(calls)
    assert len(at_once) == len(calls)
    for index, (mine, theirs) in enumerate(zip(at_once, one_by_one, strict=True)):
        if index == 8:  # missing keys: record_fill raises TypeError, record_fills names them
            assert isinstance(mine, TradestoreError)
            assert "missing keys" in str(mine)
            continue
        assert _comparable(mine) == _comparable(theirs), f"row {index}"
    for bot in ("one-by-one", "set-based"):
        with db.unit_of_work(bot_id=bot) as uow:
            rows = {
                o: (uow.orders.get(o), list(uow.orders.fills(o))) for o in ("o-a", "o-b", "o-c")
            }
        if bot == "one-by-one":
            expected = rows
            continue
        for order_id, (order, fills) in rows.items():
            assert order.filled_quantity == expected[order_id][0].filled_quantity
            assert order.status == expected[order_id][0].status
            assert order.filled_avg_price == expected[order_id][0].filled_avg_price
            assert [f.fill_id for f in fills] == [f.fill_id for f in expected[order_id][1]]
