"""ML training: training_runs, hyperparameters, training_episodes, agent_performance, ensemble_weights.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Mirrors the source schema's migration 003_create_ml_training_tables (docs/lineage.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column(
            "algorithm",
            sa.Enum(
                "PPO",
                "SAC",
                "A2C",
                "TD3",
                "DQN",
                "DDPG",
                "Ensemble",
                name="algorithm",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("total_timesteps", sa.BigInteger(), nullable=True),
        sa.Column("train_start_date", sa.Date(), nullable=True),
        sa.Column("train_end_date", sa.Date(), nullable=True),
        sa.Column("val_start_date", sa.Date(), nullable=True),
        sa.Column("val_end_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "failed",
                "stopped",
                "aborted",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("final_reward", sa.Double(), nullable=True),
        sa.Column("best_reward", sa.Double(), nullable=True),
        sa.Column("convergence_achieved", sa.Boolean(), nullable=False),
        sa.Column("model_path", sa.Text(), nullable=True),
        sa.Column("tensorboard_log_dir", sa.Text(), nullable=True),
        sa.Column("random_seed", sa.BigInteger(), nullable=True),
        sa.Column(
            "device",
            sa.Enum("cpu", "cuda", name="device", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'running') = (end_time IS NULL)",
            name=op.f("ck_training_runs_end_time_iff_finished"),
        ),
        sa.CheckConstraint("model_name <> ''", name=op.f("ck_training_runs_model_name_not_empty")),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0",
            name=op.f("ck_training_runs_duration_non_negative"),
        ),
        sa.CheckConstraint(
            "end_time IS NULL OR end_time >= start_time",
            name=op.f("ck_training_runs_end_after_start"),
        ),
        sa.CheckConstraint(
            "total_timesteps IS NULL OR total_timesteps >= 0",
            name=op.f("ck_training_runs_total_timesteps_non_negative"),
        ),
        sa.CheckConstraint(
            "train_start_date IS NULL OR train_end_date IS NULL OR train_end_date >= train_start_date",
            name=op.f("ck_training_runs_train_window"),
        ),
        sa.CheckConstraint(
            "val_start_date IS NULL OR val_end_date IS NULL OR val_end_date >= val_start_date",
            name=op.f("ck_training_runs_val_window"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_training_runs")),
    )
    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.create_index("idx_training_runs_algorithm", ["algorithm"], unique=False)
        batch_op.create_index("idx_training_runs_model_name", ["model_name"], unique=False)
        batch_op.create_index("idx_training_runs_start_time", ["start_time"], unique=False)
        batch_op.create_index("idx_training_runs_status", ["status"], unique=False)

    op.create_table(
        "hyperparameters",
        sa.Column(
            "hyperparameter_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column(
            "algorithm",
            sa.Enum(
                "PPO",
                "SAC",
                "A2C",
                "TD3",
                "DQN",
                "DDPG",
                "Ensemble",
                name="algorithm",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("learning_rate", sa.Double(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("n_steps", sa.Integer(), nullable=True),
        sa.Column("gamma", sa.Double(), nullable=True),
        sa.Column("policy_type", sa.String(length=100), nullable=True),
        sa.Column(
            "net_arch",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("activation_fn", sa.String(length=50), nullable=True),
        sa.Column("n_epochs", sa.Integer(), nullable=True),
        sa.Column("buffer_size", sa.BigInteger(), nullable=True),
        sa.Column("tau", sa.Double(), nullable=True),
        sa.Column("ent_coef", sa.Double(), nullable=True),
        sa.Column("vf_coef", sa.Double(), nullable=True),
        sa.Column("max_grad_norm", sa.Double(), nullable=True),
        sa.Column("reward_function", sa.String(length=100), nullable=True),
        sa.Column("reward_scaling", sa.Double(), nullable=True),
        sa.Column("transaction_cost_pct", sa.Double(), nullable=True),
        sa.Column("slippage_pct", sa.Double(), nullable=True),
        sa.Column(
            "params_json",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "batch_size IS NULL OR batch_size > 0",
            name=op.f("ck_hyperparameters_batch_size_positive"),
        ),
        sa.CheckConstraint(
            "buffer_size IS NULL OR buffer_size > 0",
            name=op.f("ck_hyperparameters_buffer_size_positive"),
        ),
        sa.CheckConstraint(
            "gamma IS NULL OR (gamma >= 0 AND gamma <= 1)",
            name=op.f("ck_hyperparameters_gamma_range"),
        ),
        sa.CheckConstraint(
            "learning_rate IS NULL OR learning_rate > 0",
            name=op.f("ck_hyperparameters_learning_rate_positive"),
        ),
        sa.CheckConstraint(
            "n_epochs IS NULL OR n_epochs > 0", name=op.f("ck_hyperparameters_n_epochs_positive")
        ),
        sa.CheckConstraint(
            "n_steps IS NULL OR n_steps > 0", name=op.f("ck_hyperparameters_n_steps_positive")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["training_runs.run_id"],
            name=op.f("fk_hyperparameters_run_id_training_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hyperparameter_id", name=op.f("pk_hyperparameters")),
    )
    with op.batch_alter_table("hyperparameters", schema=None) as batch_op:
        batch_op.create_index("idx_hyperparameters_algorithm", ["algorithm"], unique=False)
        batch_op.create_index("idx_hyperparameters_run_id", ["run_id"], unique=True)

    op.create_table(
        "training_episodes",
        sa.Column(
            "episode_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("episode_number", sa.Integer(), nullable=False),
        sa.Column("episode_reward", sa.Double(), nullable=True),
        sa.Column("episode_length", sa.Integer(), nullable=True),
        sa.Column("episode_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mean_action", sa.Double(), nullable=True),
        sa.Column("std_action", sa.Double(), nullable=True),
        sa.Column("mean_value", sa.Double(), nullable=True),
        sa.Column("mean_loss", sa.Double(), nullable=True),
        sa.Column("learning_rate", sa.Double(), nullable=True),
        sa.Column("exploration_rate", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "episode_length IS NULL OR episode_length >= 0",
            name=op.f("ck_training_episodes_episode_length_non_negative"),
        ),
        sa.CheckConstraint(
            "episode_number >= 0", name=op.f("ck_training_episodes_episode_number_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["training_runs.run_id"],
            name=op.f("fk_training_episodes_run_id_training_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_training_episodes")),
    )
    with op.batch_alter_table("training_episodes", schema=None) as batch_op:
        batch_op.create_index(
            "idx_training_episodes_run_episode", ["run_id", "episode_number"], unique=True
        )

    op.create_table(
        "agent_performance",
        sa.Column(
            "performance_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("evaluation_date", sa.Date(), nullable=False),
        sa.Column(
            "evaluation_type",
            sa.Enum(
                "train",
                "validation",
                "test",
                "live_paper",
                "backtest",
                name="evaluation_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("data_period_start", sa.Date(), nullable=True),
        sa.Column("data_period_end", sa.Date(), nullable=True),
        sa.Column("num_episodes", sa.Integer(), nullable=True),
        sa.Column("total_return", sa.Double(), nullable=True),
        sa.Column("total_return_pct", sa.Double(), nullable=True),
        sa.Column("annualized_return", sa.Double(), nullable=True),
        sa.Column("cumulative_reward", sa.Double(), nullable=True),
        sa.Column("avg_episode_reward", sa.Double(), nullable=True),
        sa.Column("sharpe_ratio", sa.Double(), nullable=True),
        sa.Column("sortino_ratio", sa.Double(), nullable=True),
        sa.Column("calmar_ratio", sa.Double(), nullable=True),
        sa.Column("max_drawdown", sa.Double(), nullable=True),
        sa.Column("max_drawdown_pct", sa.Double(), nullable=True),
        sa.Column("volatility", sa.Double(), nullable=True),
        sa.Column("downside_deviation", sa.Double(), nullable=True),
        sa.Column("total_trades", sa.Integer(), nullable=True),
        sa.Column("winning_trades", sa.Integer(), nullable=True),
        sa.Column("losing_trades", sa.Integer(), nullable=True),
        sa.Column("win_rate", sa.Double(), nullable=True),
        sa.Column("avg_win", sa.Double(), nullable=True),
        sa.Column("avg_loss", sa.Double(), nullable=True),
        sa.Column("profit_factor", sa.Double(), nullable=True),
        sa.Column("expectancy", sa.Double(), nullable=True),
        sa.Column("largest_win", sa.Double(), nullable=True),
        sa.Column("largest_loss", sa.Double(), nullable=True),
        sa.Column("buy_and_hold_return", sa.Double(), nullable=True),
        sa.Column("excess_return", sa.Double(), nullable=True),
        sa.Column("information_ratio", sa.Double(), nullable=True),
        sa.Column("avg_action_entropy", sa.Double(), nullable=True),
        sa.Column("avg_value_estimate", sa.Double(), nullable=True),
        sa.Column("policy_stability", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "data_period_start IS NULL OR data_period_end IS NULL OR data_period_end >= data_period_start",
            name=op.f("ck_agent_performance_data_period"),
        ),
        sa.CheckConstraint(
            "total_trades IS NULL OR total_trades >= 0",
            name=op.f("ck_agent_performance_total_trades_non_negative"),
        ),
        sa.CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)",
            name=op.f("ck_agent_performance_win_rate_range"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["training_runs.run_id"],
            name=op.f("fk_agent_performance_run_id_training_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("performance_id", name=op.f("pk_agent_performance")),
    )
    with op.batch_alter_table("agent_performance", schema=None) as batch_op:
        batch_op.create_index(
            "idx_agent_performance_evaluation_date", ["evaluation_date"], unique=False
        )
        batch_op.create_index(
            "idx_agent_performance_evaluation_type", ["evaluation_type"], unique=False
        )
        batch_op.create_index("idx_agent_performance_run_id", ["run_id"], unique=False)
        batch_op.create_index("idx_agent_performance_sharpe", ["sharpe_ratio"], unique=False)

    op.create_table(
        "ensemble_weights",
        sa.Column(
            "weight_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ensemble_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_date", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column(
            "algorithm",
            sa.Enum(
                "PPO",
                "SAC",
                "A2C",
                "TD3",
                "DQN",
                "DDPG",
                "Ensemble",
                name="algorithm",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("performance_score", sa.Double(), nullable=True),
        sa.Column("sharpe_ratio", sa.Double(), nullable=True),
        sa.Column("win_rate", sa.Double(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "weighting_method",
            sa.Enum(
                "equal",
                "sharpe_weighted",
                "performance_weighted",
                "adaptive",
                "manual",
                name="weighting_method",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("lookback_days", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ensemble_id <> ''", name=op.f("ck_ensemble_weights_ensemble_id_not_empty")
        ),
        sa.CheckConstraint(
            "lookback_days IS NULL OR lookback_days > 0",
            name=op.f("ck_ensemble_weights_lookback_days_positive"),
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_ensemble_weights_version_positive")),
        sa.CheckConstraint(
            "weight >= 0 AND weight <= 1", name=op.f("ck_ensemble_weights_weight_range")
        ),
        sa.CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)",
            name=op.f("ck_ensemble_weights_win_rate_range"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["training_runs.run_id"],
            name=op.f("fk_ensemble_weights_run_id_training_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("weight_id", name=op.f("pk_ensemble_weights")),
    )
    with op.batch_alter_table("ensemble_weights", schema=None) as batch_op:
        batch_op.create_index(
            "idx_ensemble_weights_ensemble_time", ["ensemble_id", "update_time"], unique=False
        )
        batch_op.create_index("idx_ensemble_weights_run_id", ["run_id"], unique=False)
        batch_op.create_index(
            "idx_ensemble_weights_version_run", ["ensemble_id", "version", "run_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("ensemble_weights", schema=None) as batch_op:
        batch_op.drop_index("idx_ensemble_weights_version_run")
        batch_op.drop_index("idx_ensemble_weights_run_id")
        batch_op.drop_index("idx_ensemble_weights_ensemble_time")

    op.drop_table("ensemble_weights")

    with op.batch_alter_table("agent_performance", schema=None) as batch_op:
        batch_op.drop_index("idx_agent_performance_sharpe")
        batch_op.drop_index("idx_agent_performance_run_id")
        batch_op.drop_index("idx_agent_performance_evaluation_type")
        batch_op.drop_index("idx_agent_performance_evaluation_date")

    op.drop_table("agent_performance")

    with op.batch_alter_table("training_episodes", schema=None) as batch_op:
        batch_op.drop_index("idx_training_episodes_run_episode")

    op.drop_table("training_episodes")

    with op.batch_alter_table("hyperparameters", schema=None) as batch_op:
        batch_op.drop_index("idx_hyperparameters_run_id")
        batch_op.drop_index("idx_hyperparameters_algorithm")

    op.drop_table("hyperparameters")

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.drop_index("idx_training_runs_status")
        batch_op.drop_index("idx_training_runs_start_time")
        batch_op.drop_index("idx_training_runs_model_name")
        batch_op.drop_index("idx_training_runs_algorithm")

    op.drop_table("training_runs")
