"""Thousands of training episodes in one set-based write.

``TrainingRepository.log_episodes`` is the hottest write path of the library (a training loop
logs millions of episodes), so this module avoids one Python object per row wherever it can:

* the input rows are turned into columns with ``operator.itemgetter``/``attrgetter`` and
  ``zip`` (C loops), and each column is validated as a whole: the set of value types and the
  column's min/max decide almost every batch without a Python-level loop per value; a value
  that is not obviously fine sends only its column through the per-value path, which names the
  offending row and field;
* the validated columns go to ``db.bulk.insert_rows``: one ``executemany`` of an ``INSERT ...
  ON CONFLICT DO NOTHING`` on SQLite, a binary ``COPY`` into a staging table and one
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` on PostgreSQL, every value encoded as its
  column type stores it (``types.storage``).

Episodes are idempotent on ``(run_id, episode_number)``: the first write of an episode wins,
re-logging it changes nothing (duplicates inside one call keep their first occurrence).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any, Final, cast

from sqlalchemy import Table, text

from tradestore.db import bulk
from tradestore.db.executor import Executor
from tradestore.domain.timestamps import ensure_aware, plain_datetime
from tradestore.domain.validation import number
from tradestore.errors import ValidationError
from tradestore.models.training import TrainingEpisode

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
    Every column has ``count`` entries; ``episode_number`` is always present and unique.
    """

    names: tuple[str, ...]
    values: tuple[Sequence[Any], ...]
    count: int

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
            column = _time_column(name, column, types, offset)
        kept_names.append(name)
        columns.append(column)
    numbers_column = columns[kept_names.index("episode_number")]
    count = len(numbers_column)
    if len(set(numbers_column)) != count:
        first_index = {number: i for i, number in reversed(list(enumerate(numbers_column)))}
        keep = sorted(first_index.values())
        columns = [[column[i] for i in keep] for column in columns]
        count = len(keep)
    return EpisodeColumns(tuple(kept_names), tuple(columns), count)


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


def _time_column(name: str, column: Sequence[Any], types: set[type], offset: int) -> Sequence[Any]:
    if types <= {dt.datetime, _NONE}:
        present = column if _NONE not in types else [v for v in column if v is not None]
        if set(map(_TZINFO, present)) <= {_UTC}:
            return column
        offsets = set(map(dt.datetime.utcoffset, present))
        if None not in offsets and (offsets <= {_ZERO} or _readable(min(present), max(present))):
            return column
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
    return result


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


# --- writing and reading back --------------------------------------------------------------------

_EPISODES: Final = cast(Table, TrainingEpisode.__table__)
#: Episodes are replays of stored ones when this key is taken.
EPISODE_KEY: Final = ("run_id", "episode_number")


def write(connection: Executor, run_id: str, columns: EpisodeColumns) -> int:
    """Insert the episodes not stored yet; returns how many went in.

    One ``executemany`` on SQLite; a binary COPY into a staging table and one INSERT ...
    SELECT on PostgreSQL (``db.bulk.insert_rows``). The values are stored exactly as the
    column types store them (NaN as 'NaN' on SQLite, times as UTCDateTime's text), so rows
    written here and through the ORM are indistinguishable.
    """
    return bulk.insert_rows(
        connection,
        _EPISODES,
        dict(zip(columns.names, columns.values, strict=True)),
        constants={"run_id": run_id},
        skip_conflicts_on=EPISODE_KEY,
    )


#: The reward curve's columns as two packed binary strings (and the episodes without reward).
REWARDS_SQL: Final = (
    "SELECT string_agg(int4send(episode_number), ''), "
    "string_agg(float8send(coalesce(episode_reward, 'NaN'::float8)), ''), "
    "array_agg(episode_number) FILTER (WHERE episode_reward IS NULL) "
    "FROM training_episodes WHERE run_id = :run_id AND episode_number >= :low"
)
_REWARDS: Final = text(REWARDS_SQL)
_REWARDS_BELOW: Final = text(REWARDS_SQL + " AND episode_number < :high")


def read_rewards_postgresql(
    connection: Executor, run_id: str, low: int, high: int | None
) -> tuple[list[int], list[float | None]]:
    """(episode numbers, rewards) of a run from ``low`` (to ``high``), in episode order.

    The reward curve's hot path on PostgreSQL. Fetched as rows, 100,000 episodes cost a
    float parsed from text and a tuple per row (three quarters of the curve's time); here the
    server packs each column into one binary string (``float8send``: the exact IEEE bits,
    NaN and infinities included) and ``bulk.unpack_binary`` unpacks it in C. No ORDER BY, so
    no sort that may spill to disk: the rows come in the scan's order and are put in episode
    order here, a single pass when they already are, as episodes logged in order are.
    """
    statement = _REWARDS if high is None else _REWARDS_BELOW
    params = {"run_id": run_id, "low": low, "high": high}
    packed_numbers, packed_rewards, without_reward = connection.execute(statement, params).one()
    if packed_numbers is None:
        return [], []
    numbers = bulk.unpack_binary("i", packed_numbers)
    rewards: list[Any] = bulk.unpack_binary("d", packed_rewards)
    if without_reward:
        missing = set(without_reward)
        rewards = [None if n in missing else r for n, r in zip(numbers, rewards, strict=True)]
    if any(map(operator.ge, numbers, numbers[1:])):
        order = sorted(range(len(numbers)), key=numbers.__getitem__)
        numbers = [numbers[i] for i in order]
        rewards = [rewards[i] for i in order]
    return numbers, rewards
