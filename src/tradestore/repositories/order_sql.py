"""The SQL of orders and fills: Core statements, the hot-path ones ``Prepared`` (db.executor).

Kept apart from the repository so that what runs against the database can be read in one
place. Every statement binds its parameters by name; the ``validated`` ones receive values
the repository has already put in canonical form (see ``Prepared``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    DateTime,
    Double,
    Numeric,
    String,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.base import Executable

from tradestore.db.dialects import upsert_insert
from tradestore.db.executor import Prepared
from tradestore.db.types import encode_json
from tradestore.domain import order_states
from tradestore.domain.enums import OrderSide, OrderStatus, PositionKeeping
from tradestore.domain.fill_accounting import BPS_DECIMALS, BPS_PER_UNIT
from tradestore.domain.money import MAX_INTEGER_DIGITS, MONEY_SCALE
from tradestore.models import Bot, ClosedPosition, Fill, Order, Position
from tradestore.models.base import table_of
from tradestore.repositories._integrity import cast_type, insert_for_registered_bot
from tradestore.repositories.order_records import FillRecord, OrderRecord

#: The timestamp column each status sets when reached through ``set_status``.
STATUS_TIMESTAMP = {
    OrderStatus.ACCEPTED: "accepted_at",
    OrderStatus.CANCELLED: "cancelled_at",
    OrderStatus.REJECTED: "rejected_at",
    OrderStatus.EXPIRED: "expired_at",
}

_O = table_of(Order)
_F = table_of(Fill)
ORDER_FIELDS = tuple(field.name for field in fields(OrderRecord))
FILL_FIELDS = tuple(field.name for field in fields(FillRecord))
ORDER_COLUMNS = [_O.c[name] for name in ORDER_FIELDS]
FILL_COLUMNS = [_F.c[name] for name in FILL_FIELDS]
#: What fill accounting needs from the order, then the fill columns (LEFT JOIN: may be NULL).
LOCK_ORDER_COLUMNS = [
    _O.c.status,
    _O.c.quantity,
    _O.c.filled_quantity,
    _O.c.side,
    _O.c.ticker,
    _O.c.position_id,
    _O.c.limit_price,
    _O.c.stop_price,
    _O.c.reference_price,
]
LOCK_FILL_COLUMNS = [
    _F.c.fill_id,
    _F.c.quantity,
    _F.c.price,
    _F.c.commission,
    _F.c.filled_at,
    _F.c.liquidity,
]


#: The bot's ``position_keeping``, beside the order rows the fill paths lock: whether an
#: order that does not say (``keep_position`` NULL) keeps positions, read in the same
#: statement (no round trip of its own).
_BOT_KEEPING_VALUE: Any = (
    select(Bot.__table__.c.position_keeping)
    .where(Bot.__table__.c.bot_id == bindparam("bot_id"))
    .scalar_subquery()
)
BOT_POSITION_KEEPING = _BOT_KEEPING_VALUE.label("bot_position_keeping")


def param(column: Any, name: str | None = None) -> Any:
    return bindparam(name or column.name, type_=column.type)


def insert_all(table: Any, dialect: str) -> Any:
    """INSERT of every column, each bound by its name, ``ON CONFLICT DO NOTHING`` (any key)."""
    return (
        upsert_insert(dialect, table)
        .values({column.name: param(column) for column in table.columns})
        .on_conflict_do_nothing()
    )


#: An unregistered bot, like a key already taken, inserts nothing (rowcount 0) rather than
#: failing: the caller's transaction stays usable (repositories/_integrity.py).
#: The order's position, when it names one, must exist (open or closed): checked in the same
#: statement, so a refused submit is told apart afterwards, on the rare path only.
_POSITION_KNOWN = or_(
    param(_O.c.position_id).is_(None),
    exists().where(
        Position.__table__.c.bot_id == bindparam("bot_id"),
        Position.__table__.c.position_id == param(_O.c.position_id),
    ),
    exists().where(
        ClosedPosition.__table__.c.bot_id == bindparam("bot_id"),
        ClosedPosition.__table__.c.position_id == param(_O.c.position_id),
    ),
)
INSERT_ORDER = Prepared(
    lambda d: insert_for_registered_bot(
        _O, {column.name: param(column) for column in _O.columns}, d, also=_POSITION_KNOWN
    ),
    name="orders.insert",
    validated=True,
)
INSERT_FILL = Prepared(lambda d: insert_all(_F, d), name="fills.insert", validated=True)
ORDER_BY_CLIENT_ID = Prepared(
    select(*ORDER_COLUMNS).where(
        _O.c.bot_id == bindparam("bot_id"),
        _O.c.client_order_id == bindparam("client_order_id"),
    ),
    name="orders.by_client_order_id",
)
ORDER_BY_ID = Prepared(
    select(*ORDER_COLUMNS).where(
        _O.c.bot_id == bindparam("bot_id"), _O.c.order_id == bindparam("order_id")
    ),
    name="orders.by_id",
)
ORDER_BY_BROKER_ID = Prepared(
    select(*ORDER_COLUMNS).where(
        _O.c.bot_id == bindparam("bot_id"),
        _O.c.broker_order_id == param(_O.c.broker_order_id),
    ),
    name="orders.by_broker_order_id",
)
BOT_EXISTS = Prepared(
    select(exists().where(Bot.__table__.c.bot_id == bindparam("bot_id"))), name="bots.exists"
)
POSITION_EXISTS = Prepared(
    select(
        exists().where(
            Position.__table__.c.bot_id == bindparam("bot_id"),
            Position.__table__.c.position_id == bindparam("position_id"),
        )
        | exists().where(
            ClosedPosition.__table__.c.bot_id == bindparam("bot_id"),
            ClosedPosition.__table__.c.position_id == bindparam("position_id"),
        )
    ),
    name="positions.exists",
)
#: SQLite's record_fill: the whole order (a replay returns it as is) and its fills. The
#: write lock is the transaction's (BEGIN IMMEDIATE); the row lock is for PostgreSQL readers
#: of this statement (none today: its record_fill is ``RECORD_FILL_POSTGRESQL``).
LOCK_ORDER_WITH_FILLS = Prepared(
    select(*ORDER_COLUMNS, BOT_POSITION_KEEPING, *LOCK_FILL_COLUMNS)
    .select_from(_O.outerjoin(_F, and_(_F.c.bot_id == _O.c.bot_id, _F.c.order_id == _O.c.order_id)))
    .where(_O.c.bot_id == bindparam("bot_id"), _O.c.order_id == bindparam("order_id"))
    .with_for_update(of=_O, key_share=True),
    name="orders.lock_with_fills",
)
FILL_BY_ID = Prepared(
    select(*FILL_COLUMNS).where(
        _F.c.bot_id == bindparam("bot_id"), _F.c.fill_id == bindparam("fill_id")
    ),
    name="fills.by_id",
)
DELETE_FILL = Prepared(
    delete(_F).where(_F.c.bot_id == bindparam("bot_id"), _F.c.fill_id == bindparam("fill_id")),
    name="fills.delete",
)
APPLY_FILL = Prepared(
    update(_O)
    .where(
        _O.c.bot_id == bindparam("bot_id"),
        _O.c.order_id == bindparam("order_id"),
        _O.c.filled_quantity == param(_O.c.filled_quantity, "was_filled_quantity"),
        _O.c.status == param(_O.c.status, "was_status"),
    )
    .values(
        filled_quantity=param(_O.c.filled_quantity),
        filled_avg_price=param(_O.c.filled_avg_price),
        commission=param(_O.c.commission),
        slippage=param(_O.c.slippage),
        slippage_bps=param(_O.c.slippage_bps),
        status=param(_O.c.status),
        filled_at=param(_O.c.filled_at),
        updated_at=param(_O.c.updated_at),
        # the keeping choice, frozen at the first fill (the caller passes the locked row's
        # own value, else the bot's mode read with it): later fills read the order's own
        keep_position=param(_O.c.keep_position),
    )
    .returning(*ORDER_COLUMNS),
    name="orders.apply_fill",
    validated=True,
)


#: The statuses that take a fill, as SQL literals (our own enum values: one fixed string).
_TAKES_A_FILL = sorted(order_states.FILLABLE | order_states.LATE_FILL_STATUSES)
_LATE = sorted(order_states.LATE_FILL_STATUSES)
_ZERO: Any = literal_column("0")
_ONE: Any = literal_column("1")
_TWO: Any = literal_column("2")
#: 10**MONEY_SCALE and its inverse, as exact NUMERIC literals.
_SCALE: Any = literal_column(str(10**MONEY_SCALE))
_UNIT: Any = literal_column(f"0.{'0' * (MONEY_SCALE - 1)}1")
#: The bound a stored amount stays below (NUMERIC(38, 18): 20 integer digits).
_AMOUNT_BOUND: Any = literal_column(str(10**MAX_INTEGER_DIGITS))


def bps_sql(slippage: Any, reference: Any) -> Any:
    """``fill_accounting.slippage_bps`` in NUMERIC: integer division of slippage x 10**8 by
    the (positive) reference, truncated towards zero, then one step away from zero when
    twice the remainder reaches the reference; exact, so it equals the Python figure.
    PostgreSQL only (SQLite's arithmetic is binary floating point). Cast to a double like
    the column, from the exact figure: correctly rounded, as Python's ``float()`` is."""
    scaled = slippage * literal_column(str(BPS_PER_UNIT * 10**BPS_DECIMALS))
    whole = func.div(scaled, reference)
    remainder = scaled - whole * reference
    step = case((func.abs(remainder) * _TWO >= reference, func.sign(scaled)), else_=_ZERO)
    exact = (whole + step) * literal_column(f"0.{'0' * (BPS_DECIMALS - 1)}1")
    return sql_cast(exact, Double)


def _status_literal(status: OrderStatus) -> Any:
    return literal_column(f"'{status.value}'", type_=_O.c.status.type)


def _record_fill_postgresql() -> Executable:
    """PostgreSQL's ``record_fill``: lock the order, insert the fill, update the order, in
    one statement (data-modifying CTEs), returning what the repository needs to decide.

    * ``locked``: the order, ``FOR NO KEY UPDATE``. A writer that waited for the lock gets
      the row as the previous writer committed it (READ COMMITTED re-reads a locked row).
    * ``totals``: the order's fills filled at ``fills_from`` or later (``FILLS_WINDOW``; the
      repository runs the statement again without a window when they do not add up to the
      order's ``filled_quantity``) as of this statement's snapshot, which may predate a
      writer that committed while this one waited for the lock. The write happens only if
      they add up to the locked ``filled_quantity`` (then they are all of them); otherwise
      nothing is written and the repository runs the statement once more, under the lock it
      now holds, with a snapshot that sees every committed fill.
    * ``priced``/``accounted``: the new totals and the order columns that follow from them,
      in NUMERIC arithmetic, which is exact: the VWAP is the exact quotient rounded half-even
      to 18 decimals with integer ``div``/remainder (as ``types.fit`` rounds it in Python),
      the slippage is computed from that rounded VWAP, as ``fill_accounting`` does.
    * ``inserted``: the fill, only if the order takes it (status, no overfill, no fill of
      that id seen, the commission total storable); ``ON CONFLICT DO NOTHING`` for a fill_id
      another transaction inserted since the snapshot.
    * ``applied``: the order update, only if the fill went in, guarded by the locked state.

    The result row is the locked order, the snapshot totals (count, quantity, notional,
    commission, last time), a stored fill of that fill_id, the inserted fill_id and the
    updated order; the repository tells every refusal apart from it without another read.
    """
    bot: Any = bindparam("bot_id")
    order: Any = bindparam("order_id")
    quantity, price = param(_F.c.quantity), param(_F.c.price)
    commission, filled_at = param(_F.c.commission), param(_F.c.filled_at)
    # The window of fills read (see FILLS_WINDOW): a literal to psycopg2, so a partitioned
    # fills table is pruned when the statement is planned, not scanned partition by partition.
    fills_from: Any = bindparam("fills_from", type_=_F.c.filled_at.type)
    locked = (
        select(*ORDER_COLUMNS)
        .where(_O.c.bot_id == bot, _O.c.order_id == order)
        .with_for_update(of=_O, key_share=True)
        .cte("locked")
    )
    totals = (
        select(
            func.coalesce(func.sum(_F.c.quantity), _ZERO).label("quantity"),
            func.coalesce(func.sum(_F.c.quantity * _F.c.price), _ZERO).label("notional"),
            func.coalesce(func.sum(_F.c.commission), _ZERO).label("commission"),
            func.max(_F.c.filled_at).label("last_filled_at"),
        )
        .where(_F.c.bot_id == bot, _F.c.order_id == order, _F.c.filled_at >= fills_from)
        .cte("totals")
    )
    stored = (
        select(*FILL_COLUMNS)
        .where(
            _F.c.bot_id == bot, _F.c.fill_id == bindparam("fill_id"), _F.c.filled_at >= fills_from
        )
        .cte("stored")
    )
    new_quantity = totals.c.quantity + quantity
    new_notional = totals.c.notional + quantity * price
    scaled = new_notional * _SCALE
    priced = (
        select(
            locked,
            new_quantity.label("new_quantity"),
            (totals.c.commission + commission).label("new_commission"),
            func.greatest(totals.c.last_filled_at, filled_at).label("new_filled_at"),
            func.div(scaled, new_quantity).label("whole"),
            (scaled - func.div(scaled, new_quantity) * new_quantity).label("remainder"),
        )
        .select_from(locked.join(totals, true()))
        .where(
            totals.c.quantity == locked.c.filled_quantity,
            locked.c.status.in_([_status_literal(s) for s in _TAKES_A_FILL]),
            locked.c.filled_quantity + quantity <= locked.c.quantity,
            totals.c.commission + commission < _AMOUNT_BOUND,
            ~exists(select(stored.c.fill_id)),
        )
        .cte("priced")
    )
    twice = priced.c.remainder * _TWO
    rounds_up = or_(
        twice > priced.c.new_quantity,
        (twice == priced.c.new_quantity) & (func.mod(priced.c.whole, _TWO) == _ONE),
    )
    average = (priced.c.whole + case((rounds_up, _ONE), else_=_ZERO)) * _UNIT
    accounted = select(
        priced,
        average.label("average"),
        func.coalesce(priced.c.reference_price, priced.c.limit_price, priced.c.stop_price).label(
            "reference"
        ),
    ).cte("accounted")
    slip = case(
        (
            accounted.c.side == literal_column(f"'{OrderSide.BUY.value}'"),
            accounted.c.average - accounted.c.reference,
        ),
        else_=accounted.c.reference - accounted.c.average,
    )
    complete = accounted.c.new_quantity == accounted.c.quantity
    inserted = (
        upsert_insert("postgresql", _F)
        .from_select(
            list(FILL_FIELDS),
            select(
                bot,
                bindparam("fill_id"),
                order,
                accounted.c.ticker,
                accounted.c.side,
                quantity,
                price,
                filled_at,
                param(_F.c.liquidity),
                commission,
                accounted.c.position_id,
            ),
        )
        .on_conflict_do_nothing()
        .returning(_F.c.bot_id, _F.c.order_id, _F.c.fill_id)
        .cte("inserted")
    )
    applied = (
        update(_O)
        .where(
            # the bot's own bind as well as the joins: every statement constrains bot_id to
            # a bound value (tests/repositories/test_bot_id_predicates.py), which also lets a
            # sharded PostgreSQL (Citus) route this CTE to the bot's node
            _O.c.bot_id == bot,
            _O.c.bot_id == inserted.c.bot_id,
            _O.c.order_id == inserted.c.order_id,
            _O.c.bot_id == accounted.c.bot_id,
            _O.c.order_id == accounted.c.order_id,
            _O.c.filled_quantity == accounted.c.filled_quantity,
            _O.c.status == accounted.c.status,
        )
        .values(
            filled_quantity=accounted.c.new_quantity,
            filled_avg_price=accounted.c.average,
            commission=accounted.c.new_commission,
            slippage=case((accounted.c.reference.is_(None), null()), else_=slip),
            slippage_bps=case(
                (accounted.c.reference.is_(None), null()),
                else_=bps_sql(slip, accounted.c.reference),
            ),
            status=case(
                (accounted.c.status.in_([_status_literal(s) for s in _LATE]), accounted.c.status),
                (complete, _status_literal(OrderStatus.FILLED)),
                else_=_status_literal(OrderStatus.PARTIALLY_FILLED),
            ),
            filled_at=case((complete, accounted.c.new_filled_at), else_=null()),
            updated_at=param(_O.c.updated_at),
            # the keeping choice, frozen at the first fill: the order's own, else the bot's
            # mode as this statement reads it (the same snapshot as the row's last column)
            keep_position=func.coalesce(
                accounted.c.keep_position,
                literal_column(f"'{PositionKeeping.NETTING.value}'") == _BOT_KEEPING_VALUE,
            ),
        )
        .returning(*ORDER_COLUMNS)
        .cte("applied")
    )
    return select(
        *locked.c,
        totals.c.quantity,
        totals.c.notional,
        totals.c.commission,
        totals.c.last_filled_at,
        *stored.c,
        inserted.c.fill_id,
        *applied.c,
        BOT_POSITION_KEEPING,
    ).select_from(
        locked.join(totals, true())
        .outerjoin(stored, true())
        .outerjoin(inserted, true())
        .outerjoin(applied, true())
    )


#: How far before the fill (or now, if earlier) ``RECORD_FILL_POSTGRESQL`` looks for the
#: order's other fills and a stored fill of the same id. With ``fills`` partitioned by month
#: (revision 0016) it reads the two or three partitions that can hold them instead of every
#: partition of the table's history: planning the statement over 41 partitions took 8-10 ms a
#: fill, the whole unit of work twice as long (docs/performance.md, At scale). An order with
#: fills before the window (a long-lived order) is read again without one; a replay from
#: before it is found by a read of its own.
FILLS_WINDOW = dt.timedelta(days=35)
#: ``fills_from`` without a window: before any fill.
ALL_FILLS = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)

RECORD_FILL_POSTGRESQL = Prepared(
    _record_fill_postgresql(), name="orders.record_fill_postgresql", validated=True
)
#: Where each part of a ``RECORD_FILL_POSTGRESQL`` row starts.
RECORD_FILL_TOTALS = len(ORDER_COLUMNS)
RECORD_FILL_STORED = RECORD_FILL_TOTALS + 4
RECORD_FILL_INSERTED = RECORD_FILL_STORED + len(FILL_COLUMNS)
RECORD_FILL_APPLIED = RECORD_FILL_INSERTED + 1
RECORD_FILL_KEEPING = RECORD_FILL_APPLIED + len(ORDER_COLUMNS)


_ACK = OrderStatus.ACCEPTED


def broker_id_free() -> ColumnElement[bool]:
    """The guard of every write of a broker id: the order has none or this one, and no other
    order of the bot has it. A refusal is then decided by a read, never by the unique index
    failing the statement (on PostgreSQL that would abort the unit of work); the index only
    catches two writers racing for one id. With no broker id bound (NULL) it always holds."""
    other = _O.alias("other")
    broker_id = param(_O.c.broker_order_id)
    return and_(
        or_(
            broker_id.is_(None),
            _O.c.broker_order_id.is_(None),
            _O.c.broker_order_id == broker_id,
        ),
        ~exists().where(
            other.c.bot_id == bindparam("bot_id"),
            other.c.broker_order_id == broker_id,
            other.c.order_id != bindparam("order_id"),
        ),
    )


def _acknowledge() -> Prepared:
    """The broker took the order and named it: record its id and, from pending or new, move
    to accepted (``accepted_at``). An order already past accepted keeps its status: the
    acknowledgement arrived after a fill or a cancel, and only the id is news. A redelivered
    acknowledgement matches no row (the order has the id and is past pending/new), so it
    writes nothing."""
    before: list[Any] = [
        literal_column(f"'{s.value}'") for s in sorted(order_states.sources_of(_ACK))
    ]
    moves = _O.c.status.in_(before)
    statement = (
        update(_O)
        .where(
            _O.c.bot_id == bindparam("bot_id"),
            _O.c.order_id == bindparam("order_id"),
            or_(_O.c.broker_order_id.is_(None), moves),
            broker_id_free(),
        )
        .values(
            broker_order_id=param(_O.c.broker_order_id),
            status=case((moves, _status_literal(_ACK)), else_=_O.c.status),
            accepted_at=case(
                (moves, bindparam("at", type_=_O.c.accepted_at.type)), else_=_O.c.accepted_at
            ),
            updated_at=param(_O.c.updated_at),
        )
        .returning(*ORDER_COLUMNS)
    )
    return Prepared(statement, name="orders.acknowledge", validated=True)


ACKNOWLEDGE = _acknowledge()
#: ``set_status`` of the status an order already has, with a broker id it did not have yet.
RECORD_BROKER_ID = Prepared(
    update(_O)
    .where(
        _O.c.bot_id == bindparam("bot_id"),
        _O.c.order_id == bindparam("order_id"),
        _O.c.broker_order_id.is_(None),
        broker_id_free(),
    )
    .values(broker_order_id=param(_O.c.broker_order_id), updated_at=param(_O.c.updated_at))
    .returning(*ORDER_COLUMNS),
    name="orders.record_broker_id",
    validated=True,
)


def set_status_statement(target: OrderStatus) -> Prepared:
    """UPDATE to ``target``, guarded by the statuses it may come from and by
    ``broker_id_free``; returns the order."""
    values: dict[str, Any] = {
        "status": param(_O.c.status),
        "updated_at": param(_O.c.updated_at),
        "broker_order_id": func.coalesce(param(_O.c.broker_order_id), _O.c.broker_order_id),
    }
    column = STATUS_TIMESTAMP.get(target)
    if column is not None:
        values[column] = bindparam("at", type_=_O.c[column].type)
    if target is OrderStatus.REJECTED:
        values["reject_reason"] = param(_O.c.reject_reason)
    sources = sorted(order_states.sources_of(target))
    statement = (
        update(_O)
        .where(
            _O.c.bot_id == bindparam("bot_id"),
            _O.c.order_id == bindparam("order_id"),
            # Our own enum values as SQL literals: the statement stays one fixed string.
            _O.c.status.in_([literal_column(f"'{source.value}'") for source in sources]),
            broker_id_free(),
        )
        .values(values)
        .returning(*ORDER_COLUMNS)
    )
    return Prepared(statement, name=f"orders.set_status_{target.value}", validated=True)


SET_STATUS = {
    status: set_status_statement(status)
    for status in OrderStatus
    if status not in order_states.FILL_DRIVEN and order_states.sources_of(status)
}


def id_list_filter(column: Any, dialect: str, name: str) -> ColumnElement[bool]:
    """``column IN <one bound list>``: a JSON array on SQLite, an array on PostgreSQL.

    One parameter whatever the list's length: no statement per chunk, no variable limit.
    On PostgreSQL the list travels as one array *literal* (see ``pg_array``).
    """
    if dialect == "postgresql":
        ids = sql_cast(bindparam(name, type_=String), ARRAY(String))
        return cast(ColumnElement[bool], column == any_(ids))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(values.c.value)))


def id_list_value(ids: Sequence[str], dialect: str) -> str:
    return pg_array(ids) if dialect == "postgresql" else json.dumps(list(ids))


def pg_array(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal (``'{"a","b",NULL}'``) for strings, Decimals, datetimes.

    psycopg2 sends a Python list as ``ARRAY[v1, v2, ...]``: one parse-tree node per element,
    which costs PostgreSQL about 14 microseconds each for a 50,000-element list. A single
    literal is parsed by ``array_in`` in C. Every element is double-quoted (backslash and
    double quote escaped), so no value can break out of its element.
    """
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
            continue
        text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
        parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


#: The bulk import locks many orders at once, so each row starts with its order_id; it
#: ends with what position keeping needs (the order's strategy and choice, the bot's mode).
INGEST_ORDER_COLUMNS = [
    _O.c.order_id,
    *LOCK_ORDER_COLUMNS,
    _O.c.strategy,
    _O.c.keep_position,
    BOT_POSITION_KEEPING,
]


def _lock_orders_by_id(columns: Sequence[Any], name: str) -> Prepared:
    """The bot's orders of a list of ids, locked (in order_id order: no deadlock)."""
    return Prepared(
        lambda d: (
            select(*columns)
            .where(_O.c.bot_id == bindparam("bot_id"), id_list_filter(_O.c.order_id, d, "ids"))
            .order_by(_O.c.order_id)
            .with_for_update(of=_O, key_share=True)
        ),
        name=name,
    )


INGEST_LOCK_ORDERS = _lock_orders_by_id(INGEST_ORDER_COLUMNS, "orders.ingest_lock")
#: ``set_statuses``: the whole rows of the group's orders.
GROUP_LOCK_ORDERS = _lock_orders_by_id(ORDER_COLUMNS, "orders.group_lock")
#: ``record_fills``: the same, and the bot's position keeping.
FILL_GROUP_LOCK_ORDERS = _lock_orders_by_id(
    [*ORDER_COLUMNS, BOT_POSITION_KEEPING], "orders.fill_group_lock"
)
INGEST_ORDERS_BY_CLIENT_ID = Prepared(
    lambda d: select(_O.c.client_order_id, _O.c.order_id).where(
        _O.c.bot_id == bindparam("bot_id"), id_list_filter(_O.c.client_order_id, d, "ids")
    ),
    name="orders.ingest_client_ids",
)
#: The orders holding any of ``ids`` as their broker id (``set_statuses``: one read for a
#: group's acknowledgements, whatever their number).
ORDERS_BY_BROKER_IDS = Prepared(
    lambda d: select(_O.c.broker_order_id, _O.c.order_id).where(
        _O.c.bot_id == bindparam("bot_id"), id_list_filter(_O.c.broker_order_id, d, "ids")
    ),
    name="orders.by_broker_order_ids",
)
INGEST_EXISTING_FILLS = Prepared(
    lambda d: select(_F.c.order_id, *LOCK_FILL_COLUMNS).where(
        _F.c.bot_id == bindparam("bot_id"), id_list_filter(_F.c.order_id, d, "ids")
    ),
    name="fills.ingest_existing",
)
INGEST_FILLS_BY_ID = Prepared(
    lambda d: select(_F.c.fill_id, _F.c.order_id).where(
        _F.c.bot_id == bindparam("bot_id"), id_list_filter(_F.c.fill_id, d, "ids")
    ),
    name="fills.ingest_by_id",
)
#: The fill columns ``ingest_fills`` writes.
INGEST_FILL_COLUMNS = (
    "bot_id",
    "fill_id",
    "order_id",
    "ticker",
    "side",
    "quantity",
    "price",
    "filled_at",
    "liquidity",
    "commission",
    "position_id",
)
INGEST_INSERT_FILLS = Prepared(
    lambda d: (
        upsert_insert(d, _F)
        .values({name: param(_F.c[name]) for name in INGEST_FILL_COLUMNS})
        .on_conflict_do_nothing()
    ),
    name="fills.ingest_insert",
)
INGEST_ORDER_UPDATE_FIELDS = (
    "filled_quantity",
    "filled_avg_price",
    "commission",
    "slippage",
    "slippage_bps",
    "status",
    "filled_at",
    "updated_at",
    # the keeping choice, frozen at the first fill (the locked row's own, else the bot's)
    "keep_position",
)
INGEST_UPDATE_ORDERS_SQLITE = Prepared(
    update(_O)
    .where(_O.c.bot_id == bindparam("key_bot_id"), _O.c.order_id == bindparam("key_order_id"))
    .values({name: param(_O.c[name]) for name in INGEST_ORDER_UPDATE_FIELDS}),
    name="orders.ingest_update",
)


def _ingest_update_orders_postgresql() -> Any:
    """One UPDATE for all affected orders, its rows unnested from one array per column.

    Each array is bound as one text literal and cast (see ``pg_array``).
    """
    money_array = ARRAY(Numeric(38, 18))
    array_types: dict[str, ARRAY[Any]] = {
        "order_id": ARRAY(String),
        "filled_quantity": money_array,
        "filled_avg_price": money_array,
        "commission": money_array,
        "slippage": money_array,
        "slippage_bps": ARRAY(Double),
        "status": ARRAY(String),
        "filled_at": ARRAY(DateTime(timezone=True)),
        "keep_position": ARRAY(Boolean),
    }
    arrays = (
        sql_cast(bindparam(f"v_{name}", type_=String), array_type)
        for name, array_type in array_types.items()
    )
    rows = func.unnest(*arrays).table_valued(*array_types).render_derived(name="v")
    return (
        update(_O)
        .where(_O.c.bot_id == bindparam("key_bot_id"), _O.c.order_id == rows.c.order_id)
        .values(
            {name: rows.c[name] for name in array_types if name != "order_id"}
            | {"updated_at": bindparam("v_updated_at", type_=_O.c.updated_at.type)}
        )
    )


INGEST_UPDATE_ORDERS_POSTGRESQL = _ingest_update_orders_postgresql()


def pg_text(value: Any) -> Any:
    """A validated order value as ``pg_array`` writes it: JSON documents as JSON text,
    flags as ``true`` / ``false``; the rest (text, enums, Decimals, datetimes) as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return encode_json(value)
    return value


def _insert_orders_postgresql() -> Any:
    """``submit_many``'s write: many orders in one ``INSERT ... SELECT FROM unnest(...)``,
    under ``INSERT_ORDER``'s own guards (a registered bot, a known position, ``ON CONFLICT
    DO NOTHING``), each column one array literal (see ``pg_array``)."""
    names = [name for name in ORDER_FIELDS if name != "bot_id"]
    array_types = {name: ARRAY(cast_type(_O.c[name].type)) for name in names}
    rows = (
        func.unnest(
            *(
                sql_cast(bindparam(f"v_{name}", type_=String), array_type)
                for name, array_type in array_types.items()
            )
        )
        .table_valued(*names)
        .render_derived(name="v")
    )
    positions, closed = Position.__table__.c, ClosedPosition.__table__.c
    known_position = or_(
        rows.c.position_id.is_(None),
        exists().where(
            positions.bot_id == bindparam("bot_id"), positions.position_id == rows.c.position_id
        ),
        exists().where(
            closed.bot_id == bindparam("bot_id"), closed.position_id == rows.c.position_id
        ),
    )
    values: dict[str, ColumnElement[Any]] = {"bot_id": bindparam("bot_id", type_=String)}
    values |= {name: rows.c[name] for name in names}
    return insert_for_registered_bot(_O, values, "postgresql", also=known_position)


INSERT_ORDERS_POSTGRESQL = _insert_orders_postgresql()


#: What a status change writes (``set_status_statement``'s SET list, every status's
#: timestamp column included): ``set_statuses`` writes each changed order's final values.
STATUS_UPDATE_FIELDS = (
    "status",
    "updated_at",
    "broker_order_id",
    *STATUS_TIMESTAMP.values(),
    "reject_reason",
)
#: ``set_statuses`` on SQLite, run with ``executemany``: each order guarded by the status
#: it was read with under the transaction's lock (a miss means a concurrent change).
STATUS_UPDATE_SQLITE = Prepared(
    update(_O)
    .where(
        _O.c.bot_id == bindparam("key_bot_id"),
        _O.c.order_id == bindparam("key_order_id"),
        _O.c.status == bindparam("key_status", type_=_O.c.status.type),
    )
    .values({name: param(_O.c[name]) for name in STATUS_UPDATE_FIELDS}),
    name="orders.status_update",
)


def _status_update_postgresql() -> Any:
    """``set_statuses`` on PostgreSQL: one UPDATE, its rows unnested from arrays."""
    array_types: dict[str, Any] = {"order_id": ARRAY(String), "key_status": ARRAY(String)}
    array_types |= {name: ARRAY(cast_type(_O.c[name].type)) for name in STATUS_UPDATE_FIELDS}
    arrays = (
        sql_cast(bindparam(f"v_{name}", type_=String), array_type)
        for name, array_type in array_types.items()
    )
    rows = func.unnest(*arrays).table_valued(*array_types).render_derived(name="v")
    return (
        update(_O)
        .where(
            _O.c.bot_id == bindparam("key_bot_id"),
            _O.c.order_id == rows.c.order_id,
            _O.c.status == rows.c.key_status,
        )
        .values({name: rows.c[name] for name in STATUS_UPDATE_FIELDS})
    )


STATUS_UPDATE_POSTGRESQL = _status_update_postgresql()
