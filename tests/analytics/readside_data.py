"""A realistic data set for the read side, written with Core inserts through the models.

``tests/analytics/conftest.py`` turns it into the ``seeded`` fixture.

The repositories that will write this data are built on other branches; until they are
merged, ``seeded`` inserts rows the way they would be stored (the lead adds a variant written
by the repositories). It covers what the read side must get right:

* three bots: ``alpha`` and ``beta`` with data, ``gamma`` with none;
* long and short positions, open and closed, with partial closes (closed parts sharing the
  open position's ``position_id``), wins, losses and a breakeven trade;
* orders of every type and most statuses, partial fills, several fills per order, slippage
  recorded or not, spread over 40 days so the 24-hour / 7-day / 30-day windows cut through;
* daily snapshots and metrics, training runs of several algorithms and statuses with
  hyperparameters, evaluations and two ensembles with version history.

No NaN anywhere: the source SQL treats NaN differently on the two backends, so NaN handling has
its own tests. Values that the source queries sort by are distinct, so "exactly the same rows in
the same order" is a fair requirement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tradestore.domain.money import fit
from tradestore.models import (
    ALL_STRATEGIES,
    AgentPerformance,
    Bot,
    ClosedPosition,
    EnsembleWeight,
    Fill,
    Hyperparameters,
    Order,
    PerformanceMetric,
    PortfolioSnapshot,
    Position,
    TrainingRun,
)

D = Decimal


@dataclass
class Dataset:
    """What ``seeded`` wrote, kept for computing expectations independently of SQL."""

    now: dt.datetime
    dialect: str
    positions: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    hyperparameters: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    weights: list[dict[str, Any]] = field(default_factory=list)

    def of(self, rows: list[dict[str, Any]], bot_id: str | None) -> list[dict[str, Any]]:
        return [r for r in rows if bot_id is None or r["bot_id"] == bot_id]


BOTS = ("alpha", "beta", "gamma")


def _money(value: Decimal, dialect: str) -> Decimal:
    """A derived amount as the backend stores it (what a repository would write)."""
    return fit(value, dialect)


def _pct(pnl: Decimal, cost: Decimal) -> float:
    return float(pnl / cost * 100)


def build(now: dt.datetime, dialect: str) -> Dataset:
    data = Dataset(now=now, dialect=dialect)
    ago = lambda **kw: now - dt.timedelta(**kw)  # noqa: E731

    # --- open positions ------------------------------------------------------------------
    open_positions = [
        # bot, position_id, ticker, side, qty, entry, current, opened, strategy
        (
            "alpha",
            "pos-a-aapl",
            "AAPL",
            "long",
            D("100"),
            D("150.25"),
            D("155.50"),
            ago(days=3),
            "ppo_agent",
        ),
        (
            "alpha",
            "pos-a-tsla",
            "TSLA",
            "short",
            D("20"),
            D("250.00"),
            D("240.10"),
            ago(hours=30),
            "sac_agent",
        ),
        (
            "alpha",
            "pos-a-btc",
            "BTCUSD",
            "long",
            D("0.125"),
            D("43210.50"),
            D("42000.75"),
            ago(hours=2),
            "ppo_agent",
        ),
        (
            "beta",
            "pos-b-aapl",
            "AAPL",
            "long",
            D("50"),
            D("149.80"),
            D("155.50"),
            ago(days=1, hours=4),
            None,
        ),
        (
            "beta",
            "pos-b-nvda",
            "NVDA",
            "short",
            D("10"),
            D("480.00"),
            D("495.25"),
            ago(hours=5),
            "momentum",
        ),
    ]
    for bot, pid, ticker, side, qty, entry, current, opened, strategy in open_positions:
        sign = 1 if side == "long" else -1
        pnl = (current - entry) * qty * sign
        data.positions.append(
            {
                "position_id": pid,
                "bot_id": bot,
                "ticker": ticker,
                "side": side,
                "quantity": qty,
                "entry_price": entry,
                "current_price": current,
                "unrealized_pnl": _money(pnl, dialect),
                "unrealized_pnl_pct": _pct(pnl, entry * qty),
                "commission": D("1.00"),
                "opened_at": opened,
                "updated_at": ago(minutes=5),
                "strategy": strategy,
                "signal_score": 0.8,
            }
        )

    # --- closed positions ----------------------------------------------------------------
    reasons = [
        "take_profit",
        "stop_loss",
        "trailing_stop",
        "time_exit",
        "manual",
        "risk_limit",
        "market_close",
        "circuit_breaker",
    ]
    tickers = ["AAPL", "TSLA", "MSFT", "NVDA", "AMZN", "BTCUSD"]
    closed_specs: list[tuple[Any, ...]] = []
    for i in range(22):  # alpha
        side = "short" if i % 4 == 1 else "long"
        entry = D("100.00") + D(i) * D("3.15")
        move = D((i * 37) % 23 - 9) * D("0.47") + D(i) * D("0.011")
        exit_price = entry + move
        closed_specs.append(
            (
                "alpha",
                f"cp-a-{i:02d}",
                tickers[i % 6],
                side,
                D(10 + i),
                entry,
                exit_price,
                reasons[i % 8],
                1.5 + i * 2.25,
                ago(days=i, hours=3),
            )
        )
    # a breakeven short
    closed_specs.append(
        (
            "alpha",
            "cp-a-even",
            "MSFT",
            "short",
            D("15"),
            D("310.00"),
            D("310.00"),
            "manual",
            0.75,
            ago(days=2, hours=7),
        )
    )
    # two partial closes of the still-open BTC position
    closed_specs.append(
        (
            "alpha",
            "pos-a-btc",
            "BTCUSD",
            "long",
            D("0.05"),
            D("43210.50"),
            D("43500.00"),
            "take_profit",
            1.0,
            ago(hours=1, minutes=30),
        )
    )
    closed_specs.append(
        (
            "alpha",
            "pos-a-btc",
            "BTCUSD",
            "long",
            D("0.025"),
            D("43210.50"),
            D("43650.25"),
            "take_profit",
            1.5,
            ago(hours=1),
        )
    )
    # a position closed in two parts, nothing left open
    closed_specs.append(
        (
            "alpha",
            "pos-a-split",
            "AMZN",
            "long",
            D("30"),
            D("130.40"),
            D("128.10"),
            "stop_loss",
            20.0,
            ago(days=4),
        )
    )
    closed_specs.append(
        (
            "alpha",
            "pos-a-split",
            "AMZN",
            "long",
            D("20"),
            D("130.40"),
            D("127.95"),
            "stop_loss",
            20.5,
            ago(days=4, hours=-1),
        )
    )
    for i in range(12):  # beta
        side = "short" if i % 3 == 0 else "long"
        entry = D("55.20") + D(i) * D("7.05")
        move = D((i * 53) % 19 - 8) * D("0.33") + D(i) * D("0.007")
        closed_specs.append(
            (
                "beta",
                f"cp-b-{i:02d}",
                tickers[(i + 2) % 6],
                side,
                D(40 + 5 * i),
                entry,
                entry + move,
                reasons[(i + 3) % 8],
                0.5 + i * 3.1,
                ago(days=i * 2, hours=9),
            )
        )
    for bot, pid, ticker, side, qty, entry, exit_price, reason, hours, closed_at in closed_specs:
        sign = 1 if side == "long" else -1
        pnl = _money((exit_price - entry) * qty * sign, dialect)
        data.closed.append(
            {
                "position_id": pid,
                "bot_id": bot,
                "ticker": ticker,
                "side": side,
                "quantity": qty,
                "entry_price": entry,
                "exit_price": exit_price,
                "current_price": exit_price,
                "realized_pnl": pnl,
                "realized_pnl_pct": _pct(pnl, entry * qty),
                "opened_at": closed_at - dt.timedelta(hours=hours),
                "closed_at": closed_at,
                "updated_at": closed_at,
                "holding_period_hours": hours,
                "exit_reason": reason,
                "commission": D("1.25"),
                "slippage": D("0.01") if hours > 10 else None,
                "strategy": "ppo_agent" if hours > 20 else "sac_agent",
                "signal_score": None,
            }
        )

    # --- orders and fills ------------------------------------------------------------------
    statuses = [
        "filled",
        "filled",
        "partially_filled",
        "cancelled",
        "filled",
        "rejected",
        "new",
        "filled",
        "expired",
        "pending",
    ]
    types = ["market", "limit", "stop", "stop_limit", "limit", "market", "trailing_stop"]
    ages = [
        dt.timedelta(hours=1),
        dt.timedelta(hours=5),
        dt.timedelta(hours=20),
        dt.timedelta(hours=30),
        dt.timedelta(days=3),
        dt.timedelta(days=6, hours=2),
        dt.timedelta(days=9),
        dt.timedelta(days=15),
        dt.timedelta(days=25),
        dt.timedelta(days=33),
        dt.timedelta(days=38),
    ]
    order_tickers = ["AAPL", "TSLA", "BTCUSD", "NVDA", "AAPL", "TSLA"]
    n = 0
    for bot, count in (("alpha", 34), ("beta", 18)):
        for i in range(count):
            n += 1
            order_type = types[(i + (bot == "beta")) % len(types)]
            status = statuses[(i * 3 + (bot == "beta")) % len(statuses)]
            ticker = order_tickers[(i + 2 * (bot == "beta")) % len(order_tickers)]
            if i == 7:
                ticker = "MSFT"  # MSFT only ordered long ago: no recent fill rate
            submitted = now - ages[i % len(ages)] - dt.timedelta(minutes=7 * i)
            if ticker == "MSFT":
                submitted = now - dt.timedelta(days=35, minutes=i)
            side = "buy" if (i + n) % 3 else "sell"
            # Multiples of 6 (0.6 BTC) split evenly into the 1-3 fills of a filled order.
            quantity = D(6 * (i % 7 + 1)) if ticker != "BTCUSD" else D("0.6")
            base = {
                "AAPL": D("150"),
                "TSLA": D("245"),
                "BTCUSD": D("43000"),
                "NVDA": D("490"),
                "MSFT": D("310"),
            }[ticker] + D(i) * D("0.37")
            limit_price = base if order_type in ("limit", "stop_limit") else None
            stop_price = base - D("1.5") if order_type in ("stop", "stop_limit") else None
            order_id = f"ord-{bot}-{i:03d}"
            fill_quantities: list[Decimal] = []
            if status == "filled":
                parts = 1 + i % 3
                fill_quantities = [quantity / parts] * parts
            elif status in ("partially_filled", "cancelled") and i % 2 == 0:
                fill_quantities = [quantity / 2] if status == "partially_filled" else [quantity / 5]
            fills = []
            for k, fq in enumerate(fill_quantities):
                direction = 1 if side == "buy" else -1
                price = base + D(direction) * D(k) * D("0.05") + D((i % 5) - 2) * D("0.01")
                fills.append(
                    {
                        "bot_id": bot,
                        "fill_id": f"fill-{bot}-{i:03d}-{k}",
                        "order_id": order_id,
                        "ticker": ticker,
                        "side": side,
                        "quantity": _money(fq, dialect),
                        "price": price,
                        "filled_at": submitted + dt.timedelta(seconds=30 + 40 * k),
                        "liquidity": ("maker", "taker", "unknown")[k % 3],
                        "commission": D("0.35") * (k + 1),
                        "position_id": None,
                    }
                )
            filled_quantity = sum((f["quantity"] for f in fills), D(0))
            vwap = None
            if fills:
                vwap = _money(
                    sum((f["quantity"] * f["price"] for f in fills), D(0)) / filled_quantity,
                    dialect,
                )
            slippage = None
            if fills and i % 4 != 3:
                slippage = D((i * 7) % 11 - 3) * D("0.013") + D(n) * D("0.0001")
            data.orders.append(
                {
                    "order_id": order_id,
                    "bot_id": bot,
                    "client_order_id": f"cli-{bot}-{i:03d}",
                    "broker_order_id": None,
                    "ticker": ticker,
                    "order_type": order_type,
                    "side": side,
                    "quantity": quantity,
                    "limit_price": limit_price,
                    "stop_price": stop_price,
                    "time_in_force": "day" if i % 2 else "gtc",
                    "status": status,
                    "submitted_at": submitted,
                    "accepted_at": None,
                    "filled_at": fills[-1]["filled_at"] if status == "filled" else None,
                    "cancelled_at": None,
                    "rejected_at": None,
                    "expired_at": None,
                    "updated_at": submitted,
                    "filled_quantity": filled_quantity,
                    "filled_avg_price": vwap,
                    "commission": sum((f["commission"] for f in fills), D(0)),
                    "slippage": slippage,
                    "position_id": None,
                    "strategy": "ppo_agent" if i % 2 else None,
                    "reject_reason": "insufficient buying power" if status == "rejected" else None,
                    "metadata_": None,
                }
            )
            data.fills.extend(fills)

    # --- snapshots and metrics -----------------------------------------------------------
    today = now.date()
    for bot, days, equity0 in (("alpha", 45, D("100000")), ("beta", 20, D("25000"))):
        cumulative = D(0)
        for k in range(days, -1, -1):
            day = today - dt.timedelta(days=k)
            daily = D(((k * 29) % 17) - 7) * D("41.5") + D(k) * D("0.25")
            cumulative += daily
            trades = (k * 5) % 7
            wins = trades // 2
            losses = trades - wins - (1 if trades % 2 and trades > 2 else 0)
            data.snapshots.append(
                {
                    "bot_id": bot,
                    "snapshot_date": day,
                    "snapshot_time": dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
                    + dt.timedelta(hours=21, minutes=5),
                    "total_equity": equity0 + cumulative,
                    "cash_balance": equity0 / 2 + cumulative,
                    "long_market_value": equity0 / 2,
                    "short_market_value": D(0),
                    "positions_count": trades % 4,
                    "daily_pnl": daily,
                    "daily_return_pct": float(daily / equity0 * 100),
                    "cumulative_pnl": cumulative,
                    "cumulative_return_pct": float(cumulative / equity0 * 100),
                    "buying_power": equity0,
                    "leverage": 1.0,
                    "unrealized_pnl": None,
                    "realized_pnl_today": daily,
                    "trades_today": trades,
                    "wins_today": wins,
                    "losses_today": losses,
                }
            )
    for bot, days in (("alpha", 40), ("beta", 8)):
        for k in range(days):
            for strategy in (ALL_STRATEGIES, "ppo_agent") if k % 3 == 0 else (ALL_STRATEGIES,):
                data.metrics.append(
                    {
                        "bot_id": bot,
                        "metric_date": today - dt.timedelta(days=k),
                        "strategy": strategy,
                        "sharpe_ratio": 1.1 + k * 0.013 + (0.2 if strategy != "all" else 0),
                        "sortino_ratio": 1.4 + k * 0.011,
                        "calmar_ratio": None if k % 5 == 0 else 0.9,
                        "max_drawdown": D("1250.50") + D(k),
                        "max_drawdown_pct": 4.5 + k * 0.05,
                        "current_drawdown": D(k % 4) * D("10.25"),
                        "current_drawdown_pct": (k % 4) * 0.1,
                        "days_in_drawdown": k % 4,
                        "return_1d": 0.1,
                        "return_7d": 0.7,
                        "return_30d": 2.5,
                        "volatility_annualized": 14.2,
                        "total_trades_30d": 30 + k,
                        "winning_trades_30d": 17,
                        "win_rate_30d": 17 / (30 + k),
                        "profit_factor_30d": 1.6,
                        "expectancy_30d": D("12.75"),
                    }
                )

    # --- training --------------------------------------------------------------------------
    runs = [
        # run_id, algorithm, model, status, started, hours, lr, batch, n_steps
        ("r-ppo-1", "PPO", "ppo_v1", "completed", ago(days=20), 5.5, 3e-4, 64, 2048),
        ("r-ppo-2", "PPO", "ppo_v2", "completed", ago(days=18), 6.25, 1e-4, 64, 2048),
        ("r-ppo-3", "PPO", "ppo_v3", "completed", ago(days=16), 4.0, 3e-4, 64, 2048),
        ("r-ppo-4", "PPO", "ppo_v4", "completed", ago(days=12), 7.75, 3e-4, 128, 1024),
        ("r-ppo-5", "PPO", "ppo_v5", "failed", ago(days=11), 0.5, 1e-3, 32, 512),
        ("r-sac-1", "SAC", "sac_v1", "completed", ago(days=14), 9.0, 3e-4, 256, None),
        ("r-sac-2", "SAC", "sac_v2", "completed", ago(days=9), 8.5, 1e-3, 256, None),
        ("r-a2c-1", "A2C", "a2c_v1", "completed", ago(days=8), 2.0, 7e-4, None, 5),
        ("r-td3-1", "TD3", "td3_v1", "stopped", ago(days=7), 1.0, 1e-3, 100, None),
        ("r-dqn-1", "DQN", "dqn_v1", "running", ago(hours=3), None, 1e-4, 32, None),
    ]
    for run_id, algorithm, model, status, started, hours, lr, batch, n_steps in runs:
        end = None if hours is None else started + dt.timedelta(hours=hours)
        data.runs.append(
            {
                "run_id": run_id,
                "algorithm": algorithm,
                "model_name": model,
                "start_time": started,
                "end_time": end,
                "duration_seconds": None if hours is None or run_id == "r-a2c-1" else hours * 3600,
                "total_timesteps": 200_000,
                "status": status,
                "final_reward": 800.0 + len(data.runs),
                "best_reward": 900.0 + len(data.runs),
                "convergence_achieved": status == "completed",
                "random_seed": 42,
                "device": "cpu",
                "error_message": "diverged" if status == "failed" else None,
            }
        )
        data.hyperparameters.append(
            {
                "run_id": run_id,
                "algorithm": algorithm,
                "learning_rate": lr,
                "batch_size": batch,
                "n_steps": n_steps,
                "gamma": 0.99,
                "params_json": {"learning_rate": lr, "batch_size": batch},
            }
        )
    sharpe = {
        "r-ppo-1": (1.82, 1.41, 2.3),
        "r-ppo-2": (1.21, 0.97, 1.9),
        "r-ppo-3": (1.64, 1.33, 2.2),
        "r-ppo-4": (2.05, 1.72, 2.6),
        "r-ppo-5": (2.91, None, None),
        "r-sac-1": (1.47, 1.18, 2.0),
        "r-sac-2": (1.93, 1.61, 2.4),
        "r-a2c-1": (0.88, None, 1.2),
        "r-td3-1": (2.44, 2.1, None),
        "r-dqn-1": (None, None, None),
    }
    for run_id, (validation, test, train) in sharpe.items():
        for k, (evaluation_type, value) in enumerate(
            (("validation", validation), ("test", test), ("train", train))
        ):
            if value is None:
                continue
            data.evaluations.append(
                {
                    "run_id": run_id,
                    "evaluation_date": today - dt.timedelta(days=6 - k),
                    "evaluation_type": evaluation_type,
                    "total_return_pct": value * 7.5,
                    "sharpe_ratio": value,
                    "max_drawdown_pct": 10 - value,
                    "win_rate": min(0.99, 0.3 + value / 5),
                    "total_trades": int(value * 100),
                }
            )
    # a second validation of r-ppo-1, later: v_training_summary must pick it
    data.evaluations.append(
        {
            "run_id": "r-ppo-1",
            "evaluation_date": today - dt.timedelta(days=1),
            "evaluation_type": "validation",
            "total_return_pct": 11.0,
            "sharpe_ratio": 1.77,
            "max_drawdown_pct": 8.1,
            "win_rate": 0.61,
            "total_trades": 140,
        }
    )
    members = [("r-ppo-1", "PPO"), ("r-sac-2", "SAC"), ("r-a2c-1", "A2C")]
    for version in range(1, 5):
        update_time = ago(days=10 - 2 * version, minutes=version)
        for j, (run_id, algorithm) in enumerate(members):
            weight = round((0.5, 0.3, 0.2)[(j + version) % 3], 2)
            data.weights.append(
                {
                    "ensemble_id": "production",
                    "version": version,
                    "update_time": update_time,
                    "update_date": update_time.date(),
                    "run_id": run_id,
                    "algorithm": algorithm,
                    "weight": weight,
                    "performance_score": weight * 2,
                    "sharpe_ratio": 1.5 + j * 0.1 + version * 0.01,
                    "win_rate": 0.55,
                    "is_active": version == 4,
                    "weighting_method": "sharpe_weighted",
                    "lookback_days": 30,
                }
            )
    for run_id, algorithm in members[:2]:
        data.weights.append(
            {
                "ensemble_id": "staging",
                "version": 1,
                "update_time": ago(days=1),
                "update_date": ago(days=1).date(),
                "run_id": run_id,
                "algorithm": algorithm,
                "weight": 0.5,
                "performance_score": None,
                "sharpe_ratio": None,
                "win_rate": None,
                "is_active": True,
                "weighting_method": "equal",
                "lookback_days": None,
            }
        )
    return data


def write(session: Session, data: Dataset) -> None:
    """Insert ``data`` with Core INSERTs through the models (render_nulls: one batch each)."""
    session.execute(
        insert(Bot).execution_options(render_nulls=True),
        [
            {"bot_id": bot, "name": bot.title(), "mode": mode, "status": "running"}
            for bot, mode in zip(BOTS, ("paper", "live", "backtest"), strict=True)
        ],
    )
    for model, rows in (
        (Position, data.positions),
        (ClosedPosition, data.closed),
        (Order, data.orders),
        (Fill, data.fills),
        (PortfolioSnapshot, data.snapshots),
        (PerformanceMetric, data.metrics),
        (TrainingRun, data.runs),
        (Hyperparameters, data.hyperparameters),
        (AgentPerformance, data.evaluations),
        (EnsembleWeight, data.weights),
    ):
        session.execute(insert(model).execution_options(render_nulls=True), rows)
