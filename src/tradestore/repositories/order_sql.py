"""The SQL of orders and fills: Core statements, compiled once (``tradestore.prepared``).

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
    DateTime,
    Numeric,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from tradestore import orders_state
from tradestore.db.executor import Prepared
from tradestore.dialects import upsert_insert
from tradestore.models import Bot, ClosedPosition, Fill, Order, Position
from tradestore.repositories._integrity import insert_for_registered_bot
from tradestore.repositories.order_records import FillRecord, OrderRecord
from tradestore.types import OrderStatus

#: The timestamp column each status sets when reached through ``set_status``.
STATUS_TIMESTAMP = {
    OrderStatus.ACCEPTED: "accepted_at",
    OrderStatus.CANCELLED: "cancelled_at",
    OrderStatus.REJECTED: "rejected_at",
    OrderStatus.EXPIRED: "expired_at",
}

_O = cast(Table, Order.__table__)
_F = cast(Table, Fill.__table__)
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
INSERT_ORDER = Prepared(
    lambda d: insert_for_registered_bot(
        _O, {column.name: param(column) for column in _O.columns}, d
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
LOCK_ORDER_WITH_FILLS = Prepared(
    select(*LOCK_ORDER_COLUMNS, *LOCK_FILL_COLUMNS)
    .select_from(_O.outerjoin(_F, and_(_F.c.bot_id == _O.c.bot_id, _F.c.order_id == _O.c.order_id)))
    .where(_O.c.bot_id == bindparam("bot_id"), _O.c.order_id == bindparam("order_id"))
    .with_for_update(of=_O, key_share=True),
    name="orders.lock_with_fills",
)
FILLS_OF_ORDER = Prepared(
    select(*LOCK_FILL_COLUMNS).where(
        _F.c.bot_id == bindparam("bot_id"), _F.c.order_id == bindparam("order_id")
    ),
    name="fills.of_order",
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
        status=param(_O.c.status),
        filled_at=param(_O.c.filled_at),
        updated_at=param(_O.c.updated_at),
    )
    .returning(*ORDER_COLUMNS),
    name="orders.apply_fill",
    validated=True,
)


def set_status_statement(target: OrderStatus) -> Prepared:
    """UPDATE to ``target``, guarded by the statuses it may come from; returns the order."""
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
    sources = sorted(orders_state.sources_of(target))
    statement = (
        update(_O)
        .where(
            _O.c.bot_id == bindparam("bot_id"),
            _O.c.order_id == bindparam("order_id"),
            # Our own enum values as SQL literals: the statement stays one fixed string.
            _O.c.status.in_([literal_column(f"'{source.value}'") for source in sources]),
        )
        .values(values)
        .returning(*ORDER_COLUMNS)
    )
    return Prepared(statement, name=f"orders.set_status_{target.value}", validated=True)


SET_STATUS = {
    status: set_status_statement(status)
    for status in OrderStatus
    if status not in orders_state.FILL_DRIVEN and orders_state.sources_of(status)
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


#: The bulk import locks many orders at once, so each row starts with its order_id.
INGEST_ORDER_COLUMNS = [_O.c.order_id, *LOCK_ORDER_COLUMNS]
INGEST_LOCK_ORDERS = Prepared(
    lambda d: (
        select(*INGEST_ORDER_COLUMNS)
        .where(_O.c.bot_id == bindparam("bot_id"), id_list_filter(_O.c.order_id, d, "ids"))
        .order_by(_O.c.order_id)
        .with_for_update(of=_O, key_share=True)
    ),
    name="orders.ingest_lock",
)
INGEST_ORDERS_BY_CLIENT_ID = Prepared(
    lambda d: select(_O.c.client_order_id, _O.c.order_id).where(
        _O.c.bot_id == bindparam("bot_id"), id_list_filter(_O.c.client_order_id, d, "ids")
    ),
    name="orders.ingest_client_ids",
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
    "status",
    "filled_at",
    "updated_at",
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
        "status": ARRAY(String),
        "filled_at": ARRAY(DateTime(timezone=True)),
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
