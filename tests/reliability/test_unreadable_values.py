"""Issue 11, items 6-9 and 16: values that were accepted but could not be read back or stored.

Each value is refused up front with a ``ValidationError`` naming the field, on both backends,
and writes nothing; no raw ``OverflowError``, ``UnicodeEncodeError``, ``ValueError`` or
``RecursionError`` escapes, and the error message itself can always be built. JSON floats read
back as floats on both backends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from reliability_support import database_state, record_figure

from tradestore import Database
from tradestore.domain.validation import MAX_JSON_DEPTH
from tradestore.errors import ValidationError
from tradestore.repositories.metrics import MetricValues
from tradestore.unit_of_work import UnitOfWork

pytestmark = pytest.mark.reliability

BOT = "bot-1"
RUN = "run-1"
EASTERN = dt.timezone(dt.timedelta(hours=-5))
INDIA = dt.timezone(dt.timedelta(hours=5, minutes=30))
#: Year 10000 and year 0 in UTC: representable as aware datetimes, not convertible to UTC.
LATEST_EASTERN = dt.datetime.max.replace(tzinfo=EASTERN)
EARLIEST_INDIA = dt.datetime.min.replace(tzinfo=INDIA)
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def _nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


Call = Callable[[UnitOfWork], object]


def _open(**kwargs: Any) -> Call:
    arguments = {
        "ticker": "AAPL",
        "side": "long",
        "quantity": Decimal(1),
        "entry_price": Decimal(10),
        "position_id": "p-1",
        **kwargs,
    }
    return lambda uow: uow.positions.open(**arguments)


def _submit(**kwargs: Any) -> Call:
    arguments = {
        "client_order_id": "c-1",
        "ticker": "AAPL",
        "side": "buy",
        "order_type": "market",
        "quantity": Decimal(1),
        "reference_price": Decimal(10),
        **kwargs,
    }
    return lambda uow: uow.orders.submit(**arguments)


def _episodes(*rows: dict[str, Any]) -> Call:
    return lambda uow: uow.training.log_episodes(RUN, list(rows))


def _import_fill(filled_at: dt.datetime) -> Call:
    def call(uow: UnitOfWork) -> object:
        uow.orders.submit(
            order_id="o-9",
            client_order_id="c-9",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal(5),
            reference_price=Decimal(10),
        )
        return uow.orders.ingest_fills(
            [
                {
                    "fill_id": "f-9",
                    "order_id": "o-9",
                    "quantity": Decimal(1),
                    "price": Decimal(10),
                    "filled_at": filled_at,
                }
            ]
        )

    return call


CASES: dict[str, tuple[Call, str]] = {
    # item 6: timestamps that cannot be read back in UTC
    "opened_at datetime.max -05:00": (_open(opened_at=LATEST_EASTERN), "opened_at"),
    "opened_at datetime.min +05:30": (_open(opened_at=EARLIEST_INDIA), "opened_at"),
    "submitted_at datetime.max -05:00": (_submit(submitted_at=LATEST_EASTERN), "submitted_at"),
    "start_time datetime.min +05:30": (
        lambda uow: uow.training.start_run("PPO", "m", run_id="r-2", start_time=EARLIEST_INDIA),
        "start_time",
    ),
    "episode_time datetime.max -05:00": (
        _episodes({"episode_number": 1, "episode_time": LATEST_EASTERN}),
        "episodes[0].episode_time",
    ),
    "episode_time datetime.min +05:30 after a good row": (
        _episodes(
            {"episode_number": 1, "episode_time": T0.astimezone(INDIA)},
            {"episode_number": 2, "episode_time": EARLIEST_INDIA},
        ),
        "episodes[1].episode_time",
    ),
    "imported filled_at datetime.max -05:00": (
        _import_fill(LATEST_EASTERN),
        "rows[0].filled_at",
    ),
    # item 7: raw exceptions from validation
    "strategy lone surrogate": (_open(strategy="mean\udc80"), "strategy"),
    "ticker lone surrogate": (_open(ticker="A\udc80"), "ticker"),
    "client_order_id lone surrogate": (_submit(client_order_id="c\udc80"), "client_order_id"),
    "error_message lone surrogate": (
        lambda uow: uow.training.finish(RUN, status="failed", error_message="\udc80"),
        "error_message",
    ),
    "signal_score sNaN": (_open(signal_score=Decimal("sNaN")), "signal_score"),
    "signal_score 10**400": (_open(signal_score=10**400), "signal_score"),
    "metrics.record sNaN": (
        lambda uow: uow.metrics.record(
            T0.date(),
            MetricValues(sharpe_ratio=Decimal("sNaN")),  # type: ignore[arg-type]
        ),
        "sharpe_ratio",
    ),
    "metrics.record 10**400": (
        lambda uow: uow.metrics.record(T0.date(), MetricValues(omega_ratio=10**400)),
        "omega_ratio",
    ),
    "evaluation 10**400": (
        lambda uow: uow.evaluations.record(RUN, "test", total_return=10**400),
        "total_return",
    ),
    "evaluation sNaN": (
        lambda uow: uow.evaluations.record(RUN, "test", sharpe_ratio=Decimal("sNaN")),  # type: ignore[arg-type]
        "sharpe_ratio",
    ),
    "ensemble weight 10**400": (
        lambda uow: uow.ensembles.set_weights("e-1", {RUN: 10**400}),
        "weights['run-1']",
    ),
    "ensemble weight sNaN": (
        lambda uow: uow.ensembles.set_weights("e-1", {RUN: Decimal("sNaN")}),  # type: ignore[dict-item]
        "weights['run-1']",
    ),
    "hyperparameters.learning_rate 10**400": (
        lambda uow: uow.training.start_run(
            "PPO", "m", run_id="r-2", hyperparameters={"learning_rate": 10**400}
        ),
        "hyperparameters.learning_rate",
    ),
    "episode learning_rate Decimal('1E+400')": (
        _episodes({"episode_number": 1, "learning_rate": Decimal("1E+400")}),
        "episodes[0].learning_rate",
    ),
    "episode learning_rate 10**400": (
        _episodes({"episode_number": 1, "learning_rate": 10**400}),
        "episodes[0].learning_rate",
    ),
    "metrics.compute(date.max)": (lambda uow: uow.metrics.compute(dt.date.max), "as_of"),
    "metrics.compute(date.min)": (lambda uow: uow.metrics.compute(dt.date.min), "as_of"),
    "daily_summary(now=datetime.min)": (
        lambda uow: list(uow.analytics.daily_summary(now=dt.datetime.min.replace(tzinfo=dt.UTC))),
        "now",
    ),
    "metadata nested 5,000 deep": (
        _open(metadata=_nested(5_000)),
        "metadata" + "['a']" * 15 + "[...]",  # the path, shortened past 80 characters
    ),
    "an enum argument nested 5,000 deep": (
        lambda uow: uow.training.count(algorithm=_nested(5_000)),
        "algorithm",
    ),
    "metadata with a 5,000-digit int": (_open(metadata={"n": 10**5_000}), "metadata"),
    # item 8: non-string keys
    "metadata with an int key beside its string": (
        _open(metadata={1: "int", "1": "str"}),
        "metadata",
    ),
    "metadata with a bool key beside its string": (
        _open(metadata={True: "t", "true": "x"}),
        "metadata",
    ),
    "config with a nested int key": (
        lambda uow: uow.bots.register("bot-2", config={"limits": {1: "x"}}),
        "config['limits']",
    ),
    # item 9: NUL and lone surrogates inside JSON
    "metadata value with NUL": (_open(metadata={"note": "a\x00b"}), "metadata['note']"),
    "metadata key with NUL": (_open(metadata={"a\x00": 1}), "metadata"),
    "metadata value with a lone surrogate": (
        _submit(metadata={"notes": ["ok", "\udc80"]}),
        "metadata['notes'][1]",
    ),
    "config key with a lone surrogate": (
        lambda uow: uow.bots.register("bot-2", config={"\udc80": 1}),
        "config",
    ),
    "hyperparameters with NUL": (
        lambda uow: uow.training.start_run(
            "PPO", "m", run_id="r-2", hyperparameters={"policy": "Mlp\x00"}
        ),
        "hyperparameters['policy']",
    ),
}


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.bots.register(BOT, starting_balance=Decimal(1000))
        uow.training.start_run("PPO", "model", run_id=RUN)
    return db


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_the_field_named_and_nothing_written(seeded: Database, case: str) -> None:
    call, field = CASES[case]
    before = database_state(seeded)
    with pytest.raises(ValidationError) as caught, seeded.unit_of_work(bot_id=BOT) as uow:
        call(uow)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}=")
    assert database_state(seeded) == before
    record_figure("unreadable_values", "refused", 1)


def test_extreme_instants_that_convert_are_kept_and_read_back(seeded: Database) -> None:
    """The edges of the range stay legal: year 1 and year 9999 in UTC, from any offset."""
    earliest = dt.datetime.min.replace(tzinfo=EASTERN)  # 05:00 UTC on 0001-01-01
    latest = dt.datetime.max.replace(tzinfo=INDIA)  # 18:29 UTC on 9999-12-31
    with seeded.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL", side="long", quantity=Decimal(1), entry_price=Decimal(10), opened_at=latest
        )
        uow.training.log_episodes(
            RUN,
            [
                {"episode_number": 1, "episode_time": earliest},
                {"episode_number": 2, "episode_time": latest},
            ],
        )
    with seeded.unit_of_work(bot_id=BOT) as uow:
        assert [p.opened_at for p in uow.positions.list_open()] == [latest]
        assert [e.episode_time for e in uow.training.episodes(RUN)] == [earliest, latest]
        assert [e.episode_time for e in uow.training.iter_episodes(RUN)] == [earliest, latest]


def test_json_nested_to_the_documented_depth_is_kept(seeded: Database) -> None:
    document = _nested(MAX_JSON_DEPTH)
    with seeded.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL", position_id="p-1", side="long", quantity=Decimal(1),
            entry_price=Decimal(10), metadata=document,
        )  # fmt: skip
    with seeded.unit_of_work(bot_id=BOT) as uow:
        assert uow.positions.get("p-1").metadata == document
    with pytest.raises(ValidationError), seeded.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL", position_id="p-2", side="long", quantity=Decimal(1),
            entry_price=Decimal(10), metadata={"deeper": document},
        )  # fmt: skip


FLOATS = [1e16, -1e16, 1.5e16, 2.5e300, 1.7976931348623157e308, 1e22, 123456789.0, 1e-7, 0.5]


def test_json_floats_read_back_as_floats(seeded: Database) -> None:
    """Item 16: JSONB prints NUMERIC 1e16 as 10000000000000000, which json reads as an int."""
    document = {"floats": FLOATS, "big": 1e16, "int": 10**16, "text": "1e+16"}
    with seeded.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL", position_id="p-1", side="long", quantity=Decimal(1),
            entry_price=Decimal(10), metadata=document,
        )  # fmt: skip
        uow.bots.register("bot-2", config=document)
        uow.training.start_run("PPO", "m", run_id="r-2", hyperparameters=document)
    with seeded.unit_of_work(bot_id=BOT) as uow:
        read = [
            uow.positions.get("p-1").metadata,
            uow.bots.get("bot-2").config,
            uow.training.hyperparameters("r-2").params,  # type: ignore[union-attr]
        ]
    for stored in read:
        assert stored == document
        assert stored is not None
        assert [type(value) for value in stored["floats"]] == [float] * len(FLOATS)
        assert type(stored["big"]) is float
        assert type(stored["int"]) is int
        assert stored["text"] == "1e+16"


def test_json_documents_stored_before_still_read(seeded: Database, backend: str) -> None:
    """Rows written with plain ``json.dumps`` (exponent notation) read as they always did.

    On PostgreSQL a float of 1e16 or more stored before the fix is already NUMERIC without a
    fraction in the JSONB value, so it keeps reading as an int: only new writes keep floats.
    """
    from sqlalchemy import text

    with seeded.engine.begin() as conn:
        conn.execute(
            text("UPDATE bots SET config = :doc WHERE bot_id = :bot"),
            {"doc": '{"a": 1e+16, "b": 1e-07, "c": 3, "d": "1e+16"}', "bot": BOT},
        )
    with seeded.unit_of_work(bot_id=BOT) as uow:
        config = uow.bots.get(BOT).config
    assert config == {"a": 1e16, "b": 1e-07, "c": 3, "d": "1e+16"}
    assert config is not None
    assert type(config["a"]) is (int if backend == "postgresql" else float)
