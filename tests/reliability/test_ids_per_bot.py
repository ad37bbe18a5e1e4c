"""Issue 11, item 13: bot A learns nothing about bot B from B's position and order ids.

Before revision 0005, position_id and order_id were keys of their own: A opening a position
with B's open position_id got "already open", A submitting with B's order_id "already used by
another order", so A could probe B's ids. They are keyed per bot now. The test plays one bot
script with B's ids (bot A) and with ids nobody uses (bot C) and requires the two transcripts
to be the same, every view A reads to show A's rows only, and B's rows to be untouched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from reliability_support import record_figure
from sqlalchemy import select

from tradestore import Database
from tradestore.errors import TradestoreError
from tradestore.models import ClosedPosition, Fill, Order, Position
from tradestore.unit_of_work import UnitOfWork

pytestmark = pytest.mark.reliability

D = Decimal
NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
B_POSITION, B_ORDER = "pos-shared", "ord-shared"


def _b_state(db: Database) -> list[Any]:
    with db.unit_of_work() as uow:
        rows = []
        for model in (Position, ClosedPosition, Order, Fill):
            table = model.__table__
            query = select(table).where(table.c.bot_id == "bot-b")
            rows.append(sorted(map(tuple, uow.session.execute(query).all()), key=repr))
        return rows


def _setup_b(db: Database) -> None:
    with db.unit_of_work(bot_id="bot-b") as uow:
        for bot in ("bot-a", "bot-b", "bot-c"):
            uow.bots.register(bot)
        uow.positions.open(
            "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id=B_POSITION
        )
        uow.positions.close(B_POSITION, exit_price=D(90), exit_reason="manual", quantity=D(4))
        order = uow.orders.submit(
            client_order_id="b-1",
            order_id=B_ORDER,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=D(10),
            position_id=B_POSITION,
        )
        uow.orders.record_fill(order.order_id, fill_id="b-f1", quantity=D(3), price=D(100))


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except TradestoreError as error:
        return ("refused", type(error).__name__, str(error))


def _play(uow: UnitOfWork, position_id: str, order_id: str) -> list[Any]:
    """What one bot sees when it uses these ids; ids and times left out of the record."""
    p, o = uow.positions, uow.orders
    transcript = [
        _outcome(
            lambda: (
                p.open(
                    "AAPL", side="long", quantity=D(5), entry_price=D(200), position_id=position_id
                ).quantity
            )
        ),
        _outcome(lambda: p.get(position_id).entry_price),
        _outcome(lambda: p.mark_to_market({"AAPL": D(210)})),
        _outcome(lambda: p.get(position_id).current_price),
        _outcome(
            lambda: (
                o.submit(
                    client_order_id="c-1",
                    order_id=order_id,
                    ticker="AAPL",
                    side="buy",
                    order_type="market",
                    quantity=D(5),
                    position_id=position_id,
                ).status
            )
        ),
        _outcome(
            lambda: (
                o.record_fill(
                    order_id, fill_id="f-1", quantity=D(1), price=D(200)
                ).order.filled_quantity
            )
        ),
        _outcome(
            lambda: (
                o.ingest_fills(
                    [
                        {
                            "order_id": order_id,
                            "fill_id": "f-2",
                            "quantity": D(1),
                            "price": D(201),
                            "filled_at": NOW,
                        }
                    ]
                ).inserted
            )
        ),
        _outcome(lambda: o.get(order_id).filled_quantity),
        _outcome(lambda: [f.fill_id for f in o.fills(order_id)]),
        _outcome(
            lambda: (
                p.close(
                    position_id, exit_price=D(220), exit_reason="manual", quantity=D(2)
                ).realized_pnl
            )
        ),
        _outcome(lambda: [c.quantity for c in p.list_closed(position_id=position_id)]),
    ]
    a = uow.analytics
    active = [row for row in a.active_positions() if row.position_id == position_id]
    transcript.append([(row.quantity, row.realized_pnl, row.total_pnl) for row in active])
    stats = a.order_fill_stats(order_id=order_id)
    transcript.append([(row.num_fills, row.fill_quantity) for row in stats])
    transcript.append([(row.client_order_id, row.filled_quantity) for row in a.recent_orders()])
    return transcript


def test_another_bots_ids_behave_like_unknown_ones(db: Database) -> None:
    _setup_b(db)
    before = _b_state(db)
    with db.unit_of_work(bot_id="bot-a") as uow:
        with_b_ids = _play(uow, B_POSITION, B_ORDER)
    with db.unit_of_work(bot_id="bot-c") as uow:
        with_unknown_ids = _play(uow, "pos-nobody", "ord-nobody")
    assert with_b_ids == with_unknown_ids
    assert all(step[0] == "ok" for step in with_b_ids[:11]), with_b_ids
    assert _b_state(db) == before, "bot A's calls changed bot B's rows"
    # And B still sees only its own rows through the same ids and views.
    with db.unit_of_work(bot_id="bot-b") as uow:
        assert uow.positions.get(B_POSITION).quantity == D(6)
        assert [f.fill_id for f in uow.orders.fills(B_ORDER)] == ["b-f1"]
        [active] = uow.analytics.active_positions()
        assert active.realized_pnl == D(-40)
        [stats] = uow.analytics.order_fill_stats(order_id=B_ORDER)
        assert stats.num_fills == 1
        assert [row.client_order_id for row in uow.analytics.recent_orders()] == ["b-1"]
    record_figure("ids_per_bot", "calls_compared", len(with_b_ids))


def test_pruning_one_bots_order_leaves_another_bots_order_of_the_same_id(db: Database) -> None:
    """Retention deletes by key: with ids per bot the key is (bot_id, order_id), or pruning
    bot A's old order would delete bot B's live order of the same id, fills and all."""
    from tradestore.ops.retention import prune

    old = dt.datetime(2020, 1, 2, 15, 0, tzinfo=dt.UTC)
    with db.unit_of_work(bot_id="bot-a") as uow:
        for bot in ("bot-a", "bot-b"):
            uow.bots.register(bot)
        uow.orders.submit(
            client_order_id="a-1",
            order_id=B_ORDER,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=D(1),
            submitted_at=old,
        )
        uow.orders.cancel(B_ORDER, at=old)
    with db.unit_of_work() as uow:  # make A's order old enough to prune
        uow.session.execute(
            Order.__table__.update()
            .where(Order.__table__.c.bot_id == "bot-a")
            .values(updated_at=old)
        )
    with db.unit_of_work(bot_id="bot-b") as uow:
        uow.orders.submit(
            client_order_id="b-1",
            order_id=B_ORDER,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=D(2),
        )
        uow.orders.record_fill(B_ORDER, fill_id="b-f1", quantity=D(1), price=D(100))
    before = _b_state(db)
    report = prune(db, older_than=dt.timedelta(days=30), tables=["orders"])
    assert report.counts["orders"] == 1
    assert _b_state(db) == before, "pruning bot A's order deleted bot B's"
    with db.unit_of_work(bot_id="bot-a") as uow:
        assert uow.orders.find(B_ORDER) is None
