"""Issue 7, test 2: sixteen threads deliver the same orders and fills, replays included.

Every thread submits every order (the same client_order_ids, the same payloads) and records
every fill of every order (the same fill_ids), each in its own shuffled order, each in a
``Database.run`` unit of work. Exactly one order per client_order_id must exist, each fill
counted once, and each order's totals must equal the sum of its fills (no lost update).
"""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D  # noqa: N817
from decimal import localcontext

import pytest
from reliability_support import record_figure
from sqlalchemy import func, select

from tradestore import Database
from tradestore.db.retry import RetryPolicy
from tradestore.domain.enums import OrderStatus
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.models import Bot, Fill, Order

pytestmark = [pytest.mark.reliability, pytest.mark.postgres_only]

THREADS = 16
ORDERS = 12
FILLS_PER_ORDER = 8
BOT = "rel-threads"
START = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def _fill(order: int, k: int) -> dict[str, object]:
    return {
        "fill_id": f"f-{order}-{k}",
        "quantity": D(k + 1),
        "price": D("50") + D(order) + D(k) / 8,
        "commission": D("0.25"),
        "filled_at": START + dt.timedelta(seconds=order * 100 + k),
    }


def test_overlapping_submits_and_fills_are_counted_once(db: Database) -> None:
    with db.session() as session:
        session.add(Bot(bot_id=BOT))
    policy = RetryPolicy(attempts=20, base_delay=0.005, max_delay=0.2)
    quantity = D(sum(range(1, FILLS_PER_ORDER + 1)))

    def work(thread: int) -> tuple[int, int]:
        rng = random.Random(thread)
        fresh = replayed = 0
        ids: dict[int, str] = {}
        tasks = [("order", o, -1) for o in range(ORDERS)]
        tasks += [("fill", o, k) for o in range(ORDERS) for k in range(FILLS_PER_ORDER)]
        rng.shuffle(tasks)
        # a fill needs its order: submit on demand (also a replay when another thread did it)
        for kind, o, k in tasks:
            if o not in ids or kind == "order":
                order = db.run(
                    lambda uow, o=o: uow.orders.submit(
                        client_order_id=f"c-{o}",
                        ticker="AAPL",
                        side="sell" if o % 2 else "buy",
                        order_type="limit",
                        quantity=quantity,
                        limit_price=D("60"),
                        submitted_at=START,
                    ),
                    bot_id=BOT,
                    retry=policy,
                )
                assert ids.setdefault(o, order.order_id) == order.order_id
            if kind == "fill":
                result = db.run(
                    lambda uow, o=o, k=k: uow.orders.record_fill(ids[o], **_fill(o, k)),  # type: ignore[arg-type]
                    bot_id=BOT,
                    retry=policy,
                )
                if result.replayed:
                    replayed += 1
                else:
                    fresh += 1
        return fresh, replayed

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))

    fresh = sum(r[0] for r in results)
    replayed = sum(r[1] for r in results)
    total_fills = ORDERS * FILLS_PER_ORDER
    assert fresh == total_fills  # each fill inserted by exactly one thread
    assert replayed == total_fills * (THREADS - 1)

    with db.session(readonly=True) as session:
        count = session.scalar(select(func.count()).select_from(Order).where(Order.bot_id == BOT))
        assert count == ORDERS
        assert (
            session.scalar(
                select(func.count(func.distinct(Order.client_order_id))).where(Order.bot_id == BOT)
            )
            == ORDERS
        )
        fills = session.scalars(select(Fill).where(Fill.bot_id == BOT)).all()
        assert len(fills) == total_fills
        for order in session.scalars(select(Order).where(Order.bot_id == BOT)):
            mine = [f for f in fills if f.order_id == order.order_id]
            assert len(mine) == FILLS_PER_ORDER
            assert order.filled_quantity == sum(f.quantity for f in mine) == quantity
            assert order.commission == D("0.25") * FILLS_PER_ORDER
            with localcontext(MONEY_CONTEXT):
                vwap = sum((f.quantity * f.price for f in mine), D(0)) / quantity
            assert order.filled_avg_price == fit(vwap, "postgresql")
            assert order.status is OrderStatus.FILLED

    name = "postgres_threads"
    record_figure(name, "threads", THREADS)
    record_figure(name, "submits", THREADS * ORDERS)
    record_figure(name, "fill_deliveries", THREADS * total_fills)
    record_figure(name, "fills_stored", len(fills))
    record_figure(name, "rows_lost", total_fills - len(fills))
