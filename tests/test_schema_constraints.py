"""The schema is the second line of defence: every CHECK, UNIQUE and FOREIGN KEY constraint
refuses a bad row at the database level, on both backends.

Rows are written with raw SQL, bypassing the repositories and the Python types, so these
tests see only what the database itself enforces. Each case names the constraint it expects
to fire, and a meta-test checks that every CHECK constraint in the models has a case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, text
from sqlalchemy.exc import IntegrityError

from tradestore import Database
from tradestore.db import partitioning
from tradestore.db.errors import _constraint_name
from tradestore.models import Base

T0 = dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)
T2 = T0 + dt.timedelta(hours=2)
D1 = dt.date(2026, 1, 5)
D2 = dt.date(2026, 1, 6)

BASE_ROWS: dict[str, dict[str, Any]] = {
    "bots": {
        "bot_id": "b1",
        "mode": "paper",
        "status": "running",
        "total_pnl": "0",
        "total_commission": "0",
    },
    "positions": {
        "position_id": "p1",
        "bot_id": "b1",
        "ticker": "AAPL",
        "side": "long",
        "quantity": "10",
        "entry_price": "100",
        "current_price": "100",
        "unrealized_pnl": "0",
        "unrealized_pnl_pct": 0.0,
        "commission": "0",
        "opened_at": T1,
        "updated_at": T1,
    },
    "closed_positions": {
        "position_id": "p1",
        "bot_id": "b1",
        "ticker": "AAPL",
        "side": "long",
        "quantity": "10",
        "entry_price": "100",
        "exit_price": "110",
        "realized_pnl": "100",
        "realized_pnl_pct": 10.0,
        "opened_at": T1,
        "closed_at": T2,
        "updated_at": T2,
        "holding_period_hours": 1.0,
        "exit_reason": "take_profit",
        "commission": "0",
    },
    "orders": {
        "order_id": "o1",
        "bot_id": "b1",
        "client_order_id": "c1",
        "ticker": "TSLA",
        "order_type": "limit",
        "side": "buy",
        "quantity": "50",
        "limit_price": "250",
        "time_in_force": "day",
        "status": "pending",
        "submitted_at": T1,
        "updated_at": T1,
        "filled_quantity": "0",
        "commission": "0",
    },
    "fills": {
        "bot_id": "b1",
        "fill_id": "f1",
        "order_id": "o1",
        "ticker": "TSLA",
        "side": "buy",
        "quantity": "10",
        "price": "250",
        "filled_at": T1,
        "liquidity": "maker",
        "commission": "0",
    },
    "portfolio_snapshots": {
        "bot_id": "b1",
        "snapshot_date": D1,
        "snapshot_time": T1,
        "total_equity": "1000",
        "cash_balance": "1000",
        "long_market_value": "0",
        "short_market_value": "0",
        "positions_count": 0,
        "trades_today": 0,
        "wins_today": 0,
        "losses_today": 0,
    },
    "performance_metrics": {"bot_id": "b1", "metric_date": D1, "strategy": "all"},
    "period_metrics": {
        "bot_id": "b1",
        "period": "weekly",
        "period_start": D1,
        "as_of": D1,
        "strategy": "all",
        "total_trades": 2,
        "winning_trades": 1,
        "losing_trades": 1,
        "net_pnl": "0",
    },
    "trading_sessions": {
        "session_id": 1,
        "bot_id": "b1",
        "started_at": T1,
        "created_at": T1,
        "updated_at": T1,
    },
    "intraday_snapshots": {
        "snapshot_id": 1,
        "bot_id": "b1",
        "snapshot_kind": "hourly",
        "snapshot_time": T1,
        "total_equity": "1000",
        "cash_balance": "1000",
        "long_market_value": "0",
        "short_market_value": "0",
        "positions_count": 0,
        "total_trades": 0,
        "winning_trades": 0,
        "losing_trades": 0,
        "created_at": T1,
        "updated_at": T1,
    },
    "intraday_snapshot_symbols": {
        "snapshot_id": 1,
        "ticker": "AAPL",
        "quantity": "1",
        "market_value": "100",
        "realized_pnl": "0",
        "unrealized_pnl": "0",
    },
    "position_totals": {
        "bot_id": "b1",
        "ticker": "AAPL",
        "strategy": "",
        "trades": 2,
        "wins": 1,
        "losses": 1,
        "realized_pnl": "0",
        "commission": "0",
        "gross_profit": "1",
        "gross_loss": "1",
    },
    "training_runs": {
        "run_id": "r1",
        "algorithm": "PPO",
        "model_name": "ppo_v1",
        "start_time": T1,
        "status": "running",
        "convergence_achieved": False,
        "device": "cpu",
    },
    "agent_performance": {"run_id": "r1", "evaluation_date": D1, "evaluation_type": "validation"},
    "hyperparameters": {"run_id": "r1", "algorithm": "PPO", "params_json": "{}"},
    "ensemble_weights": {
        "ensemble_id": "prod",
        "version": 1,
        "update_time": T1,
        "update_date": D1,
        "run_id": "r1",
        "algorithm": "PPO",
        "weight": 0.5,
        "is_active": True,
        "weighting_method": "equal",
    },
    "training_episodes": {"run_id": "r1", "episode_number": 0},
    "partition_policies": {
        "table_name": "t",
        "column_name": "c",
        "interval": "month",
        "premake": 3,
    },
    "migration_history": {
        "migration_id": "x",
        "migration_name": "x",
        "database_path": "x",
        "applied_at": T1,
        "applied_date": D1,
        "status": "applied",
    },
}

#: (table, constraint short name, overrides that violate exactly that constraint)
CHECK_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("bots", "bot_id_not_empty", {"bot_id": ""}),
    ("bots", "starting_balance", {"starting_balance": "-1"}),
    ("bots", "total_commission", {"total_commission": "-0.01"}),
    ("bots", "ended_after_started", {"started_at": T2, "ended_at": T1}),
    ("bots", "mode", {"mode": "sim"}),
    ("bots", "status", {"status": "zombie"}),
    ("bots", "position_keeping", {"position_keeping": "hedging"}),
    ("positions", "quantity_positive", {"quantity": "0"}),
    ("positions", "entry_price_positive", {"entry_price": "0"}),
    ("positions", "current_price_positive", {"current_price": "-1"}),
    ("positions", "stop_loss_positive", {"stop_loss_price": "-5"}),
    ("positions", "take_profit_positive", {"side": "short", "take_profit_price": "-5"}),
    ("positions", "stops_by_side", {"take_profit_price": "90"}),
    ("positions", "stops_by_side", {"side": "short", "take_profit_price": "110"}),
    ("positions", "signal_score_range", {"signal_score": 1.5}),
    ("positions", "commission_non_negative", {"commission": "-1"}),
    ("positions", "side", {"side": "flat"}),
    ("closed_positions", "quantity_positive", {"quantity": "-10"}),
    ("closed_positions", "entry_price_positive", {"entry_price": "0"}),
    ("closed_positions", "exit_price_positive", {"exit_price": "0"}),
    ("closed_positions", "commission_non_negative", {"commission": "-1"}),
    ("closed_positions", "closed_after_opened", {"closed_at": T0}),
    ("closed_positions", "holding_period_non_negative", {"holding_period_hours": -1.0}),
    ("closed_positions", "signal_score_range", {"signal_score": -0.1}),
    ("closed_positions", "side", {"side": "up"}),
    ("orders", "client_order_id_not_empty", {"client_order_id": ""}),
    ("orders", "quantity_positive", {"quantity": "0"}),
    ("orders", "limit_price_positive", {"limit_price": "-1"}),
    ("orders", "stop_price_positive", {"order_type": "stop", "stop_price": "-1"}),
    ("orders", "reference_price_positive", {"reference_price": "0"}),
    ("orders", "prices_by_type", {"limit_price": None}),
    ("orders", "prices_by_type", {"order_type": "stop", "limit_price": None}),
    ("orders", "prices_by_type", {"order_type": "stop_limit", "stop_price": None}),
    ("orders", "prices_by_type", {"order_type": "post_only", "limit_price": None}),
    ("orders", "filled_quantity_range", {"filled_quantity": "51"}),
    ("orders", "filled_quantity_range", {"filled_quantity": "-1"}),
    ("orders", "filled_avg_price_positive", {"filled_avg_price": "0"}),
    ("orders", "commission_non_negative", {"commission": "-1"}),
    ("orders", "filled_means_complete", {"status": "filled", "filled_quantity": "10"}),
    ("orders", "order_type", {"order_type": "iceberg"}),
    ("orders", "side", {"side": "hold"}),
    ("orders", "time_in_force", {"time_in_force": "gtd"}),
    ("orders", "status", {"status": "done"}),
    ("fills", "fill_id_not_empty", {"fill_id": ""}),
    ("fills", "quantity_positive", {"quantity": "0"}),
    ("fills", "price_positive", {"price": "-250"}),
    ("fills", "commission_non_negative", {"commission": "-1"}),
    ("fills", "side", {"side": "long"}),
    ("fills", "liquidity", {"liquidity": "dark"}),
    ("portfolio_snapshots", "positions_count_non_negative", {"positions_count": -1}),
    ("portfolio_snapshots", "trade_counts_non_negative", {"wins_today": -1}),
    (
        "portfolio_snapshots",
        "wins_losses_le_trades",
        {"trades_today": 1, "wins_today": 1, "losses_today": 1},
    ),
    ("portfolio_snapshots", "leverage_non_negative", {"leverage": -0.5}),
    ("performance_metrics", "strategy_not_empty", {"strategy": ""}),
    ("performance_metrics", "days_in_drawdown_non_negative", {"days_in_drawdown": -1}),
    ("performance_metrics", "win_rate_range", {"win_rate_30d": 1.5}),
    ("performance_metrics", "wins_le_trades", {"total_trades_30d": 1, "winning_trades_30d": 2}),
    ("period_metrics", "strategy_not_empty", {"strategy": ""}),
    ("period_metrics", "period", {"period": "hourly"}),
    ("period_metrics", "as_of_in_period", {"as_of": D1 - dt.timedelta(days=1)}),
    ("period_metrics", "trade_counts", {"winning_trades": 2}),
    ("period_metrics", "trade_counts", {"losing_trades": -1}),
    ("period_metrics", "win_rate_range", {"win_rate": 1.5}),
    ("trading_sessions", "ended_after_started", {"ended_at": T0, "end_reason": "stopped"}),
    ("trading_sessions", "end_reason_when_ended", {"ended_at": T2}),
    ("trading_sessions", "end_reason_when_ended", {"end_reason": "stopped"}),
    ("trading_sessions", "win_rate_fraction", {"win_rate": 1.5}),
    ("trading_sessions", "total_commission", {"total_commission": "-0.01"}),
    (
        "trading_sessions",
        "wins_losses_le_trades",
        {"total_trades": 1, "winning_trades": 1, "losing_trades": 1},
    ),
    ("trading_sessions", "wins_losses_le_trades", {"total_trades": 1, "winning_trades": -1}),
    ("intraday_snapshots", "snapshot_kind", {"snapshot_kind": "daily"}),
    ("intraday_snapshots", "wins_losses_le_trades", {"total_trades": 1, "winning_trades": 2}),
    ("intraday_snapshots", "trade_counts_non_negative", {"losing_trades": -1}),
    ("intraday_snapshots", "positions_count_non_negative", {"positions_count": -1}),
    ("intraday_snapshot_symbols", "ticker_not_empty", {"ticker": ""}),
    ("position_totals", "outcomes_within_trades", {"wins": 2}),
    ("position_totals", "outcomes_within_trades", {"trades": -1, "wins": 0, "losses": 0}),
    ("training_runs", "model_name_not_empty", {"model_name": ""}),
    ("training_runs", "total_timesteps_non_negative", {"total_timesteps": -1}),
    ("training_runs", "duration_non_negative", {"duration_seconds": -1.0}),
    ("training_runs", "end_after_start", {"status": "completed", "end_time": T0}),
    ("training_runs", "train_window", {"train_start_date": D2, "train_end_date": D1}),
    ("training_runs", "val_window", {"val_start_date": D2, "val_end_date": D1}),
    ("training_runs", "end_time_iff_finished", {"status": "completed"}),
    ("training_runs", "end_time_iff_finished", {"end_time": T2}),
    ("training_runs", "status", {"status": "paused", "end_time": T2}),
    ("training_runs", "device", {"device": "tpu"}),
    ("agent_performance", "win_rate_range", {"win_rate": 1.01}),
    ("agent_performance", "total_trades_non_negative", {"total_trades": -3}),
    ("agent_performance", "data_period", {"data_period_start": D2, "data_period_end": D1}),
    ("agent_performance", "evaluation_type", {"evaluation_type": "prod"}),
    ("hyperparameters", "learning_rate_positive", {"learning_rate": 0.0}),
    ("hyperparameters", "batch_size_positive", {"batch_size": 0}),
    ("hyperparameters", "n_steps_positive", {"n_steps": -1}),
    ("hyperparameters", "gamma_range", {"gamma": 1.5}),
    ("hyperparameters", "n_epochs_positive", {"n_epochs": 0}),
    ("hyperparameters", "buffer_size_positive", {"buffer_size": 0}),
    ("ensemble_weights", "ensemble_id_not_empty", {"ensemble_id": ""}),
    ("ensemble_weights", "weight_range", {"weight": 1.5}),
    ("ensemble_weights", "weight_range", {"weight": -0.1}),
    ("ensemble_weights", "version_positive", {"version": 0}),
    ("ensemble_weights", "lookback_days_positive", {"lookback_days": 0}),
    ("ensemble_weights", "win_rate_range", {"win_rate": 2.0}),
    ("ensemble_weights", "weighting_method", {"weighting_method": "vibes"}),
    ("training_episodes", "episode_number_non_negative", {"episode_number": -1}),
    ("training_episodes", "episode_length_non_negative", {"episode_length": -1}),
    ("migration_history", "status", {"status": "done"}),
    ("partition_policies", "interval_known", {"interval": "fortnight"}),
    ("partition_policies", "premake_range", {"premake": -1}),
]

#: Rows each table's base row depends on, inserted first.
PARENTS = {
    "positions": ["bots"],
    "closed_positions": ["bots"],
    "orders": ["bots"],
    "fills": ["bots", "orders"],
    "portfolio_snapshots": ["bots"],
    "performance_metrics": ["bots"],
    "period_metrics": ["bots"],
    "trading_sessions": ["bots"],
    "intraday_snapshots": ["bots"],
    "intraday_snapshot_symbols": ["bots", "intraday_snapshots"],
    "position_totals": ["bots"],
    "agent_performance": ["training_runs"],
    "hyperparameters": ["training_runs"],
    "ensemble_weights": ["training_runs"],
    "training_episodes": ["training_runs"],
}


def _insert(conn: Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def _with_parents(conn: Connection, table: str) -> None:
    for parent in PARENTS.get(table, []):
        _insert(conn, parent, BASE_ROWS[parent])


def _expect_violation(db: Database, table: str, row: dict[str, Any]) -> str | None:
    with db.engine.connect() as conn:
        _with_parents(conn, table)
        try:
            _insert(conn, table, row)
        except IntegrityError as exc:
            return _constraint_name(exc) or str(exc.orig)
        finally:
            conn.rollback()
    return None


@pytest.mark.parametrize("table", sorted(BASE_ROWS))
def test_base_rows_are_valid(db: Database, table: str) -> None:
    with db.engine.connect() as conn:
        _with_parents(conn, table)
        _insert(conn, table, BASE_ROWS[table])
        conn.rollback()


@pytest.mark.parametrize(
    ("table", "constraint", "overrides"),
    CHECK_CASES,
    ids=[f"{t}.{c}-{i}" for i, (t, c, _) in enumerate(CHECK_CASES)],
)
def test_check_constraint_refuses_bad_row(
    db: Database, table: str, constraint: str, overrides: dict[str, Any]
) -> None:
    violated = _expect_violation(db, table, {**BASE_ROWS[table], **overrides})
    assert violated is not None, "the database accepted the row"
    assert f"ck_{table}_{constraint}" in violated


#: Values revision 0006 opened: the columns take them (the repositories bound the free text).
OPEN_VALUES = [
    ("closed_positions", {"exit_reason": "force_exit"}),
    ("closed_positions", {"exit_reason": "x" * 255}),
    ("training_runs", {"algorithm": "IMPALA"}),
    ("hyperparameters", {"algorithm": "ppo"}),
    ("ensemble_weights", {"algorithm": "a" * 64}),
    ("bots", {"mode": "optimization"}),
    ("orders", {"order_type": "post_only", "reduce_only": True}),
    # Revision 0009: a stop may lock in a profit (a long's above its entry, a short's below);
    # the repository holds it to the price when it is set.
    ("positions", {"stop_loss_price": "110"}),
    ("positions", {"side": "short", "stop_loss_price": "90"}),
]


@pytest.mark.parametrize(
    ("table", "overrides"), OPEN_VALUES, ids=[f"{t}-{i}" for i, (t, _) in enumerate(OPEN_VALUES)]
)
def test_open_values_are_accepted(db: Database, table: str, overrides: dict[str, Any]) -> None:
    assert _expect_violation(db, table, {**BASE_ROWS[table], **overrides}) is None


def test_every_check_constraint_has_a_case() -> None:
    covered = {(table, name) for table, name, _ in CHECK_CASES}
    declared = {
        (table.name, str(constraint.name).removeprefix(f"ck_{table.name}_"))
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert declared - covered == set()
    assert covered - declared == set()


UNIQUE_CASES = [
    ("orders", {"order_id": "o2"}, "client_order_id per bot"),
    ("fills", {}, "fill_id per bot"),
    ("portfolio_snapshots", {"snapshot_time": T2}, "one snapshot per bot and date"),
    ("performance_metrics", {}, "one metrics row per bot, date and strategy"),
    ("hyperparameters", {}, "one hyperparameter set per run"),
    ("training_episodes", {}, "episode number per run"),
    ("ensemble_weights", {"weight": 0.4}, "run once per ensemble version"),
    (
        "positions",
        {"position_id": "p2", "kept_from_fills": True, "_first": {"kept_from_fills": True}},
        "one kept position per bot, ticker and (no) strategy",
    ),
    (
        "positions",
        {
            "position_id": "p2",
            "kept_from_fills": True,
            "strategy": "s",
            "_first": {"kept_from_fills": True, "strategy": "s"},
        },
        "one kept position per bot, ticker and strategy",
    ),
]


@pytest.mark.parametrize(("table", "overrides", "meaning"), UNIQUE_CASES)
def test_unique_constraints(
    db: Database, table: str, overrides: dict[str, Any], meaning: str
) -> None:
    with db.engine.connect() as conn:
        _with_parents(conn, table)
        second = dict(overrides)
        first = {**BASE_ROWS[table], **second.pop("_first", {})}
        _insert(conn, table, first)
        if table == "fills" and partitioning.is_partitioned(conn, "fills"):
            # Partitioned (PostgreSQL, revision 0016): the fill_ids guard skips the taken id,
            # as ON CONFLICT DO NOTHING would, whatever the second row's time.
            _insert(conn, table, {**BASE_ROWS[table], **second, "filled_at": T2})
            assert conn.execute(text("SELECT count(*) FROM fills")).scalar() == 1
        else:
            with pytest.raises(IntegrityError):
                _insert(conn, table, {**BASE_ROWS[table], **second})
        conn.rollback()


def test_kept_positions_of_other_keys_and_explicit_ones_coexist(db: Database) -> None:
    """The partial unique indexes bind kept positions only, one per key: explicit positions
    of the same ticker, and kept ones of another strategy or none, are all allowed."""
    base = BASE_ROWS["positions"]
    with db.engine.connect() as conn:
        _with_parents(conn, "positions")
        rows = [
            {"position_id": "e1"},
            {"position_id": "e2"},
            {"position_id": "k1", "kept_from_fills": True},
            {"position_id": "k2", "kept_from_fills": True, "strategy": "a"},
            {"position_id": "k3", "kept_from_fills": True, "strategy": "b"},
            {"position_id": "k4", "kept_from_fills": True, "ticker": "MSFT"},
        ]
        for row in rows:
            _insert(conn, "positions", {**base, **row})
        conn.rollback()


def test_same_client_order_and_fill_ids_in_two_bots_are_independent(db: Database) -> None:
    with db.engine.connect() as conn:
        for bot in ("b1", "b2"):
            _insert(conn, "bots", {**BASE_ROWS["bots"], "bot_id": bot})
            _insert(conn, "orders", {**BASE_ROWS["orders"], "bot_id": bot, "order_id": f"o-{bot}"})
            _insert(conn, "fills", {**BASE_ROWS["fills"], "bot_id": bot, "order_id": f"o-{bot}"})
        conn.commit()


def test_broker_order_ids_are_unique_per_bot_and_nulls_are_distinct(db: Database) -> None:
    """``idx_orders_broker_order_id``: one order per broker id and bot; any number of orders
    without one (NULLs are distinct on both backends); another bot may use the same id."""
    order = BASE_ROWS["orders"]
    with db.engine.connect() as conn:
        _with_parents(conn, "orders")
        for i in range(3):
            _insert(conn, "orders", {**order, "order_id": f"n{i}", "client_order_id": f"n{i}"})
        _insert(conn, "orders", {**order, "broker_order_id": "B-1"})
        _insert(conn, "bots", {**BASE_ROWS["bots"], "bot_id": "b2"})
        _insert(conn, "orders", {**order, "bot_id": "b2", "broker_order_id": "B-1"})
        conn.commit()
        with pytest.raises(IntegrityError):
            _insert(
                conn,
                "orders",
                {**order, "order_id": "o9", "client_order_id": "c9", "broker_order_id": "B-1"},
            )
        conn.rollback()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with db.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            _insert(conn, "positions", BASE_ROWS["positions"])  # bot b1 does not exist
        conn.rollback()
        _insert(conn, "bots", BASE_ROWS["bots"])
        with pytest.raises(IntegrityError):
            _insert(conn, "fills", BASE_ROWS["fills"])  # order o1 does not exist
        conn.rollback()


def test_deleting_a_bot_with_history_is_refused(db: Database) -> None:
    with db.engine.connect() as conn:
        _with_parents(conn, "positions")
        _insert(conn, "positions", BASE_ROWS["positions"])
        conn.commit()
        with pytest.raises(IntegrityError):
            conn.execute(text("DELETE FROM bots WHERE bot_id = 'b1'"))
        conn.rollback()


def test_deleting_a_run_cascades_to_its_rows_and_an_order_to_its_fills(db: Database) -> None:
    with db.engine.connect() as conn:
        for table in ("training_episodes", "hyperparameters", "agent_performance"):
            if table == "training_episodes":
                _insert(conn, "training_runs", BASE_ROWS["training_runs"])
            _insert(conn, table, BASE_ROWS[table])
        _with_parents(conn, "fills")
        _insert(conn, "fills", BASE_ROWS["fills"])
        conn.execute(text("DELETE FROM training_runs WHERE run_id = 'r1'"))
        conn.execute(text("DELETE FROM orders WHERE order_id = 'o1'"))
        for table in ("training_episodes", "hyperparameters", "agent_performance", "fills"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
        conn.rollback()
