"""Training runs, their hyperparameters and their episodes (the training domain).

A run moves through an explicit state machine: it starts ``running`` and ``finish`` moves it,
once, to ``completed``, ``failed``, ``stopped`` or ``aborted``; nothing leaves those states.
Hyperparameters are stored once, with the run. Episodes are written in bulk
(see ``episode_batch``) and read back as rows, as a stream, or as a reward curve.

Rewards, losses and run rewards may be NaN or infinite (a diverging run); they are stored and
returned as given. Where they are combined (the reward curve's moving average) the rule of
``tradestore.domain.floats`` applies: NaN is skipped, ±inf follow IEEE arithmetic.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Row,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from tradestore.analytics.training import HyperparameterScore, best_hyperparameters
from tradestore.db.dialects import upsert_insert
from tradestore.db.executor import Executor
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain.enums import Algorithm, Device, EvaluationType, RunStatus
from tradestore.domain.floats import moving_average
from tradestore.domain.validation import algorithm as valid_algorithm
from tradestore.domain.validation import (
    choice,
    day,
    flag,
    instant,
    integer,
    json_document,
    number,
    optional_text,
    plain,
    required_text,
    rows,
)
from tradestore.domain.validation import text as validated_text
from tradestore.errors import (
    DuplicateRun,
    InvalidTransition,
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
    run_filters,
)
from tradestore.repositories import episode_batch
from tradestore.repositories.episode_batch import EPISODE_FIELDS

#: The status machine: where each status may go. Terminal statuses go nowhere.
RUN_TRANSITIONS: Final[Mapping[RunStatus, frozenset[RunStatus]]] = {
    RunStatus.RUNNING: frozenset(
        {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.STOPPED, RunStatus.ABORTED}
    ),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.STOPPED: frozenset(),
    RunStatus.ABORTED: frozenset(),
}
TERMINAL_RUN_STATUSES: Final = frozenset(s for s, nxt in RUN_TRANSITIONS.items() if not nxt)

INT32_MAX: Final = 2**31 - 1
INT64_MAX: Final = 2**63 - 1
#: Rows per validated chunk in ``log_episodes``: bounds memory for a generator of millions.
EPISODE_CHUNK: Final = 20_000
#: Rows per query in ``iter_episodes``.
DEFAULT_BATCH: Final = 10_000
#: Rows per query of the reward curve on SQLite (see ``_pages``).
_CURVE_PAGE: Final = 20_000
_FLOAT_INDEXES: Final = tuple(
    i for i, kind in enumerate(EPISODE_FIELDS.values()) if kind == episode_batch.FLOAT
)
_TIME_INDEX: Final = tuple(EPISODE_FIELDS).index("episode_time")
_from_iso = dt.datetime.fromisoformat


def check_run_transition(run_id: str, current: RunStatus, requested: RunStatus) -> None:
    """Raise ``InvalidTransition`` unless the state machine allows ``current -> requested``."""
    if requested not in RUN_TRANSITIONS[current]:
        raise InvalidTransition("training run", run_id, current.value, requested.value)


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """A training run as stored."""

    run_id: str
    algorithm: Algorithm | str
    model_name: str
    status: RunStatus
    start_time: dt.datetime
    end_time: dt.datetime | None
    duration_seconds: float | None
    total_timesteps: int | None
    train_start_date: dt.date | None
    train_end_date: dt.date | None
    val_start_date: dt.date | None
    val_end_date: dt.date | None
    final_reward: float | None
    best_reward: float | None
    convergence_achieved: bool
    model_path: str | None
    tensorboard_log_dir: str | None
    random_seed: int | None
    device: Device
    error_message: str | None
    metadata: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES


@dataclass(frozen=True, slots=True)
class HyperparameterSet:
    """A run's hyperparameters: the typed columns and the complete dict."""

    run_id: str
    algorithm: Algorithm | str
    learning_rate: float | None
    batch_size: int | None
    n_steps: int | None
    gamma: float | None
    policy_type: str | None
    net_arch: Any
    activation_fn: str | None
    n_epochs: int | None
    buffer_size: int | None
    tau: float | None
    ent_coef: float | None
    vf_coef: float | None
    max_grad_norm: float | None
    reward_function: str | None
    reward_scaling: float | None
    transaction_cost_pct: float | None
    slippage_pct: float | None
    params: dict[str, Any]


class Episode(NamedTuple):
    """One training episode. Also accepted by ``log_episodes`` (only episode_number is required).

    A NamedTuple rather than a frozen dataclass: as immutable and as typed, and four times
    cheaper to build, which matters when a run is read back a million episodes at a time.
    """

    episode_number: int
    episode_reward: float | None = None
    episode_length: int | None = None
    episode_time: dt.datetime | None = None
    mean_action: float | None = None
    std_action: float | None = None
    mean_value: float | None = None
    mean_loss: float | None = None
    learning_rate: float | None = None
    exploration_rate: float | None = None


class RewardPoint(NamedTuple):
    """A point of the reward curve: the episode's reward and the trailing moving average."""

    episode_number: int
    reward: float | None
    moving_average: float | None


@dataclass(frozen=True, slots=True)
class RewardCurve:
    """A run's reward curve, column by column, as a plot wants it.

    ``plt.plot(curve.episode_numbers, curve.moving_average)``; iterating gives RewardPoints.
    """

    run_id: str
    window: int
    episode_numbers: tuple[int, ...]
    rewards: tuple[float | None, ...]
    moving_average: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.episode_numbers)

    def __iter__(self) -> Iterator[RewardPoint]:
        return map(RewardPoint, self.episode_numbers, self.rewards, self.moving_average)


@dataclass(frozen=True, slots=True)
class RunDeletion:
    """What ``delete`` removed with the run."""

    run_id: str
    episodes: int
    evaluations: int
    hyperparameters: int
    ensemble_rows: int


# --- hyperparameters: dict -> typed columns ----------------------------------------------------

#: (minimum, minimum is exclusive, maximum) for float hyperparameter columns.
_HP_FLOATS: Final[dict[str, tuple[float | None, bool, float | None]]] = {
    "learning_rate": (0.0, True, None),
    "gamma": (0.0, False, 1.0),
    "tau": (None, False, None),
    "ent_coef": (None, False, None),
    "vf_coef": (None, False, None),
    "max_grad_norm": (None, False, None),
    "reward_scaling": (None, False, None),
    "transaction_cost_pct": (None, False, None),
    "slippage_pct": (None, False, None),
}
_HP_INTS: Final[dict[str, int]] = {
    "batch_size": INT32_MAX,
    "n_steps": INT32_MAX,
    "n_epochs": INT32_MAX,
    "buffer_size": INT64_MAX,
}
_HP_TEXTS: Final[dict[str, int]] = {"policy_type": 100, "activation_fn": 50, "reward_function": 100}
#: Keys Stable-Baselines3 nests under ``policy_kwargs``; read from there if not at the top.
_POLICY_KWARGS_KEYS: Final = ("net_arch", "activation_fn")
HYPERPARAMETER_COLUMNS: Final = (*_HP_FLOATS, *_HP_INTS, *_HP_TEXTS, "net_arch")


def typed_hyperparameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The typed columns, from the keys of ``params`` whose values have the column's type.

    A value of another type (``ent_coef="auto"``, a learning-rate schedule's name) is kept only
    in params_json; a value of the right type out of range (``gamma=1.5``) is refused.
    """
    # numpy scalars (what an RL library's config often holds) count as the numbers they are.
    source: dict[str, Any] = {key: plain(value) for key, value in params.items()}
    policy_kwargs = params.get("policy_kwargs")
    if isinstance(policy_kwargs, Mapping):
        for key in _POLICY_KWARGS_KEYS:
            if key not in source and key in policy_kwargs:
                source[key] = plain(policy_kwargs[key])
    typed: dict[str, Any] = {}
    for key, (low, exclusive, high) in _HP_FLOATS.items():
        value = source.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        field = f"hyperparameters.{key}"
        result = number(field, value, minimum=low, maximum=high)
        if exclusive and result is not None and low is not None and result <= low:
            raise ValidationError(field, value, f"must be greater than {low}")
        typed[key] = result
    for key, high_int in _HP_INTS.items():
        value = source.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        typed[key] = integer(f"hyperparameters.{key}", value, minimum=1, maximum=high_int)
    for key, length in _HP_TEXTS.items():
        value = source.get(key)
        if isinstance(value, str):
            typed[key] = optional_text(f"hyperparameters.{key}", value, max_length=length)
    if source.get("net_arch") is not None:
        typed["net_arch"] = source["net_arch"]
    return typed


# --- the repository ----------------------------------------------------------------------------

_RUN_COLUMNS: Final = tuple(TrainingRun.__table__.columns)
_EPISODE_COLUMNS: Final = tuple(getattr(TrainingEpisode, name) for name in EPISODE_FIELDS)
_HP_RECORD_FIELDS: Final = tuple(
    name for name in HyperparameterSet.__dataclass_fields__ if name not in ("params",)
)


def _run_from_row(row: Row[Any]) -> Run:
    values = row._mapping
    return Run(
        **{
            name: values[name]
            for name in Run.__dataclass_fields__
            if name not in ("convergence_achieved", "metadata")
        },
        convergence_achieved=bool(values["convergence_achieved"]),
        metadata=values["metadata"],
    )


@error_net
class TrainingRepository:
    """Training runs, hyperparameters and episodes. Validates, then writes; never commits."""

    def __init__(self, db: Executor | Session | Connection) -> None:
        self._db = Executor.of(db)

    # --- runs --------------------------------------------------------------------------

    @atomic
    def start_run(
        self,
        algorithm: Algorithm | str,
        model_name: str,
        *,
        run_id: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        total_timesteps: int | None = None,
        train_start_date: dt.date | None = None,
        train_end_date: dt.date | None = None,
        val_start_date: dt.date | None = None,
        val_end_date: dt.date | None = None,
        random_seed: int | None = None,
        device: Device | str = Device.CPU,
        model_path: str | None = None,
        tensorboard_log_dir: str | None = None,
        start_time: dt.datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Run:
        """Record a new run in status ``running`` (and its hyperparameters, if given).

        ``run_id`` defaults to ``run_<32 hex digits>``; reusing an existing one raises
        ``DuplicateRun`` and writes nothing.
        """
        algo = valid_algorithm("algorithm", algorithm)
        now = self._db.now()
        values: dict[str, Any] = {
            "run_id": required_text("run_id", run_id) if run_id is not None else _new_run_id(),
            "algorithm": algo,
            "model_name": required_text("model_name", model_name, max_length=200),
            "start_time": instant("start_time", now if start_time is None else start_time),
            "total_timesteps": integer("total_timesteps", total_timesteps, minimum=0),
            "train_start_date": day("train_start_date", train_start_date),
            "train_end_date": day("train_end_date", train_end_date),
            "val_start_date": day("val_start_date", val_start_date),
            "val_end_date": day("val_end_date", val_end_date),
            "random_seed": integer("random_seed", random_seed, minimum=0),
            "device": choice("device", device, Device),
            "model_path": optional_text("model_path", model_path, max_length=4096),
            "tensorboard_log_dir": optional_text(
                "tensorboard_log_dir", tensorboard_log_dir, max_length=4096
            ),
            "metadata": json_document("metadata", metadata),
            "status": RunStatus.RUNNING,
            "convergence_achieved": False,
            "created_at": now,
            "updated_at": now,
        }
        _check_window("train", values["train_start_date"], values["train_end_date"])
        _check_window("val", values["val_start_date"], values["val_end_date"])
        params = None
        typed: dict[str, Any] = {}
        if hyperparameters is not None:
            params = json_document("hyperparameters", hyperparameters)
            assert params is not None
            typed = typed_hyperparameters(params)
        statement = (
            upsert_insert(self._db.dialect_name, TrainingRun.__table__)
            .values(values)  # the table's column names: "metadata", not the ORM's "metadata_"
            .on_conflict_do_nothing(index_elements=["run_id"])
        )
        if self._db.execute(statement).rowcount != 1:
            raise DuplicateRun(f"training run {values['run_id']!r} already exists")
        if params is not None:
            self._db.execute(
                insert(Hyperparameters).values(
                    run_id=values["run_id"], algorithm=algo, params_json=params, **typed
                )
            )
        return self.get(values["run_id"])

    @atomic
    def finish(
        self,
        run_id: str,
        status: RunStatus | str,
        *,
        final_reward: float | None = None,
        best_reward: float | None = None,
        model_path: str | None = None,
        convergence_achieved: bool | None = None,
        error_message: str | None = None,
        total_timesteps: int | None = None,
        end_time: dt.datetime | None = None,
    ) -> Run:
        """Move a running run to a terminal status, recording end_time and duration_seconds.

        Raises ``InvalidTransition`` if the run is not running (nothing leaves a terminal
        status, not even to the same one) or ``status`` is ``running``.
        """
        key = required_text("run_id", run_id)
        target = choice("status", status, RunStatus)
        changes: dict[str, Any] = {
            "final_reward": number("final_reward", final_reward, allow_nonfinite=True),
            "best_reward": number("best_reward", best_reward, allow_nonfinite=True),
            "model_path": optional_text("model_path", model_path, max_length=4096),
            "error_message": validated_text(
                "error_message", error_message, max_length=100_000, allow_none=True, trimmed=False
            ),
            "total_timesteps": integer("total_timesteps", total_timesteps, minimum=0),
        }
        if convergence_achieved is not None:
            changes["convergence_achieved"] = flag("convergence_achieved", convergence_achieved)
        now = self._db.now()
        finished_at = instant("end_time", now if end_time is None else end_time)
        assert finished_at is not None
        current = self.get(key)
        check_run_transition(key, current.status, target)
        if finished_at < current.start_time:
            raise ValidationError(
                "end_time", end_time, f"before the run's start_time {current.start_time}"
            )
        values = {k: v for k, v in changes.items() if v is not None}
        result = self._db.execute(
            update(TrainingRun)
            .where(TrainingRun.run_id == key, TrainingRun.status == RunStatus.RUNNING)
            .values(
                status=target,
                end_time=finished_at,
                duration_seconds=(finished_at - current.start_time).total_seconds(),
                updated_at=now,
                **values,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            # Finished (or deleted) by a concurrent transaction since we read it.
            latest = self.get(key)
            raise InvalidTransition("training run", key, latest.status.value, target.value)
        return self.get(key)

    def get(self, run_id: str) -> Run:
        key = required_text("run_id", run_id)
        row = self._db.execute(select(*_RUN_COLUMNS).where(TrainingRun.run_id == key)).one_or_none()
        if row is None:
            raise RunNotFound("training run", key)
        return _run_from_row(row)

    def count(
        self,
        *,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = None,
        model_name: str | None = None,
        started_after: dt.datetime | None = None,
        started_before: dt.datetime | None = None,
    ) -> int:
        """How many runs ``list`` would return without pagination."""
        statement = select(func.count()).select_from(TrainingRun)
        for condition in run_filters(algorithm, status, model_name, started_after, started_before):
            statement = statement.where(condition)
        return int(self._db.execute(statement).scalar_one())

    @atomic
    def delete(self, run_id: str) -> RunDeletion:
        """Remove a run with its episodes, hyperparameters, evaluations and ensemble history.

        Refused with ``RunInEnsemble`` while the run is a member of an active ensemble version
        (set the ensemble's weights without it first). Inactive ensemble versions that
        included the run lose that member: history cannot reference a deleted run.
        """
        key = required_text("run_id", run_id)
        # FOR UPDATE (PostgreSQL): waits for a concurrent set_weights that holds the run, so
        # the membership check below sees its outcome.
        exists = self._db.execute(
            select(TrainingRun.run_id).where(TrainingRun.run_id == key).with_for_update()
        ).scalar_one_or_none()
        if exists is None:
            raise RunNotFound("training run", key)
        active = self._db.execute(
            select(EnsembleWeight.ensemble_id)
            .where(EnsembleWeight.run_id == key, EnsembleWeight.is_active.is_(True))
            .limit(1)
        ).scalar_one_or_none()
        if active is not None:
            raise RunInEnsemble(
                f"training run {key!r} is in the active version of ensemble {active!r}"
            )
        counts = {}
        for name, model in (
            ("episodes", TrainingEpisode),
            ("evaluations", AgentPerformance),
            ("hyperparameters", Hyperparameters),
            ("ensemble_rows", EnsembleWeight),
        ):
            result = self._db.execute(
                delete(model)
                .where(model.run_id == key)
                .execution_options(synchronize_session=False)
            )
            counts[name] = int(result.rowcount)
        self._db.execute(
            delete(TrainingRun)
            .where(TrainingRun.run_id == key)
            .execution_options(synchronize_session=False)
        )
        return RunDeletion(run_id=key, **counts)

    # --- hyperparameters -----------------------------------------------------------------

    def hyperparameters(self, run_id: str) -> HyperparameterSet | None:
        """The run's hyperparameters, or None if it was started without them."""
        key = required_text("run_id", run_id)
        self._require_run(key)
        row = self._db.execute(
            select(
                *(getattr(Hyperparameters, name) for name in _HP_RECORD_FIELDS),
                Hyperparameters.params_json,
            ).where(Hyperparameters.run_id == key)
        ).one_or_none()
        if row is None:
            return None
        values: Sequence[Any] = row
        return HyperparameterSet(*values)

    def best(
        self,
        algorithm: Algorithm | str,
        evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
        by: str = "sharpe_ratio",
        *,
        limit: int = 5,
        ascending: bool = False,
    ) -> Rows[HyperparameterScore]:
        """The "best hyperparameters for PPO" query: ``uow.analytics.best_hyperparameters``
        with ``by`` and ``ascending``."""
        return best_hyperparameters(
            self._db,
            algorithm,
            evaluation_type=evaluation_type,
            by=by,
            limit=limit,
            ascending=ascending,
        )

    # --- episodes ------------------------------------------------------------------------

    @atomic
    def log_episodes(self, run_id: str, episodes: Iterable[Any]) -> int:
        """Write many episodes at once; returns how many were new.

        ``episodes`` are mappings, dataclasses (such as ``Episode``) or named tuples whose
        fields are training_episodes columns, or a pandas DataFrame with those columns; only
        ``episode_number`` is required. numpy numbers and aware ``Timestamp``s are taken as
        the Python values they hold. Episodes are
        idempotent on (run_id, episode_number): one already stored is left as it is, so a
        retried batch is harmless. NaN and ±inf are stored as given. Any invalid episode
        raises ``ValidationError`` naming it, and nothing of the call is written.
        """
        key = required_text("run_id", run_id)
        try:
            iterator = iter(rows(episodes))
        except TypeError:
            reason = "expected an iterable of episodes"
            raise ValidationError("episodes", episodes, reason) from None
        self._require_run(key, lock=True)
        write = episode_batch.write
        first = list(islice(iterator, EPISODE_CHUNK))
        if not first:
            return 0
        if len(first) < EPISODE_CHUNK:
            columns = episode_batch.to_columns(first)
            return write(self._db, key, columns)
        # Several chunks: a savepoint makes a bad row in a later chunk undo the earlier ones.
        inserted = 0
        with self._db.savepoint():
            chunk, offset = first, 0
            while chunk:
                columns = episode_batch.to_columns(chunk, offset=offset)
                inserted += write(self._db, key, columns)
                offset += len(chunk)
                chunk = list(islice(iterator, EPISODE_CHUNK))
        return inserted

    def episodes(
        self,
        run_id: str,
        *,
        every: int = 1,
        start: int | None = None,
        stop: int | None = None,
        limit: int | None = None,
    ) -> Rows[Episode]:
        """The run's episodes in order; ``every=k`` keeps episode numbers divisible by k.

        ``start`` is inclusive, ``stop`` exclusive (episode numbers, like ``range``).
        """
        key = required_text("run_id", run_id)
        scope = _EpisodeRange.of(key, every, start, stop)
        most = integer("limit", limit, minimum=1)
        self._require_run(key)
        result: builtins.list[Episode] = []
        for page in self._pages(scope, _EPISODE_COLUMNS, DEFAULT_BATCH, limit=most):
            result += self._episodes_of(page)
        return Rows(Episode, result)

    def iter_episodes(
        self,
        run_id: str,
        *,
        every: int = 1,
        start: int | None = None,
        stop: int | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[Episode]:
        """Stream the run's episodes in order, ``batch_size`` rows per query.

        Keyset pagination on (run_id, episode_number): memory stays at one batch whatever the
        run's size, and no server-side cursor is held between batches. Iterate inside the
        unit of work (or ``db.session(readonly=True)``) that created the repository.
        """
        key = required_text("run_id", run_id)
        size = integer("batch_size", batch_size, minimum=1, maximum=1_000_000, allow_none=False)
        assert size is not None
        scope = _EpisodeRange.of(key, every, start, stop)
        self._require_run(key)
        return (
            episode
            for page in self._pages(scope, _EPISODE_COLUMNS, size)
            for episode in self._episodes_of(page)
        )

    def reward_curve(
        self,
        run_id: str,
        *,
        window: int = 100,
        every: int = 1,
        start: int | None = None,
        stop: int | None = None,
    ) -> RewardCurve:
        """Episode rewards with their trailing moving average over ``window`` episodes.

        The average at an episode covers it and the ``window - 1`` episodes before it (also
        those before ``start``); fewer at the beginning of the run. NaN rewards are skipped,
        ±inf follow IEEE (``tradestore.domain.floats``), identically on both backends. ``every=k``
        returns the points whose episode number is divisible by k, for plotting long runs.
        """
        key = required_text("run_id", run_id)
        width = integer("window", window, minimum=1, maximum=1_000_000, allow_none=False)
        assert width is not None
        scope = _EpisodeRange.of(key, 1, start, stop)
        step = integer("every", every, minimum=1, allow_none=False)
        assert step is not None
        self._require_run(key)
        columns = (TrainingEpisode.episode_number, TrainingEpisode.episode_reward)
        numbers: builtins.list[int] = []
        rewards: builtins.list[Any] = []
        if self._sqlite:
            for page in self._pages(scope, columns, _CURVE_PAGE):
                numbers += [row[0] for row in page]
                rewards += [row[1] for row in page]
        else:
            numbers, rewards = episode_batch.read_rewards_postgresql(
                self._db, key, scope.start, scope.stop
            )
        lead: builtins.list[Any] = []
        if start is not None and width > 1:
            statement = (
                select(*columns)
                .where(TrainingEpisode.run_id == key, TrainingEpisode.episode_number < start)
                .order_by(TrainingEpisode.episode_number.desc())
                .limit(width - 1)
            )
            lead = [row[1] for row in reversed(self._driver_rows(statement))]
        if self._sqlite:  # SQLite returns a stored NaN as the text 'NaN' (db.types.Real)
            rewards, lead = _sqlite_floats(rewards), _sqlite_floats(lead)
        averages = moving_average(lead + rewards if lead else rewards, width)[len(lead) :]
        if step > 1:
            keep = [i for i, number in enumerate(numbers) if number % step == 0]
            numbers = [numbers[i] for i in keep]
            rewards = [rewards[i] for i in keep]
            averages = [averages[i] for i in keep]
        return RewardCurve(key, width, tuple(numbers), tuple(rewards), tuple(averages))

    # --- reading episodes fast -------------------------------------------------------------

    @property
    def _sqlite(self) -> bool:
        return self._db.dialect_name == "sqlite"

    def _driver_rows(self, statement: Executable) -> builtins.list[Any]:
        """The rows of ``statement`` as the driver returns them.

        SQLAlchemy compiles and executes (caching, events, error translation); only its
        per-row processing is skipped, which costs several times the fetch itself for
        100,000 episodes. Callers convert what the column types would (``_episodes_of``).
        """
        result = self._db.execute(statement)
        try:
            rows: builtins.list[Any] = builtins.list(result.cursor.fetchall())
        finally:
            result.close()
        return rows

    def _pages(
        self,
        scope: _EpisodeRange,
        columns: Sequence[Any],
        size: int,
        *,
        limit: int | None = None,
    ) -> Iterator[builtins.list[Any]]:
        """Rows in episode order, a range of ``size * every`` episode numbers per query.

        Ranges rather than ``ORDER BY ... LIMIT``: a bounded range is cheap under any plan,
        while PostgreSQL, before ANALYZE has seen a freshly logged run, answers every
        LIMIT page with a bitmap scan of the rest of the run plus a sort (quadratic), and
        asked for a whole run at once with a sort that spills to disk. An empty range is
        followed by one index lookup of the next episode, so sparse numbering costs little.
        """
        span = size * scope.every
        low = scope.start
        remaining = limit
        while remaining is None or remaining > 0:
            high = low + span if scope.stop is None else min(low + span, scope.stop)
            if high <= low:
                return
            statement = (
                select(*columns)
                .where(*scope.filters(low, high))
                .order_by(TrainingEpisode.episode_number)
            )
            if remaining is not None:
                statement = statement.limit(remaining)
            rows = self._driver_rows(statement)
            if rows:
                yield rows
                if remaining is not None:
                    remaining -= len(rows)
                low = high
                continue
            following = self._db.execute(
                select(func.min(TrainingEpisode.episode_number)).where(
                    *scope.filters(high, scope.stop)
                )
            ).scalar_one_or_none()
            if following is None:
                return
            low = following

    def _episodes_of(self, rows: Sequence[Any]) -> builtins.list[Episode]:
        """Driver rows (in ``EPISODE_FIELDS`` order) as Episodes, converted as the types would."""
        if not rows:
            return []
        columns: builtins.list[Sequence[Any]] = list(zip(*rows, strict=True))
        sqlite = self._sqlite
        for index in _FLOAT_INDEXES:
            if sqlite:
                columns[index] = _sqlite_floats(columns[index])
        times = columns[_TIME_INDEX]
        if sqlite:  # 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
            columns[_TIME_INDEX] = [
                None if value is None else _from_iso(value + "+00:00") for value in times
            ]
        elif {value.tzinfo for value in times if value is not None} - {dt.UTC}:
            columns[_TIME_INDEX] = [
                None if value is None else value.astimezone(dt.UTC) for value in times
            ]
        return list(map(Episode, *columns))

    def episode_count(self, run_id: str) -> int:
        key = required_text("run_id", run_id)
        self._require_run(key)
        return int(
            self._db.execute(select(func.count()).where(TrainingEpisode.run_id == key)).scalar_one()
        )

    @atomic
    def delete_episodes(self, run_id: str, *, from_episode: int = 0) -> int:
        """Delete the run's episodes numbered ``from_episode`` and above; returns how many.

        For a run resumed from a checkpoint: drop what was logged after it, then log again
        (``log_episodes`` never overwrites an episode).
        """
        key = required_text("run_id", run_id)
        first = integer("from_episode", from_episode, minimum=0, allow_none=False)
        self._require_run(key, lock=True)
        result = self._db.execute(
            delete(TrainingEpisode)
            .where(TrainingEpisode.run_id == key, TrainingEpisode.episode_number >= first)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)

    # --- listing (last: ``list`` shadows the builtin in this class body) -------------------

    def list(
        self,
        *,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = None,
        model_name: str | None = None,
        started_after: dt.datetime | None = None,
        started_before: dt.datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[Run]:
        """Runs newest first; ``started_after`` is inclusive, ``started_before`` exclusive.

        Every run unless ``limit`` is given (``count`` says how many there are).
        """
        statement = select(*_RUN_COLUMNS)
        for condition in run_filters(algorithm, status, model_name, started_after, started_before):
            statement = statement.where(condition)
        statement = paginate(
            statement.order_by(TrainingRun.start_time.desc(), TrainingRun.run_id),
            limit=limit,
            offset=offset,
        )
        return Rows(Run, (_run_from_row(row) for row in self._db.execute(statement)))

    # --- helpers -------------------------------------------------------------------------

    def _require_run(self, run_id: str, *, lock: bool = False) -> None:
        """Raise RunNotFound unless the run exists.

        ``lock`` takes FOR KEY SHARE on PostgreSQL: a concurrent ``delete`` then waits for
        this transaction (instead of the write failing on the foreign key).
        """
        statement = select(TrainingRun.run_id).where(TrainingRun.run_id == run_id)
        if lock:
            statement = statement.with_for_update(read=True, key_share=True)
        if self._db.execute(statement).scalar_one_or_none() is None:
            raise RunNotFound("training run", run_id)


def _sqlite_floats(values: Sequence[Any]) -> builtins.list[Any]:
    """SQLite returns a NaN stored by ``db.types.Real`` as the text 'NaN': make it a float again."""
    if str in set(map(type, values)):
        return [float(v) if type(v) is str else v for v in values]
    return values if isinstance(values, builtins.list) else builtins.list(values)


def _new_run_id() -> str:
    return f"run_{uuid.uuid4().hex}"


def _check_window(prefix: str, first: dt.date | None, last: dt.date | None) -> None:
    if first is not None and last is not None and last < first:
        raise ValidationError(f"{prefix}_end_date", last, f"before {prefix}_start_date {first}")


@dataclass(frozen=True, slots=True)
class _EpisodeRange:
    """Which episodes of a run a read covers: numbers in [start, stop), divisible by every."""

    run_id: str
    every: int
    start: int
    stop: int | None

    @classmethod
    def of(cls, run_id: str, every: Any, start: Any, stop: Any) -> _EpisodeRange:
        step = integer("every", every, minimum=1, allow_none=False)
        first = integer("start", start, minimum=0)
        end = integer("stop", stop, minimum=0)
        assert step is not None
        return cls(run_id, step, first or 0, end)

    def filters(self, low: int, high: int | None) -> builtins.list[ColumnElement[bool]]:
        number = TrainingEpisode.episode_number
        conditions: builtins.list[ColumnElement[bool]] = [
            TrainingEpisode.run_id == self.run_id,
            number >= low,
        ]
        if high is not None:
            conditions.append(number < high)
        if self.every > 1:
            conditions.append(number % self.every == 0)
        return conditions


__all__ = [
    "RUN_TRANSITIONS",
    "TERMINAL_RUN_STATUSES",
    "Episode",
    "HyperparameterSet",
    "RewardCurve",
    "RewardPoint",
    "Run",
    "RunDeletion",
    "TrainingRepository",
    "check_run_transition",
]
