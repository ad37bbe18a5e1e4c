"""Trading sessions on both backends: a bot has many, a restart opens a new one and keeps the
history, and each session's figures are those of its own closed positions and snapshots."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import text

from tradestore import Database
from tradestore.domain.enums import SessionEndReason
from tradestore.domain.metrics import drawdown
from tradestore.errors import BotNotFound, ConflictError, NotFound, ValidationError
from tradestore.unit_of_work import UnitOfWork

D = Decimal
T0 = dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)
BOT = "alpha"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[Database]:
    database = Database(db_url, clock=clock)
    with database.unit_of_work() as uow:
        uow.bots.register(BOT, starting_balance=D(10_000))
    yield database
    database.dispose()


def _trade(db: Database, clock: Clock, position_id: str, exit_price: str) -> None:
    """Open and close one AAPL share bought at 100, a minute apart."""
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.positions.open(
            "AAPL", side="long", quantity=D(1), entry_price=D(100), position_id=position_id
        )
        clock.advance(minutes=1)
        uow.positions.close(position_id, exit_price=D(exit_price), exit_reason="signal")
    clock.advance(minutes=1)


def _count(db: Database, table: str) -> int:
    with db.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_running_opens_a_session_and_stopping_ends_it_with_its_figures(
    store: Database, clock: Clock
) -> None:
    with store.unit_of_work() as uow:
        bot = uow.bots.set_status(BOT, "running")
    with store.unit_of_work(bot_id=BOT) as uow:
        session = uow.sessions.current()
    assert session is not None
    assert session.is_open
    assert session.started_at == bot.started_at == T0
    assert session.starting_balance == D(10_000)
    assert session.total_trades is None  # not final while open
    clock.advance(minutes=1)
    _trade(store, clock, "p1", "110")
    _trade(store, clock, "p2", "95")
    _trade(store, clock, "p3", "100")  # breakeven: neither a win nor a loss
    with store.unit_of_work(bot_id=BOT) as uow:
        uow.snapshots.record_intraday(total_equity=D(10_010), cash_balance=D(10_010))
        clock.advance(minutes=1)
        uow.snapshots.record_intraday(total_equity=D(10_005), cash_balance=D(10_005))
        clock.advance(minutes=1)
    with store.unit_of_work() as uow:
        stopped = uow.bots.set_status(BOT, "stopped")
    with store.unit_of_work(bot_id=BOT) as uow:
        assert uow.sessions.current() is None
        [ended] = uow.sessions.list()
        figures = uow.sessions.figures(ended.session_id)
    assert ended.session_id == session.session_id
    assert ended.ended_at == stopped.ended_at == clock.now
    assert ended.end_reason == SessionEndReason.STOPPED
    assert (ended.total_trades, ended.winning_trades, ended.losing_trades) == (3, 1, 1)
    assert ended.win_rate == pytest.approx(1 / 3)
    assert ended.total_pnl == D(5)
    assert ended.ending_equity == D(10_005)  # the session's last snapshot
    assert ended.max_drawdown == D(5)
    assert ended.max_drawdown_pct == pytest.approx(5 / 10_010 * 100)
    for name in ("total_trades", "winning_trades", "losing_trades", "win_rate", "total_pnl"):
        assert getattr(figures, name) == getattr(ended, name), name
    assert (figures.max_drawdown, figures.max_drawdown_pct) == (
        ended.max_drawdown,
        ended.max_drawdown_pct,
    )


def test_recover_opens_a_new_session_and_keeps_the_history(store: Database, clock: Clock) -> None:
    """The run before a crash keeps its start, its trades and its figures; the restart's
    session starts empty."""
    with store.unit_of_work() as uow:
        first_start = uow.bots.set_status(BOT, "running").started_at
    clock.advance(minutes=1)
    _trade(store, clock, "p1", "120")
    with store.unit_of_work(bot_id=BOT) as uow:
        uow.snapshots.record(total_equity=D(10_020), cash_balance=D(10_020))
    crash = clock.advance(hours=1)
    with store.unit_of_work() as uow:
        state = uow.bots.recover(BOT)
    assert state.bot.started_at == first_start  # as the crashed run left it
    assert state.interrupted_session is not None
    assert state.session is not None
    assert state.interrupted_session.started_at == first_start
    assert state.interrupted_session.ended_at == crash
    assert state.interrupted_session.end_reason == SessionEndReason.INTERRUPTED
    assert state.interrupted_session.total_trades == 1
    assert state.interrupted_session.total_pnl == D(20)
    assert state.session.started_at == crash
    assert state.session.starting_equity == D(10_020)  # the latest snapshot's
    clock.advance(minutes=1)
    with store.unit_of_work() as uow:
        running = uow.bots.set_status(BOT, "running")  # keeps recover's session
    assert running.started_at == crash
    _trade(store, clock, "p2", "90")
    with store.unit_of_work(bot_id=BOT) as uow:
        sessions = uow.sessions.list()
        current = uow.sessions.current()
        assert current is not None
        now = uow.sessions.figures(current.session_id)
        before = uow.sessions.figures(state.interrupted_session.session_id)
    assert [s.session_id for s in sessions] == [
        state.session.session_id,
        state.interrupted_session.session_id,
    ]  # newest first
    assert current.session_id == state.session.session_id
    assert (now.total_trades, now.losing_trades, now.total_pnl) == (1, 1, D(-10))
    assert (before.total_trades, before.winning_trades, before.total_pnl) == (1, 1, D(20))
    # A second recover ends the restart's session too: history grows, nothing is overwritten.
    clock.advance(minutes=5)
    with store.unit_of_work() as uow:
        again = uow.bots.recover(BOT)
    assert again.interrupted_session is not None
    assert again.interrupted_session.session_id == state.session.session_id
    assert again.interrupted_session.total_pnl == D(-10)
    assert _count(store, "trading_sessions") == 3


def test_a_resume_keeps_the_session_and_a_stop_then_run_opens_another(
    store: Database, clock: Clock
) -> None:
    with store.unit_of_work() as uow:
        uow.bots.set_status(BOT, "running")
        clock.advance(minutes=1)
        uow.bots.set_status(BOT, "paused")
        clock.advance(minutes=1)
        resumed = uow.bots.set_status(BOT, "running")
    assert resumed.started_at == T0
    assert _count(store, "trading_sessions") == 1
    clock.advance(minutes=1)
    with store.unit_of_work() as uow:
        errored = uow.bots.set_status(BOT, "error")
        clock.advance(minutes=1)
        again = uow.bots.set_status(BOT, "error")
        clock.advance(minutes=1)
        uow.bots.set_status(BOT, "starting")
        restarted = uow.bots.set_status(BOT, "running")
    assert again.ended_at == errored.ended_at  # already ended: kept
    assert restarted.started_at == clock.now
    with store.unit_of_work(bot_id=BOT) as uow:
        newest, oldest = uow.sessions.list()
    assert oldest.end_reason == SessionEndReason.ERROR
    assert oldest.ended_at == errored.ended_at
    assert newest.is_open
    assert newest.started_at == clock.now


def test_start_and_end_session_explicitly(store: Database, clock: Clock) -> None:
    with store.unit_of_work() as uow:
        first = uow.bots.start_session(
            BOT, starting_equity=D(10_000), metadata={"version": "1.2"}, notes="open"
        )
        clock.advance(minutes=1)
        second = uow.bots.start_session(BOT, starting_balance=D(9_000))
        clock.advance(minutes=1)
        ended = uow.bots.end_session(
            BOT, end_reason="maintenance", ending_balance=D(9_100), ending_equity=D(9_050)
        )
        bot = uow.bots.get(BOT)
        with pytest.raises(ConflictError, match="no open trading session"):
            uow.bots.end_session(BOT)
    assert first.metadata == {"version": "1.2"}
    assert first.notes == "open"
    assert second.starting_balance == D(9_000)
    assert (ended.end_reason, ended.ending_balance, ended.ending_equity) == (
        "maintenance",
        D(9_100),
        D(9_050),
    )
    assert ended.total_trades == 0
    assert ended.win_rate is None
    assert (bot.started_at, bot.ended_at) == (second.started_at, ended.ended_at)
    with store.unit_of_work(bot_id=BOT) as uow:
        interrupted = uow.sessions.get(first.session_id)
        assert uow.sessions.find(10**6) is None
        with pytest.raises(NotFound, match="trading session"):
            uow.sessions.get(10**6)
    assert interrupted.end_reason == SessionEndReason.INTERRUPTED
    assert interrupted.ended_at == second.started_at


def test_sessions_list_pages(store: Database, clock: Clock) -> None:
    with store.unit_of_work() as uow:
        starts = []
        for _ in range(5):
            starts.append(uow.bots.start_session(BOT).started_at)
            clock.advance(minutes=1)
    with store.unit_of_work(bot_id=BOT) as uow:
        page = uow.sessions.list(limit=2, offset=1)
        every = uow.sessions.list()
    assert [s.started_at for s in every] == starts[::-1]
    assert list(page) == list(every[1:3])


def test_figures_of_every_session_equal_a_recomputation(store: Database, clock: Clock) -> None:
    """Three runs with trades and snapshots in each; each session's stored and computed
    figures equal what its own window's rows give, computed here from the rows directly."""
    exits = [["110", "90"], ["105"], ["80", "130", "100"]]
    n = 0
    for run, prices in enumerate(exits):
        with store.unit_of_work() as uow:
            uow.bots.start_session(BOT, starting_equity=D(10_000))
        clock.advance(minutes=1)
        for price in prices:
            n += 1
            _trade(store, clock, f"p{n}", price)
            with store.unit_of_work(bot_id=BOT) as uow:
                uow.snapshots.record_intraday(
                    total_equity=D(10_000) + D(price) - D(100) + run,
                    cash_balance=D(10_000),
                    kind="intraday",
                )
            clock.advance(minutes=1)
        with store.unit_of_work() as uow:
            uow.bots.end_session(BOT)
        clock.advance(minutes=1)
    with store.unit_of_work(bot_id=BOT) as uow:
        sessions = list(uow.sessions.list())[::-1]
        closed = list(uow.positions.list_closed())
        curve = list(uow.snapshots.intraday_history())
        computed = [uow.sessions.figures(s.session_id) for s in sessions]
    assert len(sessions) == 3
    for session, figures, prices in zip(sessions, computed, exits, strict=True):
        assert session.ended_at is not None
        mine = [c for c in closed if session.started_at <= c.closed_at < session.ended_at]
        pnls = [c.realized_pnl for c in mine]
        points = [(session.started_at.date(), D(10_000))] + [
            (p.snapshot_time.date(), p.total_equity)
            for p in curve
            if session.started_at <= p.snapshot_time < session.ended_at
        ]
        points.append((session.ended_at.date(), points[-1][1]))
        falls = drawdown(points)
        assert falls is not None
        expected = {
            "total_trades": len(prices),
            "winning_trades": sum(p > 0 for p in pnls),
            "losing_trades": sum(p < 0 for p in pnls),
            "total_pnl": sum(pnls, D(0)),
            "max_drawdown": falls.max_drawdown,
            "max_drawdown_pct": falls.max_drawdown_pct,
        }
        assert len(mine) == len(prices)
        for name, value in expected.items():
            assert getattr(session, name) == value, (session.session_id, name)
            assert getattr(figures, name) == value, (session.session_id, name)


def test_sessions_are_per_bot(store: Database) -> None:
    with store.unit_of_work() as uow:
        uow.bots.register("beta")
        uow.bots.set_status(BOT, "running")
        uow.bots.set_status("beta", "running")
    with store.unit_of_work(bot_id="beta") as uow:
        mine = uow.sessions.current()
        assert mine is not None
        assert [s.bot_id for s in uow.sessions.list()] == ["beta"]
    with store.unit_of_work(bot_id=BOT) as uow:
        assert uow.sessions.find(mine.session_id) is None


def test_bad_input_names_the_field_and_writes_nothing(store: Database) -> None:
    calls: dict[str, Callable[[UnitOfWork], object]] = {
        "bot_id": lambda uow: uow.bots.start_session("ghost"),
        "starting_balance": lambda uow: uow.bots.start_session(BOT, starting_balance="lots"),
        "metadata": lambda uow: uow.bots.start_session(BOT, metadata={"x": object()}),
        "end_reason": lambda uow: uow.bots.end_session(BOT, end_reason=""),
        "ending_equity": lambda uow: uow.bots.end_session(BOT, ending_equity=D("NaN")),
    }
    for field, call in calls.items():
        with store.unit_of_work() as uow:
            with pytest.raises((ValidationError, BotNotFound)) as refused:
                call(uow)
            if isinstance(refused.value, ValidationError):
                assert refused.value.field == field
    with store.unit_of_work(bot_id=BOT) as uow:
        with pytest.raises(ValidationError) as refused:
            uow.sessions.get("one")  # type: ignore[arg-type]
        assert refused.value.field == "session_id"
    assert _count(store, "trading_sessions") == 0


def test_a_writer_that_waited_for_the_bots_lock_stamps_a_later_time(
    store: Database, clock: Clock, backend: str
) -> None:
    """Sessions never overlap: a restart that waited for a supervisor's lock on the bot reads
    the clock after it, so its session starts after the one the supervisor ended."""
    if backend != "postgresql":
        pytest.skip("SQLite writers queue before BEGIN, before any clock is read")

    with store.unit_of_work() as uow:
        uow.bots.set_status(BOT, "running")
    outcome: list[object] = []
    with store.unit_of_work() as uow:
        uow.bots.set_status(BOT, "paused")  # the supervisor holds the bot's row

        def restart() -> None:
            with store.unit_of_work() as other:
                outcome.append(other.bots.recover(BOT))

        thread = threading.Thread(target=restart)
        thread.start()
        time.sleep(0.5)  # the restart waits on the row lock (with the clock at T0 + 0)
        clock.advance(minutes=10)
        uow.bots.set_status(BOT, "stopped")  # ends the session at T0 + 10 min
    thread.join(30)
    assert outcome, "the restart did not finish"
    with store.unit_of_work(bot_id=BOT, readonly=True) as uow:
        ended, opened = sorted(uow.sessions.list(), key=lambda s: s.session_id)[-2:]
    assert ended.ended_at is not None
    assert opened.started_at >= ended.ended_at


def test_the_schema_holds_one_open_session_per_bot(store: Database) -> None:
    """Whoever writes the table (an import, SQL of one's own), a bot has one open session."""
    from sqlalchemy.exc import IntegrityError

    with store.unit_of_work() as uow:
        uow.bots.set_status(BOT, "running")
    second = text(
        "INSERT INTO trading_sessions (session_id, bot_id, started_at, created_at, updated_at) "
        "VALUES (999, :bot, :at, :at, :at)"
    )
    with store.engine.connect() as connection:
        with pytest.raises(IntegrityError, match=r"uq_trading_sessions_open|UNIQUE"):
            connection.execute(second, {"bot": BOT, "at": T0})
        connection.rollback()
