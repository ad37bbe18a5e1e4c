"""Revision 0009 (trade attributes, gross P&L, slippage in basis points, period metrics, the
relaxed stop rule), up, down and up again, on both backends: the upgrade derives for older rows
exactly what the repositories write, and the downgrade refuses what 0008 cannot hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from tradestore import Database
from tradestore.errors import MigrationError
from tradestore.migrate import compare_schema

D = Decimal
T0 = dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)
#: The closes above happen at the Database clock's now (the host's).
TODAY = dt.datetime.now(dt.UTC).date()
DERIVED = {"closed_positions": ("gross_pnl", "slippage_bps"), "orders": ("slippage_bps",)}


def _trade(database: Database) -> None:
    """A long closed in two parts with slippage, a short at a loss, filled orders of each kind
    of reference (a limit price, a market order's reference price, none)."""
    with database.unit_of_work(bot_id="alpha") as uow:
        uow.bots.register("alpha", mode="paper")
        uow.positions.open("AAPL", side="long", quantity=D(10), entry_price=D("100.5"),
                           position_id="p-1", commission=D("0.3"), opened_at=T0)  # fmt: skip
        uow.positions.close("p-1", exit_price=D("110.25"), exit_reason="manual", quantity=D(3),
                            slippage=D("0.07"), commission=D("0.1"))  # fmt: skip
        uow.positions.close("p-1", exit_price=D("97"), exit_reason="stop_loss",
                            slippage=D("-0.013"))  # fmt: skip
        uow.positions.open("MSFT", side="short", quantity=D("0.5"), entry_price=D(300),
                           position_id="p-2", opened_at=T0)  # fmt: skip
        uow.positions.close("p-2", exit_price=D("301.7"), exit_reason="manual")
        for n, (kind, limit, reference, price) in enumerate(
            (
                ("limit", D(250), None, D("249.84")),
                ("market", None, D("33.333"), D("33.5")),
                ("market", None, None, D(12)),
            )
        ):
            uow.orders.submit(
                client_order_id=f"c-{n}", order_id=f"o-{n}", ticker="TSLA", side="buy",
                order_type=kind, quantity=D(3), limit_price=limit, reference_price=reference,
            )  # fmt: skip
            uow.orders.record_fill(f"o-{n}", fill_id=f"f-{n}", quantity=D(3), price=price)


def _derived(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The derived columns of every row, read as numbers."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, columns in DERIVED.items():
        rows = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1"))
        out[table] = [tuple(None if v is None else D(str(v)) for v in row) for row in rows]
    return out


def _columns(connection: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(connection).get_columns(table)}


@pytest.fixture
def traded(fresh_url: str) -> Iterator[Database]:
    database = Database(fresh_url, check_schema=False)
    database.upgrade()
    _trade(database)
    yield database
    database.dispose()


def test_up_down_up_derives_what_the_repositories_write(traded: Database) -> None:
    with traded.connect() as connection:
        written = _derived(connection)
        kept = connection.execute(text("SELECT realized_pnl FROM closed_positions")).all()
    # The repositories wrote the figures (none is missing where a slippage was given).
    assert [bps is not None for _gross, bps in written["closed_positions"]].count(True) == 2
    assert [bps is not None for (bps,) in written["orders"]].count(True) == 2

    traded.downgrade("0008")

    with traded.connect() as connection:
        assert "gross_pnl" not in _columns(connection, "closed_positions")
        assert "slippage_bps" not in _columns(connection, "orders")
        assert "period_metrics" not in inspect(connection).get_table_names()

    traded.upgrade()

    with traded.connect() as connection:
        assert compare_schema(connection) == []
        assert _derived(connection) == written
        assert connection.execute(text("SELECT realized_pnl FROM closed_positions")).all() == kept
    with traded.unit_of_work(bot_id="alpha", readonly=True) as uow:
        parts = sorted(uow.positions.list_closed(), key=lambda c: c.closed_position_id)
        for part in parts:
            assert part.gross_pnl is not None
            assert part.realized_pnl == part.gross_pnl - part.commission
        assert parts[0].gross_pnl == 3 * (D("110.25") - D("100.5"))
        assert parts[2].gross_pnl == D("0.5") * (300 - D("301.7"))


def test_the_old_stop_rule_comes_back_with_the_downgrade(traded: Database) -> None:
    with traded.unit_of_work(bot_id="alpha") as uow:
        uow.positions.open("NVDA", side="long", quantity=D(1), entry_price=D(100),
                           position_id="p-3")  # fmt: skip
    traded.downgrade("0008")
    with traded.connect() as connection, pytest.raises(Exception, match="stops_by_side"):
        connection.execute(
            text("UPDATE positions SET stop_loss_price = 105 WHERE position_id = 'p-3'")
        )
    traded.upgrade()
    with traded.connect() as connection:
        connection.execute(
            text("UPDATE positions SET stop_loss_price = 105 WHERE position_id = 'p-3'")
        )
        connection.rollback()


@pytest.mark.parametrize(
    ("what", "named"),
    [
        ("entry_logic", "positions rows holding entry_logic, interval: ('alpha', 'p-9')"),
        ("exit_logic", "closed_positions rows holding entry_logic, exit_logic, interval"),
        ("stop", "open positions whose stop locks in a profit"),
        ("periods", "4 period_metrics rows"),
        ("largest", "performance_metrics rows holding largest_win_30d, largest_loss_30d"),
    ],
)
def test_the_downgrade_refuses_what_0008_cannot_hold(
    traded: Database, what: str, named: str
) -> None:
    with traded.unit_of_work(bot_id="alpha") as uow:
        if what == "entry_logic":
            uow.positions.open("NVDA", side="long", quantity=D(1), entry_price=D(100),
                               position_id="p-9", entry_logic="rsi", interval="5m")  # fmt: skip
        elif what == "exit_logic":
            uow.positions.open("NVDA", side="long", quantity=D(1), entry_price=D(100),
                               position_id="p-9")  # fmt: skip
            uow.positions.close("p-9", exit_price=D(101), exit_reason="manual",
                                exit_logic="atr_exit")  # fmt: skip
        elif what == "stop":
            uow.positions.open("NVDA", side="long", quantity=D(1), entry_price=D(100),
                               position_id="p-9", current_price=D(120))  # fmt: skip
            uow.positions.update("p-9", stop_loss_price=D(110))
        elif what == "periods":
            uow.metrics.compute_periods(TODAY)
        else:
            uow.metrics.compute(TODAY)
    with traded.connect() as connection:
        before = {
            table: connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).mappings().all()
            for table in ("positions", "closed_positions", "period_metrics", "performance_metrics")
        }

    with pytest.raises(MigrationError) as refused:
        traded.downgrade("0008")

    message = str(refused.value)
    assert "cannot downgrade to 0008" in message
    assert named in message
    assert "Nothing was changed" in message
    assert traded.current_revision() == "0009"
    with traded.connect() as connection:
        for table, rows in before.items():
            after = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).mappings()
            kept = after.keys()  # later revisions' columns went with their own downgrades
            assert after.all() == [{k: row[k] for k in kept} for row in rows]
