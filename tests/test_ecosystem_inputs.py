"""What bot code hands over, taken exactly, on both backends: Python floats for money, numpy
scalars, pandas Timestamps, Series where a mapping is taken and DataFrames where rows are.

Each input kind is checked against its plain-Python spelling: the same call with Decimal /
int / date / dict / list of dicts must store the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tradestore import Database
from tradestore.domain.money import MONEY_CONTEXT, fit, to_decimal
from tradestore.errors import NaiveDatetimeError, PrecisionError, ValidationError

np = pytest.importorskip("numpy", reason="the pandas extra")
pd = pytest.importorskip("pandas", reason="the pandas extra")
hnp = pytest.importorskip("hypothesis.extra.numpy")

D = Decimal
MONDAY = dt.date(2024, 3, 4)
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
FIXTURE_OK = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def bot(db: Database) -> str:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    return "alpha"


def _in_money_bounds(value: Decimal) -> bool:
    """Within NUMERIC(38, 18): at most 18 decimals, 20 integer digits."""
    _sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    return -exponent <= 18 and len(digits) + exponent <= 20


# --- Python floats -------------------------------------------------------------------------


def test_a_float_means_the_decimal_its_repr_prints() -> None:
    assert to_decimal("price", 0.1) == D("0.1")
    assert to_decimal("price", 0.1 + 0.2) == D("0.30000000000000004")
    assert to_decimal("price", 1e16) == D("1E+16")
    assert to_decimal("price", np.float64(0.1)) == D("0.1")
    assert to_decimal("price", np.float32(0.1)) == D("0.1")  # its own shortest repr
    assert to_decimal("qty", np.int64(7)) == D(7)
    for bad in (float("nan"), float("-inf"), np.float64("nan"), np.True_):
        with pytest.raises(ValidationError) as info:
            to_decimal("price", bad)
        assert info.value.field == "price"


positive_floats = st.floats(min_value=1e-6, max_value=1e15, allow_nan=False, allow_infinity=False)


@FIXTURE_OK
@given(quantity=positive_floats, price=positive_floats)
def test_positions_take_floats_and_store_their_repr(
    db: Database, bot: str, quantity: float, price: float
) -> None:
    assume(_in_money_bounds(D(repr(quantity))) and _in_money_bounds(D(repr(price))))
    with db.unit_of_work(bot_id=bot) as uow:
        opened = uow.positions.open("BTC/USDT", side="long", quantity=quantity, entry_price=price)
    with db.unit_of_work(bot_id=bot) as uow:
        stored = uow.positions.get(opened.position_id)
        uow.positions.close(opened.position_id, exit_price=price, exit_reason="manual")
    assert (stored.quantity, stored.entry_price) == (D(repr(quantity)), D(repr(price)))


@FIXTURE_OK
@given(
    equity=st.floats(min_value=1.0, max_value=1e9, allow_nan=False),
    step=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_float_equity_and_its_arithmetic_store_on_both_backends(
    db: Database, bot: str, equity: float, step: float
) -> None:
    """A backtest's float equity curve: every point is stored as its repr, and the difference
    the library derives between two of them is stored too (fitted, never refused)."""
    assume(equity + step > 0)
    # A float whose repr needs more than 18 decimals (0.00000999999999995449) is refused as
    # money, as documented: not what this test is about.
    assume(_in_money_bounds(D(repr(equity + step))))
    with db.unit_of_work(bot_id=bot) as uow:
        first = uow.snapshots.record(snapshot_date=MONDAY, total_equity=equity, cash_balance=equity)
        second = uow.snapshots.record(
            snapshot_date=MONDAY + DAY, total_equity=equity + step, cash_balance=0.0
        )
    assert first.total_equity == D(repr(equity))
    assert second.total_equity == D(repr(equity + step))
    assert second.daily_pnl is not None
    exact = D(repr(equity + step)) - D(repr(equity))
    assert abs(second.daily_pnl - exact) <= D(math.ulp(float(exact)))


def test_the_issues_sum_of_two_valid_amounts_is_storable(db: Database, bot: str) -> None:
    total = D("8234.86184000001") + D("9083.52")
    with db.unit_of_work(bot_id=bot) as uow:
        snapshot = uow.snapshots.record(snapshot_date=MONDAY, total_equity=total, cash_balance=0)
    assert snapshot.total_equity == D("17318.38184000001")


def test_sqlite_refuses_only_what_a_double_would_change(
    db: Database, bot: str, backend: str
) -> None:
    unrepresentable = D("9007199254740993")  # 2**53 + 1
    if backend == "postgresql":
        with db.unit_of_work(bot_id=bot) as uow:
            stored = uow.snapshots.record(
                snapshot_date=MONDAY, total_equity=unrepresentable, cash_balance=0
            )
        assert stored.total_equity == unrepresentable
        return
    with pytest.raises(PrecisionError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.snapshots.record(snapshot_date=MONDAY, total_equity=unrepresentable, cash_balance=0)
    assert info.value.field == "total_equity"
    assert "9007199254740992" in str(info.value)  # what the double would have kept


# --- numpy scalars -------------------------------------------------------------------------


@FIXTURE_OK
@given(
    quantity=hnp.from_dtype(np.dtype("int64"), min_value=1, max_value=10**12),
    price=hnp.from_dtype(
        np.dtype("float64"), min_value=0.01, max_value=1e9, allow_nan=False, allow_infinity=False
    ),
    count=hnp.from_dtype(np.dtype("int64"), min_value=0, max_value=10_000),
)
def test_numpy_scalars_as_quantity_price_and_counts(
    db: Database, bot: str, quantity: Any, price: Any, count: Any
) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        order = uow.orders.submit(
            client_order_id=uuid.uuid4().hex,
            ticker="AAPL",
            side="buy",
            order_type="limit",
            quantity=quantity,
            limit_price=price,
        )
        snapshot = uow.snapshots.record(
            snapshot_date=MONDAY,
            total_equity=price,
            cash_balance=np.float64(0),
            positions_count=count,
            trades_today=np.int32(2),
        )
    assert (order.quantity, order.limit_price) == (D(int(quantity)), D(repr(float(price))))
    assert type(snapshot.positions_count) is int
    assert (snapshot.positions_count, snapshot.trades_today) == (int(count), 2)
    with db.unit_of_work(bot_id=bot) as uow:
        uow.orders.cancel(order.order_id)


def test_numpy_bool_is_a_bool_and_not_a_number(db: Database, bot: str) -> None:
    with db.unit_of_work() as uow:
        run = uow.training.start_run(
            "PPO",
            "ppo",
            hyperparameters={"learning_rate": np.float64(3e-4), "n_steps": np.int64(64)},
        )
        finished = uow.training.finish(
            run.run_id, status="completed", convergence_achieved=np.bool_(True)
        )
        params = uow.training.hyperparameters(run.run_id)
    assert finished.convergence_achieved is True
    assert params is not None
    assert params.learning_rate == 3e-4
    with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.snapshots.record(snapshot_date=MONDAY, total_equity=np.True_, cash_balance=0)
    assert info.value.field == "total_equity"


# --- pandas Timestamps ---------------------------------------------------------------------


zones = st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo", "Europe/London"])


@FIXTURE_OK
@given(
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
    zone=zones,
    minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_an_aware_timestamp_is_a_date_and_an_instant(
    db: Database, bot: str, day: dt.date, zone: str, minutes: int
) -> None:
    """As a date argument a Timestamp is the day it shows in its zone; as an instant it is
    the instant, stored as a plain UTC datetime."""
    stamp = pd.Timestamp(day, tz=zone) + pd.Timedelta(minutes=minutes)
    with db.unit_of_work(bot_id=bot) as uow:
        snapshot = uow.snapshots.record(
            snapshot_date=stamp, snapshot_time=stamp, total_equity=1, cash_balance=1
        )
    assert snapshot.snapshot_date == stamp.date()
    assert type(snapshot.snapshot_time) is dt.datetime
    assert snapshot.snapshot_time == stamp.to_pydatetime()
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.snapshots.get(stamp) == snapshot


def test_a_timestamp_is_its_instant_whatever_library_gave_its_zone(db: Database, bot: str) -> None:
    """01:30 on 3 November 2024 happens twice in New York; the first is 05:30 UTC."""
    pytz = pytest.importorskip("pytz")
    from zoneinfo import ZoneInfo

    from dateutil import tz as dateutil_tz

    zones = [
        pytz.timezone("America/New_York"),
        dateutil_tz.gettz("America/New_York"),
        ZoneInfo("America/New_York"),
    ]
    first = dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC)
    for i, zone in enumerate(zones):
        stamp = pd.Timestamp("2024-11-03 01:30").tz_localize(zone, ambiguous=True)
        with db.unit_of_work(bot_id=bot) as uow:
            stored = uow.snapshots.record(
                snapshot_date=MONDAY + i * DAY, snapshot_time=stamp, total_equity=1, cash_balance=1
            )
        assert stored.snapshot_time == first, zone


def test_naive_and_nanosecond_timestamps_are_refused(db: Database, bot: str) -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"snapshot_date": pd.Timestamp("2024-03-04")}, NaiveDatetimeError, "snapshot_date"),
        ({"snapshot_time": pd.Timestamp("2024-03-04 15:00")}, NaiveDatetimeError, "snapshot_time"),
        (
            {"snapshot_time": pd.Timestamp("2024-03-04 15:00:00.000000001", tz="UTC")},
            ValidationError,
            "snapshot_time",
        ),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error) as info, db.unit_of_work(bot_id=bot) as uow:
            uow.snapshots.record(total_equity=1, cash_balance=1, **kwargs)
        assert info.value.field == field  # type: ignore[attr-defined]
    with db.unit_of_work(bot_id=bot) as uow:
        assert uow.snapshots.history() == []


# --- pandas Series where a mapping is taken ------------------------------------------------


def _equity(db: Database, bot: str, values: list[float]) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for i, equity in enumerate(values):
            uow.snapshots.record(
                snapshot_date=MONDAY + i * DAY, total_equity=equity, cash_balance=0
            )


@FIXTURE_OK
@given(
    returns=st.lists(
        st.floats(min_value=-0.05, max_value=0.05, allow_nan=False), min_size=4, max_size=4
    )
)
def test_a_pct_change_series_is_the_benchmark_mapping(
    db: Database, bot: str, backend: str, returns: list[float]
) -> None:
    """``closes.pct_change()``: a DatetimeIndex and a leading NaN. The NaN day is left out."""
    _equity(db, bot, [100.0, 101.0, 103.02, 101.9898, 102.5])
    closes = [100.0]
    for r in returns:
        closes.append(closes[-1] * (1 + r))
    index = pd.date_range(pd.Timestamp(MONDAY, tz="America/New_York"), periods=5, freq="D")
    series = pd.Series(closes, index=index).pct_change()
    assert math.isnan(series.iloc[0])
    plain = {MONDAY + (i + 1) * DAY: float(v) for i, v in enumerate(series.iloc[1:])}
    with db.unit_of_work(bot_id=bot) as uow:
        from_series = uow.metrics.compute(MONDAY + 4 * DAY, benchmark_returns=series)
        from_dict = uow.metrics.compute(MONDAY + 4 * DAY, benchmark_returns=plain)
    assert from_series.values == from_dict.values
    assert from_series.benchmark_return == pytest.approx(
        (math.prod(1 + r for r in plain.values()) - 1) * 100
    )


def test_a_dataframe_is_not_taken_for_a_mapping(db: Database, bot: str) -> None:
    frame = pd.DataFrame({"close": [0.01]}, index=[pd.Timestamp(MONDAY, tz="UTC")])
    with (
        pytest.raises(ValidationError, match=r"frame\['close'\]"),
        db.unit_of_work(bot_id=bot) as uow,
    ):
        uow.metrics.compute(MONDAY, benchmark_returns=frame)


@FIXTURE_OK
@given(prices=st.lists(positive_floats, min_size=2, max_size=2))
def test_mark_to_market_takes_a_series_of_prices(
    db: Database, bot: str, prices: list[float]
) -> None:
    assume(all(_in_money_bounds(D(repr(p))) for p in prices))
    with db.unit_of_work(bot_id=bot) as uow:
        for ticker in ("AAPL", "MSFT"):
            uow.positions.open(ticker, side="long", quantity=1, entry_price=100)
        marked = uow.positions.mark_to_market(pd.Series(prices, index=["AAPL", "MSFT"]))
        current = {p.ticker: p.current_price for p in uow.positions.list_open()}
        for position in uow.positions.list_open():
            uow.positions.close(position.position_id, exit_price=100, exit_reason="manual")
    assert marked == 2
    assert current == {"AAPL": D(repr(prices[0])), "MSFT": D(repr(prices[1]))}


def test_stops_hit_takes_a_series_of_prices(db: Database, bot: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        for ticker in ("AAPL", "MSFT"):
            uow.positions.open(ticker, side="long", quantity=1, entry_price=100, stop_loss_price=95)
        hits = uow.positions.stops_hit(pd.Series([94.5, 96.0], index=["AAPL", "MSFT"]))
    assert [(h.ticker, h.price) for h in hits] == [("AAPL", D("94.5"))]


def test_ensemble_weights_from_a_series(db: Database) -> None:
    with db.unit_of_work() as uow:
        runs = [uow.training.start_run("PPO", f"m{i}").run_id for i in range(2)]
        version = uow.ensembles.set_weights("e", pd.Series([0.25, 0.75], index=runs))
    assert version.weights == {runs[0]: 0.25, runs[1]: 0.75}


# --- pandas DataFrames where rows are taken ------------------------------------------------


@FIXTURE_OK
@given(
    rewards=hnp.arrays(
        np.float64, st.integers(min_value=1, max_value=30), elements=st.floats(-1e6, 1e6)
    )
)
def test_log_episodes_takes_a_dataframe(db: Database, rewards: Any) -> None:
    count = len(rewards)
    frame = pd.DataFrame(
        {
            "episode_number": np.arange(count, dtype=np.int64),
            "episode_reward": rewards,
            "episode_length": np.full(count, 200, dtype=np.int32),
            "episode_time": pd.date_range(T0, periods=count, freq="min"),
        }
    )
    frame.loc[0, "episode_reward"] = np.nan  # a diverging episode: data, kept
    with db.unit_of_work() as uow:
        run = uow.training.start_run("PPO", "ppo")
        twin = uow.training.start_run("PPO", "ppo")
        assert uow.training.log_episodes(run.run_id, frame) == count
        uow.training.log_episodes(twin.run_id, frame.to_dict("records"))
        from_frame = uow.training.episodes(run.run_id)
        from_rows = uow.training.episodes(twin.run_id)
        assert uow.training.log_episodes(run.run_id, frame) == 0  # idempotent
    assert len(from_frame) == count
    assert math.isnan(from_frame[0].episode_reward or 0.0)
    assert [e[1:] for e in from_frame[1:]] == [e[1:] for e in from_rows[1:]]
    assert [e.episode_reward for e in from_frame[1:]] == [float(r) for r in rewards[1:]]
    assert all(type(e.episode_time) is dt.datetime for e in from_frame)


def test_ingest_fills_takes_a_dataframe(db: Database, bot: str, backend: str) -> None:
    with db.unit_of_work(bot_id=bot) as uow:
        order = uow.orders.submit(
            client_order_id="c-1",
            ticker="BTC/USDT",
            side="buy",
            order_type="market",
            quantity=0.3,
            status="accepted",
        )
    frame = pd.DataFrame(
        {
            "fill_id": ["f-1", "f-2"],
            "order_id": [order.order_id] * 2,
            "quantity": [0.1, 0.2],
            "price": [64123.45, 64123.5],
            "filled_at": pd.to_datetime([1709562600000, 1709562601000], unit="ms", utc=True),
            "commission": [0.064, np.nan],  # a missing fee in a float column: refused
        }
    )
    with pytest.raises(ValidationError) as info, db.unit_of_work(bot_id=bot) as uow:
        uow.orders.ingest_fills(frame)
    assert info.value.field == "rows[1].commission"
    frame.loc[1, "commission"] = 0.128
    with db.unit_of_work(bot_id=bot) as uow:
        report = uow.orders.ingest_fills(frame)
        replay = uow.orders.ingest_fills(frame)
        filled = uow.orders.get(order.order_id)
    assert (report.inserted, replay.replayed) == (2, 2)
    assert filled.filled_quantity == D("0.3")
    assert filled.commission == D("0.192")
    with localcontext(MONEY_CONTEXT):
        vwap = (D("0.1") * D("64123.45") + D("0.2") * D("64123.5")) / D("0.3")
    assert filled.filled_avg_price == fit(vwap, backend)
