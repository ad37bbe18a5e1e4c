"""Revision 0004 (views, functions, indexes) and the rule that keeps views alive later.

Round trips run on an empty database of each backend with data in the tables. The rule is
tested with throwaway revisions: the migrations folder is copied to a temporary directory
and a revision after head (``THROWAWAY_ID``) that alters a table under the views is written
into it.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, inspect, text
from sqlalchemy.exc import SAWarning

from tradestore import Database
from tradestore.analytics import Analytics, schema
from tradestore.errors import MigrationError, TradestoreError
from tradestore.migrate import _include_object, alembic_config, script_location
from tradestore.models import Bot, ClosedPosition, Fill, Order, Position

VIEW_NAMES = {v.name for v in schema.VIEWS}
ADDED_INDEXES = {
    ("orders", "idx_orders_bot_submitted_at"),
    ("orders", "idx_orders_bot_ticker_submitted_at"),
    ("orders", "idx_orders_bot_order_type_slippage"),
    ("orders", "idx_orders_filled_at"),
    ("closed_positions", "idx_closed_positions_bot_realized_pnl"),
    ("closed_positions", "idx_closed_positions_bot_exit_reason"),
}
NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)
#: The real head, and the id of the throwaway revision written after it.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
THROWAWAY_ID = f"{int(HEAD or 0) + 1:04d}"


def insert_rows(database: Database) -> None:
    with database.session() as session:
        session.execute(insert(Bot), [{"bot_id": "alpha"}])
        session.execute(
            insert(Position),
            [
                {
                    "position_id": "p-1",
                    "bot_id": "alpha",
                    "ticker": "AAPL",
                    "side": "long",
                    "quantity": Decimal("10"),
                    "entry_price": Decimal("100"),
                    "current_price": Decimal("101.5"),
                    "unrealized_pnl": Decimal("15"),
                    "opened_at": NOW - dt.timedelta(hours=3),
                    "updated_at": NOW,
                }
            ],
        )
        session.execute(
            insert(ClosedPosition),
            [
                {
                    "position_id": "p-1",
                    "bot_id": "alpha",
                    "ticker": "AAPL",
                    "side": "long",
                    "quantity": Decimal("5"),
                    "entry_price": Decimal("100"),
                    "exit_price": Decimal("104"),
                    "realized_pnl": Decimal("20"),
                    "realized_pnl_pct": 4.0,
                    "opened_at": NOW - dt.timedelta(hours=3),
                    "closed_at": NOW - dt.timedelta(hours=1),
                    "updated_at": NOW,
                    "holding_period_hours": 2.0,
                    "exit_reason": "take_profit",
                }
            ],
        )
        session.execute(
            insert(Order),
            [
                {
                    "order_id": "o-1",
                    "bot_id": "alpha",
                    "client_order_id": "c-1",
                    "ticker": "AAPL",
                    "order_type": "market",
                    "side": "buy",
                    "quantity": Decimal("10"),
                    "status": "new",
                    "submitted_at": NOW - dt.timedelta(hours=3),
                    "updated_at": NOW,
                }
            ],
        )


def objects(connection: Connection) -> dict[str, set[object]]:
    inspector = inspect(connection)
    indexes = {
        (table, ix["name"])
        for table in ("orders", "closed_positions")
        for ix in inspector.get_indexes(table)
    }
    functions: set[object] = set()
    if connection.dialect.name == "postgresql":
        functions = set(
            connection.execute(
                text("SELECT proname FROM pg_proc WHERE proname LIKE 'get_paper%'")
            ).scalars()
        )
        indexes |= {
            ("orders", name)
            for name in connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname = 'idx_orders_trade_date'")
            ).scalars()
        }
    return {
        "views": set(inspector.get_view_names()),
        "indexes": indexes,
        "functions": functions,
    }


def test_round_trip_with_views_in_place(fresh_url: str):
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade()
        insert_rows(database)
        with database.connect() as connection:
            at_head = objects(connection)
        assert at_head["views"] == VIEW_NAMES
        assert at_head["indexes"] >= ADDED_INDEXES
        if database.dialect_name == "postgresql":
            assert at_head["functions"] == {"get_paper_total_pnl", "get_paper_fill_rate"}
            assert ("orders", "idx_orders_trade_date") in at_head["indexes"]
        with database.session(readonly=True) as session:
            before = Analytics(session).active_positions()

        database.downgrade("0003")
        with database.connect() as connection:
            down = objects(connection)
            kept = connection.execute(text("SELECT COUNT(*) FROM closed_positions")).scalar()
        assert down == {
            "views": set(),
            # Revision 0008's unique broker id index goes too.
            "indexes": at_head["indexes"]
            - ADDED_INDEXES
            - {("orders", "idx_orders_trade_date"), ("orders", "idx_orders_broker_order_id")},
            "functions": set(),
        }
        assert kept == 1

        database.upgrade()
        with database.connect() as connection:
            assert objects(connection) == at_head
        with database.session(readonly=True) as session:
            assert Analytics(session).active_positions() == before
            assert before[0].total_pnl == Decimal("35")

        database.downgrade("base")
        with database.connect() as connection:
            assert inspect(connection).get_view_names() == []
            history = connection.execute(
                text(
                    "SELECT migration_id, status FROM migration_history "
                    "WHERE migration_id = '0004' ORDER BY history_id"
                )
            ).all()
        assert history == [
            ("0004", "applied"),
            ("0004", "rolled_back"),
            ("0004", "applied"),
            ("0004", "rolled_back"),
        ]
    finally:
        database.dispose()


def test_step_by_step_up_and_down(fresh_url: str):
    """pytest-alembic's up/down consistency, with 0004's views in place at every step."""
    database = Database(fresh_url, check_schema=False)
    try:
        for revision in ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"):
            database.upgrade(revision)
            assert database.current_revision() == revision
        for revision in ("0007", "0006", "0005", "0004", "0003", "0002", "0001", "base"):
            database.downgrade(revision)
            assert database.current_revision() == (None if revision == "base" else revision)
    finally:
        database.dispose()


def test_models_match_the_migrations_with_views_present(fresh_url: str):
    """`alembic check` is clean at head on both backends: the views and the PostgreSQL-only
    expression index are not reported, and nothing warns (SQLite cannot reflect expression
    indexes, so there must be none there)."""
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade()
    finally:
        database.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        command.check(alembic_config(fresh_url))


def test_include_object_skips_only_views_and_unmodelled_indexes():
    assert not _include_object(None, "v_recent_orders", "table", True, None)
    assert _include_object(None, "orders", "table", True, None)
    assert _include_object(None, "v_new_table", "table", False, None)  # in the models
    assert not _include_object(None, "idx_orders_trade_date", "index", True, None)
    assert _include_object(None, "idx_orders_ticker", "index", True, None)


# --- the rule: later revisions that alter tables under views ------------------------------


THROWAWAY = '''
"""Throwaway revision written by tests/migrations/test_views_revision.py."""

import sqlalchemy as sa
from alembic import op

from tradestore.db.view_ddl import preserved_views

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

WIDEN = """
    with op.batch_alter_table("closed_positions") as batch:
        batch.alter_column("ticker", existing_type=sa.String(32), type_=sa.String(64))
"""
NARROW = """
    with op.batch_alter_table("closed_positions") as batch:
        batch.alter_column("ticker", existing_type=sa.String(64), type_=sa.String(32))
"""


def _indent(body: str, wrap: str | None) -> str:
    body = textwrap.dedent(body).strip("\n")
    if wrap is None:
        return textwrap.indent(body, "    ")
    return textwrap.indent(f"{wrap}\n" + textwrap.indent(body, "    "), "    ")


def scripts_with(tmp_path: Path, upgrade: str, downgrade: str) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(script_location(), target, ignore=shutil.ignore_patterns("__pycache__"))
    source = THROWAWAY.format(
        revision=THROWAWAY_ID, down_revision=HEAD, upgrade=upgrade, downgrade=downgrade
    )
    (target / "versions" / f"{THROWAWAY_ID}_throwaway.py").write_text(source)
    return target


def migrate(database: Database, scripts: Path, action: str, revision: str) -> None:
    with database.connect() as connection:
        config = alembic_config(connection=connection)
        config.set_main_option("script_location", str(scripts))
        getattr(command, action)(config, revision)


def definitions(connection: Connection) -> dict[str, str]:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'v' AND n.nspname = current_schema()"
            )
        )
    else:
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'view'"))
    return {str(name): str(sql) for name, sql in rows}


@pytest.fixture
def at_head(fresh_url: str):
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    insert_rows(database)
    with database.connect() as connection:
        # A user's view on top of ours: preserved too, and re-created after it.
        connection.execute(
            text(
                "CREATE VIEW my_winners AS "
                "SELECT ticker, realized_pnl FROM v_recent_closed_trades WHERE outcome = 'WIN'"
            )
        )
        if database.dialect_name == "postgresql":
            connection.execute(text("GRANT SELECT ON v_recent_closed_trades TO PUBLIC"))
            connection.execute(
                text("ALTER VIEW v_paper_active_positions SET (security_barrier = true)")
            )
        connection.commit()
    yield database
    database.dispose()


def test_altering_a_table_under_views_fails_without_the_rule(at_head: Database, tmp_path: Path):
    """The failure the rule exists for is real on both backends, and harmless: the revision
    rolls back and the database stays at head with its views."""
    scripts = scripts_with(tmp_path, _indent(WIDEN, None), _indent(NARROW, None))
    with at_head.connect() as connection:
        before = definitions(connection)
    with pytest.raises(TradestoreError) as raised:
        migrate(at_head, scripts, "upgrade", THROWAWAY_ID)
    message = str(raised.value)
    if at_head.dialect_name == "postgresql":
        assert "used by a view" in message
    else:
        assert "error in view" in message
    assert at_head.current_revision() == HEAD
    with at_head.connect() as connection:
        assert definitions(connection) == before


def test_preserved_views_keep_views_across_a_table_rebuild(at_head: Database, tmp_path: Path):
    wrap = 'with preserved_views("closed_positions") as views:'
    scripts = scripts_with(tmp_path, _indent(WIDEN, wrap), _indent(NARROW, wrap))
    with at_head.connect() as connection:
        before = definitions(connection)
    with at_head.session(readonly=True) as session:
        trades_before = Analytics(session).recent_closed_trades()
        positions_before = Analytics(session).active_positions()

    migrate(at_head, scripts, "upgrade", THROWAWAY_ID)

    assert at_head.current_revision() == THROWAWAY_ID
    with at_head.connect() as connection:
        assert definitions(connection) == before
        ticker = next(
            c for c in inspect(connection).get_columns("closed_positions") if c["name"] == "ticker"
        )
        assert ticker["type"].length == 64
        winners = connection.execute(text("SELECT ticker FROM my_winners")).scalars().all()
        if at_head.dialect_name == "postgresql":
            acl, options, comment = connection.execute(
                text(
                    "SELECT relacl::text, reloptions::text, obj_description(oid, 'pg_class') "
                    "FROM pg_class WHERE relname = :name"
                ),
                {"name": "v_recent_closed_trades"},
            ).one()
            assert "=r/" in acl  # SELECT granted to PUBLIC survived
            assert comment.startswith("The last 100 closed trades")
            barrier = connection.execute(
                text("SELECT reloptions::text FROM pg_class WHERE relname = :name"),
                {"name": "v_paper_active_positions"},
            ).scalar()
            assert barrier == "{security_barrier=true}"
            assert options is None
    assert winners == ["AAPL"]
    with at_head.session(readonly=True) as session:
        assert Analytics(session).recent_closed_trades() == trades_before
        assert Analytics(session).active_positions() == positions_before

    migrate(at_head, scripts, "downgrade", HEAD)
    assert at_head.current_revision() == HEAD
    with at_head.connect() as connection:
        assert definitions(connection) == before


REDEFINED = (
    "SELECT bot_id, closed_position_id, position_id, ticker, realized_pnl, venue "
    "FROM closed_positions"
)


def view_columns(database: Database, name: str) -> list[str]:
    with database.connect() as connection:
        return list(connection.execute(text(f"SELECT * FROM {name} WHERE 1 = 0")).keys())


def test_a_revision_can_redefine_a_view_it_changes(at_head: Database, tmp_path: Path):
    """A revision that changes a view writes its new SQL out in full, and its downgrade the
    SQL it replaced (here copied from the database, as a real revision copies it from 0004)."""
    with at_head.connect() as connection:
        before = definitions(connection)
    original = before["v_recent_closed_trades"]
    if at_head.dialect_name == "sqlite":  # the stored statement: keep what follows "AS"
        original = original.split(" AS ", 1)[1]
    original_columns = view_columns(at_head, "v_recent_closed_trades")
    upgrade = f"""
        with preserved_views("closed_positions") as views:
            with op.batch_alter_table("closed_positions") as batch:
                batch.add_column(sa.Column("venue", sa.String(20), nullable=True))
            views.redefine("v_recent_closed_trades", {REDEFINED!r})
            views.discard("my_winners")
    """
    downgrade = f"""
        with preserved_views("closed_positions") as views:
            views.redefine("v_recent_closed_trades", {original!r})
            with op.batch_alter_table("closed_positions") as batch:
                batch.drop_column("venue")
    """
    scripts = scripts_with(tmp_path, _indent(upgrade, None), _indent(downgrade, None))

    migrate(at_head, scripts, "upgrade", THROWAWAY_ID)

    with at_head.connect() as connection:
        after = definitions(connection)
    assert view_columns(at_head, "v_recent_closed_trades") == [
        "bot_id", "closed_position_id", "position_id", "ticker", "realized_pnl", "venue",
    ]  # fmt: skip
    assert "my_winners" not in after
    untouched = set(before) - {"v_recent_closed_trades", "my_winners"}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}

    migrate(at_head, scripts, "downgrade", HEAD)

    assert view_columns(at_head, "v_recent_closed_trades") == original_columns
    with at_head.session(readonly=True) as session:
        assert [t.outcome for t in Analytics(session).recent_closed_trades()] == ["WIN"]


def test_redefining_a_view_that_does_not_depend_on_the_tables_is_an_error(
    at_head: Database, tmp_path: Path
):
    upgrade = """
        with preserved_views("closed_positions") as views:
            views.redefine("v_recent_orders", "SELECT 1 AS one")
    """
    scripts = scripts_with(tmp_path, _indent(upgrade, None), _indent("pass", None))
    with pytest.raises(KeyError, match="v_recent_orders"):
        migrate(at_head, scripts, "upgrade", THROWAWAY_ID)
    assert at_head.current_revision() == HEAD


# --- SQLite table rebuilds and foreign keys ---------------------------------------------------


def test_rebuilding_a_parent_table_keeps_its_children(at_head: Database, tmp_path: Path):
    """Rebuilding ``orders`` in batch mode must not cascade into ``fills`` (SQLite runs the
    revisions with foreign_keys off and checks them after each; see tradestore.migrate)."""
    with at_head.session() as session:
        session.execute(
            insert(Fill),
            [
                {
                    "bot_id": "alpha",
                    "fill_id": "f-1",
                    "order_id": "o-1",
                    "ticker": "AAPL",
                    "side": "buy",
                    "quantity": Decimal("4"),
                    "price": Decimal("100.5"),
                    "filled_at": NOW,
                }
            ],
        )
    upgrade = """
        with preserved_views("orders"):
            with op.batch_alter_table("orders") as batch:
                batch.alter_column("ticker", existing_type=sa.String(32), type_=sa.String(64))
    """
    scripts = scripts_with(tmp_path, _indent(upgrade, None), _indent("pass", None))
    migrate(at_head, scripts, "upgrade", THROWAWAY_ID)
    with at_head.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM fills")).scalar() == 1
        if at_head.dialect_name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with at_head.session(readonly=True) as session:
        assert Analytics(session).order_fill_stats()[0].num_fills == 1


def test_a_revision_that_breaks_foreign_keys_is_rolled_back(at_head: Database, tmp_path: Path):
    if at_head.dialect_name != "sqlite":
        pytest.skip("PostgreSQL enforces foreign keys on every statement")
    upgrade = """
        op.execute(
            "INSERT INTO fills (bot_id, fill_id, order_id, ticker, side, quantity, price, "
            "filled_at, liquidity, commission) VALUES ('alpha', 'orphan', 'no-such-order', "
            "'AAPL', 'buy', 1, 1, '2026-01-01 00:00:00.000000', 'unknown', 0)"
        )
    """
    scripts = scripts_with(tmp_path, _indent(upgrade, None), _indent("pass", None))
    with pytest.raises(MigrationError, match="violating foreign keys"):
        migrate(at_head, scripts, "upgrade", THROWAWAY_ID)
    assert at_head.current_revision() == HEAD
    with at_head.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM fills")).scalar() == 0
        failed = (
            connection.execute(
                text("SELECT status FROM migration_history WHERE migration_id = :id"),
                {"id": THROWAWAY_ID},
            )
            .scalars()
            .all()
        )
    assert failed == ["failed"]
