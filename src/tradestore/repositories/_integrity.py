"""Classify driver errors, and keep a refused call from breaking the rest of the unit of work.

The repositories validate first; the database constraints are the second line. When one of
them fires anyway (a bot that was never registered, a key written concurrently), the caller
should see ``BotNotFound`` or a ``ConflictError`` naming the row, not a driver exception.

A refusal must also undo only the call that was refused: a bot that catches the error and
carries on expects the block's other writes to commit, on both backends. PostgreSQL aborts the
whole transaction on any failed statement, so the rule for every repository method is:

* a refusal the caller is expected to meet is decided without a failing statement
  (``ON CONFLICT DO NOTHING`` then read the winner, an insert guarded by ``EXISTS``);
* a method that runs a statement the database may still refuse, and is off the hot path,
  runs it in the executor's savepoint (``atomic``), which undoes it alone on both backends;
* anything else the database refuses is noted by the executor that ran it, and the unit
  of work then ends with ``TransactionAborted`` instead of committing what is left.

``error_net`` puts ``translated`` on every public method of a repository class (and of
``Analytics``), so no method, including one added later, can let a driver error out;
tests/reliability/test_error_net.py provokes one in the statements of every method.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double, Float, Numeric, String, Table, Text, exists, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import JSON, TypeDecorator, TypeEngine

from tradestore.db.dialects import upsert_insert
from tradestore.models.bots import Bot


def insert_for_registered_bot(
    table: Table,
    values: dict[str, ColumnElement[object]],
    dialect: str,
    *,
    also: ColumnElement[bool] | None = None,
) -> Insert:
    """``INSERT ... SELECT <values> WHERE EXISTS (<the bot>) ON CONFLICT DO NOTHING``.

    The two refusals a bot may meet on its first write, an unregistered bot and a key already
    taken, then insert nothing instead of failing the statement: the transaction stays
    usable, and the caller learns which one it was from a read (``rowcount`` 0). The bot is
    ``values["bot_id"]``; the EXISTS is a primary-key probe, no extra round trip. PostgreSQL
    types a bare parameter in a SELECT list as text, so each value is cast to its column's
    type there (unbounded, so an over-long value still meets the column's own check).
    ``also`` is a further condition of the same kind (a row the new one refers to).
    """
    columns = [
        sql_cast(value, cast_type(table.c[name].type)) if dialect == "postgresql" else value
        for name, value in values.items()
    ]
    bots = Bot.__table__
    guarded = select(*columns).where(exists().where(bots.c.bot_id == values["bot_id"]))
    if also is not None:
        guarded = guarded.where(also)
    insert = upsert_insert(dialect, table).from_select(list(values), guarded)
    return insert.on_conflict_do_nothing()  # type: ignore[no-any-return]


def cast_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(type_, JSON):
        return JSONB()
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, String):
        return Text()
    if isinstance(type_, Float):
        return Double()
    if isinstance(type_, Numeric):
        return Numeric()
    return type_
