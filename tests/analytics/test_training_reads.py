"""The training reads an Optuna or MLflow user expects (issue 13.8), on both backends.

Before: the leaderboard ranked only by an evaluation's Sharpe ratio, reading every run's
hyperparameters took a statement per run, and only (learning_rate, batch_size, n_steps)
could be grouped by.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tradestore import Database
from tradestore.analytics import Analytics, HyperparameterGroup
from tradestore.errors import ValidationError

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def run(
    db: Database,
    run_id: str,
    *,
    final_reward: float | None = None,
    best_reward: float | None = None,
    params: dict[str, Any] | None = None,
    status: str = "completed",
    evaluations: tuple[tuple[str, int, dict[str, Any]], ...] = (),
    algorithm: str = "PPO",
    start: int = 0,
) -> None:
    with db.unit_of_work() as uow:
        uow.training.start_run(
            algorithm,
            f"{run_id}-model",
            run_id=run_id,
            hyperparameters=params,
            start_time=T0 + dt.timedelta(hours=start),
        )
        for kind, day, figures in evaluations:
            uow.evaluations.record(
                run_id,
                kind,
                evaluation_date=dt.date(2024, 2, 1) + dt.timedelta(days=day),
                **figures,
            )
        if status != "running":
            uow.training.finish(
                run_id,
                status,
                final_reward=final_reward,
                best_reward=best_reward,
                end_time=T0 + dt.timedelta(hours=start + 1),
            )


# --- the best run by any stored figure -----------------------------------------------------


def test_best_run_by_final_reward_needs_no_evaluation(db: Database) -> None:
    run(db, "a", final_reward=10.0, best_reward=30.0)
    run(db, "b", final_reward=812.5, best_reward=900.0)
    run(db, "c", final_reward=math.nan)  # diverged: no rank
    run(db, "d", final_reward=-3.0, evaluations=(("validation", 0, {"sharpe_ratio": 1.25}),))
    run(db, "e", final_reward=math.inf)
    run(db, "f", final_reward=5000.0, status="failed")  # not a deployable agent
    run(db, "g")  # no reward recorded
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        best = analytics.agent_leaderboard(by="final_reward")
        worst_first = analytics.agent_leaderboard(by="final_reward", ascending=True, limit=2)
        by_best = analytics.agent_leaderboard(by="best_reward", limit=1)
        any_status = analytics.agent_leaderboard(by="final_reward", limit=1, algorithm="PPO")
    assert [(e.rank, e.run_id, e.value) for e in best] == [
        (1, "e", math.inf),
        (2, "b", 812.5),
        (3, "a", 10.0),
        (4, "d", -3.0),
    ]
    assert {e.metric for e in best} == {"final_reward"}
    assert best[1].final_reward == 812.5
    assert best[1].best_reward == 900.0
    # no evaluation: the evaluation columns are empty; d's latest evaluation is attached
    assert (best[1].performance_id, best[1].sharpe_ratio) == (None, None)
    assert (best[3].evaluation_type, best[3].sharpe_ratio) == ("validation", 1.25)
    assert [e.run_id for e in worst_first] == ["d", "a"]
    assert [(e.run_id, e.value) for e in by_best] == [("b", 900.0)]
    assert any_status[0].run_id == "e"


def test_leaderboard_by_any_evaluation_metric_in_either_direction(db: Database) -> None:
    run(db, "a", evaluations=(("validation", 0, {"sortino_ratio": 2.0, "max_drawdown_pct": 9.0}),))
    run(db, "b", evaluations=(("validation", 0, {"sortino_ratio": 3.5, "max_drawdown_pct": 4.0}),))
    run(db, "c", evaluations=(("validation", 0, {"max_drawdown_pct": 1.5}),))
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        sortino = analytics.agent_leaderboard(by="sortino_ratio")
        shallowest = analytics.agent_leaderboard(by="max_drawdown_pct", ascending=True)
        sharpe = analytics.agent_leaderboard()
    assert [(e.run_id, e.value) for e in sortino] == [("b", 3.5), ("a", 2.0)]
    assert [(e.run_id, e.value) for e in shallowest] == [("c", 1.5), ("b", 4.0), ("a", 9.0)]
    assert len(sharpe) == 0  # still Sharpe by default: none was recorded


@pytest.mark.parametrize("by", ["reward", "num_episodes", "", None, 3])
def test_leaderboard_refuses_an_unknown_figure(db: Database, by: Any) -> None:
    with db.session(readonly=True) as session, pytest.raises(ValidationError) as info:
        Analytics(session).agent_leaderboard(by=by)
    assert info.value.field == "by"


# --- every run with all its hyperparameters, in one statement -------------------------------


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    captured: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        captured.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield captured
    event.remove(db.engine, "before_cursor_execute", count)


def _params(i: int) -> dict[str, Any]:
    return {
        "learning_rate": 1e-4 * (1 + i % 3),
        "batch_size": 32 * (1 + i % 2),
        "clip_range": 0.2,
        "ent_coef": "auto",  # no typed column for a string: only in the dict
        "policy_kwargs": {"net_arch": [64, 64 + i]},
        "schedule": ["linear", i],
        "use_sde": i % 2 == 0,
    }


def test_runs_with_hyperparameters_in_one_statement(db: Database, statements: list[str]) -> None:
    for i in range(25):
        run(db, f"r{i:02d}", final_reward=float(i), params=_params(i), start=i)
    run(db, "bare", start=100, status="running")  # started without hyperparameters
    with db.session(readonly=True) as session:
        statements.clear()
        runs = Analytics(session).runs_with_hyperparameters()
        few = Analytics(session).runs_with_hyperparameters(limit=3, status="completed")
        assert len(statements) == 2  # one per call, not one per run
    assert len(runs) == 26
    assert runs[0].run_id == "bare"
    assert runs[0].hyperparameters == {}
    by_id = {r.run_id: r for r in runs}
    for i in range(25):
        record = by_id[f"r{i:02d}"]
        assert record.hyperparameters == _params(i)
        assert (record.final_reward, record.status) == (float(i), "completed")
    assert [r.run_id for r in few] == ["r24", "r23", "r22"]
    frame = runs.to_dataframe()
    assert frame.loc[1, "hyperparameters"]["policy_kwargs"] == {"net_arch": [64, 88]}


def test_runs_with_hyperparameters_filters_are_validated(db: Database) -> None:
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        with pytest.raises(ValidationError) as info:
            analytics.runs_with_hyperparameters(started_after=dt.datetime(2024, 1, 1))
        assert info.value.field == "started_after"
        with pytest.raises(ValidationError) as info:
            analytics.runs_with_hyperparameters(limit=0)
        assert info.value.field == "limit"


# --- grouping by any hyperparameter ---------------------------------------------------------


def test_runs_by_any_hyperparameter(db: Database) -> None:
    run(db, "a", final_reward=10.0, params={"learning_rate": 3e-4, "batch_size": 64})
    run(db, "b", final_reward=20.0, params={"learning_rate": 3e-4, "batch_size": 64.0})
    run(db, "c", final_reward=math.nan, params={"learning_rate": 3e-4, "batch_size": 32})
    run(db, "d", final_reward=5.0, params={"learning_rate": 1e-3, "net_arch": [64, 64]})
    run(db, "e", final_reward=7.0, params={"learning_rate": 1e-3, "net_arch": [64, 64]})
    run(db, "f", final_reward=99.0, params={"batch_size": 256})  # no learning_rate
    run(db, "g", final_reward=1e6, params={"learning_rate": 3e-4}, status="failed")
    run(db, "h", params={"learning_rate": 0.1})  # completed without a reward
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        lr = analytics.runs_by_hyperparameter("learning_rate")
        batch = analytics.runs_by_hyperparameter("batch_size", ascending=True)
        arch = analytics.runs_by_hyperparameter("net_arch")
        every_status = analytics.runs_by_hyperparameter("learning_rate", status=None)
    assert list(lr) == [
        HyperparameterGroup("learning_rate", 3e-4, "final_reward", 3, 2, 15.0, 10.0, 20.0),
        HyperparameterGroup("learning_rate", 1e-3, "final_reward", 2, 2, 6.0, 5.0, 7.0),
        HyperparameterGroup("learning_rate", 0.1, "final_reward", 1, 0, None, None, None),
    ]
    assert [(g.value, g.runs, g.average) for g in batch] == [
        (64, 2, 15.0),  # 64 and 64.0 are one value
        (256, 1, 99.0),
        (32, 1, None),
    ]
    assert [(g.value, g.runs, g.average) for g in arch] == [([64, 64], 2, 6.0)]
    assert every_status[0].runs == 4


def test_runs_by_hyperparameter_scored_by_an_evaluation_metric(db: Database) -> None:
    run(
        db,
        "a",
        params={"gamma": 0.99},
        evaluations=(
            ("validation", 0, {"sharpe_ratio": 1.0}),
            ("validation", 3, {"sharpe_ratio": 2.0}),  # the latest counts
            ("test", 4, {"sharpe_ratio": 50.0}),
        ),
    )
    run(db, "b", params={"gamma": 0.99}, evaluations=(("validation", 1, {"sharpe_ratio": 4.0}),))
    run(db, "c", params={"gamma": 0.9}, evaluations=(("validation", 1, {"sharpe_ratio": 5.0}),))
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        validation = analytics.runs_by_hyperparameter("gamma", by="sharpe_ratio")
        tested = analytics.runs_by_hyperparameter(
            "gamma", by="sharpe_ratio", evaluation_type="test"
        )
    assert [(g.value, g.runs, g.scored, g.average) for g in validation] == [
        (0.9, 1, 1, 5.0),
        (0.99, 2, 2, 3.0),
    ]
    assert [(g.value, g.scored, g.average) for g in tested] == [(0.99, 1, 50.0), (0.9, 0, None)]


def test_runs_by_hyperparameter_validates(db: Database) -> None:
    with db.session(readonly=True) as session:
        analytics = Analytics(session)
        with pytest.raises(ValidationError) as info:
            analytics.runs_by_hyperparameter("")
        assert info.value.field == "key"
        with pytest.raises(ValidationError) as info:
            analytics.runs_by_hyperparameter("gamma", by="loss")
        assert info.value.field == "by"
