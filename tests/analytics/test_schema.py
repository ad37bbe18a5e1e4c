"""The read side's view declarations match the views the migrations created."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from tradestore import Database
from tradestore.analytics import schema


def test_declared_columns_match_the_views(db: Database):
    with db.session(readonly=True) as session:
        for view in schema.VIEWS:
            result = session.execute(text(f"SELECT * FROM {view.name} WHERE 1 = 0"))
            assert list(result.keys()) == [c.name for c in view.columns], view.name


def test_every_view_is_declared(db: Database):
    with db.connect() as connection:
        present = set(inspect(connection).get_view_names())
    assert present == {v.name for v in schema.VIEWS}


def test_trading_views_carry_bot_id():
    training = {
        "v_agent_leaderboard",
        "v_current_ensemble",
        "v_training_summary",
        "v_hyperparameter_results",
    }
    for view in schema.VIEWS:
        assert ("bot_id" in view.c) == (view.name not in training), view.name


def test_views_are_documented_in_the_database(db: Database):
    with db.session(readonly=True) as session:
        if db.dialect_name == "postgresql":
            comments = dict(
                session.execute(
                    text(
                        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                        "WHERE c.relkind = 'v' AND c.relname LIKE 'v\\_%'"
                    )
                ).all()
            )
        else:
            comments = dict(
                session.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'view'")
                ).all()
            )
    assert set(comments) == {v.name for v in schema.VIEWS}
    if db.dialect_name == "sqlite":  # no comments: the text travels in the view's statement
        comments = {
            name: sql.split("/* ", 1)[1].split(" */", 1)[0] for name, sql in comments.items()
        }
    assert (
        comments["v_recent_orders"] == "The last 100 orders of each bot with formatted timestamps."
    )
    assert all(comment and comment.endswith(".") for comment in comments.values()), comments
    # What the comment says, not the document it came from (docs/lineage.md maps those).
    assert not [name for name, comment in comments.items() if "seed" in comment.lower()]


def test_postgresql_functions(db: Database):
    if db.dialect_name != "postgresql":
        pytest.skip("PostgreSQL functions")
    with db.session(readonly=True) as session:
        signatures = dict(
            session.execute(
                text(
                    "SELECT proname, pg_get_function_arguments(oid) FROM pg_proc "
                    "WHERE proname LIKE 'get_paper%'"
                )
            ).all()
        )
    assert signatures == {
        "get_paper_total_pnl": "bot_id text DEFAULT NULL::text",
        "get_paper_fill_rate": (
            "symbol text, days integer DEFAULT 7, bot_id text DEFAULT NULL::text"
        ),
    }
    assert set(signatures) == set(schema.POSTGRESQL_FUNCTIONS)
