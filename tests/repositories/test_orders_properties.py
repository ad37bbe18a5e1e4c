"""Fill accounting invariants against the database, on both backends (hypothesis).

For any sequence of fills offered to an order: the stored fills add up to the order's
filled_quantity, which never exceeds its quantity; an offered fill is refused exactly when it
would overfill; the VWAP is the exact VWAP of the accepted fills rounded once to storage; the
commission is the sum; the status follows, except that an order cancelled along the way stays
cancelled while its late fills are still counted. Importing the same fills with ingest_fills
leaves a twin order in exactly the same state.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal, localcontext

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tradestore import Database
from tradestore.domain.enums import OrderStatus
from tradestore.domain.fill_accounting import vwap
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.errors import Overfill
from tradestore.models import Bot

D = Decimal
BOT = "alpha"
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
_ids = itertools.count()

# At most 4 decimals and 5 integer digits each: sums of up to 10 stay within SQLite's 15
# significant digits, so every refusal below is an overfill, never a precision error.
amounts = st.decimals(min_value=D("0.0001"), max_value=D("5000"), places=4)
fills = st.lists(
    st.tuples(amounts, amounts, st.decimals(min_value=0, max_value=D("5"), places=2)),
    min_size=1,
    max_size=10,
)


@pytest.fixture
def bot(db: Database) -> Database:
    with db.session() as session:
        session.add(Bot(bot_id=BOT))
    return db


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(quantity=amounts, offered=fills, cancel_at=st.none() | st.integers(0, 10))
def test_fill_accounting_invariants(
    bot: Database,
    backend: str,
    quantity: Decimal,
    offered: list[tuple[Decimal, Decimal, Decimal]],
    cancel_at: int | None,
) -> None:
    n = next(_ids)
    accepted: list[tuple[Decimal, Decimal, Decimal]] = []
    accepted_at: list[dt.datetime] = []
    cancelled = False
    with bot.unit_of_work(bot_id=BOT) as uow:
        orders = uow.orders
        order = orders.submit(
            client_order_id=f"live-{n}",
            ticker="X",
            side="buy",
            order_type="market",
            quantity=quantity,
        )
        twin = orders.submit(
            client_order_id=f"bulk-{n}",
            ticker="X",
            side="buy",
            order_type="market",
            quantity=quantity,
        )
        for i, (q, p, c) in enumerate(offered):
            filled_before = sum((a[0] for a in accepted), D(0))
            if i == cancel_at and filled_before < quantity:
                orders.cancel(order.order_id)  # later fills are late reports
                cancelled = True
            try:
                orders.record_fill(
                    order.order_id,
                    fill_id=f"{n}-{i}",
                    quantity=q,
                    price=p,
                    commission=c,
                    filled_at=T0 + dt.timedelta(seconds=i),
                )
            except Overfill:
                assert filled_before + q > quantity
            else:
                assert filled_before + q <= quantity
                accepted.append((q, p, c))
                accepted_at.append(T0 + dt.timedelta(seconds=i))

        stored = orders.get(order.order_id)
        stored_fills = orders.fills(order.order_id)
        total = sum((q for q, _, _ in accepted), D(0))
        assert sum((f.quantity for f in stored_fills), D(0)) == stored.filled_quantity == total
        assert stored.filled_quantity <= stored.quantity
        assert stored.commission == sum((c for _, _, c in accepted), D(0))
        if accepted:
            exact = vwap([(q, p) for q, p, _ in accepted])
            assert exact is not None
            assert stored.filled_avg_price == fit(exact, backend)
            assert stored.status is (
                OrderStatus.CANCELLED
                if cancelled
                else OrderStatus.FILLED
                if total == quantity
                else OrderStatus.PARTIALLY_FILLED
            )
            with localcontext(MONEY_CONTEXT):
                assert min(p for _, p, _ in accepted) <= exact <= max(p for _, p, _ in accepted)
        else:
            assert stored.filled_avg_price is None
            assert stored.status is (OrderStatus.CANCELLED if cancelled else OrderStatus.PENDING)

        if cancelled:
            orders.cancel(twin.order_id)  # before any fill: all of them arrive late
        if accepted:
            report = orders.ingest_fills(
                {
                    "fill_id": f"bulk-{n}-{i}",
                    "order_id": twin.order_id,
                    "quantity": q,
                    "price": p,
                    "commission": c,
                    "filled_at": accepted_at[i],
                }
                for i, (q, p, c) in enumerate(accepted)
            )
            assert report.inserted == len(accepted)
            bulk = orders.get(twin.order_id)
            for field in (
                "filled_quantity",
                "filled_avg_price",
                "commission",
                "status",
                "filled_at",
            ):
                assert getattr(bulk, field) == getattr(stored, field), field


# PostgreSQL's record_fill does its accounting in NUMERIC (one statement); these amounts use
# all 18 decimals, so the VWAP needs rounding and ties at the 19th decimal occur.
fine_amounts = st.decimals(min_value=D("1E-18"), max_value=D("99999"), places=18)


@pytest.mark.postgres_only
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    side=st.sampled_from(["buy", "sell"]),
    limit=fine_amounts,
    offered=st.lists(st.tuples(fine_amounts, fine_amounts), min_size=1, max_size=4),
)
# Exact ties at the 19th decimal: half-even keeps the even digit, half-up would not.
@example(side="buy", limit=D("1"), offered=[(D("1"), D("1.000000000000000001")), (D("1"), D("1"))])
@example(side="sell", limit=D("2"), offered=[(D("1"), D("1.000000000000000003")), (D("1"), D("1"))])
def test_vwap_and_slippage_are_python_exact(
    bot: Database,
    side: str,
    limit: Decimal,
    offered: list[tuple[Decimal, Decimal]],
) -> None:
    n = next(_ids)
    total = sum((q for q, _ in offered), D(0))
    with bot.unit_of_work(bot_id=BOT) as uow:
        order = uow.orders.submit(
            client_order_id=f"fine-{n}",
            ticker="X",
            side=side,
            order_type="limit",
            quantity=total,
            limit_price=limit,
        )
        for i, (q, p) in enumerate(offered):
            done = uow.orders.record_fill(
                order.order_id, fill_id=f"fine-{n}-{i}", quantity=q, price=p
            )
        stored = uow.orders.get(order.order_id)
    exact = vwap(offered)
    assert exact is not None
    average = fit(exact, "postgresql")
    with localcontext(MONEY_CONTEXT):
        slippage = average - limit if side == "buy" else limit - average
    assert done.order == stored
    assert stored.filled_avg_price == average
    assert stored.slippage == fit(slippage, "postgresql")
    assert stored.status is OrderStatus.FILLED
    assert stored.filled_at == done.fill.filled_at
