"""Money, time and float types: the values stored are the values written, or an error."""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Iterator
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Double,
    Integer,
    MetaData,
    Numeric,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.types import TypeEngine

from tradestore import Database
from tradestore.db.types import (
    Money,
    Real,
    Storage,
    UTCDateTime,
    pg_microseconds,
    sqlite_time,
    storage,
)
from tradestore.domain.enums import Liquidity
from tradestore.domain.money import (
    MONEY_CONTEXT,
    SQLITE_SIGNIFICANT_DIGITS,
    check_storable,
    fit,
    fit_aggregate,
    survives_double,
    to_decimal,
)
from tradestore.errors import NaiveDatetimeError, PrecisionError, ValidationError
from tradestore.models.trading import Fill, Order
from tradestore.models.training import TrainingEpisode
from tradestore.repositories.order_sql import INGEST_ORDER_UPDATE_FIELDS

probe_metadata = MetaData()
probe = Table(
    "type_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Money()),
    Column("at", UTCDateTime()),
    Column("ratio", Real()),
)


@pytest.fixture
def probe_db(db: Database) -> Iterator[Database]:
    """The test's database with a table of its own, dropped afterwards: on PostgreSQL the
    database is shared by the session, and ``db verify`` tests would see it as foreign."""
    with db.engine.begin() as conn:
        probe_metadata.create_all(conn)
    yield db
    with db.engine.begin() as conn:
        probe_metadata.drop_all(conn)


def _roundtrip(db: Database, **values: object) -> dict[str, object]:
    with db.engine.begin() as conn:
        conn.execute(probe.delete())
        conn.execute(insert(probe), [{"id": 1, **values}])
        row = conn.execute(select(probe)).mappings().one()
    return dict(row)


def _max_digits(backend: str) -> int:
    return SQLITE_SIGNIFICANT_DIGITS if backend == "sqlite" else 38


@st.composite
def storable_decimals(draw: st.DrawFn, max_significant: int) -> Decimal:
    """Decimals with at most ``max_significant`` digits, <= 18 decimals, <= 20 integer digits.

    Built from a string, which is exact: ``Decimal(n).scaleb(k)`` rounds to the context's 28
    digits, and rounded 99999999999999999999.9999999x became 100000000000000000000.0000000,
    one integer digit past what the strategy meant to draw.
    """
    digits = draw(st.integers(min_value=1, max_value=max_significant))
    decimals = draw(st.integers(min_value=0, max_value=min(18, digits)))
    if digits - decimals > 20:
        decimals = digits - 20
    coefficient = draw(st.integers(min_value=0, max_value=10**digits - 1))
    sign = draw(st.sampled_from([1, -1]))
    return Decimal(f"{sign * coefficient}E-{decimals}")


def _significant(value: Decimal) -> int:
    return len(format(value.copy_abs(), "f").replace(".", "").strip("0"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.one_of(storable_decimals(SQLITE_SIGNIFICANT_DIGITS), storable_decimals(38)))
# The bounds of NUMERIC(38, 18): 20 integer digits, 18 decimals (PostgreSQL).
@example(value=Decimal("99999999999999999999.999999999999999999"))
@example(value=Decimal("-99999999999999999999.999999999999999999"))
@example(value=Decimal("99999999999999999999"))
@example(value=Decimal("10000000000000000000"))
@example(value=Decimal("12345678901234567890.123456789012345678"))
@example(value=Decimal("0.000000000000000001"))
@example(value=Decimal("-0.000000000000000001"))
# SQLite's 15 significant digits.
@example(value=Decimal("999999999999999"))
@example(value=Decimal("-99999.9999999999"))
@example(value=Decimal("0.000999999999999999"))
def test_money_round_trips_exactly(probe_db: Database, backend: str, value: Decimal) -> None:
    assume(_significant(value) <= _max_digits(backend))
    stored = _roundtrip(probe_db, amount=value)["amount"]
    assert isinstance(stored, Decimal)
    assert stored == value


@pytest.mark.parametrize(
    "value",
    [
        "100000000000000000000",  # 21 integer digits
        "100000000000000000000.0000000",  # what the rounding strategy drew
        "-100000000000000000000",
        "0.0000000000000000001",  # 19 decimals
        "12345678901.1234567890123456789",  # 30 digits, 19 decimals: not 28 digits, 17
    ],
)
def test_one_digit_past_the_bounds_is_refused(backend: str, value: str) -> None:
    with pytest.raises(PrecisionError):
        check_storable("amount", Decimal(value), backend)


def test_crypto_scale_prices_round_trip(probe_db: Database) -> None:
    for raw in ("0.000001234", "0.000000000000000001", "65432.12345678", "123456789012345"):
        assert _roundtrip(probe_db, amount=Decimal(raw))["amount"] == Decimal(raw)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_more_digits_than_the_backend_keeps_are_refused(
    probe_db: Database, backend: str, data: st.DataObject
) -> None:
    limit = _max_digits(backend)
    extra = data.draw(st.integers(min_value=1, max_value=5))
    coefficient = data.draw(
        st.integers(min_value=10 ** (limit + extra - 1), max_value=10 ** (limit + extra) - 1)
    )
    if coefficient % 10 == 0:
        coefficient += 1  # keep the last digit significant
    value = Decimal(f"{coefficient}E-18")
    # On SQLite, digits past 15 are refused only when the double would change them.
    assume(backend != "sqlite" or not survives_double(value))
    with pytest.raises(PrecisionError) as info:
        check_storable("price", value, backend)
    assert info.value.field == "price"
    with pytest.raises(StatementError) as stmt:
        _roundtrip(probe_db, amount=value)
    assert isinstance(stmt.value.orig, PrecisionError)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=storable_decimals(19))
@example(value=Decimal("8234.86184000001") + Decimal("9083.52"))  # 17318.38184000001
@example(value=Decimal("8234.86184000001"))
@example(value=Decimal("0.30000000000000004"))
@example(value=Decimal("0.3000000000000000400"))  # trailing zeros: the same number
@example(value=Decimal("30000000000000004E-17"))  # and an exponent
@example(value=Decimal("9007199254740993"))  # 2**53 + 1: no double holds it
@example(value=Decimal("1.0000000000000001"))
def test_sqlite_stores_a_decimal_exactly_when_it_survives_a_double(
    probe_db: Database, backend: str, value: Decimal
) -> None:
    """SQLite: storable iff Decimal(repr(float(d))) == d, and then stored as is; PostgreSQL:
    every value within NUMERIC(38, 18) is stored as is."""
    if backend == "sqlite" and Decimal(repr(float(value))) != value:
        with pytest.raises(PrecisionError) as info:
            check_storable("price", value, backend)
        assert str(Decimal(repr(float(value)))) in str(info.value)
        return
    assert check_storable("price", value, backend) == value
    stored = _roundtrip(probe_db, amount=value)["amount"]
    assert stored == value


def test_too_many_decimals_refused_everywhere() -> None:
    for backend in ("sqlite", "postgresql"):
        with pytest.raises(PrecisionError):
            check_storable("qty", Decimal("1e-19"), backend)


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), "abc", Decimal("NaN"), Decimal("Infinity"), True, None, [1]],
)
def test_to_decimal_refuses_non_decimals(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_decimal("entry_price", bad)
    assert info.value.field == "entry_price"
    assert "entry_price" in str(info.value)


def test_to_decimal_accepts_decimal_int_and_str() -> None:
    assert to_decimal("x", Decimal("1.5")) == Decimal("1.5")
    assert to_decimal("x", 3) == Decimal(3)
    assert to_decimal("x", " 2.25 ") == Decimal("2.25")


def test_fit_rounds_derived_values_to_what_the_backend_stores() -> None:
    third = Decimal(1) / Decimal(3)
    assert fit(third, "postgresql") == Decimal("0.333333333333333333")
    # On SQLite: the decimal the nearest double reads back as.
    assert fit(third, "sqlite") == Decimal(repr(1 / 3)) == Decimal("0.3333333333333333")
    big = Decimal("12345678901234567.891")
    assert fit(big, "sqlite") == Decimal("12345678901234568")
    assert fit(big, "postgresql") == big
    assert fit(Decimal("1.5"), "sqlite") == Decimal("1.5")
    # A sum that survives a double is kept whole, past 15 digits.
    total = Decimal("8234.86184000001") + Decimal("9083.52")
    assert fit(total, "sqlite") == total == Decimal("17318.38184000001")


def test_fit_aggregate_takes_the_noise_off_sqlite_double_arithmetic() -> None:
    noisy = Decimal(repr(sum([12.34] * 47)))  # what SQLite's SUM() returns
    assert noisy != Decimal("12.34") * 47
    assert fit_aggregate(noisy, "sqlite") == Decimal("12.34") * 47
    assert fit_aggregate(Decimal("579.98"), "postgresql") == Decimal("579.98")


def test_fitted_values_always_pass_check_storable() -> None:
    values = [Decimal(2).sqrt().scaleb(k) for k in range(-10, 19)]
    for backend in ("sqlite", "postgresql"):
        for value in values:
            check_storable("v", fit(value, backend), backend)


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(
        min_value=Decimal("-1E+19"), max_value=Decimal("1E+19"), allow_nan=False, places=24
    )
)
def test_fit_on_sqlite_is_storable_idempotent_and_within_a_double_of_the_value(
    value: Decimal,
) -> None:
    fitted = fit(value, "sqlite")
    assert check_storable("v", fitted, "sqlite") == fitted
    assert fit(fitted, "sqlite") == fitted
    # 18 decimals first (half a unit of 1E-18), then the double: within one ulp of it.
    with localcontext(MONEY_CONTEXT):
        nearest = float(value.quantize(Decimal("1E-18")))
    assert abs(fitted - value) <= Decimal("0.5E-18") + Decimal(math.ulp(nearest))


def test_datetimes_are_stored_and_returned_as_aware_utc(probe_db: Database) -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))
    written = dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=eastern)
    read = _roundtrip(probe_db, at=written)["at"]
    assert isinstance(read, dt.datetime)
    assert read.tzinfo is not None
    assert read.utcoffset() == dt.timedelta(0)
    assert read == written


def test_naive_datetimes_are_refused(probe_db: Database) -> None:
    with pytest.raises(StatementError) as info:
        _roundtrip(probe_db, at=dt.datetime(2026, 3, 1, 9, 30))
    assert isinstance(info.value.orig, NaiveDatetimeError)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), -0.0, 1e-300, 1e300])
def test_real_keeps_nan_and_infinities(probe_db: Database, value: float) -> None:
    read = _roundtrip(probe_db, ratio=value)["ratio"]
    assert isinstance(read, float)
    if math.isnan(value):
        assert math.isnan(read)
    else:
        assert read == value


# --- storage encodings: what the bulk paths send equals what the type binds ---------------------

SQLITE = sqlite.dialect()
POSTGRESQL = postgresql.dialect()
OFFSETS = [dt.UTC, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=9))]
AWARE_TIMES = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from(OFFSETS),
)


def bound(type_: TypeEngine[Any], dialect: Any, values: list[Any]) -> list[Any]:
    """What ``type_`` itself binds for each value (its processor, as Core would run it)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return [v if v is None or process is None else process(v) for v in values]


def stored_on_sqlite(type_: TypeEngine[Any], values: list[Any]) -> list[Any]:
    encode = storage(type_, SQLITE).sqlite
    return list(values if encode is None else encode(values))


@given(AWARE_TIMES)
@settings(max_examples=300)
def test_sqlite_time_is_what_the_column_type_binds(value: dt.datetime) -> None:
    assert [sqlite_time(value)] == bound(UTCDateTime(), SQLITE, [value])


def test_sqlite_time_keeps_six_decimals() -> None:
    assert sqlite_time(dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)) == (
        "2026-01-05 14:30:00.000000"
    )


@given(st.lists(st.one_of(st.none(), AWARE_TIMES), min_size=1, max_size=20))
@settings(max_examples=200)
def test_sqlite_time_columns_are_what_the_column_type_binds(values: list[Any]) -> None:
    """All-UTC columns take a C loop, the others value by value: both must agree with it."""
    assert stored_on_sqlite(UTCDateTime(), values) == bound(UTCDateTime(), SQLITE, values)
    utc = [None if v is None else v.astimezone(dt.UTC) for v in values]
    assert stored_on_sqlite(UTCDateTime(), utc) == bound(UTCDateTime(), SQLITE, utc)


def test_sqlite_time_column_before_1970_and_with_microseconds() -> None:
    values = [
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
    ]
    assert stored_on_sqlite(UTCDateTime(), values) == [
        "1969-12-31 23:59:59.999999",
        "2024-03-01 12:00:00.123456",
    ]


FLOATS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(st.lists(FLOATS, min_size=1, max_size=20))
def test_sqlite_reals_are_what_real_binds(values: list[Any]) -> None:
    stored = stored_on_sqlite(Real(), values)
    assert stored == bound(Real(), SQLITE, values)
    assert [v == "NaN" for v in stored] == [v is not None and math.isnan(v) for v in values]


def test_sqlite_real_nan_is_the_text_real_binds() -> None:
    values = [math.nan, 1.0, None, math.inf, -math.inf]
    assert stored_on_sqlite(Real(), values) == ["NaN", 1.0, None, math.inf, -math.inf]
    assert bound(Real(), SQLITE, values)[:3] == ["NaN", 1.0, None]


@given(st.lists(st.one_of(st.none(), storable_decimals(SQLITE_SIGNIFICANT_DIGITS)), min_size=1))
def test_sqlite_amounts_are_what_money_binds(values: list[Any]) -> None:
    assert stored_on_sqlite(Money(), values) == bound(Money(), SQLITE, values)
    plain = Numeric(asdecimal=False)
    assert stored_on_sqlite(plain, values) == bound(plain, SQLITE, values)


def test_enum_members_are_stored_as_their_text() -> None:
    (liquidity,) = (c.type for c in Fill.__table__.c if c.name == "liquidity")
    stored = stored_on_sqlite(liquidity, [Liquidity.MAKER, "taker", None])
    assert stored == ["maker", "taker", None]
    assert [type(v) for v in stored] == [str, str, type(None)]


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL], ids=["sqlite", "postgresql"])
def test_every_column_the_bulk_paths_write_has_a_storage(dialect: Any) -> None:
    columns = [*TrainingEpisode.__table__.c, *Fill.__table__.c]
    columns += [Order.__table__.c[name] for name in INGEST_ORDER_UPDATE_FIELDS]
    for column in columns:
        assert isinstance(storage(column.type, dialect), Storage), column


def test_binary_forms_are_the_postgresql_fields() -> None:
    assert storage(Integer(), POSTGRESQL).binary == "i"
    assert storage(Double(), POSTGRESQL).binary == "d"
    assert storage(Real(), POSTGRESQL).binary == "d"
    assert storage(UTCDateTime(), POSTGRESQL).binary == "q"
    assert storage(Money(), POSTGRESQL).binary is None  # NUMERIC goes as text
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert pg_microseconds([epoch, None, epoch + dt.timedelta(seconds=1, microseconds=1)]) == [
        0,
        None,
        1_000_001,
    ]


@given(value=AWARE_TIMES, number=st.floats(allow_nan=True, allow_infinity=True))
@example(value=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), number=-math.nan)  # NaN, sign bit set
@example(value=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), number=-0.0)
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_postgresql_binary_encodings_are_what_the_server_sends(
    db: Database, backend: str, value: dt.datetime, number: float
) -> None:
    """The bytes COPY sends for a time and a double are those PostgreSQL's own binary output
    gives for the value bound through the column type."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's binary COPY format")
    time_kind = storage(UTCDateTime(), POSTGRESQL)
    real_kind = storage(Real(), POSTGRESQL)
    assert time_kind.to_binary is not None
    statement = text("SELECT timestamptz_send(:t), float8send(:x)").bindparams(
        bindparam("t", value, type_=UTCDateTime()), bindparam("x", number, type_=Real())
    )
    with db.engine.connect() as conn:
        sent_time, sent_number = conn.execute(statement).one()
    (microseconds,) = time_kind.to_binary([value])
    assert bytes(sent_time) == struct.pack(">" + str(time_kind.binary), microseconds)
    assert real_kind.to_binary is not None
    (encoded,) = real_kind.to_binary([number])
    ours = struct.pack(">" + str(real_kind.binary), encoded)
    if number == 0:
        # psycopg2 inlines -0.0 as ``-0.0``, which the server reads as minus the numeric 0:
        # +0. COPY keeps the sign. The same number either way, so compare the values.
        assert struct.unpack(">d", bytes(sent_number)) == struct.unpack(">d", ours)
    else:
        assert bytes(sent_number) == ours
