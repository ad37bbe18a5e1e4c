"""Broker order ids: unique per bot, recorded when the broker acknowledges, found by get/find."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from tradestore import Database
from tradestore.domain.enums import OrderStatus
from tradestore.errors import (
    ConflictError,
    DuplicateBrokerOrderId,
    InvalidTransition,
    OrderNotFound,
    TransactionAborted,
    ValidationError,
)
from tradestore.models import Order
from tradestore.repositories.orders import OrderRecord, OrderRepository

D = Decimal
ALPHA, BETA = "alpha", "beta"
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def bots(db: Database) -> Database:
    with db.unit_of_work() as uow:
        uow.bots.register(ALPHA, mode="paper")
        uow.bots.register(BETA, mode="paper")
    return db


def submit(orders: OrderRepository, cid: str, **extra: Any) -> OrderRecord:
    return orders.submit(
        client_order_id=cid,
        ticker="AAPL",
        side="buy",
        order_type="limit",
        quantity=D("10"),
        limit_price=D("100"),
        **extra,
    )


def stored_broker_ids(db: Database, bot_id: str = ALPHA) -> dict[str, str | None]:
    with db.session(readonly=True) as session:
        rows = session.execute(
            select(Order.order_id, Order.broker_order_id).where(Order.bot_id == bot_id)
        ).all()
    return {str(order_id): broker_id for order_id, broker_id in rows}


def test_acknowledge_records_the_id_and_accepts(bots: Database) -> None:
    at = T0 + dt.timedelta(seconds=2)
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        order = submit(uow.orders, "c-1", status="new")
        acked = uow.orders.acknowledge(order.order_id, broker_order_id="B-1", at=at)
    assert acked.status is OrderStatus.ACCEPTED
    assert acked.accepted_at == at
    assert acked.broker_order_id == "B-1"
    with bots.unit_of_work(bot_id=ALPHA, readonly=True) as uow:
        assert uow.orders.get(broker_order_id="B-1") == acked
        assert uow.orders.find(broker_order_id="B-1") == acked
        assert uow.orders.find(broker_order_id="B-2") is None
        with pytest.raises(OrderNotFound, match="broker_order_id=B-2"):
            uow.orders.get(broker_order_id="B-2")
    # Another bot's broker ids behave exactly like unknown ones.
    with bots.unit_of_work(bot_id=BETA, readonly=True) as uow:
        assert uow.orders.find(broker_order_id="B-1") is None


def test_a_redelivered_acknowledgement_changes_nothing(bots: Database) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        order = submit(uow.orders, "c-1")
        acked = uow.orders.acknowledge(order.order_id, broker_order_id="B-1", at=T0)
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        again = uow.orders.acknowledge(
            order.order_id, broker_order_id="B-1", at=T0 + dt.timedelta(minutes=1)
        )
    assert again == acked  # updated_at and accepted_at included


def test_an_acknowledgement_after_a_fill_keeps_the_status(bots: Database) -> None:
    """Brokers deliver out of order: the fill came first, the id is the only news."""
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        order = submit(uow.orders, "c-1")
        uow.orders.record_fill(order.order_id, fill_id="f-1", quantity=D("4"), price=D("99"))
        acked = uow.orders.acknowledge(order.order_id, broker_order_id="B-1")
        assert acked.status is OrderStatus.PARTIALLY_FILLED
        assert acked.accepted_at is None
        assert acked.broker_order_id == "B-1"
        cancelled = uow.orders.cancel(order.order_id)
        assert uow.orders.acknowledge(order.order_id, broker_order_id="B-1") == cancelled


def test_an_id_another_order_has_is_refused_and_nothing_is_written(bots: Database) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        first = submit(uow.orders, "c-1")
        second = submit(uow.orders, "c-2")
        uow.orders.acknowledge(first.order_id, broker_order_id="B-1")
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        with pytest.raises(DuplicateBrokerOrderId) as refused:
            uow.orders.acknowledge(second.order_id, broker_order_id="B-1")
        # The refusal is decided without a failing statement: the block goes on and commits.
        third = submit(uow.orders, "c-3")
    error = refused.value
    assert isinstance(error, ConflictError)
    assert (error.field, error.value) == ("broker_order_id", "B-1")
    assert (error.order_id, error.held_by) == (second.order_id, first.order_id)
    assert "broker_order_id='B-1'" in str(error)
    assert stored_broker_ids(bots) == {
        first.order_id: "B-1",
        second.order_id: None,
        third.order_id: None,
    }


def test_an_order_keeps_the_id_it_has(bots: Database) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        order = submit(uow.orders, "c-1")
        uow.orders.acknowledge(order.order_id, broker_order_id="B-1")
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        with pytest.raises(DuplicateBrokerOrderId, match="already has broker_order_id 'B-1'"):
            uow.orders.acknowledge(order.order_id, broker_order_id="B-2")
        with pytest.raises(DuplicateBrokerOrderId) as refused:
            uow.orders.set_status(order.order_id, "cancelled", broker_order_id="B-2")
    assert (refused.value.value, refused.value.current) == ("B-2", "B-1")
    assert stored_broker_ids(bots) == {order.order_id: "B-1"}
    with bots.unit_of_work(bot_id=ALPHA, readonly=True) as uow:
        assert uow.orders.get(order.order_id).status is OrderStatus.ACCEPTED


def test_set_status_follows_the_same_rules(bots: Database) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        first = submit(uow.orders, "c-1")
        second = submit(uow.orders, "c-2")
        accepted = uow.orders.set_status(first.order_id, "accepted", broker_order_id="B-1")
        assert accepted.broker_order_id == "B-1"
        # Without a broker id the stored one is kept.
        assert uow.orders.cancel(first.order_id).broker_order_id == "B-1"
        with pytest.raises(DuplicateBrokerOrderId) as refused:
            uow.orders.set_status(second.order_id, "accepted", broker_order_id="B-1")
        assert refused.value.held_by == first.order_id
        assert uow.orders.get(second.order_id).status is OrderStatus.PENDING
        # A redelivered status that brings the id for the first time records it.
        uow.orders.set_status(second.order_id, "accepted")
        redelivered = uow.orders.set_status(second.order_id, "accepted", broker_order_id="B-2")
        assert redelivered.broker_order_id == "B-2"
        assert uow.orders.set_status(second.order_id, "accepted", broker_order_id="B-2") == (
            redelivered
        )
        # A move the machine refuses stays InvalidTransition.
        with pytest.raises(InvalidTransition):
            uow.orders.set_status(first.order_id, "accepted", broker_order_id="B-1")


def test_submit_with_a_taken_broker_id(bots: Database) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        first = submit(uow.orders, "c-1", broker_order_id="B-1")
        assert submit(uow.orders, "c-1", broker_order_id="B-1") == first  # a retry
        with pytest.raises(DuplicateBrokerOrderId) as refused:
            submit(uow.orders, "c-2", broker_order_id="B-1")
        assert refused.value.held_by == first.order_id
        assert uow.orders.find(client_order_id="c-2") is None
    with bots.unit_of_work(bot_id=BETA) as uow:
        other = submit(uow.orders, "c-2", broker_order_id="B-1")  # per bot: free for beta
    assert other.broker_order_id == "B-1"
    assert stored_broker_ids(bots) == {first.order_id: "B-1"}


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({}, "order_id"),
        ({"order_id": "o-1", "broker_order_id": "B-1"}, "broker_order_id"),
        ({"client_order_id": "c-1", "broker_order_id": "B-1"}, "broker_order_id"),
        ({"broker_order_id": ""}, "broker_order_id"),
        ({"broker_order_id": "x" * 129}, "broker_order_id"),
    ],
)
def test_find_takes_exactly_one_key(bots: Database, keys: dict[str, Any], field: str) -> None:
    with bots.unit_of_work(bot_id=ALPHA, readonly=True) as uow:
        for call in (uow.orders.find, uow.orders.get):
            with pytest.raises(ValidationError) as refused:
                call(**keys)
            assert refused.value.field == field


@pytest.mark.parametrize("broker_order_id", ["", " B-1", "B\x00", 7, None, "x" * 129])
def test_acknowledge_validates_the_id(bots: Database, broker_order_id: Any) -> None:
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        order = submit(uow.orders, "c-1")
        with pytest.raises(ValidationError) as refused:
            uow.orders.acknowledge(order.order_id, broker_order_id=broker_order_id)
        assert refused.value.field == "broker_order_id"
    assert stored_broker_ids(bots) == {order.order_id: None}


def test_acknowledge_of_an_unknown_or_another_bots_order(bots: Database) -> None:
    with bots.unit_of_work(bot_id=BETA) as uow:
        theirs = submit(uow.orders, "c-1")
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        for order_id in ("nope", theirs.order_id):
            with pytest.raises(OrderNotFound):
                uow.orders.acknowledge(order_id, broker_order_id="B-1")
    assert stored_broker_ids(bots, BETA) == {theirs.order_id: None}


def test_two_writers_racing_for_one_id(bots: Database, backend: str) -> None:
    """Both guards see the id free; the unique index refuses the second writer, which gets
    DuplicateBrokerOrderId (and its unit of work TransactionAborted), never a driver error.
    On SQLite writers are serialised, so the second one simply sees the first one's id."""
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        first = submit(uow.orders, "c-1")
        second = submit(uow.orders, "c-2")
    started = threading.Event()
    outcome: list[BaseException | OrderRecord] = []

    def racer() -> None:
        started.wait(10)
        try:
            with bots.unit_of_work(bot_id=ALPHA) as other:
                outcome.append(other.orders.acknowledge(second.order_id, broker_order_id="B-1"))
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=racer)
    with bots.unit_of_work(bot_id=ALPHA) as uow:
        uow.orders.acknowledge(first.order_id, broker_order_id="B-1")
        thread.start()
        started.set()
        if backend == "postgresql":
            _wait_for_lock_wait(bots)
    thread.join(30)
    assert len(outcome) == 1
    error = outcome[0]
    if backend == "postgresql":
        assert isinstance(error, (DuplicateBrokerOrderId, TransactionAborted)), error
        cause = error.first_error if isinstance(error, TransactionAborted) else error
        assert isinstance(cause, DuplicateBrokerOrderId), cause
    else:
        assert isinstance(error, DuplicateBrokerOrderId), error
        assert error.held_by == first.order_id
    assert stored_broker_ids(bots) == {first.order_id: "B-1", second.order_id: None}


def _wait_for_lock_wait(db: Database) -> None:
    """Until the racer's UPDATE waits on the first writer's uncommitted index entry."""
    engine = db.engine
    for _ in range(200):
        with engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND query LIKE 'UPDATE orders%'"
                )
            ).scalar_one()
        if waiting:
            return
        threading.Event().wait(0.05)
    pytest.fail("the second writer never waited for the first one")
