"""The ccxt adapter on SQLite and PostgreSQL: structures as ccxt's Manual documents them.

The fixtures follow the Manual's "Order Structure" and "Trade Structure" (wiki/Manual.md in
ccxt/ccxt): ids are strings, timestamps Unix milliseconds, ``datetime`` ISO 8601, prices and
amounts floats, ``status`` one of 'open', 'closed', 'canceled', 'expired', 'rejected', a fee
is {cost, currency, rate}. No ccxt import, no network.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tradestore import Database
from tradestore.adapters.ccxt import (
    CCXT_STATUSES,
    fill_key,
    order_key,
    record_order,
    record_trade,
)
from tradestore.domain.enums import Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from tradestore.errors import (
    DuplicateBrokerOrderId,
    DuplicateOrder,
    InvalidTransition,
    ValidationError,
)
from tradestore.models import Bot, Fill, Order
from tradestore.repositories.orders import OrderRepository

T_MS = 1502962946216  # the Manual's example timestamp
T = dt.datetime(2017, 8, 17, 9, 42, 26, 216000, tzinfo=dt.UTC)


def ccxt_trade(trade_id: str, amount: float, price: float, **overrides: Any) -> dict[str, Any]:
    trade: dict[str, Any] = {
        "info": {},
        "id": trade_id,
        "timestamp": T_MS + 10_000,
        "datetime": "2017-08-17T09:42:36.216Z",
        "symbol": "ETH/BTC",
        "order": "12345-67890:09876/54321",
        "type": "limit",
        "side": "buy",
        "takerOrMaker": "maker",
        "price": price,
        "amount": amount,
        "cost": price * amount,
        "fee": {"cost": 0.0009, "currency": "BTC", "rate": 0.002},
        "fees": [{"cost": 0.0009, "currency": "BTC", "rate": 0.002}],
    }
    trade.update(overrides)
    return trade


def ccxt_order(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": "12345-67890:09876/54321",
        "clientOrderId": "abcdef-ghijklmnop-qrstuvwxyz",
        "datetime": "2017-08-17T09:42:26.216Z",
        "timestamp": T_MS,
        "lastTradeTimestamp": None,
        "lastUpdateTimestamp": None,
        "status": "open",
        "symbol": "ETH/BTC",
        "type": "limit",
        "timeInForce": "GTC",
        "side": "buy",
        "price": 0.06917684,
        "average": None,
        "amount": 1.5,
        "filled": 0.0,
        "remaining": 1.5,
        "cost": 0.0,
        "trades": [],
        "fee": {"currency": None, "cost": None, "rate": None},
        "fees": [],
        "info": {},
    }
    order.update(overrides)
    return order


def closed_order() -> dict[str, Any]:
    trades = [ccxt_trade("t-1", 1.1, 0.06917684), ccxt_trade("t-2", 0.4, 0.0691)]
    return ccxt_order(
        status="closed",
        filled=1.5,
        remaining=0.0,
        average=0.069154,
        lastTradeTimestamp=T_MS + 10_000,
        trades=trades,
        fee={"currency": "BTC", "cost": 0.0018, "rate": 0.002},
    )


@pytest.fixture
def orders(db: Database) -> Iterator[OrderRepository]:
    with db.session() as session:
        session.add(Bot(bot_id="alpha"))
    with db.session() as session:
        yield OrderRepository(session, "alpha")


def stored_rows(repo: OrderRepository) -> tuple[list[Any], list[Any]]:
    """Every column of the bot's orders and fills: what "changes nothing" compares."""
    session = repo._db
    order_rows = session.execute(select(*Order.__table__.c).order_by(Order.order_id)).all()
    fill_rows = session.execute(select(*Fill.__table__.c).order_by(Fill.fill_id)).all()
    return [tuple(r) for r in order_rows], [tuple(r) for r in fill_rows]


def test_an_open_order_is_recorded_with_its_ccxt_fields(orders: OrderRepository) -> None:
    result = record_order(orders, ccxt_order())
    order = result.order
    assert order.client_order_id == "abcdef-ghijklmnop-qrstuvwxyz"
    assert order.broker_order_id == "ETH/BTC|12345-67890:09876/54321"  # ids are per market
    assert order.ticker == "ETH/BTC"
    assert order.side is OrderSide.BUY
    assert order.order_type is OrderType.LIMIT
    assert order.time_in_force is TimeInForce.GTC
    assert order.status is OrderStatus.ACCEPTED
    assert order.quantity == Decimal("1.5")
    assert order.limit_price == Decimal("0.06917684")  # the float's shortest repr, exactly
    assert order.submitted_at == T
    assert result.fills_recorded == 0
    assert result.complete


def test_the_same_dict_twice_changes_nothing(orders: OrderRepository) -> None:
    for structure in (ccxt_order(), closed_order()):
        record_order(orders, structure)
        before = stored_rows(orders)
        again = record_order(orders, copy.deepcopy(structure))
        assert stored_rows(orders) == before
        assert again.fills_recorded == 0


def test_open_then_closed_with_trades_records_each_fill_once(orders: OrderRepository) -> None:
    first = record_order(
        orders, ccxt_order(status="open", filled=1.1, trades=[closed_order()["trades"][0]])
    )
    assert first.order.status is OrderStatus.PARTIALLY_FILLED
    assert first.fills_recorded == 1
    done = record_order(orders, closed_order())
    assert done.fills_recorded == 1  # t-2 only
    assert done.fills_replayed == 1  # t-1, seen with the open report
    assert done.order.status is OrderStatus.FILLED
    assert done.order.filled_quantity == Decimal("1.5")
    assert done.complete
    fills = orders.fills(done.order.order_id)
    assert sorted(f.fill_id for f in fills) == ["ETH/BTC|t-1", "ETH/BTC|t-2"]
    assert {f.price for f in fills} == {Decimal("0.06917684"), Decimal("0.0691")}
    assert all(f.commission == Decimal("0.0009") for f in fills)
    assert all(f.liquidity is Liquidity.MAKER for f in fills)
    # An 'open' report arriving late (after the fills) is stale: nothing moves backwards.
    before = stored_rows(orders)
    record_order(orders, ccxt_order())
    assert stored_rows(orders) == before


def test_a_closed_order_without_trades_reports_what_is_missing(orders: OrderRepository) -> None:
    result = record_order(orders, dict(closed_order(), trades=[]))
    assert result.order.status is OrderStatus.ACCEPTED
    assert result.unrecorded_quantity == Decimal("1.5")
    assert not result.complete
    order = ccxt_order()
    for trade in closed_order()["trades"]:
        fill = record_trade(orders, trade, client_order_id=order_key(order))
        assert not fill.replayed
    assert orders.get(client_order_id=order_key(order)).status is OrderStatus.FILLED


def test_a_trade_alone_finds_an_order_without_client_id(orders: OrderRepository) -> None:
    record_order(orders, ccxt_order(clientOrderId=None, type="market", price=None))
    trade = ccxt_trade("9", 1.5, 0.07, takerOrMaker="taker", fees=[])
    recorded = record_trade(orders, trade)
    assert recorded.order.client_order_id == "ETH/BTC|12345-67890:09876/54321"
    assert recorded.order.status is OrderStatus.FILLED
    assert recorded.fill.fill_id == fill_key(trade) == "ETH/BTC|9"
    assert recorded.fill.liquidity is Liquidity.TAKER
    assert record_trade(orders, trade).replayed


@pytest.mark.parametrize("status", ["canceled", "expired"])
def test_an_ended_order_keeps_its_partial_fills(orders: OrderRepository, status: str) -> None:
    trade = ccxt_trade("t-1", 0.5, 0.0691)
    result = record_order(orders, ccxt_order(status=status, filled=0.5, trades=[trade]))
    assert result.order.status is CCXT_STATUSES[status]
    assert result.order.filled_quantity == Decimal("0.5")
    before = stored_rows(orders)
    record_order(orders, ccxt_order(status=status, filled=0.5, trades=[trade]))
    assert stored_rows(orders) == before


def test_a_rejected_order_is_recorded_as_rejected(orders: OrderRepository) -> None:
    order = record_order(orders, ccxt_order(status="rejected")).order
    assert order.status is OrderStatus.REJECTED
    assert order.accepted_at is None


def test_a_cancel_after_completion_is_refused_by_the_state_machine(
    orders: OrderRepository,
) -> None:
    record_order(orders, closed_order())
    with pytest.raises(InvalidTransition):
        record_order(orders, dict(closed_order(), status="canceled"))


def test_post_only_and_trigger_prices_map_to_tradestore_orders(orders: OrderRepository) -> None:
    post_only = record_order(
        orders, ccxt_order(timeInForce="PO", clientOrderId="po", id="x-po")
    ).order
    assert post_only.time_in_force is TimeInForce.GTC
    assert post_only.metadata == {"ccxt": {"post_only": True}}
    stop = record_order(
        orders,
        ccxt_order(clientOrderId="sl", id="x-sl", triggerPrice=0.065, type="limit", side="sell"),
    ).order
    assert stop.order_type is OrderType.STOP_LIMIT
    assert stop.stop_price == Decimal("0.065")


def test_reduce_only_is_the_order_flag(orders: OrderRepository) -> None:
    reducing = record_order(
        orders, ccxt_order(reduceOnly=True, clientOrderId="ro", id="x-ro")
    ).order
    plain = record_order(orders, ccxt_order(clientOrderId="plain", id="x-plain")).order
    assert reducing.reduce_only is True
    assert plain.reduce_only is False
    assert orders.get(reducing.order_id).reduce_only is True
    again = record_order(orders, ccxt_order(reduceOnly=True, clientOrderId="ro", id="x-ro"))
    assert again.order == orders.get(reducing.order_id)


def test_one_exchange_id_for_two_orders_is_refused(orders: OrderRepository) -> None:
    """The exchange's id is the order's broker_order_id, unique per bot: a second client
    order reported under it is a conflict, not a second order the feed could confuse."""
    first = record_order(orders, ccxt_order(clientOrderId="one")).order
    with pytest.raises(DuplicateBrokerOrderId) as refused:
        record_order(orders, ccxt_order(clientOrderId="two"))
    assert refused.value.held_by == first.order_id
    assert orders.find(client_order_id="two") is None
    assert orders.get(broker_order_id=first.broker_order_id) == first


def test_a_different_order_under_the_same_key_is_refused(orders: OrderRepository) -> None:
    record_order(orders, ccxt_order())
    with pytest.raises(DuplicateOrder, match="amount"):
        record_order(orders, ccxt_order(amount=2.0))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "cancelled"}, "status"),
        ({"status": "partially_filled"}, "status"),
        ({"status": None}, "status"),
        ({"type": "iceberg"}, "type"),
        ({"side": "short"}, "side"),
        ({"timeInForce": "GTD"}, "timeInForce"),
        ({"amount": float("nan")}, "amount"),
        ({"amount": 0.0}, "amount"),
        ({"amount": True}, "amount"),
        ({"price": None}, "price"),
        ({"id": None}, "id"),
        ({"symbol": ""}, "symbol"),
        ({"timestamp": "1502962946216"}, "timestamp"),
        ({"timestamp": None, "datetime": "2017-08-17 12:42:48.000"}, "datetime"),
        ({"trades": [ccxt_trade("t", 0.1, 0.07, takerOrMaker="both")]}, "trades[0].takerOrMaker"),
        ({"trades": [ccxt_trade("t", 0.1, 0.07, side="sell")]}, "trades[0].side"),
        ({"trades": [ccxt_trade("t", 0.1, 0.07, symbol="BTC/USDT")]}, "trades[0].symbol"),
        ({"trades": [ccxt_trade("t", -0.1, 0.07)]}, "trades[0].amount"),
        (
            {"trades": [ccxt_trade("t", 0.1, 0.07, fees=[{"cost": -1.0, "currency": "BTC"}])]},
            "trades[0].fees[0].cost",
        ),
        (
            {
                "trades": [
                    ccxt_trade(
                        "t",
                        0.1,
                        0.07,
                        fees=[{"cost": 1.0, "currency": "BTC"}, {"cost": 1.0, "currency": "BNB"}],
                    )
                ]
            },
            "trades[0].fees",
        ),
        ({"trades": "t-1"}, "trades"),
    ],
)
def test_values_outside_the_mapping_are_refused_naming_the_field(
    orders: OrderRepository, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        record_order(orders, ccxt_order(**overrides))
    assert excinfo.value.field == field
    assert stored_rows(orders) == ([], [])


def test_floats_are_taken_by_their_shortest_repr(orders: OrderRepository) -> None:
    # As doubles 0.1 + 0.2 != 0.3; as the decimals their reprs print, the two trades fill
    # the order of 0.3 exactly, and the fee 1e-08 is 0.00000001, not its binary expansion.
    fee = {"cost": 1e-08, "currency": "BTC"}
    trades = [
        ccxt_trade("t-1", 0.1, 0.1, fees=[], fee=fee),
        ccxt_trade("t-2", 0.2, 0.07, fees=[], fee=fee),
    ]
    result = record_order(orders, ccxt_order(amount=0.3, trades=trades))
    fills = {f.fill_id: f for f in orders.fills(result.order.order_id)}
    assert fills["ETH/BTC|t-1"].quantity == Decimal("0.1")
    assert fills["ETH/BTC|t-1"].price == Decimal("0.1")
    assert fills["ETH/BTC|t-2"].quantity == Decimal("0.2")
    assert fills["ETH/BTC|t-2"].commission == Decimal("0.00000001")
    assert result.order.filled_quantity == Decimal("0.3")
    assert result.order.status is OrderStatus.FILLED


def test_records_are_plain_values(orders: OrderRepository) -> None:
    result = record_order(orders, ccxt_order())
    assert dataclasses.is_dataclass(result)
    assert order_key(ccxt_order(clientOrderId="")) == "ETH/BTC|12345-67890:09876/54321"


def test_exchange_ids_are_per_market(orders: OrderRepository) -> None:
    """Exchanges that number orders per market (Binance) give two markets' orders one id:
    both are recorded, each under its symbol-qualified broker id, and each market's trades
    find their own order by it, without the bot passing the clientOrderId."""
    eth = record_order(orders, ccxt_order(clientOrderId="eth-1", id="7")).order
    ltc = record_order(orders, ccxt_order(clientOrderId="ltc-1", id="7", symbol="LTC/BTC")).order
    assert (eth.broker_order_id, ltc.broker_order_id) == ("ETH/BTC|7", "LTC/BTC|7")
    fill = record_trade(orders, ccxt_trade("t-1", 0.5, 0.069, order="7", symbol="LTC/BTC"))
    assert fill.order.order_id == ltc.order_id
    assert orders.get(eth.order_id).filled_quantity == 0
