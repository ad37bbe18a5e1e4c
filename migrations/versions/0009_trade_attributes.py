"""Trade attributes, gross P&L, slippage in basis points, period metrics, stops that lock in profit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

* ``positions`` gains ``entry_logic`` and ``interval``; ``closed_positions`` gains those two,
  ``exit_logic``, ``gross_pnl`` and ``slippage_bps``; ``orders`` gains ``slippage_bps``;
  ``performance_metrics`` gains ``largest_win_30d`` and ``largest_loss_30d``. All nullable.
* ``period_metrics`` is new: trade statistics per day, ISO week, month and all time.
* ``ck_positions_stops_by_side`` keeps only its take-profit half. A long's stop was held below
  its entry price, so a trailing stop could never lock in a profit; the stop is now held by the
  repository to the price when it is set, and by the schema to being positive
  (``ck_positions_stop_loss_positive``, unchanged).

The upgrade computes the derived columns of the rows already there, with the rules the
repositories apply on write, in Python on both backends (SQLite's arithmetic is binary
floating point, so SQL there would store a different figure than a close or a fill writes;
PostgreSQL's ``round`` breaks ties away from zero where ``fit`` rounds half-even). It is
set-based all the same: a page of 1,000 rows read by key, one ``UPDATE ... FROM (VALUES
...)`` per page:

* ``closed_positions.gross_pnl`` = side x (exit_price - entry_price) x quantity, rounded once
  for the backend (``tradestore.domain.pnl``); ``realized_pnl`` is not touched;
* ``slippage_bps`` = slippage x 10,000 / reference, 4 decimals, ties away from zero
  (``tradestore.domain.fill_accounting.slippage_bps``): an order's reference is its
  reference price, else its limit price, else its stop price; a closed position's is its exit
  price; stored as the nearest double (a ratio). A row without a slippage (or an order
  without a reference) keeps NULL.

Rows written before 0009 keep NULL entry / exit logic and interval (nothing recorded them) and
NULL largest win / loss (``metrics.compute`` for that day fills them).

The downgrade refuses, naming the rows, when a position holds an entry or exit logic or an
interval, when an open position's stop is on the profit side of its entry (the old CHECK
rejects it), or when ``period_metrics`` or the largest win / loss hold figures: 0008 has no
place for them, and a migration does not decide that they may go. Clear them (the message says
how), then downgrade again; nothing is changed before the checks. ``gross_pnl`` and
``slippage_bps`` are dropped freely: each is a function of its own row, which the next
upgrade computes again.

The views are re-created unchanged around the table changes (SQLite rebuilds ``positions``
to change its CHECK).
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from tradestore.db.types import Money, from_db_number
from tradestore.db.view_ddl import preserved_views
from tradestore.domain.enums import PositionSide
from tradestore.domain.fill_accounting import slippage_bps
from tradestore.domain.money import fit
from tradestore.domain.pnl import pnl

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGIC_LENGTH = 100
INTERVAL_LENGTH = 16
PERIODS = ("daily", "weekly", "monthly", "all_time")

_OLD_STOPS_BY_SIDE = (
    "(stop_loss_price IS NULL"
    " OR (side = 'long' AND stop_loss_price < entry_price)"
    " OR (side = 'short' AND stop_loss_price > entry_price))"
    " AND (take_profit_price IS NULL"
    " OR (side = 'long' AND take_profit_price > entry_price)"
    " OR (side = 'short' AND take_profit_price < entry_price))"
)
_NEW_STOPS_BY_SIDE = (
    "take_profit_price IS NULL"
    " OR (side = 'long' AND take_profit_price > entry_price)"
    " OR (side = 'short' AND take_profit_price < entry_price)"
)
_MONEY = sa.Numeric(precision=38, scale=18)
#: Table -> the columns this revision adds to it.
ADDED: dict[str, tuple[tuple[str, sa.types.TypeEngine[Any]], ...]] = {
    "positions": (
        ("entry_logic", sa.String(LOGIC_LENGTH)),
        ("interval", sa.String(INTERVAL_LENGTH)),
    ),
    "closed_positions": (
        ("gross_pnl", _MONEY),
        ("slippage_bps", sa.Double()),
        ("entry_logic", sa.String(LOGIC_LENGTH)),
        ("exit_logic", sa.String(LOGIC_LENGTH)),
        ("interval", sa.String(INTERVAL_LENGTH)),
    ),
    "orders": (("slippage_bps", sa.Double()),),
    "performance_metrics": (("largest_win_30d", _MONEY), ("largest_loss_30d", _MONEY)),
}
#: What the downgrade cannot represent: (table, key columns, columns that must all be NULL).
_RECORDED: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("positions", ("bot_id", "position_id"), ("entry_logic", "interval")),
    ("closed_positions", ("closed_position_id",), ("entry_logic", "exit_logic", "interval")),
    (
        "performance_metrics",
        ("bot_id", "metric_date", "strategy"),
        ("largest_win_30d", "largest_loss_30d"),
    ),
)
#: How many rows a refusal names per kind.
_SHOWN = 5
#: Rows derived per statement: the upgrade reads a page of rows by key (keyset, no OFFSET),
#: computes their figures in Python and writes the page back with one UPDATE ... FROM
#: (VALUES ...), instead of one UPDATE per row.
PAGE = 1000


def upgrade() -> None:
    with preserved_views(*ADDED):
        with op.batch_alter_table("positions") as batch:
            batch.drop_constraint(op.f("ck_positions_stops_by_side"), type_="check")
            batch.create_check_constraint(op.f("ck_positions_stops_by_side"), _NEW_STOPS_BY_SIDE)
        for table, columns in ADDED.items():
            with op.batch_alter_table(table) as batch:
                for name, type_ in columns:
                    batch.add_column(sa.Column(name, type_, nullable=True))
    _create_period_metrics()
    _derive_closed_positions()
    _derive_orders()


def downgrade() -> None:
    _refuse_what_0008_cannot_hold()
    op.drop_index(op.f("idx_period_metrics_bot_period_start_strategy"), table_name="period_metrics")
    op.drop_table("period_metrics")
    with preserved_views(*ADDED):
        for table, columns in ADDED.items():
            with op.batch_alter_table(table) as batch:
                for name, _type in reversed(columns):
                    batch.drop_column(name)
        with op.batch_alter_table("positions") as batch:
            batch.drop_constraint(op.f("ck_positions_stops_by_side"), type_="check")
            batch.create_check_constraint(op.f("ck_positions_stops_by_side"), _OLD_STOPS_BY_SIDE)


def _create_period_metrics() -> None:
    op.create_table(
        "period_metrics",
        sa.Column(
            "period_metric_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column(
            "period",
            sa.Enum(
                *PERIODS,
                name="period",
                native_enum=False,
                create_constraint=True,
                length=max(len(p) for p in PERIODS),
            ),
            nullable=False,
        ),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("strategy", sa.String(length=100), nullable=False),
        sa.Column("total_trades", sa.Integer(), nullable=False),
        sa.Column("winning_trades", sa.Integer(), nullable=False),
        sa.Column("losing_trades", sa.Integer(), nullable=False),
        sa.Column("win_rate", sa.Double(), nullable=True),
        sa.Column("net_pnl", _MONEY, nullable=False),
        sa.Column("avg_win", _MONEY, nullable=True),
        sa.Column("avg_loss", _MONEY, nullable=True),
        sa.Column("largest_win", _MONEY, nullable=True),
        sa.Column("largest_loss", _MONEY, nullable=True),
        sa.Column("profit_factor", sa.Double(), nullable=True),
        sa.Column("expectancy", _MONEY, nullable=True),
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
        sa.CheckConstraint("strategy <> ''", name=op.f("ck_period_metrics_strategy_not_empty")),
        sa.CheckConstraint("as_of >= period_start", name=op.f("ck_period_metrics_as_of_in_period")),
        sa.CheckConstraint(
            "winning_trades >= 0 AND losing_trades >= 0"
            " AND winning_trades + losing_trades <= total_trades",
            name=op.f("ck_period_metrics_trade_counts"),
        ),
        sa.CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)",
            name=op.f("ck_period_metrics_win_rate_range"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_period_metrics_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("period_metric_id", name=op.f("pk_period_metrics")),
    )
    op.create_index(
        op.f("idx_period_metrics_bot_period_start_strategy"),
        "period_metrics",
        ["bot_id", "period", "period_start", "strategy"],
        unique=True,
    )


def _money(value: Any) -> Decimal | None:
    """A stored amount read through plain SQL, as the Money column type reads it."""
    return from_db_number(value)


def _derive_closed_positions() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    columns = "closed_position_id, side, quantity, entry_price, exit_price, slippage"
    first = sa.text(
        f"SELECT {columns} FROM closed_positions ORDER BY closed_position_id LIMIT :page"
    )
    later = sa.text(
        f"SELECT {columns} FROM closed_positions WHERE closed_position_id > :after "
        "ORDER BY closed_position_id LIMIT :page"
    )
    # The first page has no lower bound: a row may hold any id (one written by hand as 0).
    after: Any = None
    while rows := bind.execute(
        first if after is None else later,
        {"page": PAGE} if after is None else {"after": after, "page": PAGE},
    ).all():
        values = []
        for closed_id, side, quantity, entry, exit_, slip in rows:
            amount, entry_price, exit_price = _money(quantity), _money(entry), _money(exit_)
            assert amount is not None
            assert entry_price is not None
            assert exit_price is not None
            gross = pnl(PositionSide(side), amount, entry_price, exit_price)
            bps = slippage_bps(_money(slip), exit_price)
            values.append((closed_id, fit(gross, dialect), None if bps is None else float(bps)))
        _update_page(
            "closed_positions",
            (("closed_position_id", sa.BigInteger()),),
            (("gross_pnl", Money(), "NUMERIC(38, 18)"), ("slippage_bps", sa.Double(), _DOUBLE)),
            values,
        )
        after = rows[-1][0]


def _derive_orders() -> None:
    bind = op.get_bind()
    base = (
        "SELECT bot_id, order_id, slippage, "
        "COALESCE(reference_price, limit_price, stop_price) FROM orders "
        "WHERE slippage IS NOT NULL"
    )
    order = "ORDER BY bot_id, order_id LIMIT :page"
    first = sa.text(f"{base} {order}")
    # A row-value comparison: both backends read it as a range of the (bot_id, order_id)
    # primary key, where ``bot_id > :bot OR (bot_id = :bot AND order_id > :key)`` made each
    # page scan from the start (quadratic). SQLite has row values since 3.15.
    later = sa.text(f"{base} AND (bot_id, order_id) > (:bot, :key) {order}")
    # The first page has no lower bound: an order id may be empty (no CHECK forbids it).
    after: tuple[str, str] | None = None
    while rows := bind.execute(
        first if after is None else later,
        {"page": PAGE} if after is None else {"bot": after[0], "key": after[1], "page": PAGE},
    ).all():
        values = []
        for bot_id, order_id, slip, reference in rows:
            bps = slippage_bps(_money(slip), _money(reference))
            if bps is not None:
                values.append((bot_id, order_id, float(bps)))
        if values:
            _update_page(
                "orders",
                (("bot_id", sa.String()), ("order_id", sa.String())),
                (("slippage_bps", sa.Double(), _DOUBLE),),
                values,
            )
        after = (rows[-1][0], rows[-1][1])


#: The CAST PostgreSQL needs on a double from VALUES (see ``_update_page``).
_DOUBLE = "DOUBLE PRECISION"


def _update_page(
    table: str,
    keys: Sequence[tuple[str, sa.types.TypeEngine[Any]]],
    sets: Sequence[tuple[str, sa.types.TypeEngine[Any], str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """One ``UPDATE table ... FROM (VALUES ...)`` for a page of rows: each row is the key
    columns' values then the new values of ``sets`` (column, bind type, PostgreSQL type).

    The VALUES list is a CTE with its column names, the one spelling both backends accept
    (SQLite has no column list on a FROM alias). PostgreSQL types a VALUES column from its
    literals, text when a page holds only NULLs there, so the new values are CAST to the
    column's type; SQLite gives each value to the column as bound (through the same type,
    ``Money``'s double included), which applies the column's affinity as a row-by-row UPDATE
    did. The result is the one the row-by-row UPDATE of earlier versions stored."""
    postgres = op.get_bind().dialect.name == "postgresql"
    types = [type_ for _name, type_ in keys] + [type_ for _name, type_, _cast in sets]
    names = [f"c{i}" for i in range(len(types))]
    params: dict[str, Any] = {}
    binds = []
    tuples = []
    for r, row in enumerate(rows):
        slots = []
        for c, (value, type_) in enumerate(zip(row, types, strict=True)):
            name = f"v{r}_{c}"
            params[name] = value
            binds.append(sa.bindparam(name, type_=type_))
            slots.append(f":{name}")
        tuples.append(f"({', '.join(slots)})")
    width = len(keys)
    assignments = ", ".join(
        f"{column} = "
        + (f"CAST(d.{names[width + i]} AS {cast})" if postgres else f"d.{names[width + i]}")
        for i, (column, _type, cast) in enumerate(sets)
    )
    matches = " AND ".join(
        f"{table}.{column} = d.{names[i]}" for i, (column, _t) in enumerate(keys)
    )
    statement = (
        f"WITH d ({', '.join(names)}) AS (VALUES {', '.join(tuples)}) "
        f"UPDATE {table} SET {assignments} FROM d WHERE {matches}"
    )
    op.get_bind().execute(sa.text(statement).bindparams(*binds), params)


def _refuse_what_0008_cannot_hold() -> None:
    """Name what the downgrade would lose or the old constraints reject, or return."""
    bind = op.get_bind()
    found: list[str] = []
    for table, key, columns in _RECORDED:
        # Quoted: "interval" is a keyword of PostgreSQL's.
        held = " OR ".join(f'"{column}" IS NOT NULL' for column in columns)
        rows = bind.execute(
            sa.text(
                f"SELECT {', '.join(key)} FROM {table} WHERE {held} "
                f"ORDER BY {', '.join(key)} LIMIT {_SHOWN + 1}"
            )
        ).all()
        if rows:
            found.append(
                f"{table} rows holding {', '.join(columns)}: {_listed(rows)} "
                f"(UPDATE {table} SET {', '.join(f'{c} = NULL' for c in columns)} to let them go)"
            )
    stops = bind.execute(
        sa.text(
            "SELECT bot_id, position_id FROM positions WHERE NOT (" + _OLD_STOPS_BY_SIDE + ") "
            f"ORDER BY bot_id, position_id LIMIT {_SHOWN + 1}"
        )
    ).all()
    if stops:
        found.append(
            f"open positions whose stop locks in a profit (0008 holds a long's stop below its "
            f"entry price, a short's above): {_listed(stops)} (move or clear the stop with "
            "positions.update)"
        )
    periods = bind.execute(sa.text("SELECT COUNT(*) FROM period_metrics")).scalar_one()
    if periods:
        found.append(f"{periods} period_metrics rows (DELETE FROM period_metrics to let them go)")
    if found:
        raise RuntimeError(
            "cannot downgrade to 0008, which has no place for: "
            + "; ".join(found)
            + ". Nothing was changed."
        )


def _listed(rows: Sequence[Any]) -> str:
    named = ", ".join(repr(tuple(row)) if len(row) > 1 else repr(row[0]) for row in rows[:_SHOWN])
    return named + (" and more" if len(rows) > _SHOWN else "")
