"""Column types and enumerations shared by every domain.

Money and time are where trading databases silently go wrong: floats that lose cents, NUMERIC
columns that round quietly, naive datetimes that mean different instants on different hosts.
The types here refuse those inputs instead of storing something the caller did not write.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from itertools import repeat
from operator import attrgetter, floordiv, is_, sub
from typing import Any, ClassVar, Final, cast

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Double, Float, Integer, Numeric, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from tradestore.errors import NaiveDatetimeError, PrecisionError, ValidationError

# --- money ---------------------------------------------------------------------------------

#: NUMERIC(38, 18) on PostgreSQL: 20 integer digits and 18 decimals, enough for wei-scale
#: token quantities and for any fiat amount.
MONEY_PRECISION = 38
MONEY_SCALE = 18
MAX_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE
#: SQLite keeps NUMERIC values as IEEE-754 doubles and tradestore reads a double back as the
#: shortest decimal that maps to it, so a Decimal is storable there when that round trip
#: returns it unchanged (``survives_double``). Every decimal of at most 15 significant digits
#: does (DBL_DIG), which makes this the bound of the fast paths that skip the round trip;
#: longer values are decided by the round trip itself.
SQLITE_SIGNIFICANT_DIGITS = 15
#: What the API takes for an amount (``to_decimal``; numpy integers and floats too, at run time).
Amount = Decimal | int | float | str
#: Arithmetic on amounts runs in this context: products of two 38-digit amounts stay exact
#: instead of being rounded to the default 28 digits before ``fit`` decides.
MONEY_CONTEXT = Context(prec=100, rounding=ROUND_HALF_EVEN)


def _digits(value: Decimal) -> tuple[int, int, int]:
    """(significant digits, decimals, integer digits) of a finite Decimal, ignoring zeros.

    Trailing zeros are stripped from the digit tuple rather than with ``normalize()``, which
    rounds to the context's 28 digits: 99999999999999999999.999999999999999999 would count as
    1E+20 (21 integer digits) and a 30-digit value with 19 decimals as one with 17.
    """
    if value.is_zero():
        return 0, 0, 0
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
    digits, exponent = digits[: len(digits) - zeros], exponent + zeros
    significant = len(digits)
    decimals = max(0, -exponent)
    integer_digits = max(0, significant + exponent)
    return significant, decimals, integer_digits


def to_decimal(field: str, value: Any) -> Decimal:
    """Coerce ``value`` to a finite Decimal: Decimal, int, decimal text, float, numpy scalar.

    A float means the decimal its shortest repr prints: ``0.1`` is ``Decimal('0.1')``, not the
    binary fraction ``0.1000000000000000055...`` that ``Decimal(0.1)`` gives. That is the number
    the float was written as (a ccxt price, a pandas cell, a literal in a backtest), and the
    only reading under which a float read back from SQLite's doubles equals the one stored.
    numpy integers and floats follow the same rules (a float32 is read at its own precision:
    ``numpy.float32(0.1)`` is 0.1). Booleans are refused: ``True`` is not an amount.
    """
    kind = type(value)
    result: Decimal
    if kind is Decimal:
        result = value
    elif kind is float:
        result = Decimal(float.__repr__(value))
    elif isinstance(value, bool):
        raise ValidationError(field, value, "expected a Decimal, got bool")
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, value, "not a decimal number") from None
    elif isinstance(value, float):  # numpy.float64 and other subclasses: their repr may differ
        result = Decimal(float.__repr__(value))
    else:
        result = _numpy_decimal(field, value)
    if not result.is_finite():
        raise ValidationError(field, value, "must be a finite number")
    return result


def numpy_scalar(value: Any) -> Any:
    """numpy's scalar type module when ``value`` is a numpy scalar, else None.

    numpy is an optional dependency: it is looked up in ``sys.modules`` rather than imported,
    since a value can only be a numpy scalar once the caller has imported numpy.
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return numpy
    return None


def _numpy_decimal(field: str, value: Any) -> Decimal:
    numpy = numpy_scalar(value)
    if numpy is None:
        raise ValidationError(field, value, f"expected a Decimal, got {type(value).__name__}")
    if isinstance(value, numpy.bool_):
        raise ValidationError(field, value, "expected a Decimal, got numpy.bool")
    if isinstance(value, numpy.integer):
        return Decimal(int(value))
    if isinstance(value, numpy.floating):
        # str() of a numpy float is its shortest repr at its own precision ('0.1' for
        # float32(0.1), whose widening to a double would print 0.10000000149011612).
        return Decimal(str(value))
    raise ValidationError(field, value, f"expected a Decimal, got numpy.{type(value).__name__}")


def survives_double(value: Decimal) -> bool:
    """True if ``value`` reads back from a double as itself: SQLite's rule for amounts.

    SQLite stores ``float(value)``; reading turns the double into the shortest decimal that maps
    to it. The comparison is numeric, so trailing zeros and the exponent's spelling do not
    matter (``1.50`` and ``15E-1`` both survive as ``1.5``).
    """
    return Decimal(repr(float(value))) == value


def check_storable(field: str, value: Decimal, dialect_name: str) -> Decimal:
    """Refuse a Decimal that the backend ``dialect_name`` would not store exactly.

    PostgreSQL: at most 18 decimals and 20 integer digits (NUMERIC(38, 18)). SQLite: the same,
    and the value must survive the round trip through a double (``survives_double``); values of
    at most 15 significant digits always do and skip the round trip.
    """
    significant, decimals, integer_digits = _digits(value)
    if decimals > MONEY_SCALE:
        raise PrecisionError(
            field, value, f"more than {MONEY_SCALE} decimal places would be rounded"
        )
    if integer_digits > MAX_INTEGER_DIGITS:
        raise PrecisionError(field, value, f"more than {MAX_INTEGER_DIGITS} integer digits")
    if (
        dialect_name == "sqlite"
        and significant > SQLITE_SIGNIFICANT_DIGITS
        and not survives_double(value)
    ):
        raise PrecisionError(
            field,
            value,
            f"SQLite stores amounts as doubles and would read this back as "
            f"{Decimal(repr(float(value)))}; use PostgreSQL to store it exactly",
        )
    return value


def fit(value: Decimal, dialect_name: str) -> Decimal:
    """Round a *derived* amount (a VWAP, a P&L) to what the backend stores exactly.

    Inputs are never rounded (``check_storable`` refuses them); values the library computes,
    such as a division, may carry many digits and are rounded half-even to 18 decimals here.
    On SQLite a value that does not survive a double becomes the decimal its nearest double
    reads back as (what SQLite would have kept of it anyway), or, where that decimal would
    need more than 18 decimals (small amounts), the value rounded to 15 significant digits.
    """
    if not value.is_finite() or value.is_zero():
        return value
    with localcontext(MONEY_CONTEXT):
        significant, decimals, _integer_digits = _digits(value)
        if decimals > MONEY_SCALE:
            value = value.quantize(Decimal(1).scaleb(-MONEY_SCALE))
            significant = _digits(value)[0]
        if (
            dialect_name == "sqlite"
            and significant > SQLITE_SIGNIFICANT_DIGITS
            and not survives_double(value)
        ):
            nearest = Decimal(repr(float(value)))
            _s, nearest_decimals, nearest_integer = _digits(nearest)
            if nearest_decimals <= MONEY_SCALE and nearest_integer <= MAX_INTEGER_DIGITS:
                return nearest
            value = _significant(value, SQLITE_SIGNIFICANT_DIGITS)
    return value


def fit_aggregate(value: Decimal, dialect_name: str) -> Decimal:
    """``fit`` for an amount the *database* computed: a SUM, an AVG, a MAX of an expression.

    PostgreSQL's NUMERIC arithmetic is exact, so this is ``fit``. SQLite's runs in doubles
    (``SUM`` of 12.34-style amounts returns 584.7990000000001), and only 15 significant digits
    of a double's arithmetic can be vouched for (DBL_DIG): the result is rounded to them, which
    gives the decimal the sum stands for up to the error a long sum of doubles accumulates.
    """
    if dialect_name != "sqlite" or not value.is_finite() or value.is_zero():
        return fit(value, dialect_name)
    with localcontext(MONEY_CONTEXT):
        if _digits(value)[0] > SQLITE_SIGNIFICANT_DIGITS:
            value = _significant(value, SQLITE_SIGNIFICANT_DIGITS)
    return fit(value, dialect_name)


def _significant(value: Decimal, digits: int) -> Decimal:
    """``value`` rounded half-even to ``digits`` significant digits (in MONEY_CONTEXT)."""
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1))


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
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(value)

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


# --- time ----------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_aware(field: str, value: Any) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime, refusing naive ones.

    A datetime subclass (``pandas.Timestamp``) comes back as a plain ``datetime``: drivers and
    comparisons then see one type. Nanoseconds, which a ``Timestamp`` may carry and no column
    keeps, are refused rather than dropped.
    """
    if not isinstance(value, dt.datetime):
        raise ValidationError(field, value, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            field, value, "naive datetime: attach a timezone, e.g. datetime.now(timezone.utc)"
        )
    instant: dt.datetime = value if type(value) is dt.datetime else plain_datetime(field, value)
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        # datetime.max at -05:00 is year 10000 in UTC. PostgreSQL would store it, but no
        # driver can return it as a datetime: every later read of the row would fail.
        raise ValidationError(
            field, value, "outside the years 1 to 9999 in UTC: it could not be read back"
        ) from None


def plain_datetime(field: str, value: dt.datetime) -> dt.datetime:
    """An aware datetime subclass such as ``pandas.Timestamp`` as a plain UTC ``datetime``.

    Converted by the subclass itself first, so its own time-zone rules (pytz, dateutil,
    zoneinfo) decide the offset; then rebuilt field by field, which is exact to the
    microsecond.
    """
    if getattr(value, "nanosecond", 0):
        raise ValidationError(
            field,
            value,
            "has nanoseconds, which the database does not keep (microseconds are the finest "
            "unit): round it first, e.g. Timestamp.floor('us')",
        )
    utc = value.astimezone(dt.UTC)
    return dt.datetime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
        tzinfo=dt.UTC,
    )


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
    storage: ClassVar[Storage] = Storage(sqlite=sqlite_reals, binary="d", text=repr)

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


# --- enumerations ----------------------------------------------------------------------------


class PositionSide(enum.StrEnum):
    LONG = "long"
    SHORT = "short"


class OrderSide(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    #: A limit order that must rest on the book (maker only); needs a limit price like LIMIT.
    POST_ONLY = "post_only"


class TimeInForce(enum.StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_ORDER_STATUSES


TERMINAL_ORDER_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


#: Exit reasons and algorithm names are free text (freqtrade's exit tags, any RL library's
#: algorithm names); these are the widths of their columns.
MAX_EXIT_REASON_LENGTH: Final = 255
MAX_ALGORITHM_LENGTH: Final = 64


class ExitReason(enum.StrEnum):
    """The common exit reasons; any other non-empty text of at most 255 characters is stored
    too (freqtrade's ``roi``, ``force_exit``, a strategy's own exit tags)."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    TIME_EXIT = "time_exit"
    MANUAL = "manual"
    RISK_LIMIT = "risk_limit"
    CIRCUIT_BREAKER = "circuit_breaker"
    MARKET_CLOSE = "market_close"


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    UNKNOWN = "unknown"


class BotMode(enum.StrEnum):
    PAPER = "paper"
    LIVE = "live"
    BACKTEST = "backtest"
    #: Hyperparameter optimization (freqtrade's hyperopt, an Optuna study's trials).
    OPTIMIZATION = "optimization"


class BotStatus(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"


class Algorithm(enum.StrEnum):
    """The common algorithm names; any other non-empty text of at most 64 characters is
    stored too, exactly as given (``IMPALA``, ``ppo`` is not ``PPO``)."""

    PPO = "PPO"
    SAC = "SAC"
    A2C = "A2C"
    TD3 = "TD3"
    DQN = "DQN"
    DDPG = "DDPG"
    ENSEMBLE = "Ensemble"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    ABORTED = "aborted"


class Device(enum.StrEnum):
    CPU = "cpu"
    CUDA = "cuda"


class EvaluationType(enum.StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"
    LIVE_PAPER = "live_paper"
    BACKTEST = "backtest"


class WeightingMethod(enum.StrEnum):
    EQUAL = "equal"
    SHARPE_WEIGHTED = "sharpe_weighted"
    PERFORMANCE_WEIGHTED = "performance_weighted"
    ADAPTIVE = "adaptive"
    MANUAL = "manual"


class MigrationStatus(enum.StrEnum):
    APPLIED = "applied"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


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


def common_value(enum_cls: type[enum.StrEnum], value: str) -> str:
    """The enum member spelled exactly ``value``, or ``value`` itself when it is no member."""
    try:
        return enum_cls(value)
    except ValueError:
        return value
