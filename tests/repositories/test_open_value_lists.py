"""Open value lists (revision 0006) through the repositories, on SQLite and PostgreSQL.

Exit reasons and algorithm names are free text bounded by their columns; the common values
still read back as enum members. ``post_only`` orders need a limit price, ``reduce_only`` is
stored and compared like the rest of an order's intent, and bots may run in ``optimization``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest

from tradestore import Database
from tradestore.domain.enums import (
    MAX_ALGORITHM_LENGTH,
    MAX_EXIT_REASON_LENGTH,
    Algorithm,
    BotMode,
    ExitReason,
    OrderType,
)
from tradestore.errors import DuplicateOrder, ValidationError
from tradestore.ops.export import export_table

D = Decimal
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
BOT = "alpha"

#: Text each free-text field must refuse: empty, NUL, a lone surrogate, not a string.
BAD_TEXT = ["", "roi\x00", "roi\udc80", 5, None]


@pytest.fixture
def bot(db: Database) -> Database:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.bots.register(BOT)
    return db


def _open(db: Database, position_id: str = "p-1") -> None:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "BTC/USDT",
            side="long",
            quantity=D(1),
            entry_price=D(100),
            position_id=position_id,
            opened_at=T0,
        )


def _close(db: Database, reason: Any, position_id: str = "p-1") -> Any:
    with db.unit_of_work(bot_id=BOT) as uow:
        return uow.positions.close(
            position_id,
            exit_price=D(110),
            exit_reason=reason,
            closed_at=T0 + dt.timedelta(hours=3),
        )


# --- exit reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason", ["signal", "roi", "force_exit", "liquidation", "exit_tag: rsi > 70 (4h)", "é" * 255]
)
def test_free_text_exit_reasons_are_stored_exactly(bot: Database, reason: str) -> None:
    _open(bot)
    closed = _close(bot, reason)
    assert closed.exit_reason == reason
    with bot.unit_of_work(bot_id=BOT) as uow:
        [stored] = uow.positions.list_closed(exit_reason=reason)
        assert stored.exit_reason == reason
        assert stored.closed_position_id == closed.closed_position_id
        assert uow.positions.average_holding_period_by_exit_reason() == {reason: 3.0}


def test_common_exit_reasons_read_back_as_members(bot: Database) -> None:
    _open(bot, "p-1")
    _open(bot, "p-2")
    _close(bot, "stop_loss", "p-1")
    _close(bot, "roi", "p-2")
    with bot.unit_of_work(bot_id=BOT) as uow:
        reasons = {row.position_id: row.exit_reason for row in uow.positions.list_closed()}
        [trade] = [t for t in uow.analytics.recent_closed_trades() if t.position_id == "p-1"]
        holding = {
            row.exit_reason: row.trades for row in uow.analytics.holding_period_by_exit_reason()
        }
    assert reasons["p-1"] is ExitReason.STOP_LOSS
    assert type(reasons["p-2"]) is str
    assert trade.exit_reason is ExitReason.STOP_LOSS
    # The stop-loss count of the analytics still finds its rows next to free text.
    assert holding[ExitReason.STOP_LOSS] == 1
    assert holding["roi"] == 1


@pytest.mark.parametrize("reason", [*BAD_TEXT, "x" * (MAX_EXIT_REASON_LENGTH + 1), " roi"])
def test_exit_reason_outside_the_bounds_is_refused_and_nothing_closes(
    bot: Database, reason: Any
) -> None:
    _open(bot)
    with pytest.raises(ValidationError) as raised:
        _close(bot, reason)
    assert raised.value.field == "exit_reason"
    with bot.unit_of_work(bot_id=BOT) as uow:
        assert uow.positions.get("p-1") is not None
        assert uow.positions.list_closed() == []


# --- algorithms -----------------------------------------------------------------------------


def _start(db: Database, algorithm: Any, run_id: str) -> Any:
    with db.unit_of_work() as uow:
        return uow.training.start_run(algorithm, "model", run_id=run_id, start_time=T0)


@pytest.mark.parametrize("algorithm", ["IMPALA", "ppo", "RecurrentPPO", "QR-DQN", "a" * 64])
def test_free_text_algorithms_are_stored_exactly(db: Database, algorithm: str) -> None:
    run = _start(db, algorithm, "r-1")
    assert run.algorithm == algorithm
    with db.unit_of_work() as uow:
        assert uow.training.get("r-1").algorithm == algorithm
        assert [r.run_id for r in uow.training.list(algorithm=algorithm)] == ["r-1"]


def test_lowercase_ppo_is_its_own_algorithm(db: Database) -> None:
    _start(db, "ppo", "r-lower")
    _start(db, Algorithm.PPO, "r-upper")
    with db.unit_of_work() as uow:
        assert [r.run_id for r in uow.training.list(algorithm="ppo")] == ["r-lower"]
        assert [r.run_id for r in uow.training.list(algorithm="PPO")] == ["r-upper"]
        upper = uow.training.get("r-upper")
        lower = uow.training.get("r-lower")
    assert upper.algorithm is Algorithm.PPO
    assert lower.algorithm == "ppo"
    assert type(lower.algorithm) is str


@pytest.mark.parametrize("algorithm", [*BAD_TEXT, "x" * (MAX_ALGORITHM_LENGTH + 1)])
def test_algorithm_outside_the_bounds_is_refused_and_nothing_is_written(
    db: Database, algorithm: Any
) -> None:
    with pytest.raises(ValidationError) as raised:
        _start(db, algorithm, "r-1")
    assert raised.value.field == "algorithm"
    with db.unit_of_work() as uow:
        assert uow.training.list() == []


def test_algorithm_filters_take_free_text_and_bound_it(db: Database) -> None:
    _start(db, "IMPALA", "r-1")
    with db.unit_of_work() as uow:
        assert uow.training.list(algorithm="APPO") == []
        with pytest.raises(ValidationError) as raised:
            uow.training.list(algorithm="x" * (MAX_ALGORITHM_LENGTH + 1))
    assert raised.value.field == "algorithm"


# --- bot mode, order type, reduce_only ----------------------------------------------------


def test_bot_mode_optimization(db: Database) -> None:
    with db.unit_of_work(bot_id="hyperopt") as uow:
        registered = uow.bots.register("hyperopt", mode="optimization")
    assert registered.mode is BotMode.OPTIMIZATION
    with db.unit_of_work(bot_id="hyperopt") as uow:
        assert uow.bots.get("hyperopt").mode is BotMode.OPTIMIZATION


def _submit(db: Database, cid: str = "c-1", **overrides: Any) -> Any:
    args: dict[str, Any] = {
        "client_order_id": cid,
        "ticker": "BTC/USDT",
        "side": "buy",
        "order_type": "post_only",
        "quantity": D("0.5"),
        "limit_price": D("64000.5"),
        "submitted_at": T0,
    }
    args.update(overrides)
    with db.unit_of_work(bot_id=BOT) as uow:
        return uow.orders.submit(**args)


def test_post_only_orders_are_stored(bot: Database) -> None:
    order = _submit(bot)
    assert order.order_type is OrderType.POST_ONLY
    with bot.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.get(order.order_id).order_type is OrderType.POST_ONLY


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"limit_price": None}, "limit_price"), ({"stop_price": D(63000)}, "stop_price")],
)
def test_post_only_needs_a_limit_price_and_no_stop(
    bot: Database, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _submit(bot, **overrides)
    assert raised.value.field == field
    with bot.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.list_open() == []


def test_reduce_only_defaults_to_false_and_is_stored(bot: Database) -> None:
    plain = _submit(bot, "c-1")
    reducing = _submit(bot, "c-2", reduce_only=True)
    assert plain.reduce_only is False
    assert reducing.reduce_only is True
    with bot.unit_of_work(bot_id=BOT) as uow:
        assert uow.orders.get(plain.order_id).reduce_only is False
        assert uow.orders.get(reducing.order_id).reduce_only is True
        # A retry with the same payload is the same order; a different flag is another intent.
        assert uow.orders.submit(
            client_order_id="c-2",
            ticker="BTC/USDT",
            side="buy",
            order_type="post_only",
            quantity=D("0.5"),
            limit_price=D("64000.5"),
            reduce_only=True,
        ) == uow.orders.get(reducing.order_id)
    with pytest.raises(DuplicateOrder, match="reduce_only"):
        _submit(bot, "c-2", reduce_only=False)


@pytest.mark.parametrize("flag", [1, "true", None])
def test_reduce_only_must_be_a_bool(bot: Database, flag: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        _submit(bot, reduce_only=flag)
    assert raised.value.field == "reduce_only"


def test_reduce_only_is_exported(bot: Database) -> None:
    _submit(bot, "c-1")
    _submit(bot, "c-2", reduce_only=True)
    out = io.StringIO()
    export_table(bot, "orders", out, format="csv")
    rows = {row["client_order_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["c-1"]["reduce_only"] == "false"
    assert rows["c-2"]["reduce_only"] == "true"
    assert rows["c-2"]["order_type"] == "post_only"
