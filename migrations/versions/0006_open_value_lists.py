"""Open value lists: free-text exit reasons and algorithms, post_only, reduce_only, optimization.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The ecosystem's lists are open where tradestore's were closed: freqtrade's exit tags are a
strategy's own strings (``roi``, ``force_exit``, ``liquidation``), RL libraries name their
algorithms freely (``IMPALA``, ``ppo``). ``closed_positions.exit_reason`` and the three
``algorithm`` columns lose their CHECK constraints and widen to VARCHAR(255) / VARCHAR(64); the
repositories bound the text instead. ``orders.order_type`` gains ``post_only`` (a limit order
that must rest, so it needs a limit price like ``limit``), ``bots.mode`` gains
``optimization``, and ``orders`` gains ``reduce_only`` (NOT NULL, default false).

No view enumerates these values, so the views are re-created unchanged around the table
rebuilds (SQLite batch mode) and column type changes (PostgreSQL refuses to alter the type of
a column a view reads).

The downgrade puts the old lists back. It refuses, naming the rows, when a row holds a value
the old constraints reject or a reduce_only order (dropping the flag would change what the
order was), rather than rewrite or delete anyone's data.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tradestore.db.view_ddl import preserved_views

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXIT_REASON_LENGTH = 255
ALGORITHM_LENGTH = 64

OLD_EXIT_REASONS = (
    "stop_loss",
    "take_profit",
    "trailing_stop",
    "time_exit",
    "manual",
    "risk_limit",
    "circuit_breaker",
    "market_close",
)
OLD_ALGORITHMS = ("PPO", "SAC", "A2C", "TD3", "DQN", "DDPG", "Ensemble")
OLD_MODES = ("paper", "live", "backtest")
NEW_MODES = (*OLD_MODES, "optimization")
OLD_ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
NEW_ORDER_TYPES = (*OLD_ORDER_TYPES, "post_only")

_OLD_PRICES_BY_TYPE = (
    "(order_type <> 'limit' OR limit_price IS NOT NULL)"
    " AND (order_type <> 'stop' OR stop_price IS NOT NULL)"
    " AND (order_type <> 'stop_limit' OR (limit_price IS NOT NULL AND stop_price IS NOT NULL))"
)
_NEW_PRICES_BY_TYPE = (
    f"{_OLD_PRICES_BY_TYPE} AND (order_type <> 'post_only' OR limit_price IS NOT NULL)"
)

#: Table -> (its key columns, for naming rows; the algorithm column is in all three).
_ALGORITHM_TABLES = {
    "training_runs": ("run_id",),
    "hyperparameters": ("hyperparameter_id",),
    "ensemble_weights": ("weight_id",),
}
_TABLES = ("bots", "closed_positions", "orders", *_ALGORITHM_TABLES)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with preserved_views(*_TABLES):
        with op.batch_alter_table("closed_positions") as batch:
            batch.drop_constraint(op.f("ck_closed_positions_exit_reason"), type_="check")
            batch.alter_column(
                "exit_reason",
                existing_type=sa.String(len(max(OLD_EXIT_REASONS, key=len))),
                type_=sa.String(EXIT_REASON_LENGTH),
                existing_nullable=False,
            )
        for table in _ALGORITHM_TABLES:
            with op.batch_alter_table(table) as batch:
                batch.drop_constraint(op.f(f"ck_{table}_algorithm"), type_="check")
                batch.alter_column(
                    "algorithm",
                    existing_type=sa.String(len(max(OLD_ALGORITHMS, key=len))),
                    type_=sa.String(ALGORITHM_LENGTH),
                    existing_nullable=False,
                )
        with op.batch_alter_table("bots") as batch:
            batch.drop_constraint(op.f("ck_bots_mode"), type_="check")
            batch.alter_column(
                "mode",
                existing_type=sa.String(len(max(OLD_MODES, key=len))),
                type_=sa.String(len(max(NEW_MODES, key=len))),
                existing_nullable=False,
            )
            batch.create_check_constraint(op.f("ck_bots_mode"), _in("mode", NEW_MODES))
        with op.batch_alter_table("orders") as batch:
            batch.drop_constraint(op.f("ck_orders_order_type"), type_="check")
            batch.drop_constraint(op.f("ck_orders_prices_by_type"), type_="check")
            batch.create_check_constraint(
                op.f("ck_orders_order_type"), _in("order_type", NEW_ORDER_TYPES)
            )
            batch.create_check_constraint(op.f("ck_orders_prices_by_type"), _NEW_PRICES_BY_TYPE)
            batch.add_column(
                sa.Column("reduce_only", sa.Boolean(), server_default=sa.false(), nullable=False)
            )


def downgrade() -> None:
    _refuse(
        [
            ("closed_positions", ("closed_position_id",), "exit_reason", OLD_EXIT_REASONS),
            *(
                (table, key, "algorithm", OLD_ALGORITHMS)
                for table, key in _ALGORITHM_TABLES.items()
            ),
            ("bots", ("bot_id",), "mode", OLD_MODES),
            ("orders", ("bot_id", "order_id"), "order_type", OLD_ORDER_TYPES),
        ]
    )
    with preserved_views(*_TABLES):
        with op.batch_alter_table("orders") as batch:
            batch.drop_column("reduce_only")
            batch.drop_constraint(op.f("ck_orders_prices_by_type"), type_="check")
            batch.drop_constraint(op.f("ck_orders_order_type"), type_="check")
            batch.create_check_constraint(
                op.f("ck_orders_order_type"), _in("order_type", OLD_ORDER_TYPES)
            )
            batch.create_check_constraint(op.f("ck_orders_prices_by_type"), _OLD_PRICES_BY_TYPE)
        with op.batch_alter_table("bots") as batch:
            batch.drop_constraint(op.f("ck_bots_mode"), type_="check")
            batch.alter_column(
                "mode",
                existing_type=sa.String(len(max(NEW_MODES, key=len))),
                type_=sa.String(len(max(OLD_MODES, key=len))),
                existing_nullable=False,
            )
            batch.create_check_constraint(op.f("ck_bots_mode"), _in("mode", OLD_MODES))
        for table in reversed(_ALGORITHM_TABLES):
            with op.batch_alter_table(table) as batch:
                batch.alter_column(
                    "algorithm",
                    existing_type=sa.String(ALGORITHM_LENGTH),
                    type_=sa.String(len(max(OLD_ALGORITHMS, key=len))),
                    existing_nullable=False,
                )
                batch.create_check_constraint(
                    op.f(f"ck_{table}_algorithm"), _in("algorithm", OLD_ALGORITHMS)
                )
        with op.batch_alter_table("closed_positions") as batch:
            batch.alter_column(
                "exit_reason",
                existing_type=sa.String(EXIT_REASON_LENGTH),
                type_=sa.String(len(max(OLD_EXIT_REASONS, key=len))),
                existing_nullable=False,
            )
            batch.create_check_constraint(
                op.f("ck_closed_positions_exit_reason"), _in("exit_reason", OLD_EXIT_REASONS)
            )


def _refuse(checks: Sequence[tuple[str, tuple[str, ...], str, Sequence[str]]]) -> None:
    """Name up to five rows per column that the old constraints would reject, or return."""
    bind = op.get_bind()
    problems = []
    for table, key, column, allowed in checks:
        found = _offending(bind, table, key, f"NOT ({_in(column, allowed)})", column)
        if found:
            problems.append(f"{table}.{column} not in the old list: {found}")
    found = _offending(bind, "orders", ("bot_id", "order_id"), "reduce_only", "reduce_only")
    if found:
        problems.append(f"orders.reduce_only is true (the column would be dropped): {found}")
    if problems:
        raise RuntimeError(
            "cannot downgrade below 0006: rows hold values revision 0005 does not allow; "
            "change or delete them first. " + "; ".join(problems)
        )


def _offending(
    bind: sa.Connection, table: str, key: Sequence[str], condition: str, column: str
) -> str:
    keys = ", ".join(key)
    rows = bind.execute(
        sa.text(f"SELECT {keys}, {column} FROM {table} WHERE {condition} ORDER BY {keys} LIMIT 6")
    ).all()
    if not rows:
        return ""
    named = [
        "(" + ", ".join(f"{name}={value!r}" for name, value in zip(key, row, strict=False)) + ")"
        f" {row[-1]!r}"
        for row in rows[:5]
    ]
    return ", ".join(named) + (" and more" if len(rows) > 5 else "")
