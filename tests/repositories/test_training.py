"""TrainingRepository on both backends: runs, hyperparameters, episodes."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from tradestore import Database
from tradestore.domain.enums import Algorithm, Device, RunStatus
from tradestore.errors import (
    DuplicateRun,
    InvalidTransition,
    NaiveDatetimeError,
    RunInEnsemble,
    RunNotFound,
    ValidationError,
)
from tradestore.models.training import (
    AgentPerformance,
    EnsembleWeight,
    Hyperparameters,
    TrainingEpisode,
    TrainingRun,
)
from tradestore.repositories import training as training_module
from tradestore.repositories.training import (
    RUN_TRANSITIONS,
    Episode,
    TrainingRepository,
    check_run_transition,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def start(db: Database, **kwargs: Any) -> str:
    kwargs.setdefault("algorithm", "PPO")
    kwargs.setdefault("model_name", "ppo_test")
    with db.unit_of_work() as uow:
        return str(uow.training.start_run(**kwargs).run_id)


def episodes(count: int, *, first: int = 0, reward: float | None = None) -> list[dict[str, Any]]:
    return [
        {
            "episode_number": i,
            "episode_reward": float(i) if reward is None else reward,
            "episode_length": 100 + i,
            "episode_time": T0 + dt.timedelta(seconds=i, microseconds=i),
            "mean_loss": 1.0 / (i + 1),
        }
        for i in range(first, first + count)
    ]


def same_float(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


# --- runs ------------------------------------------------------------------------------------


def test_start_run_records_a_running_run(db: Database) -> None:
    before = dt.datetime.now(dt.UTC)
    with db.unit_of_work() as uow:
        run = uow.training.start_run("SAC", "sac_v1")
    assert run.run_id.startswith("run_")
    assert run.algorithm is Algorithm.SAC
    assert run.status is RunStatus.RUNNING
    assert run.device is Device.CPU
    assert run.start_time >= before - dt.timedelta(seconds=1)
    assert run.start_time.tzinfo is not None
    assert run.end_time is None
    assert run.duration_seconds is None
    assert run.convergence_achieved is False
    assert not run.is_finished


def test_start_run_stores_every_field(db: Database) -> None:
    with db.unit_of_work() as uow:
        run = uow.training.start_run(
            "TD3",
            "td3_catalyst",
            run_id="run-explicit",
            total_timesteps=200_000,
            train_start_date=dt.date(2020, 1, 1),
            train_end_date=dt.date(2023, 12, 31),
            val_start_date=dt.date(2024, 1, 1),
            val_end_date=dt.date(2024, 6, 30),
            random_seed=42,
            device="cuda",
            model_path="/models/td3.zip",
            tensorboard_log_dir="/tb/td3",
            start_time=T0,
            metadata={"git": "abc123", "tags": ["nightly"]},
        )
    with db.session(readonly=True) as session:
        stored = TrainingRepository(session).get("run-explicit")
    assert stored == run
    assert stored.total_timesteps == 200_000
    assert stored.train_end_date == dt.date(2023, 12, 31)
    assert stored.random_seed == 42
    assert stored.device is Device.CUDA
    assert stored.start_time == T0
    assert stored.metadata == {"git": "abc123", "tags": ["nightly"]}


def test_a_reused_run_id_is_refused_and_the_first_run_kept(db: Database) -> None:
    start(db, run_id="dup", hyperparameters={"learning_rate": 0.001})
    with pytest.raises(DuplicateRun), db.unit_of_work() as uow:
        uow.training.start_run("SAC", "other", run_id="dup", hyperparameters={"gamma": 0.5})
    with db.session(readonly=True) as session:
        repo = TrainingRepository(session)
        assert repo.get("dup").algorithm is Algorithm.PPO
        params = repo.hyperparameters("dup")
    assert params is not None
    assert params.params == {"learning_rate": 0.001}


BAD_RUN_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"algorithm": "x" * 65}, "algorithm"),  # free text since 0006, at most 64 chars
    ({"model_name": ""}, "model_name"),
    ({"model_name": "x" * 201}, "model_name"),
    ({"start_time": dt.datetime(2024, 1, 1)}, "start_time"),
    ({"total_timesteps": -1}, "total_timesteps"),
    ({"random_seed": -5}, "random_seed"),
    ({"device": "tpu"}, "device"),
    ({"run_id": ""}, "run_id"),
    ({"metadata": {"x": math.nan}}, "metadata"),
    ({"hyperparameters": {"gamma": 1.5}}, "hyperparameters.gamma"),
    ({"hyperparameters": {"learning_rate": 0.0}}, "hyperparameters.learning_rate"),
    ({"hyperparameters": {"batch_size": 0}}, "hyperparameters.batch_size"),
    ({"hyperparameters": {"policy": object()}}, "hyperparameters"),
    (
        {"train_start_date": dt.date(2024, 2, 1), "train_end_date": dt.date(2024, 1, 1)},
        "train_end_date",
    ),
    ({"val_start_date": dt.datetime(2024, 1, 1)}, "val_start_date"),  # naive
]


def test_bad_run_input_writes_nothing(db: Database) -> None:
    for kwargs, field in BAD_RUN_INPUT:
        arguments: dict[str, Any] = {"algorithm": "PPO", "model_name": "m", **kwargs}
        with pytest.raises(ValidationError) as caught, db.unit_of_work() as uow:
            uow.training.start_run(**arguments)
        assert caught.value.field == field, kwargs
    with db.session(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(TrainingRun)) == 0


def test_finish_moves_a_running_run_to_each_terminal_status(db: Database) -> None:
    end = T0 + dt.timedelta(hours=2, seconds=30)
    for status in ("completed", "failed", "stopped", "aborted"):
        run_id = start(db, start_time=T0)
        with db.unit_of_work() as uow:
            run = uow.training.finish(
                run_id,
                status,
                final_reward=812.5,
                best_reward=900.0,
                model_path="/models/final.zip",
                convergence_achieved=True,
                error_message="CUDA OOM" if status == "failed" else None,
                total_timesteps=1_000_000,
                end_time=end,
            )
        assert run.status == RunStatus(status)
        assert run.is_finished
        assert run.end_time == end
        assert run.duration_seconds == 7230.0
        assert (run.final_reward, run.best_reward) == (812.5, 900.0)
        assert run.model_path == "/models/final.zip"
        assert run.convergence_achieved is True
        assert run.total_timesteps == 1_000_000
        assert run.error_message == ("CUDA OOM" if status == "failed" else None)


def test_finish_keeps_nan_and_infinite_rewards(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.finish(run_id, "failed", final_reward=math.nan, best_reward=-math.inf)
    with db.session(readonly=True) as session:
        run = TrainingRepository(session).get(run_id)
    assert run.final_reward is not None
    assert math.isnan(run.final_reward)
    assert run.best_reward == -math.inf


def test_finish_defaults_end_time_to_now(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        run = uow.training.finish(run_id, "completed")
    assert run.end_time is not None
    assert run.duration_seconds is not None
    assert 0 <= run.duration_seconds < 60
    assert run.final_reward is None


def test_nothing_leaves_a_terminal_status(db: Database) -> None:
    for terminal in ("completed", "failed", "stopped", "aborted"):
        run_id = start(db)
        with db.unit_of_work() as uow:
            uow.training.finish(run_id, terminal)
        for target in ("completed", "failed", "stopped", "aborted", "running"):
            with pytest.raises(InvalidTransition) as caught, db.unit_of_work() as uow:
                uow.training.finish(run_id, target)
            assert (caught.value.current, caught.value.requested) == (terminal, target)
        with db.session(readonly=True) as session:
            assert TrainingRepository(session).get(run_id).status == RunStatus(terminal)


def test_finish_to_running_is_refused(db: Database) -> None:
    run_id = start(db)
    with pytest.raises(InvalidTransition), db.unit_of_work() as uow:
        uow.training.finish(run_id, "running")


def test_finish_refuses_an_end_before_the_start(db: Database) -> None:
    run_id = start(db, start_time=T0)
    with pytest.raises(ValidationError) as caught, db.unit_of_work() as uow:
        uow.training.finish(run_id, "completed", end_time=T0 - dt.timedelta(seconds=1))
    assert caught.value.field == "end_time"
    with pytest.raises(NaiveDatetimeError), db.unit_of_work() as uow:
        uow.training.finish(run_id, "completed", end_time=dt.datetime(2024, 1, 2))


def test_the_transition_table() -> None:
    assert RUN_TRANSITIONS[RunStatus.RUNNING] == {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.STOPPED,
        RunStatus.ABORTED,
    }
    for status in RunStatus:
        for target in RunStatus:
            allowed = status is RunStatus.RUNNING and target is not RunStatus.RUNNING
            if allowed:
                check_run_transition("r", status, target)
            else:
                with pytest.raises(InvalidTransition):
                    check_run_transition("r", status, target)


def test_unknown_runs_raise_run_not_found(db: Database) -> None:
    with db.unit_of_work() as uow:
        repo = uow.training
        for call in (
            lambda: repo.get("nope"),
            lambda: repo.finish("nope", "completed"),
            lambda: repo.delete("nope"),
            lambda: repo.hyperparameters("nope"),
            lambda: repo.log_episodes("nope", episodes(1)),
            lambda: repo.episodes("nope"),
            lambda: repo.iter_episodes("nope"),
            lambda: repo.reward_curve("nope"),
            lambda: repo.episode_count("nope"),
            lambda: repo.delete_episodes("nope"),
        ):
            with pytest.raises(RunNotFound):
                call()


def test_list_filters_and_pages_newest_first(db: Database) -> None:
    ids = []
    for i, (algorithm, model) in enumerate(
        [("PPO", "a"), ("SAC", "a"), ("PPO", "b"), ("DQN", "b"), ("PPO", "a")]
    ):
        ids.append(
            start(
                db,
                algorithm=algorithm,
                model_name=model,
                run_id=f"r{i}",
                start_time=T0 + dt.timedelta(days=i),
            )
        )
    with db.unit_of_work() as uow:
        uow.training.finish("r1", "completed", end_time=T0 + dt.timedelta(days=2))
        uow.training.finish("r2", "failed", end_time=T0 + dt.timedelta(days=3))
    with db.session(readonly=True) as session:
        repo = TrainingRepository(session)
        assert [r.run_id for r in repo.list()] == ["r4", "r3", "r2", "r1", "r0"]
        assert [r.run_id for r in repo.list(algorithm="PPO")] == ["r4", "r2", "r0"]
        assert [r.run_id for r in repo.list(status="running")] == ["r4", "r3", "r0"]
        assert [r.run_id for r in repo.list(status=RunStatus.FAILED)] == ["r2"]
        assert [r.run_id for r in repo.list(model_name="b")] == ["r3", "r2"]
        window = {
            "started_after": T0 + dt.timedelta(days=1),
            "started_before": T0 + dt.timedelta(days=3),
        }
        assert [r.run_id for r in repo.list(**window)] == ["r2", "r1"]
        assert [r.run_id for r in repo.list(limit=2)] == ["r4", "r3"]
        assert [r.run_id for r in repo.list(limit=2, offset=2)] == ["r2", "r1"]
        assert [r.run_id for r in repo.list(limit=2, offset=4)] == ["r0"]
        assert repo.count() == 5
        assert repo.count(algorithm="PPO", status="running") == 2
        assert repo.count(**window) == 2
        with pytest.raises(ValidationError):
            repo.list(limit=0)
        with pytest.raises(ValidationError):
            repo.list(status="paused")
        with pytest.raises(NaiveDatetimeError):
            repo.list(started_after=dt.datetime(2024, 1, 1))


def test_delete_removes_the_run_and_everything_of_it(db: Database) -> None:
    keep = start(db, hyperparameters={"gamma": 0.9})
    gone = start(db, hyperparameters={"gamma": 0.99})
    with db.unit_of_work() as uow:
        uow.training.log_episodes(keep, episodes(3))
        uow.training.log_episodes(gone, episodes(5))
        uow.evaluations.record(gone, "validation", sharpe_ratio=1.0)
        uow.evaluations.record(gone, "test", sharpe_ratio=0.5)
        uow.training.finish(gone, "completed")
        uow.training.finish(keep, "completed")
        uow.ensembles.set_weights("e", {gone: 0.5, keep: 0.5})
        uow.ensembles.set_weights("e", {keep: 1.0})  # the version with `gone` is history now
    with db.unit_of_work() as uow:
        deletion = uow.training.delete(gone)
    assert (
        deletion.episodes,
        deletion.evaluations,
        deletion.hyperparameters,
        deletion.ensemble_rows,
    ) == (5, 2, 1, 1)
    with db.session(readonly=True) as session:
        for model in (TrainingEpisode, AgentPerformance, Hyperparameters, EnsembleWeight):
            assert session.scalar(select(func.count()).where(model.run_id == gone)) == 0  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).where(TrainingRun.run_id == gone)) == 0
        assert TrainingRepository(session).episode_count(keep) == 3


def test_delete_is_refused_while_the_run_is_in_an_active_ensemble(db: Database) -> None:
    run_id = start(db)
    other = start(db)
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(2))
        uow.ensembles.set_weights("prod", {run_id: 0.25, other: 0.75})
    with pytest.raises(RunInEnsemble, match="prod"), db.unit_of_work() as uow:
        uow.training.delete(run_id)
    with db.session(readonly=True) as session:
        assert TrainingRepository(session).episode_count(run_id) == 2
    with db.unit_of_work() as uow:
        uow.ensembles.retire("prod")
    with db.unit_of_work() as uow:
        assert uow.training.delete(run_id).episodes == 2


# --- hyperparameters ------------------------------------------------------------------------

SB3_PPO = {
    "learning_rate": 3e-4,
    "n_steps": 2048,
    "batch_size": 64,
    "n_epochs": 10,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
    "policy_type": "MlpPolicy",
    "net_arch": {"pi": [64, 64], "vf": [128, 128]},
    "activation_fn": "tanh",
    "reward_function": "sharpe",
    "reward_scaling": 1e-4,
    "transaction_cost_pct": 0.001,
    "slippage_pct": 0.0005,
    "schedule": {"type": "linear", "points": [[0, 1.0], [1, 0.1]]},
}


def test_hyperparameters_fill_the_typed_columns_and_keep_the_whole_dict(db: Database) -> None:
    run_id = start(db, algorithm="PPO", hyperparameters=SB3_PPO)
    with db.session(readonly=True) as session:
        params = TrainingRepository(session).hyperparameters(run_id)
    assert params is not None
    assert params.algorithm is Algorithm.PPO
    assert (params.learning_rate, params.n_steps, params.batch_size, params.gamma) == (
        3e-4,
        2048,
        64,
        0.99,
    )
    assert (params.n_epochs, params.ent_coef, params.vf_coef, params.max_grad_norm) == (
        10,
        0.0,
        0.5,
        0.5,
    )
    assert params.policy_type == "MlpPolicy"
    assert params.activation_fn == "tanh"
    assert params.net_arch == {"pi": [64, 64], "vf": [128, 128]}
    assert (params.reward_function, params.reward_scaling) == ("sharpe", 1e-4)
    assert (params.transaction_cost_pct, params.slippage_pct) == (0.001, 0.0005)
    assert params.buffer_size is None
    assert params.tau is None
    assert params.params == SB3_PPO


def test_values_of_another_type_stay_in_params_json_only(db: Database) -> None:
    params = {
        "ent_coef": "auto",
        "learning_rate": "lin_3e-4",
        "buffer_size": 1_000_000,
        "tau": 0.005,
        "batch_size": 256.0,
        "policy_kwargs": {"net_arch": [400, 300], "activation_fn": "relu"},
    }
    run_id = start(db, algorithm="SAC", hyperparameters=params)
    with db.session(readonly=True) as session:
        stored = TrainingRepository(session).hyperparameters(run_id)
    assert stored is not None
    assert (stored.ent_coef, stored.learning_rate, stored.batch_size) == (None, None, None)
    assert (stored.buffer_size, stored.tau) == (1_000_000, 0.005)
    assert stored.net_arch == [400, 300]  # Stable-Baselines3 nests it in policy_kwargs
    assert stored.activation_fn == "relu"
    assert stored.params == params


def test_a_run_started_without_hyperparameters_has_none(db: Database) -> None:
    run_id = start(db)
    with db.session(readonly=True) as session:
        assert TrainingRepository(session).hyperparameters(run_id) is None


# --- episodes -------------------------------------------------------------------------------


def read_all(db: Database, run_id: str, **kwargs: Any) -> list[Episode]:
    with db.session(readonly=True) as session:
        return TrainingRepository(session).episodes(run_id, **kwargs)


def test_log_episodes_writes_and_returns_the_new_count(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, episodes(50)) == 50
    stored = read_all(db, run_id)
    assert [e.episode_number for e in stored] == list(range(50))
    first = stored[7]
    assert first == Episode(
        episode_number=7,
        episode_reward=7.0,
        episode_length=107,
        episode_time=T0 + dt.timedelta(seconds=7, microseconds=7),
        mean_loss=1.0 / 8,
    )
    assert first.episode_time is not None
    assert first.episode_time.tzinfo is not None


def test_relogging_episodes_changes_nothing(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(10))
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, episodes(10, reward=-1.0)) == 0
        assert uow.training.log_episodes(run_id, episodes(10, first=5, reward=-1.0)) == 5
    stored = read_all(db, run_id)
    assert len(stored) == 15
    assert [e.episode_reward for e in stored[:10]] == [float(i) for i in range(10)]
    assert [e.episode_reward for e in stored[10:]] == [-1.0] * 5


def test_two_batches_in_one_transaction_are_both_written(db: Database) -> None:
    # On PostgreSQL both go through the connection's staging table.
    first, second = start(db), start(db)
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(first, episodes(20)) == 20
        assert uow.training.log_episodes(second, episodes(30, first=100)) == 30
        assert uow.training.log_episodes(first, episodes(20)) == 0
    assert len(read_all(db, first)) == 20
    assert [e.episode_number for e in read_all(db, second)] == list(range(100, 130))


def test_episode_objects_named_tuples_and_sparse_rows(db: Database) -> None:
    run_id = start(db)
    rows: list[Any] = [
        Episode(0, 1.0),
        Episode(1, None, 5, T0, mean_loss=0.5),
        {"episode_number": 2, "exploration_rate": 0.1},
        Episode(3, math.nan, None, T0.astimezone(dt.timezone(dt.timedelta(hours=9)))),
    ]
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, rows) == 4
    stored = read_all(db, run_id)
    assert stored[0] == Episode(0, 1.0)
    assert stored[1] == Episode(1, None, 5, T0, mean_loss=0.5)
    assert stored[2] == Episode(2, exploration_rate=0.1)
    assert stored[3].episode_reward is not None
    assert math.isnan(stored[3].episode_reward)
    assert stored[3].episode_time == T0
    assert stored[3].episode_time.tzinfo is not None


def test_a_generator_larger_than_a_chunk(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training_module, "EPISODE_CHUNK", 7)
    run_id = start(db)
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, (e for e in episodes(30))) == 30
        assert uow.training.log_episodes(run_id, iter(episodes(30))) == 0
    assert [e.episode_number for e in read_all(db, run_id)] == list(range(30))


def test_a_bad_episode_in_a_later_chunk_writes_nothing_of_the_call(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training_module, "EPISODE_CHUNK", 7)
    run_id = start(db)
    rows = episodes(30)
    rows[25]["episode_length"] = -1
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(2, first=100))
        with pytest.raises(ValidationError) as caught:
            uow.training.log_episodes(run_id, rows)
        # the caller caught it: the unit of work goes on and commits what it did before
    assert caught.value.field == "episodes[25].episode_length"
    assert [e.episode_number for e in read_all(db, run_id)] == [100, 101]


def test_a_bad_episode_in_a_single_chunk_writes_nothing(db: Database) -> None:
    run_id = start(db)
    rows = episodes(5)
    rows[3]["episode_reward"] = "high"
    with pytest.raises(ValidationError), db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, rows)
    assert read_all(db, run_id) == []


def test_logging_nothing(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, []) == 0


def test_episodes_can_be_logged_after_the_run_finished(db: Database) -> None:
    # An asynchronous logger may flush its last batch after finish().
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.finish(run_id, "completed")
        assert uow.training.log_episodes(run_id, episodes(3)) == 3


nonfinite_or_number = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e308, -1e-308, 5e-324]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rewards=st.lists(nonfinite_or_number, min_size=1, max_size=40),
    losses=st.lists(nonfinite_or_number, min_size=1, max_size=40),
    as_objects=st.booleans(),
)
def test_nan_and_infinities_round_trip(
    db: Database, rewards: list[float | None], losses: list[float | None], as_objects: bool
) -> None:
    run_id = start(db)
    count = min(len(rewards), len(losses))
    rows: list[Any] = [
        Episode(i, rewards[i], mean_loss=losses[i])
        if as_objects
        else {"episode_number": i, "episode_reward": rewards[i], "mean_loss": losses[i]}
        for i in range(count)
    ]
    with db.unit_of_work() as uow:
        assert uow.training.log_episodes(run_id, rows) == count
    stored = read_all(db, run_id)
    assert len(stored) == count
    for i, episode in enumerate(stored):
        assert same_float(episode.episode_reward, rewards[i]), (i, episode, rewards[i])
        assert same_float(episode.mean_loss, losses[i]), (i, episode, losses[i])
    with db.session(readonly=True) as session:
        curve = TrainingRepository(session).reward_curve(run_id, window=1)
    assert all(same_float(a, b) for a, b in zip(curve.rewards, rewards[:count], strict=True))


def test_episodes_every_start_stop_and_limit(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(100))
    numbers = [e.episode_number for e in read_all(db, run_id, every=10)]
    assert numbers == list(range(0, 100, 10))
    numbers = [e.episode_number for e in read_all(db, run_id, start=15, stop=40, every=5)]
    assert numbers == [15, 20, 25, 30, 35]
    assert [e.episode_number for e in read_all(db, run_id, start=90, limit=3)] == [90, 91, 92]
    with pytest.raises(ValidationError):
        read_all(db, run_id, every=0)
    with pytest.raises(ValidationError):
        read_all(db, run_id, start=-1)


def test_iter_episodes_streams_in_order(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(95))
        uow.training.log_episodes(run_id, episodes(3, first=1000))
    with db.session(readonly=True) as session:
        repo = TrainingRepository(session)
        streamed = list(repo.iter_episodes(run_id, batch_size=10))
        assert [e.episode_number for e in streamed] == [*range(95), 1000, 1001, 1002]
        assert streamed == repo.episodes(run_id)
        evens = [
            e.episode_number for e in repo.iter_episodes(run_id, every=2, start=90, batch_size=2)
        ]
        assert evens == [90, 92, 94, 1000, 1002]
        lazy: Iterator[Episode] = repo.iter_episodes(run_id, batch_size=5)
        assert next(lazy).episode_number == 0
        with pytest.raises(ValidationError):
            repo.iter_episodes(run_id, batch_size=0)


def test_reward_curve(db: Database) -> None:
    run_id = start(db)
    rewards = [1.0, 3.0, 5.0, math.nan, 7.0, math.inf, 2.0, 4.0, -math.inf, 6.0]
    with db.unit_of_work() as uow:
        uow.training.log_episodes(
            run_id,
            [{"episode_number": 10 * i, "episode_reward": r} for i, r in enumerate(rewards)],
        )
    with db.session(readonly=True) as session:
        repo = TrainingRepository(session)
        curve = repo.reward_curve(run_id, window=3)
        sampled = repo.reward_curve(run_id, window=3, every=20)
        tail = repo.reward_curve(run_id, window=3, start=60, stop=90)
    assert curve.window == 3
    assert len(curve) == 10
    assert curve.episode_numbers == tuple(range(0, 100, 10))
    expected = [1.0, 2.0, 3.0, 4.0, 6.0, math.inf, math.inf, math.inf, -math.inf, -math.inf]
    assert all(same_float(a, b) for a, b in zip(curve.moving_average, expected, strict=True))
    assert all(same_float(a, b) for a, b in zip(curve.rewards, rewards, strict=True))
    assert sampled.episode_numbers == (0, 20, 40, 60, 80)
    assert all(same_float(a, b) for a, b in zip(sampled.moving_average, expected[::2], strict=True))
    # The window reaches back before `start`.
    assert tail.episode_numbers == (60, 70, 80)
    assert all(same_float(a, b) for a, b in zip(tail.moving_average, expected[6:9], strict=True))
    points = list(curve)
    assert points[1].episode_number == 10
    assert points[1].moving_average == 2.0


def test_reward_curve_of_a_run_without_episodes(db: Database) -> None:
    run_id = start(db)
    with db.session(readonly=True) as session:
        curve = TrainingRepository(session).reward_curve(run_id)
    assert len(curve) == 0
    assert list(curve) == []


def test_episode_count_and_delete_episodes(db: Database) -> None:
    run_id = start(db)
    with db.unit_of_work() as uow:
        uow.training.log_episodes(run_id, episodes(40))
    with db.unit_of_work() as uow:
        assert uow.training.episode_count(run_id) == 40
        assert uow.training.delete_episodes(run_id, from_episode=30) == 10
        assert uow.training.log_episodes(run_id, episodes(15, first=25, reward=0.0)) == 10
        assert uow.training.episode_count(run_id) == 40
    stored = read_all(db, run_id)
    assert [e.episode_reward for e in stored[28:32]] == [28.0, 29.0, 0.0, 0.0]
    with db.unit_of_work() as uow:
        assert uow.training.delete_episodes(run_id) == 40


# --- two writer processes (SQLite) ------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from tradestore import Database

    url, run_id, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    db = Database(url)
    db.ensure_schema()
    (go.parent / run_id).touch()  # ready: imported and connected
    while not go.exists():
        time.sleep(0.005)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for batch in range(40):
        rows = [
            {"episode_number": batch * 250 + i, "episode_reward": float(i),
             "episode_time": t0 + dt.timedelta(seconds=batch * 250 + i)}
            for i in range(250)
        ]
        with db.unit_of_work() as uow:
            uow.training.log_episodes(run_id, rows)
    print("done")
    """
)


@pytest.mark.reliability
def test_two_processes_logging_different_runs_both_succeed(
    db: Database, db_url: str, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("concurrent writers are the SQLite concern (PostgreSQL has row locks)")
    first, second = start(db, run_id="proc-a"), start(db, run_id="proc-b")
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, run_id, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for run_id in (first, second)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / run_id).exists() for run_id in (first, second)):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(worker.poll() is None for worker in workers), "a worker died"
        time.sleep(0.01)
    go.touch()  # both start writing at once
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert "locked" not in err
        assert out.strip() == "done"
    with db.session(readonly=True) as session:
        repo = TrainingRepository(session)
        assert repo.episode_count(first) == 10_000
        assert repo.episode_count(second) == 10_000
        assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
