"""The ML queries on both backends, with NaN and infinities where they bite."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from tradestore import Database
from tradestore.analytics import Rows
from tradestore.analytics.training import (
    agent_leaderboard,
    algorithm_comparison,
    best_hyperparameters,
    current_ensembles,
    hyperparameter_results,
    training_summary,
)
from tradestore.domain.enums import Algorithm, EvaluationType, RunStatus
from tradestore.errors import ValidationError

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
D0 = dt.date(2024, 6, 1)


def run(
    db: Database,
    run_id: str,
    algorithm: str,
    *,
    status: str = "completed",
    hours: float = 1.0,
    evaluations: list[tuple[str, int, dict[str, Any]]] = (),  # type: ignore[assignment]
    params: dict[str, Any] | None = None,
    start_day: int = 0,
) -> None:
    """A run with (evaluation_type, day offset, metrics) evaluations."""
    start = T0 + dt.timedelta(days=start_day)
    with db.unit_of_work() as uow:
        uow.training.start_run(
            algorithm, f"{run_id}-model", run_id=run_id, start_time=start, hyperparameters=params
        )
        for kind, day, metrics in evaluations:
            uow.evaluations.record(
                run_id, kind, evaluation_date=D0 + dt.timedelta(days=day), **metrics
            )
        if status != "running":
            uow.training.finish(
                run_id, status, end_time=start + dt.timedelta(hours=hours), final_reward=10.0
            )


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-12) if math.isfinite(a) else a == b


@pytest.fixture
def populated(db: Database) -> Database:
    run(
        db,
        "ppo-a",
        "PPO",
        evaluations=[
            ("validation", 0, {"sharpe_ratio": 0.5, "win_rate": 0.5}),
            ("validation", 5, {"sharpe_ratio": 2.0, "win_rate": 0.6, "total_trades": 40}),
            ("test", 6, {"sharpe_ratio": 9.0}),
        ],
        params={"learning_rate": 3e-4, "batch_size": 64, "n_steps": 2048, "gamma": 0.99},
    )
    run(
        db,
        "ppo-b",
        "PPO",
        evaluations=[("validation", 1, {"sharpe_ratio": 1.0, "total_return_pct": 12.0})],
        params={"learning_rate": 3e-4, "batch_size": 64, "n_steps": 2048, "gamma": 0.95},
        start_day=1,
    )
    run(
        db,
        "ppo-c",
        "PPO",
        evaluations=[("validation", 1, {"sharpe_ratio": math.nan})],
        params={"learning_rate": 1e-3, "batch_size": 32, "n_steps": 512},
        start_day=2,
    )
    run(
        db,
        "sac-a",
        "SAC",
        evaluations=[("validation", 2, {"sharpe_ratio": math.inf, "max_drawdown_pct": -1.0})],
        params={"learning_rate": 1e-4, "batch_size": 256},
        start_day=3,
        hours=3.5,
    )
    run(
        db,
        "sac-b",
        "SAC",
        evaluations=[("validation", 2, {"sharpe_ratio": -math.inf})],
        start_day=4,
    )
    run(
        db,
        "a2c-a",
        "A2C",
        status="running",
        evaluations=[("validation", 3, {"sharpe_ratio": 5.0})],
        start_day=5,
    )
    run(db, "td3-a", "TD3", status="failed", evaluations=[("validation", 0, {})], start_day=6)
    return db


def test_leaderboard_ranks_each_completed_run_by_its_latest_evaluation(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        board = agent_leaderboard(session)
    assert [(e.rank, e.run_id) for e in board] == [
        (1, "sac-a"),  # +inf ranks first
        (2, "ppo-a"),  # its latest validation (2.0), not its best test (9.0) or old (0.5)
        (3, "ppo-b"),
        (4, "sac-b"),  # -inf last; ppo-c's NaN is unranked; a2c-a is running
    ]
    top = board[1]
    assert (top.algorithm, top.model_name, top.evaluation_type) == (
        Algorithm.PPO,
        "ppo-a-model",
        EvaluationType.VALIDATION,
    )
    assert (top.evaluation_date, top.sharpe_ratio, top.win_rate, top.total_trades) == (
        D0 + dt.timedelta(days=5),
        2.0,
        0.6,
        40,
    )
    assert board[0].sharpe_ratio == math.inf
    assert board[0].max_drawdown_pct == -1.0


def test_uow_analytics_leaderboard_is_the_same_call(populated: Database) -> None:
    """Before: ``uow.analytics.agent_leaderboard`` ranked every evaluation (ppo-a three
    times) while this function ranked each run once; now one call, one answer."""
    with populated.unit_of_work() as uow:
        ours = uow.analytics.agent_leaderboard()
        assert ours == agent_leaderboard(uow.session)
        assert isinstance(ours, Rows)
        assert [e.run_id for e in ours] == ["sac-a", "ppo-a", "ppo-b", "sac-b"]
        every = uow.analytics.agent_leaderboard(evaluation_type=None, latest_only=False)
        assert every == agent_leaderboard(uow.session, evaluation_type=None, latest_only=False)
        assert [e.run_id for e in every].count("ppo-a") > 1


def test_leaderboard_filters(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        assert [e.run_id for e in agent_leaderboard(session, limit=2)] == ["sac-a", "ppo-a"]
        assert [e.run_id for e in agent_leaderboard(session, algorithm="PPO")] == [
            "ppo-a",
            "ppo-b",
        ]
        everyone = [e.run_id for e in agent_leaderboard(session, status=None)]
        assert everyone == ["sac-a", "a2c-a", "ppo-a", "ppo-b", "sac-b"]
        assert [e.run_id for e in agent_leaderboard(session, evaluation_type="test")] == ["ppo-a"]
        with pytest.raises(ValidationError):
            agent_leaderboard(session, limit=0)
        with pytest.raises(ValidationError):
            agent_leaderboard(session, evaluation_type="holdout")


def test_algorithm_comparison_skips_nan_and_follows_ieee_for_infinities(
    populated: Database,
) -> None:
    with populated.session(readonly=True) as session:
        rows = {row.algorithm: row for row in algorithm_comparison(session)}
        ordered = [row.algorithm for row in algorithm_comparison(session)]
    # PPO: validation sharpe 0.5, 2.0, 1.0 and a NaN (skipped); 3 runs, 4 evaluations.
    ppo = rows[Algorithm.PPO]
    assert (ppo.runs, ppo.evaluations) == (3, 4)
    assert same(ppo.avg_sharpe, 3.5 / 3)
    assert ppo.best_sharpe == 2.0
    # SAC: +inf and -inf average to NaN; the best is +inf. Identical on both backends.
    sac = rows[Algorithm.SAC]
    assert (sac.runs, sac.evaluations) == (2, 2)
    assert sac.avg_sharpe is not None
    assert math.isnan(sac.avg_sharpe)
    assert sac.best_sharpe == math.inf
    # Running and failed runs are left out by default; an undefined average sorts last.
    assert set(rows) == {Algorithm.PPO, Algorithm.SAC}
    assert ordered == [Algorithm.PPO, Algorithm.SAC]


def test_algorithm_comparison_of_every_status(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        rows = {row.algorithm: row for row in algorithm_comparison(session, status=None)}
    assert rows[Algorithm.A2C].avg_sharpe == 5.0
    td3 = rows[Algorithm.TD3]
    assert (td3.runs, td3.evaluations, td3.avg_sharpe, td3.best_sharpe) == (1, 1, None, None)


def test_training_summary(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        summary = training_summary(session)
        ppo = training_summary(session, algorithm="PPO", status="completed")
        page = training_summary(session, limit=2, offset=1)
    assert [s.run_id for s in summary] == [
        "td3-a",
        "a2c-a",
        "sac-b",
        "sac-a",
        "ppo-c",
        "ppo-b",
        "ppo-a",
    ]
    by_id = {s.run_id: s for s in summary}
    first = by_id["ppo-a"]
    assert (first.status, first.sharpe_ratio, first.win_rate, first.learning_rate) == (
        RunStatus.COMPLETED,
        2.0,
        0.6,
        3e-4,
    )
    assert first.evaluation_date == D0 + dt.timedelta(days=5)
    assert first.duration_hours == 1.0
    assert by_id["sac-a"].duration_hours == 3.5
    assert by_id["ppo-b"].total_return_pct == 12.0
    assert by_id["a2c-a"].duration_hours is None
    assert by_id["a2c-a"].end_time is None
    assert by_id["sac-b"].learning_rate is None
    nan_sharpe = by_id["ppo-c"].sharpe_ratio
    assert nan_sharpe is not None
    assert math.isnan(nan_sharpe)
    assert [s.run_id for s in ppo] == ["ppo-c", "ppo-b", "ppo-a"]
    assert [s.run_id for s in page] == ["a2c-a", "sac-b"]


def test_training_summary_includes_runs_never_evaluated(db: Database) -> None:
    run(db, "fresh", "DQN", status="running")
    with db.session(readonly=True) as session:
        (only,) = training_summary(session)
    assert (only.run_id, only.evaluation_date, only.sharpe_ratio) == ("fresh", None, None)


def test_hyperparameter_results(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        rows = hyperparameter_results(session, limit=10)
        ppo = hyperparameter_results(session, algorithm="PPO", limit=2)
    # Every validation evaluation of a run with hyperparameters; NaN Sharpe last.
    assert [(r.run_id, r.sharpe_ratio) for r in rows[:4]] == [
        ("sac-a", math.inf),
        ("ppo-a", 2.0),
        ("ppo-b", 1.0),
        ("ppo-a", 0.5),
    ]
    assert rows[4].run_id == "ppo-c"
    assert len(rows) == 5
    assert (rows[1].learning_rate, rows[1].batch_size, rows[1].n_steps, rows[1].gamma) == (
        3e-4,
        64,
        2048,
        0.99,
    )
    assert [r.run_id for r in ppo] == ["ppo-a", "ppo-b"]


def test_best_hyperparameters_for_ppo(populated: Database) -> None:
    with populated.session(readonly=True) as session:
        best = best_hyperparameters(session, "PPO")
    # (3e-4, 64, 2048): ppo-a 0.5 and 2.0, ppo-b 1.0. (1e-3, 32, 512): only a NaN.
    assert [(b.learning_rate, b.batch_size, b.n_steps) for b in best] == [
        (3e-4, 64, 2048),
        (1e-3, 32, 512),
    ]
    top, undefined = best
    assert (top.runs, top.evaluations, top.metric) == (2, 3, "sharpe_ratio")
    assert same(top.average, 3.5 / 3)
    assert top.best == 2.0
    assert (undefined.average, undefined.best, undefined.runs) == (None, None, 1)


def test_best_hyperparameters_by_other_metrics(populated: Database) -> None:
    with populated.unit_of_work() as uow:
        by_return = uow.training.best("PPO", "validation", by="total_return_pct")
        lowest = uow.training.best("PPO", by="sharpe_ratio", ascending=True, limit=1)
        sac = uow.training.best(Algorithm.SAC)
        with pytest.raises(ValidationError) as caught:
            uow.training.best("PPO", by="sharpe_ratio; DROP TABLE runs")
    assert by_return[0].average == 12.0
    assert lowest[0].best == 0.5  # the minimum when ascending
    assert [(s.learning_rate, s.average) for s in sac] == [(1e-4, math.inf)]
    assert caught.value.field == "by"


def test_current_ensembles(populated: Database) -> None:
    with populated.unit_of_work() as uow:
        uow.ensembles.set_weights("prod", {"ppo-a": 0.6, "sac-a": 0.4}, method="sharpe_weighted")
        uow.ensembles.set_weights("prod", {"ppo-a": 0.3, "ppo-b": 0.7})
        uow.ensembles.set_weights("shadow", {"sac-b": 1.0})
    with populated.session(readonly=True) as session:
        rows = current_ensembles(session)
        prod = current_ensembles(session, ensemble_id="prod")
    assert [(r.ensemble_id, r.version, r.run_id, r.weight) for r in rows] == [
        ("prod", 2, "ppo-b", 0.7),
        ("prod", 2, "ppo-a", 0.3),
        ("shadow", 1, "sac-b", 1.0),
    ]
    assert rows[1].sharpe_ratio == 2.0  # ppo-a's latest validation Sharpe when set
    assert rows[1].model_name == "ppo-a-model"
    assert rows[2].sharpe_ratio == -math.inf
    assert prod == rows[:2]
