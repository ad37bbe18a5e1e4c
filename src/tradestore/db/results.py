"""The container every list method returns: typed rows, and a DataFrame on request.

Every method of a repository or of the read side that returns several records returns
``Rows`` of them. Rows are frozen dataclasses (or, where a read returns millions of them,
NamedTuples), so results can be cached, compared and passed between threads.

Pagination is one convention everywhere (``paginate``): ``limit=None`` (the default of every
listing) returns every row, ``limit=n`` at most n, ``offset=k`` skips the first k in the
method's documented order. Nothing is cut off silently; a method that answers a "top n"
question (a leaderboard, the best performers) says so and takes ``limit=n`` with that n as its
default. Streams too large for memory have an ``iter_...`` generator.
pandas is an optional extra (``pip install 'tradestore[pandas]'``): it is imported only when
``to_dataframe()`` is called, and a missing install is an ``ImportError`` that says how to fix
it rather than a failure at ``import tradestore``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from sqlalchemy import Result, Select

from tradestore.domain.validation import integer

if TYPE_CHECKING:
    import pandas

R = TypeVar("R")
S = TypeVar("S", bound=Select[Any])

PANDAS_HINT = "pip install 'tradestore[pandas]'"


class Rows(Sequence[R], Generic[R]):
    """An immutable sequence of ``row_type`` records with ``to_dataframe()``."""

    __slots__ = ("_rows", "row_type")

    def __init__(self, row_type: type[R], rows: Iterable[R] = ()) -> None:
        _field_names(row_type)  # refuses a type without named fields
        self.row_type = row_type
        self._rows: tuple[R, ...] = tuple(rows)

    @classmethod
    def from_result(cls, row_type: type[R], result: Result[Any]) -> Rows[R]:
        """Build rows from a SQLAlchemy result whose column labels are the field names."""
        if tuple(result.keys()) == _field_names(row_type):  # positional: the faster case
            return cls(row_type, (row_type(*row) for row in result))  # type: ignore[call-arg]
        return cls(row_type, (row_type(**row) for row in result.mappings()))

    @property
    def columns(self) -> tuple[str, ...]:
        return _field_names(self.row_type)

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> Rows[R]: ...

    def __getitem__(self, index: int | slice) -> R | Rows[R]:
        if isinstance(index, slice):
            return Rows(self.row_type, self._rows[index])
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[R]:
        return iter(self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows):
            return self.row_type is other.row_type and self._rows == other._rows
        if isinstance(other, list):  # what the repositories returned before they returned Rows
            return list(self._rows) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.row_type, self._rows))

    def __repr__(self) -> str:
        return f"Rows[{self.row_type.__name__}]({len(self._rows)} rows)"

    def first(self) -> R | None:
        """The first row, or None when there is none."""
        return self._rows[0] if self._rows else None

    def to_dicts(self) -> list[dict[str, Any]]:
        if dataclasses.is_dataclass(self.row_type):
            return [dataclasses.asdict(row) for row in self._rows]  # type: ignore[call-overload]
        return [row._asdict() for row in self._rows]  # type: ignore[attr-defined]

    def to_dataframe(self, *, decimals_as_float: bool = False) -> pandas.DataFrame:
        """The rows as a pandas DataFrame, one column per field (also when empty).

        Money stays ``Decimal`` (object dtype) unless ``decimals_as_float``: converting is
        the caller's decision, since it is where exactness ends. Enum members become their
        string values; aware datetimes become ``datetime64[ns, UTC]`` columns.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                f"Rows.to_dataframe() needs pandas, which is not installed: {PANDAS_HINT}"
            ) from exc
        columns = self.columns
        data = {
            name: [_plain(getattr(row, name), decimals_as_float) for row in self._rows]
            for name in columns
        }
        frame = pd.DataFrame(data, columns=list(columns))
        for name in columns:
            values = data[name]
            if any(_is_aware(v) for v in values) and all(v is None or _is_aware(v) for v in values):
                frame[name] = pd.to_datetime(frame[name], utc=True)
        return frame


def paginate(statement: S, *, limit: int | None, offset: int = 0) -> S:
    """The statement limited to ``limit`` rows (all when None) after skipping ``offset``.

    The one pagination rule of every list method; the statement must already be ordered
    with a unique tie-breaker, so that pages neither overlap nor skip rows.
    """
    count = integer("limit", limit, minimum=1)
    skip = integer("offset", offset, minimum=0, allow_none=False)
    if count is not None:
        statement = statement.limit(count)
    if skip:
        statement = statement.offset(skip)
    return statement


def _field_names(row_type: type[Any]) -> tuple[str, ...]:
    """A dataclass's field names, or a NamedTuple's."""
    if dataclasses.is_dataclass(row_type):
        return tuple(f.name for f in dataclasses.fields(row_type))
    names = getattr(row_type, "_fields", None)
    if isinstance(row_type, type) and issubclass(row_type, tuple) and names is not None:
        return tuple(names)
    raise TypeError(f"{row_type!r} is neither a dataclass nor a NamedTuple")


def _plain(value: Any, decimals_as_float: bool) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if decimals_as_float and isinstance(value, Decimal):
        return float(value)
    return value


def _is_aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None
