"""Ensemble weights (the ensemble_weights table), versioned.

Every ``set_weights`` writes a complete new version of an ensemble: one row per member, all
active, with the next version number; the previous version's rows become inactive and stay as
history. Invariants, for every ensemble at every commit:

* at most one version is active;
* the active weights are in [0, 1] and sum to 1 within ``WEIGHT_TOLERANCE``.

Concurrent ``set_weights`` calls on one ensemble are serialised: by ``BEGIN IMMEDIATE`` on
SQLite (one writer at a time), by a transaction-scoped advisory lock keyed on the ensemble on
PostgreSQL (two READ COMMITTED transactions would otherwise both read version n, both
deactivate it and both activate an n + 1). The second caller waits, then writes n + 2.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Final

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from tradestore.analytics.training import latest_of_its_type
from tradestore.db.executor import Executor
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows
from tradestore.domain.enums import Algorithm, EvaluationType, RunStatus, WeightingMethod
from tradestore.domain.validation import (
    choice,
    instant,
    integer,
    mapping_items,
    number,
    required_text,
)
from tradestore.errors import RunNotFound, ValidationError
from tradestore.models.training import AgentPerformance, EnsembleWeight, TrainingRun

#: |sum of weights - 1| allowed for a version.
WEIGHT_TOLERANCE: Final = 1e-9
#: First key of the two-key advisory lock taken by set_weights on PostgreSQL ("ensb").
ADVISORY_LOCK_CLASS: Final = 0x656E_7362
#: A failed or aborted run produced no model worth weighting.
UNUSABLE_STATUSES: Final = frozenset({RunStatus.FAILED, RunStatus.ABORTED})
ENSEMBLE_ID_LENGTH: Final = 100


@dataclass(frozen=True, slots=True)
class EnsembleMember:
    run_id: str
    algorithm: Algorithm | str
    model_name: str
    weight: float
    performance_score: float | None
    #: The run's Sharpe ratio and win rate when the weights were set (its latest evaluation).
    sharpe_ratio: float | None
    win_rate: float | None


@dataclass(frozen=True, slots=True)
class EnsembleVersion:
    """One version of an ensemble's weights; members heaviest first."""

    ensemble_id: str
    version: int
    update_time: dt.datetime
    update_date: dt.date
    weighting_method: WeightingMethod
    lookback_days: int | None
    is_active: bool
    members: tuple[EnsembleMember, ...]

    @property
    def weights(self) -> dict[str, float]:
        return {member.run_id: member.weight for member in self.members}


def checked_weights(weights: Mapping[str, Any], *, normalize: bool) -> dict[str, float]:
    """Validate (and optionally normalise) ``{run_id: weight}``; the pure part of set_weights.

    Without ``normalize`` every weight must be in [0, 1] and the sum within
    ``WEIGHT_TOLERANCE`` of 1. With it, weights are any non-negative finite numbers with a
    positive sum, divided by that sum.
    """
    items = mapping_items("weights", weights, "a mapping (or pandas Series) of run_id to weight")
    if not items:
        raise ValidationError("weights", weights, "an ensemble needs at least one member")
    result: dict[str, float] = {}
    for run_id, weight in items:
        key = required_text("weights", run_id)
        if key in result:
            raise ValidationError("weights", run_id, "run_id given twice")
        value = number(f"weights[{key!r}]", weight, minimum=0.0, allow_none=False)
        assert value is not None
        if not normalize and value > 1.0:
            raise ValidationError(f"weights[{key!r}]", weight, "must be at most 1")
        result[key] = value
    if normalize:
        # Scale by the largest weight first: the sum of huge weights must not overflow.
        largest = max(result.values())
        if not largest > 0.0:
            raise ValidationError("weights", weights, "cannot normalise: the weights sum to 0")
        scaled = {key: value / largest for key, value in result.items()}
        scaled_total = math.fsum(scaled.values())
        result = {key: value / scaled_total for key, value in scaled.items()}
    total = math.fsum(result.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ValidationError(
            "weights",
            weights,
            f"sum to {total!r}, not 1 (within {WEIGHT_TOLERANCE}); pass normalize=True to rescale",
        )
    return result


_ROW_COLUMNS: Final = (
    EnsembleWeight.ensemble_id,
    EnsembleWeight.version,
    EnsembleWeight.update_time,
    EnsembleWeight.update_date,
    EnsembleWeight.weighting_method,
    EnsembleWeight.lookback_days,
    EnsembleWeight.is_active,
    EnsembleWeight.run_id,
    EnsembleWeight.algorithm,
    TrainingRun.model_name,
    EnsembleWeight.weight,
    EnsembleWeight.performance_score,
    EnsembleWeight.sharpe_ratio,
    EnsembleWeight.win_rate,
)


def _versions(rows: Sequence[Sequence[Any]]) -> list[EnsembleVersion]:
    """Rows ordered by version (then weight) -> one EnsembleVersion per version."""
    versions = []
    for _version, group in groupby(rows, key=lambda row: row[1]):
        members = list(group)
        head = members[0]
        versions.append(
            EnsembleVersion(
                ensemble_id=head[0],
                version=head[1],
                update_time=head[2],
                update_date=head[3],
                weighting_method=head[4],
                lookback_days=head[5],
                is_active=bool(head[6]),
                members=tuple(EnsembleMember(*row[7:]) for row in members),
            )
        )
    return versions


@error_net
class EnsembleRepository:
    """Versioned ensemble weights. Validates, then writes; never commits."""

    def __init__(self, db: Executor | Session | Connection) -> None:
        self._db = Executor.of(db)

    @atomic
    def set_weights(
        self,
        ensemble_id: str,
        weights: Mapping[str, float],
        *,
        method: WeightingMethod | str = WeightingMethod.MANUAL,
        lookback_days: int | None = None,
        normalize: bool = False,
        performance_scores: Mapping[str, float] | None = None,
        evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
        update_time: dt.datetime | None = None,
    ) -> EnsembleVersion:
        """Write a new active version of ``ensemble_id``; the previous one becomes history.

        Each member's Sharpe ratio and win rate are copied from the run's latest evaluation
        of ``evaluation_type``, so the history shows what the weights were based on.
        Members must be existing runs that did not fail or abort.
        """
        key = required_text("ensemble_id", ensemble_id, max_length=ENSEMBLE_ID_LENGTH)
        members = checked_weights(weights, normalize=normalize)
        weighting = choice("method", method, WeightingMethod)
        lookback = integer("lookback_days", lookback_days, minimum=1, maximum=2**31 - 1)
        kind = choice("evaluation_type", evaluation_type, EvaluationType)
        when = instant("update_time", self._db.now() if update_time is None else update_time)
        assert when is not None
        scores: dict[str, float | None] = {}
        given = (
            []
            if performance_scores is None
            else mapping_items(
                "performance_scores",
                performance_scores,
                "a mapping (or pandas Series) of run_id to score",
            )
        )
        for run_id, score in given:
            if run_id not in members:
                raise ValidationError(
                    "performance_scores", run_id, "not one of the ensemble's members"
                )
            scores[run_id] = number(f"performance_scores[{run_id!r}]", score)

        if self._db.dialect_name == "postgresql":
            self._db.execute(
                select(func.pg_advisory_xact_lock(ADVISORY_LOCK_CLASS, func.hashtext(key)))
            )
        run_ids = sorted(members)
        # FOR KEY SHARE: a concurrent delete of a member run waits for this transaction.
        runs = {
            run_id: (algorithm, status)
            for run_id, algorithm, status in self._db.execute(
                select(TrainingRun.run_id, TrainingRun.algorithm, TrainingRun.status)
                .where(TrainingRun.run_id.in_(run_ids))
                .order_by(TrainingRun.run_id)
                .with_for_update(read=True, key_share=True)
            )
        }
        for run_id in run_ids:
            if run_id not in runs:
                raise RunNotFound("training run", run_id)
            if runs[run_id][1] in UNUSABLE_STATUSES:
                raise ValidationError(
                    f"weights[{run_id!r}]",
                    members[run_id],
                    f"training run {run_id!r} is {runs[run_id][1].value}: it has no usable model",
                )
        evaluation = AgentPerformance
        snapshots = {
            run_id: (sharpe, win_rate)
            for run_id, sharpe, win_rate in self._db.execute(
                select(evaluation.run_id, evaluation.sharpe_ratio, evaluation.win_rate).where(
                    evaluation.run_id.in_(run_ids),
                    evaluation.evaluation_type == kind,
                    latest_of_its_type(evaluation),
                )
            )
        }
        previous = self._db.execute(
            select(func.max(EnsembleWeight.version)).where(EnsembleWeight.ensemble_id == key)
        ).scalar_one()
        version = (previous or 0) + 1
        self._db.execute(
            update(EnsembleWeight)
            .where(EnsembleWeight.ensemble_id == key, EnsembleWeight.is_active.is_(True))
            .values(is_active=False)
            .execution_options(synchronize_session=False)
        )
        self._db.execute(
            insert(EnsembleWeight),
            [
                {
                    "ensemble_id": key,
                    "version": version,
                    "update_time": when,
                    "update_date": when.date(),
                    "run_id": run_id,
                    "algorithm": runs[run_id][0],
                    "weight": members[run_id],
                    "performance_score": scores.get(run_id),
                    "sharpe_ratio": snapshots.get(run_id, (None, None))[0],
                    "win_rate": snapshots.get(run_id, (None, None))[1],
                    "is_active": True,
                    "weighting_method": weighting,
                    "lookback_days": lookback,
                }
                for run_id in run_ids
            ],
        )
        found = self._select(key, active_only=False, version=version)
        return found[0]

    def current(self, ensemble_id: str) -> EnsembleVersion | None:
        """The active version, or None if the ensemble has none (never set, or retired)."""
        key = required_text("ensemble_id", ensemble_id, max_length=ENSEMBLE_ID_LENGTH)
        found = self._select(key, active_only=True)
        return found[0] if found else None

    def history(
        self, ensemble_id: str, *, limit: int | None = None, offset: int = 0
    ) -> Rows[EnsembleVersion]:
        """Every version, newest first (the active one, if any, is the first)."""
        key = required_text("ensemble_id", ensemble_id, max_length=ENSEMBLE_ID_LENGTH)
        first = integer("offset", offset, minimum=0, allow_none=False)
        count = integer("limit", limit, minimum=1)
        assert first is not None
        versions = self._select(key, active_only=False)
        return Rows(EnsembleVersion, versions[first : None if count is None else first + count])

    @atomic
    def retire(self, ensemble_id: str) -> bool:
        """Deactivate the ensemble's active version (kept as history); False if none was active.

        The only way to take an ensemble out of service entirely, and so to delete the runs
        of its last version.
        """
        key = required_text("ensemble_id", ensemble_id, max_length=ENSEMBLE_ID_LENGTH)
        if self._db.dialect_name == "postgresql":
            self._db.execute(
                select(func.pg_advisory_xact_lock(ADVISORY_LOCK_CLASS, func.hashtext(key)))
            )
        result = self._db.execute(
            update(EnsembleWeight)
            .where(EnsembleWeight.ensemble_id == key, EnsembleWeight.is_active.is_(True))
            .values(is_active=False)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    def _select(
        self, ensemble_id: str, *, active_only: bool, version: int | None = None
    ) -> list[EnsembleVersion]:
        statement = (
            select(*_ROW_COLUMNS)
            .join(TrainingRun, TrainingRun.run_id == EnsembleWeight.run_id)
            .where(EnsembleWeight.ensemble_id == ensemble_id)
            .order_by(
                EnsembleWeight.version.desc(),
                EnsembleWeight.weight.desc(),
                EnsembleWeight.run_id,
            )
        )
        if active_only:
            statement = statement.where(EnsembleWeight.is_active.is_(True))
        if version is not None:
            statement = statement.where(EnsembleWeight.version == version)
        return _versions(self._db.execute(statement).all())
