"""Column types: the storage side of the domain's money, time, float and enum rules.

Each type applies a rule of ``tradestore.domain`` where a value crosses into the database, so
code writing through the ORM directly cannot store what the repositories would refuse, and
reads back the value it wrote on both backends.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Double, Numeric, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradestore.domain.enums import common_value
from tradestore.domain.money import MONEY_PRECISION, MONEY_SCALE, check_storable, to_decimal
from tradestore.domain.timestamps import ensure_aware


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts: NUMERIC(38, 18) on PostgreSQL, a double on SQLite.

    Binding refuses what the backend would round (the repositories check first and name the
    field; this is the last line for code that writes through the ORM directly). Reading from
    SQLite turns the double back into the shortest decimal that maps to it, which is the
    original value for every amount ``check_storable`` accepts (``survives_double``).
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # asdecimal=False: read the raw double and convert it ourselves (see class doc).
            return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=False))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = check_storable("amount", to_decimal("amount", value), dialect.name)
        if dialect.name == "sqlite":
            return float(amount)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return from_db_number(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def from_db_number(value: Any) -> Decimal | None:
    """Convert a money value read through raw SQL (an aggregate, a view) like ``Money`` does."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware instants: ``timestamptz`` on PostgreSQL, ISO-8601 UTC text on SQLite.

    Everything is normalised to UTC before it is stored, so text comparison on SQLite orders
    instants correctly and values read back are always aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        aware = ensure_aware("datetime", value)
        if dialect.name == "sqlite":
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        instant: dt.datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=dt.UTC)
        return instant.astimezone(dt.UTC)

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime


def sqlite_time(value: dt.datetime) -> str:
    """UTCDateTime's SQLite storage text (SQLAlchemy's DATETIME format, always 6 decimals),
    for values handed to the driver directly (executemany of driver-ready rows).

    A test compares it with what the column type itself binds.
    """
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:26]


class Real(TypeDecorator[float]):
    """A double that keeps NaN and infinities on both backends.

    PostgreSQL's float8 stores them natively. SQLite turns a bound NaN into NULL, so NaN is
    stored as the text ``'NaN'`` (a REAL-affinity column keeps text that is not a number) and
    read back as ``float('nan')``. Rewards and losses of a diverging RL run are data, not errors.
    """

    impl = Double()
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # Not chained to the impl's processor, which would turn "NaN" back into a float.
        def process(value: Any) -> Any:
            if value is None:
                return None
            number = float(value)
            return "NaN" if math.isnan(number) else number

        return process

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else float(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        if value is None:
            return None
        return float(value)

    @property
    def python_type(self) -> type[float]:
        return float


#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
#: ``None`` is stored as SQL NULL (not the JSON document ``null``) so ``IS NULL`` finds it.
#: Engines encode them with :func:`encode_json`.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

#: A JSON string (skipped whole) or a number in exponent notation with a positive exponent:
#: the only form in which ``json.dumps`` writes a float that has no fraction digits.
_STRING_OR_BIG_FLOAT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?[0-9]+(?:\.[0-9]+)?e\+[0-9]+)')


def _positional(match: re.Match[str]) -> str:
    number = match.group(1)
    if number is None:
        return match.group(0)
    return format(Decimal(number), "f") + ".0"


def encode_json(value: Any) -> str:
    """The JSON text stored for a document: ``json.dumps``, with floats kept floats.

    ``json.dumps`` writes 1e16 as ``1e+16``. JSONB keeps numbers as NUMERIC, which prints that
    back as ``10000000000000000``, and the document then reads back with an int where a float
    was written (SQLite keeps the text as it is). Written positionally with a ``.0``, the float
    survives on both backends, exactly: the digits are those of its shortest repr. Every other
    number, and every document stored before, is read as before.
    """
    encoded = json.dumps(value)
    if "e+" not in encoded:
        return encoded
    return _STRING_OR_BIG_FLOAT.sub(_positional, encoded)


def enum_column(enum_cls: type[enum.StrEnum], name: str) -> SAEnum:
    """A portable enum column: VARCHAR plus a named CHECK constraint on both backends.

    Native PostgreSQL ENUM types are avoided because adding a value needs its own
    non-transactional migration; a CHECK constraint is altered like any other.
    """
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class OpenChoice(TypeDecorator[str]):
    """Free text whose common values are an enumeration: VARCHAR(length), no CHECK constraint.

    The column takes any text (the repositories bound its length and refuse NUL); reading
    gives back the enum member when the text is one of the common values, so code comparing
    with ``ExitReason.STOP_LOSS`` keeps working, and the text itself otherwise.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[enum.StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else common_value(self.enum_cls, value)
