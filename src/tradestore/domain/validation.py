"""Argument checks shared by every repository.

Each function either returns the value in its canonical form (Decimal, enum member, aware UTC
datetime) or raises a ``ValidationError`` naming the field and the value. Repositories call
them before any statement runs, which is what makes "bad input writes nothing" hold.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import numbers
import operator
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from tradestore.domain.enums import (
    MAX_ALGORITHM_LENGTH,
    MAX_EXIT_REASON_LENGTH,
    Algorithm,
    ExitReason,
    common_value,
)
from tradestore.domain.money import check_storable, numpy_scalar, to_decimal
from tradestore.domain.timestamps import ensure_aware
from tradestore.errors import NaiveDatetimeError, ValidationError

E = TypeVar("E", bound=enum.Enum)

#: Identifiers (bot ids, order ids, tickers) are short printable strings.
MAX_ID_LENGTH = 64


def text(
    field: str, value: Any, *, max_length: int, allow_none: bool = False, trimmed: bool = True
) -> str | None:
    """A non-empty string of at most ``max_length`` characters, without NUL bytes.

    Text is stored exactly as given or refused, never silently altered: with ``trimmed`` (ids,
    tickers, names) leading or trailing whitespace is refused rather than stripped, because
    a client_order_id of ``"x "`` quietly becoming ``"x"`` would no longer match the broker's.
    """
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, value, f"expected a string, got {type(value).__name__}")
    if not (value.strip() if trimmed else value):
        raise ValidationError(field, value, "must not be empty")
    if trimmed and value != value.strip():
        raise ValidationError(field, value, "has leading or trailing whitespace")
    if len(value) > max_length:
        raise ValidationError(field, value, f"longer than {max_length} characters")
    storable_text(field, value)
    return value


def storable_text(field: str, value: str) -> None:
    """Refuse what no backend can store as text: NUL, and lone surrogates.

    PostgreSQL refuses NUL in text and in JSON strings; SQLite would keep it, so both refuse
    it here. A lone surrogate (``'\\udc80'``, what ``surrogateescape`` decodes an invalid
    byte into) has no UTF-8 encoding: the driver would fail on it with a raw
    ``UnicodeEncodeError``.
    """
    if "\x00" in value:
        raise ValidationError(field, value, "contains a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                field,
                value,
                f"contains the lone surrogate {value[exc.start]!r} at index {exc.start}, "
                "which is not Unicode text",
            ) from None


def required_text(field: str, value: Any, *, max_length: int = MAX_ID_LENGTH) -> str:
    result = text(field, value, max_length=max_length)
    assert result is not None
    return result


def optional_text(field: str, value: Any, *, max_length: int) -> str | None:
    return text(field, value, max_length=max_length, allow_none=True)


def money(
    field: str,
    value: Any,
    dialect_name: str,
    *,
    positive: bool = False,
    non_negative: bool = False,
) -> Decimal:
    """A Decimal the backend stores exactly, optionally > 0 or >= 0."""
    amount = check_storable(field, to_decimal(field, value), dialect_name)
    if positive and amount <= 0:
        raise ValidationError(field, value, "must be greater than 0")
    if non_negative and amount < 0:
        raise ValidationError(field, value, "must not be negative")
    return amount


def optional_money(
    field: str,
    value: Any,
    dialect_name: str,
    *,
    positive: bool = False,
    non_negative: bool = False,
) -> Decimal | None:
    if value is None:
        return None
    return money(field, value, dialect_name, positive=positive, non_negative=non_negative)


def choice(field: str, value: Any, enum_cls: type[E]) -> E:
    """An enum member from the member itself or its value ('long' -> PositionSide.LONG)."""
    if isinstance(value, enum_cls):
        return value
    allowed = ", ".join(repr(member.value) for member in enum_cls)
    if not isinstance(value, str | int):  # the lookup's own error message reprs the value whole
        raise ValidationError(field, value, f"must be one of {allowed}")
    try:
        return enum_cls(value)
    except (ValueError, TypeError):
        raise ValidationError(field, value, f"must be one of {allowed}") from None


def open_choice(field: str, value: Any, enum_cls: type[enum.StrEnum], *, max_length: int) -> str:
    """Free text with common values: the member for a common value, else the text as given.

    Exit reasons and algorithm names are open in the ecosystem (freqtrade's exit tags are a
    strategy's own strings), so any storable text fits; only the column's width bounds it.
    Matching is exact: ``'ppo'`` is its own algorithm name, not ``Algorithm.PPO``.
    """
    if isinstance(value, enum_cls):
        return value
    result = text(field, value, max_length=max_length)
    assert result is not None
    return common_value(enum_cls, result)


def exit_reason(field: str, value: Any) -> str:
    """An exit reason: an ``ExitReason`` or any text of at most 255 characters."""
    return open_choice(field, value, ExitReason, max_length=MAX_EXIT_REASON_LENGTH)


def algorithm(field: str, value: Any) -> str:
    """An algorithm name: an ``Algorithm`` or any text of at most 64 characters."""
    return open_choice(field, value, Algorithm, max_length=MAX_ALGORITHM_LENGTH)


def number(
    field: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_none: bool = True,
    allow_nonfinite: bool = False,
) -> float | None:
    """A float statistic; NaN and infinities only where the caller says they are data."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    result = value if type(value) is float else _float(field, value)
    if not math.isfinite(result):
        if isinstance(value, Decimal) and value.is_finite():  # Decimal('1E+400') -> inf
            raise ValidationError(field, value, "does not fit a double")
        if allow_nonfinite:
            return result
        raise ValidationError(field, value, "must be a finite number")
    if minimum is not None and result < minimum:
        raise ValidationError(field, value, f"must be at least {minimum}")
    if maximum is not None and result > maximum:
        raise ValidationError(field, value, f"must be at most {maximum}")
    return result


def _float(field: str, value: Any) -> float:
    """float(value) for a real number (numpy's included); bools and the rest are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValidationError(field, value, f"expected a number, got {type(value).__name__}")
    if isinstance(value, Decimal) and value.is_snan():
        raise ValidationError(field, value, "a signaling NaN is not a number")
    try:
        return float(value)
    except (OverflowError, ValueError):  # 10**400; a Real whose __float__ refuses
        raise ValidationError(field, value, "does not fit a double") from None


def integer(
    field: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = 2**63 - 1,
    allow_none: bool = True,
) -> int | None:
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    if type(value) is int:
        result: int = value
    elif isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(field, value, f"expected an integer, got {type(value).__name__}")
    else:
        result = operator.index(value)  # numpy.int64 and other integral types, as an int
    if minimum is not None and result < minimum:
        raise ValidationError(field, value, f"must be at least {minimum}")
    if maximum is not None and result > maximum:
        raise ValidationError(field, value, f"must be at most {maximum}")
    return result


def instant(field: str, value: Any, *, allow_none: bool = False) -> dt.datetime | None:
    """An aware datetime (``pandas.Timestamp`` included) converted to UTC; naive ones are
    refused."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    return ensure_aware(field, value)


def day(field: str, value: Any, *, allow_none: bool = True) -> dt.date | None:
    """A calendar date; an aware datetime (``pandas.Timestamp``) stands for the day it shows.

    The day is read in the datetime's own time zone, as it prints and as pandas labels it
    (``Timestamp('2024-03-01', tz='Asia/Tokyo')`` is 1 March, although it is 29 February in
    UTC). A naive datetime is refused with ``NaiveDatetimeError``, like everywhere else: the
    library will not guess which zone it was meant in.
    """
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    if type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise NaiveDatetimeError(
                field, value, "naive datetime: pass a date, or attach a timezone to say which day"
            )
        return dt.date(value.year, value.month, value.day)
    if not isinstance(value, dt.date):
        raise ValidationError(field, value, f"expected a date, got {type(value).__name__}")
    return dt.date(value.year, value.month, value.day)


def flag(field: str, value: Any) -> bool:
    """A bool; ``numpy.bool_`` (what a comparison on an array returns) counts as one."""
    if isinstance(value, bool):
        return value
    numpy = numpy_scalar(value)
    if numpy is not None and isinstance(value, numpy.bool_):
        return bool(value)
    raise ValidationError(field, value, f"expected a bool, got {type(value).__name__}")


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (``.item()``); anything else as it is."""
    if numpy_scalar(value) is not None:
        return value.item()
    return value


def pandas_object(value: Any, kind: str) -> Any:
    """``value`` if it is a ``pandas.<kind>`` (Series, DataFrame), else None.

    pandas is optional: a value can only be a pandas object once the caller imported pandas,
    so ``sys.modules`` answers without importing it.
    """
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, getattr(pandas, kind)):
        return value
    return None


def mapping_items(field: str, value: Any, what: str) -> list[tuple[Any, Any]]:
    """The (key, value) pairs of a mapping or a ``pandas.Series`` (index -> value).

    A DataFrame is refused with a hint: which of its columns is meant is the caller's call.
    """
    if isinstance(value, Mapping):
        return list(value.items())
    if pandas_object(value, "Series") is not None:
        return list(zip(value.index, value.tolist(), strict=True))
    if pandas_object(value, "DataFrame") is not None:
        raise ValidationError(
            field, "<DataFrame>", f"expected {what}: pass one column, e.g. frame['close']"
        )
    raise ValidationError(field, value, f"expected {what}, got {type(value).__name__}")


def rows(value: Any) -> Iterable[Any]:
    """Rows as given, or a ``pandas.DataFrame``'s rows as mappings of column to value.

    Iterating a DataFrame yields its column names, never its rows, so a DataFrame passed
    where rows are taken is turned into one mapping per row (``to_dict('records')``: Python
    numbers, ``Timestamp``s for datetime columns). pandas' missing-value markers ``NA`` and
    ``NaT`` become None; a NaN in a float column stays NaN, which is data for a reward and a
    refusal, naming the row, for an amount. The index is not a field: ``reset_index()`` first
    to pass it.
    """
    frame = pandas_object(value, "DataFrame")
    if frame is None:
        return value  # type: ignore[no-any-return]
    pandas = sys.modules["pandas"]
    records: list[dict[str, Any]] = frame.to_dict("records")
    missing = (pandas.NA, pandas.NaT)
    for record in records:
        for name, cell in record.items():
            if any(cell is marker for marker in missing):
                record[name] = None
    return records


#: How deep a JSON document may nest (a document at the top is depth 1). Configs and
#: metadata nest a few levels; the bound keeps the check below, ``json.dumps`` and the
#: database's JSON parser clear of any recursion limit, whatever the caller passes.
MAX_JSON_DEPTH = 64


D = TypeVar("D", dt.date, dt.datetime)


def room(field: str, value: D, *, days_before: int = 0, days_after: int = 0) -> D:
    """``value`` if the window from ``days_before`` days before it to ``days_after`` days
    after it is on the calendar (years 1 to 9999).

    Queries and metrics compute windows around the day or instant a caller gives (the 30 days
    before ``as_of``, the day after ``until``); ``date.max`` or ``datetime.min`` would make
    that arithmetic overflow, so it is refused up front, naming the argument.
    """
    try:
        value - dt.timedelta(days=days_before)
        value + dt.timedelta(days=days_after)
    except OverflowError:
        raise ValidationError(
            field,
            value,
            f"too close to the ends of the calendar for a window from {days_before} days "
            f"before it to {days_after} days after it",
        ) from None
    return value


def json_document(field: str, value: Any, *, max_bytes: int = 1_000_000) -> dict[str, Any] | None:
    """A JSON object that serialises (strictly: no NaN) within ``max_bytes``.

    Also refused, naming the place in the document: nesting deeper than ``MAX_JSON_DEPTH``,
    object keys that are not strings (``json.dumps`` would turn ``1`` and ``True`` into
    ``"1"`` and ``"true"``, silently merging them with keys already spelled so), and strings
    (keys included) that ``storable_text`` refuses.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, f"expected a mapping, got {type(value).__name__}")
    _check_json(field, value)
    try:
        encoded = json.dumps(value, allow_nan=False, default=_json_scalar)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, value, f"not JSON-serialisable: {exc}") from None
    if len(encoded.encode()) > max_bytes:
        raise ValidationError(field, "<document>", f"larger than {max_bytes} bytes as JSON")
    result: dict[str, Any] = json.loads(encoded)
    return result


def _json_scalar(value: Any) -> Any:
    """numpy scalars in a document (an RL library's hyperparameters) as Python numbers."""
    if numpy_scalar(value) is not None:
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _check_json(field: str, document: Mapping[str, Any]) -> None:
    """The checks of ``json_document`` that ``json.dumps`` does not make, without recursion."""
    pending: list[tuple[str, Any, int]] = [(field, document, 1)]
    while pending:
        path, node, depth = pending.pop()
        if isinstance(node, str):
            storable_text(path, node)
            continue
        if not isinstance(node, Mapping | list | tuple):
            continue  # numbers and None; other types are left to json.dumps to refuse
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(path, "<document>", f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, Mapping):
            for key, item in node.items():
                if not isinstance(key, str):
                    raise ValidationError(
                        path, key, f"a JSON object key must be a string, not {type(key).__name__}"
                    )
                storable_text(path, key)
                place = _json_path(path, repr(key) if len(key) <= 40 else "...")
                pending.append((place, item, depth + 1))
        else:
            pending.extend(
                (_json_path(path, str(i)), item, depth + 1) for i, item in enumerate(node)
            )


def _json_path(path: str, step: str) -> str:
    """``metadata['a'][0]``: where a value sits, shortened once it grows long."""
    if path.endswith("[...]"):
        return path
    return f"{path}[...]" if len(path) > 80 else f"{path}[{step}]"
