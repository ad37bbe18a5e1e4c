"""Money: amounts as exact Decimals, and what each backend stores of them.

Floats that lose cents and NUMERIC columns that round quietly are where trading databases go
wrong. An input amount is stored exactly or refused (``check_storable``); an amount the
library derives (a VWAP, a P&L, a sum) is rounded once, to what the backend keeps (``fit``).
Pure Python: the column type that applies these rules is ``tradestore.db.types.Money``.
"""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import Any

from tradestore.errors import PrecisionError, ValidationError

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
    if storable_at_a_glance(value, dialect_name == "sqlite"):
        return value
    return _check_in_full(field, value, dialect_name)


def _check_in_full(field: str, value: Decimal, dialect_name: str) -> Decimal:
    """``check_storable`` without its fast path (the reference the fast path is tested on)."""
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


def storable_at_a_glance(value: Decimal, sqlite: bool) -> bool:
    """True if ``value`` is certainly stored exactly as it is; False means "decide in full".

    The one fast path of every storability decision here (``check_storable``, ``fit``,
    ``fit_aggregate``, ``fast_money``): it counts the digit characters of the plain
    (non-scientific) string, an upper bound of the significant digits, so True is always
    right and the full check decides the rest (scientific notation, leading or trailing
    zeros, NaN and infinities). Three times cheaper than ``as_tuple()``, which matters once
    per amount of a 100k-row import and of a 500-price mark to market.
    """
    text = str(value)
    if "E" in text or not text[-1].isdigit():  # scientific notation, NaN, Infinity
        return False
    if len(text) <= SQLITE_SIGNIFICANT_DIGITS:
        # At most 15 digits in all: survives a double, and fits NUMERIC(38, 18) wherever
        # the point is.
        return True
    point = text.find(".")
    digits = len(text) - (point >= 0) - (text[0] == "-")
    if point >= 0 and len(text) - point - 1 > MONEY_SCALE:
        return False
    if sqlite and digits > SQLITE_SIGNIFICANT_DIGITS:
        return False
    return digits <= MAX_INTEGER_DIGITS or value.adjusted() < MAX_INTEGER_DIGITS


def fast_money(value: Any, sqlite: bool, *, positive: bool) -> Decimal | None:
    """A Decimal that passes ``validation.money`` unchanged; None means "check it fully".

    For the hot paths (a fill's amounts, an import's rows, a mark to market's prices), which
    skip the coercion and error-message machinery for the common, plainly valid value.
    """
    if type(value) is not Decimal or not value.is_finite():
        return None
    if positive:
        if value <= 0:
            return None
    elif value < 0:
        return None
    return value if storable_at_a_glance(value, sqlite) else None


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
    if storable_at_a_glance(value, dialect_name == "sqlite"):
        return value
    return _fit_in_full(value, dialect_name)


def _fit_in_full(value: Decimal, dialect_name: str) -> Decimal:
    """``fit`` of a finite non-zero ``value`` without its fast path (the tests' reference)."""
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
    if storable_at_a_glance(value, True):
        return value
    with localcontext(MONEY_CONTEXT):
        if _digits(value)[0] > SQLITE_SIGNIFICANT_DIGITS:
            value = _significant(value, SQLITE_SIGNIFICANT_DIGITS)
    return fit(value, dialect_name)


def _significant(value: Decimal, digits: int) -> Decimal:
    """``value`` rounded half-even to ``digits`` significant digits (in MONEY_CONTEXT)."""
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1))
