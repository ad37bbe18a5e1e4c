"""A session's figures at its end come from the running totals (the totals minus the sums of
the rows closed before the session's start, kept on the session row), and equal a recount
over its closed rows after any sequence of opens, closes, partial closes and scale-outs dated
now, before the session's start or after its end, prunes, and every way a session starts and
ends, on both backends (hypothesis). A session of before revision 0014 (no prior sums)
recounts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tradestore import Database
from tradestore.ops.retention import prune
from tradestore.repositories.sessions import SessionRecord

D = Decimal
T0 = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
_bots = itertools.count()
#: The figures a session stores at its end, which a recount must give.
TRADE_FIGURES = (
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    "total_pnl",
    "total_commission",
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[Database]:
    database = Database(db_url, clock=clock)
    yield database
    database.dispose()


def _new_bot(db: Database) -> str:
    bot_id = f"s-{next(_bots)}"
    with db.unit_of_work() as uow:
        uow.bots.register(bot_id, starting_balance=D(10_000))
    return bot_id


def assert_recounted(db: Database, bot_id: str, ended: SessionRecord | None) -> None:
    """The ended session's stored figures == a recount over its rows, made now."""
    if ended is None:
        return
    assert ended.ended_at is not None
    with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
        recount = uow.sessions._recount(ended)
        figures = uow.sessions.figures(ended.session_id)
    trades, realized, commission, wins, losses = recount
    assert (ended.total_trades, ended.total_pnl, ended.total_commission) == (
        trades,
        realized,
        commission,
    )
    assert (ended.winning_trades, ended.losing_trades) == (wins, losses)
    for name in TRADE_FIGURES:
        assert getattr(ended, name) == getattr(figures, name), name


prices = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
fees = st.decimals(min_value=D(0), max_value=D("3"), places=3)
#: When a close is dated: by the clock, hours before now (maybe before the session's
#: start), or hours after now (maybe after the session's end).
dates = st.sampled_from(["now", "now", "late", "future"])
steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "open",
                "close",
                "partial",
                "scale_out",
                "prune",
                "recover",
                "start",
                "end",
                "run",
                "stop",
            ]
        ),
        st.integers(0, 5),  # which position, how many hours back or ahead
        prices,
        fees,
        dates,
    ),
    min_size=1,
    max_size=30,
)


_P, _F = D("110"), D("0.5")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=steps)
# a close dated before the session's start (a late fill), a full and a partial one
@example([("open", 0, _P, _F, "now"), ("start", 0, _P, _F, "now"),
          ("partial", 3, _P, _F, "late"), ("close", 3, _P, _F, "late"),
          ("end", 0, _P, _F, "now")])  # fmt: skip
# retention deleting a row closed before the open session's start, and one inside it
@example([("open", 0, _P, _F, "now"), ("close", 0, _P, _F, "now"), ("open", 1, _P, _F, "now"),
          ("recover", 0, _P, _F, "now"), ("close", 1, _P, _F, "now"),
          ("prune", 0, _P, _F, "now"), ("stop", 0, _P, _F, "now")])  # fmt: skip
# closes dated after the end of the session they are written in, and before its start
@example([("run", 0, _P, _F, "now"), ("open", 0, _P, _F, "now"), ("open", 1, _P, _F, "now"),
          ("scale_out", 5, _P, _F, "future"), ("close", 5, _P, _F, "future"),
          ("recover", 0, _P, _F, "now"), ("close", 0, _P, _F, "late"),
          ("end", 0, _P, _F, "now")])  # fmt: skip
def test_session_figures_equal_a_recount_after_any_sequence(
    store: Database, clock: Clock, script: list[tuple[str, int, Decimal, Decimal, str]]
) -> None:
    bot_id = _new_bot(store)
    open_ids: list[str] = []
    for action, which, price, fee, dated in script:
        clock.now += dt.timedelta(hours=1)
        now = clock.now
        ended: SessionRecord | None = None
        if action == "prune":
            prune(store, cutoff=now - dt.timedelta(hours=which), now=now, batch_size=2)
        elif action == "recover":
            with store.unit_of_work() as uow:
                ended = uow.bots.recover(bot_id).interrupted_session
        elif action == "start":
            with store.unit_of_work(bot_id=bot_id) as uow:
                before = uow.sessions.current()
                uow.bots.start_session(bot_id)
                ended = None if before is None else uow.sessions.get(before.session_id)
        elif action in ("end", "stop"):
            with store.unit_of_work(bot_id=bot_id) as uow:
                current = uow.sessions.current()
                if action == "stop":
                    uow.bots.set_status(bot_id, "stopped")
                elif current is not None:
                    uow.bots.end_session(bot_id)
                ended = None if current is None else uow.sessions.get(current.session_id)
        elif action == "run":
            with store.unit_of_work() as uow:
                uow.bots.set_status(bot_id, "running")
        elif action == "open" or not open_ids:
            with store.unit_of_work(bot_id=bot_id) as uow:
                position = uow.positions.open(
                    ["AAPL", "MSFT", "BTC/USDT"][which % 3],
                    side="long" if which % 2 else "short",
                    quantity=D(4),
                    entry_price=D("100"),
                    commission=fee,
                    strategy=[None, "momentum", "dca"][which % 3],
                    opened_at=now - dt.timedelta(days=2),
                )
            open_ids.append(position.position_id)
        else:
            closed_at = {
                "now": None,
                "late": now - dt.timedelta(hours=which + 1),
                "future": now + dt.timedelta(hours=which + 1),
            }[dated]
            position_id = open_ids[which % len(open_ids)]
            common = {"exit_reason": "signal", "commission": fee, "closed_at": closed_at}
            with store.unit_of_work(bot_id=bot_id) as uow:
                held = uow.positions.get(position_id).quantity
                if action == "close" or held == 1:
                    uow.positions.close(position_id, exit_price=price, **common)
                    open_ids.remove(position_id)
                elif action == "partial":
                    uow.positions.close(position_id, exit_price=price, quantity=D(1), **common)
                else:
                    uow.positions.scale_out(position_id, quantity=D(1), price=price, **common)
        assert_recounted(store, bot_id, ended)
    clock.now += dt.timedelta(hours=1)
    with store.unit_of_work(bot_id=bot_id) as uow:
        current = uow.sessions.current()
        uow.bots.set_status(bot_id, "stopped")
        last = None if current is None else uow.sessions.get(current.session_id)
    assert_recounted(store, bot_id, last)


def test_a_session_of_before_0014_recounts(store: Database, clock: Clock) -> None:
    """A session without prior sums (opened before revision 0014) ends with a recount."""
    bot_id = _new_bot(store)
    with store.unit_of_work() as uow:
        session = uow.bots.start_session(bot_id)
    with store.connect() as connection:
        connection.execute(
            text(
                "UPDATE trading_sessions SET prior_trades = NULL, prior_wins = NULL, "
                "prior_losses = NULL, prior_realized_pnl = NULL, prior_commission = NULL "
                "WHERE session_id = :id"
            ),
            {"id": session.session_id},
        )
        connection.commit()
    for n, exit_price in enumerate(("110", "95")):
        clock.now += dt.timedelta(minutes=1)
        with store.unit_of_work(bot_id=bot_id) as uow:
            position = uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100))
            uow.positions.close(position.position_id, exit_price=D(exit_price), exit_reason=f"x{n}")
    clock.now += dt.timedelta(minutes=1)
    with store.unit_of_work() as uow:
        ended = uow.bots.end_session(bot_id)
    assert (ended.total_trades, ended.winning_trades, ended.losing_trades) == (2, 1, 1)
    assert ended.total_pnl == D(5)
    assert_recounted(store, bot_id, ended)
