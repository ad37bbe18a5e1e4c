"""``RecordReader`` (tradestore/db/records.py) returns exactly what the typed path returns:
the column types' own result processors and the record's ``__init__``, on both backends, for
the values that take the fast decoders and for those that fall back (NULLs, NaN, integral
amounts stored as integers, free-text exit reasons, text another tool wrote)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from tradestore import Database
from tradestore.db.records import RecordReader
from tradestore.models import Bot
from tradestore.repositories import positions as positions_module
from tradestore.repositories.positions import ClosedPositionRecord, PositionRecord

D = Decimal
T0 = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)


def _typed(db: Database, table: str) -> list[object]:
    """Every row of ``table`` read through the column types and the record's __init__."""
    columns, record = (
        (positions_module._CLOSED_COLUMNS, ClosedPositionRecord)
        if table == "closed_positions"
        else (positions_module._POSITION_COLUMNS, PositionRecord)
    )
    key = columns[0]
    with db.connect() as connection:
        rows = connection.execute(select(*columns).order_by(key)).all()
    return [record(*row) for row in rows]


def _fast(db: Database, reader: RecordReader[object]) -> list[object]:
    columns = reader.columns(db.dialect_name)
    with db.connect() as connection:
        rows = connection.execute(select(*columns).order_by(columns[0])).all()
        return reader.records(connection.dialect, rows)


def _same(left: list[object], right: list[object]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        for name, value in a.__dict__.items():
            other = b.__dict__[name]
            if isinstance(value, float) and math.isnan(value):
                assert isinstance(other, float), name
                assert math.isnan(other), name
            else:
                assert (type(value), value) == (type(other), other), name


@pytest.fixture
def filled(db: Database) -> Database:
    with db.session() as session:
        session.add(Bot(bot_id="alpha"))
    with db.unit_of_work(bot_id="alpha") as uow:
        plain = uow.positions.open(
            "AAPL", side="long", quantity=D(3), entry_price=D(100), opened_at=T0
        )
        uow.positions.open(
            "ETH", side="short", quantity=D("0.123456789012345"), entry_price=D("1234.5678"),
            stop_loss_price=D(1300), strategy="dca", signal_score=0.25,
            metadata={"k": [1, 2.5, None]}, commission=D("0.000000001"), opened_at=T0,
        )  # fmt: skip
        uow.positions.close(
            plain.position_id, exit_price=D("101.25"), exit_reason="my own reason",
            quantity=D(1), slippage=D("-0.01"), closed_at=T0 + dt.timedelta(hours=1),
        )  # fmt: skip
        uow.positions.close(
            plain.position_id, exit_price=D(99), exit_reason="stop_loss",
            closed_at=T0 + dt.timedelta(hours=2),
        )  # fmt: skip
    return db


def test_listings_equal_the_typed_path(filled: Database) -> None:
    _same(_fast(filled, positions_module._CLOSED_RECORDS), _typed(filled, "closed_positions"))
    _same(_fast(filled, positions_module._OPEN_RECORDS), _typed(filled, "positions"))
    with filled.unit_of_work(bot_id="alpha", readonly=True) as uow:
        closed = list(uow.positions.list_closed())
        opened = list(uow.positions.list_open())
    _same(sorted(closed, key=lambda r: r.closed_position_id), _typed(filled, "closed_positions"))
    _same(opened, _typed(filled, "positions"))


@pytest.mark.sqlite_only
def test_unusual_stored_values_fall_back_to_the_processors(filled: Database) -> None:
    """What another tool may have written on SQLite: a NaN percentage, an integral amount, a
    timestamp with an offset; the reader answers what the column types answer."""
    with filled.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE positions SET unrealized_pnl_pct = 'NaN', entry_price = 100, "
                "opened_at = '2026-01-05 14:30:00.000000+00:00' WHERE ticker = 'ETH'"
            )
        )
    _same(_fast(filled, positions_module._OPEN_RECORDS), _typed(filled, "positions"))
