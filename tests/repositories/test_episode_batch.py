"""Episode batches: validation into columns, without a database (round trips: test_training)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from tradestore.errors import NaiveDatetimeError, ValidationError
from tradestore.repositories import episode_batch
from tradestore.repositories.episode_batch import INT32_MAX, to_columns
from tradestore.repositories.training import Episode

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def as_dicts(columns: episode_batch.EpisodeColumns) -> list[dict[str, Any]]:
    return [dict(zip(columns.names, row, strict=True)) for row in zip(*columns.values, strict=True)]


class Named(NamedTuple):
    episode_number: int
    episode_reward: float


@dataclasses.dataclass
class Mine:
    episode_number: int
    episode_reward: float | None = None
    mean_loss: float | None = None


def test_dicts_become_columns() -> None:
    columns = to_columns(
        [
            {"episode_number": 0, "episode_reward": 1.5, "episode_length": 10},
            {"episode_number": 1, "episode_reward": -2.0, "episode_length": 12},
        ]
    )
    assert columns.names == ("episode_number", "episode_reward", "episode_length")
    assert [list(c) for c in columns.values] == [[0, 1], [1.5, -2.0], [10, 12]]
    assert columns.count == 2
    assert [None in column for column in columns.values] == [False, False, False]


@pytest.mark.parametrize(
    "rows",
    [
        [Episode(0, 1.5), Episode(1, 2.5)],
        [Named(0, 1.5), Named(1, 2.5)],
        [Mine(0, 1.5), Mine(1, 2.5)],
        [{"episode_number": 0, "episode_reward": 1.5}, Episode(1, 2.5)],
    ],
    ids=["Episode", "NamedTuple", "dataclass", "mixed"],
)
def test_dataclasses_named_tuples_and_mixtures_give_the_same_columns(rows: list[Any]) -> None:
    columns = to_columns(rows)
    assert as_dicts(columns) == [
        {"episode_number": 0, "episode_reward": 1.5},
        {"episode_number": 1, "episode_reward": 2.5},
    ]


def test_fields_none_in_every_row_are_left_out() -> None:
    columns = to_columns([Episode(0, 1.0), Episode(1, None, 7)])
    assert columns.names == ("episode_number", "episode_reward", "episode_length")
    assert [None in column for column in columns.values] == [False, True, True]


def test_rows_with_different_keys_fill_the_gaps_with_none() -> None:
    columns = to_columns(
        [{"episode_number": 0, "mean_loss": 0.5}, {"episode_number": 1, "episode_reward": 3.0}]
    )
    assert as_dicts(columns) == [
        {"episode_number": 0, "mean_loss": 0.5, "episode_reward": None},
        {"episode_number": 1, "mean_loss": None, "episode_reward": 3.0},
    ]


def test_nan_and_infinities_are_kept() -> None:
    columns = to_columns(
        [
            {"episode_number": 0, "episode_reward": math.nan},
            {"episode_number": 1, "episode_reward": math.inf},
            {"episode_number": 2, "episode_reward": -math.inf},
        ]
    )
    rewards = list(columns.column("episode_reward"))
    assert math.isnan(rewards[0])
    assert rewards[1:] == [math.inf, -math.inf]


def test_numbers_of_other_types_become_floats() -> None:
    columns = to_columns(
        [
            {"episode_number": 0, "episode_reward": 2},
            {"episode_number": 1, "episode_reward": Decimal("0.25")},
        ]
    )
    assert list(columns.column("episode_reward")) == [2.0, 0.25]
    assert all(type(v) is float for v in columns.column("episode_reward"))


def test_duplicate_episode_numbers_keep_the_first() -> None:
    columns = to_columns(
        [
            {"episode_number": 5, "episode_reward": 1.0},
            {"episode_number": 6, "episode_reward": 2.0},
            {"episode_number": 5, "episode_reward": 99.0},
        ]
    )
    assert as_dicts(columns) == [
        {"episode_number": 5, "episode_reward": 1.0},
        {"episode_number": 6, "episode_reward": 2.0},
    ]
    assert columns.count == 2


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"episode_number": 0, "reward": 1.0}], "episodes[0].reward"),
        ([{"episode_reward": 1.0}], "episodes[0].episode_number"),
        ([{"episode_number": 0}, {"episode_number": None}], "episodes[1].episode_number"),
        ([{"episode_number": 0}, {"episode_number": -1}], "episodes[1].episode_number"),
        ([{"episode_number": INT32_MAX + 1}], "episodes[0].episode_number"),
        ([{"episode_number": 1.0}], "episodes[0].episode_number"),
        ([{"episode_number": True}], "episodes[0].episode_number"),
        ([{"episode_number": 0, "episode_length": -3}], "episodes[0].episode_length"),
        ([{"episode_number": 0, "episode_reward": "1.5"}], "episodes[0].episode_reward"),
        ([{"episode_number": 0, "episode_reward": True}], "episodes[0].episode_reward"),
        ([{"episode_number": 0, "mean_loss": 10**400}], "episodes[0].mean_loss"),
        ([{"episode_number": 0, "episode_time": dt.date(2024, 1, 1)}], "episodes[0].episode_time"),
        ([{"episode_number": 0}, (1, 2.0)], "episodes[1]"),
        ([{"episode_number": 0}, {1: 2}], "episodes[1].1"),
    ],
)
def test_bad_values_are_refused_naming_row_and_field(rows: list[Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        to_columns(rows)
    assert caught.value.field == field


def test_errors_count_rows_from_the_offset_of_the_chunk() -> None:
    rows = [
        {"episode_number": 0, "episode_reward": 1.0},
        {"episode_number": 1, "episode_reward": "x"},
    ]
    with pytest.raises(ValidationError) as caught:
        to_columns(rows, offset=40_000)
    assert caught.value.field == "episodes[40001].episode_reward"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError) as caught:
        to_columns([{"episode_number": 0, "episode_time": dt.datetime(2024, 1, 1)}])
    assert caught.value.field == "episodes[0].episode_time"


def test_pandas_records_and_numpy_scalars() -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame(
        {
            "episode_number": np.arange(3),
            "episode_reward": np.array([1.5, np.nan, np.inf]),
            "episode_time": pd.date_range("2024-03-01 12:00", periods=3, freq="s", tz="UTC"),
        }
    )
    columns = to_columns(frame.to_dict("records"))
    assert list(columns.column("episode_number")) == [0, 1, 2]
    rewards = list(columns.column("episode_reward"))
    assert rewards[0] == 1.5
    assert math.isnan(rewards[1])
    assert rewards[2] == math.inf
    assert all(type(v) is float for v in rewards)
    assert list(columns.column("episode_time")) == [T0 + dt.timedelta(seconds=i) for i in range(3)]
    numpy_rows = [{"episode_number": np.int64(4), "mean_loss": np.float32(0.5)}]
    assert as_dicts(to_columns(numpy_rows)) == [{"episode_number": 4, "mean_loss": 0.5}]
