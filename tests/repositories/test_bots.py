"""BotRepository on both backends: registration, liveness by the Database's clock, lifecycle,
balances and restart recovery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text, update

from tradestore import Database
from tradestore.domain.enums import BotMode, BotStatus, OrderStatus
from tradestore.errors import BotNotFound, ConflictError, ValidationError
from tradestore.models import Bot, Fill, Order

D = Decimal
T0 = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)


def database_time(db: Database) -> dt.datetime:
    """The Database's clock (the host's by default), read independently of the repository."""
    return db.clock()


def set_heartbeat(db: Database, bot_id: str, value: dt.datetime | None) -> None:
    with db.session() as session:
        session.execute(update(Bot).where(Bot.bot_id == bot_id).values(last_heartbeat=value))


# --- register --------------------------------------------------------------------------------


def test_register_creates_a_starting_paper_bot(db: Database) -> None:
    with db.unit_of_work() as uow:
        bot = uow.bots.register(
            "alpha",
            name="Alpha",
            broker="alpaca",
            config_file="alpha.toml",
            starting_balance=D("100000"),
            config={"risk": 0.02},
            metadata={"host": "a1"},
        )
    assert bot.mode is BotMode.PAPER
    assert bot.status is BotStatus.STARTING
    assert bot.starting_balance == bot.current_balance == D(100000)
    assert (bot.total_pnl, bot.total_commission) == (0, 0)
    assert bot.config == {"risk": 0.02}
    assert bot.metadata == {"host": "a1"}
    assert bot.created_at.tzinfo is not None
    with db.unit_of_work() as uow:
        assert uow.bots.get("alpha") == bot


def test_register_is_idempotent(db: Database) -> None:
    with db.unit_of_work() as uow:
        first = uow.bots.register("alpha", mode="live", starting_balance=D(500))
    with db.unit_of_work() as uow:
        again = uow.bots.register("alpha", mode="live", starting_balance=D(500))
        assert uow.bots.register("alpha", mode=BotMode.LIVE) == first
    assert again == first  # nothing updated, not even updated_at


def test_register_refuses_another_mode_or_capital(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", mode="paper", starting_balance=D(1000))
    with pytest.raises(ConflictError, match="mode"), db.unit_of_work() as uow:
        uow.bots.register("alpha", mode="live")
    with pytest.raises(ConflictError, match="starting_balance"), db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(2000))
    with db.unit_of_work() as uow:
        assert uow.bots.get("alpha").mode is BotMode.PAPER


def test_register_again_updates_only_the_descriptive_fields_given(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", name="Alpha", config_file="v1.toml", config={"v": 1})
    with db.unit_of_work() as uow:
        bot = uow.bots.register("alpha", config_file="v2.toml", config={"v": 2})
        assert (bot.name, bot.config_file, bot.config) == ("Alpha", "v2.toml", {"v": 2})
        # a starting balance for a bot without one is stored, and is its balance
        bot = uow.bots.register("alpha", starting_balance=D(750))
        assert bot.starting_balance == bot.current_balance == D(750)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("bot_id", {"bot_id": ""}),
        ("bot_id", {"bot_id": "b" * 65}),
        ("bot_id", {"bot_id": None}),
        ("bot_id", {"bot_id": 12}),
        ("mode", {"mode": "simulation"}),
        ("starting_balance", {"starting_balance": D(-1)}),
        ("starting_balance", {"starting_balance": float("nan")}),
        ("config", {"config": {"x": float("nan")}}),
        ("name", {"name": "n" * 201}),
    ],
)
def test_register_validates(db: Database, field: str, kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"bot_id": "alpha"}
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as info, db.unit_of_work() as uow:
        uow.bots.register(**arguments)
    assert info.value.field == field
    with db.session() as session:
        assert session.execute(text("SELECT COUNT(*) FROM bots")).scalar_one() == 0


def test_a_64_character_bot_id_is_fine(db: Database) -> None:
    with db.unit_of_work() as uow:
        assert uow.bots.register("b" * 64).bot_id == "b" * 64


def test_unknown_bots_raise(db: Database) -> None:
    with db.unit_of_work() as uow:
        for call in (
            lambda: uow.bots.get("ghost"),
            lambda: uow.bots.heartbeat("ghost"),
            lambda: uow.bots.set_status("ghost", "running"),
            lambda: uow.bots.set_balance("ghost", current_balance=D(1)),
            lambda: uow.bots.recover("ghost"),
        ):
            with pytest.raises(BotNotFound):
                call()


# --- liveness --------------------------------------------------------------------------------


def test_heartbeat_stores_the_clock_time(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    before = database_time(db)
    with db.unit_of_work() as uow:
        beat = uow.bots.heartbeat("alpha")
    after = database_time(db)
    assert beat.tzinfo is not None
    assert before <= beat <= after
    with db.unit_of_work() as uow:
        assert uow.bots.get("alpha").last_heartbeat == beat


def test_stale_finds_live_bots_whose_heartbeat_is_too_old(db: Database) -> None:
    with db.unit_of_work() as uow:
        for bot_id in ("fresh", "old", "stopped", "never"):
            uow.bots.register(bot_id)
        uow.bots.set_status("stopped", "stopped")
        uow.bots.heartbeat("fresh")
    now = database_time(db)
    set_heartbeat(db, "old", now - dt.timedelta(minutes=10))
    set_heartbeat(db, "stopped", now - dt.timedelta(minutes=10))
    with db.unit_of_work() as uow:
        assert [b.bot_id for b in uow.bots.stale(older_than=dt.timedelta(minutes=5))] == ["old"]
        assert [b.bot_id for b in uow.bots.stale(older_than=dt.timedelta(minutes=11))] == []
    with db.session() as session:  # "never" beat: its registration time counts
        session.execute(
            update(Bot).where(Bot.bot_id == "never").values(created_at=now - dt.timedelta(hours=2))
        )
    with db.unit_of_work() as uow:
        stale = uow.bots.stale(older_than=dt.timedelta(minutes=5))
        assert [b.bot_id for b in stale] == ["never", "old"]
        with pytest.raises(ValidationError):
            uow.bots.stale(older_than=5)  # type: ignore[arg-type]
        # further back than the calendar goes: nobody, not an OverflowError
        assert list(uow.bots.stale(older_than=dt.timedelta.max)) == []


def test_stale_compares_with_sub_second_precision(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
    set_heartbeat(db, "alpha", database_time(db) - dt.timedelta(seconds=2.5))
    with db.unit_of_work() as uow:
        assert [b.bot_id for b in uow.bots.stale(older_than=dt.timedelta(seconds=2))] == ["alpha"]
        assert uow.bots.stale(older_than=dt.timedelta(seconds=30)) == []


# --- lifecycle -------------------------------------------------------------------------------


def test_status_bookkeeping(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        running = uow.bots.set_status("alpha", "running")
    assert running.started_at is not None
    assert running.ended_at is None
    with db.unit_of_work() as uow:
        paused = uow.bots.set_status("alpha", BotStatus.PAUSED)
        resumed = uow.bots.set_status("alpha", "running")
        again = uow.bots.set_status("alpha", "running")
    assert paused.started_at == resumed.started_at == again.started_at == running.started_at
    with db.unit_of_work() as uow:
        stopped = uow.bots.set_status("alpha", "stopped", notes="maintenance")
        stopped_again = uow.bots.set_status("alpha", "error")
    assert stopped.ended_at is not None
    assert stopped.ended_at >= running.started_at
    assert stopped.notes == "maintenance"
    assert stopped_again.ended_at == stopped.ended_at  # already ended: kept
    with db.unit_of_work() as uow:
        restarting = uow.bots.set_status("alpha", "starting")
        restarted = uow.bots.set_status("alpha", "running")
    assert restarting.ended_at is None
    assert restarted.started_at is not None
    assert restarted.started_at >= stopped.ended_at
    with pytest.raises(ValidationError), db.unit_of_work() as uow:
        uow.bots.set_status("alpha", "sleeping")


def test_stopping_rolls_up_the_lifetime_totals(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(1000))
    with db.unit_of_work(bot_id="alpha") as uow:
        a = uow.positions.open("A", side="long", quantity=D(3), entry_price=D("0.1"))
        b = uow.positions.open("B", side="long", quantity=D(3), entry_price=D("0.1"))
        uow.positions.close(a.position_id, exit_price=D("0.2"), exit_reason="manual")
        uow.positions.close(
            b.position_id, exit_price=D("0.3"), exit_reason="manual", commission=D("0.05")
        )
    with db.unit_of_work() as uow:
        stopped = uow.bots.set_status("alpha", "stopped")
        assert stopped.total_pnl == D("0.85")  # 0.3 + 0.6 - 0.05, exactly
        assert stopped.total_commission == D("0.05")
        refreshed = uow.bots.refresh_totals("alpha")
        assert (refreshed.total_pnl, refreshed.total_commission) == (D("0.85"), D("0.05"))


def test_set_balance_and_list(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("b")
        uow.bots.register("a")
        bot = uow.bots.set_balance("a", current_balance=D("1234.56"))
        assert bot.current_balance == D("1234.56")
        uow.bots.set_status("b", "running")
        assert [x.bot_id for x in uow.bots.list()] == ["a", "b"]
        assert [x.bot_id for x in uow.bots.list(status="running")] == ["b"]
        with pytest.raises(ValidationError):
            uow.bots.set_balance("a", current_balance=float("inf"))


# --- recovery --------------------------------------------------------------------------------


def add_order(db: Database, bot_id: str, order_id: str, status: OrderStatus, **kw: Any) -> None:
    values: dict[str, Any] = {
        "order_id": order_id,
        "bot_id": bot_id,
        "client_order_id": f"c-{order_id}",
        "ticker": "TSLA",
        "order_type": "limit",
        "side": "buy",
        "quantity": D(50),
        "limit_price": D(250),
        "status": status,
        "submitted_at": T0,
        "updated_at": T0,
    }
    values.update(kw)
    with db.session() as session:
        session.add(Order(**values))


def add_fill(db: Database, bot_id: str, order_id: str, fill_id: str, quantity: str) -> None:
    with db.session() as session:
        session.add(
            Fill(
                bot_id=bot_id,
                fill_id=fill_id,
                order_id=order_id,
                ticker="TSLA",
                side="buy",
                quantity=D(quantity),
                price=D("249.9"),
                filled_at=T0 + dt.timedelta(minutes=len(fill_id)),
            )
        )


def test_recover_returns_everything_a_restarting_bot_needs(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha", starting_balance=D(10000))
        uow.bots.register("beta")
        uow.bots.set_status("alpha", "running")
    add_order(db, "alpha", "o-open", OrderStatus.PARTIALLY_FILLED, filled_quantity=D(30))
    add_order(db, "alpha", "o-new", OrderStatus.NEW, submitted_at=T0 + dt.timedelta(hours=1))
    add_order(db, "alpha", "o-done", OrderStatus.FILLED, filled_quantity=D(50))
    add_order(db, "beta", "o-beta", OrderStatus.NEW)
    add_fill(db, "alpha", "o-open", "f-1", "10")
    add_fill(db, "alpha", "o-open", "f-22", "20")
    add_fill(db, "alpha", "o-done", "f-3", "50")
    with db.unit_of_work(bot_id="alpha") as uow:
        kept = uow.positions.open("AAPL", side="long", quantity=D(10), entry_price=D(100))
        gone = uow.positions.open(
            "MSFT", side="short", quantity=D(5), entry_price=D(300), commission=D(2)
        )
        uow.positions.mark_to_market({"AAPL": D(103)})
        uow.positions.close(gone.position_id, exit_price=D(290), exit_reason="manual")
        uow.snapshots.record(
            snapshot_date=dt.date(2024, 3, 4), total_equity=D(10000), cash_balance=D(9000)
        )
        uow.snapshots.record(
            snapshot_date=dt.date(2024, 3, 5), total_equity=D(10078), cash_balance=D(9048)
        )
    with db.unit_of_work(bot_id="beta") as uow:
        uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(1))

    with db.unit_of_work() as uow:
        state = uow.bots.recover("alpha")
    assert state.bot.status is BotStatus.RUNNING
    assert [p.position_id for p in state.open_positions] == [kept.position_id]
    assert state.open_positions[0].unrealized_pnl == D(30)
    assert [o.order_id for o in state.open_orders] == ["o-open", "o-new"]
    partially = state.open_orders[0]
    assert [f.fill_id for f in partially.fills] == ["f-1", "f-22"]
    assert partially.remaining_quantity == D(20)
    assert state.open_orders[1].fills == ()
    assert state.latest_snapshot is not None
    assert state.latest_snapshot.snapshot_date == dt.date(2024, 3, 5)
    balances = state.balances
    assert balances.starting_balance == balances.current_balance == D(10000)
    assert balances.realized_pnl == D(48)  # (300 - 290) * 5 - 2
    assert balances.unrealized_pnl == D(30)
    assert balances.commission_paid == D(2)


def test_recover_a_bot_with_nothing(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register("alpha")
        state = uow.bots.recover("alpha")
    assert state.open_positions == ()
    assert state.open_orders == ()
    assert state.latest_snapshot is None
    assert state.balances.realized_pnl == 0
    assert state.balances.starting_balance is None
