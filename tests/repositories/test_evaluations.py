"""EvaluationRepository on both backends: every agent_performance metric, several per run."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from sqlalchemy import func, select

from tradestore import Database
from tradestore.domain.enums import EvaluationType
from tradestore.errors import NotFound, RunNotFound, ValidationError
from tradestore.models.training import AgentPerformance
from tradestore.repositories.evaluations import (
    COUNT_METRICS,
    FLOAT_METRICS,
    EvaluationRepository,
)


def start(db: Database, run_id: str = "run-1") -> str:
    with db.unit_of_work() as uow:
        return uow.training.start_run("PPO", "ppo", run_id=run_id).run_id


def every_metric() -> dict[str, Any]:
    metrics: dict[str, Any] = {name: float(i) + 0.5 for i, name in enumerate(FLOAT_METRICS)}
    metrics.update(num_episodes=50, total_trades=120, winning_trades=70, losing_trades=45)
    metrics["win_rate"] = 70 / 120
    return metrics


def test_record_stores_every_metric_column(db: Database) -> None:
    run_id = start(db)
    metrics = every_metric()
    with db.unit_of_work() as uow:
        recorded = uow.evaluations.record(
            run_id,
            "validation",
            evaluation_date=dt.date(2024, 7, 1),
            data_period_start=dt.date(2024, 1, 1),
            data_period_end=dt.date(2024, 6, 30),
            **metrics,
        )
    with db.session(readonly=True) as session:
        stored = EvaluationRepository(session).get(recorded.performance_id)
    assert stored == recorded
    assert stored.evaluation_type is EvaluationType.VALIDATION
    assert (stored.evaluation_date, stored.data_period_start, stored.data_period_end) == (
        dt.date(2024, 7, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 6, 30),
    )
    for name, value in metrics.items():
        assert getattr(stored, name) == value, name
    # Nothing of the model is left out of the record (and so of ``record``).
    columns = {c.name for c in AgentPerformance.__table__.columns} - {
        "performance_id",
        "created_at",
    }
    fixed = {"run_id", "evaluation_type", "evaluation_date", "data_period_start", "data_period_end"}
    assert columns == set(FLOAT_METRICS) | set(COUNT_METRICS) | {"win_rate"} | fixed


def test_defaults_and_optional_metrics(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        evaluation = uow.evaluations.record(run_id, EvaluationType.TEST)
    assert evaluation.evaluation_date == dt.datetime.now(dt.UTC).date()
    assert evaluation.sharpe_ratio is None
    assert evaluation.total_trades is None
    assert evaluation.created_at.tzinfo is not None


def test_ratios_may_be_infinite_or_nan(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        evaluation = uow.evaluations.record(
            run_id,
            "backtest",
            profit_factor=math.inf,
            sortino_ratio=math.inf,
            calmar_ratio=-math.inf,
            sharpe_ratio=math.nan,
        )
    with db.session(readonly=True) as session:
        stored = EvaluationRepository(session).get(evaluation.performance_id)
    assert stored.profit_factor == math.inf
    assert stored.sortino_ratio == math.inf
    assert stored.calmar_ratio == -math.inf
    assert stored.sharpe_ratio is not None
    assert math.isnan(stored.sharpe_ratio)


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"evaluation_type": "live"}, "evaluation_type"),
    ({"win_rate": 1.5}, "win_rate"),
    ({"win_rate": math.nan}, "win_rate"),
    ({"total_trades": -1}, "total_trades"),
    ({"num_episodes": 2.5}, "num_episodes"),
    ({"sharpe_ratio": "high"}, "sharpe_ratio"),
    ({"evaluation_date": dt.datetime(2024, 1, 1)}, "evaluation_date"),  # naive
    (
        {"data_period_start": dt.date(2024, 2, 1), "data_period_end": dt.date(2024, 1, 1)},
        "data_period_end",
    ),
    ({"total_trades": 10, "winning_trades": 8, "losing_trades": 5}, "total_trades"),
]


def test_bad_input_writes_nothing(db: Database) -> None:
    run_id = start(db)
    for kwargs, field in BAD_INPUT:
        arguments: dict[str, Any] = {"evaluation_type": "validation", **kwargs}
        with pytest.raises(ValidationError) as caught, db.unit_of_work() as uow:
            uow.evaluations.record(run_id, **arguments)
        assert caught.value.field == field, kwargs
    with db.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(AgentPerformance)) == 0


def test_unknown_run_and_unknown_evaluation(db: Database) -> None:
    with db.unit_of_work() as uow:
        with pytest.raises(RunNotFound):
            uow.evaluations.record("missing", "validation")
        with pytest.raises(RunNotFound):
            uow.evaluations.list(run_id="missing")
        with pytest.raises(NotFound):
            uow.evaluations.get(12345)


def test_several_evaluations_per_run_listed_newest_first(db: Database) -> None:
    first, second = start(db, "a"), start(db, "b")
    with db.unit_of_work() as uow:
        for day, (run_id, kind) in enumerate(
            [(first, "validation"), (first, "test"), (second, "validation"), (first, "validation")]
        ):
            uow.evaluations.record(
                run_id, kind, evaluation_date=dt.date(2024, 1, 1 + day), sharpe_ratio=float(day)
            )
        # Same date as the last one, recorded later: it is the newer of the two.
        uow.evaluations.record(
            first, "validation", evaluation_date=dt.date(2024, 1, 4), sharpe_ratio=9.0
        )
    with db.session(readonly=True) as session:
        repo = EvaluationRepository(session)
        assert [e.sharpe_ratio for e in repo.list()] == [9.0, 3.0, 2.0, 1.0, 0.0]
        assert [e.sharpe_ratio for e in repo.list(run_id=first)] == [9.0, 3.0, 1.0, 0.0]
        assert [e.sharpe_ratio for e in repo.list(evaluation_type="test")] == [1.0]
        window = {"since": dt.date(2024, 1, 2), "until": dt.date(2024, 1, 3)}
        assert [e.sharpe_ratio for e in repo.list(**window)] == [2.0, 1.0]
        assert [e.sharpe_ratio for e in repo.list(limit=2, offset=1)] == [3.0, 2.0]
        latest = repo.latest(first)
        assert latest is not None
        assert latest.sharpe_ratio == 9.0
        latest_test = repo.latest(first, "test")
        assert latest_test is not None
        assert latest_test.sharpe_ratio == 1.0
        assert repo.latest(second, "backtest") is None
