"""What each view says, checked against the rows that were written (both backends).

The view-backed methods read the views, so comparing them with ``SELECT * FROM v_...``
proves little; these tests compute each view's answer from the data set instead.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from readside_data import Dataset
from sqlalchemy import insert, text

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.models import AgentPerformance, ClosedPosition, Order

BOTS = ["alpha", "beta", "gamma", None]


def derived(db: Database, actual: Decimal | None, exact: Decimal) -> bool:
    """An amount the database computed equals ``exact``: exactly on PostgreSQL; on SQLite,
    which computes in doubles, to 1e-13 relative (see docs/reference/queries.md, "Precision")."""
    if actual is None:
        return False
    if db.dialect_name == "postgresql":
        return actual == exact
    return abs(actual - exact) <= abs(exact) * Decimal("1e-13") + Decimal("1e-15")


@pytest.mark.parametrize("bot_id", BOTS)
def test_position_summary(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).position_summary()
    expected = sorted(
        seeded.of(seeded.positions, bot_id), key=lambda p: (p["opened_at"], p["position_id"])
    )
    assert [r.position_id for r in rows] == [p["position_id"] for p in expected]
    for row, position in zip(rows, expected, strict=True):
        sign = 1 if position["side"] == "long" else -1
        move = (position["current_price"] - position["entry_price"]) * position["quantity"]
        assert derived(db, row.pnl_dollars, move * sign)
        # the data set marked them consistently
        assert derived(db, row.pnl_dollars, row.unrealized_pnl)
        assert row.opened_at == position["opened_at"]
        assert row.opened_datetime == position["opened_at"].strftime("%Y-%m-%d %H:%M:%S")
        held = (seeded.now - position["opened_at"]).total_seconds() / 3600
        assert held <= row.hours_held < held + 0.1  # the database's clock ran on a little


def test_position_summary_short_loses_when_price_rises(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        rows = {r.position_id: r for r in Analytics(session).position_summary()}
    assert rows["pos-b-nvda"].side == "short"
    assert rows["pos-b-nvda"].pnl_dollars == Decimal("-152.50")
    assert rows["pos-a-tsla"].pnl_dollars == Decimal("198.00")


@pytest.mark.parametrize("bot_id", BOTS)
def test_recent_closed_trades_outcomes(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).recent_closed_trades()
    closed = seeded.of(seeded.closed, bot_id)
    assert len(rows) == len(closed)
    assert [r.closed_at for r in rows] == sorted((c["closed_at"] for c in closed), reverse=True)
    for row in rows:
        expected = (
            "WIN" if row.realized_pnl > 0 else "LOSS" if row.realized_pnl < 0 else "BREAKEVEN"
        )
        assert row.outcome == expected
        assert row.closed_datetime == row.closed_at.strftime("%Y-%m-%d %H:%M:%S")
    if bot_id == "alpha":
        assert {r.outcome for r in rows} == {"WIN", "LOSS", "BREAKEVEN"}


def _many_closed(bot_id: str, count: int, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "position_id": f"bulk-{bot_id}-{i}",
            "bot_id": bot_id,
            "ticker": "SPY",
            "side": "long",
            "quantity": Decimal(1),
            "entry_price": Decimal("400"),
            "exit_price": Decimal("401"),
            "realized_pnl": Decimal("1"),
            "realized_pnl_pct": 0.25,
            "opened_at": now - dt.timedelta(days=200, minutes=i),
            "closed_at": now - dt.timedelta(days=100, minutes=i),
            "updated_at": now,
            "holding_period_hours": 2400.0,
            "exit_reason": "manual",
        }
        for i in range(count)
    ]


def _many_orders(bot_id: str, count: int, now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "order_id": f"bulk-{bot_id}-{i}",
            "bot_id": bot_id,
            "client_order_id": f"bulk-cli-{bot_id}-{i}",
            "ticker": "SPY",
            "order_type": "market",
            "side": "buy",
            "quantity": Decimal(1),
            "status": "cancelled",
            "submitted_at": now - dt.timedelta(days=100, minutes=i),
            "updated_at": now,
        }
        for i in range(count)
    ]


def test_recent_views_keep_100_per_bot(db: Database, seeded: Dataset):
    with db.session() as session:
        session.execute(insert(ClosedPosition), _many_closed("beta", 120, seeded.now))
        session.execute(insert(Order), _many_orders("beta", 120, seeded.now))
    with db.session(readonly=True) as session:
        beta_trades = Analytics(session, bot_id="beta").recent_closed_trades()
        alpha_trades = Analytics(session, bot_id="alpha").recent_closed_trades()
        beta_orders = Analytics(session, bot_id="beta").recent_orders()
        alpha_orders = Analytics(session, bot_id="alpha").recent_orders()
        per_bot = dict(
            session.execute(
                text("SELECT bot_id, COUNT(*) FROM v_recent_closed_trades GROUP BY bot_id")
            ).all()
        )
    # beta has 12 + 120 closed trades: the view keeps its newest 100, alpha keeps all of its.
    assert len(beta_trades) == 100
    assert per_bot == {"alpha": len(seeded.of(seeded.closed, "alpha")), "beta": 100}
    assert len(alpha_trades) == len(seeded.of(seeded.closed, "alpha"))
    kept = {r.position_id for r in beta_trades}
    assert {c["position_id"] for c in seeded.of(seeded.closed, "beta")} <= kept
    assert sum(1 for p in kept if p.startswith("bulk-")) == 100 - 12
    assert len(beta_orders) == 100
    assert len(alpha_orders) == len(seeded.of(seeded.orders, "alpha"))
    assert {o["order_id"] for o in seeded.of(seeded.orders, "beta")} <= {
        r.order_id for r in beta_orders
    }


@pytest.mark.parametrize("bot_id", BOTS)
def test_recent_orders_formats_timestamps(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).recent_orders()
    orders = {o["order_id"]: o for o in seeded.of(seeded.orders, bot_id)}
    assert {r.order_id for r in rows} == set(orders)
    for row in rows:
        order = orders[row.order_id]
        assert row.submitted_datetime == order["submitted_at"].strftime("%Y-%m-%d %H:%M:%S")
        if order["filled_at"] is None:
            assert row.filled_at is None
            assert row.filled_datetime is None
        else:
            assert row.filled_datetime == order["filled_at"].strftime("%Y-%m-%d %H:%M:%S")
        assert (row.filled_quantity, row.slippage) == (order["filled_quantity"], order["slippage"])


@pytest.mark.parametrize("bot_id", BOTS)
def test_order_fill_stats(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).order_fill_stats()
    orders = {o["order_id"]: o for o in seeded.of(seeded.orders, bot_id)}
    fills_of: dict[str, list[dict[str, Any]]] = {}
    for f in seeded.of(seeded.fills, bot_id):
        fills_of.setdefault(f["order_id"], []).append(f)
    assert {r.order_id for r in rows} == set(fills_of)  # orders without fills are absent
    for row in rows:
        fills = fills_of[row.order_id]
        prices = [f["price"] for f in fills]
        assert row.num_fills == len(fills)
        assert row.fill_quantity == sum(f["quantity"] for f in fills)
        assert row.fill_quantity == orders[row.order_id]["filled_quantity"]
        assert derived(db, row.avg_fill_price, orders[row.order_id]["filled_avg_price"])
        best, worst = (min, max) if row.side == "buy" else (max, min)
        assert (row.best_fill_price, row.worst_fill_price) == (best(prices), worst(prices))
        assert row.total_commission == sum(f["commission"] for f in fills)
        assert row.first_fill_at == min(f["filled_at"] for f in fills)
        assert row.last_fill_at == max(f["filled_at"] for f in fills)
    assert any(r.num_fills == 3 for r in rows) or bot_id == "gamma"
    assert {r.side for r in rows} == ({"buy", "sell"} if bot_id != "gamma" else set())


def test_order_fill_stats_of_one_order(db: Database, seeded: Dataset):
    order_id = next(f["order_id"] for f in seeded.fills if f["fill_id"].endswith("-2"))
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id="alpha").order_fill_stats(order_id=order_id)
        other_bot = Analytics(session, bot_id="beta").order_fill_stats(order_id=order_id)
    assert [r.order_id for r in rows] == [order_id]
    assert rows[0].num_fills == 3
    assert len(other_bot) == 0


def test_equity_curve(db: Database, seeded: Dataset):
    start = seeded.now.date() - dt.timedelta(days=10)
    end = seeded.now.date() - dt.timedelta(days=2)
    with db.session(readonly=True) as session:
        everything = Analytics(session).equity_curve()
        window = Analytics(session, bot_id="beta").equity_curve(start=start, end=end)
    assert len(everything) == len(seeded.snapshots)
    assert [(r.bot_id, r.snapshot_date) for r in everything] == sorted(
        (s["bot_id"], s["snapshot_date"]) for s in seeded.snapshots
    )
    expected = [
        s for s in seeded.of(seeded.snapshots, "beta") if start <= s["snapshot_date"] <= end
    ]
    assert [(r.snapshot_date, r.total_equity, r.cumulative_return_pct) for r in window] == [
        (s["snapshot_date"], s["total_equity"], s["cumulative_return_pct"]) for s in expected
    ]


@pytest.mark.parametrize("bot_id", BOTS)
def test_performance_summary_is_the_last_30_days(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).performance_summary()
        portfolio = Analytics(session, bot_id=bot_id).performance_summary(strategy="all")
    cutoff = seeded.now.date() - dt.timedelta(days=30)
    expected = [m for m in seeded.of(seeded.metrics, bot_id) if m["metric_date"] >= cutoff]
    assert len(rows) == len(expected)
    assert min((r.metric_date for r in rows), default=cutoff) >= cutoff
    assert len(portfolio) == sum(1 for m in expected if m["strategy"] == "all")
    by_key = {(m["bot_id"], m["metric_date"], m["strategy"]): m for m in expected}
    for row in rows:
        metric = by_key[(row.bot_id, row.metric_date, row.strategy)]
        assert row.win_rate == metric["win_rate_30d"]
        assert row.profit_factor == metric["profit_factor_30d"]
        assert row.max_drawdown == metric["max_drawdown"]


def test_leaderboard_ranks_completed_runs_only(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        rows = Analytics(session).agent_leaderboard(
            limit=100, evaluation_type=None, latest_only=False
        )
        validation = Analytics(session).agent_leaderboard(
            limit=3, evaluation_type="validation", latest_only=False
        )
        sac = Analytics(session).best_agents(algorithm="SAC")
    completed = {r["run_id"] for r in seeded.runs if r["status"] == "completed"}
    assert {r.run_id for r in rows} == completed - {"r-dqn-1"}
    assert len(rows) == sum(1 for e in seeded.evaluations if e["run_id"] in completed)
    assert [r.sharpe_ratio for r in rows] == sorted((r.sharpe_ratio for r in rows), reverse=True)
    assert [r.run_id for r in validation] == ["r-ppo-4", "r-sac-2", "r-ppo-1"]
    assert {r.algorithm for r in sac} == {"SAC"}
    assert rows[0].model_name == "ppo_v4"


def _evaluation(run_id: str, sharpe: float | None, evaluation_type: str = "validation"):
    return {
        "run_id": run_id,
        "evaluation_date": dt.date(2026, 1, 5),
        "evaluation_type": evaluation_type,
        "sharpe_ratio": sharpe,
        "total_return_pct": 1.0,
    }


def test_nan_sharpe_is_unknown_on_both_backends(db: Database, seeded: Dataset):
    """A diverged evaluation (NaN Sharpe) is neither a leader nor part of an average."""
    with db.session(readonly=True) as session:
        before = Analytics(session).algorithm_comparison()
        ppo_before = Analytics(session).best_hyperparameters()
    with db.session() as session:
        session.execute(
            insert(AgentPerformance),
            [_evaluation("r-sac-1", math.nan), _evaluation("r-ppo-4", math.nan)],
        )
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        leaders = analytics.agent_leaderboard(limit=100, evaluation_type=None, latest_only=False)
        comparison = analytics.algorithm_comparison()
        ppo = analytics.best_hyperparameters()
        results = analytics.hyperparameter_results(limit=100)
    assert all(not math.isnan(r.sharpe_ratio) for r in leaders)
    assert [(r.algorithm, r.avg_sharpe, r.best_sharpe) for r in comparison] == [
        (r.algorithm, r.avg_sharpe, r.best_sharpe) for r in before
    ]
    assert [r.evaluations for r in comparison] == [
        r.evaluations + (r.algorithm in ("SAC", "PPO")) for r in before
    ]
    assert [r.average for r in ppo] == [r.average for r in ppo_before]
    # NaN and NULL Sharpe ratios sort after every number
    unknown = [r.sharpe_ratio is None or math.isnan(r.sharpe_ratio) for r in results]
    assert unknown == sorted(unknown)
    assert sum(unknown) == 2


def test_current_ensemble_shows_active_members(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        rows = Analytics(session).current_ensemble()
        production = Analytics(session).current_ensemble(ensemble_id="production")
    assert [(r.ensemble_id, r.version) for r in rows] == [("production", 4)] * 3 + [
        ("staging", 1)
    ] * 2
    assert [r.weight for r in production] == sorted((r.weight for r in production), reverse=True)
    assert sum(r.weight for r in production) == pytest.approx(1.0)
    models = {r["run_id"]: r["model_name"] for r in seeded.runs}
    assert all(r.model_name == models[r.run_id] for r in rows)


def test_training_summary(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        rows = {r.run_id: r for r in Analytics(session).training_summary()}
        completed = Analytics(session).training_summary(status="completed", algorithm="PPO")
    assert set(rows) == {r["run_id"] for r in seeded.runs}
    # the latest validation wins over an earlier one and over later test / train ones
    assert (rows["r-ppo-1"].evaluation_type, rows["r-ppo-1"].sharpe_ratio) == ("validation", 1.77)
    assert rows["r-ppo-1"].duration_hours == pytest.approx(5.5)
    # no duration_seconds recorded: computed from start and end
    assert rows["r-a2c-1"].duration_hours == pytest.approx(2.0)
    assert rows["r-dqn-1"].status == "running"
    assert rows["r-dqn-1"].duration_hours is None
    assert rows["r-dqn-1"].evaluation_type is None
    assert rows["r-sac-1"].learning_rate == 3e-4
    assert {r.run_id for r in completed} == {"r-ppo-1", "r-ppo-2", "r-ppo-3", "r-ppo-4"}


def test_training_summary_falls_back_to_other_evaluations(db: Database, seeded: Dataset):
    with db.session() as session:
        session.execute(insert(AgentPerformance), [_evaluation("r-dqn-1", 0.4, "test")])
    with db.session(readonly=True) as session:
        row = next(r for r in Analytics(session).training_summary() if r.run_id == "r-dqn-1")
    assert (row.evaluation_type, row.sharpe_ratio) == ("test", 0.4)


def test_hyperparameter_results(db: Database, seeded: Dataset):
    with db.session(readonly=True) as session:
        top = Analytics(session).hyperparameter_results(limit=5)
        ppo = Analytics(session).hyperparameter_results(limit=100, algorithm="PPO")
        raw = session.execute(text("SELECT sharpe_ratio FROM v_hyperparameter_results")).all()
    everything = sorted((e["sharpe_ratio"] for e in seeded.evaluations), reverse=True)
    assert [r.sharpe_ratio for r in top] == everything[:5]
    assert [r[0] for r in raw] == everything  # the view itself is ordered (the source: LIMIT 10)
    assert {r.algorithm for r in ppo} == {"PPO"}
    assert top[0].run_id == "r-ppo-5"  # failed runs' parameters are results too


@pytest.mark.parametrize("bot_id", BOTS)
def test_orders_last_24h(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).orders_last_24h()
    since = seeded.now - dt.timedelta(hours=24)
    expected = [o for o in seeded.of(seeded.orders, bot_id) if o["submitted_at"] >= since]
    assert sorted(r.order_id for r in rows) == sorted(o["order_id"] for o in expected)
    assert [r.submitted_at for r in rows] == sorted((r.submitted_at for r in rows), reverse=True)
    assert bool(rows) == (bot_id != "gamma")


@pytest.mark.parametrize("bot_id", BOTS)
def test_active_positions_add_partial_closes(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = {r.position_id: r for r in Analytics(session, bot_id=bot_id).active_positions()}
    for position in seeded.of(seeded.positions, bot_id):
        row = rows[position["position_id"]]
        realized = sum(
            (
                c["realized_pnl"]
                for c in seeded.closed
                if c["position_id"] == position["position_id"]
            ),
            Decimal(0),
        )
        assert derived(db, row.realized_pnl, realized)
        assert derived(db, row.total_pnl, position["unrealized_pnl"] + realized)
        sign = 1 if position["side"] == "long" else -1
        assert row.signed_quantity == sign * position["quantity"]
        assert derived(db, row.market_value, position["quantity"] * position["current_price"])
    if bot_id in ("alpha", None):
        btc = rows["pos-a-btc"]
        # (43500 - 43210.50) x 0.05 + (43650.25 - 43210.50) x 0.025
        assert derived(db, btc.realized_pnl, Decimal("14.475") + Decimal("10.99375"))
        assert derived(db, btc.total_pnl, btc.unrealized_pnl + btc.realized_pnl)


@pytest.mark.parametrize("bot_id", ["alpha", None])
def test_daily_summary_groups(db: Database, seeded: Dataset, bot_id: str | None):
    with db.session(readonly=True) as session:
        rows = Analytics(session, bot_id=bot_id).daily_summary(days=40, now=seeded.now)
    groups: dict[tuple[str, dt.date, str], list[dict[str, Any]]] = {}
    for o in seeded.of(seeded.orders, bot_id):
        if o["submitted_at"].date() >= seeded.now.date() - dt.timedelta(days=40):
            groups.setdefault((o["bot_id"], o["submitted_at"].date(), o["ticker"]), []).append(o)
    assert {(r.bot_id, r.trade_date, r.ticker) for r in rows} == set(groups)
    for row in rows:
        orders = groups[(row.bot_id, row.trade_date, row.ticker)]
        filled = sum(o["status"] == "filled" for o in orders)
        assert row.total_orders == len(orders)
        assert row.fill_rate == filled / len(orders)
        assert row.filled_quantity == sum(o["filled_quantity"] for o in orders)
        notional = [
            o["filled_quantity"] * o["filled_avg_price"]
            for o in orders
            if o["filled_avg_price"] is not None
        ]
        if notional:
            assert derived(db, row.filled_notional, sum(notional, Decimal(0)))
        else:
            assert row.filled_notional is None
