"""Orders and fills of one bot: idempotent submission, the status machine, fill accounting.

Everything here is keyed by natural ids a broker retries with: ``client_order_id`` for orders
and ``fill_id`` for fills, both unique *per bot*. A retried submit or a replayed fill returns
what is already stored and writes nothing; the same id with a different payload raises.

Concurrency. Two writers recording fills for one order must never lose an update:

* PostgreSQL: ``record_fill`` is one statement (``order_sql.RECORD_FILL_POSTGRESQL``) that
  takes the order's row lock (``FOR NO KEY UPDATE OF orders``: the lock PostgreSQL's own
  UPDATE takes, so two writers exclude each other while inserts referencing the order through
  its foreign key are not blocked), then inserts the fill and updates the order under it.
  The fills it sums must add up to the locked row's ``filled_quantity``; when a concurrent
  writer committed one while this one waited for the lock they do not, nothing is written,
  and the statement runs once more under the lock, seeing every committed fill.
* SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` (see tradestore.database),
  so writers are serialised for the whole transaction.
* Both: the order ``UPDATE`` is guarded by the state it was computed from (``filled_quantity``
  and ``status``); a guard miss undoes the fill and raises instead of overwriting.
* A fill of an order that keeps positions then locks the kept position of its key, and the
  bot's row last (``position_keeping``): the same order on every path, so two fills of
  different orders on one position neither lose an update nor deadlock.

Fill accounting (VWAP, slippage) is in ``tradestore.domain.fill_accounting``, the status
machine in ``tradestore.domain.order_states``; both are pure, and PostgreSQL's one-statement
``record_fill`` computes the same values in exact NUMERIC arithmetic (a property test holds it
to that). The hot paths (submit, record_fill, set_status) are ``Prepared`` statements run by
``tradestore.db.executor``; ``ingest_fills`` uses ``executemany`` on SQLite and ``COPY`` on
PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.sql import Select

from tradestore.analytics import orders as orders_read
from tradestore.analytics.orders import DailyFillRate, OrderFillStats, SlippageByOrderType
from tradestore.db import bulk
from tradestore.db.errors import translate_errors
from tradestore.db.executor import Executor
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain import order_states
from tradestore.domain.enums import Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from tradestore.domain.fill_accounting import FillTotals
from tradestore.domain.money import Amount, fast_money
from tradestore.domain.validation import (
    choice,
    flag,
    instant,
    integer,
    json_document,
    money,
    optional_money,
    optional_text,
    required_text,
    room,
)
from tradestore.domain.validation import day as valid_day
from tradestore.domain.validation import rows as rows_of
from tradestore.errors import (
    BotNotFound,
    ConflictError,
    DuplicateBrokerOrderId,
    DuplicateOrder,
    IntegrityViolation,
    InvalidTransition,
    OrderNotFound,
    PositionNotFound,
    TradestoreError,
    ValidationError,
)
from tradestore.models import Fill, Order
from tradestore.models.base import table_of
from tradestore.repositories import order_sql as sql
from tradestore.repositories._scoped import BotScopedRepository
from tradestore.repositories.fill_import import FillImport
from tradestore.repositories.order_accounting import (
    LockedOrder,
    OrderChanges,
    check_overfill,
    fill_changes,
    replay_refusal,
)
from tradestore.repositories.order_records import (
    FillRecord,
    IngestReport,
    OrderRecord,
    RecordedFill,
    replaced,
)
from tradestore.repositories.position_keeping import PositionKeeper, keeps_position, kept_fill

__all__ = [
    "DailyFillRate",
    "FillRecord",
    "IngestReport",
    "OrderFillStats",
    "OrderRecord",
    "OrderRepository",
    "RecordedFill",
    "SlippageByOrderType",
    "SlippageByType",
]

#: Deprecated name of ``SlippageByOrderType`` (the rows of ``average_slippage_by_order_type``).
SlippageByType = SlippageByOrderType

_ZERO = Decimal(0)
_CLIENT_ID_LENGTH = 128
_FILL_ID_LENGTH = 128
_BROKER_ID_LENGTH = 128
_TICKER_LENGTH = 32
_STRATEGY_LENGTH = 100
_REASON_LENGTH = 10_000
#: Initial statuses ``submit`` accepts: a bot may record an order before sending it
#: (pending), once sent (new) or once acknowledged (accepted). Anything later needs events.
_SUBMIT_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.ACCEPTED})

_O = table_of(Order)
_F = table_of(Fill)


class _Arguments(NamedTuple):
    """The keys a batch method's mappings take: one single-call method's parameters."""

    allowed: frozenset[str]
    required: frozenset[str]


def _arguments_of(method: Any) -> _Arguments:
    parameters = list(inspect.signature(method).parameters.values())[1:]  # after self
    return _Arguments(
        frozenset(p.name for p in parameters),
        frozenset(p.name for p in parameters if p.default is inspect.Parameter.empty),
    )


def _entries(field: str, value: Any) -> Iterable[Any]:
    """A batch method's events: any iterable but a string or a mapping (a DataFrame's rows)."""
    value = rows_of(value)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(field, value, "expected an iterable of mappings (one per event)")
    return value


def _batch_requests(
    field: str, value: Any, arguments: _Arguments, build: Callable[[Mapping[str, Any]], Any]
) -> list[Any]:
    """A batch method's entries validated one by one: what ``build`` makes of each, or the
    error that refuses that entry alone."""
    requests: list[Any] = []
    for index, raw in enumerate(_entries(field, value)):
        refusal = _argument_refusal(f"{field}[{index}]", raw, arguments)
        if refusal is not None:
            requests.append(refusal)
            continue
        try:
            requests.append(build(raw))
        except TradestoreError as exc:
            requests.append(exc)
    return requests


def _argument_refusal(where: str, raw: Any, arguments: _Arguments) -> ValidationError | None:
    """Why ``raw`` is not one call's arguments (a batch refuses that entry alone), or None."""
    if not isinstance(raw, Mapping):
        return ValidationError(where, raw, "expected a mapping")
    unknown = sorted(set(raw) - arguments.allowed)
    missing = sorted(arguments.required - set(raw))
    if unknown or missing:
        reason = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
        return ValidationError(where, sorted(raw), reason)
    return None


# --- the repository --------------------------------------------------------------------------


@error_net
class OrderRepository(BotScopedRepository):
    """Orders and fills of one bot. Validates, then writes; never commits."""

    # --- submit ---------------------------------------------------------------------------

    def submit(
        self,
        *,
        client_order_id: str,
        ticker: str,
        side: OrderSide | str,
        order_type: OrderType | str,
        quantity: Amount,
        limit_price: Amount | None = None,
        stop_price: Amount | None = None,
        reference_price: Amount | None = None,
        time_in_force: TimeInForce | str = TimeInForce.DAY,
        reduce_only: bool = False,
        strategy: str | None = None,
        position_id: str | None = None,
        order_id: str | None = None,
        broker_order_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        submitted_at: dt.datetime | None = None,
        status: OrderStatus | str = OrderStatus.PENDING,
        keep_position: bool | None = None,
    ) -> OrderRecord:
        """Record an order; idempotent on ``client_order_id`` (per bot).

        ``keep_position``: whether the order's fills move the bot's position of its ticker
        and strategy (position keeping, docs/guide/positions.md); None follows the bot's
        ``position_keeping`` when each fill is recorded. An order naming a ``position_id``
        belongs to the explicit API: None is stored as False for it, and True is refused.

        A retry with the same payload returns the stored order unchanged, whatever happened
        to it since (it may be filled by now). The payload is the order's intent: ticker,
        side, type, quantity, prices, time in force, reduce_only, strategy, position and
        metadata, plus ``order_id`` / ``broker_order_id`` when the retry names them.
        ``submitted_at`` and ``status`` are not compared: a retry's clock differs and the
        status is the broker's.
        A different payload raises ``DuplicateOrder`` naming the fields that differ.

        Race-free: one ``INSERT ... ON CONFLICT DO NOTHING``, then a read of the winner.
        """
        request, record = self._order_request(locals())
        with translate_errors():
            return self._insert_order(request, record)

    def _order_request(self, arguments: Mapping[str, Any]) -> tuple[_OrderRequest, OrderRecord]:
        """``submit``'s arguments (by name; the optional ones may be left out) validated:
        what a retry is compared on, and the row to insert. ``submit`` and ``submit_many``
        both go through here, so a batch obeys exactly one submit's rules."""
        get = arguments.get
        client_order_id, ticker = arguments["client_order_id"], arguments["ticker"]
        side, order_type = arguments["side"], arguments["order_type"]
        quantity = arguments["quantity"]
        limit_price, stop_price = get("limit_price"), get("stop_price")
        reference_price = get("reference_price")
        time_in_force = get("time_in_force", TimeInForce.DAY)
        reduce_only, strategy = get("reduce_only", False), get("strategy")
        position_id, order_id = get("position_id"), get("order_id")
        broker_order_id, metadata = get("broker_order_id"), get("metadata")
        submitted_at, status = get("submitted_at"), get("status", OrderStatus.PENDING)
        keep_position = get("keep_position")
        if keep_position is not None:
            keep_position = flag("keep_position", keep_position)
        if position_id is not None:
            if keep_position:
                raise ValidationError(
                    "keep_position",
                    keep_position,
                    "an order naming a position_id moves that position through the explicit "
                    "API; a kept position is found by ticker and strategy",
                )
            keep_position = False
        dialect = self._dialect
        request = _OrderRequest(
            client_order_id=required_text(
                "client_order_id", client_order_id, max_length=_CLIENT_ID_LENGTH
            ),
            ticker=required_text("ticker", ticker, max_length=_TICKER_LENGTH),
            side=choice("side", side, OrderSide),
            order_type=choice("order_type", order_type, OrderType),
            quantity=money("quantity", quantity, dialect, positive=True),
            limit_price=optional_money("limit_price", limit_price, dialect, positive=True),
            stop_price=optional_money("stop_price", stop_price, dialect, positive=True),
            reference_price=optional_money(
                "reference_price", reference_price, dialect, positive=True
            ),
            time_in_force=choice("time_in_force", time_in_force, TimeInForce),
            reduce_only=flag("reduce_only", reduce_only),
            strategy=optional_text("strategy", strategy, max_length=_STRATEGY_LENGTH),
            position_id=optional_text("position_id", position_id, max_length=64),
            order_id=optional_text("order_id", order_id, max_length=64),
            broker_order_id=optional_text(
                "broker_order_id", broker_order_id, max_length=_BROKER_ID_LENGTH
            ),
            metadata=json_document("metadata", metadata),
            keep_position=keep_position,
        )
        _check_prices_by_type(request)
        initial = choice("status", status, OrderStatus)
        if initial not in _SUBMIT_STATUSES:
            allowed = ", ".join(sorted(repr(s.value) for s in _SUBMIT_STATUSES))
            raise ValidationError(
                "status",
                status,
                f"an order is submitted as one of {allowed}; later statuses "
                "come from set_status and fills",
            )
        now = self._db.now()
        at = instant("submitted_at", submitted_at, allow_none=True) or now
        record = OrderRecord(
            order_id=request.order_id or uuid.uuid4().hex,
            bot_id=self._bot_id,
            client_order_id=request.client_order_id,
            broker_order_id=request.broker_order_id,
            ticker=request.ticker,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            reference_price=request.reference_price,
            time_in_force=request.time_in_force,
            reduce_only=request.reduce_only,
            status=initial,
            submitted_at=at,
            accepted_at=at if initial is OrderStatus.ACCEPTED else None,
            filled_at=None,
            cancelled_at=None,
            rejected_at=None,
            expired_at=None,
            updated_at=now,
            filled_quantity=_ZERO,
            filled_avg_price=None,
            commission=_ZERO,
            slippage=None,
            slippage_bps=None,
            position_id=request.position_id,
            strategy=request.strategy,
            reject_reason=None,
            metadata=request.metadata,
            keep_position=request.keep_position,
        )
        return request, record

    def _insert_order(self, request: _OrderRequest, record: OrderRecord) -> OrderRecord:
        """Insert one validated order, or return (or refuse with) the one already there."""
        connection = self._db
        try:
            inserted = connection.run(sql.INSERT_ORDER, _record_params(record)).rowcount
        except IntegrityViolation as exc:
            if exc.kind == "foreign_key":
                raise BotNotFound("bot", self._bot_id) from None
            raise
        if inserted == 1:
            return record
        return self._existing_order_for(connection, request)

    def submit_many(
        self, orders: Iterable[Mapping[str, Any]]
    ) -> list[OrderRecord | TradestoreError]:
        """``submit`` for many orders at once, set-based, each order answered on its own.

        Each mapping holds ``submit``'s keyword arguments. The result has one entry per
        order, in order: what ``submit`` called one after the other would return (a retry,
        also of an earlier order of the same call, returns the stored order), or the error
        it would raise for that order, which then writes nothing; the other orders are
        recorded. New orders go in with one multi-row write (``executemany`` on SQLite, one
        ``INSERT ... SELECT FROM unnest(...)`` on PostgreSQL) after one read of the client
        ids already taken; a retried, repeated or refused order takes ``submit``'s own path.
        The recorder (``tradestore.aio``) sends a group's submits here.
        """
        requests: list[tuple[_OrderRequest, OrderRecord] | TradestoreError] = _batch_requests(
            "orders", orders, _SUBMIT_ARGUMENTS, self._order_request
        )
        outcomes: list[OrderRecord | TradestoreError | None] = [
            request if isinstance(request, TradestoreError) else None for request in requests
        ]
        valid = [
            i for i, request in enumerate(requests) if not isinstance(request, TradestoreError)
        ]
        if not valid:
            return outcomes  # type: ignore[return-value]  # errors only
        with translate_errors():
            connection = self._db
            wanted = sorted({requests[i][0].client_order_id for i in valid})  # type: ignore[index]
            taken = {
                client_id
                for client_id, _ in connection.run(
                    sql.INGEST_ORDERS_BY_CLIENT_ID,
                    {"bot_id": self._bot_id, "ids": sql.id_list_value(wanted, self._dialect)},
                ).rows
            }
            fresh: list[int] = []
            one_by_one: list[int] = []
            for i in valid:
                request, _ = requests[i]  # type: ignore[misc]
                if request.client_order_id in taken:
                    one_by_one.append(i)  # a retry (or a refusal): submit's own path
                else:
                    fresh.append(i)
                    taken.add(request.client_order_id)
            if fresh:
                records = [requests[i][1] for i in fresh]  # type: ignore[index]
                try:
                    with connection.savepoint():
                        if self._insert_orders(records) != len(records):
                            raise _NotAllInserted
                except _NotAllInserted:
                    # An order_id clash, an unknown position, an unregistered bot: nothing
                    # of the multi-row write stays, and each order meets submit's rules.
                    one_by_one = sorted(one_by_one + fresh)
                else:
                    for i, record in zip(fresh, records, strict=True):
                        outcomes[i] = record
            for i in one_by_one:
                request, record = requests[i]  # type: ignore[misc]
                try:
                    outcomes[i] = self._insert_order(request, record)
                except TradestoreError as exc:
                    outcomes[i] = exc
        return outcomes  # type: ignore[return-value]  # every entry is set

    def _insert_orders(self, records: Sequence[OrderRecord]) -> int:
        """The orders as one multi-row write; how many went in (a taken key, an unknown
        position or bot insert nothing, as for one ``submit``)."""
        columns = {name: [getattr(r, name) for r in records] for name in sql.ORDER_FIELDS}
        if self._dialect == "postgresql":
            params = {
                f"v_{name}": sql.pg_array(sql.pg_text(value) for value in values)
                for name, values in columns.items()
            }
            params["bot_id"] = self._bot_id
            return int(self._db.execute(sql.INSERT_ORDERS_POSTGRESQL, params).rowcount)
        return bulk.run_many(self._db, sql.INSERT_ORDER, columns)

    def _existing_order_for(self, connection: Executor, request: _OrderRequest) -> OrderRecord:
        """Why the insert wrote nothing: an unknown position, the order a conflicting insert
        ran into (the same client id, or an order_id clash), or an unregistered bot."""
        if request.position_id is not None:
            self._require_position(connection, request.position_id)
        rows = connection.run(
            sql.ORDER_BY_CLIENT_ID,
            {"bot_id": self._bot_id, "client_order_id": request.client_order_id},
        ).rows
        if rows:
            existing = OrderRecord(*rows[0])
            differing = request.differences(existing)
            if differing:
                raise DuplicateOrder(
                    f"client_order_id {request.client_order_id!r} already names order "
                    f"{existing.order_id!r} with a different {', '.join(differing)}"
                )
            return existing
        if not connection.run(sql.BOT_EXISTS, {"bot_id": self._bot_id}).rows[0][0]:
            raise BotNotFound("bot", self._bot_id)
        if request.broker_order_id is not None:
            holder = self._order_with_broker_id(connection, request.broker_order_id)
            if holder is not None:
                raise DuplicateBrokerOrderId(
                    request.broker_order_id, request.order_id, held_by=holder.order_id
                )
        raise DuplicateOrder(
            f"order_id {request.order_id!r} is already used by another order; "
            "leave order_id out to have one generated"
        )

    def _require_position(self, connection: Executor, position_id: str) -> None:
        params = {"bot_id": self._bot_id, "position_id": position_id}
        if not connection.run(sql.POSITION_EXISTS, params).rows[0][0]:
            raise PositionNotFound("position", position_id)

    # --- status ---------------------------------------------------------------------------

    def set_status(
        self,
        order_id: str,
        status: OrderStatus | str,
        *,
        at: dt.datetime | None = None,
        reason: str | None = None,
        broker_order_id: str | None = None,
    ) -> OrderRecord:
        """Move an order along the status machine (see tradestore.domain.order_states).

        ``at`` (default now) is stored in the status's timestamp column (accepted_at,
        cancelled_at, rejected_at, expired_at). ``reason`` is the broker's rejection text,
        stored in ``reject_reason``; only a rejection has one. ``broker_order_id`` records the
        broker's id when the acknowledgement brings it (never overwritten with None).

        The status the order already has is a no-op (brokers redeliver events); a move the
        machine does not allow raises ``InvalidTransition``; ``partially_filled`` and
        ``filled`` come from fills only.
        """
        change = self._status_request(locals())
        order_id, target = change.order_id, change.status
        broker_order_id, now = change.broker_order_id, change.now
        statement = sql.SET_STATUS.get(target)
        with translate_errors():
            connection = self._db
            if statement is not None:
                params = {
                    "bot_id": self._bot_id,
                    "order_id": order_id,
                    "status": target,
                    "updated_at": change.now,
                    "broker_order_id": change.broker_order_id,
                    "at": change.at,
                    "reject_reason": change.reason,
                }
                with _broker_id_race(broker_order_id, order_id):
                    rows = connection.run(statement, params).rows
                if rows:
                    return OrderRecord(*rows[0])
            current = self._fetch(connection, order_id)
            if broker_order_id is not None and current.broker_order_id != broker_order_id:
                self._check_broker_id_free(connection, current, broker_order_id)
            if not order_states.is_noop(current.status, target):
                raise InvalidTransition("order", order_id, current.status.value, target.value)
            if broker_order_id is None or current.broker_order_id == broker_order_id:
                return current
            # A redelivered status that brings the broker id for the first time.
            params = {
                "bot_id": self._bot_id,
                "order_id": order_id,
                "broker_order_id": broker_order_id,
                "updated_at": now,
            }
            with _broker_id_race(broker_order_id, order_id):
                rows = connection.run(sql.RECORD_BROKER_ID, params).rows
            if not rows:  # pragma: no cover - decided above, under the transaction's lock
                raise self._broker_id_refusal(connection, order_id, broker_order_id)
            return OrderRecord(*rows[0])

    def acknowledge(
        self, order_id: str, *, broker_order_id: str, at: dt.datetime | None = None
    ) -> OrderRecord:
        """The broker took the order and gave it ``broker_order_id``: record the id and move a
        pending or new order to ``accepted`` (``accepted_at`` = ``at``, default now).

        Brokers deliver out of order: an order already past ``accepted`` (a fill or a cancel
        arrived first) keeps its status and gains the id. Idempotent: the same id again is
        a no-op that writes nothing. ``DuplicateBrokerOrderId`` (a ``ConflictError`` naming
        the field and the value) when another order of this bot has the id, or this order
        already has a different one; ``OrderNotFound`` for another bot's order. Afterwards
        ``get(broker_order_id=...)`` finds the order through ``idx_orders_broker_order_id``.

        One statement (an UPDATE guarded by the id being free); a replay or a refusal reads
        the order to say which it is.
        """
        order_id = required_text("order_id", order_id)
        broker_order_id = required_text(
            "broker_order_id", broker_order_id, max_length=_BROKER_ID_LENGTH
        )
        now = self._db.now()
        when = instant("at", at, allow_none=True) or now
        with translate_errors():
            connection = self._db
            params = {
                "bot_id": self._bot_id,
                "order_id": order_id,
                "broker_order_id": broker_order_id,
                "at": when,
                "updated_at": now,
            }
            with _broker_id_race(broker_order_id, order_id):
                rows = connection.run(sql.ACKNOWLEDGE, params).rows
            if rows:
                return OrderRecord(*rows[0])
            current = self._fetch(connection, order_id)
            if current.broker_order_id == broker_order_id:
                return current  # redelivered
            raise self._broker_id_refusal(connection, order_id, broker_order_id, current)

    def _check_broker_id_free(
        self, connection: Executor, current: OrderRecord, broker_order_id: str
    ) -> None:
        """Raise what ``broker_id_free`` refused: the order's own other id, or a holder."""
        if current.broker_order_id is not None:
            raise DuplicateBrokerOrderId(
                broker_order_id, current.order_id, current=current.broker_order_id
            )
        holder = self._order_with_broker_id(connection, broker_order_id)
        if holder is not None and holder.order_id != current.order_id:
            raise DuplicateBrokerOrderId(broker_order_id, current.order_id, held_by=holder.order_id)

    def _broker_id_refusal(
        self,
        connection: Executor,
        order_id: str,
        broker_order_id: str,
        current: OrderRecord | None = None,
    ) -> ConflictError:
        if current is None:
            current = self._fetch(connection, order_id)
        self._check_broker_id_free(connection, current, broker_order_id)
        return ConflictError(  # pragma: no cover - only if a concurrent writer freed the id
            f"order {order_id!r} changed while broker_order_id {broker_order_id!r} was being "
            "recorded; nothing was written, retry the unit of work"
        )

    def _order_with_broker_id(
        self, connection: Executor, broker_order_id: str
    ) -> OrderRecord | None:
        params = {"bot_id": self._bot_id, "broker_order_id": broker_order_id}
        rows = connection.run(sql.ORDER_BY_BROKER_ID, params).rows
        return OrderRecord(*rows[0]) if rows else None

    def _status_request(self, arguments: Mapping[str, Any]) -> _StatusChange:
        """``set_status``'s arguments (by name; the optional ones may be left out) validated:
        ``set_status`` and ``set_statuses`` both go through here."""
        status = arguments["status"]
        order_id = required_text("order_id", arguments["order_id"])
        target = choice("status", status, OrderStatus)
        if target in order_states.FILL_DRIVEN:
            raise ValidationError(
                "status",
                status,
                "partially_filled and filled follow from fills: use record_fill or ingest_fills",
            )
        now = self._db.now()
        when = instant("at", arguments.get("at"), allow_none=True) or now
        reason = optional_text("reason", arguments.get("reason"), max_length=_REASON_LENGTH)
        if reason is not None and target is not OrderStatus.REJECTED:
            raise ValidationError(
                "reason", reason, "only a rejection records a reason (reject_reason)"
            )
        broker_order_id = optional_text(
            "broker_order_id", arguments.get("broker_order_id"), max_length=_BROKER_ID_LENGTH
        )
        return _StatusChange(order_id, target, when, reason, broker_order_id, now)

    def set_statuses(
        self, changes: Iterable[Mapping[str, Any]]
    ) -> list[OrderRecord | TradestoreError]:
        """``set_status`` for many changes at once, set-based, each change answered on its own.

        Each mapping holds ``set_status``'s arguments (``order_id``, ``status`` and
        optionally ``at``, ``reason``, ``broker_order_id``). The result has one entry per
        change, in order: what ``set_status`` called one after the other would return (a
        redelivered status returns the order unchanged), or the error it would raise for
        that change (``InvalidTransition``, ``OrderNotFound``, a validation error), which
        then writes nothing; the other changes are recorded. The orders are read under the
        transaction's lock once, each change is decided by the status machine
        (``domain.order_states``), and the changed orders are written with one
        ``executemany`` (SQLite) or one ``UPDATE ... FROM unnest(...)`` (PostgreSQL), each
        guarded by the status it was decided from. The recorder sends a group's acks,
        cancels, rejections and expiries here.
        """
        requests: list[_StatusChange | TradestoreError] = _batch_requests(
            "changes", changes, _STATUS_ARGUMENTS, self._status_request
        )
        valid = [request for request in requests if not isinstance(request, TradestoreError)]
        if not valid:
            return list(requests)  # type: ignore[arg-type]  # errors only
        outcomes: list[OrderRecord | TradestoreError] = []
        with translate_errors():
            connection = self._db
            ids = sql.id_list_value(sorted({c.order_id for c in valid}), self._dialect)
            rows = connection.run(sql.GROUP_LOCK_ORDERS, {"bot_id": self._bot_id, "ids": ids})
            current = {row[0]: OrderRecord(*row) for row in rows.rows}
            read_with = {order_id: order.status for order_id, order in current.items()}
            holders = self._broker_id_holders(connection, valid, current)
            changed: set[str] = set()
            for request in requests:
                if isinstance(request, TradestoreError):
                    outcomes.append(request)
                    continue
                order = current.get(request.order_id)
                refused = None if order is None else _broker_id_taken(request, order, holders)
                if order is None:
                    outcomes.append(OrderNotFound("order", request.order_id))
                elif refused is not None:
                    outcomes.append(refused)
                elif order_states.is_allowed(order.status, request.status) or (
                    order_states.is_noop(order.status, request.status)
                    and request.broker_order_id not in (None, order.broker_order_id)
                ):
                    # a move, or a redelivered status bringing the broker id for the first time
                    if order_states.is_noop(order.status, request.status):
                        order = replaced(
                            order, broker_order_id=request.broker_order_id, updated_at=request.now
                        )
                    else:
                        order = request.applied_to(order)
                    current[request.order_id] = order
                    if order.broker_order_id is not None:
                        holders[order.broker_order_id] = order.order_id
                    changed.add(request.order_id)
                    outcomes.append(order)
                elif order_states.is_noop(order.status, request.status):
                    outcomes.append(order)
                else:
                    outcomes.append(
                        InvalidTransition(
                            "order", order.order_id, order.status.value, request.status.value
                        )
                    )
            if changed:
                self._write_statuses([current[order_id] for order_id in sorted(changed)], read_with)
        return outcomes

    def _broker_id_holders(
        self,
        connection: Executor,
        changes: Sequence[_StatusChange],
        current: Mapping[str, OrderRecord],
    ) -> dict[str, str]:
        """Which order holds each broker id the changes bring (one read, none if none do)."""
        wanted = sorted(
            {
                change.broker_order_id
                for change in changes
                if change.broker_order_id is not None
                and (order := current.get(change.order_id)) is not None
                and order.broker_order_id != change.broker_order_id
            }
        )
        if not wanted:
            return {}
        params = {"bot_id": self._bot_id, "ids": sql.id_list_value(wanted, self._dialect)}
        return dict(connection.run(sql.ORDERS_BY_BROKER_IDS, params).rows)

    def _write_statuses(
        self, orders: Sequence[OrderRecord], read_with: Mapping[str, OrderStatus]
    ) -> None:
        """The changed orders' status columns, in one statement, each guarded by its status
        as read (the orders are locked: a miss is a change made outside tradestore)."""
        columns = {name: [getattr(o, name) for o in orders] for name in sql.STATUS_UPDATE_FIELDS}
        order_ids = [order.order_id for order in orders]
        expected = [read_with[order_id] for order_id in order_ids]
        if self._dialect == "postgresql":
            params: dict[str, Any] = {
                f"v_{name}": sql.pg_array(values) for name, values in columns.items()
            }
            params["v_order_id"] = sql.pg_array(order_ids)
            params["v_key_status"] = sql.pg_array(expected)
            params["key_bot_id"] = self._bot_id
            written = int(self._db.execute(sql.STATUS_UPDATE_POSTGRESQL, params).rowcount)
        else:
            values: dict[str, Sequence[Any]] = dict(columns)
            values["key_order_id"] = order_ids
            values["key_status"] = expected
            written = bulk.run_many(
                self._db, sql.STATUS_UPDATE_SQLITE, values, constants={"key_bot_id": self._bot_id}
            )
        if written != len(orders):  # pragma: no cover - the orders are locked
            raise ConflictError("orders changed during set_statuses; retry")

    def cancel(self, order_id: str, *, at: dt.datetime | None = None) -> OrderRecord:
        """``set_status(order_id, "cancelled", at=at)``: a cancelled order is a no-op."""
        return self.set_status(order_id, OrderStatus.CANCELLED, at=at)

    def reject(
        self, order_id: str, *, reason: str | None = None, at: dt.datetime | None = None
    ) -> OrderRecord:
        """``set_status(order_id, "rejected", reason=reason, at=at)``."""
        return self.set_status(order_id, OrderStatus.REJECTED, at=at, reason=reason)

    def expire(self, order_id: str, *, at: dt.datetime | None = None) -> OrderRecord:
        """``set_status(order_id, "expired", at=at)`` (end of a day order, say)."""
        return self.set_status(order_id, OrderStatus.EXPIRED, at=at)

    # --- fills ----------------------------------------------------------------------------

    def record_fill(
        self,
        order_id: str,
        *,
        fill_id: str,
        quantity: Amount,
        price: Amount,
        filled_at: dt.datetime | None = None,
        liquidity: Liquidity | str = Liquidity.UNKNOWN,
        commission: Amount = _ZERO,
    ) -> RecordedFill:
        """Record one execution and update the order in the same transaction.

        Idempotent on ``fill_id`` (per bot): a replay with the same order, quantity, price,
        liquidity, commission (and ``filled_at``, when given) returns the stored fill and
        writes nothing; anything different raises ``DuplicateFill``. Refuses an overfill
        (``Overfill``) and fills on rejected orders (``InvalidTransition``). Updates
        ``filled_quantity``, the VWAP ``filled_avg_price``, ``commission``, ``slippage`` and
        the status (``partially_filled`` / ``filled``, setting ``filled_at`` to the last
        execution time when complete). A fill on a cancelled or expired order is a late
        report of an execution that came first: it is recorded and counted, and the order
        keeps its status.

        A new fill of an order that keeps positions (``keep_position``, else its bot's
        ``position_keeping``) also moves the bot's kept position of the order's ticker and
        strategy, links the fill (and the order, while it has none) to it and moves the bot's
        cash, in this transaction (``position_keeping``; docs/guide/positions.md). The order's
        own statement stays one on PostgreSQL (it reads the bot's setting in passing); a kept
        fill adds 3 to 5 statements there and 6 to 11 on SQLite. A replay moves nothing.
        """
        fill, given_time = self._fill_request(locals())
        with translate_errors():
            if self._dialect == "sqlite":
                return self._record_fill_sqlite(fill, given_time)
            return self._record_fill_postgresql(fill, given_time)

    def _fill_request(self, arguments: Mapping[str, Any]) -> tuple[FillRecord, dt.datetime | None]:
        """``record_fill``'s arguments (by name; the optional ones may be left out)
        validated: the fill (order columns still blank) and the ``filled_at`` the caller
        gave (a replay compares it only then)."""
        order_id, fill_id = arguments["order_id"], arguments["fill_id"]
        quantity, price = arguments["quantity"], arguments["price"]
        filled_at = arguments.get("filled_at")
        liquidity = arguments.get("liquidity", Liquidity.UNKNOWN)
        commission = arguments.get("commission", _ZERO)
        dialect = self._dialect
        sqlite = dialect == "sqlite"
        order_id = required_text("order_id", order_id)
        fill_id = required_text("fill_id", fill_id, max_length=_FILL_ID_LENGTH)
        fill_quantity = fast_money(quantity, sqlite, positive=True) or money(
            "quantity", quantity, dialect, positive=True
        )
        fill_price = fast_money(price, sqlite, positive=True) or money(
            "price", price, dialect, positive=True
        )
        fill_commission = fast_money(commission, sqlite, positive=False)
        if fill_commission is None:
            fill_commission = money("commission", commission, dialect, non_negative=True)
        fill_liquidity = choice("liquidity", liquidity, Liquidity)
        given_time = instant("filled_at", filled_at, allow_none=True)
        now = self._db.now()
        fill_time = given_time or now

        fill = FillRecord(
            bot_id=self._bot_id,
            fill_id=fill_id,
            order_id=order_id,
            ticker="",
            side=OrderSide.BUY,
            quantity=fill_quantity,
            price=fill_price,
            filled_at=fill_time,
            liquidity=fill_liquidity,
            commission=fill_commission,
            position_id=None,
        )
        return fill, given_time

    def _record_fill_sqlite(self, fill: FillRecord, given_time: dt.datetime | None) -> RecordedFill:
        """Read the order and its fills, account in Python, insert the fill, update the order.

        Writers are serialised by the transaction's write lock (BEGIN IMMEDIATE).
        """
        connection = self._db
        bot_id, order_id, fill_id = self._bot_id, fill.order_id, fill.fill_id
        state, current, bot_keeping = self._lock_for_fills(connection, order_id)
        existing = state.fill(fill_id)
        if existing is not None:
            return self._replay(connection, existing, fill, given_time, order=current)
        changes = self._changes(state, fill)
        fill = dataclasses.replace(
            fill, ticker=state.ticker, side=state.side, position_id=state.position_id
        )
        # The keeping choice is frozen on the order at its first fill (written with it):
        # a later switch of the bot's mode never splits an order's fills between the two.
        keeps = keeps_position(current.keep_position, bot_keeping)
        params = {name: getattr(fill, name) for name in sql.FILL_FIELDS}
        if connection.run(sql.INSERT_FILL, params).rowcount != 1:
            # The fill_id is taken by another order's fill: compare with what is stored.
            return self._replay(connection, self._fill(connection, fill_id), fill, given_time)
        rows = connection.run(
            sql.APPLY_FILL,
            {
                "bot_id": bot_id,
                "order_id": order_id,
                "was_filled_quantity": state.filled_quantity,
                "was_status": state.status,
                "updated_at": self._db.now(),
                "keep_position": keeps,
                **changes._asdict(),
            },
        ).rows
        if not rows:
            raise self._changed_meanwhile(connection, fill)
        order = OrderRecord(*rows[0])
        if keeps:
            return self._keep(fill, order)
        return RecordedFill(fill=fill, order=order, replayed=False)

    def _record_fill_postgresql(
        self, fill: FillRecord, given_time: dt.datetime | None
    ) -> RecordedFill:
        """One statement (``order_sql.RECORD_FILL_POSTGRESQL``) records the fill and updates
        the order, its accounting in exact NUMERIC arithmetic; when it writes nothing, its
        row says why, decided here with the same rules as on SQLite.

        A second statement only when this writer waited for the order's lock while another
        one committed a fill (its snapshot then misses that fill, so it wrote nothing): run
        again under the lock it now holds, it sees every committed fill.
        """
        connection = self._db
        params = {
            "bot_id": self._bot_id,
            "order_id": fill.order_id,
            "fill_id": fill.fill_id,
            "quantity": fill.quantity,
            "price": fill.price,
            "filled_at": fill.filled_at,
            "liquidity": fill.liquidity,
            "commission": fill.commission,
            "updated_at": self._db.now(),
        }
        params["fills_from"] = min(fill.filled_at, self._db.now()) - sql.FILLS_WINDOW
        for attempt in range(2):
            rows = connection.run(sql.RECORD_FILL_POSTGRESQL, params).rows
            if not rows:
                raise OrderNotFound("order", fill.order_id)
            row = rows[0]
            current = OrderRecord(*row[: sql.RECORD_FILL_TOTALS])
            stored = row[sql.RECORD_FILL_STORED : sql.RECORD_FILL_INSERTED]
            recorded = dataclasses.replace(
                fill, ticker=current.ticker, side=current.side, position_id=current.position_id
            )
            if row[sql.RECORD_FILL_APPLIED] is not None:
                order = OrderRecord(*row[sql.RECORD_FILL_APPLIED : sql.RECORD_FILL_KEEPING])
                if keeps_position(order.keep_position, row[sql.RECORD_FILL_KEEPING]):
                    return self._keep(recorded, order)
                return RecordedFill(fill=recorded, order=order, replayed=False)
            if row[sql.RECORD_FILL_INSERTED] is not None:  # pragma: no cover - the lock holds
                raise self._changed_meanwhile(connection, fill)
            stored_fill = None if stored[0] is None else FillRecord(*stored)
            if stored_fill is not None and stored_fill.order_id == fill.order_id:
                return self._replay(connection, stored_fill, fill, given_time, order=current)
            quantity, notional, commission, last = row[
                sql.RECORD_FILL_TOTALS : sql.RECORD_FILL_STORED
            ]
            state = LockedOrder.from_record(current)
            if quantity != current.filled_quantity:
                # A fill committed while this writer waited for the lock: this snapshot
                # misses it (and maybe a replay's stored fill); or the order has fills from
                # before the window. Decide nothing from it: run again, under the lock it
                # now holds and without a window.
                if attempt == 0:
                    params["fills_from"] = sql.ALL_FILLS
                    continue
                state.check_consistent_with(quantity)
            if stored_fill is None:
                # A fill of that id from before the window, or committed since the snapshot:
                # a replay of this order's fill is answered as one before any other check.
                stored_fill = self._find_fill(connection, fill.fill_id)
                if stored_fill is not None and stored_fill.order_id == fill.order_id:
                    return self._replay(connection, stored_fill, fill, given_time, order=current)
            state.check_fillable()
            check_overfill(state, fill, current.filled_quantity)
            state.current_totals = FillTotals(quantity, notional, commission, 0, None, last)
            self._changes(state, fill)  # raises what the statement refused (a total too big)
            if stored_fill is None:
                # Inserted by a transaction that committed after this statement's snapshot.
                stored_fill = self._fill(connection, fill.fill_id)
            return self._replay(connection, stored_fill, fill, given_time)
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep(self, fill: FillRecord, order: OrderRecord) -> RecordedFill:
        """Move the kept position by a new fill of a keeping order (its fill and order are
        written), link both to it and move the bot's cash (``position_keeping``).

        A refusal here (a quantity the backend cannot store exactly) comes after the fill
        was written, so the unit of work is marked failed: it ends in
        ``TransactionAborted`` and commits nothing, whatever the caller catches. Inside a
        savepoint (``uow.executor.savepoint()``) it is not: the savepoint's rollback undoes
        the fill with the refusal, and the unit of work goes on (as ``net._raise`` does).
        """
        keeper = PositionKeeper(self._db, self._bot_id, self._dialect)
        kept = kept_fill(fill, order, order_position_id=order.position_id)
        try:
            position_id = keeper.apply(kept)
            keeper.settle_one(kept, position_id)
        except BaseException as exc:
            if not self._db.in_savepoint:
                self._db.note_failure(exc)  # a savepoint undoes the refusal on its own
            raise
        if order.position_id is None:
            order = replaced(order, position_id=position_id)
        return RecordedFill(
            fill=replaced(fill, position_id=position_id), order=order, replayed=False
        )

    def _changes(self, state: LockedOrder, fill: FillRecord) -> OrderChanges:
        """What the order becomes with ``fill``; refuses a fill the order does not take."""
        return fill_changes(state, fill, self._dialect)[1]

    def _changed_meanwhile(self, connection: Executor, fill: FillRecord) -> ConflictError:
        connection.run(sql.DELETE_FILL, {"bot_id": self._bot_id, "fill_id": fill.fill_id})
        return ConflictError(
            f"order {fill.order_id!r} changed while fill {fill.fill_id!r} was being recorded "
            "(written outside this repository in the same transaction?); "
            "nothing was recorded, retry the unit of work"
        )

    def _lock_for_fills(
        self, connection: Executor, order_id: str
    ) -> tuple[LockedOrder, OrderRecord, Any]:
        """The order, its fills and the bot's position keeping (SQLite: the transaction
        holds the write lock already); raises OrderNotFound for another bot's order."""
        params = {"bot_id": self._bot_id, "order_id": order_id}
        rows = connection.run(sql.LOCK_ORDER_WITH_FILLS, params).rows
        if not rows:
            raise OrderNotFound("order", order_id)
        width = len(sql.ORDER_COLUMNS)
        current = OrderRecord(*rows[0][:width])
        state = LockedOrder.from_record(current)
        state.fill_rows = [row[width + 1 :] for row in rows if row[width + 1] is not None]
        state.check_consistent()
        state.current_totals = state.totals
        return state, current, rows[0][width]

    def _replay(
        self,
        connection: Executor,
        stored: FillRecord,
        fill: FillRecord,
        given_time: dt.datetime | None,
        *,
        order: OrderRecord | None = None,
    ) -> RecordedFill:
        """``stored`` took ``fill``'s id: a replay returns it (with ``order``, its order when
        already read), anything different raises ``DuplicateFill``."""
        refusal = replay_refusal(stored, fill, given_time)
        if refusal is not None:
            raise refusal
        if order is None:
            order = self._fetch(connection, stored.order_id)
        return RecordedFill(fill=stored, order=order, replayed=True)

    def _fill(self, connection: Executor, fill_id: str) -> FillRecord:
        found = self._find_fill(connection, fill_id)
        if found is None:  # pragma: no cover - only if a concurrent writer deleted it
            raise ConflictError(f"fill {fill_id!r} conflicted but cannot be read back")
        return found

    def _find_fill(self, connection: Executor, fill_id: str) -> FillRecord | None:
        rows = connection.run(sql.FILL_BY_ID, {"bot_id": self._bot_id, "fill_id": fill_id}).rows
        return FillRecord(*rows[0]) if rows else None

    # --- bulk import ----------------------------------------------------------------------

    @atomic
    def ingest_fills(self, rows: Iterable[Mapping[str, Any]]) -> IngestReport:
        """Import many broker fills at once: idempotent, all-or-nothing, set-based.

        Each row is a mapping with ``fill_id``, ``order_id`` *or* ``client_order_id``,
        ``quantity``, ``price``, ``filled_at`` (aware) and optionally ``liquidity`` and
        ``commission``. Rows already stored with the same payload are skipped (replays);
        the batch is refused as a whole, naming the row (``rows[i].field``), if any row is
        invalid, names another bot's or an unknown order, reuses a fill_id with a different
        payload, would overfill its order or fills a rejected order. Fills of cancelled and
        expired orders are late reports, counted as ``record_fill`` counts them.

        Fills go in with one ``executemany`` (SQLite) or one ``COPY`` (PostgreSQL); the
        affected orders are then recomputed from all their fills and written with one
        ``executemany`` / one ``UPDATE ... FROM unnest(...)`` (see fill_import). New fills of
        orders that keep positions move their kept positions first, key by key in key order
        and each key's fills by execution time (``filled_at``, then row order), and go in
        linked to them; the cash moves once. ``record_fill`` and ``record_fills`` apply
        fills in the order they arrive instead: for fills that arrive out of execution
        order, a backfill through here and the live path can book different P&L
        (docs/guide/positions.md).
        """
        return FillImport(self._db, self._bot_id, self._dialect).run(rows_of(rows))

    @atomic
    def record_fills(
        self, fills: Iterable[Mapping[str, Any]]
    ) -> list[RecordedFill | TradestoreError]:
        """``record_fill`` for many fills at once, set-based, each fill answered on its own.

        Each mapping holds ``record_fill``'s arguments (``order_id``, ``fill_id``,
        ``quantity``, ``price`` and optionally ``filled_at``, ``liquidity``,
        ``commission``). The result has one entry per fill, in order: what ``record_fill``
        called one after the other would return (the order as it stood after that fill;
        replays, also of an earlier fill of the same call, marked ``replayed``), or the
        error it would raise for that fill, which then writes nothing; the other fills are
        recorded. The orders are locked once and the new fills written as ``ingest_fills``
        writes them (one ``executemany`` / ``COPY``, one update of the orders). Raised as
        a whole only for what no single fill explains (a ``fill_id`` recorded for an order
        outside the call, an order whose fills were written outside tradestore).
        Fills of orders that keep positions move their kept positions in call order, as
        ``record_fill`` one after the other would (the keys' rows locked first, in key
        order); a fill the keeper refuses (a quantity the backend cannot store) is refused
        alone, before anything of it is written. The recorder (``tradestore.aio``) sends a
        group's consecutive fills here.
        """
        requests: list[tuple[FillRecord, dt.datetime | None] | TradestoreError] = _batch_requests(
            "fills", fills, _FILL_ARGUMENTS, self._fill_request
        )
        return FillImport(self._db, self._bot_id, self._dialect).run_each(requests)

    # --- reads ----------------------------------------------------------------------------

    def get(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        broker_order_id: str | None = None,
    ) -> OrderRecord:
        """The order named by ``order_id``, ``client_order_id`` or ``broker_order_id`` (give
        exactly one); ``OrderNotFound`` if none."""
        found = self.find(
            order_id, client_order_id=client_order_id, broker_order_id=broker_order_id
        )
        if found is None:
            if order_id is not None:
                key = order_id
            elif client_order_id is not None:
                key = f"client_order_id={client_order_id}"
            else:
                key = f"broker_order_id={broker_order_id}"
            raise OrderNotFound("order", key)
        return found

    def find(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        broker_order_id: str | None = None,
    ) -> OrderRecord | None:
        """Like ``get`` but None when absent: "did my submit land before the crash?", or
        "which order is this broker event about?" (``broker_order_id``, an index probe)."""
        keys = {
            "order_id": order_id,
            "client_order_id": client_order_id,
            "broker_order_id": broker_order_id,
        }
        given = [name for name, value in keys.items() if value is not None]
        if len(given) != 1:
            field = given[1] if len(given) > 1 else "order_id"
            raise ValidationError(
                field,
                keys[field],
                "give exactly one of order_id, client_order_id or broker_order_id",
            )
        with translate_errors():
            connection = self._db
            if order_id is not None:
                params = {"bot_id": self._bot_id, "order_id": required_text("order_id", order_id)}
                rows = connection.run(sql.ORDER_BY_ID, params).rows
            elif broker_order_id is not None:
                key = required_text(
                    "broker_order_id", broker_order_id, max_length=_BROKER_ID_LENGTH
                )
                return self._order_with_broker_id(connection, key)
            else:
                params = {
                    "bot_id": self._bot_id,
                    "client_order_id": required_text(
                        "client_order_id", client_order_id, max_length=_CLIENT_ID_LENGTH
                    ),
                }
                rows = connection.run(sql.ORDER_BY_CLIENT_ID, params).rows
        return OrderRecord(*rows[0]) if rows else None

    def _fetch(self, connection: Executor, order_id: str) -> OrderRecord:
        rows = connection.run(sql.ORDER_BY_ID, {"bot_id": self._bot_id, "order_id": order_id}).rows
        if not rows:
            raise OrderNotFound("order", order_id)
        return OrderRecord(*rows[0])

    def list_open(
        self,
        *,
        ticker: str | None = None,
        side: OrderSide | str | None = None,
        strategy: str | None = None,
        status: OrderStatus | str | None = None,
        position_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[OrderRecord]:
        """Non-terminal orders (pending, new, accepted, partially_filled), oldest first."""
        statement: Select[Any] = select(*sql.ORDER_COLUMNS).where(_O.c.bot_id == self._bot_id)
        if status is not None:
            wanted = choice("status", status, OrderStatus)
            if wanted not in order_states.OPEN_STATUSES:
                raise ValidationError("status", status, "not an open status")
            statement = statement.where(_O.c.status == wanted)
        else:
            statement = statement.where(_O.c.status.in_(sorted(order_states.OPEN_STATUSES)))
        if ticker is not None:
            statement = statement.where(
                _O.c.ticker == required_text("ticker", ticker, max_length=_TICKER_LENGTH)
            )
        if side is not None:
            statement = statement.where(_O.c.side == choice("side", side, OrderSide))
        if strategy is not None:
            statement = statement.where(
                _O.c.strategy == required_text("strategy", strategy, max_length=_STRATEGY_LENGTH)
            )
        if position_id is not None:
            statement = statement.where(
                _O.c.position_id == required_text("position_id", position_id)
            )
        statement = paginate(
            statement.order_by(_O.c.submitted_at, _O.c.order_id), limit=limit, offset=offset
        )
        with translate_errors():
            rows = self._db.execute(statement).all()
        return Rows(OrderRecord, (OrderRecord(*row) for row in rows))

    def fills(self, order_id: str) -> Rows[FillRecord]:
        """The order's fills in execution order; ``OrderNotFound`` for another bot's order."""
        order_id = required_text("order_id", order_id)
        statement = (
            select(*sql.FILL_COLUMNS)
            .where(_F.c.bot_id == self._bot_id, _F.c.order_id == order_id)
            .order_by(_F.c.filled_at, _F.c.fill_id)
        )
        with translate_errors():
            connection = self._db
            rows = connection.execute(statement).all()
            if not rows:
                self._fetch(connection, order_id)  # raises OrderNotFound
        return Rows(FillRecord, (FillRecord(*row) for row in rows))

    # --- common queries -------------------------------------------------------------------

    def daily_fill_rate(
        self,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int | None = None,
    ) -> Rows[DailyFillRate]:
        """Orders per UTC submission day and the share that ended ``filled``, newest first.

        As the source query counts them: an order partially filled and then cancelled is not
        filled.
        ``since`` / ``until`` are inclusive days; ``limit`` keeps the newest days. The query
        and the row type are ``analytics.orders``' (``uow.analytics.daily_fill_rate`` windows
        by ``days`` and ``now`` instead).
        """
        start = None if since is None else _day_start("since", since)
        end = (
            None
            if until is None
            else room("until", _day_start("until", until), days_after=1) + dt.timedelta(days=1)
        )
        page = integer("limit", limit, minimum=1)
        with translate_errors():
            return orders_read.daily_fill_rate(
                self._db, bot_id=self._bot_id, since=start, until=end, limit=page
            )

    def average_slippage_by_order_type(self) -> Rows[SlippageByOrderType]:
        """The "average slippage by order type" query: the plain mean over orders
        (``uow.analytics.slippage_by_order_type``, the same rows)."""
        with translate_errors():
            return orders_read.slippage_by_order_type(self._db, bot_id=self._bot_id)

    def fill_stats(
        self,
        order_id: str | None = None,
        *,
        ticker: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[OrderFillStats]:
        """Per-order fill statistics (v_order_fill_stats), latest fill first: the rows of
        ``uow.analytics.order_fill_stats``, also by ticker and paginated.

        Orders without fills are left out, as in the view (an inner join).
        """
        with translate_errors():
            return orders_read.order_fill_stats(
                self._db,
                bot_id=self._bot_id,
                order_id=None if order_id is None else required_text("order_id", order_id),
                ticker=None
                if ticker is None
                else required_text("ticker", ticker, max_length=_TICKER_LENGTH),
                limit=limit,
                offset=offset,
            )


#: The keys of a ``record_fills`` / ``submit_many`` / ``set_statuses`` mapping: the single
#: call's parameters.
_FILL_ARGUMENTS = _arguments_of(OrderRepository.record_fill)
_SUBMIT_ARGUMENTS = _arguments_of(OrderRepository.submit)
_STATUS_ARGUMENTS = _arguments_of(OrderRepository.set_status)


class _NotAllInserted(Exception):
    """A multi-row insert wrote fewer rows than it was given: undo it, go one by one."""


class _StatusChange(NamedTuple):
    """A validated ``set_status`` call."""

    order_id: str
    status: OrderStatus
    at: dt.datetime
    reason: str | None
    broker_order_id: str | None
    now: dt.datetime

    def applied_to(self, order: OrderRecord) -> OrderRecord:
        """``order`` as ``set_status_statement`` leaves it (``order_sql``): the status, its
        timestamp, the rejection's reason, a broker id when one is given."""
        values: dict[str, Any] = {"status": self.status, "updated_at": self.now}
        if self.broker_order_id is not None:
            values["broker_order_id"] = self.broker_order_id
        column = sql.STATUS_TIMESTAMP.get(self.status)
        if column is not None:
            values[column] = self.at
        if self.status is OrderStatus.REJECTED:
            values["reject_reason"] = self.reason
        return replaced(order, **values)


# --- helpers: submit -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OrderRequest:
    """A validated submit payload: what idempotency compares."""

    client_order_id: str
    ticker: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    reference_price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    strategy: str | None
    position_id: str | None
    order_id: str | None
    broker_order_id: str | None
    metadata: dict[str, Any] | None
    keep_position: bool | None

    def differences(self, stored: OrderRecord) -> list[str]:
        differing = [
            name
            for name in (
                "ticker",
                "side",
                "order_type",
                "quantity",
                "limit_price",
                "stop_price",
                "reference_price",
                "time_in_force",
                "reduce_only",
                "strategy",
                "metadata",
            )
            if getattr(self, name) != getattr(stored, name)
        ]
        # A kept order's position_id was linked by its first kept fill, not by the caller.
        linked = self.position_id is None and stored.keep_position is True
        if not linked and self.position_id != stored.position_id:
            differing.append("position_id")
        # A filled order's keep_position is the choice frozen at its first fill (or, for an
        # order stored before revision 0012 and filled, False): a retry that left it to the
        # bot (None) matches it; one that chose for itself must have chosen the same.
        follows = self.keep_position is None and stored.filled_quantity > 0
        if not follows and self.keep_position != stored.keep_position:
            differing.append("keep_position")
        if self.order_id is not None and self.order_id != stored.order_id:
            differing.append("order_id")
        if (
            self.broker_order_id is not None
            and stored.broker_order_id is not None
            and self.broker_order_id != stored.broker_order_id
        ):
            differing.append("broker_order_id")
        return differing


def _check_prices_by_type(request: _OrderRequest) -> None:
    """Which prices each order type needs, and which it must not have."""
    kind = request.order_type
    needs_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.POST_ONLY)
    needs_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and request.limit_price is None:
        raise ValidationError("limit_price", None, f"a {kind.value} order needs a limit price")
    if needs_stop and request.stop_price is None:
        raise ValidationError("stop_price", None, f"a {kind.value} order needs a stop price")
    if not needs_limit and request.limit_price is not None:
        raise ValidationError(
            "limit_price",
            request.limit_price,
            f"a {kind.value} order has no limit price"
            + ("; use stop_limit" if kind is OrderType.STOP else ""),
        )
    if kind is OrderType.MARKET and request.stop_price is not None:
        raise ValidationError("stop_price", request.stop_price, "a market order has no stop price")
    if kind in (OrderType.LIMIT, OrderType.POST_ONLY) and request.stop_price is not None:
        raise ValidationError(
            "stop_price",
            request.stop_price,
            f"a {kind.value} order has no stop price"
            + ("; use stop_limit" if kind is OrderType.LIMIT else ""),
        )


def _record_params(record: OrderRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in sql.ORDER_FIELDS}


# --- helpers: reads --------------------------------------------------------------------------


def _day_start(field: str, value: Any) -> dt.datetime:
    day_ = valid_day(field, value, allow_none=False)
    assert day_ is not None
    return dt.datetime(day_.year, day_.month, day_.day, tzinfo=dt.UTC)


def _broker_id_taken(
    change: _StatusChange, order: OrderRecord, holders: Mapping[str, str]
) -> DuplicateBrokerOrderId | None:
    """``set_status``'s broker-id rule for one change of a batch: an order keeps the id it
    has, and an id belongs to one order of the bot (``holders``: as read, plus what the
    batch gave so far)."""
    wanted = change.broker_order_id
    if wanted is None or wanted == order.broker_order_id:
        return None
    if order.broker_order_id is not None:
        return DuplicateBrokerOrderId(wanted, order.order_id, current=order.broker_order_id)
    holder = holders.get(wanted)
    if holder is not None and holder != order.order_id:
        return DuplicateBrokerOrderId(wanted, order.order_id, held_by=holder)
    return None


@contextmanager
def _broker_id_race(broker_order_id: str | None, order_id: str) -> Iterator[None]:
    """Two writers giving one broker id to two orders at once: the guard saw the id free in
    both snapshots and the unique index refused the second (PostgreSQL; SQLite writers are
    serialised). Named for what it is; the unit of work then ends in ``TransactionAborted``."""
    try:
        yield
    except IntegrityViolation as exc:
        if broker_order_id is None or exc.kind != "unique":
            raise
        raise DuplicateBrokerOrderId(
            broker_order_id,
            order_id,
            reason="another order of this bot was given it by a concurrent unit of work",
        ) from None
