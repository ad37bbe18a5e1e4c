"""The declarative base every tradestore model shares.

One ``MetaData`` with a naming convention, so every constraint has a predictable name that
migrations can address on both backends (SQLite batch mode needs names to drop constraints).
Indexes keep the names the source schema gave them (docs/lineage.md) and are declared
explicitly in each model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Integer, MetaData, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tradestore.db.types import JSONDocument, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Surrogate keys: BIGINT on PostgreSQL; INTEGER on SQLite so the column aliases the rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }


class Timestamps:
    """created_at / updated_at: tradestore writes both from the Database's clock on every
    insert and update, so a simulated clock reaches them too; the server default only stamps
    rows written by other tools (changing it would need a migration)."""

    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), server_default=func.current_timestamp()
    )


def table_of(model: type[Base]) -> Table:
    """``model.__table__`` as the ``Table`` it is (the ORM types it as any ``FromClause``), for
    the Core statements repositories build from the models."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
