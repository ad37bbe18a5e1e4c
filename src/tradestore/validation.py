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
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from tradestore.errors import ValidationError
from tradestore.types import check_storable, ensure_aware, to_decimal

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
    if "\x00" in value:
        raise ValidationError(field, value, "contains a NUL character")
    return value


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
    try:
        return enum_cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in enum_cls)
        raise ValidationError(field, value, f"must be one of {allowed}") from None


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
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError(field, value, f"expected a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        if allow_nonfinite:
            return result
        raise ValidationError(field, value, "must be a finite number")
    if minimum is not None and result < minimum:
        raise ValidationError(field, value, f"must be at least {minimum}")
    if maximum is not None and result > maximum:
        raise ValidationError(field, value, f"must be at most {maximum}")
    return result


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
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, value, f"expected an integer, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValidationError(field, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, value, f"must be at most {maximum}")
    return value


def instant(field: str, value: Any, *, allow_none: bool = False) -> dt.datetime | None:
    """An aware datetime converted to UTC; naive datetimes are refused."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    return ensure_aware(field, value)


def day(field: str, value: Any, *, allow_none: bool = True) -> dt.date | None:
    """A calendar date (a datetime is refused: which day it falls on depends on a timezone)."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(field, value, "is required")
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(field, value, f"expected a date, got {type(value).__name__}")
    return value


def json_document(field: str, value: Any, *, max_bytes: int = 1_000_000) -> dict[str, Any] | None:
    """A JSON object that serialises (strictly: no NaN) within ``max_bytes``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, f"expected a mapping, got {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, value, f"not JSON-serialisable: {exc}") from None
    if len(encoded.encode()) > max_bytes:
        raise ValidationError(field, "<document>", f"larger than {max_bytes} bytes as JSON")
    result: dict[str, Any] = json.loads(encoded)
    return result
