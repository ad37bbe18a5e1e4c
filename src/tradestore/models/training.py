"""Reinforcement-learning training: runs, hyperparameters, episodes, evaluations, ensembles.

The training domain. Training is not owned by a bot: a model trained once may be
traded by many bots, so these tables carry no ``bot_id``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradestore.db.types import JSONDocument, OpenChoice, Real, enum_column
from tradestore.domain.enums import (
    MAX_ALGORITHM_LENGTH,
    Algorithm,
    Device,
    EvaluationType,
    RunStatus,
    WeightingMethod,
)
from tradestore.domain.validation import algorithm as valid_algorithm
from tradestore.domain.validation import choice, instant, required_text
from tradestore.models.base import Base, BigIntPK, Timestamps


class TrainingRun(Timestamps, Base):
    __tablename__ = "training_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH))
    model_name: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[dt.datetime]
    end_time: Mapped[dt.datetime | None]
    duration_seconds: Mapped[float | None] = mapped_column(Real())
    total_timesteps: Mapped[int | None] = mapped_column(BigInteger)
    train_start_date: Mapped[dt.date | None] = mapped_column(Date)
    train_end_date: Mapped[dt.date | None] = mapped_column(Date)
    val_start_date: Mapped[dt.date | None] = mapped_column(Date)
    val_end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "status"), default=RunStatus.RUNNING
    )
    final_reward: Mapped[float | None] = mapped_column(Real())
    best_reward: Mapped[float | None] = mapped_column(Real())
    convergence_achieved: Mapped[bool] = mapped_column(Boolean, default=False)
    model_path: Mapped[str | None] = mapped_column(Text)
    tensorboard_log_dir: Mapped[str | None] = mapped_column(Text)
    random_seed: Mapped[int | None] = mapped_column(BigInteger)
    device: Mapped[Device] = mapped_column(enum_column(Device, "device"), default=Device.CPU)
    error_message: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")

    __table_args__ = (
        CheckConstraint("model_name <> ''", name="model_name_not_empty"),
        CheckConstraint(
            "total_timesteps IS NULL OR total_timesteps >= 0", name="total_timesteps_non_negative"
        ),
        CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0", name="duration_non_negative"
        ),
        CheckConstraint("end_time IS NULL OR end_time >= start_time", name="end_after_start"),
        CheckConstraint(
            "train_start_date IS NULL OR train_end_date IS NULL"
            " OR train_end_date >= train_start_date",
            name="train_window",
        ),
        CheckConstraint(
            "val_start_date IS NULL OR val_end_date IS NULL OR val_end_date >= val_start_date",
            name="val_window",
        ),
        CheckConstraint("(status = 'running') = (end_time IS NULL)", name="end_time_iff_finished"),
        Index("idx_training_runs_algorithm", "algorithm"),
        Index("idx_training_runs_status", "status"),
        Index("idx_training_runs_start_time", "start_time"),
        Index("idx_training_runs_model_name", "model_name"),
    )


class AgentPerformance(Base):
    __tablename__ = "agent_performance"

    performance_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("training_runs.run_id", ondelete="CASCADE"))
    evaluation_date: Mapped[dt.date] = mapped_column(Date)
    evaluation_type: Mapped[EvaluationType] = mapped_column(
        enum_column(EvaluationType, "evaluation_type")
    )
    data_period_start: Mapped[dt.date | None] = mapped_column(Date)
    data_period_end: Mapped[dt.date | None] = mapped_column(Date)
    num_episodes: Mapped[int | None] = mapped_column(Integer)
    # returns
    total_return: Mapped[float | None] = mapped_column(Real())
    total_return_pct: Mapped[float | None] = mapped_column(Real())
    annualized_return: Mapped[float | None] = mapped_column(Real())
    cumulative_reward: Mapped[float | None] = mapped_column(Real())
    avg_episode_reward: Mapped[float | None] = mapped_column(Real())
    # risk
    sharpe_ratio: Mapped[float | None] = mapped_column(Real())
    sortino_ratio: Mapped[float | None] = mapped_column(Real())
    calmar_ratio: Mapped[float | None] = mapped_column(Real())
    max_drawdown: Mapped[float | None] = mapped_column(Real())
    max_drawdown_pct: Mapped[float | None] = mapped_column(Real())
    volatility: Mapped[float | None] = mapped_column(Real())
    downside_deviation: Mapped[float | None] = mapped_column(Real())
    # trades
    total_trades: Mapped[int | None] = mapped_column(Integer)
    winning_trades: Mapped[int | None] = mapped_column(Integer)
    losing_trades: Mapped[int | None] = mapped_column(Integer)
    win_rate: Mapped[float | None] = mapped_column(Real())
    avg_win: Mapped[float | None] = mapped_column(Real())
    avg_loss: Mapped[float | None] = mapped_column(Real())
    profit_factor: Mapped[float | None] = mapped_column(Real())
    expectancy: Mapped[float | None] = mapped_column(Real())
    largest_win: Mapped[float | None] = mapped_column(Real())
    largest_loss: Mapped[float | None] = mapped_column(Real())
    # benchmark
    buy_and_hold_return: Mapped[float | None] = mapped_column(Real())
    excess_return: Mapped[float | None] = mapped_column(Real())
    information_ratio: Mapped[float | None] = mapped_column(Real())
    # model confidence
    avg_action_entropy: Mapped[float | None] = mapped_column(Real())
    avg_value_estimate: Mapped[float | None] = mapped_column(Real())
    policy_stability: Mapped[float | None] = mapped_column(Real())
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.current_timestamp())

    __table_args__ = (
        CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)", name="win_rate_range"
        ),
        CheckConstraint(
            "total_trades IS NULL OR total_trades >= 0", name="total_trades_non_negative"
        ),
        CheckConstraint(
            "data_period_start IS NULL OR data_period_end IS NULL"
            " OR data_period_end >= data_period_start",
            name="data_period",
        ),
        Index("idx_agent_performance_run_id", "run_id"),
        Index("idx_agent_performance_evaluation_type", "evaluation_type"),
        # Descending where the source schema declares it (revision 0008): the leaderboard.
        Index("idx_agent_performance_sharpe", sharpe_ratio.desc()),
        Index("idx_agent_performance_evaluation_date", "evaluation_date"),
    )


class Hyperparameters(Base):
    __tablename__ = "hyperparameters"

    hyperparameter_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("training_runs.run_id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH))
    learning_rate: Mapped[float | None] = mapped_column(Real())
    batch_size: Mapped[int | None] = mapped_column(Integer)
    n_steps: Mapped[int | None] = mapped_column(Integer)
    gamma: Mapped[float | None] = mapped_column(Real())
    policy_type: Mapped[str | None] = mapped_column(String(100))
    net_arch: Mapped[Any | None] = mapped_column(JSONDocument)
    activation_fn: Mapped[str | None] = mapped_column(String(50))
    n_epochs: Mapped[int | None] = mapped_column(Integer)
    buffer_size: Mapped[int | None] = mapped_column(BigInteger)
    tau: Mapped[float | None] = mapped_column(Real())
    ent_coef: Mapped[float | None] = mapped_column(Real())
    vf_coef: Mapped[float | None] = mapped_column(Real())
    max_grad_norm: Mapped[float | None] = mapped_column(Real())
    reward_function: Mapped[str | None] = mapped_column(String(100))
    reward_scaling: Mapped[float | None] = mapped_column(Real())
    transaction_cost_pct: Mapped[float | None] = mapped_column(Real())
    slippage_pct: Mapped[float | None] = mapped_column(Real())
    params_json: Mapped[dict[str, Any]]

    __table_args__ = (
        CheckConstraint(
            "learning_rate IS NULL OR learning_rate > 0", name="learning_rate_positive"
        ),
        CheckConstraint("batch_size IS NULL OR batch_size > 0", name="batch_size_positive"),
        CheckConstraint("n_steps IS NULL OR n_steps > 0", name="n_steps_positive"),
        CheckConstraint("gamma IS NULL OR (gamma >= 0 AND gamma <= 1)", name="gamma_range"),
        CheckConstraint("n_epochs IS NULL OR n_epochs > 0", name="n_epochs_positive"),
        CheckConstraint("buffer_size IS NULL OR buffer_size > 0", name="buffer_size_positive"),
        Index("idx_hyperparameters_run_id", "run_id", unique=True),
        Index("idx_hyperparameters_algorithm", "algorithm"),
    )


class EnsembleWeight(Base):
    __tablename__ = "ensemble_weights"

    weight_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ensemble_id: Mapped[str] = mapped_column(String(100))
    #: Every set_weights call writes a new version; older versions stay as inactive history.
    version: Mapped[int] = mapped_column(Integer)
    update_time: Mapped[dt.datetime] = mapped_column()
    update_date: Mapped[dt.date] = mapped_column(Date)
    run_id: Mapped[str] = mapped_column(ForeignKey("training_runs.run_id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(OpenChoice(Algorithm, MAX_ALGORITHM_LENGTH))
    weight: Mapped[float] = mapped_column(Real())
    performance_score: Mapped[float | None] = mapped_column(Real())
    sharpe_ratio: Mapped[float | None] = mapped_column(Real())
    win_rate: Mapped[float | None] = mapped_column(Real())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    weighting_method: Mapped[WeightingMethod] = mapped_column(
        enum_column(WeightingMethod, "weighting_method")
    )
    lookback_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("ensemble_id <> ''", name="ensemble_id_not_empty"),
        CheckConstraint("weight >= 0 AND weight <= 1", name="weight_range"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint(
            "lookback_days IS NULL OR lookback_days > 0", name="lookback_days_positive"
        ),
        CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)", name="win_rate_range"
        ),
        Index("idx_ensemble_weights_ensemble_time", ensemble_id, update_time.desc()),
        Index("idx_ensemble_weights_version_run", "ensemble_id", "version", "run_id", unique=True),
        Index("idx_ensemble_weights_run_id", "run_id"),
    )


class TrainingEpisode(Base):
    __tablename__ = "training_episodes"

    episode_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("training_runs.run_id", ondelete="CASCADE"))
    episode_number: Mapped[int] = mapped_column(Integer)
    episode_reward: Mapped[float | None] = mapped_column(Real())
    episode_length: Mapped[int | None] = mapped_column(Integer)
    episode_time: Mapped[dt.datetime | None]
    mean_action: Mapped[float | None] = mapped_column(Real())
    std_action: Mapped[float | None] = mapped_column(Real())
    mean_value: Mapped[float | None] = mapped_column(Real())
    mean_loss: Mapped[float | None] = mapped_column(Real())
    learning_rate: Mapped[float | None] = mapped_column(Real())
    exploration_rate: Mapped[float | None] = mapped_column(Real())

    __table_args__ = (
        CheckConstraint("episode_number >= 0", name="episode_number_non_negative"),
        CheckConstraint(
            "episode_length IS NULL OR episode_length >= 0", name="episode_length_non_negative"
        ),
        # Serves lookups by run_id alone too (leading column), so no separate run_id index.
        Index("idx_training_episodes_run_episode", "run_id", "episode_number", unique=True),
    )


def run_filters(
    algorithm: Algorithm | str | None,
    status: RunStatus | str | None,
    model_name: str | None,
    started_after: dt.datetime | None,
    started_before: dt.datetime | None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a runs listing (``TrainingRepository.list``, the analytics
    queries over runs), each argument validated and named in the error if refused."""
    conditions: list[ColumnElement[bool]] = []
    if algorithm is not None:
        conditions.append(TrainingRun.algorithm == valid_algorithm("algorithm", algorithm))
    if status is not None:
        conditions.append(TrainingRun.status == choice("status", status, RunStatus))
    if model_name is not None:
        conditions.append(
            TrainingRun.model_name == required_text("model_name", model_name, max_length=200)
        )
    if started_after is not None:
        conditions.append(TrainingRun.start_time >= instant("started_after", started_after))
    if started_before is not None:
        conditions.append(TrainingRun.start_time < instant("started_before", started_before))
    return conditions
