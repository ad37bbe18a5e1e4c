"""EnsembleRepository on both backends: versions, history, invariants, concurrent writers."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tradestore import Database
from tradestore.domain.enums import Algorithm, WeightingMethod
from tradestore.errors import RunInEnsemble, RunNotFound, TradestoreError, ValidationError
from tradestore.models.training import EnsembleWeight
from tradestore.repositories.ensembles import (
    WEIGHT_TOLERANCE,
    EnsembleRepository,
    EnsembleVersion,
    checked_weights,
)

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def runs(db: Database, count: int, *, algorithm: str = "PPO") -> list[str]:
    ids = [f"run-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with db.unit_of_work() as uow:
        for i, run_id in enumerate(ids):
            uow.training.start_run(algorithm, f"model-{i}", run_id=run_id)
            uow.training.finish(run_id, "completed")
    return ids


def active_versions(db: Database, ensemble_id: str) -> set[int]:
    with db.session(readonly=True) as session:
        return set(
            session.scalars(
                select(EnsembleWeight.version).where(
                    EnsembleWeight.ensemble_id == ensemble_id, EnsembleWeight.is_active.is_(True)
                )
            )
        )


def assert_invariants(db: Database, ensemble_id: str) -> EnsembleVersion | None:
    assert len(active_versions(db, ensemble_id)) <= 1
    with db.session(readonly=True) as session:
        repo = EnsembleRepository(session)
        current = repo.current(ensemble_id)
        history = repo.history(ensemble_id)
    if current is not None:
        weights = [m.weight for m in current.members]
        assert all(0.0 <= w <= 1.0 for w in weights)
        assert abs(math.fsum(weights) - 1.0) <= WEIGHT_TOLERANCE
        assert history[0] == current
    versions = [v.version for v in history]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)
    assert all(not v.is_active for v in history[1:])
    return current


# --- the pure part ------------------------------------------------------------------------------


def test_checked_weights() -> None:
    assert checked_weights({"a": 0.25, "b": 0.75}, normalize=False) == {"a": 0.25, "b": 0.75}
    assert checked_weights({"a": 1, "b": 3}, normalize=True) == {"a": 0.25, "b": 0.75}
    assert checked_weights({"a": 0.1, "b": 0.2, "c": 0.7}, normalize=False)  # 0.99999...
    assert checked_weights({"a": 1e308, "b": 1e308}, normalize=True) == {"a": 0.5, "b": 0.5}


@pytest.mark.parametrize(
    ("weights", "normalize"),
    [
        ({}, False),
        ({"a": 0.5, "b": 0.4}, False),
        ({"a": 1.5, "b": -0.5}, False),
        ({"a": 1.2}, False),
        ({"a": math.nan}, True),
        ({"a": math.inf}, True),
        ({"a": -1.0, "b": 2.0}, True),
        ({"a": 0.0, "b": 0.0}, True),
        ({"a": True}, False),
        ({"": 1.0}, False),
        ([("a", 1.0)], False),
    ],
)
def test_checked_weights_refuses(weights: Any, normalize: bool) -> None:
    with pytest.raises(ValidationError):
        checked_weights(weights, normalize=normalize)


# --- versions ---------------------------------------------------------------------------------


def test_set_weights_writes_an_active_version(db: Database) -> None:
    a, b = runs(db, 2)
    with db.unit_of_work() as uow:
        uow.evaluations.record(a, "validation", sharpe_ratio=1.8, win_rate=0.6)
        uow.evaluations.record(a, "test", sharpe_ratio=-5.0)
        version = uow.ensembles.set_weights(
            "production",
            {a: 0.7, b: 0.3},
            method="sharpe_weighted",
            lookback_days=30,
            performance_scores={a: 12.5},
            update_time=T0,
        )
    assert version.ensemble_id == "production"
    assert version.version == 1
    assert version.is_active
    assert version.update_time == T0
    assert version.update_date == T0.date()
    assert version.weighting_method is WeightingMethod.SHARPE_WEIGHTED
    assert version.lookback_days == 30
    assert version.weights == {a: 0.7, b: 0.3}
    first, second = version.members
    assert (first.run_id, first.algorithm, first.model_name) == (a, Algorithm.PPO, "model-0")
    assert (first.performance_score, first.sharpe_ratio, first.win_rate) == (12.5, 1.8, 0.6)
    assert (second.run_id, second.performance_score, second.sharpe_ratio) == (b, None, None)
    with db.session(readonly=True) as session:
        assert EnsembleRepository(session).current("production") == version


def test_a_new_version_deactivates_the_previous_one_which_stays_as_history(db: Database) -> None:
    a, b, c = runs(db, 3)
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights("e", {a: 1.0})
        uow.ensembles.set_weights("e", {a: 0.5, b: 0.5}, method="equal")
    with db.unit_of_work() as uow:
        latest = uow.ensembles.set_weights("e", {b: 2, c: 6}, normalize=True)
    assert latest.version == 3
    assert latest.weights == {c: 0.75, b: 0.25}
    with db.session(readonly=True) as session:
        repo = EnsembleRepository(session)
        history = repo.history("e")
        assert [v.version for v in history] == [3, 2, 1]
        assert [v.is_active for v in history] == [True, False, False]
        assert history[1].weights == {a: 0.5, b: 0.5}
        assert history[2].weights == {a: 1.0}
        assert [v.version for v in repo.history("e", limit=2)] == [3, 2]
        assert repo.current("e") == history[0]
        assert repo.current("other") is None
        assert repo.history("other") == []
    assert active_versions(db, "e") == {3}


def test_ensembles_are_independent(db: Database) -> None:
    a, b = runs(db, 2)
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights("x", {a: 1.0})
        uow.ensembles.set_weights("y", {b: 1.0})
        uow.ensembles.set_weights("x", {b: 1.0})
    with db.session(readonly=True) as session:
        repo = EnsembleRepository(session)
        current_x, current_y = repo.current("x"), repo.current("y")
    assert current_x is not None
    assert current_y is not None
    assert (current_x.version, current_x.weights) == (2, {b: 1.0})
    assert (current_y.version, current_y.weights) == (1, {b: 1.0})


def test_retire_leaves_no_active_version(db: Database) -> None:
    (a,) = runs(db, 1)
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights("e", {a: 1.0})
        assert uow.ensembles.retire("e") is True
        assert uow.ensembles.retire("e") is False
        assert uow.ensembles.current("e") is None
        assert [v.is_active for v in uow.ensembles.history("e")] == [False]
        # A retired ensemble can be set again.
        assert uow.ensembles.set_weights("e", {a: 1.0}).version == 2


BAD_INPUT: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"weights": {"missing": 1.0}}, RunNotFound),
    ({"weights": {"A": 0.6, "B": 0.6}}, ValidationError),
    ({"method": "kelly"}, ValidationError),
    ({"lookback_days": 0}, ValidationError),
    ({"performance_scores": {"other": 1.0}}, ValidationError),
    ({"performance_scores": {"A": math.nan}}, ValidationError),
    ({"update_time": dt.datetime(2024, 1, 1)}, ValidationError),
    ({"ensemble_id": ""}, ValidationError),
    ({"ensemble_id": "e" * 101}, ValidationError),
]


def test_bad_input_writes_nothing(db: Database) -> None:
    a, b = runs(db, 2)
    with db.unit_of_work() as uow:
        uow.ensembles.set_weights("e", {a: 1.0})
    names = {"A": a, "B": b}
    for kwargs, error in BAD_INPUT:
        arguments: dict[str, Any] = {"ensemble_id": "e", "weights": {a: 0.5, b: 0.5}, **kwargs}
        arguments["weights"] = {names.get(k, k): v for k, v in arguments["weights"].items()}
        if "performance_scores" in arguments:
            arguments["performance_scores"] = {
                names.get(k, k): v for k, v in arguments["performance_scores"].items()
            }
        with pytest.raises(error), db.unit_of_work() as uow:
            uow.ensembles.set_weights(**arguments)
    with db.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(EnsembleWeight)) == 1
        current = EnsembleRepository(session).current("e")
    assert current is not None
    assert current.weights == {a: 1.0}


def test_failed_and_aborted_runs_cannot_be_members(db: Database) -> None:
    (good,) = runs(db, 1)
    with db.unit_of_work() as uow:
        failed = uow.training.start_run("SAC", "broken").run_id
        uow.training.finish(failed, "failed")
    with pytest.raises(ValidationError, match="failed"), db.unit_of_work() as uow:
        uow.ensembles.set_weights("e", {good: 0.5, failed: 0.5})


# --- invariants under arbitrary sequences ------------------------------------------------------

weight_maps = st.dictionaries(
    st.integers(min_value=0, max_value=4),
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=5,
)
steps = st.lists(
    st.tuples(weight_maps, st.booleans(), st.sampled_from(["e1", "e2"])), min_size=1, max_size=6
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_invariants_hold_after_any_sequence_of_set_weights(
    db: Database, steps: list[tuple[dict[int, float], bool, str]]
) -> None:
    members = runs(db, 5)
    prefix = uuid.uuid4().hex[:8]
    expected_versions: dict[str, int] = {}
    for raw, normalize, name in steps:
        ensemble_id = f"{prefix}-{name}"
        weights = {members[k]: v for k, v in raw.items()}
        before = assert_invariants(db, ensemble_id)
        try:
            with db.unit_of_work() as uow:
                written = uow.ensembles.set_weights(ensemble_id, weights, normalize=normalize)
        except ValidationError:
            # Refused: nothing changed.
            assert assert_invariants(db, ensemble_id) == before
            total = math.fsum(weights.values())
            assert (normalize and total == 0) or (
                not normalize
                and (abs(total - 1.0) > WEIGHT_TOLERANCE or any(v > 1 for v in weights.values()))
            )
            continue
        expected_versions[ensemble_id] = expected_versions.get(ensemble_id, 0) + 1
        current = assert_invariants(db, ensemble_id)
        assert current == written
        assert written.version == expected_versions[ensemble_id]
        assert set(written.weights) == set(weights)
        if normalize:
            total = math.fsum(weights.values())
            for run_id, weight in weights.items():
                assert math.isclose(written.weights[run_id], weight / total, abs_tol=1e-12)
        else:
            assert written.weights == weights


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.reliability
def test_concurrent_set_weights_never_leave_two_active_versions(db: Database) -> None:
    members = runs(db, 4)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(offset: int) -> None:
        try:
            barrier.wait()
            for i in range(8):
                chosen = [members[(offset + i + k) % 4] for k in range(2)]
                with db.unit_of_work() as uow:
                    uow.ensembles.set_weights("shared", {chosen[0]: 0.4, chosen[1]: 0.6})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert active_versions(db, "shared") == {32}
    with db.session(readonly=True) as session:
        history = EnsembleRepository(session).history("shared")
    assert [v.version for v in history] == list(range(32, 0, -1))
    assert_invariants(db, "shared")


@pytest.mark.reliability
def test_delete_waits_for_a_concurrent_set_weights_then_refuses(db: Database) -> None:
    (member,) = runs(db, 1)
    weights_written = threading.Event()
    release = threading.Event()
    outcome: list[BaseException | str] = []

    def set_weights() -> None:
        with db.unit_of_work() as uow:
            uow.ensembles.set_weights("e", {member: 1.0})
            weights_written.set()
            release.wait(30)

    def delete() -> None:
        try:
            with db.unit_of_work() as uow:
                uow.training.delete(member)
            outcome.append("deleted")
        except TradestoreError as exc:
            outcome.append(exc)

    writer = threading.Thread(target=set_weights)
    writer.start()
    assert weights_written.wait(30)
    deleter = threading.Thread(target=delete)
    deleter.start()
    time.sleep(0.2)  # let the delete reach its lock; it must not finish before the commit
    release.set()
    writer.join(30)
    deleter.join(30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], RunInEnsemble)
    with db.session(readonly=True) as session:
        current = EnsembleRepository(session).current("e")
    assert current is not None
    assert current.weights == {member: 1.0}
