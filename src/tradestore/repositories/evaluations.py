"""Agent evaluations (the agent_performance table): several per run, one per evaluation.

An evaluation is a measurement, never edited: a run evaluated again (another period, another
data set) gets a new row, and "the" evaluation of a run in the read side is its latest of a
type. Ratios may legitimately be infinite (a profit factor without losing trades, a Sortino
ratio without downside) or NaN (0/0 from numpy); they are stored as given and the read side
skips NaN (``tradestore.domain.floats``). Rates and counts are checked.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, insert, select
from sqlalchemy.orm import Session

from tradestore.db.executor import Executor
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain.enums import EvaluationType
from tradestore.domain.metrics import COUNT_METRICS, FLOAT_METRICS
from tradestore.domain.validation import choice, day, integer, number, required_text
from tradestore.errors import NotFound, RunNotFound, ValidationError
from tradestore.models.training import AgentPerformance, TrainingRun

INT32_MAX: Final = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One row of agent_performance."""

    performance_id: int
    run_id: str
    evaluation_date: dt.date
    evaluation_type: EvaluationType
    data_period_start: dt.date | None
    data_period_end: dt.date | None
    num_episodes: int | None
    total_return: float | None
    total_return_pct: float | None
    annualized_return: float | None
    cumulative_reward: float | None
    avg_episode_reward: float | None
    sharpe_ratio: float | None
    sortino_ratio: float | None
    calmar_ratio: float | None
    max_drawdown: float | None
    max_drawdown_pct: float | None
    volatility: float | None
    downside_deviation: float | None
    total_trades: int | None
    winning_trades: int | None
    losing_trades: int | None
    win_rate: float | None
    avg_win: float | None
    avg_loss: float | None
    profit_factor: float | None
    expectancy: float | None
    largest_win: float | None
    largest_loss: float | None
    buy_and_hold_return: float | None
    excess_return: float | None
    information_ratio: float | None
    avg_action_entropy: float | None
    avg_value_estimate: float | None
    policy_stability: float | None
    created_at: dt.datetime


_COLUMNS: Final = tuple(getattr(AgentPerformance, name) for name in Evaluation.__dataclass_fields__)


def _evaluation(row: Sequence[Any]) -> Evaluation:
    return Evaluation(*row)


@error_net
class EvaluationRepository:
    """Evaluations of training runs. Validates, then writes; never commits."""

    def __init__(self, db: Executor | Session | Connection) -> None:
        self._db = Executor.of(db)

    @atomic
    def record(
        self,
        run_id: str,
        evaluation_type: EvaluationType | str,
        *,
        evaluation_date: dt.date | None = None,
        data_period_start: dt.date | None = None,
        data_period_end: dt.date | None = None,
        num_episodes: int | None = None,
        total_return: float | None = None,
        total_return_pct: float | None = None,
        annualized_return: float | None = None,
        cumulative_reward: float | None = None,
        avg_episode_reward: float | None = None,
        sharpe_ratio: float | None = None,
        sortino_ratio: float | None = None,
        calmar_ratio: float | None = None,
        max_drawdown: float | None = None,
        max_drawdown_pct: float | None = None,
        volatility: float | None = None,
        downside_deviation: float | None = None,
        total_trades: int | None = None,
        winning_trades: int | None = None,
        losing_trades: int | None = None,
        win_rate: float | None = None,
        avg_win: float | None = None,
        avg_loss: float | None = None,
        profit_factor: float | None = None,
        expectancy: float | None = None,
        largest_win: float | None = None,
        largest_loss: float | None = None,
        buy_and_hold_return: float | None = None,
        excess_return: float | None = None,
        information_ratio: float | None = None,
        avg_action_entropy: float | None = None,
        avg_value_estimate: float | None = None,
        policy_stability: float | None = None,
    ) -> Evaluation:
        """Record one evaluation of a run; ``evaluation_date`` defaults to the clock's UTC date."""
        arguments = dict(locals())  # the metric keywords, validated by name below
        key = required_text("run_id", run_id)
        now = self._db.now()
        values: dict[str, Any] = {
            "run_id": key,
            "evaluation_type": choice("evaluation_type", evaluation_type, EvaluationType),
            "evaluation_date": day("evaluation_date", evaluation_date) or now.date(),
            "data_period_start": day("data_period_start", data_period_start),
            "data_period_end": day("data_period_end", data_period_end),
            "win_rate": number("win_rate", win_rate, minimum=0.0, maximum=1.0),
            "created_at": now,
        }
        for name in FLOAT_METRICS:
            values[name] = number(name, arguments[name], allow_nonfinite=True)
        for name in COUNT_METRICS:
            values[name] = integer(name, arguments[name], minimum=0, maximum=INT32_MAX)
        start, end = values["data_period_start"], values["data_period_end"]
        if start is not None and end is not None and end < start:
            raise ValidationError("data_period_end", end, f"before data_period_start {start}")
        total, wins, losses = (
            values["total_trades"],
            values["winning_trades"],
            values["losing_trades"],
        )
        if total is not None and (wins or 0) + (losses or 0) > total:
            raise ValidationError(
                "total_trades",
                total,
                f"fewer than winning_trades + losing_trades ({wins} + {losses})",
            )
        self._require_run(key, lock=True)
        performance_id = self._db.execute(
            insert(AgentPerformance).values(values).returning(AgentPerformance.performance_id)
        ).scalar_one()
        return self.get(performance_id)

    def get(self, performance_id: int) -> Evaluation:
        key = integer("performance_id", performance_id, minimum=1, allow_none=False)
        row = self._db.execute(
            select(*_COLUMNS).where(AgentPerformance.performance_id == key)
        ).one_or_none()
        if row is None:
            raise NotFound("evaluation", key)
        return _evaluation(row)

    def latest(
        self, run_id: str, evaluation_type: EvaluationType | str = EvaluationType.VALIDATION
    ) -> Evaluation | None:
        """The run's latest evaluation of the type (by evaluation_date, then recording order)."""
        found = self.list(run_id=run_id, evaluation_type=evaluation_type, limit=1)
        return found[0] if found else None

    def list(
        self,
        *,
        run_id: str | None = None,
        evaluation_type: EvaluationType | str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[Evaluation]:
        """Evaluations newest first; ``since`` and ``until`` are inclusive evaluation dates.

        Every evaluation unless ``limit`` is given.
        """
        conditions: builtins.list[ColumnElement[bool]] = []
        if run_id is not None:
            key = required_text("run_id", run_id)
            self._require_run(key)
            conditions.append(AgentPerformance.run_id == key)
        if evaluation_type is not None:
            conditions.append(
                AgentPerformance.evaluation_type
                == choice("evaluation_type", evaluation_type, EvaluationType)
            )
        if since is not None:
            conditions.append(AgentPerformance.evaluation_date >= day("since", since))
        if until is not None:
            conditions.append(AgentPerformance.evaluation_date <= day("until", until))
        statement = paginate(
            select(*_COLUMNS)
            .where(*conditions)
            .order_by(
                AgentPerformance.evaluation_date.desc(), AgentPerformance.performance_id.desc()
            ),
            limit=limit,
            offset=offset,
        )
        return Rows(Evaluation, (_evaluation(row) for row in self._db.execute(statement)))

    def _require_run(self, run_id: str, *, lock: bool = False) -> None:
        """``lock``: FOR KEY SHARE on PostgreSQL, so a concurrent run delete waits for us."""
        statement = select(TrainingRun.run_id).where(TrainingRun.run_id == run_id)
        if lock:
            statement = statement.with_for_update(read=True, key_share=True)
        found = self._db.execute(statement).scalar_one_or_none()
        if found is None:
            raise RunNotFound("training run", run_id)
