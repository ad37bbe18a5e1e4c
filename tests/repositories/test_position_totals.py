"""The running totals (``position_totals``) equal a full recomputation over the closed rows,
after any sequence of opens, partial and full closes, scale-outs and prunes, on both backends
(hypothesis); two bots' and two threads' closes lose nothing; the reads built on them answer
what the row-by-row sums answer.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sibling import load
from tradestore import Database
from tradestore.db.executor import Executor
from tradestore.domain.money import fit
from tradestore.domain.trade_totals import TradeTotals
from tradestore.errors import ValidationError
from tradestore.models import Bot, ClosedPosition
from tradestore.ops.retention import prune
from tradestore.repositories import position_totals

D = Decimal
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
_bots = itertools.count()


def recomputed(db: Database, bot_id: str) -> dict[tuple[str, str | None], TradeTotals]:
    """The totals per (ticker, strategy), summed here over every closed row that exists."""
    table = ClosedPosition.__table__
    with db.connect() as connection:
        rows = connection.execute(
            select(table.c.ticker, table.c.strategy, table.c.realized_pnl, table.c.commission)
            .where(table.c.bot_id == bot_id)
            .order_by(table.c.closed_position_id)
        ).all()
    grouped: dict[tuple[str, str | None], list[tuple[Decimal, Decimal]]] = {}
    for ticker, strategy, realized, commission in rows:
        grouped.setdefault((ticker, strategy), []).append((realized, commission))
    return {key: TradeTotals.of_trades(trades) for key, trades in grouped.items()}


def kept(db: Database, bot_id: str) -> dict[tuple[str, str | None], TradeTotals]:
    with db.connect() as connection:
        keys = position_totals.read(Executor.of(connection), bot_id)
    return {(key.ticker, key.strategy): key.totals for key in keys}


def assert_totals_recomputed(db: Database, bot_id: str) -> None:
    """Kept totals == the recomputation, key by key, and every read built on them answers
    what the row-by-row path answers."""
    assert kept(db, bot_id) == recomputed(db, bot_id)
    with db.connect() as connection:  # the check `db verify` runs agrees
        comparison = position_totals.compare(Executor.of(connection), bot_id)
    assert comparison.differences == ()
    assert comparison.keys == len(recomputed(db, bot_id))
    d = db.dialect_name
    everything = position_totals.summed(
        position_totals.KeyTotals("", None, t) for t in recomputed(db, bot_id).values()
    )
    with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
        closed = uow.positions.list_closed()
        totals = uow.positions.closed_totals()
        assert totals.trades == len(closed) == everything.trades
        assert totals.wins == sum(row.realized_pnl > 0 for row in closed)
        assert totals.losses == sum(row.realized_pnl < 0 for row in closed)
        assert totals.realized_pnl == fit(everything.realized_pnl, d)
        assert totals.commission == fit(everything.commission, d)
        # The row-by-row sum (a window that holds every row) answers the same.
        window = uow.positions.total_realized_pnl(since=T0 - dt.timedelta(days=3650))
        assert uow.positions.total_realized_pnl() == window
        assert uow.bots.recovery_state(bot_id).balances.realized_pnl == window
        performance = uow.positions.performance()
        assert sum(row.trades for row in performance) == totals.trades
        assert [row.realized_pnl for row in performance] == sorted(
            (row.realized_pnl for row in performance), reverse=True
        )


def _new_bot(db: Database) -> str:
    bot_id = f"bot-{next(_bots)}"
    with db.session() as session:
        session.add(Bot(bot_id=bot_id))
    return bot_id


prices = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
fees = st.decimals(min_value=D(0), max_value=D("3"), places=3)
steps = st.lists(
    st.tuples(
        st.sampled_from(["open", "close", "partial", "scale_out", "prune"]),
        st.integers(0, 5),  # which position (or how many days a prune keeps)
        prices,
        fees,
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(script=steps)
def test_totals_equal_a_recomputation_after_any_sequence(
    db: Database, script: list[tuple[str, int, Decimal, Decimal]]
) -> None:
    bot_id = _new_bot(db)
    open_ids: list[str] = []
    for day, (action, which, price, fee) in enumerate(script, start=1):
        at = T0 + dt.timedelta(days=day)
        if action == "prune":
            prune(db, cutoff=at - dt.timedelta(days=which), now=at, batch_size=2)
        elif action == "open" or not open_ids:
            with db.unit_of_work(bot_id=bot_id) as uow:
                position = uow.positions.open(
                    ["AAPL", "MSFT", "BTC/USDT"][which % 3],
                    side="long" if which % 2 else "short",
                    quantity=D(4),
                    entry_price=D("100"),
                    commission=fee,
                    strategy=[None, "momentum", "dca"][which % 3],
                    opened_at=at,
                )
            open_ids.append(position.position_id)
        else:
            position_id = open_ids[which % len(open_ids)]
            with db.unit_of_work(bot_id=bot_id) as uow:
                held = uow.positions.get(position_id).quantity
                if action == "close" or held == 1:
                    uow.positions.close(
                        position_id, exit_price=price, exit_reason="signal", commission=fee,
                        closed_at=at,
                    )  # fmt: skip
                    open_ids.remove(position_id)
                elif action == "partial":
                    uow.positions.close(
                        position_id, exit_price=price, exit_reason="signal", quantity=D(1),
                        commission=fee, closed_at=at,
                    )  # fmt: skip
                else:
                    uow.positions.scale_out(
                        position_id,
                        quantity=D(1),
                        price=price,
                        exit_reason="signal",
                        commission=fee,
                        closed_at=at,
                    )
    assert_totals_recomputed(db, bot_id)


def test_sums_keep_every_digit(db: Database, backend: str) -> None:
    """Amounts whose sum needs more digits than a double holds are summed exactly (SQLite
    keeps the totals as decimal text), and fitted only on the way out, as the row sum is."""
    bot_id = _new_bot(db)
    with db.unit_of_work(bot_id=bot_id) as uow:
        for n in range(12):
            position = uow.positions.open(
                "ETH", side="long", quantity=D("1.000000001"), entry_price=D("1234.56789012")
            )
            uow.positions.close(
                position.position_id,
                exit_price=D("1234.56789013") + n,
                exit_reason="signal",
                commission=D("0.000000000123"),
            )
    assert_totals_recomputed(db, bot_id)
    (key,) = kept(db, bot_id).values()
    assert key.commission == D("0.000000000123") * 12  # exact, not a double's sum


def test_sums_beyond_20_integer_digits(db: Database, backend: str) -> None:
    """Each closed row holds at most 20 integer digits (NUMERIC(38, 18)), their sum may not:
    the close that crosses 10^20 and every later one of the key succeed on both backends
    (PostgreSQL's totals are unbounded NUMERIC since revision 0013) and read back exact."""
    bot_id = _new_bot(db)
    if backend == "postgresql":
        entry, exit_ = D("10000000000000000000.125"), D("60000000000000000000.5")
    else:  # amounts SQLite's doubles hold exactly
        entry, exit_ = D("1E19"), D("6E19")
    each = exit_ - entry
    with db.unit_of_work(bot_id=bot_id) as uow:
        for _ in range(3):
            position = uow.positions.open("BTC", side="long", quantity=D(1), entry_price=entry)
            uow.positions.close(position.position_id, exit_price=exit_, exit_reason="signal")
    (key,) = kept(db, bot_id).values()
    assert key.trades == 3
    assert key.realized_pnl == key.gross_profit == each * 3
    assert len(str(int(key.realized_pnl))) == 21
    with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
        assert uow.positions.closed_totals().realized_pnl == each * 3
        [row] = uow.positions.performance()
        assert row.realized_pnl == each * 3
    assert_totals_recomputed(db, bot_id)


def test_performance_groups_by_ticker_and_strategy(db: Database) -> None:
    bot_id = _new_bot(db)
    trades = [
        ("AAPL", "a", "110"),
        ("AAPL", "b", "95"),
        ("MSFT", None, "120"),
        ("AAPL", "a", "100"),
    ]
    with db.unit_of_work(bot_id=bot_id) as uow:
        for ticker, strategy, exit_price in trades:
            position = uow.positions.open(
                ticker, side="long", quantity=D(1), entry_price=D(100), strategy=strategy
            )
            uow.positions.close(position.position_id, exit_price=D(exit_price), exit_reason="x")
    with db.unit_of_work(bot_id=bot_id, readonly=True) as uow:
        per_ticker = uow.positions.performance()
        per_key = uow.positions.performance(per_strategy=True)
        only_a = uow.positions.performance(strategy="a")
        with pytest.raises(ValidationError, match="strategy"):
            uow.positions.performance(strategy="")
    assert [(r.ticker, r.strategy, r.trades, r.realized_pnl) for r in per_ticker] == [
        ("MSFT", None, 1, D(20)),
        ("AAPL", None, 3, D(5)),
    ]
    aapl = per_ticker[1]
    assert (aapl.wins, aapl.losses, aapl.gross_profit, aapl.gross_loss) == (1, 1, D(10), D(-5))
    assert aapl.win_rate == pytest.approx(1 / 3)
    assert [(r.ticker, r.strategy, r.trades) for r in per_key] == [
        ("MSFT", None, 1),
        ("AAPL", "a", 2),
        ("AAPL", "b", 1),
    ]
    assert [(r.ticker, r.strategy, r.realized_pnl) for r in only_a] == [("AAPL", "a", D(10))]


def test_two_threads_closing_one_key_lose_nothing(db: Database) -> None:
    """Closes of the same (bot, ticker, strategy) at once, in threads (PostgreSQL: the
    upsert's row lock; SQLite: BEGIN IMMEDIATE): every close is counted once."""
    concurrency = load("repositories/test_orders_concurrency.py")
    bot_id = _new_bot(db)
    threads, each = 4, 5
    with db.unit_of_work(bot_id=bot_id) as uow:
        ids = [
            [
                uow.positions.open("SOL", side="long", quantity=D(2), entry_price=D(10)).position_id
                for _ in range(each)
            ]
            for _ in range(threads)
        ]

    def work(i: int) -> None:
        for k, position_id in enumerate(ids[i]):
            with db.unit_of_work(bot_id=bot_id) as uow:
                uow.positions.close(
                    position_id,
                    exit_price=D(10) + D(i) / 10 + D(k) / 100,
                    exit_reason="signal",
                    commission=D("0.01"),
                    quantity=D(1),
                )
                uow.positions.close(position_id, exit_price=D(9), exit_reason="signal")

    assert concurrency.run_threads(threads, work) == [None] * threads
    assert_totals_recomputed(db, bot_id)
    assert kept(db, bot_id)[("SOL", None)].trades == threads * each * 2


def test_a_refused_close_changes_no_total(db: Database) -> None:
    bot_id = _new_bot(db)
    with db.unit_of_work(bot_id=bot_id) as uow:
        position = uow.positions.open("AAPL", side="long", quantity=D(2), entry_price=D(10))
        with pytest.raises(ValidationError):
            uow.positions.close(position.position_id, exit_price=D(-1), exit_reason="x")
        with pytest.raises(ValidationError):
            uow.positions.close(
                position.position_id, exit_price=D(11), exit_reason="x", quantity=D(3)
            )
    assert kept(db, bot_id) == {}
