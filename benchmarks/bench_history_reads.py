"""Reads a restarting or reporting bot makes, against freqtrade's persistence, at two history
lengths: they should not grow with the number of closed trades.

The same trades go into a tradestore database and a freqtrade database (both SQLite files
under /dev/shm, in the same process): ``OPEN`` open positions and ``CLOSED`` closed trades over
20 tickers and 2 strategies, then ten times as many closed trades. Each pair is timed
interleaved (ours, freqtrade's, ours, ...) over several repetitions; the medians and their
ratio are printed:

* restart: ``bots.recover()`` in a writing unit of work vs ``Trade.get_open_trades()``. The
  closed trades were made in a session the "previous run" left open, so each restart ends that
  session as interrupted with its figures (trades, wins, P&L over all of them) and opens a new
  one; the unit of work is rolled back, so every repetition restarts from the same state.
* restart, read only: ``bots.recovery_state()`` (a ``readonly=True`` unit of work) vs
  ``Trade.get_open_trades()``
* total P&L: ``positions.total_realized_pnl()`` vs ``Trade.get_total_closed_profit()``
* per-ticker P&L: ``positions.performance()`` vs ``Trade.get_overall_performance()``
* history: ``positions.list_closed()`` vs ``Trade.get_trades_proxy(is_open=False)``

freqtrade is an optional benchmark dependency with heavy dependencies of its own: install it in
a separate environment together with tradestore (``python -m venv /tmp/ftvenv;
/tmp/ftvenv/bin/pip install freqtrade -e .``, or the ``bench-freqtrade`` extra) and run
``PYTHONPATH=src /tmp/ftvenv/bin/python -m benchmarks history_reads``. Without freqtrade the
benchmark says so and stops.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, note, report, tmpfs_directory
from tradestore import Database

BOT = "bench"
OPEN = int(os.environ.get("TRADESTORE_BENCH_OPEN", "200"))
CLOSED = int(os.environ.get("TRADESTORE_BENCH_CLOSED", "5000"))
REPEAT = int(os.environ.get("TRADESTORE_BENCH_REPEAT", "7"))
TICKERS = [f"T{n:02d}/USDT" for n in range(20)]
STRATEGIES = ["momentum", "dca"]
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _trade(n: int) -> tuple[str, str, Decimal, Decimal, dt.datetime]:
    """The n-th trade: ticker, strategy, entry and exit price, open time."""
    entry = Decimal(100) + Decimal(n % 37) / 4
    exit_ = entry + Decimal(n % 11 - 5) / 2
    return TICKERS[n % 20], STRATEGIES[n % 2], entry, exit_, T0 + dt.timedelta(minutes=n)


class _Clock:
    """The host's clock, except while the previous run's session is opened: a day before
    its first trade, so that every trade below falls in that session's window."""

    at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or dt.datetime.now(dt.UTC)


_CLOCK = _Clock()


def fill_tradestore(db: Database, closed: range, opened: int) -> None:
    if closed.start == 0:
        _CLOCK.at = T0 - dt.timedelta(days=1)
        with db.unit_of_work() as uow:
            uow.bots.register(BOT, starting_balance=Decimal("1000000"))
            uow.bots.start_session(BOT)  # the run whose trades these are, left open
        _CLOCK.at = None
    with db.unit_of_work(bot_id=BOT) as uow:
        for n in closed:
            ticker, strategy, entry, exit_, at = _trade(n)
            position = uow.positions.open(
                ticker, side="long", quantity=Decimal(2), entry_price=entry,
                commission=Decimal("0.1"), strategy=strategy, opened_at=at,
            )  # fmt: skip
            uow.positions.close(
                position.position_id, exit_price=exit_, exit_reason="exit_signal",
                commission=Decimal("0.1"), closed_at=at + dt.timedelta(minutes=30),
            )  # fmt: skip
        for n in range(opened):
            ticker, strategy, entry, _exit, at = _trade(n)
            uow.positions.open(
                ticker, side="long", quantity=Decimal(2), entry_price=entry,
                commission=Decimal("0.1"), strategy=strategy, opened_at=at,
            )  # fmt: skip


def fill_freqtrade(closed: range, opened: int) -> None:
    from freqtrade.persistence import Trade

    trades = []
    for n in closed:
        ticker, strategy, entry, exit_, at = _trade(n)
        profit = float((exit_ - entry) * 2 - Decimal("0.2"))
        trades.append(
            Trade(
                pair=ticker, exchange="binance", stake_amount=float(entry * 2), amount=2.0,
                open_rate=float(entry), close_rate=float(exit_), fee_open=0.0005,
                fee_close=0.0005, open_date=at, close_date=at + dt.timedelta(minutes=30),
                is_open=False, close_profit=profit / float(entry * 2),
                close_profit_abs=profit, realized_profit=profit, strategy=strategy,
                exit_reason="exit_signal", leverage=1.0,
            )
        )  # fmt: skip
    if closed.start == 0:
        for n in range(opened):
            ticker, strategy, entry, _exit, at = _trade(n)
            trades.append(
                Trade(
                    pair=ticker, exchange="binance", stake_amount=float(entry * 2), amount=2.0,
                    open_rate=float(entry), fee_open=0.0005, fee_close=0.0005, open_date=at,
                    is_open=True, strategy=strategy, leverage=1.0,
                )
            )  # fmt: skip
    Trade.session.add_all(trades)
    Trade.commit()


def interleaved(pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]]) -> dict[str, Any]:
    """{name: (ours median, peer median)}: every pair once per repetition, ours first."""
    samples: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    for ours, peer in pairs.values():  # warm-up: caches, compiled statements
        ours()
        peer()
    for _ in range(REPEAT):
        for name, (ours, peer) in pairs.items():
            for side, fn in zip(samples[name], (ours, peer), strict=True):
                start = time.perf_counter()
                fn()
                side.append(time.perf_counter() - start)
    return {k: (statistics.median(a), statistics.median(b)) for k, (a, b) in samples.items()}


def main() -> None:
    try:
        from freqtrade.persistence import Trade, init_db
    except ImportError:
        note("history_reads", "sqlite", "  freqtrade is not installed: see this module's doc")
        return
    directory = tmpfs_directory()
    with tempfile.TemporaryDirectory(prefix="tradestore-bench-", dir=directory) as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'tradestore.db'}", check_schema=False, clock=_CLOCK)
        db.upgrade()
        init_db(f"sqlite:///{Path(tmp) / 'freqtrade.sqlite'}")

        class _RolledBack(Exception):
            """Ends the restart's unit of work without COMMIT: the next one starts alike."""

        def recover() -> object:
            try:
                with db.unit_of_work() as uow:
                    state = uow.bots.recover(BOT)
                    raise _RolledBack
            except _RolledBack:
                return state

        def recovery_state() -> object:
            with db.unit_of_work(readonly=True) as uow:
                reader = getattr(uow.bots, "recovery_state", None)  # None before it existed
                return (reader or uow.bots.recover)(BOT)

        def in_bot(call: Callable[[Any], object]) -> Callable[[], object]:
            def run() -> object:
                with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
                    return call(uow)

            return run

        def peer(call: Callable[[], object]) -> Callable[[], object]:
            def run() -> object:
                result = call()
                Trade.session.remove()  # a restart: nothing cached in the identity map
                return result

            return run

        pairs = {
            "restart (recover vs get_open_trades)": (
                recover,
                peer(lambda: Trade.get_open_trades()),
            ),
            "restart read (recovery_state vs get_open_trades)": (
                recovery_state,
                peer(lambda: Trade.get_open_trades()),
            ),
            "total realized P&L": (
                in_bot(lambda uow: uow.positions.total_realized_pnl()),
                peer(lambda: Trade.get_total_closed_profit()),
            ),
            "per-ticker performance": (
                in_bot(lambda uow: uow.positions.performance()),
                peer(lambda: Trade.get_overall_performance()),
            ),
            "list closed (all rows)": (
                in_bot(lambda uow: uow.positions.list_closed()),
                peer(lambda: Trade.get_trades_proxy(is_open=False)),
            ),
        }
        done = 0
        for size in (CLOSED, CLOSED * 10):
            fill_tradestore(db, range(done, size), OPEN if done == 0 else 0)
            fill_freqtrade(range(done, size), OPEN)
            done = size
            print(f"  {OPEN} open, {size} closed trades", flush=True)
            timings = interleaved(pairs)
            report(
                [
                    Result(f"{name} [{size}]", "sqlite", ours, theirs, "freqtrade", target=1.0)
                    for name, (ours, theirs) in timings.items()
                ]
            )
        db.dispose()


if __name__ == "__main__":
    main()
