"""Position keeping from fills: invariants for any sequence of fills (hypothesis), both backends.

For any sequence of fills of keeping orders on one key (sides, quantities, prices,
commissions, replays), through any of the three fill paths:

* the kept position's signed quantity (long +, short -, none 0) = the sum of the signed fills;
* cash = start - sum(signed quantity x price) - sum(commission) (a buy's quantity positive);
* realized + unrealized P&L = the mark-to-market value change, where (docs/guide/positions.md)
  realized is the closed rows' realized_pnl (net of every commission attributed to them),
  unrealized is the open position's unrealized_pnl marked at a price M (gross) minus the entry
  commission still pending on it, and the value change is (cash + signed quantity x M) -
  start. Exact up to the rounding of the stored average entry price (18 decimals; on SQLite
  the nearest double), which the tolerance bounds;
* the running totals still equal a recomputation over the closed rows;
* a replayed fill moves nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal, localcontext

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sibling import load
from tradestore import Database
from tradestore.domain.enums import PositionSide
from tradestore.domain.money import MONEY_CONTEXT

D = Decimal
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
START = D("100000")
PATHS = ("record_fill", "record_fills", "ingest_fills")
_bots = itertools.count()

totals_test = load("repositories/test_position_totals.py")

quantities = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)
prices = st.decimals(min_value=D("1"), max_value=D("1000"), places=2)
fees = st.decimals(min_value=D("0"), max_value=D("2"), places=2)
fills = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), quantities, prices, fees, st.booleans()),
    min_size=1,
    max_size=10,
)


def record(db: Database, bot_id: str, path: str, order_id: str, row: dict[str, object]) -> None:
    with db.unit_of_work(bot_id=bot_id) as uow:
        if path == "record_fill":
            uow.orders.record_fill(order_id, **row)  # type: ignore[arg-type]
        elif path == "record_fills":
            [outcome] = uow.orders.record_fills([{"order_id": order_id, **row}])
            assert not isinstance(outcome, Exception), outcome
        else:
            uow.orders.ingest_fills([{"order_id": order_id, **row}])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    offered=fills, mark=prices, path=st.sampled_from(PATHS), strategy=st.sampled_from([None, "s"])
)
@example(
    offered=[("buy", D("3"), D("10"), D("0.3"), False), ("sell", D("5"), D("7"), D("1"), True)],
    mark=D("8"),
    path="record_fill",
    strategy=None,
)
def test_position_keeping_invariants(
    db: Database,
    offered: list[tuple[str, Decimal, Decimal, Decimal, bool]],
    mark: Decimal,
    path: str,
    strategy: str | None,
) -> None:
    bot_id = f"bot-{next(_bots)}"
    backend = db.dialect_name
    with db.unit_of_work() as uow:
        uow.bots.register(bot_id, starting_balance=START, position_keeping="netting")
    signed_quantity = D(0)
    cost = D(0)
    commission = D(0)
    with localcontext(MONEY_CONTEXT):
        for n, (side, quantity, price, fee, replay) in enumerate(offered):
            with db.unit_of_work(bot_id=bot_id) as uow:
                order = uow.orders.submit(
                    client_order_id=f"c-{n}",
                    ticker="ETH",
                    side=side,
                    order_type="market",
                    quantity=quantity,
                    strategy=strategy,
                )
            row = {
                "fill_id": f"f-{n}",
                "quantity": quantity,
                "price": price,
                "commission": fee,
                "filled_at": T0 + dt.timedelta(minutes=n),
            }
            record(db, bot_id, path, order.order_id, row)
            if replay:
                with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
                    before = (uow.positions.list_open(), uow.bots.get(bot_id).current_balance)
                record(db, bot_id, path, order.order_id, row)
                with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
                    after = (uow.positions.list_open(), uow.bots.get(bot_id).current_balance)
                assert after == before
            sign = 1 if side == "buy" else -1
            signed_quantity += sign * quantity
            cost += sign * quantity * price
            commission += fee

        with db.unit_of_work(bot_id=bot_id) as uow:
            uow.positions.mark_to_market({"ETH": mark})
        with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
            opened = list(uow.positions.list_open())
            closed = list(uow.positions.list_closed())
            cash = uow.bots.get(bot_id).current_balance
        assert len(opened) <= 1
        held = D(0)
        unrealized = D(0)
        if opened:
            [position] = opened
            assert position.kept_from_fills
            assert position.strategy == strategy
            held = position.quantity if position.side is PositionSide.LONG else -position.quantity
            unrealized = position.unrealized_pnl - position.commission
        assert held == signed_quantity
        assert cash == START - cost - commission
        realized = sum((row.realized_pnl for row in closed), D(0))
        value_change = cash + signed_quantity * mark - START
        tolerance = D("1e-12") if backend == "postgresql" else D("1e-7")
        assert abs(realized + unrealized - value_change) <= tolerance
    totals_test.assert_totals_recomputed(db, bot_id)
