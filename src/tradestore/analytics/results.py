"""The container every analytics query returns: typed rows, and a DataFrame on request.

Rows are frozen dataclasses, so results can be cached, compared and passed between threads.
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

from sqlalchemy import Result

if TYPE_CHECKING:
    import pandas

R = TypeVar("R")

PANDAS_HINT = "pip install 'tradestore[pandas]'"


class Rows(Sequence[R], Generic[R]):
    """An immutable sequence of ``row_type`` records with ``to_dataframe()``."""

    __slots__ = ("_rows", "row_type")

    def __init__(self, row_type: type[R], rows: Iterable[R] = ()) -> None:
        if not dataclasses.is_dataclass(row_type):
            raise TypeError(f"{row_type!r} is not a dataclass")
        self.row_type = row_type
        self._rows: tuple[R, ...] = tuple(rows)

    @classmethod
    def from_result(cls, row_type: type[R], result: Result[Any]) -> Rows[R]:
        """Build rows from a SQLAlchemy result whose column labels are the field names."""
        names = tuple(f.name for f in dataclasses.fields(row_type))  # type: ignore[arg-type]
        if tuple(result.keys()) == names:  # positional: the common, faster case
            return cls(row_type, (row_type(*row) for row in result))  # type: ignore[call-arg]
        return cls(row_type, (row_type(**row) for row in result.mappings()))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.row_type))  # type: ignore[arg-type]

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
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.row_type, self._rows))

    def __repr__(self) -> str:
        return f"Rows[{self.row_type.__name__}]({len(self._rows)} rows)"

    def first(self) -> R | None:
        """The first row, or None when there is none."""
        return self._rows[0] if self._rows else None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(row) for row in self._rows]  # type: ignore[call-overload]

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


def _plain(value: Any, decimals_as_float: bool) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if decimals_as_float and isinstance(value, Decimal):
        return float(value)
    return value


def _is_aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None
