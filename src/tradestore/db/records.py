"""Reading many stored rows into frozen records at a few microseconds a row.

``Connection.execute`` converts every value through its column type's result processor, a
Python call per value (``Money`` turns SQLite's double back into its decimal, ``UTCDateTime``
parses SQLite's text and attaches UTC, an enum column looks its member up), and a frozen
dataclass's ``__init__`` then sets each field through ``object.__setattr__``: about 20 µs for
a closed position's 25 columns on SQLite, the cost of a restart that lists its history.

``RecordReader`` does the same conversions a column at a time: on SQLite the statement reads
the stored values as they are and each column is converted by one ``map`` over C functions
(``Decimal(repr(double))``, ``datetime.fromisoformat``, a dict lookup), the type's own
processor taking over for a column holding anything else (a NULL, text another tool wrote).
Records are then built without ``__init__``: a frozen dataclass's ``__init__`` only assigns
the fields, which ``__dict__.update`` does in one call. PostgreSQL's driver returns Decimals
and aware datetimes already, so there only the record building changes.
tests/db/test_records.py holds every column decoder to its type's result processor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from operator import attrgetter, methodcaller
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, Column, Enum, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeEngine

from tradestore.db.types import Money, OpenChoice, Real, UTCDateTime

R = TypeVar("R")

#: A column of stored values -> the Python values (raises when a value is not the usual kind).
ColumnDecoder = Callable[[Sequence[Any]], list[Any]]

_UTC = dt.UTC
_AS_UTC = methodcaller("replace", tzinfo=_UTC)
_TZINFO = attrgetter("tzinfo")
#: What a fast decoder raises on a value it does not take (then the processor decides).
_UNUSUAL = (TypeError, ValueError, KeyError, InvalidOperation, AttributeError)


def _amounts(column: Sequence[Any]) -> list[Any]:
    # ``from_db_number``: a double reads back as its shortest repr; an integral amount is
    # stored as an integer (NUMERIC affinity), whose repr is its digits.
    return list(map(Decimal, map(repr, column)))


def _instants(column: Sequence[Any]) -> list[Any]:
    parsed = list(map(dt.datetime.fromisoformat, column))
    if set(map(_TZINFO, parsed)) != {None}:
        raise ValueError("an offset in stored text: the processor decides")
    return list(map(_AS_UTC, parsed))


def _reals(column: Sequence[Any]) -> list[Any]:
    return list(map(float, column))  # 'NaN' text included


def _documents(column: Sequence[Any]) -> list[Any]:
    return list(map(json.loads, column))


def _members(lookup: dict[str, Any]) -> ColumnDecoder:
    def decode(column: Sequence[Any]) -> list[Any]:
        return list(map(lookup.__getitem__, column))

    return decode


def _choices(lookup: dict[str, Any]) -> ColumnDecoder:
    def decode(column: Sequence[Any]) -> list[Any]:
        return list(map(lookup.get, column, column))

    return decode


def sqlite_decoder(type_: TypeEngine[Any]) -> ColumnDecoder | None:
    """The fast decoder of a column type's values as SQLite stores them (None: the stored
    value is the Python value, or no fast form is known and the processor runs)."""
    if isinstance(type_, Money):
        return _amounts
    if isinstance(type_, UTCDateTime):
        return _instants
    if isinstance(type_, Real):
        return _reals
    if isinstance(type_, OpenChoice):
        return _choices({member.value: member for member in type_.enum_cls})
    if isinstance(type_, Enum) and type_.enum_class is not None:
        return _members({member.value: member for member in type_.enum_class})
    if isinstance(type_, JSON):
        return _documents
    return None


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    # What ``Connection.execute`` applies (``Executor``'s prepared path does the same): the
    # dialect's implementation, a decorator's own conversion on top of its dialect impl's.
    return type_.dialect_impl(dialect).result_processor(dialect, None)


@dataclasses.dataclass(frozen=True)
class _Column:
    decode: ColumnDecoder | None
    process: Callable[[Any], Any] | None

    def values(self, column: Sequence[Any]) -> Sequence[Any]:
        if self.decode is not None:
            try:
                return self.decode(column)
            except _UNUSUAL:
                pass
        process = self.process
        if process is None:
            return column
        return [None if value is None else process(value) for value in column]


class RecordReader(Generic[R]):
    """Frozen dataclass records of ``record_type`` from rows of ``columns`` (in field order)."""

    def __init__(self, record_type: type[R], columns: Sequence[Column[Any]]) -> None:
        names = tuple(f.name for f in dataclasses.fields(record_type))  # type: ignore[arg-type]
        if len(names) != len(columns):
            raise ValueError(f"{record_type.__name__}: {len(names)} fields, {len(columns)} columns")
        self.record_type = record_type
        self._names = names
        self._columns = tuple(columns)
        self._raw = tuple(type_coerce(c, NullType()).label(c.name) for c in columns)
        self._plans: dict[str, tuple[_Column, ...]] = {}

    def columns(self, dialect_name: str) -> tuple[ColumnElement[Any], ...]:
        """What to select: on SQLite the stored values as they are (decoded here), elsewhere
        the typed columns (the driver's values need little conversion)."""
        return self._raw if dialect_name == "sqlite" else self._columns

    def _plan(self, dialect: Dialect) -> tuple[_Column, ...]:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = tuple(
                _Column(sqlite_decoder(c.type), _processor(c.type, dialect)) for c in self._columns
            )
            self._plans[dialect.name] = plan
        return plan

    def records(self, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> list[R]:
        """The records of ``rows`` selected with ``columns(dialect.name)``."""
        if not rows:
            return []
        if dialect.name == "sqlite":
            decoded = [
                column.values(values)
                for column, values in zip(self._plan(dialect), zip(*rows, strict=True), strict=True)
            ]
            rows = list(zip(*decoded, strict=True))
        new = object.__new__
        cls = self.record_type
        names = self._names
        records = []
        for row in rows:
            record = new(cls)
            record.__dict__.update(zip(names, row, strict=True))
            records.append(record)
        return records
