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
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import repeat
from operator import attrgetter, floordiv, is_, sub
from typing import Any, ClassVar, Final, cast

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Double, Float, Integer, Numeric, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradestore.domain.enums import common_value
from tradestore.domain.money import MONEY_PRECISION, MONEY_SCALE, check_storable, to_decimal
from tradestore.domain.timestamps import ensure_aware
from tradestore.errors import SchemaError

# --- storage encodings ------------------------------------------------------------------------
#
# The bulk paths (``tradestore.db.bulk``) hand the driver values it stores as they are, without
# a bind processor call per value. These are those values, one encoder per type and backend,
# for values a repository has validated already (canonical Decimals, aware datetimes, floats):
# what the column type itself would bind, computed column by column. tests/test_types.py holds
# each to the type's own bind processor.

#: A column of validated values -> the driver values stored for them (None stays None).
ColumnEncoder = Callable[[Sequence[Any]], Sequence[Any]]

_NONE_TYPE = type(None)
_UTC: Final = dt.UTC
_ZERO_OFFSET: Final = dt.timedelta(0)
_TZINFO = attrgetter("tzinfo")
#: PostgreSQL's binary timestamptz: microseconds since 2000-01-01 00:00 UTC.
PG_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)


def has_none(column: Sequence[Any]) -> bool:
    """Whether ``column`` holds a None, by identity in a C loop: ``None in column`` compares
    with ``==``, and a Decimal's comparison with None costs an ABC check per value."""
    return any(map(is_, column, repeat(None)))


def sqlite_time(value: dt.datetime) -> str:
    """``UTCDateTime``'s SQLite storage text: SQLAlchemy's DATETIME format, in UTC, always
    six decimals (``'2026-01-05 14:30:00.000000'``), so text order is time order."""
    if value.tzinfo is not _UTC:
        value = value.astimezone(_UTC)
    return value.isoformat(" ", "microseconds")[:26]


def sqlite_times(column: Sequence[dt.datetime | None]) -> list[str | None]:
    """``sqlite_time`` of a column; aware UTC datetimes without None take a C loop."""
    try:
        utc = set(map(_TZINFO, column)) <= {_UTC}
    except AttributeError:  # a None
        utc = False
    if utc:
        times = cast(Sequence[dt.datetime], column)
        return [
            text[:26]
            for text in map(dt.datetime.isoformat, times, repeat(" "), repeat("microseconds"))
        ]
    return [None if value is None else sqlite_time(value) for value in column]


def sqlite_reals(column: Sequence[float | None]) -> Sequence[Any]:
    """``Real``'s SQLite storage: the floats, with NaN as the text 'NaN' (see ``Real``)."""
    try:  # a C loop: a NaN poisons the sum (so do +inf and -inf together: then the scan)
        clean = not math.isnan(sum(column))  # type: ignore[arg-type]
    except TypeError:  # a None
        clean = False
    if clean or not any(value != value for value in column):
        return column
    return ["NaN" if value != value else value for value in column]


def pg_doubles(column: Sequence[float | None]) -> Sequence[Any]:
    """``Real``'s binary COPY form: the floats, every NaN as PostgreSQL's own NaN.

    A NaN has many bit patterns (a sign, a payload: numpy and struct keep them); the server
    stores the one NaN a bound value becomes, so COPY writes that one too and a row reads
    back the same bytes whichever path wrote it.
    """
    try:  # a C loop, as in sqlite_reals
        clean = not math.isnan(sum(column))  # type: ignore[arg-type]
    except TypeError:
        clean = False
    if clean or not any(value != value for value in column):
        return column
    return [math.nan if value != value else value for value in column]


def sqlite_amounts(column: Sequence[Decimal | None]) -> list[float | None]:
    """``Money``'s SQLite storage: the double (exact for every amount ``check_storable`` takes)."""
    try:
        return list(map(float, column))  # type: ignore[arg-type]
    except TypeError:  # a None
        return [None if value is None else float(value) for value in column]


def plain_text(column: Sequence[Any]) -> Sequence[Any]:
    """Text columns (String, enums, ``OpenChoice``) store the string: an enum member's value."""
    if set(map(type, column)) <= {str, _NONE_TYPE}:
        return column
    return [None if value is None else str(value) for value in column]


def pg_microseconds(column: Sequence[dt.datetime | None]) -> list[int | None]:
    """Aware datetimes as PostgreSQL's binary timestamptz: microseconds since ``PG_EPOCH``."""
    if has_none(column):
        return [None if v is None else (v - PG_EPOCH) // _MICROSECOND for v in column]
    return list(map(floordiv, map(sub, column, repeat(PG_EPOCH)), repeat(_MICROSECOND)))


@dataclass(frozen=True, slots=True)
class Storage:
    """How a column type's values are stored, for the bulk paths.

    ``sqlite``: the column of driver values SQLite stores (None: the values as they are).
    ``binary``: the ``struct`` code of PostgreSQL's binary COPY field (big-endian, fixed
    width), and ``to_binary`` the conversion before packing; None: no binary form here (such
    a column goes through text COPY). ``text``: the PostgreSQL input text of one value, for
    text/CSV COPY (None: ``str``).
    """

    sqlite: ColumnEncoder | None = None
    binary: str | None = None
    to_binary: ColumnEncoder | None = None
    text: Callable[[Any], str] | None = None

    @property
    def binary_width(self) -> int:
        assert self.binary is not None
        return struct.calcsize(">" + self.binary)


_AS_GIVEN = Storage()
_INT4 = Storage(binary="i")
_INT8 = Storage(binary="q")
_FLOAT8 = Storage(binary="d")
_TEXT = Storage(sqlite=plain_text)
_NUMERIC = Storage(sqlite=sqlite_amounts)


def storage(type_: TypeEngine[Any], dialect: Dialect) -> Storage:
    """The ``Storage`` of a column (or bind parameter) type on ``dialect``.

    tradestore's own types carry theirs (``Money.storage``); SQLAlchemy's generic types are
    stored as the driver takes them. A type with neither raises: the bulk paths would send
    something the type never binds.
    """
    impl = type_.dialect_impl(dialect) if not isinstance(type_, TypeDecorator) else type_
    own = getattr(impl, "storage", None)
    if isinstance(own, Storage):
        return own
    if isinstance(impl, TypeDecorator):
        impl = impl.impl_instance
    if isinstance(impl, String):  # also Enum
        return _TEXT
    if isinstance(impl, Boolean):
        return Storage(binary="?")
    if isinstance(impl, BigInteger):
        return _INT8
    if isinstance(impl, Integer):
        return _INT4
    if isinstance(impl, Float):  # also Double
        return _FLOAT8
    if isinstance(impl, Numeric):  # a plain NUMERIC bind: a double on SQLite, as Money
        return _NUMERIC
    if isinstance(impl, JSON):  # the document's text, as the engine's json_serializer
        return _JSON_TEXT
    raise TypeError(f"no storage encoding for the column type {type_!r}")


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts: NUMERIC(38, 18) on PostgreSQL, a double on SQLite.

    Binding refuses what the backend would round (the repositories check first and name the
    field; this is the last line for code that writes through the ORM directly). Reading from
    SQLite turns the double back into the shortest decimal that maps to it, which is the
    original value for every amount ``check_storable`` accepts (``survives_double``).
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True
    #: A double on SQLite; NUMERIC input text (the Decimal's own) on PostgreSQL.
    storage: ClassVar[Storage] = Storage(sqlite=sqlite_amounts)

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


class MoneyTotal(TypeDecorator[Decimal]):
    """A running sum of money amounts, kept exactly: unbounded NUMERIC on PostgreSQL (revision
    0013), the Decimal's text on SQLite.

    ``Money``'s double holds any single amount tradestore accepts, but not every sum of them:
    a total of 5,000 amounts with 12 digits each needs more than a double's 15 to 17, and a
    double rounded after every addition drifts from the exact sum. SQLite keeps the text as
    it is (the column has TEXT affinity), so the total reads back as the Decimal written;
    SQLite's own arithmetic never touches it (the repositories add in Python).

    Unbounded on PostgreSQL because a sum of amounts of up to 20 integer digits (what
    NUMERIC(38, 18) holds) can need 21 and more: a bounded column would refuse the close that
    crosses the bound and every later one of that key ("numeric field overflow"), where
    SQLite's text simply grows. Its scale stays that of the amounts added (at most 18).
    """

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(MONEY_TOTAL_TEXT_LENGTH))
        return dialect.type_descriptor(Numeric())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_decimal("amount", value)
        if dialect.name == "sqlite":
            return money_total_text(amount)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise SchemaError(
                f"a running total holds {value!r}, which is no decimal: position_totals was "
                "written around tradestore"
            ) from None

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


#: The declared length of a SQLite total's text: NUMERIC(38, 18)'s widest value (sign, 38
#: digits and the point). SQLite does not enforce a length, so a longer sum is kept whole.
MONEY_TOTAL_TEXT_LENGTH: Final = MONEY_PRECISION + 2


def money_total_text(amount: Decimal) -> str:
    """A total as SQLite stores it: plain notation (never ``1E+3``), so the text is the
    number a reader of the file sees."""
    return format(amount, "f")


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
    #: ``sqlite_time`` text on SQLite; binary timestamptz or ISO-8601 text on PostgreSQL.
    storage: ClassVar[Storage] = Storage(
        sqlite=sqlite_times, binary="q", to_binary=pg_microseconds, text=dt.datetime.isoformat
    )

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


class Real(TypeDecorator[float]):
    """A double that keeps NaN and infinities on both backends.

    PostgreSQL's float8 stores them natively. SQLite turns a bound NaN into NULL, so NaN is
    stored as the text ``'NaN'`` (a REAL-affinity column keeps text that is not a number) and
    read back as ``float('nan')``. Rewards and losses of a diverging RL run are data, not errors.
    """

    impl = Double()
    cache_ok = True
    #: NaN as 'NaN' on SQLite; IEEE float8 (NaN and infinities included) on PostgreSQL.
    storage: ClassVar[Storage] = Storage(
        sqlite=sqlite_reals, binary="d", to_binary=pg_doubles, text=repr
    )

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


def json_texts(column: Sequence[Any]) -> list[str | None]:
    """JSON documents as the text the engine stores (``encode_json``); None stays NULL."""
    return [None if value is None else encode_json(value) for value in column]


_JSON_TEXT = Storage(sqlite=json_texts, text=encode_json)
