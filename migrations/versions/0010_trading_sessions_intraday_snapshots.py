"""Trading sessions as their own table; hourly, intraday and manual snapshots by symbol.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A bot's session was two columns of ``bots`` (``started_at``, ``ended_at``): a restart
overwrote the start, and the run before it, with its trades, win rate and drawdown, was gone.
``trading_sessions`` holds one row per run (a bot has many); ``bots.started_at`` /
``ended_at`` stay, as the latest session's start and end, for the code that reads them.

The upgrade gives every bot that has started a first session from those two columns: its
start, its end (``end_reason`` ``error`` when the bot is in error, else ``stopped``; open when
it has not ended). Its balances and figures are NULL: they were never recorded, and
``uow.sessions.figures`` computes the figures from the rows.

``intraday_snapshots`` holds hourly, intraday and manual snapshots, any number a day, and
``intraday_snapshot_symbols`` each one's per-symbol P&L lines. ``portfolio_snapshots`` (the
daily snapshot, one row per bot and date) is not touched, nor is any view that reads it: no
table is rebuilt, so no view is re-created either.

The downgrade refuses, naming the rows, when it would lose data the schema of 0008 cannot
hold: a bot with more than one session, a session other than ``bots.started_at`` /
``ended_at`` say (compared NULL-safely: a session of a bot whose started_at is NULL is one;
balances, figures, metadata, notes, another end reason), or any intraday snapshot. Delete those rows (or export them) first; nothing is changed before the check.
"""

# S608: the SQL below is built from this file's own constants; no input reaches it.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSIONS = "trading_sessions"
SNAPSHOTS = "intraday_snapshots"
SYMBOLS = "intraday_snapshot_symbols"
SNAPSHOT_KINDS = ("hourly", "intraday", "manual")
#: The columns a session created by the upgrade leaves NULL: one with a value is data the
#: downgrade would lose.
RECORDED = (
    "starting_balance",
    "ending_balance",
    "starting_equity",
    "ending_equity",
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    "total_pnl",
    "total_commission",
    "max_drawdown",
    "max_drawdown_pct",
    "metadata",
    "notes",
)
_SHOWN = 5


def _money(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(precision=38, scale=18), nullable=nullable)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            name,
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def _bigint_pk(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
        nullable=False,
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        SESSIONS,
        _bigint_pk("session_id"),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        _money("starting_balance"),
        _money("ending_balance"),
        _money("starting_equity"),
        _money("ending_equity"),
        sa.Column("total_trades", sa.Integer(), nullable=True),
        sa.Column("winning_trades", sa.Integer(), nullable=True),
        sa.Column("losing_trades", sa.Integer(), nullable=True),
        sa.Column("win_rate", sa.Double(), nullable=True),
        _money("total_pnl"),
        _money("total_commission"),
        _money("max_drawdown"),
        sa.Column("max_drawdown_pct", sa.Double(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_trading_sessions_ended_after_started"),
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (end_reason IS NULL)",
            name=op.f("ck_trading_sessions_end_reason_when_ended"),
        ),
        sa.CheckConstraint(
            "total_trades IS NULL OR (winning_trades >= 0 AND losing_trades >= 0"
            " AND winning_trades + losing_trades <= total_trades)",
            name=op.f("ck_trading_sessions_wins_losses_le_trades"),
        ),
        sa.CheckConstraint(
            "win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)",
            name=op.f("ck_trading_sessions_win_rate_fraction"),
        ),
        sa.CheckConstraint(
            "total_commission IS NULL OR total_commission >= 0",
            name=op.f("ck_trading_sessions_total_commission"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_trading_sessions_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_trading_sessions")),
    )
    with op.batch_alter_table(SESSIONS) as batch:
        batch.create_index("idx_trading_sessions_bot_started", ["bot_id", "started_at"])
        # At most one open session per bot, whoever writes the table.
        batch.create_index(
            "uq_trading_sessions_open",
            ["bot_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
    op.create_table(
        SNAPSHOTS,
        _bigint_pk("snapshot_id"),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column(
            "snapshot_kind",
            sa.Enum(
                *SNAPSHOT_KINDS, name="snapshot_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("snapshot_time", sa.DateTime(timezone=True), nullable=False),
        _money("total_equity", nullable=False),
        _money("cash_balance", nullable=False),
        _money("long_market_value", nullable=False),
        _money("short_market_value", nullable=False),
        sa.Column("positions_count", sa.Integer(), nullable=False),
        _money("realized_pnl"),
        _money("unrealized_pnl"),
        sa.Column("total_trades", sa.Integer(), nullable=False),
        sa.Column("winning_trades", sa.Integer(), nullable=False),
        sa.Column("losing_trades", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "positions_count >= 0", name=op.f("ck_intraday_snapshots_positions_count_non_negative")
        ),
        sa.CheckConstraint(
            "total_trades >= 0 AND winning_trades >= 0 AND losing_trades >= 0",
            name=op.f("ck_intraday_snapshots_trade_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "winning_trades + losing_trades <= total_trades",
            name=op.f("ck_intraday_snapshots_wins_losses_le_trades"),
        ),
        sa.ForeignKeyConstraint(
            ["bot_id"],
            ["bots.bot_id"],
            name=op.f("fk_intraday_snapshots_bot_id_bots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_intraday_snapshots")),
    )
    with op.batch_alter_table(SNAPSHOTS) as batch:
        batch.create_index(
            "idx_intraday_snapshots_bot_time",
            ["bot_id", "snapshot_time", "snapshot_kind"],
            unique=True,
        )
    op.create_table(
        SYMBOLS,
        sa.Column(
            "snapshot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        _money("quantity", nullable=False),
        _money("market_value", nullable=False),
        _money("realized_pnl", nullable=False),
        _money("unrealized_pnl", nullable=False),
        sa.CheckConstraint(
            "ticker <> ''", name=op.f("ck_intraday_snapshot_symbols_ticker_not_empty")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["intraday_snapshots.snapshot_id"],
            name=op.f("fk_intraday_snapshot_symbols_snapshot_id_intraday_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "ticker", name=op.f("pk_intraday_snapshot_symbols")),
    )
    _first_sessions()


def _first_sessions() -> None:
    """A session per bot that has started, from ``bots.started_at`` / ``ended_at``; its
    created_at / updated_at are those times too (the bot's own clock, not the server's)."""
    op.execute(
        f"INSERT INTO {SESSIONS} (bot_id, started_at, ended_at, end_reason, created_at, "
        "updated_at) "
        "SELECT bot_id, started_at, ended_at, "
        "CASE WHEN ended_at IS NULL THEN NULL WHEN status = 'error' THEN 'error' "
        "ELSE 'stopped' END, started_at, COALESCE(ended_at, started_at) "
        "FROM bots WHERE started_at IS NOT NULL ORDER BY bot_id"
    )


def downgrade() -> None:
    _refuse_lost_rows()
    op.drop_table(SYMBOLS)
    with op.batch_alter_table(SNAPSHOTS) as batch:
        batch.drop_index("idx_intraday_snapshots_bot_time")
    op.drop_table(SNAPSHOTS)
    with op.batch_alter_table(SESSIONS) as batch:
        batch.drop_index("uq_trading_sessions_open")
        batch.drop_index("idx_trading_sessions_bot_started")
    op.drop_table(SESSIONS)


def _refuse_lost_rows() -> None:
    """Name the sessions and snapshots the downgrade would lose, or return."""
    bind = op.get_bind()
    recorded = " OR ".join(f"s.{column} IS NOT NULL" for column in RECORDED)
    # Null-safe: a plain ``s.started_at = b.started_at`` is NULL, not false, when the bot's
    # started_at is NULL (or one side's ended_at is), and NOT NULL kept such a session out
    # of the refusal although 0009 has nowhere to hold it.
    same_start = _same("s.started_at", "b.started_at")
    same_end = _same("s.ended_at", "b.ended_at")
    sessions = bind.execute(
        sa.text(
            f"SELECT s.bot_id, s.session_id FROM {SESSIONS} s JOIN bots b ON b.bot_id = s.bot_id "
            f"WHERE NOT ({same_start} AND {same_end}) OR {recorded} "
            "OR (s.end_reason IS NOT NULL AND s.end_reason NOT IN ('stopped', 'error')) "
            f"OR (SELECT COUNT(*) FROM {SESSIONS} t WHERE t.bot_id = s.bot_id) > 1 "
            f"ORDER BY s.bot_id, s.session_id LIMIT {_SHOWN + 1}"
        )
    ).all()
    snapshots = bind.execute(
        sa.text(
            f"SELECT bot_id, snapshot_id FROM {SNAPSHOTS} ORDER BY bot_id, snapshot_id "
            f"LIMIT {_SHOWN + 1}"
        )
    ).all()
    problems = []
    for rows, what in ((sessions, "trading sessions"), (snapshots, "intraday snapshots")):
        if rows:
            named = ", ".join(f"(bot {bot!r}, id {key})" for bot, key in rows[:_SHOWN])
            more = " and more" if len(rows) > _SHOWN else ""
            problems.append(f"{what} {named}{more}")
    if problems:
        raise RuntimeError(
            "cannot downgrade below 0010: revision 0009 keeps only each bot's latest session "
            "start and end, and no intraday snapshot; these rows would be lost: "
            + "; ".join(problems)
            + f". Export them if they matter, then DELETE FROM {SESSIONS} / {SNAPSHOTS} "
            "the ones listed and downgrade again; nothing was changed."
        )


def _same(left: str, right: str) -> str:
    """SQL true when ``left`` and ``right`` are equal or both NULL, false otherwise (never
    NULL): the comparison both backends spell alike (PostgreSQL's IS NOT DISTINCT FROM is
    SQLite's IS)."""
    return f"COALESCE({left} = {right}, {left} IS NULL AND {right} IS NULL)"
