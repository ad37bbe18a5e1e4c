"""``uow.orders.submit_many`` and ``set_statuses``: the outcome of ``submit`` / ``set_status``
called one after the other, set-based."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tradestore import Database
from tradestore.errors import TradestoreError
from tradestore.unit_of_work import UnitOfWork

AT = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
#: Generated ids and each call's clock differ between the two bots; the rest must not.
_IGNORED = {"bot_id", "order_id", "submitted_at", "updated_at", "accepted_at", "cancelled_at"}


def _comparable(outcome: Any) -> Any:
    if isinstance(outcome, BaseException):
        return type(outcome), re.sub("[0-9a-f]{32}", "<generated id>", str(outcome))
    return {k: v for k, v in dataclasses.asdict(outcome).items() if k not in _IGNORED}


def _order(client_order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_order_id": client_order_id,
        "ticker": "AAPL",
        "side": "buy",
        "order_type": "limit",
        "quantity": Decimal(5),
        "limit_price": Decimal("101.5"),
        **extra,
    }


def _submits() -> list[dict[str, Any]]:
    """New orders, a retry of a stored one and of one earlier in the call, a changed retry,
    bad input, prices the type refuses, an unknown position, a chosen order_id and a clash
    with it, metadata, and an order submitted as accepted."""
    return [
        _order("n-1"),
        _order("stored"),  # stored before the call: returns it
        _order("n-1"),  # retries the first row
        _order("n-1", quantity=Decimal(6)),  # same id, other quantity
        _order("n-2", quantity=Decimal(-1)),  # bad quantity
        _order("n-3", order_type="market"),  # a market order with a limit price
        _order("n-4", position_id="no-such-position"),
        _order("n-5", order_id="chosen-id", metadata={"signal": 0.75, "tags": ["a"]}),
        _order("n-6", order_id="chosen-id"),  # order_id taken by the row before
        _order("n-7", status="accepted", broker_order_id="B-7", submitted_at=AT),
        {"client_order_id": "n-8"},  # missing keys
    ]


def _outcomes(call: Callable[..., Any], calls: list[dict[str, Any]]) -> list[Any]:
    found: list[Any] = []
    for arguments in calls:
        try:
            found.append(call(**arguments))
        except (TradestoreError, TypeError) as exc:
            found.append(exc)
    return found


def _two_bots(db: Database, prepare: Callable[[UnitOfWork], None]) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("one-by-one")
        uow.bots.register("set-based")
    for bot in ("one-by-one", "set-based"):
        with db.unit_of_work(bot_id=bot) as uow:
            prepare(uow)


def _stored(uow: UnitOfWork) -> dict[str, Any]:
    return {o.client_order_id: _comparable(o) for o in uow.orders.list_open(limit=100)}


def test_submit_many_answers_each_order_as_submit_would(db: Database) -> None:
    _two_bots(db, lambda uow: uow.orders.submit(**_order("stored")))
    calls = _submits()
    with db.unit_of_work(bot_id="one-by-one") as uow:
        one_by_one = _outcomes(uow.orders.submit, calls)
    with db.unit_of_work(bot_id="set-based") as uow:
        at_once = uow.orders.submit_many(calls)
    assert len(at_once) == len(calls)
    for index, (mine, theirs) in enumerate(zip(at_once, one_by_one, strict=True)):
        if index == len(calls) - 1:  # missing keys: submit raises TypeError, these are named
            assert isinstance(mine, TradestoreError)
            assert "missing keys" in str(mine)
            continue
        assert _comparable(mine) == _comparable(theirs), f"row {index}"
    with db.unit_of_work(bot_id="one-by-one") as uow:
        expected = _stored(uow)
    with db.unit_of_work(bot_id="set-based") as uow:
        assert _stored(uow) == expected
        assert uow.orders.get(client_order_id="n-5").order_id == "chosen-id"
    assert set(expected) == {"stored", "n-1", "n-5", "n-7"}  # nothing of a refused row


def test_submit_many_of_fresh_orders_is_one_multi_row_write(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    with db.unit_of_work(bot_id="alpha") as uow:
        records = uow.orders.submit_many([_order(f"c-{i}") for i in range(50)])
        assert [r.client_order_id for r in records] == [f"c-{i}" for i in range(50)]  # type: ignore[union-attr]
        stored = {o.order_id: o for o in uow.orders.list_open(limit=100)}
    assert {r.order_id for r in records} == set(stored)  # type: ignore[union-attr]
    for record in records:
        assert stored[record.order_id] == record  # type: ignore[union-attr]


def test_submit_many_for_an_unregistered_bot_refuses_each_order(db: Database) -> None:
    with db.unit_of_work(bot_id="ghost") as uow:
        outcomes = uow.orders.submit_many([_order("a"), _order("b")])
    assert [type(o).__name__ for o in outcomes] == ["BotNotFound", "BotNotFound"]


def _orders_for_status(uow: UnitOfWork) -> None:
    for name in ("o-a", "o-b", "o-c", "o-f"):
        uow.orders.submit(**_order(f"c-{name}", order_id=name, submitted_at=AT))
    uow.orders.record_fill(
        "o-f", fill_id="f-1", quantity=Decimal(5), price=Decimal(101), filled_at=AT
    )


def _changes() -> list[dict[str, Any]]:
    """An ack with the broker's id, its redelivery, a cancel after it, a rejection with its
    reason, a reason on a non-rejection, a backward move, a change of a filled order, an
    unknown order, a fill-driven status, bad input and missing keys."""
    return [
        {"order_id": "o-a", "status": "accepted", "broker_order_id": "B-a", "at": AT},
        {"order_id": "o-a", "status": "accepted"},  # redelivered: a no-op
        {"order_id": "o-a", "status": "cancelled", "at": AT},
        {"order_id": "o-b", "status": "rejected", "reason": "no margin", "at": AT},
        {"order_id": "o-c", "status": "cancelled", "reason": "why not"},
        {"order_id": "o-c", "status": "new"},
        {"order_id": "o-c", "status": "pending"},  # backwards
        {"order_id": "o-f", "status": "cancelled"},  # filled: terminal
        {"order_id": "o-x", "status": "cancelled"},  # unknown
        {"order_id": "o-c", "status": "filled"},  # fill-driven
        {"order_id": "o-c", "status": "sideways"},
        # broker ids: one order per id, an order keeps the id it has
        {"order_id": "o-b", "status": "rejected", "broker_order_id": "B-a"},  # o-a's
        {"order_id": "o-a", "status": "cancelled", "broker_order_id": "B-z"},  # has B-a
        {"order_id": "o-c", "status": "new", "broker_order_id": "B-c"},  # first id, redelivery
        {"order_id": "o-c", "status": "new", "broker_order_id": "B-c"},  # the same again
        {"order_id": "o-f", "status": "cancelled", "broker_order_id": "B-c"},  # o-c's now
        {"order_id": "o-b", "status": "rejected", "broker_order_id": "B-b"},  # free: recorded
        {"order_id": "o-c"},  # missing keys
    ]


def test_set_statuses_answers_each_change_as_set_status_would(db: Database) -> None:
    _two_bots(db, _orders_for_status)
    calls = _changes()
    with db.unit_of_work(bot_id="one-by-one") as uow:
        one_by_one = _outcomes(uow.orders.set_status, calls)
    with db.unit_of_work(bot_id="set-based") as uow:
        at_once = uow.orders.set_statuses(calls)
    assert len(at_once) == len(calls)
    for index, (mine, theirs) in enumerate(zip(at_once, one_by_one, strict=True)):
        if index == len(calls) - 1:
            assert isinstance(mine, TradestoreError)
            assert "missing keys" in str(mine)
            continue
        assert _comparable(mine) == _comparable(theirs), f"row {index}"
    for bot in ("one-by-one", "set-based"):
        with db.unit_of_work(bot_id=bot) as uow:
            stored = {o: uow.orders.get(o) for o in ("o-a", "o-b", "o-c", "o-f")}
        if bot == "one-by-one":
            expected = stored
            continue
        for order_id, order in stored.items():
            assert _comparable(order) == _comparable(expected[order_id]), order_id
            assert order.accepted_at == expected[order_id].accepted_at
    # what set_statuses returned is what it stored
    assert at_once[2] == stored["o-a"]
    assert at_once[14] == stored["o-c"]  # its last change: the broker id recorded
    assert at_once[16] == stored["o-b"]


@pytest.mark.parametrize("changes", [[], [{"order_id": "", "status": "cancelled"}]])
def test_set_statuses_without_a_valid_change_reads_nothing(
    db: Database, changes: list[dict[str, Any]]
) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    with db.unit_of_work(bot_id="alpha") as uow:
        outcomes = uow.orders.set_statuses(changes)
    assert len(outcomes) == len(changes)
    assert all(isinstance(o, TradestoreError) for o in outcomes)
