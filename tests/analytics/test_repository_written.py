"""Issue 5's "Done when": each Common Query of the source schema returns what the analytics
method returns on data the repositories wrote (not Core inserts, as in test_common_queries).

One multi-bot scenario goes through the public write API: registered bots, long and short
positions marked to market and closed (one in two parts), orders submitted, accepted, filled
in parts, filled and cancelled, snapshots and computed metrics, training runs with episodes,
evaluations and ensemble weights. The statements are test_common_queries' adaptations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from test_common_queries import (
    BEST_AGENTS_SQL,
    BEST_HYPERPARAMETERS_SQL,
    BEST_PERFORMERS_SQL,
    COMPARE_ALGORITHMS_SQL,
    CURRENT_RISK_SQL,
    ENSEMBLE_WEIGHT_HISTORY_SQL,
    HOLDING_PERIOD_SQL,
    SLIPPAGE_BY_ORDER_TYPE_SQL,
    TOTAL_UNREALIZED_PNL_SQL,
    WIN_RATE_SQL,
    Read,
    convert,
    daily_fill_rate_sql,
    project,
    run,
    same_rows,
    scoped,
)

from tradestore import Database
from tradestore.analytics import Analytics

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
BOTS = ["alpha", "beta", None]


def _at(days_ago: float, hours: float = 0) -> dt.datetime:
    return NOW - dt.timedelta(days=days_ago, hours=hours)


def _trade(db: Database, bot_id: str, ticker: str, orders: list[dict[str, Any]]) -> None:
    """Submit each order, then accept, fill (in parts) or cancel it as its script says."""
    with db.unit_of_work(bot_id=bot_id) as uow:
        for n, spec in enumerate(orders):
            submitted = _at(spec["days_ago"])
            order = uow.orders.submit(
                client_order_id=f"{bot_id}-{ticker}-{n}",
                ticker=ticker,
                side=spec["side"],
                order_type=spec["type"],
                quantity=spec["quantity"],
                limit_price=spec.get("limit"),
                reference_price=spec.get("reference"),
                submitted_at=submitted,
            )
            uow.orders.set_status(order.order_id, "accepted", at=submitted)
            for k, (quantity, price) in enumerate(spec.get("fills", [])):
                uow.orders.record_fill(
                    order.order_id,
                    fill_id=f"{order.order_id}-f{k}",
                    quantity=quantity,
                    price=price,
                    filled_at=submitted + dt.timedelta(minutes=k + 1),
                    commission="0.5",
                )
            if spec.get("cancel"):
                uow.orders.set_status(
                    order.order_id, "cancelled", at=submitted + dt.timedelta(minutes=30)
                )


@pytest.fixture
def scenario(db: Database) -> Database:
    with db.unit_of_work() as uow:
        for bot_id in ("alpha", "beta"):
            uow.bots.register(bot_id, mode="paper", starting_balance=Decimal("100000"))
            uow.bots.set_status(bot_id, "running")

    # positions: alpha a long closed in two parts, a short closed, one long left open;
    # beta a losing long closed and a short left open.
    with db.unit_of_work(bot_id="alpha") as uow:
        aapl = uow.positions.open(
            "AAPL",
            side="long",
            quantity="100",
            entry_price="150.25",
            commission="1",
            strategy="momentum",
            opened_at=_at(9),
        )
        tsla = uow.positions.open(
            "TSLA",
            side="short",
            quantity="20",
            entry_price="250",
            opened_at=_at(8),
        )
        uow.positions.open(
            "MSFT",
            side="long",
            quantity="10",
            entry_price="410.10",
            opened_at=_at(3),
        )
        uow.positions.mark_to_market({"AAPL": "155.5", "TSLA": "240", "MSFT": "415.35"})
        uow.positions.close(
            aapl.position_id,
            exit_price="156",
            exit_reason="take_profit",
            quantity="40",
            commission="0.4",
            closed_at=_at(6),
        )
        uow.positions.close(
            aapl.position_id,
            exit_price="149.75",
            exit_reason="stop_loss",
            commission="0.6",
            closed_at=_at(4),
        )
        uow.positions.close(
            tsla.position_id,
            exit_price="238.5",
            exit_reason="manual",
            closed_at=_at(2),
        )
    with db.unit_of_work(bot_id="beta") as uow:
        nvda = uow.positions.open(
            "NVDA",
            side="long",
            quantity="5",
            entry_price="900",
            opened_at=_at(7),
        )
        uow.positions.open(
            "AMD",
            side="short",
            quantity="30",
            entry_price="160",
            opened_at=_at(1),
        )
        uow.positions.mark_to_market({"NVDA": "880", "AMD": "162.4"})
        uow.positions.close(
            nvda.position_id,
            exit_price="870",
            exit_reason="stop_loss",
            closed_at=_at(5),
        )

    # orders: filled, partially filled then cancelled, cancelled untouched, partially open.
    _trade(
        db,
        "alpha",
        "AAPL",
        [
            {
                "days_ago": 9,
                "side": "buy",
                "type": "market",
                "quantity": "100",
                "reference": "150",
                "fills": [("60", "150.2"), ("40", "150.3")],
            },
            {
                "days_ago": 6,
                "side": "sell",
                "type": "limit",
                "quantity": "40",
                "limit": "156",
                "reference": "155.9",
                "fills": [("40", "156")],
            },
            {
                "days_ago": 4,
                "side": "sell",
                "type": "limit",
                "quantity": "60",
                "limit": "151",
                "reference": "150.8",
                "fills": [("10", "151")],
                "cancel": True,
            },
            {
                "days_ago": 4,
                "side": "sell",
                "type": "market",
                "quantity": "50",
                "reference": "149.9",
                "fills": [("50", "149.75")],
            },
        ],
    )
    _trade(
        db,
        "alpha",
        "TSLA",
        [
            {
                "days_ago": 8,
                "side": "sell",
                "type": "market",
                "quantity": "20",
                "reference": "250.5",
                "fills": [("20", "250")],
            },
            {
                "days_ago": 2,
                "side": "buy",
                "type": "limit",
                "quantity": "20",
                "limit": "238",
                "reference": "238.2",
                "cancel": True,
            },
        ],
    )
    _trade(
        db,
        "beta",
        "NVDA",
        [
            {
                "days_ago": 7,
                "side": "buy",
                "type": "market",
                "quantity": "5",
                "reference": "899",
                "fills": [("5", "900")],
            },
            {
                "days_ago": 1,
                "side": "buy",
                "type": "limit",
                "quantity": "10",
                "limit": "870",
                "reference": "871",
                "fills": [("4", "869.5")],
            },
        ],
    )

    # snapshots and metrics
    for bot_id, drift in (("alpha", Decimal("120")), ("beta", Decimal("-80"))):
        with db.unit_of_work(bot_id=bot_id) as uow:
            for back in range(10, -1, -1):
                day = (NOW - dt.timedelta(days=back)).date()
                equity = Decimal("100000") + drift * (10 - back) + (37 if back % 3 else -55)
                uow.snapshots.record(
                    total_equity=equity,
                    cash_balance=equity - Decimal("20000"),
                    snapshot_date=day,
                    snapshot_time=dt.datetime.combine(day, dt.time(21), tzinfo=dt.UTC),
                )
            uow.metrics.compute(NOW.date())

    # training: runs with episodes, evaluations (one run validated twice, a failed run),
    # and two versions of an ensemble.
    runs = [
        (
            "PPO",
            "ppo_a",
            {"learning_rate": 3e-4, "batch_size": 64, "n_steps": 2048},
            "completed",
            [1.42, 1.61],
        ),
        (
            "PPO",
            "ppo_b",
            {"learning_rate": 1e-4, "batch_size": 128, "n_steps": 1024},
            "completed",
            [0.93],
        ),
        (
            "PPO",
            "ppo_c",
            {"learning_rate": 3e-4, "batch_size": 64, "n_steps": 2048},
            "failed",
            [2.5],
        ),
        ("SAC", "sac_a", {"learning_rate": 1e-4}, "completed", [1.55]),
        ("A2C", "a2c_a", {"learning_rate": 7e-4}, "completed", [0.41]),
    ]
    run_ids: dict[str, str] = {}
    with db.unit_of_work() as uow:
        for algorithm, model, params, status, sharpes in runs:
            started = uow.training.start_run(
                algorithm, model, hyperparameters=params, total_timesteps=100_000
            )
            run_ids[model] = started.run_id
            uow.training.log_episodes(
                started.run_id,
                [{"episode_number": n, "episode_reward": 10.0 + n} for n in range(1, 6)],
            )
            for k, sharpe in enumerate(sharpes):
                uow.evaluations.record(
                    started.run_id,
                    "validation",
                    evaluation_date=NOW.date() - dt.timedelta(days=3 - k),
                    sharpe_ratio=sharpe,
                    total_return_pct=sharpe * 4,
                    win_rate=0.5,
                    total_trades=40,
                )
            uow.evaluations.record(
                started.run_id, "test", evaluation_date=NOW.date(), sharpe_ratio=sharpes[-1] - 0.2
            )
            uow.training.finish(started.run_id, status, final_reward=15.0, best_reward=16.5)
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights(
            "production", {run_ids["ppo_a"]: 0.5, run_ids["sac_a"]: 0.5}, method="equal"
        )
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights(
            "production",
            {run_ids["ppo_a"]: 0.5, run_ids["sac_a"]: 0.3, run_ids["a2c_a"]: 0.2},
            method="sharpe_weighted",
        )
    return db


@pytest.mark.parametrize("bot_id", BOTS)
def test_position_queries(scenario: Database, bot_id: str | None) -> None:
    read = Read(scenario.dialect_name)
    with scenario.session(readonly=True) as session:
        analytics = Analytics(session, bot_id=bot_id)
        total = run(session, scoped(TOTAL_UNREALIZED_PNL_SQL, bot_id), bot_id=bot_id)
        assert read.money(total[0][0]) == analytics.total_unrealized_pnl() != 0
        win = run(session, scoped(WIN_RATE_SQL, bot_id), bot_id=bot_id)
        assert Read.ratio(win[0][0]) == analytics.win_rate()
        holding = run(session, scoped(HOLDING_PERIOD_SQL, bot_id), bot_id=bot_id)
        ours = analytics.holding_period_by_exit_reason()
        assert same_rows(sorted(holding), project(ours, "exit_reason", "avg_hours"))
        best = run(session, scoped(BEST_PERFORMERS_SQL, bot_id), bot_id=bot_id)
        assert convert(best, Read.same, read.money, Read.same) == project(
            analytics.best_performers(), "ticker", "realized_pnl", "realized_pnl_pct"
        )
    assert len(best) == {"alpha": 3, "beta": 1, None: 4}[bot_id]


@pytest.mark.parametrize("bot_id", ["alpha", "beta"])
def test_current_risk(scenario: Database, bot_id: str) -> None:
    with scenario.session(readonly=True) as session:
        theirs = run(session, CURRENT_RISK_SQL, bot_id=bot_id)
        ours = Analytics(session, bot_id=bot_id).current_risk()
    assert len(theirs) == 1
    assert theirs == project(ours, "sharpe_ratio", "max_drawdown_pct", "current_drawdown_pct")


@pytest.mark.parametrize("bot_id", BOTS)
@pytest.mark.parametrize("days", [None, 7])
def test_order_queries(scenario: Database, bot_id: str | None, days: int | None) -> None:
    read = Read(scenario.dialect_name)
    with scenario.session(readonly=True) as session:
        if scenario.dialect_name == "postgresql":
            session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        analytics = Analytics(session, bot_id=bot_id)
        sql = daily_fill_rate_sql(scenario.dialect_name, bot_id=bot_id, days=days)
        theirs = run(session, sql, bot_id=bot_id, today=NOW.date().isoformat())
        ours = analytics.daily_fill_rate(days=days, now=NOW)
        slippage = run(session, scoped(SLIPPAGE_BY_ORDER_TYPE_SQL, bot_id), bot_id=bot_id)
        by_type = analytics.slippage_by_order_type()
    assert convert(theirs, Read.day, Read.same, Read.same, Read.ratio) == project(
        ours, "date", "orders", "filled", "fill_rate"
    )
    assert any(0 < r.fill_rate < 1 for r in ours) or bot_id == "beta"
    assert sorted(convert(slippage, Read.same, read.money)) == project(
        by_type, "order_type", "avg_slippage"
    )
    assert by_type


def test_training_queries(scenario: Database) -> None:
    with scenario.session(readonly=True) as session:
        analytics = Analytics(session)
        agents = [dict(r) for r in session.execute(text(BEST_AGENTS_SQL)).mappings()]
        leaders = analytics.agent_leaderboard(limit=10, evaluation_type=None, latest_only=False)
        compare = run(session, COMPARE_ALGORITHMS_SQL)
        comparison = analytics.algorithm_comparison()
        ppo = run(session, BEST_HYPERPARAMETERS_SQL)
        best = analytics.best_hyperparameters()
        history = run(session, ENSEMBLE_WEIGHT_HISTORY_SQL)
        weights = analytics.ensemble_weight_history()
    assert [(r["performance_id"], r["sharpe_ratio"]) for r in agents] == [
        (r.performance_id, r.sharpe_ratio) for r in leaders
    ]
    assert len(leaders) == 9  # completed runs: 5 validations + 4 tests; the failed run is out
    assert same_rows(
        compare, project(comparison, "algorithm", "evaluations", "avg_sharpe", "best_sharpe")
    )
    assert same_rows(ppo, project(best, "learning_rate", "batch_size", "n_steps", "average"))
    assert sorted(convert(history, Read.day, Read.same, Read.same, Read.same)) == sorted(
        project(weights, "update_date", "algorithm", "weight", "sharpe_ratio")
    )
    assert len(weights) == 5
