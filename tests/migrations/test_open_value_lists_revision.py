"""Revision 0006 (open value lists), up and down with rows in place, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.errors import IntegrityViolation, MigrationError

T0 = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
D = Decimal
TABLES = (
    "bots",
    "closed_positions",
    "orders",
    "training_runs",
    "hyperparameters",
    "ensemble_weights",
)


@pytest.fixture
def database(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    yield database
    database.dispose()


def _trade(
    database: Database,
    *,
    mode: str = "paper",
    exit_reason: str = "manual",
    order_type: str = "limit",
    reduce_only: bool = False,
    algorithm: str = "PPO",
) -> None:
    with database.unit_of_work(bot_id="alpha") as uow:
        uow.bots.register("alpha", mode=mode)
        uow.positions.open(
            "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id="p-1"
        )
        uow.positions.close("p-1", exit_price=D(110), exit_reason=exit_reason, quantity=D(4))
        uow.orders.submit(
            client_order_id="c-1",
            order_id="o-1",
            ticker="AAPL",
            side="sell",
            order_type=order_type,
            quantity=D(4),
            limit_price=D(110),
            reduce_only=reduce_only,
            position_id="p-1",
        )
        run = uow.training.start_run(
            algorithm, "agent", run_id="r-1", hyperparameters={"lr": 0.001}, start_time=T0
        )
        uow.training.finish(run.run_id, "completed", end_time=T0 + dt.timedelta(hours=1))
        uow.ensembles.set_weights("e-1", {run.run_id: 1.0})


#: Columns revisions 0006 and later add to the touched tables.
_LATER = {
    "reduce_only",
    "slippage_bps",
    "gross_pnl",
    "entry_logic",
    "exit_logic",
    "interval",
    "position_keeping",
    "keep_position",
    "kept_from_fills",
}


def _rows(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the touched tables, without the columns 0006 and later revisions add."""
    with database.connect() as connection:
        found = inspect(connection)
        rows = {}
        for table in TABLES:
            columns = [c["name"] for c in found.get_columns(table) if c["name"] not in _LATER]
            result = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
            rows[table] = sorted(map(tuple, result), key=repr)
        return rows


def _schema(database: Database) -> dict[str, object]:
    with database.connect() as connection:
        found = inspect(connection)
        return {
            "checks": {
                table: sorted(
                    (c["name"], " ".join(c["sqltext"].split()))
                    for c in found.get_check_constraints(table)
                )
                for table in TABLES
            },
            "columns": {
                table: [(c["name"], str(c["type"])) for c in found.get_columns(table)]
                for table in TABLES
            },
        }


def _update(database: Database, statement: str) -> None:
    with database.connect() as connection:
        connection.execute(text(statement))
        connection.commit()


#: A value each old constraint refuses and 0006 allows (each fits the old column's width, so
#: what refuses it is the CHECK constraint, named).
OLD_REFUSALS = [
    ("UPDATE closed_positions SET exit_reason = 'roi'", "ck_closed_positions_exit_reason"),
    ("UPDATE training_runs SET algorithm = 'IMPALA'", "ck_training_runs_algorithm"),
    ("UPDATE hyperparameters SET algorithm = 'ppo'", "ck_hyperparameters_algorithm"),
    ("UPDATE ensemble_weights SET algorithm = 'APPO'", "ck_ensemble_weights_algorithm"),
    ("UPDATE bots SET mode = 'hyperopt'", "ck_bots_mode"),
    ("UPDATE orders SET order_type = 'post_only'", "ck_orders_order_type"),
]


def test_round_trip_keeps_rows_and_restores_the_old_lists(database: Database) -> None:
    _trade(database)
    rows = _rows(database)
    at_head = _schema(database)

    database.downgrade("0005")
    assert database.current_revision() == "0005"
    assert _rows(database) == rows
    below = _schema(database)
    assert "reduce_only" not in [name for name, _ in below["columns"]["orders"]]  # type: ignore[index]
    for statement, constraint in OLD_REFUSALS:
        with pytest.raises(IntegrityViolation) as refused:
            _update(database, statement)
        assert refused.value.constraint == constraint
    assert _rows(database) == rows

    database.upgrade()
    assert _schema(database) == at_head
    assert _rows(database) == rows
    for statement, constraint in OLD_REFUSALS:
        if constraint != "ck_bots_mode":  # bot modes stay a list, one value longer
            _update(database, statement)
    _update(database, "UPDATE bots SET mode = 'optimization'")
    with database.unit_of_work(bot_id="alpha") as uow:
        assert uow.bots.get("alpha").mode == "optimization"
        [closed] = uow.positions.list_closed()
        assert closed.exit_reason == "roi"
        assert uow.training.get("r-1").algorithm == "IMPALA"
        [order] = uow.analytics.recent_orders()
        assert order.order_type == "post_only"
        assert uow.orders.get("o-1").reduce_only is False


def test_the_models_match_revision_0006(database: Database) -> None:
    """The columns 0006 writes are the ones the models declare (VARCHAR(255)/(64)/(12))."""
    columns = _schema(database)["columns"]
    assert ("exit_reason", "VARCHAR(255)") in columns["closed_positions"]  # type: ignore[index]
    for table in ("training_runs", "hyperparameters", "ensemble_weights"):
        assert ("algorithm", "VARCHAR(64)") in columns[table]  # type: ignore[index]
    assert ("mode", "VARCHAR(12)") in columns["bots"]  # type: ignore[index]
    assert [name for name, kind in columns["orders"] if name == "reduce_only"]  # type: ignore[index]


NEW_VALUES: dict[str, tuple[Callable[[Database], None], str]] = {
    "exit_reason": (lambda d: _trade(d, exit_reason="force_exit"), "closed_positions.exit_reason"),
    "algorithm": (lambda d: _trade(d, algorithm="IMPALA"), "training_runs.algorithm"),
    "mode": (lambda d: _trade(d, mode="optimization"), "bots.mode"),
    "order_type": (lambda d: _trade(d, order_type="post_only"), "orders.order_type"),
    "reduce_only": (lambda d: _trade(d, reduce_only=True), "orders.reduce_only"),
}


@pytest.mark.parametrize("kind", NEW_VALUES)
def test_downgrade_refuses_rows_the_old_lists_reject(database: Database, kind: str) -> None:
    write, column = NEW_VALUES[kind]
    write(database)
    rows = _rows(database)
    with database.connect() as connection:
        orders = connection.execute(text("SELECT order_id, reduce_only FROM orders")).all()
    with pytest.raises(MigrationError) as refused:
        database.downgrade("0005")
    message = str(refused.value)
    assert "cannot downgrade below 0006" in message
    assert column in message
    named = {
        "closed_positions.exit_reason": "'force_exit'",
        "training_runs.algorithm": "run_id='r-1'",
        "bots.mode": "bot_id='alpha'",
        "orders.order_type": "order_id='o-1'",
        "orders.reduce_only": "order_id='o-1'",
    }[column]
    assert named in message
    assert database.current_revision() == "0006"
    assert _rows(database) == rows
    with database.connect() as connection:
        assert connection.execute(text("SELECT order_id, reduce_only FROM orders")).all() == orders
