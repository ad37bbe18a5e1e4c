"""Thousands of training episodes in one set-based write.

``TrainingRepository.log_episodes`` is the hottest write path of the library (a training loop
logs millions of episodes), so this module avoids one Python object per row wherever it can:

* the input rows are turned into columns with ``operator.itemgetter``/``attrgetter`` and
  ``zip`` (C loops), and each column is validated as a whole: the set of value types and the
  column's min/max decide almost every batch without a Python-level loop per value; a value
  that is not obviously fine sends only its column through the per-value path, which names the
  offending row and field;
* SQLite gets one ``executemany`` of an ``INSERT ... ON CONFLICT DO NOTHING`` on the session's
  own connection (inside the unit of work's transaction). NaN is bound as the text 'NaN' and
  times as the text SQLAlchemy's DateTime writes, exactly what ``db.types.Real`` and
  ``types.UTCDateTime`` store, so rows written here and through the ORM are indistinguishable;
* PostgreSQL gets a binary ``COPY`` into a per-connection temporary staging table, then one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. COPY is several times faster than any
  INSERT the driver can send, and the staging step keeps the write idempotent, which a COPY
  straight into the table cannot be.

Episodes are idempotent on ``(run_id, episode_number)``: the first write of an episode wins,
re-logging it changes nothing (duplicates inside one call keep their first occurrence).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import numbers
import operator
import struct
import sys
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import repeat
from operator import attrgetter, floordiv, itemgetter, sub
from typing import Any, Final

from sqlalchemy import text

from tradestore.db.executor import Executor
from tradestore.domain.timestamps import ensure_aware, plain_datetime
from tradestore.domain.validation import number
from tradestore.errors import ValidationError

INT32_MAX: Final = 2**31 - 1

#: Kinds of episode columns: how each is validated and encoded.
INT = "int"
FLOAT = "float"
TIME = "time"

#: Every field an episode may carry (training_episodes without run_id and the surrogate key).
EPISODE_FIELDS: Final[dict[str, str]] = {
    "episode_number": INT,
    "episode_reward": FLOAT,
    "episode_length": INT,
    "episode_time": TIME,
    "mean_action": FLOAT,
    "std_action": FLOAT,
    "mean_value": FLOAT,
    "mean_loss": FLOAT,
    "learning_rate": FLOAT,
    "exploration_rate": FLOAT,
}

_NONE = type(None)
_SIMPLE_FLOAT_TYPES = frozenset({float, _NONE})
_INT_OR_NONE = frozenset({int, _NONE})
_ZERO = dt.timedelta(0)
_UTC = dt.UTC
_TZINFO = attrgetter("tzinfo")


@dataclasses.dataclass(frozen=True)
class EpisodeColumns:
    """A validated chunk of episodes, column-major: ``values[i]`` holds field ``names[i]``.

    Floats are Python floats (NaN and ±inf kept), integers ints, times aware datetimes.
    Every column has ``count`` entries and ``nullable[i]`` says whether column i holds a None;
    ``episode_number`` is always present and unique. ``times_utc`` says every time is already
    in UTC (the common case, which SQLite formats without converting).
    """

    names: tuple[str, ...]
    values: tuple[Sequence[Any], ...]
    nullable: tuple[bool, ...]
    count: int
    times_utc: bool = True

    def column(self, name: str) -> Sequence[Any]:
        return self.values[self.names.index(name)]


# --- input rows -> validated columns ------------------------------------------------------------


def to_columns(chunk: Sequence[Any], *, offset: int = 0) -> EpisodeColumns:
    """Validate ``chunk`` (dicts, dataclasses or named tuples) into columns.

    ``offset`` is the index of ``chunk[0]`` in the caller's input, so errors name the row the
    caller knows (``episodes[12345].episode_reward``). Raises ``ValidationError`` and returns
    nothing on the first bad value.
    """
    names, raw_columns = _columns(chunk, offset)
    if "episode_number" not in names:
        raise ValidationError(f"episodes[{offset}].episode_number", None, "is required")
    kept_names: list[str] = []
    columns: list[Sequence[Any]] = []
    nullable: list[bool] = []
    times_utc = True
    for name, column in zip(names, raw_columns, strict=True):
        types = set(map(type, column))
        if types == {_NONE} and name != "episode_number":
            # None in every row: left out, the column defaults to NULL anyway (and PostgreSQL's
            # fast COPY path wants columns without NULLs; ``Episode`` objects carry them all).
            continue
        kind = EPISODE_FIELDS[name]
        if kind == INT:
            column = _int_column(name, column, types, offset)
        elif kind == FLOAT:
            column = _float_column(name, column, types, offset)
        else:
            column, utc = _time_column(name, column, types, offset)
            times_utc = times_utc and utc
        kept_names.append(name)
        columns.append(column)
        nullable.append(_NONE in types)
    numbers_column = columns[kept_names.index("episode_number")]
    count = len(numbers_column)
    if len(set(numbers_column)) != count:
        first_index = {number: i for i, number in reversed(list(enumerate(numbers_column)))}
        keep = sorted(first_index.values())
        columns = [[column[i] for i in keep] for column in columns]
        count = len(keep)
    return EpisodeColumns(tuple(kept_names), tuple(columns), tuple(nullable), count, times_utc)


def _columns(chunk: Sequence[Any], offset: int) -> tuple[list[str], list[Sequence[Any]]]:
    """(field names, one list per field): C loops for uniform input, else row by row.

    Columns are pulled with one ``map(itemgetter(name))`` per field rather than one tuple per
    row: per-row containers wake the cyclic garbage collector, which then walks the caller's
    whole heap (a training loop holds millions of objects) and costs more than the rest.
    """
    first = chunk[0]
    getter: Callable[[str], Callable[[Any], Any]] | None = None
    names: list[str] = []
    if isinstance(first, Mapping):
        names = list(first)
        if names and all(isinstance(name, str) for name in names):
            getter = itemgetter
    else:
        attribute_names = _attribute_names(first)
        if attribute_names is not None and {type(row) for row in chunk} == {type(first)}:
            names = list(attribute_names)
            getter = attrgetter
    if getter is not None and names:
        _check_names(names, offset)
        try:
            columns: list[Sequence[Any]] = [list(map(getter(name), chunk)) for name in names]
        except (KeyError, TypeError, IndexError, AttributeError):
            pass  # a row lacks a field or is of another kind: take the slow path
        else:
            # Mappings: every row has all the names and as many keys, so exactly these keys.
            if getter is attrgetter or _uniform_lengths(chunk, len(names)):
                return names, columns
    return _columns_one_by_one(chunk, offset)


def _uniform_lengths(chunk: Sequence[Any], length: int) -> bool:
    try:
        return set(map(len, chunk)) == {length}
    except TypeError:
        return False


def _attribute_names(row: Any) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return tuple(field.name for field in dataclasses.fields(row))
    fields = getattr(type(row), "_fields", None)  # NamedTuple
    if isinstance(row, tuple) and isinstance(fields, tuple):
        return tuple(str(name) for name in fields)
    return None


def _check_names(names: Sequence[Any], offset: int, row: int | None = None) -> None:
    for name in names:
        if name not in EPISODE_FIELDS:
            allowed = ", ".join(EPISODE_FIELDS)
            where = f"episodes[{offset if row is None else row}]"
            raise ValidationError(
                f"{where}.{name}", name, f"unknown episode field; known fields: {allowed}"
            )


def _columns_one_by_one(chunk: Sequence[Any], offset: int) -> tuple[list[str], list[Sequence[Any]]]:
    """Irregular input: rows of different shapes or types. Missing fields are None."""
    mappings: list[Mapping[str, Any]] = []
    names: dict[str, None] = {}
    for i, row in enumerate(chunk, start=offset):
        if isinstance(row, Mapping):
            mapping: Mapping[str, Any] = row
        else:
            attribute_names = _attribute_names(row)
            if attribute_names is None:
                raise ValidationError(
                    f"episodes[{i}]",
                    row,
                    f"expected a mapping, a dataclass or a named tuple, got {type(row).__name__}",
                )
            mapping = {name: getattr(row, name) for name in attribute_names}
        for name in mapping:
            if name not in names:
                _check_names([name], offset, row=i)
                names[name] = None
        mappings.append(mapping)
    ordered = list(names)
    return ordered, [[mapping.get(name) for mapping in mappings] for name in ordered]


def _int_column(name: str, column: Sequence[Any], types: set[type], offset: int) -> Sequence[Any]:
    required = name == "episode_number"
    if types == {int} or (not required and types <= _INT_OR_NONE):
        present = column if _NONE not in types else [v for v in column if v is not None]
        if not present or (min(present) >= 0 and max(present) <= INT32_MAX):
            return column
    result: list[Any] = []
    for i, value in enumerate(column):
        field = f"episodes[{offset + i}].{name}"
        if value is None:
            if required:
                raise ValidationError(field, value, "is required")
            result.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValidationError(field, value, f"expected an integer, got {type(value).__name__}")
        number = int(value)
        if number < 0:
            raise ValidationError(field, value, "must not be negative")
        if number > INT32_MAX:
            raise ValidationError(field, value, f"must be at most {INT32_MAX}")
        result.append(number)
    return result


def _float_column(name: str, column: Sequence[Any], types: set[type], offset: int) -> Sequence[Any]:
    if types <= _SIMPLE_FLOAT_TYPES:
        return column
    if all(issubclass(kind, float) for kind in types - {_NONE}):  # numpy.float64, say
        return [None if v is None else float(v) for v in column]
    result: list[Any] = []
    for i, value in enumerate(column):
        if value is None or type(value) is float:
            result.append(value)
            continue
        result.append(number(f"episodes[{offset + i}].{name}", value, allow_nonfinite=True))
    return result


def _time_column(
    name: str, column: Sequence[Any], types: set[type], offset: int
) -> tuple[Sequence[Any], bool]:
    """(the column, whether every time is in UTC already)."""
    if types <= {dt.datetime, _NONE}:
        present = column if _NONE not in types else [v for v in column if v is not None]
        if set(map(_TZINFO, present)) <= {_UTC}:
            return column, True
        offsets = set(map(dt.datetime.utcoffset, present))
        if None not in offsets and (offsets <= {_ZERO} or _readable(min(present), max(present))):
            return column, offsets <= {_ZERO}
    result: list[Any] = []
    for i, value in enumerate(column):
        field = f"episodes[{offset + i}].{name}"
        if value is None:
            result.append(None)
            continue
        ensure_aware(field, value)  # a datetime, aware, and readable back in UTC
        if type(value) is not dt.datetime:  # a subclass such as pandas.Timestamp
            value = plain_datetime(field, value)
        result.append(value)
    return result, False


def _readable(earliest: dt.datetime, latest: dt.datetime) -> bool:
    """Whether every time between the earliest and the latest instant converts to UTC.

    Aware datetimes compare as instants (without converting), so the two extremes decide for
    the whole column; with an offset, ``datetime.max`` or ``datetime.min`` falls outside the
    years 1..9999 in UTC and the column takes the per-value path, which names the row.
    """
    try:
        ensure_aware("episode_time", earliest)
        ensure_aware("episode_time", latest)
    except ValidationError:
        return False
    return True


# --- SQLite ---------------------------------------------------------------------------------------


def sqlite_rows(run_id: str, columns: EpisodeColumns) -> Iterator[tuple[Any, ...]]:
    """Parameter tuples ``(run_id, *fields)`` bound exactly as the column types would bind them.

    An iterator, not a list: ``executemany`` consumes each tuple before the next is built, so
    no batch-sized set of tuples lives long enough to be walked by the garbage collector.
    """
    encoded: list[Sequence[Any]] = []
    for name, column, nullable in zip(columns.names, columns.values, columns.nullable, strict=True):
        kind = EPISODE_FIELDS[name]
        if kind == FLOAT and _may_hold_nan(column, nullable):
            # SQLite would store a bound NaN as NULL; db.types.Real stores the text 'NaN'.
            column = ["NaN" if v != v else v for v in column]
        elif kind == TIME:
            column = _sqlite_times(column, fast=columns.times_utc and not nullable)
        encoded.append(column)
    return zip(repeat(run_id, columns.count), *encoded, strict=True)


def _may_hold_nan(column: Sequence[Any], nullable: bool) -> bool:
    """False when the column surely holds no NaN; sum() runs in C, a NaN poisons it."""
    if not nullable:
        return math.isnan(sum(column))  # also true for +inf with -inf: then just a scan
    return any(v != v for v in column)


def _sqlite_times(column: Sequence[Any], *, fast: bool) -> list[Any]:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: SQLAlchemy's SQLite DateTime storage format."""
    if fast:  # aware UTC datetimes: isoformat() and drop the '+00:00'
        return [
            text[:26]
            for text in map(dt.datetime.isoformat, column, repeat(" "), repeat("microseconds"))
        ]
    result: list[Any] = []
    for value in column:
        if value is None:
            result.append(None)
            continue
        if value.utcoffset() != _ZERO:
            value = value.astimezone(_UTC)
        result.append(value.isoformat(" ", "microseconds")[:26])
    return result


def sqlite_insert_sql(names: Sequence[str]) -> str:
    columns = ", ".join(("run_id", *names))
    params = ", ".join("?" * (len(names) + 1))
    return (  # the names are EPISODE_FIELDS keys, checked by to_columns
        f"INSERT INTO training_episodes ({columns}) VALUES ({params}) "  # noqa: S608
        "ON CONFLICT (run_id, episode_number) DO NOTHING"
    )


def write_sqlite(connection: Executor, run_id: str, columns: EpisodeColumns) -> int:
    """One ``executemany`` on the unit of work's sqlite3 connection, in its transaction.

    The driver cursor is used directly because the rows are an iterator of driver-ready
    tuples (see ``sqlite_rows``); the statement is announced to the engine's cursor events
    and its errors translated by the executor.
    """
    rows = sqlite_rows(run_id, columns)
    insert = sqlite_insert_sql(columns.names)
    with connection.driver_cursor(insert) as cursor:
        cursor.executemany(insert, rows)
        return max(int(cursor.rowcount), 0)


# --- PostgreSQL -----------------------------------------------------------------------------------

STAGE_TABLE: Final = "tradestore_episode_stage"
_STAGE_DDL: Final = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ("
    "episode_number integer, episode_reward double precision, episode_length integer, "
    "episode_time timestamp with time zone, mean_action double precision, "
    "std_action double precision, mean_value double precision, mean_loss double precision, "
    "learning_rate double precision, exploration_rate double precision"
    ") ON COMMIT DELETE ROWS"
)
_COPY_HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER: Final = struct.pack(">h", -1)
_NULL_CELL: Final = struct.pack(">i", -1)
#: PostgreSQL's binary timestamptz: microseconds since 2000-01-01 00:00 UTC.
_PG_EPOCH: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
#: (struct code, byte length) of each kind in the binary COPY format.
_BINARY: Final = {INT: ("i", 4), FLOAT: ("d", 8), TIME: ("q", 8)}


def copy_binary(columns: EpisodeColumns) -> bytes:
    """The episodes as one PostgreSQL binary COPY stream (NaN and ±inf are IEEE bits)."""
    encoded: list[Sequence[Any]] = []
    kinds: list[str] = []
    has_null = any(columns.nullable)
    for name, column in zip(columns.names, columns.values, strict=True):
        kind = EPISODE_FIELDS[name]
        if kind == TIME:
            column = _pg_times(column)
        encoded.append(column)
        kinds.append(kind)
    field_count = len(encoded)
    if not has_null:
        # One struct per row, packed by map() in C: (count, len, value, len, value, ...).
        layout = ">h" + "".join("i" + _BINARY[kind][0] for kind in kinds)
        arguments: list[Any] = [repeat(field_count, columns.count)]
        for kind, column in zip(kinds, encoded, strict=True):
            arguments.append(repeat(_BINARY[kind][1]))
            arguments.append(column)
        body = b"".join(map(struct.Struct(layout).pack, *arguments))
    else:
        cells = [_cells(kind, column) for kind, column in zip(kinds, encoded, strict=True)]
        count = struct.pack(">h", field_count)
        body = b"".join(map(b"".join, zip(repeat(count, columns.count), *cells, strict=True)))
    return _COPY_HEADER + body + _COPY_TRAILER


def _pg_times(column: Sequence[Any]) -> list[Any]:
    if None in column:
        return [None if v is None else (v - _PG_EPOCH) // _MICROSECOND for v in column]
    return list(map(floordiv, map(sub, column, repeat(_PG_EPOCH)), repeat(_MICROSECOND)))


def _cells(kind: str, column: Sequence[Any]) -> list[bytes]:
    code, length = _BINARY[kind]
    pack = struct.Struct(f">i{code}").pack
    return [_NULL_CELL if v is None else pack(length, v) for v in column]


def write_postgresql(connection: Executor, run_id: str, columns: EpisodeColumns) -> int:
    """COPY into the connection's staging table, then one idempotent INSERT ... SELECT.

    The staging table is temporary (private to the connection, created once and kept while
    the pooled connection lives) and ON COMMIT DELETE ROWS; it is truncated after each use so
    several calls in one transaction never see each other's rows.
    """
    names = ", ".join(columns.names)
    connection.execute(text(_STAGE_DDL))
    data = copy_binary(columns)
    copy = f"COPY pg_temp.{STAGE_TABLE} ({names}) FROM STDIN (FORMAT binary)"
    with connection.driver_cursor(copy) as cursor:
        cursor.copy_expert(copy, io.BytesIO(data))
    result = connection.execute(
        text(
            f"INSERT INTO training_episodes (run_id, {names}) "  # noqa: S608 (EPISODE_FIELDS)
            f"SELECT :run_id, {names} FROM pg_temp.{STAGE_TABLE} "
            "ON CONFLICT (run_id, episode_number) DO NOTHING"
        ),
        {"run_id": run_id},
    )
    inserted = max(result.rowcount, 0)
    connection.execute(text(f"TRUNCATE pg_temp.{STAGE_TABLE}"))
    return inserted


#: The reward curve's columns as two packed binary strings (and the episodes without reward).
REWARDS_SQL: Final = (
    "SELECT string_agg(int4send(episode_number), ''), "
    "string_agg(float8send(coalesce(episode_reward, 'NaN'::float8)), ''), "
    "array_agg(episode_number) FILTER (WHERE episode_reward IS NULL) "
    "FROM training_episodes WHERE run_id = %(run_id)s AND episode_number >= %(low)s"
)


def read_rewards_postgresql(
    connection: Executor, run_id: str, low: int, high: int | None
) -> tuple[list[int], list[float | None]]:
    """(episode numbers, rewards) of a run from ``low`` (to ``high``), in episode order.

    The reward curve's hot path on PostgreSQL. Fetched as rows, 100,000 episodes cost a
    float parsed from text and a tuple per row (three quarters of the curve's time); here the
    server packs each column into one binary string (``float8send``: the exact IEEE bits,
    NaN and infinities included) and ``array`` unpacks it in C. No ORDER BY, so no sort that
    may spill to disk: the rows come in the scan's order and are put in episode order here,
    a single pass when they already are, as episodes logged in order are.
    """
    sql = REWARDS_SQL + ("" if high is None else " AND episode_number < %(high)s")
    with connection.driver_cursor(sql) as cursor:
        cursor.execute(sql, {"run_id": run_id, "low": low, "high": high})
        packed_numbers, packed_rewards, without_reward = cursor.fetchone()
    if packed_numbers is None:
        return [], []
    numbers = _unpack("i", packed_numbers)
    rewards: list[Any] = _unpack("d", packed_rewards)
    if without_reward:
        missing = set(without_reward)
        rewards = [None if n in missing else r for n, r in zip(numbers, rewards, strict=True)]
    if any(map(operator.ge, numbers, numbers[1:])):
        order = sorted(range(len(numbers)), key=numbers.__getitem__)
        numbers = [numbers[i] for i in order]
        rewards = [rewards[i] for i in order]
    return numbers, rewards


def _unpack(typecode: str, packed: Any) -> list[Any]:
    """Big-endian int4 / float8 values packed back to back, as a list."""
    values = array(typecode)
    assert values.itemsize == (4 if typecode == "i" else 8)
    values.frombytes(packed)
    if sys.byteorder == "little":
        values.byteswap()
    return values.tolist()
