"""The running totals' money sums are unbounded NUMERIC on PostgreSQL.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

``position_totals`` (revision 0011) summed closed rows' amounts into NUMERIC(38, 18), the
type of a single amount: 20 integer digits. A sum can need more (two closes of 6E19 each), and
PostgreSQL then refused the close that crossed the bound, and every later close of that (bot,
ticker, strategy), with "numeric field overflow", while SQLite's decimal text just grew. On
PostgreSQL the four money sums become unbounded NUMERIC (an ALTER COLUMN ... TYPE of a
widening: every value kept as it is). SQLite is not touched: its sums are text already.

The downgrade refuses, naming the keys, when a sum no longer fits NUMERIC(38, 18) (more than
20 integer digits, or digits beyond the 18th decimal, which tradestore never writes): a
conversion would fail on the first of them or round it quietly, and a migration does not
decide that a bot's totals may change. Deleting the totals rows cannot help either: 0011's
totals must equal the closed rows' sums, and it is those sums that do not fit. Remove (export
first) closed rows of those keys until their sums fit (``tradestore prune`` subtracts what it
deletes), then downgrade again. Nothing is changed before the check. A downgrade below 0011
skips it and empties position_totals before narrowing the columns: 0011's downgrade drops the
table next (a bare DROP TABLE), whatever it held. Migrations commit one by one, so a run cut
off between the two leaves 0011 with empty totals: ``db verify`` names the keys and ``db
rebuild-totals`` (at head) writes them again.

Independent of revision 0012: it reads and writes ``position_totals`` only.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "position_totals"
MONEY = ("realized_pnl", "commission", "gross_profit", "gross_loss")
_BOUNDED = sa.Numeric(precision=38, scale=18)
_UNBOUNDED = sa.Numeric()
#: NUMERIC(38, 18) holds |x| < 10^20 with at most 18 decimals.
_LIMIT = "100000000000000000000"
#: How many keys a refusal names.
_SHOWN = 5


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in MONEY:
        op.alter_column(
            TABLE, name, type_=_UNBOUNDED, existing_type=_BOUNDED, existing_nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    if _destination_keeps_totals():
        _refuse_what_does_not_fit()
    else:
        # 0011's downgrade, next, drops the table: its rows need not fit (module doc).
        op.execute(sa.text(f"DELETE FROM {TABLE}"))
    for name in MONEY:
        op.alter_column(
            TABLE, name, type_=_BOUNDED, existing_type=_UNBOUNDED, existing_nullable=False
        )


#: The revision that creates position_totals: a downgrade to a revision before it drops them.
_TOTALS_REVISION = "0011"


def _destination_keeps_totals() -> bool:
    """Whether the downgrade stops where position_totals still exists (0011 or later).

    Below 0011 the table is dropped whatever it holds, so nothing must fit. A destination
    that cannot be resolved here (a relative one, such as ``-2``) is taken to keep them: the
    check runs, as it would without this function."""
    destination = context.get_revision_argument()
    if destination is None:
        return True
    script = context.script
    try:
        stops = script.get_revisions(destination)
        return any(
            revision.revision == _TOTALS_REVISION
            for stop in stops
            if stop is not None
            for revision in script.iterate_revisions(stop.revision, "base")
        )
    except CommandError:
        return True


def _refuse_what_does_not_fit() -> None:
    """Name the keys whose sums NUMERIC(38, 18) cannot hold, or return."""
    too_wide = " OR ".join(
        f"abs({name}) >= {_LIMIT} OR round({name}, 18) <> {name}" for name in MONEY
    )
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT bot_id, ticker, strategy FROM {TABLE} WHERE {too_wide} "
                f"ORDER BY bot_id, ticker, strategy LIMIT {_SHOWN + 1}"
            )
        )
        .all()
    )
    if not rows:
        return
    named = ", ".join(
        f"(bot {bot!r}, ticker {ticker!r}, strategy {strategy or None!r})"
        for bot, ticker, strategy in rows[:_SHOWN]
    )
    more = " and more" if len(rows) > _SHOWN else ""
    raise RuntimeError(
        f"cannot downgrade below 0013: revision 0011 holds the running totals as "
        f"NUMERIC(38, 18) (20 integer digits, 18 decimals), and the sums of {named}{more} "
        "do not fit (their totals must equal their closed rows' sums there). Remove closed "
        "rows of those keys until the sums fit (`tradestore prune` subtracts what it "
        "deletes; export them first if they matter), then downgrade again; nothing was "
        "changed."
    )
