"""Record ccxt's unified order and trade structures through the orders repository.

A bot built on ccxt holds plain dicts (``exchange.fetch_order(...)``, ``watch_orders()``,
``fetch_my_trades()``); this module writes them with ``uow.orders`` without importing ccxt::

    from tradestore.adapters.ccxt import record_order, record_trade

    with db.unit_of_work(bot_id="alpha") as uow:
        result = record_order(uow.orders, exchange.fetch_order(order_id, "BTC/USDT"))
        result.order.status              # OrderStatus.PARTIALLY_FILLED, say

Both calls are idempotent: the same dict twice changes nothing, and an order seen first as
``open`` and later ``closed`` with its trades records each trade once (a trade's fill id is
stable across reports). Every ccxt word is mapped by an explicit table below; a value outside
it is refused with a ``ValidationError`` naming the ccxt field rather than guessed.

Keys. ccxt order and trade ids are unique per exchange *market* on several exchanges (Binance
numbers both per symbol), so the stored keys are qualified by the symbol:

* client_order_id: the order's ``clientOrderId`` when it has one (the id the bot chose, so an
  order the bot recorded itself before sending is found again), else ``"<symbol>|<id>"``;
* broker_order_id: ``"<symbol>|<id>"`` (``broker_key``): unique per bot in tradestore, and an
  exchange that numbers orders per market can give two markets' orders the same ``id``;
* fill_id: ``"<symbol>|<trade id>"``.

Numbers. ccxt hands prices and amounts as Python floats; a float is taken as the decimal its
shortest repr prints (``0.1`` is ``Decimal("0.1")``, never 0.1000000000000000055...), which is
what the exchange sent before ccxt parsed it. Strings (ccxt's string-number mode) and Decimals
are taken as they are; NaN, infinities and booleans are refused.

What is not recorded. Fills come from trades only: an order structure's ``filled``/``average``
say how much executed but not as which executions, and inventing a fill from them would
double-count once the real trades arrive. ``record_order`` reports the quantity the exchange
says filled beyond the recorded trades (``unrecorded_quantity``): fetch the order's trades
(``fetch_order_trades`` / ``fetch_my_trades``) and pass them in. The order-level ``fee`` is the
sum of its trades' fees, so it is not recorded again; a trade's fee is its fill's commission,
in the fee's own currency (tradestore stores amounts, not currencies).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from tradestore.domain import order_states
from tradestore.domain.enums import Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from tradestore.domain.money import to_decimal
from tradestore.errors import DuplicateOrder, ValidationError
from tradestore.repositories.order_records import OrderRecord, RecordedFill
from tradestore.repositories.orders import OrderRepository

__all__ = [
    "CCXT_LIQUIDITY",
    "CCXT_SIDES",
    "CCXT_STATUSES",
    "CCXT_TIME_IN_FORCE",
    "CCXT_TYPES",
    "CcxtOrderResult",
    "fill_key",
    "order_key",
    "record_order",
    "record_trade",
    "record_trades",
]

#: ccxt order status -> tradestore status. ``closed`` means fully filled, which only recorded
#: fills can make an order in tradestore (``order_states.FILL_DRIVEN``): it sets nothing by
#: itself, and the result says whether the trades given completed the order.
CCXT_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}
#: ccxt unifies ``market`` and ``limit``; the conditional types some exchanges report raw are
#: mapped where tradestore has the same order. A ``market``/``limit`` order with a
#: ``triggerPrice`` (ccxt's unified conditional order) is a stop / stop-limit.
CCXT_TYPES: Final[Mapping[str, OrderType]] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_market": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP,
}
CCXT_SIDES: Final[Mapping[str, OrderSide]] = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
#: ``PO`` (post only) rests on the book until filled or cancelled: good-till-cancelled, with
#: ``post_only`` kept in the order's metadata. No time in force is the exchanges' default, GTC.
CCXT_TIME_IN_FORCE: Final[Mapping[str | None, TimeInForce]] = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PO": TimeInForce.GTC,
    None: TimeInForce.GTC,
}
CCXT_LIQUIDITY: Final[Mapping[str | None, Liquidity]] = {
    "maker": Liquidity.MAKER,
    "taker": Liquidity.TAKER,
    None: Liquidity.UNKNOWN,
}

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TRIGGERED = {OrderType.MARKET: OrderType.STOP, OrderType.LIMIT: OrderType.STOP_LIMIT}


@dataclass(frozen=True, slots=True)
class CcxtOrderResult:
    """What ``record_order`` left in the store."""

    order: OrderRecord
    #: Trades recorded now / trades already recorded by an earlier report (replays).
    fills_recorded: int
    fills_replayed: int
    #: ``filled`` per the exchange minus the quantity the recorded trades add up to: > 0 when
    #: the structure carried fewer trades than executions (fetch them and record them).
    unrecorded_quantity: Decimal

    @property
    def complete(self) -> bool:
        """The stored order agrees with the exchange's report: nothing left to fetch."""
        return self.unrecorded_quantity <= 0


# --- keys ------------------------------------------------------------------------------------


def order_key(order: Mapping[str, Any]) -> str:
    """The client_order_id an order structure is stored under (see the module docstring)."""
    _require_mapping("order", order)
    client = _optional_str("clientOrderId", order.get("clientOrderId"))
    if client:
        return client
    return f"{_required_str('symbol', order.get('symbol'))}|{_required_str('id', order.get('id'))}"


def broker_key(symbol: str, exchange_id: str) -> str:
    """The broker_order_id an exchange order id is stored under: ``"<symbol>|<id>"``."""
    return f"{symbol}|{exchange_id}"


def fill_key(trade: Mapping[str, Any], *, field: str = "trade") -> str:
    """The fill_id a trade structure is stored under: ``"<symbol>|<trade id>"``."""
    _require_mapping(field, trade)
    symbol = _required_str(f"{field}.symbol", trade.get("symbol"))
    return f"{symbol}|{_required_str(f'{field}.id', trade.get('id'))}"


# --- recording -------------------------------------------------------------------------------


def record_order(orders: OrderRepository, order: Mapping[str, Any]) -> CcxtOrderResult:
    """Record a ccxt order structure and its ``trades``; idempotent.

    The first report submits the order (as ``accepted``: the exchange has it, it has an id;
    as ``new`` when the exchange rejected it). Later reports only move it forward: trades
    become fills (replays are no-ops), then ``canceled`` / ``expired`` / ``rejected`` set that
    status. A report older than what is stored (``open`` after fills) changes nothing, as the
    state machine treats any stale event. An order already stored under the same key, such as
    one the bot recorded before sending it, is kept; its side, symbol and amount must agree.
    """
    _require_mapping("order", order)
    key = order_key(order)
    exchange_id = _required_str("id", order.get("id"))
    symbol = _required_str("symbol", order.get("symbol"))
    side = _vocabulary("side", order.get("side"), CCXT_SIDES)
    status = _vocabulary("status", order.get("status"), CCXT_STATUSES)
    order_type = _vocabulary("type", order.get("type"), CCXT_TYPES)
    tif_word = order.get("timeInForce")
    time_in_force = _vocabulary("timeInForce", tif_word, CCXT_TIME_IN_FORCE)
    amount = _decimal("amount", order.get("amount"), positive=True)
    assert amount is not None
    price = _decimal("price", order.get("price"), positive=True, allow_none=True)
    trigger = _decimal(
        "triggerPrice",
        order.get("triggerPrice", order.get("stopPrice")),
        positive=True,
        allow_none=True,
    )
    if trigger is not None and order_type in _TRIGGERED:
        order_type = _TRIGGERED[order_type]
    limit_price = price if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    if limit_price is None and order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        raise ValidationError("price", price, f"a ccxt {order.get('type')!r} order has a price")
    placed = _instant("timestamp", order.get("timestamp"), order.get("datetime"))
    executions = [
        _execution(trade, f"trades[{i}]") for i, trade in enumerate(_trades(order.get("trades")))
    ]
    for execution in executions:
        execution.check_belongs_to(key=key, symbol=symbol, side=side)
        if execution.parent is not None and str(execution.parent) != exchange_id:
            raise ValidationError(
                f"{execution.field}.order", execution.parent, f"the order's id is {exchange_id!r}"
            )
    filled = _decimal("filled", order.get("filled"), allow_none=True)
    if executions and status is OrderStatus.REJECTED:
        raise ValidationError("trades", len(executions), "a rejected order has no executions")

    stored = orders.find(client_order_id=key)
    if stored is None:
        stored = orders.submit(
            client_order_id=key,
            broker_order_id=broker_key(symbol, exchange_id),
            ticker=symbol,
            side=side,
            order_type=order_type,
            quantity=amount,
            limit_price=limit_price,
            stop_price=trigger,
            time_in_force=time_in_force,
            reduce_only=bool(order.get("reduceOnly")),
            metadata=_flags(order, tif_word),
            submitted_at=placed,
            status=OrderStatus.NEW if status is OrderStatus.REJECTED else OrderStatus.ACCEPTED,
        )
    else:
        _check_same_order(stored, key, symbol=symbol, side=side, amount=amount)

    recorded = replayed = 0
    for execution in executions:
        fill = execution.record(orders, stored.order_id)
        if fill.replayed:
            replayed += 1
        else:
            recorded += 1
        stored = fill.order

    stored = _advance(orders, stored, status, broker_key(symbol, exchange_id), order)
    unrecorded = max(Decimal(0), (filled or Decimal(0)) - stored.filled_quantity)
    if status is OrderStatus.FILLED:
        unrecorded = max(unrecorded, stored.quantity - stored.filled_quantity)
    return CcxtOrderResult(stored, recorded, replayed, unrecorded)


def record_trade(
    orders: OrderRepository, trade: Mapping[str, Any], *, client_order_id: str | None = None
) -> RecordedFill:
    """Record one ccxt trade structure (``fetch_my_trades``, ``watch_my_trades``) as a fill.

    The order is found by ``client_order_id`` when given, else by the exchange's order id
    (the trade's ``order``) as ``record_order`` stored it, so a trade of an order placed with
    a ``clientOrderId`` needs no key from the bot. A replayed trade writes nothing.
    """
    execution = _execution(trade, "trade")
    if client_order_id is None:
        parent = _required_str("trade.order", execution.parent)
        broker_order_id = broker_key(execution.symbol, parent)
        found = orders.find(broker_order_id=broker_order_id)
        # an order recorded before broker ids were qualified is under its client key
        stored = found or orders.get(client_order_id=broker_order_id)
        key = stored.client_order_id
    else:
        stored = orders.get(client_order_id=client_order_id)
        key = client_order_id
    execution.check_belongs_to(key=key, symbol=stored.ticker, side=stored.side)
    return execution.record(orders, stored.order_id)


def record_trades(
    orders: OrderRepository,
    trades: Iterable[Mapping[str, Any]],
    *,
    client_order_id: str | None = None,
) -> list[RecordedFill]:
    """``record_trade`` for each trade, in order."""
    return [record_trade(orders, t, client_order_id=client_order_id) for t in trades]


# --- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Execution:
    """A trade structure, validated: the arguments of ``record_fill``."""

    field: str
    fill_id: str
    symbol: str
    side: OrderSide
    parent: Any
    quantity: Decimal
    price: Decimal
    filled_at: dt.datetime | None
    liquidity: Liquidity
    commission: Decimal

    def check_belongs_to(self, *, key: str, symbol: str, side: OrderSide) -> None:
        if self.symbol != symbol:
            raise ValidationError(f"{self.field}.symbol", self.symbol, f"order {key!r} is {symbol}")
        if self.side is not side:
            raise ValidationError(
                f"{self.field}.side", self.side.value, f"order {key!r} is a {side.value} order"
            )

    def record(self, orders: OrderRepository, order_id: str) -> RecordedFill:
        return orders.record_fill(
            order_id,
            fill_id=self.fill_id,
            quantity=self.quantity,
            price=self.price,
            filled_at=self.filled_at,
            liquidity=self.liquidity,
            commission=self.commission,
        )


def _execution(trade: Any, field: str) -> _Execution:
    _require_mapping(field, trade)
    quantity = _decimal(f"{field}.amount", trade.get("amount"), positive=True)
    price = _decimal(f"{field}.price", trade.get("price"), positive=True)
    assert quantity is not None
    assert price is not None
    return _Execution(
        field=field,
        fill_id=fill_key(trade, field=field),
        symbol=_required_str(f"{field}.symbol", trade.get("symbol")),
        side=_vocabulary(f"{field}.side", trade.get("side"), CCXT_SIDES),
        parent=trade.get("order"),
        quantity=quantity,
        price=price,
        filled_at=_instant(f"{field}.timestamp", trade.get("timestamp"), trade.get("datetime")),
        liquidity=_vocabulary(f"{field}.takerOrMaker", trade.get("takerOrMaker"), CCXT_LIQUIDITY),
        commission=_commission(field, trade),
    )


def _advance(
    orders: OrderRepository,
    stored: OrderRecord,
    status: OrderStatus,
    broker_order_id: str,
    order: Mapping[str, Any],
) -> OrderRecord:
    """Move the stored order to the reported status when that is a forward move."""
    if status in order_states.FILL_DRIVEN or order_states.is_noop(stored.status, status):
        return stored
    if status is OrderStatus.ACCEPTED and not order_states.is_allowed(stored.status, status):
        return stored  # fills are ahead of an 'open' report: a stale event
    # Any other refused move (an ended order reported as ending differently) is a real
    # disagreement with the exchange: set_status names it (InvalidTransition).
    at = _instant("lastUpdateTimestamp", order.get("lastUpdateTimestamp"), None) or _instant(
        "timestamp", order.get("timestamp"), order.get("datetime")
    )
    return orders.set_status(stored.order_id, status, at=at, broker_order_id=broker_order_id)


def _check_same_order(
    stored: OrderRecord, key: str, *, symbol: str, side: OrderSide, amount: Decimal
) -> None:
    differing = [
        name
        for name, ours, theirs in (
            ("symbol", stored.ticker, symbol),
            ("side", stored.side, side),
            ("amount", stored.quantity, amount),
        )
        if ours != theirs
    ]
    if differing:
        raise DuplicateOrder(
            f"order {key!r} is stored with a different {', '.join(differing)} than the ccxt "
            "structure reports"
        )


def _flags(order: Mapping[str, Any], tif_word: Any) -> dict[str, Any] | None:
    """postOnly / reduceOnly as ccxt reported them, kept as metadata (reduceOnly is also the
    ``reduce_only`` column since revision 0006; the metadata stays so replays compare equal)."""
    flags: dict[str, Any] = {}
    post_only = order.get("postOnly")
    if post_only is not None or tif_word == "PO":
        flags["post_only"] = bool(post_only) or tif_word == "PO"
    if order.get("reduceOnly") is not None:
        flags["reduce_only"] = bool(order.get("reduceOnly"))
    return {"ccxt": flags} if flags else None


def _trades(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("trades", value, "expected a list of ccxt trade structures")
    trades = list(value)
    for index, trade in enumerate(trades):
        _require_mapping(f"trades[{index}]", trade)
    return trades


def _commission(field: str, trade: Mapping[str, Any]) -> Decimal:
    """The trade's fee cost: ``fees`` when given (the fee per currency), else ``fee``."""
    fees = trade.get("fees")
    entries: list[tuple[str, Any]]
    if fees:
        if isinstance(fees, str | bytes | Mapping) or not isinstance(fees, Iterable):
            raise ValidationError(f"{field}.fees", fees, "expected a list of fee structures")
        entries = [(f"{field}.fees[{i}]", fee) for i, fee in enumerate(fees)]
    elif trade.get("fee") is not None:
        entries = [(f"{field}.fee", trade["fee"])]
    else:
        return Decimal(0)
    total = Decimal(0)
    currencies: set[Any] = set()
    for name, fee in entries:
        _require_mapping(name, fee)
        cost = _decimal(f"{name}.cost", fee.get("cost"), allow_none=True)
        if cost is None:
            continue
        if cost < 0:
            raise ValidationError(
                f"{name}.cost", fee.get("cost"), "a rebate (negative fee) is not a commission"
            )
        currencies.add(fee.get("currency"))
        total += cost
    if len(currencies) > 1:
        raise ValidationError(
            f"{field}.fees",
            sorted(map(str, currencies)),
            "fees in several currencies cannot be added into one commission",
        )
    return total


def _vocabulary(field: str, value: Any, table: Mapping[Any, Any]) -> Any:
    if (isinstance(value, str) or value is None) and value in table:
        return table[value]
    allowed = ", ".join(repr(word) for word in table if word is not None)
    raise ValidationError(field, value, f"not a ccxt value tradestore maps; expected {allowed}")


def _decimal(
    field: str, value: Any, *, positive: bool = False, allow_none: bool = False
) -> Decimal | None:
    """A ccxt number as the decimal it denotes: a float by its shortest repr (``to_decimal``)."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "required")
    result = to_decimal(field, value)
    if positive and result <= 0:
        raise ValidationError(field, value, "must be greater than 0")
    return result


def _instant(field: str, millis: Any, iso: Any) -> dt.datetime | None:
    """ccxt's ``timestamp`` (Unix milliseconds), else its ``datetime`` (ISO 8601), else None."""
    if millis is not None:
        if isinstance(millis, bool) or not isinstance(millis, int | float):
            raise ValidationError(field, millis, "expected Unix milliseconds")
        if isinstance(millis, float) and not millis.is_integer():
            raise ValidationError(field, millis, "expected whole Unix milliseconds")
        try:
            return _EPOCH + dt.timedelta(milliseconds=int(millis))
        except OverflowError:
            raise ValidationError(field, millis, "out of range") from None
    if iso is None:
        return None
    name = field.replace("timestamp", "datetime") if "timestamp" in field else field
    if not isinstance(iso, str):
        raise ValidationError(name, iso, "expected an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise ValidationError(name, iso, "not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValidationError(name, iso, "has no time zone (ccxt's datetime ends in Z)")
    return parsed.astimezone(dt.UTC)


def _require_mapping(field: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "expected a ccxt structure (a dict)")


def _required_str(field: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # some exchanges' ids are numbers
    if not isinstance(value, str) or not value:
        raise ValidationError(field, value, "required: a non-empty string")
    return value


def _optional_str(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _required_str(field, value)
