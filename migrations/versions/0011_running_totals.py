"""Running totals of closed positions per bot, ticker and strategy.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A restarting bot's balances, its total realized P&L and its per-ticker performance were sums
over every closed row, and on SQLite those sums are made in Python (its SUM adds doubles), so
their cost grew with the whole trading history. ``position_totals`` keeps them: one row per
(bot, ticker, strategy) with the trade count, wins, losses, and the exact sums of realized
P&L, commission, gross profit (the wins' P&L) and gross loss (the losses'). From this revision
on, the transaction that writes a closed row adds to its row, and retention's delete of one
subtracts from it.

The upgrade fills the table from the closed rows already there, exactly: PostgreSQL sums in
NUMERIC; on SQLite, whose stored amounts are doubles that each read back as the decimal
written, the rows are read and added as Decimals in Python, and each sum is stored as decimal
text (a double could not hold every sum exactly). ``strategy`` is '' for rows without one: a
key column cannot be NULL, and tradestore never stores an empty strategy. The downgrade drops
the table; the closed rows it was computed from are untouched, so nothing is lost.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext
from typing import Any

import sqlalchemy as sa
from alembic import op

from tradestore.db.types import money_total_text
from tradestore.domain.money import MONEY_CONTEXT

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "position_totals"
#: The money sums: NUMERIC(38, 18) on PostgreSQL, decimal text on SQLite (``MoneyTotal``).
_SUM = sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=40), "sqlite")
_MONEY = ("realized_pnl", "commission", "gross_profit", "gross_loss")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("strategy", sa.String(length=100), nullable=False),
        sa.Column("trades", sa.BigInteger(), nullable=False),
        sa.Column("wins", sa.BigInteger(), nullable=False),
        sa.Column("losses", sa.BigInteger(), nullable=False),
        *(sa.Column(name, _SUM, nullable=False) for name in _MONEY),
        sa.CheckConstraint(
            # trades >= 0 follows: wins and losses are >= 0 and add up to at most trades
            "wins >= 0 AND losses >= 0 AND wins + losses <= trades",
            name=op.f("ck_position_totals_outcomes_within_trades"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_position_totals_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bot_id", "ticker", "strategy", name=op.f("pk_position_totals")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO position_totals (bot_id, ticker, strategy, trades, wins, losses, "
            "realized_pnl, commission, gross_profit, gross_loss) "
            "SELECT bot_id, ticker, COALESCE(strategy, ''), COUNT(*), "
            "COUNT(*) FILTER (WHERE realized_pnl > 0), COUNT(*) FILTER (WHERE realized_pnl < 0), "
            "SUM(realized_pnl), SUM(commission), "
            "COALESCE(SUM(realized_pnl) FILTER (WHERE realized_pnl > 0), 0), "
            "COALESCE(SUM(realized_pnl) FILTER (WHERE realized_pnl < 0), 0) "
            "FROM closed_positions GROUP BY bot_id, ticker, COALESCE(strategy, '')"
        )
    else:
        _fill_sqlite()


def downgrade() -> None:
    op.drop_table(TABLE)


def _amount(value: object) -> Decimal:
    """A stored SQLite amount as the decimal written: the shortest repr of its double (an
    integral amount comes back as an integer, NUMERIC affinity's doing)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _add_rows(
    rows: Iterable[Sequence[Any]],
    counts: dict[tuple[str, str, str], list[int]],
    money: dict[tuple[str, str, str], list[Decimal]],
) -> None:
    """Count and add the closed rows per key (run in MONEY_CONTEXT, as the library adds)."""
    for bot_id, ticker, strategy, realized, commission in rows:
        key = (bot_id, ticker, strategy)
        pnl, fee = _amount(realized), _amount(commission)
        count = counts.setdefault(key, [0, 0, 0])
        count[0] += 1
        count[1] += pnl > 0
        count[2] += pnl < 0
        sums = money.setdefault(key, [Decimal(0)] * len(_MONEY))
        sums[0] += pnl
        sums[1] += fee
        if pnl > 0:
            sums[2] += pnl
        if pnl < 0:
            sums[3] += pnl


def _fill_sqlite() -> None:
    bind = op.get_bind()
    counts: dict[tuple[str, str, str], list[int]] = {}
    money: dict[tuple[str, str, str], list[Decimal]] = {}
    rows = bind.execute(
        sa.text(
            "SELECT bot_id, ticker, COALESCE(strategy, ''), realized_pnl, commission "
            "FROM closed_positions"
        )
    )
    with localcontext(MONEY_CONTEXT):  # the library's own additions: exact, not 28 digits
        _add_rows(rows, counts, money)
    if not counts:
        return
    insert = sa.text(
        "INSERT INTO position_totals (bot_id, ticker, strategy, trades, wins, losses, "
        "realized_pnl, commission, gross_profit, gross_loss) VALUES (:bot_id, :ticker, "
        ":strategy, :trades, :wins, :losses, :realized_pnl, :commission, :gross_profit, "
        ":gross_loss)"
    )
    bind.execute(
        insert,
        [
            {
                "bot_id": bot_id,
                "ticker": ticker,
                "strategy": strategy,
                **dict(zip(("trades", "wins", "losses"), count, strict=True)),
                **{
                    name: money_total_text(value)
                    for name, value in zip(_MONEY, money[key], strict=True)
                },
            }
            for key, count in counts.items()
            for bot_id, ticker, strategy in (key,)
        ],
    )
