"""The hot-path executor converts values exactly as Core does, on both backends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from tradestore import Database
from tradestore.models import Bot
from tradestore.prepared import Prepared

BOTS = Bot.__table__
EASTERN = dt.timezone(dt.timedelta(hours=-5))
VALUES = {
    "bot_id": "b-1",
    "mode": "paper",
    "status": "running",
    "starting_balance": Decimal("100000.25"),
    "total_pnl": Decimal("-12.5"),
    "total_commission": Decimal("0"),
    "last_heartbeat": dt.datetime(2026, 1, 5, 9, 30, tzinfo=EASTERN),
    "config": {"risk": 0.02, "tickers": ["AAPL"]},
}
COLUMNS = [BOTS.c[name] for name in VALUES]
INSERT = Prepared(
    insert(BOTS).values({name: bindparam(name, type_=BOTS.c[name].type) for name in VALUES}),
    name="test.bots.insert",
)
SELECT = Prepared(select(*COLUMNS).where(BOTS.c.bot_id == bindparam("bot_id")), name="test.bots")


def test_round_trip_matches_core(db: Database) -> None:
    with db.session() as session:
        connection = session.connection()
        assert INSERT.execute(connection, VALUES).rowcount == 1
        prepared = SELECT.execute(connection, {"bot_id": "b-1"}).rows
        core = connection.execute(select(*COLUMNS).where(BOTS.c.bot_id == "b-1")).all()
    assert prepared == [tuple(core[0])]
    row = dict(zip(VALUES, prepared[0], strict=True))
    assert row["starting_balance"] == Decimal("100000.25")
    assert row["last_heartbeat"] == dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
    assert row["last_heartbeat"].tzinfo == dt.UTC
    assert row["config"] == VALUES["config"]


def test_validated_binds_equal_full_binds_for_canonical_values(db: Database) -> None:
    """``validated=True`` skips only the TypeDecorator re-checks, not the conversion."""
    trusting = Prepared(INSERT._build, name="test.bots.insert.validated", validated=True)
    canonical = VALUES | {"last_heartbeat": VALUES["last_heartbeat"].astimezone(dt.UTC)}
    dialect = db.engine.dialect
    assert trusting.compiled(dialect).bind(canonical) == INSERT.compiled(dialect).bind(canonical)


def test_driver_errors_are_wrapped_like_core(db: Database) -> None:
    with db.session() as session:
        connection = session.connection()
        INSERT.execute(connection, VALUES)
        with pytest.raises(IntegrityError):
            INSERT.execute(connection, VALUES)
        session.rollback()


def test_statements_rendered_per_execution_are_refused(db: Database) -> None:
    expanding = Prepared(
        select(BOTS.c.bot_id).where(BOTS.c.bot_id.in_(bindparam("ids", expanding=True))),
        name="test.expanding",
    )
    with pytest.raises(ValueError, match="fixed SQL"):
        expanding.compiled(db.engine.dialect)


def test_a_statement_per_dialect(db: Database) -> None:
    seen: list[str] = []

    def build(dialect: str) -> object:
        seen.append(dialect)
        return select(BOTS.c.bot_id)

    prepared = Prepared(build, name="test.per_dialect")  # type: ignore[arg-type]
    prepared.compiled(db.engine.dialect)
    prepared.compiled(db.engine.dialect)
    assert seen == [db.dialect_name]


def test_a_value_the_statement_carries_is_used_unless_one_is_passed(db: Database) -> None:
    """``.limit(1)`` binds its own value; a missing required name still fails loudly."""
    first = Prepared(
        select(BOTS.c.bot_id)
        .where(BOTS.c.mode == bindparam("mode"))
        .order_by(BOTS.c.bot_id)
        .limit(1),
        name="test.bots.first",
    )
    with db.session() as session:
        connection = session.connection()
        for bot_id in ("b-2", "b-1"):
            INSERT.execute(connection, VALUES | {"bot_id": bot_id})
        assert first.execute(connection, {"mode": "paper"}).rows == [("b-1",)]
        assert first.execute(connection, {"mode": "live"}).rows == []
        with pytest.raises(KeyError, match="mode"):
            first.execute(connection, {})
