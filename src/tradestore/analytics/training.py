"""The ML questions of the source schema (docs/lineage.md) as typed query functions over a Session.

The leaderboard (``v_agent_leaderboard``), the algorithm comparison, the training summary
(``v_training_summary``), the hyperparameter results (``v_hyperparameter_results``), the best
hyperparameters for an algorithm, and the active ensembles (``v_current_ensemble``).

Every function is one SQL statement that runs the same on SQLite and PostgreSQL and follows
``tradestore.domain.floats``' rule for NaN and infinities: a NaN metric is undefined, so it is
skipped by averages and maxima and never ranked; ±inf are values.

"The evaluation of a run" means its latest evaluation of the requested type (latest
``evaluation_date``, then latest recorded): a run evaluated on validation data every week
appears once on the leaderboard, with its current standing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, String, and_, case, exists, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from tradestore.db.executor import Executor
from tradestore.db.float_sql import average, defined, defined_count, maximum, nan_literal, sort_key
from tradestore.db.results import Rows
from tradestore.domain.enums import Algorithm, EvaluationType, RunStatus, WeightingMethod
from tradestore.domain.floats import fix_aggregate
from tradestore.domain.metrics import COUNT_METRICS, FLOAT_METRICS
from tradestore.domain.validation import algorithm as valid_algorithm
from tradestore.domain.validation import choice, integer, required_text
from tradestore.errors import ValidationError
from tradestore.models.training import (
    AgentPerformance,
    EnsembleWeight,
    Hyperparameters,
    TrainingRun,
    run_filters,
)

#: Metrics ``best_hyperparameters`` and the leaderboard can rank by (agent_performance columns):
#: every float metric and the trade counts (``num_episodes`` describes the evaluation, not the
#: agent).
METRICS: Final = (*FLOAT_METRICS, *(c for c in COUNT_METRICS if c != "num_episodes"))
#: Figures of the run itself (training_runs columns) the leaderboard and the hyperparameter
#: grouping can rank by, with no evaluation recorded.
RUN_FIGURES: Final = ("final_reward", "best_reward")

MAX_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One evaluation ranked by one of its metrics (by default a run's latest of its type),
    or one run ranked by a figure of its own.

    ``metric`` is what the ranking used and ``value`` its value. Ranked by a run figure
    (``final_reward``, ``best_reward``), the evaluation columns are the run's latest
    evaluation of the type asked for, None when it has none.
    """

    rank: int
    performance_id: int | None
    run_id: str
    algorithm: Algorithm | str
    model_name: str
    evaluation_type: EvaluationType | None
    evaluation_date: dt.date | None
    sharpe_ratio: float | None
    total_return_pct: float | None
    max_drawdown_pct: float | None
    win_rate: float | None
    total_trades: int | None
    final_reward: float | None
    best_reward: float | None
    metric: str
    value: float


@dataclass(frozen=True, slots=True)
class AlgorithmComparison:
    """The "compare algorithms" query: runs per algorithm and their Sharpe ratios."""

    algorithm: Algorithm | str
    runs: int
    evaluations: int
    avg_sharpe: float | None
    best_sharpe: float | None


@dataclass(frozen=True, slots=True)
class TrainingSummary:
    """A run with its latest evaluation's headline figures and its learning rate.

    ``duration_hours`` is the recorded ``duration_seconds``, else computed from start and end.
    """

    run_id: str
    algorithm: Algorithm | str
    model_name: str
    status: RunStatus
    start_time: dt.datetime
    end_time: dt.datetime | None
    duration_hours: float | None
    total_timesteps: int | None
    final_reward: float | None
    best_reward: float | None
    evaluation_type: EvaluationType | None
    evaluation_date: dt.date | None
    sharpe_ratio: float | None
    win_rate: float | None
    total_return_pct: float | None
    learning_rate: float | None


@dataclass(frozen=True, slots=True)
class HyperparameterResult:
    """One evaluation next to the hyperparameters of the run it evaluated."""

    performance_id: int
    run_id: str
    algorithm: Algorithm | str
    model_name: str
    evaluation_type: EvaluationType
    evaluation_date: dt.date
    learning_rate: float | None
    batch_size: int | None
    n_steps: int | None
    gamma: float | None
    sharpe_ratio: float | None
    win_rate: float | None
    total_return_pct: float | None


@dataclass(frozen=True, slots=True)
class HyperparameterScore:
    """A (learning_rate, batch_size, n_steps) configuration and how its evaluations scored."""

    learning_rate: float | None
    batch_size: int | None
    n_steps: int | None
    metric: str
    average: float | None
    best: float | None
    runs: int
    evaluations: int


@dataclass(frozen=True, slots=True)
class ActiveEnsembleMember:
    """One member of an active ensemble version, with the version's key (``v_current_ensemble``).

    Not ``repositories.ensembles.EnsembleMember``, a member inside an ``EnsembleVersion``.
    """

    ensemble_id: str
    version: int
    run_id: str
    algorithm: Algorithm | str
    model_name: str
    weight: float
    performance_score: float | None
    sharpe_ratio: float | None
    win_rate: float | None
    weighting_method: WeightingMethod
    last_updated: dt.datetime


# --- helpers -------------------------------------------------------------------------------


def _limit(value: Any) -> int:
    result = integer("limit", value, minimum=1, maximum=MAX_LIMIT, allow_none=False)
    assert result is not None
    return result


def _offset(value: Any) -> int:
    result = integer("offset", value, minimum=0, allow_none=False)
    assert result is not None
    return result


def metric_name(value: Any, field: str = "by", *, run_figures: bool = False) -> str:
    allowed = (*RUN_FIGURES, *METRICS) if run_figures else METRICS
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(field, value, f"must be one of {', '.join(allowed)}")
    return value


def _latest_evaluation_id(run_id: Any, kind: EvaluationType | None) -> Any:
    """The performance_id of the run's latest evaluation of ``kind``; of any kind (the
    latest validation first) when None: ``v_training_summary``'s choice."""
    latest = select(AgentPerformance.performance_id).where(AgentPerformance.run_id == run_id)
    if kind is not None:
        latest = latest.where(AgentPerformance.evaluation_type == kind)
    else:
        validation_first = case(
            (AgentPerformance.evaluation_type == EvaluationType.VALIDATION, 0), else_=1
        )
        latest = latest.order_by(validation_first)
    return (
        latest.order_by(
            AgentPerformance.evaluation_date.desc(), AgentPerformance.performance_id.desc()
        )
        .limit(1)
        .scalar_subquery()
    )


def latest_of_its_type(evaluation: Any) -> ColumnElement[bool]:
    """True for the latest evaluation of its run and type (date, then insertion order)."""
    newer = aliased(AgentPerformance)
    return ~exists().where(
        newer.run_id == evaluation.run_id,
        newer.evaluation_type == evaluation.evaluation_type,
        or_(
            newer.evaluation_date > evaluation.evaluation_date,
            and_(
                newer.evaluation_date == evaluation.evaluation_date,
                newer.performance_id > evaluation.performance_id,
            ),
        ),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- queries -------------------------------------------------------------------------------


def agent_leaderboard(
    session: Executor,
    *,
    limit: int = 10,
    evaluation_type: EvaluationType | str | None = EvaluationType.VALIDATION,
    algorithm: Algorithm | str | None = None,
    status: RunStatus | str | None = RunStatus.COMPLETED,
    latest_only: bool = True,
    by: str = "sharpe_ratio",
    ascending: bool = False,
) -> Rows[LeaderboardEntry]:
    """Best agents by Sharpe ratio (or ``by`` any other metric): one row per run, its latest
    evaluation of the type.

    Runs whose figure is NULL or NaN have no rank and are left out. ``status=None``
    includes runs in every status (by default only completed runs, the deployable agents).
    ``evaluation_type=None`` ranks evaluations of every type; ``latest_only=False`` ranks
    every evaluation, not only each run's latest: with ``evaluation_type=None`` that is
    ``v_agent_leaderboard`` (ties broken by ``performance_id`` like the view).

    ``by`` is any evaluation metric (``METRICS``) or a figure of the run itself
    (``RUN_FIGURES``: ``final_reward``, ``best_reward``), which ranks runs with no
    evaluation needed; ``ascending=True`` puts the lowest first (a loss, a drawdown:
    Optuna's ``direction="minimize"``). +inf ranks first, -inf last (reversed ascending).
    """
    kind = (
        None
        if evaluation_type is None
        else choice("evaluation_type", evaluation_type, EvaluationType)
    )
    count = _limit(limit)
    metric = metric_name(by, run_figures=True)
    if metric in RUN_FIGURES:
        return _run_leaderboard(
            session, count, kind, algorithm, status, metric=metric, ascending=ascending
        )
    ap = aliased(AgentPerformance)
    run_conditions: list[ColumnElement[bool]] = [TrainingRun.run_id == ap.run_id]
    if algorithm is not None:
        run_conditions.append(TrainingRun.algorithm == valid_algorithm("algorithm", algorithm))
    if status is not None:
        run_conditions.append(TrainingRun.status == choice("status", status, RunStatus))

    def of_run(column: Any) -> Any:
        return select(column).where(TrainingRun.run_id == ap.run_id).scalar_subquery()

    # One table in FROM and the run's columns as subqueries: walking the Sharpe index from
    # the top stops at the tenth agent (1 ms at 40,000 evaluations). With a join, SQLite
    # drives the query from the runs and probes every evaluation (100 ms); comparing
    # evaluation_type through ``|| ''`` keeps it off that column's index, which it would
    # otherwise prefer. PostgreSQL finds the Sharpe-index plan either way.
    ranked = getattr(ap, metric)
    conditions: list[ColumnElement[bool]] = [
        ranked.is_not(None),
        ranked != nan_literal(),
        exists().where(*run_conditions),
    ]
    if kind is not None:
        conditions.append(type_coerce(ap.evaluation_type, String()).concat("") == kind.value)
    if latest_only:
        conditions.append(latest_of_its_type(ap))
    statement = (
        select(
            ap.performance_id,
            ap.run_id,
            of_run(TrainingRun.algorithm),
            of_run(TrainingRun.model_name),
            ap.evaluation_type,
            ap.evaluation_date,
            ap.sharpe_ratio,
            ap.total_return_pct,
            ap.max_drawdown_pct,
            ap.win_rate,
            ap.total_trades,
            of_run(TrainingRun.final_reward),
            of_run(TrainingRun.best_reward),
            ranked,
        )
        .where(*conditions)
        .order_by(
            ranked.asc() if ascending else ranked.desc(),
            *((ap.run_id,) if latest_only else ()),
            ap.performance_id,
        )
        .limit(count)
    )
    rows: list[Sequence[Any]] = list(session.execute(statement).all())
    return _entries(rows, metric)


def _entries(rows: Sequence[Sequence[Any]], metric: str) -> Rows[LeaderboardEntry]:
    """Entries from rows of the entry's columns up to ``best_reward``, then the ranked value."""
    return Rows(
        LeaderboardEntry,
        [
            LeaderboardEntry(rank, *row[:-1], metric=metric, value=row[-1])  # type: ignore[misc]
            for rank, row in enumerate(rows, start=1)
        ],
    )


def _run_leaderboard(
    session: Executor,
    count: int,
    kind: EvaluationType | None,
    algorithm: Algorithm | str | None,
    status: RunStatus | str | None,
    *,
    metric: str,
    ascending: bool,
) -> Rows[LeaderboardEntry]:
    """Runs ranked by one of their own columns, each with its latest evaluation attached."""
    ranked = getattr(TrainingRun, metric)
    ap = aliased(AgentPerformance)
    statement = (
        select(
            ap.performance_id,
            TrainingRun.run_id,
            TrainingRun.algorithm,
            TrainingRun.model_name,
            ap.evaluation_type,
            ap.evaluation_date,
            ap.sharpe_ratio,
            ap.total_return_pct,
            ap.max_drawdown_pct,
            ap.win_rate,
            ap.total_trades,
            TrainingRun.final_reward,
            TrainingRun.best_reward,
            ranked,
        )
        .outerjoin(ap, ap.performance_id == _latest_evaluation_id(TrainingRun.run_id, kind))
        .where(ranked.is_not(None), ranked != nan_literal())
        .order_by(ranked.asc() if ascending else ranked.desc(), TrainingRun.run_id)
        .limit(count)
    )
    if algorithm is not None:
        statement = statement.where(
            TrainingRun.algorithm == valid_algorithm("algorithm", algorithm)
        )
    if status is not None:
        statement = statement.where(TrainingRun.status == choice("status", status, RunStatus))
    rows: list[Sequence[Any]] = list(session.execute(statement).all())
    return _entries(rows, metric)


def algorithm_comparison(
    session: Executor,
    *,
    evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
    status: RunStatus | str | None = RunStatus.COMPLETED,
) -> Rows[AlgorithmComparison]:
    """The "compare algorithms" query over every evaluation of the type, best average first."""
    kind = choice("evaluation_type", evaluation_type, EvaluationType)
    sharpe = AgentPerformance.sharpe_ratio
    avg = average(sharpe)
    statement = (
        select(
            TrainingRun.algorithm,
            func.count(func.distinct(TrainingRun.run_id)),
            func.count(AgentPerformance.performance_id),
            avg,
            maximum(sharpe),
            defined_count(sharpe),
        )
        .join(AgentPerformance, AgentPerformance.run_id == TrainingRun.run_id)
        .where(AgentPerformance.evaluation_type == kind)
        .group_by(TrainingRun.algorithm)
        .order_by(sort_key(avg).desc().nulls_last(), TrainingRun.algorithm)
    )
    if status is not None:
        statement = statement.where(TrainingRun.status == choice("status", status, RunStatus))
    return Rows(
        AlgorithmComparison,
        [
            AlgorithmComparison(
                algorithm=algorithm,
                runs=runs,
                evaluations=evaluations,
                avg_sharpe=fix_aggregate(avg_value, count),
                best_sharpe=fix_aggregate(best, count),
            )
            for algorithm, runs, evaluations, avg_value, best, count in session.execute(statement)
        ],
    )


def training_summary(
    session: Executor,
    *,
    evaluation_type: EvaluationType | str | None = EvaluationType.VALIDATION,
    algorithm: Algorithm | str | None = None,
    status: RunStatus | str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Rows[TrainingSummary]:
    """Runs, newest first, with their latest evaluation of the type (if any).

    ``evaluation_type=None`` takes the latest validation, else the latest evaluation of any
    type (like ``v_training_summary``); ``limit=None`` returns every run.
    """
    kind = (
        None
        if evaluation_type is None
        else choice("evaluation_type", evaluation_type, EvaluationType)
    )
    # The page of runs first (start_time index, LIMIT), then one index probe per run for its
    # latest evaluation: joining every evaluation before paging costs 20x at 2,000 runs.
    page = select(
        TrainingRun.run_id,
        TrainingRun.algorithm,
        TrainingRun.model_name,
        TrainingRun.status,
        TrainingRun.start_time,
        TrainingRun.end_time,
        TrainingRun.duration_seconds,
        TrainingRun.total_timesteps,
        TrainingRun.final_reward,
        TrainingRun.best_reward,
    )
    if algorithm is not None:
        page = page.where(TrainingRun.algorithm == valid_algorithm("algorithm", algorithm))
    if status is not None:
        page = page.where(TrainingRun.status == choice("status", status, RunStatus))
    page = page.order_by(TrainingRun.start_time.desc(), TrainingRun.run_id)
    if limit is not None:
        page = page.limit(_limit(limit))
    runs = page.offset(_offset(offset)).subquery("runs")
    latest_id = _latest_evaluation_id(runs.c.run_id, kind)
    ap = aliased(AgentPerformance)
    statement = (
        select(
            *runs.c,
            ap.evaluation_type,
            ap.evaluation_date,
            ap.sharpe_ratio,
            ap.win_rate,
            ap.total_return_pct,
            Hyperparameters.learning_rate,
        )
        .select_from(runs)
        .outerjoin(ap, ap.performance_id == latest_id)
        .outerjoin(Hyperparameters, Hyperparameters.run_id == runs.c.run_id)
        .order_by(runs.c.start_time.desc(), runs.c.run_id)
    )
    result = []
    for row in session.execute(statement):
        (run_id, algo, model_name, run_status, start, end, duration, *rest) = row
        if duration is None and end is not None:
            duration = (end - start).total_seconds()
        result.append(
            TrainingSummary(
                run_id,
                algo,
                model_name,
                run_status,
                start,
                end,
                None if duration is None else duration / 3600.0,
                *rest,
            )
        )
    return Rows(TrainingSummary, result)


def hyperparameter_results(
    session: Executor,
    *,
    algorithm: Algorithm | str | None = None,
    evaluation_type: EvaluationType | str | None = EvaluationType.VALIDATION,
    limit: int = 10,
) -> Rows[HyperparameterResult]:
    """Every evaluation of the type with its run's hyperparameters, best Sharpe first.

    Evaluations whose Sharpe ratio is NULL or NaN come last. ``evaluation_type=None`` takes
    every type (like ``v_hyperparameter_results``).
    """
    statement = (
        select(
            AgentPerformance.performance_id,
            AgentPerformance.run_id,
            Hyperparameters.algorithm,
            TrainingRun.model_name,
            AgentPerformance.evaluation_type,
            AgentPerformance.evaluation_date,
            Hyperparameters.learning_rate,
            Hyperparameters.batch_size,
            Hyperparameters.n_steps,
            Hyperparameters.gamma,
            AgentPerformance.sharpe_ratio,
            AgentPerformance.win_rate,
            AgentPerformance.total_return_pct,
        )
        .join(Hyperparameters, Hyperparameters.run_id == AgentPerformance.run_id)
        .join(TrainingRun, TrainingRun.run_id == AgentPerformance.run_id)
        .order_by(
            defined(AgentPerformance.sharpe_ratio).desc().nulls_last(),
            AgentPerformance.performance_id,
        )
        .limit(_limit(limit))
    )
    if evaluation_type is not None:
        kind = choice("evaluation_type", evaluation_type, EvaluationType)
        statement = statement.where(AgentPerformance.evaluation_type == kind)
    if algorithm is not None:
        statement = statement.where(
            Hyperparameters.algorithm == valid_algorithm("algorithm", algorithm)
        )
    rows: Sequence[Any] = session.execute(statement).all()
    return Rows(HyperparameterResult, [HyperparameterResult(*row) for row in rows])


def best_hyperparameters(
    session: Executor,
    algorithm: Algorithm | str,
    *,
    evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
    by: str = "sharpe_ratio",
    limit: int = 5,
    ascending: bool = False,
) -> Rows[HyperparameterScore]:
    """The "best hyperparameters for PPO" query: configurations by their average ``by``.

    Groups the evaluations of the type by (learning_rate, batch_size, n_steps) and orders the
    groups by the average of ``by`` (highest first; ``ascending=True`` for metrics where lower
    is better, such as volatility). Groups whose average is undefined come last.
    """
    algo = valid_algorithm("algorithm", algorithm)
    kind = choice("evaluation_type", evaluation_type, EvaluationType)
    metric = metric_name(by)
    column = getattr(AgentPerformance, metric)
    avg = average(column)
    key = sort_key(avg)
    hp = Hyperparameters
    statement = (
        select(
            hp.learning_rate,
            hp.batch_size,
            hp.n_steps,
            avg,
            func.max(defined(column)) if not ascending else func.min(defined(column)),
            func.count(func.distinct(AgentPerformance.run_id)),
            func.count(AgentPerformance.performance_id),
            defined_count(column),
        )
        .join(AgentPerformance, AgentPerformance.run_id == hp.run_id)
        .where(hp.algorithm == algo, AgentPerformance.evaluation_type == kind)
        .group_by(hp.learning_rate, hp.batch_size, hp.n_steps)
        .order_by(
            (key.asc() if ascending else key.desc()).nulls_last(),
            hp.learning_rate.asc().nulls_last(),
            hp.batch_size.asc().nulls_last(),
            hp.n_steps.asc().nulls_last(),
        )
        .limit(_limit(limit))
    )
    return Rows(
        HyperparameterScore,
        [
            HyperparameterScore(
                learning_rate=_float(learning_rate),
                batch_size=batch_size,
                n_steps=n_steps,
                metric=metric,
                average=fix_aggregate(avg_value, count),
                best=fix_aggregate(best, count),
                runs=runs,
                evaluations=evaluations,
            )
            for learning_rate, batch_size, n_steps, avg_value, best, runs, evaluations, count in (
                session.execute(statement)
            )
        ],
    )


@dataclass(frozen=True, slots=True)
class RunWithHyperparameters:
    """A run as stored, with every hyperparameter it was started with (Optuna's trial
    ``params``, MLflow's run params): ``hyperparameters`` is the complete dict, {} for a run
    started without any."""

    run_id: str
    algorithm: Algorithm | str
    model_name: str
    status: RunStatus
    start_time: dt.datetime
    end_time: dt.datetime | None
    duration_seconds: float | None
    total_timesteps: int | None
    final_reward: float | None
    best_reward: float | None
    convergence_achieved: bool
    random_seed: int | None
    model_path: str | None
    error_message: str | None
    metadata: dict[str, Any] | None
    hyperparameters: dict[str, Any]


_RUN_FIELDS: Final = tuple(
    name for name in RunWithHyperparameters.__dataclass_fields__ if name != "hyperparameters"
)


def runs_with_hyperparameters(
    session: Executor,
    *,
    algorithm: Algorithm | str | None = None,
    status: RunStatus | str | None = None,
    model_name: str | None = None,
    started_after: dt.datetime | None = None,
    started_before: dt.datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Rows[RunWithHyperparameters]:
    """Every run (newest first) with all its hyperparameters, in one statement.

    A LEFT JOIN of runs and their hyperparameters row, so the cost does not grow with a
    statement per run as ``TrainingRepository.list()`` then ``hyperparameters(run_id)`` does.
    Filters as ``TrainingRepository.list``; ``limit=None`` returns every run.
    """
    table = TrainingRun.__table__
    statement = (
        select(*(table.c[name] for name in _RUN_FIELDS), Hyperparameters.params_json)
        .select_from(table)
        .outerjoin(Hyperparameters, Hyperparameters.run_id == TrainingRun.run_id)
        .where(*run_filters(algorithm, status, model_name, started_after, started_before))
        .order_by(TrainingRun.start_time.desc(), TrainingRun.run_id)
        .offset(_offset(offset))
    )
    if limit is not None:
        statement = statement.limit(_limit(limit))
    runs = []
    for row in session.execute(statement):
        fields = row._asdict()
        params = fields.pop("params_json")
        fields["convergence_achieved"] = bool(fields["convergence_achieved"])
        runs.append(RunWithHyperparameters(**fields, hyperparameters=params or {}))
    return Rows(RunWithHyperparameters, runs)


@dataclass(frozen=True, slots=True)
class HyperparameterGroup:
    """The runs whose hyperparameter ``key`` had one ``value``, and how ``metric`` scored.

    ``runs`` counts the runs in the group, ``scored`` those with a defined ``metric`` (not
    NULL, not NaN); ``average``, ``minimum`` and ``maximum`` are over those (None without
    any; ±inf are values, so an average of +inf and -inf is NaN).
    """

    key: str
    value: Any
    metric: str
    runs: int
    scored: int
    average: float | None
    minimum: float | None
    maximum: float | None


def runs_by_hyperparameter(
    session: Executor,
    key: str,
    *,
    by: str = "final_reward",
    evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
    algorithm: Algorithm | str | None = None,
    status: RunStatus | str | None = RunStatus.COMPLETED,
    ascending: bool = False,
) -> Rows[HyperparameterGroup]:
    """Runs grouped by the value of any hyperparameter ``key``, best average ``by`` first.

    ``by`` is a run figure (``final_reward``, ``best_reward``) or an evaluation metric, taken
    from each run's latest evaluation of ``evaluation_type``. Runs without ``key`` are not in
    any group. One statement reads (the run's hyperparameters, its figure) per run; the
    grouping happens here, on the decoded values, because the two backends disagree on
    grouping JSON (SQLite compares text and formats a double with 15 digits; PostgreSQL
    compares jsonb numerically): 0.0003 is one group and 64 and 64.0 are one value on both.
    """
    name = required_text("key", key, max_length=200)
    metric = metric_name(by, run_figures=True)
    statement = select(Hyperparameters.params_json).join(
        TrainingRun, TrainingRun.run_id == Hyperparameters.run_id
    )
    if metric in RUN_FIGURES:
        statement = statement.add_columns(getattr(TrainingRun, metric))
    else:
        kind = choice("evaluation_type", evaluation_type, EvaluationType)
        ap = aliased(AgentPerformance)
        statement = statement.add_columns(getattr(ap, metric)).outerjoin(
            ap, ap.performance_id == _latest_evaluation_id(TrainingRun.run_id, kind)
        )
    if algorithm is not None:
        statement = statement.where(
            TrainingRun.algorithm == valid_algorithm("algorithm", algorithm)
        )
    if status is not None:
        statement = statement.where(TrainingRun.status == choice("status", status, RunStatus))
    groups: dict[Any, tuple[Any, list[float | None]]] = {}
    for params, figure in session.execute(statement):
        if name not in params:
            continue
        value = params[name]
        groups.setdefault(_group_key(value), (value, []))[1].append(
            None if figure is None else float(figure)
        )
    result = [_group(name, value, metric, figures) for value, figures in groups.values()]

    def order(group: HyperparameterGroup) -> tuple[bool, float, str]:
        score = group.average
        if score is None or math.isnan(score):
            return (True, 0.0, json.dumps(group.value, default=str))
        return (False, score if ascending else -score, json.dumps(group.value, default=str))

    return Rows(HyperparameterGroup, sorted(result, key=order))


def _group_key(value: Any) -> Any:
    """Equal JSON values, equal keys: 64 and 64.0 alike, True apart from 1, lists by content."""
    if isinstance(value, list | dict):
        return ("json", json.dumps(value, sort_keys=True))
    return (type(value) is bool, value)


def _group(key: str, value: Any, metric: str, figures: list[float | None]) -> HyperparameterGroup:
    defined_values = [f for f in figures if f is not None and not math.isnan(f)]
    average: float | None = None
    if defined_values:
        if math.inf in defined_values and -math.inf in defined_values:
            average = math.nan
        else:
            average = math.fsum(defined_values) / len(defined_values)
    return HyperparameterGroup(
        key=key,
        value=value,
        metric=metric,
        runs=len(figures),
        scored=len(defined_values),
        average=average,
        minimum=min(defined_values, default=None),
        maximum=max(defined_values, default=None),
    )


def current_ensembles(
    session: Executor, *, ensemble_id: str | None = None
) -> Rows[ActiveEnsembleMember]:
    """Members of every active ensemble version (or of one ensemble), heaviest first."""
    statement = (
        select(
            EnsembleWeight.ensemble_id,
            EnsembleWeight.version,
            EnsembleWeight.run_id,
            EnsembleWeight.algorithm,
            TrainingRun.model_name,
            EnsembleWeight.weight,
            EnsembleWeight.performance_score,
            EnsembleWeight.sharpe_ratio,
            EnsembleWeight.win_rate,
            EnsembleWeight.weighting_method,
            EnsembleWeight.update_time,
        )
        .join(TrainingRun, TrainingRun.run_id == EnsembleWeight.run_id)
        .where(EnsembleWeight.is_active.is_(True))
        .order_by(EnsembleWeight.ensemble_id, EnsembleWeight.weight.desc(), EnsembleWeight.run_id)
    )
    if ensemble_id is not None:
        statement = statement.where(
            EnsembleWeight.ensemble_id == required_text("ensemble_id", ensemble_id, max_length=100)
        )
    members = (ActiveEnsembleMember(*row) for row in session.execute(statement))
    return Rows(ActiveEnsembleMember, members)


@dataclass(frozen=True, slots=True)
class EnsembleWeightChange:
    """One agent's weight in one version of an ensemble."""

    update_date: dt.date
    update_time: dt.datetime
    version: int
    run_id: str
    algorithm: Algorithm | str
    weight: float
    sharpe_ratio: float | None
    is_active: bool


def ensemble_weight_history(
    session: Executor, *, ensemble_id: str = "production", limit: int = 20
) -> Rows[EnsembleWeightChange]:
    """The latest weight rows of an ensemble, newest first (the weight history)."""
    w = EnsembleWeight
    statement = (
        select(
            w.update_date,
            w.update_time,
            w.version,
            w.run_id,
            w.algorithm,
            w.weight,
            w.sharpe_ratio,
            w.is_active,
        )
        .where(w.ensemble_id == required_text("ensemble_id", ensemble_id, max_length=100))
        .order_by(w.update_time.desc(), w.version.desc(), w.run_id)
        .limit(_limit(limit))
    )
    return Rows(
        EnsembleWeightChange, [EnsembleWeightChange(*row) for row in session.execute(statement)]
    )


def __getattr__(name: str) -> Any:
    """Deprecated names, still importable with a DeprecationWarning."""
    if name == "EnsembleMember":
        warnings.warn(
            "tradestore.analytics.training.EnsembleMember is deprecated: it is "
            "ActiveEnsembleMember (repositories.ensembles.EnsembleMember is another record)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ActiveEnsembleMember
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
