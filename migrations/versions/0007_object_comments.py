"""Comments on the views and functions say what they hold, not which source document they follow.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Revision 0004 ended every comment with the number of the source document the object came from,
which means nothing to someone reading ``\\dv+`` in psql or ``.schema`` in sqlite3 (the mapping
is docs/lineage.md). This revision drops that suffix and changes nothing else. On PostgreSQL it
is ``COMMENT ON``; SQLite has no comments, and 0004 put the text in each view's statement
(``CREATE VIEW v AS /* ... */ SELECT ...``), so there the view is created again from the
statement the database holds with only the comment replaced. A view whose statement no longer
carries the old comment (redefined by hand) is left as it is. The downgrade puts the old
comments back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (view, comment, number of the source document 0004's comment named), in creation order.
_VIEWS: tuple[tuple[str, str, str], ...] = (
    ("v_position_summary", "Open positions with calculated fields", "000"),
    (
        "v_recent_closed_trades",
        "The last 100 closed trades of each bot with outcome WIN/LOSS/BREAKEVEN",
        "000",
    ),
    ("v_recent_orders", "The last 100 orders of each bot with formatted timestamps", "000"),
    (
        "v_order_fill_stats",
        "Fill statistics per order that has fills: count, VWAP, best and worst price for the "
        "order's side",
        "000",
    ),
    ("v_equity_curve", "Portfolio value over time, one row per bot and day", "000"),
    ("v_performance_summary", "Performance metrics of the last 30 days", "000"),
    (
        "v_agent_leaderboard",
        "Evaluations of completed training runs, best Sharpe ratio first; NaN and NULL Sharpe "
        "ratios are not ranked",
        "000",
    ),
    ("v_current_ensemble", "Active ensemble composition", "000"),
    (
        "v_training_summary",
        "One row per training run with its learning rate and the metrics of its latest "
        "validation evaluation, else its latest evaluation of any type",
        "000",
    ),
    (
        "v_hyperparameter_results",
        "Hyperparameters with each evaluation of their run, best Sharpe ratio first, NaN and "
        "NULL last",
        "000",
    ),
    ("v_paper_recent_orders", "Orders submitted in the last 24 hours", "003"),
    (
        "v_paper_active_positions",
        "Open positions with unrealized, realized (closed parts) and total P&L",
        "003",
    ),
    ("v_paper_daily_summary", "Orders per bot, UTC trading day and ticker", "003"),
)

#: (signature, comment, source document number) of the PostgreSQL functions.
_FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "get_paper_total_pnl(text)",
        "Realized (closed positions) plus unrealized (open positions) P&L of one bot, or of all "
        "bots when bot_id is NULL",
        "003",
    ),
    (
        "get_paper_fill_rate(text, integer, text)",
        "Filled orders / all orders submitted for symbol in the last days days, of one bot or of "
        "all bots when bot_id is NULL; NULL when there were no orders",
        "003",
    ),
)


def _comment(text: str, document: str, *, old: bool) -> str:
    """The comment this revision writes, or (``old``) the one revision 0004 wrote."""
    return f"{text} (seed {document})." if old else f"{text}."


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _execute(sql: str) -> None:
    """Run literal SQL; colons are escaped so 'HH24:MI:SS' is not read as a bind parameter."""
    op.execute(sa.text(sql.replace(":", "\\:")))


def _set_comments(*, old: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for view, text, document in _VIEWS:
            _execute(f"COMMENT ON VIEW {view} IS {_quote(_comment(text, document, old=old))}")
        for signature, text, document in _FUNCTIONS:
            comment = _comment(text, document, old=old)
            _execute(f"COMMENT ON FUNCTION {signature} IS {_quote(comment)}")
    elif dialect == "sqlite":
        rows = op.get_bind().execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'view'")
        )
        statements = {str(name): str(sql) for name, sql in rows}
        for view, text, document in _VIEWS:
            current = f"/* {_comment(text, document, old=not old)} */"
            statement = statements.get(view)
            if statement is None or current not in statement:
                continue
            # SQLite keeps no view dependencies: a view reading this one works again as soon as
            # it exists again, within this transaction.
            _execute(f'DROP VIEW "{view}"')
            replaced = f"/* {_comment(text, document, old=old)} */"
            _execute(statement.replace(current, replaced, 1))
    else:
        raise NotImplementedError(f"revision 0007 has no SQL for the {dialect} dialect")


def upgrade() -> None:
    _set_comments(old=False)


def downgrade() -> None:
    _set_comments(old=True)
