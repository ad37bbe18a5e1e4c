#!/usr/bin/env python3
"""A demo trading session: three paper bots trade a deterministic simulated week through
tradestore, one restarts and recovers its state, and a small RL training run is recorded.

    python examples/paper_bot.py [--url URL]

It exercises the library end to end: limit and market orders, partial fills, a replayed fill,
a short, stop-loss and take-profit exits, a DCA entry (scaling into a position), a trailing
stop that locks in a profit and exits after the restart, a netting bot whose positions are
kept from its fills (added to, reduced, reversed, closed), mark-to-market, daily snapshots and
metrics, restart recovery with trading sessions, training runs with episodes, an evaluation,
ensemble weights and the analytics.
Each run registers bots with fresh ids, so it can be run any number of times on one database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tradestore import Database
from tradestore.errors import MissingDependency, TradestoreError
from tradestore.unit_of_work import UnitOfWork

WEEK = [dt.date(2026, 11, 9) + dt.timedelta(days=i) for i in range(5)]  # Monday..Friday
CENT = Decimal("0.01")
console = Console(width=110)


#: Closing prices for the five days: chosen so the week shows a take-profit on a short and on
#: a long, a stop-loss after a DCA entry, a trailing stop, a partial profit-take and a time exit.
PRICES: dict[str, list[Decimal]] = {
    "AAPL": [Decimal(p) for p in ("190.00", "191.20", "189.40", "193.10", "194.05")],
    "TSLA": [Decimal(p) for p in ("250.00", "247.30", "241.80", "239.90", "244.10")],
    "MSFT": [Decimal(p) for p in ("390.00", "388.25", "391.70", "393.00", "392.40")],
    "BTC-USD": [
        Decimal(p) for p in ("65000.12345678", "65890.50", "67120.25", "66000.00", "67350.75")
    ],
    "ETH-USD": [Decimal(p) for p in ("3200.87654321", "3150.10", "3101.55", "3088.40", "3020.15")],
}


class Market:
    def price(self, ticker: str, day: int) -> Decimal:
        return PRICES[ticker][day]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(WEEK[day], dt.time(hour, minute), tzinfo=dt.UTC)


@dataclass
class Book:
    """The bot's own cash ledger: what a real bot would get from its broker."""

    cash: Decimal

    def trade(self, side: str, quantity: Decimal, price: Decimal, commission: Decimal) -> None:
        notional = quantity * price
        self.cash += (-notional if side == "buy" else notional) - commission


def buy_and_fill(
    uow: UnitOfWork,
    *,
    coid: str,
    ticker: str,
    side: str,
    quantity: Decimal,
    fills: list[tuple[str, Decimal, Decimal]],
    day: int,
    limit: Decimal | None = None,
    position_id: str | None = None,
) -> tuple[Decimal, Decimal]:
    """Submit an order, walk it through the broker's statuses, record its fills.

    Returns (VWAP, commission). Fills are (fill_id, quantity, price).
    """
    order = uow.orders.submit(
        client_order_id=coid,
        ticker=ticker,
        side=side,
        order_type="limit" if limit is not None else "market",
        quantity=quantity,
        limit_price=limit,
        reference_price=limit,
        time_in_force="day",
        strategy="demo_momentum",
        position_id=position_id,
        submitted_at=at(day, 14, 30),
    )
    uow.orders.set_status(order.order_id, "new", at=at(day, 14, 30))
    uow.orders.set_status(order.order_id, "accepted", at=at(day, 14, 31))
    for i, (fill_id, qty, price) in enumerate(fills):
        uow.orders.record_fill(
            order.order_id,
            fill_id=fill_id,
            quantity=qty,
            price=price,
            filled_at=at(day, 14, 32 + i),
            liquidity="maker" if limit is not None else "taker",
            commission=(qty * price * Decimal("0.0005")).quantize(CENT),
        )
    done = uow.orders.get(order.order_id)
    assert done.filled_avg_price is not None
    return done.filled_avg_price, done.commission


def trade_alpha(db: Database, bot: str, market: Market, book: Book) -> dict[str, str]:
    """Equities: a long built from two partial fills (one replayed), and a short."""
    ids: dict[str, str] = {}
    with db.unit_of_work(bot_id=bot) as uow:
        vwap, fee = buy_and_fill(
            uow,
            coid=f"{bot}-aapl-entry",
            ticker="AAPL",
            side="buy",
            quantity=Decimal(100),
            limit=Decimal("190.00"),
            day=0,
            fills=[
                ("f-aapl-1", Decimal(60), Decimal("189.95")),
                ("f-aapl-2", Decimal(40), Decimal("190.00")),
            ],
        )
        book.trade("buy", Decimal(100), vwap, fee)
        ids["AAPL"] = uow.positions.open(
            "AAPL",
            side="long",
            quantity=Decimal(100),
            entry_price=vwap.quantize(Decimal("0.0001")),
            stop_loss_price=Decimal("182.00"),
            take_profit_price=Decimal("196.00"),
            commission=fee,
            strategy="demo_momentum",
            signal_score=0.82,
            opened_at=at(0, 14, 35),
            metadata={"signal": "breakout", "timeframe": "1d"},
        ).position_id
    # The broker re-sends the second fill after a reconnect: nothing changes.
    with db.unit_of_work(bot_id=bot) as uow:
        order = uow.orders.get(client_order_id=f"{bot}-aapl-entry")
        replay = uow.orders.record_fill(
            order.order_id,
            fill_id="f-aapl-2",
            quantity=Decimal(40),
            price=Decimal("190.00"),
            filled_at=at(0, 14, 33),
            liquidity="maker",
            commission=(Decimal(40) * Decimal("190.00") * Decimal("0.0005")).quantize(CENT),
        )
        assert replay.replayed
        assert replay.order.filled_quantity == Decimal(100)
    with db.unit_of_work(bot_id=bot) as uow:
        price = market.price("TSLA", 0)
        vwap, fee = buy_and_fill(
            uow,
            coid=f"{bot}-tsla-short",
            ticker="TSLA",
            side="sell",
            quantity=Decimal(20),
            day=0,
            fills=[("f-tsla-1", Decimal(20), price)],
        )
        book.trade("sell", Decimal(20), vwap, fee)
        ids["TSLA"] = uow.positions.open(
            "TSLA",
            side="short",
            quantity=Decimal(20),
            entry_price=vwap,
            stop_loss_price=(vwap * Decimal("1.04")).quantize(CENT),
            take_profit_price=(vwap * Decimal("0.97")).quantize(CENT),
            commission=fee,
            strategy="demo_mean_reversion",
            signal_score=0.64,
            opened_at=at(0, 14, 40),
        ).position_id
        # A limit order that never fills and is cancelled at the close.
        resting = uow.orders.submit(
            client_order_id=f"{bot}-msft-dip",
            ticker="MSFT",
            side="buy",
            order_type="limit",
            quantity=Decimal(10),
            limit_price=Decimal("380.00"),
            submitted_at=at(0, 15),
        )
        uow.orders.set_status(resting.order_id, "accepted", at=at(0, 15, 1))
        uow.orders.cancel(resting.order_id, at=at(0, 21))
    return ids


def trade_beta(db: Database, bot: str, market: Market, book: Book) -> dict[str, str]:
    """Crypto: fractional quantities and 8-decimal prices."""
    ids: dict[str, str] = {}
    with db.unit_of_work(bot_id=bot) as uow:
        for ticker, qty in (("BTC-USD", Decimal("0.35")), ("ETH-USD", Decimal("4.2"))):
            price = market.price(ticker, 0)
            vwap, fee = buy_and_fill(
                uow,
                coid=f"{bot}-{ticker}-entry",
                ticker=ticker,
                side="buy",
                quantity=qty,
                day=0,
                fills=[(f"f-{ticker}-1", qty, price)],
            )
            book.trade("buy", qty, vwap, fee)
            # BTC rides a trailing stop instead of a fixed target (end_of_day trails it).
            ids[ticker] = uow.positions.open(
                ticker,
                side="long",
                quantity=qty,
                entry_price=vwap,
                stop_loss_price=(vwap * Decimal("0.95")).quantize(CENT),
                take_profit_price=(
                    None if ticker == "BTC-USD" else (vwap * Decimal("1.03")).quantize(CENT)
                ),
                commission=fee,
                strategy="demo_trend",
                signal_score=0.71,
                opened_at=at(0, 15, 5),
            ).position_id
    return ids


def trade_gamma(db: Database, bot: str) -> None:
    """A netting bot: it only sends orders and records their fills; tradestore keeps one
    position per ticker from them (an add at the VWAP, a reduce that books P&L, a reversal
    past zero, a close), as a broker's netting account shows it."""
    steps = [
        ("buy", Decimal(30), Decimal("390.10"), 0),
        ("buy", Decimal(20), Decimal("388.20"), 1),
        ("sell", Decimal(40), Decimal("391.50"), 2),
        ("sell", Decimal(20), Decimal("393.00"), 3),
        ("buy", Decimal(10), Decimal("392.40"), 4),
    ]
    for n, (side, quantity, price, day) in enumerate(steps):
        with db.unit_of_work(bot_id=bot) as uow:
            buy_and_fill(
                uow,
                coid=f"{bot}-msft-{n}",
                ticker="MSFT",
                side=side,
                quantity=quantity,
                day=day,
                fills=[(f"g-{n}", quantity, price)],
            )
            held = [p for p in uow.positions.list_open() if p.ticker == "MSFT"]
            booked = uow.positions.total_realized_pnl()
        where = (
            f"{held[0].side} {held[0].quantity.normalize():f} @ {held[0].entry_price:,.2f}"
            if held
            else "flat"
        )
        console.print(
            f"{_label(bot)} netting: {side} {quantity:f} MSFT @ {price} -> {where}, "
            f"realized P&L {booked:,.2f}"
        )


def exit_reason(
    side: str, price: Decimal, stop: Decimal | None, target: Decimal | None
) -> str | None:
    if side == "long":
        if stop is not None and price <= stop:
            return "stop_loss"
        if target is not None and price >= target:
            return "take_profit"
    else:
        if stop is not None and price >= stop:
            return "stop_loss"
        if target is not None and price <= target:
            return "take_profit"
    return None


#: Tickers whose stop trails the price (a stop they hit is a trailing stop's exit).
TRAILING = {"BTC-USD"}


def dca(uow: UnitOfWork, bot: str, market: Market, book: Book, day: int) -> None:
    """Buy more of a falling ETH: the order fills, and the position scales in at the VWAP."""
    for position in uow.positions.list_open():
        if position.ticker != "ETH-USD":
            continue
        quantity = Decimal("2.1")
        vwap, fee = buy_and_fill(
            uow,
            coid=f"{bot}-eth-dca-{day}",
            ticker="ETH-USD",
            side="buy",
            quantity=quantity,
            day=day,
            fills=[(f"f-eth-dca-{day}", quantity, market.price("ETH-USD", day))],
            position_id=position.position_id,
        )
        book.trade("buy", quantity, vwap, fee)
        scaled = uow.positions.scale_in(
            position.position_id, quantity=quantity, price=vwap, commission=fee
        )
        console.print(
            f"{_label(bot)} DCA: ETH +{quantity} at {vwap:,.2f}, now {scaled.quantity} "
            f"at an average {scaled.entry_price:,.2f}"
        )


def end_of_day(db: Database, bot: str, market: Market, book: Book, day: int) -> None:
    """Mark to market, take stop/target exits, trail stops, snapshot the book, metrics."""
    with db.unit_of_work(bot_id=bot) as uow:
        if day == 1 and bot.startswith("beta"):
            dca(uow, bot, market, book, day)
        open_positions = uow.positions.list_open()
        uow.positions.mark_to_market(
            {p.ticker: market.price(p.ticker, day) for p in open_positions}
        )
        for position in uow.positions.list_open():
            price = market.price(position.ticker, day)
            reason = exit_reason(
                position.side, price, position.stop_loss_price, position.take_profit_price
            )
            if reason == "stop_loss" and position.ticker in TRAILING:
                reason = "trailing_stop"
            trails = reason is None and position.ticker in TRAILING
            if trails and uow.positions.trail_stop(
                position.position_id, price=price, percent=Decimal("1.5")
            ):
                trailed = uow.positions.get(position.position_id)
                console.print(
                    f"{_label(bot)} trailing stop on {position.ticker} raised to "
                    f"{trailed.stop_loss_price:,.2f} (entry {trailed.entry_price:,.2f})"
                )
            quantity = position.quantity
            if reason is None and position.ticker == "AAPL" and day == 3:
                reason, quantity = "manual", Decimal(40)  # take some profit, keep the rest
            if reason is None and day == len(WEEK) - 1 and position.ticker == "AAPL":
                reason = "time_exit"  # the strategy's week is over
            if reason is None:
                continue
            side = "sell" if position.side == "long" else "buy"
            vwap, fee = buy_and_fill(
                uow,
                coid=f"{bot}-{position.ticker}-exit-{day}",
                ticker=position.ticker,
                side=side,
                quantity=quantity,
                day=day,
                fills=[(f"f-{position.ticker}-exit-{day}", quantity, price)],
                position_id=position.position_id,
            )
            book.trade(side, quantity, vwap, fee)
            uow.positions.close(
                position.position_id,
                exit_price=vwap,
                exit_reason=reason,
                quantity=quantity,
                commission=fee,
                closed_at=at(day, 20),
            )
        still_open = uow.positions.list_open()
        long_value = sum(
            (p.quantity * p.current_price for p in still_open if p.side == "long"), Decimal(0)
        )
        short_value = sum(
            (p.quantity * p.current_price for p in still_open if p.side == "short"), Decimal(0)
        )
        equity = book.cash + long_value - short_value
        uow.snapshots.record(
            snapshot_date=WEEK[day],
            snapshot_time=at(day, 21),
            total_equity=equity.quantize(CENT),
            cash_balance=book.cash.quantize(CENT),
            long_market_value=long_value.quantize(CENT),
            short_market_value=short_value.quantize(CENT),
            positions_count=len(still_open),
            unrealized_pnl=uow.positions.total_unrealized_pnl().quantize(CENT),
        )
        uow.metrics.compute(WEEK[day])
        uow.bots.set_balance(bot, current_balance=book.cash.quantize(CENT))
        uow.bots.heartbeat(bot)


def train(db: Database, tag: str) -> str:
    """Record two short RL runs, evaluate them and weight them into an ensemble."""
    rng = random.Random(11)  # noqa: S311
    run_ids = []
    with db.unit_of_work() as uow:
        for algorithm, lr in (("PPO", 3e-4), ("SAC", 1e-3)):
            run = uow.training.start_run(
                algorithm,
                f"demo_{algorithm.lower()}_{tag}",
                total_timesteps=200_000,
                hyperparameters={
                    "learning_rate": lr,
                    "batch_size": 64,
                    "gamma": 0.99,
                    "net_arch": {"pi": [64, 64], "vf": [64, 64]},
                },
                train_start_date=dt.date(2024, 1, 1),
                train_end_date=dt.date(2025, 12, 31),
                random_seed=42,
                start_time=at(0, 2),
            )
            episodes = [
                {
                    "episode_number": n,
                    "episode_reward": 50 * math.log1p(n) + rng.gauss(0, 5),
                    "episode_length": 390,
                    "mean_loss": 1 / (1 + n) if n else float("nan"),
                }
                for n in range(2_000)
            ]
            uow.training.log_episodes(run.run_id, episodes)
            uow.training.finish(
                run.run_id,
                "completed",
                final_reward=episodes[-1]["episode_reward"],
                best_reward=max(e["episode_reward"] for e in episodes),
                end_time=at(0, 4),
            )
            uow.evaluations.record(
                run.run_id,
                "validation",
                evaluation_date=WEEK[0],
                sharpe_ratio=1.1 + rng.random(),
                total_return_pct=8 * rng.random(),
                max_drawdown_pct=-5 * rng.random(),
                win_rate=0.5 + rng.random() / 5,
                total_trades=120,
            )
            run_ids.append(run.run_id)
        uow.ensembles.set_weights(
            f"demo-{tag}",
            {run_ids[0]: 0.6, run_ids[1]: 0.4},
            method="sharpe_weighted",
            lookback_days=30,
        )
    return f"demo-{tag}"


def _label(bot: str) -> str:
    return bot.split("-", 1)[0]


def summary(db: Database, bots: list[str], ensemble: str) -> None:
    table = Table(title="Bots after the simulated week")
    for column in (
        "bot",
        "open",
        "closed",
        "realized P&L",
        "unrealized P&L",
        "win rate",
        "Sharpe",
        "max drawdown",
        "equity",
    ):
        table.add_column(column, justify="right" if column != "bot" else "left")
    for bot in bots:
        with db.unit_of_work(bot_id=bot) as uow:
            closed = uow.positions.list_closed()
            metrics = uow.metrics.latest()
            snapshot = uow.snapshots.latest()
            win_rate = uow.positions.win_rate()
            table.add_row(
                _label(bot),
                str(len(uow.positions.list_open())),
                str(len(closed)),
                f"{uow.positions.total_realized_pnl():,.2f}",
                f"{uow.positions.total_unrealized_pnl():,.2f}",
                "-" if win_rate is None else f"{win_rate:.0%}",
                "-"
                if metrics is None or metrics.sharpe_ratio is None
                else f"{metrics.sharpe_ratio:.2f}",
                "-"
                if metrics is None or metrics.max_drawdown_pct is None
                else f"{metrics.max_drawdown_pct:.2f}%",
                "-" if snapshot is None else f"{snapshot.total_equity:,.2f}",
            )
    console.print(table)
    trades = Table(title="Closed trades")
    for column in ("bot", "ticker", "side", "qty", "entry", "exit", "P&L", "reason"):
        trades.add_column(column)
    for bot in bots:
        with db.unit_of_work(bot_id=bot) as uow:
            for trade in uow.positions.list_closed():
                trades.add_row(
                    _label(bot),
                    trade.ticker,
                    str(trade.side),
                    f"{trade.quantity.normalize():f}",
                    f"{trade.entry_price:,.2f}",
                    f"{trade.exit_price:,.2f}",
                    f"{trade.realized_pnl:,.2f}",
                    str(trade.exit_reason),
                )
    console.print(trades)
    with db.unit_of_work() as uow:
        board = Table(title="Agent leaderboard and the demo ensemble")
        for column in ("algorithm", "model", "Sharpe", "return %", "weight"):
            board.add_column(column)
        current = uow.ensembles.current(ensemble)
        weights = current.weights if current is not None else {}
        for entry in uow.analytics.agent_leaderboard(limit=5):
            if entry.run_id in weights:
                board.add_row(
                    str(entry.algorithm),
                    entry.model_name.rsplit("_", 1)[0],
                    f"{entry.sharpe_ratio:.2f}",
                    f"{entry.total_return_pct or 0:.2f}",
                    f"{weights[entry.run_id]:.2f}",
                )
        console.print(board)


def write_report(db: Database, bot: str, ensemble: str) -> None:
    """The first bot's performance report, with the reward curves of the ensemble's runs."""
    try:
        with db.unit_of_work(bot_id=bot) as uow:
            current = uow.ensembles.current(ensemble)
            runs = sorted(current.weights) if current is not None else []
            report = uow.analytics.report(runs=runs)
    except MissingDependency as exc:
        console.print(f"[yellow]no report:[/] {exc}")
        return
    path = report.write(Path("data") / f"report-{_label(bot)}.html")
    console.print(f"performance report of {_label(bot)}: {path.resolve()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="database URL (default: the usual resolution)")
    args = parser.parse_args(argv)
    tag = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    bots = [f"alpha-{tag}", f"beta-{tag}"]
    netting = f"gamma-{tag}"
    market = Market()
    books = {bot: Book(Decimal(100_000)) for bot in bots}
    try:
        db = Database(args.url)
        console.print(f"tradestore demo on {db.safe_url} (run {tag})")
        with db.unit_of_work() as uow:
            uow.bots.register(
                bots[0],
                mode="paper",
                broker="demo-equities",
                starting_balance=Decimal(100_000),
                config={"universe": ["AAPL", "TSLA"]},
            )
            uow.bots.register(
                bots[1],
                mode="paper",
                broker="demo-crypto",
                starting_balance=Decimal(100_000),
                config={"universe": ["BTC", "ETH"]},
            )
            uow.bots.register(
                netting,
                mode="paper",
                broker="demo-netting",
                starting_balance=Decimal(100_000),
                position_keeping="netting",
            )
            for bot in [*bots, netting]:
                uow.bots.set_status(bot, "running")
        trade_alpha(db, bots[0], market, books[bots[0]])
        trade_gamma(db, netting)
        trade_beta(db, bots[1], market, books[bots[1]])
        for day in range(len(WEEK)):
            for bot in bots:
                if day == 3 and bot == bots[1]:
                    # beta crashes overnight: a new process opens the database and recovers.
                    db.dispose()
                    db = Database(args.url)
                    with db.unit_of_work() as uow:
                        state = uow.bots.recover(bot)
                    console.print(
                        f"[bold]{_label(bot)} restarted[/]: "
                        f"{len(state.open_positions)} open positions, "
                        f"{len(state.open_orders)} open orders, last snapshot "
                        f"{state.latest_snapshot.snapshot_date if state.latest_snapshot else '-'}, "
                        f"realized P&L {state.balances.realized_pnl:,.2f}"
                    )
                    if state.interrupted_session is not None:
                        ended = state.interrupted_session
                        console.print(
                            f"  its last session ended as {ended.end_reason}: "
                            f"{ended.total_trades} trades, P&L {ended.total_pnl:,.2f}; "
                            "a new session starts"
                        )
                    books[bot] = Book(state.bot.current_balance or Decimal(0))
                end_of_day(db, bot, market, books[bot], day)
        with db.unit_of_work() as uow:
            for bot in [*bots, netting]:
                uow.bots.set_status(bot, "stopped")
        ensemble = train(db, tag)
        summary(db, [*bots, netting], ensemble)
        write_report(db, bots[0], ensemble)
        db.dispose()
    except TradestoreError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
