"""Revision 0009 (trade attributes, gross P&L, slippage in basis points, period metrics, the
relaxed stop rule), up, down and up again, on both backends: the upgrade derives for older rows
exactly what the repositories write, and the downgrade refuses what 0008 cannot hold."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, event, inspect, text

from tradestore import Database
from tradestore.db.types import from_db_number
from tradestore.domain.enums import PositionSide
from tradestore.domain.fill_accounting import slippage_bps
from tradestore.domain.money import fit
from tradestore.domain.pnl import pnl
from tradestore.errors import MigrationError
from tradestore.migrate import compare_schema, script_location

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


def _revision_page() -> int:
    """0009's page size, read from the revision file itself."""
    spec = importlib.util.spec_from_file_location(
        "revision_0009", script_location() / "versions" / "0009_trade_attributes.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page: int = module.PAGE
    return page


def _key_range(database: Database, statement: str, params: Any) -> bool:
    """Whether the backend's plan of ``statement`` reads orders' primary key as a range from
    (bot_id, order_id), rather than scanning it from the start for every page."""
    with database.connect() as connection:
        if database.dialect_name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            return any("SEARCH orders USING" in row[-1] and
                       "(bot_id,order_id)>(?,?)" in row[-1] for row in plan)  # fmt: skip
        # a small table would be scanned whatever the condition: ask for an index scan
        connection.exec_driver_sql("ANALYZE orders")
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        lines = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", params)]
        connection.rollback()
        # e.g. Index Cond: (ROW((bot_id)::text, (order_id)::text) > ROW('beta'::text, ...))
        return any(
            "Index Cond: (ROW(" in line and "bot_id" in line and "order_id" in line
            for line in lines
        )


def test_the_upgrade_derives_every_page(fresh_url: str) -> None:
    """More rows than two of the upgrade's pages (one UPDATE ... FROM (VALUES ...) each),
    written at 0008 by plain SQL: every row gets the figures the repositories' rules give,
    none is missed or mixed up at a page boundary (orders: pages cross from one bot to the
    next on the (bot_id, order_id) key)."""
    page = _revision_page()
    count = 2 * page + 3
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0008")
        at = "2026-03-02 14:30:00+00:00"
        closed = [
            {
                "position_id": f"p-{n:05d}", "side": ("long", "short")[n % 2],
                "quantity": str(D(n % 17 + 1) / 4), "entry": str(D(100) + D(n) / 8),
                "exit": str(D(101) + D(n % 13) / 4 + D(n) / 16),
                "slippage": None if n % 5 == 0 else str(D(n % 7 - 3) / 100),
                "at": at,
            }
            for n in range(count)
        ]  # fmt: skip
        orders = [
            {
                "bot": ("alpha", "beta")[n * 2 // count], "order_id": f"o-{n:05d}",
                "type": "limit" if n % 3 == 0 else "market",
                "limit": str(D(250) + D(n) / 100) if n % 3 == 0 else None,
                "reference": str(D(33) + D(n) / 1000) if n % 3 == 1 else None,
                "slippage": None if n % 11 == 0 else str(D(n % 9 + 1) / 1000),
                "at": at,
            }
            for n in range(count)
        ]  # fmt: skip
        with database.connect() as connection:
            for bot in ("alpha", "beta"):
                connection.execute(
                    text(
                        "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
                        "VALUES (:bot, 'paper', 'stopped', 0, 0)"
                    ),
                    {"bot": bot},
                )
            connection.execute(
                text(
                    "INSERT INTO closed_positions (position_id, bot_id, ticker, side, quantity, "
                    "entry_price, exit_price, realized_pnl, realized_pnl_pct, opened_at, "
                    "closed_at, updated_at, holding_period_hours, exit_reason, commission, "
                    "slippage) VALUES (:position_id, 'alpha', 'AAPL', :side, :quantity, :entry, "
                    ":exit, 1, 0.5, :at, :at, :at, 0, 'manual', 0, :slippage)"
                ),
                closed,
            )
            connection.execute(
                text(
                    "INSERT INTO orders (order_id, bot_id, client_order_id, ticker, order_type, "
                    "side, quantity, time_in_force, status, submitted_at, updated_at, "
                    "filled_quantity, commission, limit_price, reference_price, slippage) "
                    "VALUES (:order_id, :bot, :order_id, 'TSLA', :type, 'buy', 3, 'day', 'new', "
                    ":at, :at, 0, 0, :limit, :reference, :slippage)"
                ),
                orders,
            )
            connection.commit()

        updates: list[tuple[str, bool]] = []
        pages: list[tuple[str, Any]] = []

        def seen(
            _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
        ) -> None:
            if "UPDATE closed_positions" in statement or "UPDATE orders" in statement:
                updates.append(("orders" if "UPDATE orders" in statement else "closed", many))
            elif statement.startswith("SELECT bot_id, order_id, slippage"):
                pages.append((statement, params))

        event.listen(database.engine, "before_cursor_execute", seen)
        try:
            database.upgrade("0009")
        finally:
            event.remove(database.engine, "before_cursor_execute", seen)
        # Set-based: one statement per page of each table, none an executemany of a row each.
        with_slippage = sum(order["slippage"] is not None for order in orders)
        assert updates == [("closed", False)] * -(-count // page) + [("orders", False)] * -(
            -with_slippage // page
        )

        # Each page after the first reads a range of the primary key from the last key seen.
        assert len(pages) > 2
        for statement, params in pages[1:]:
            assert _key_range(database, statement, params), statement

        dialect = database.dialect_name
        with database.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT side, quantity, entry_price, exit_price, slippage, gross_pnl, "
                    "slippage_bps FROM closed_positions ORDER BY closed_position_id"
                )
            ).all()
            assert len(rows) == count
            for side, quantity, entry, exit_, slip, gross, bps in rows:
                entry_price, exit_price = from_db_number(entry), from_db_number(exit_)
                assert entry_price is not None
                assert exit_price is not None
                amount = from_db_number(quantity)
                assert amount is not None
                expected = fit(pnl(PositionSide(side), amount, entry_price, exit_price), dialect)
                assert from_db_number(gross) == expected
                expected_bps = slippage_bps(from_db_number(slip), exit_price)
                assert bps == (None if expected_bps is None else float(expected_bps))
            derived_orders = connection.execute(
                text(
                    "SELECT slippage, COALESCE(reference_price, limit_price, stop_price), "
                    "slippage_bps FROM orders ORDER BY bot_id, order_id"
                )
            ).all()
            assert len(derived_orders) == count
            for slip, reference, bps in derived_orders:
                expected_bps = slippage_bps(from_db_number(slip), from_db_number(reference))
                assert bps == (None if expected_bps is None else float(expected_bps))
            assert sum(bps is not None for *_rest, bps in derived_orders) > page
    finally:
        database.dispose()


def test_the_first_page_has_no_lower_bound(fresh_url: str) -> None:
    """A closed row with id 0 and an order whose id is empty (nothing forbids either) get
    their figures too: the first page reads from the start of the key."""
    database = Database(fresh_url, check_schema=False)
    try:
        database.upgrade("0008")
        at = "2026-03-02 14:30:00+00:00"
        with database.connect() as connection:
            connection.execute(
                text(
                    "INSERT INTO bots (bot_id, mode, status, total_pnl, total_commission) "
                    "VALUES ('alpha', 'paper', 'stopped', 0, 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO closed_positions (closed_position_id, position_id, bot_id, "
                    "ticker, side, quantity, entry_price, exit_price, realized_pnl, "
                    "realized_pnl_pct, opened_at, closed_at, updated_at, holding_period_hours, "
                    "exit_reason, commission, slippage) VALUES (0, 'p-0', 'alpha', 'AAPL', "
                    "'long', 2, 100, 101, 2, 1, :at, :at, :at, 0, 'manual', 0, 0.01)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO orders (order_id, bot_id, client_order_id, ticker, order_type, "
                    "side, quantity, time_in_force, status, submitted_at, updated_at, "
                    "filled_quantity, commission, reference_price, slippage) VALUES ('', "
                    "'alpha', 'c-0', 'TSLA', 'market', 'buy', 3, 'day', 'new', :at, :at, 0, 0, "
                    "50, 0.05)"
                ),
                {"at": at},
            )
            connection.commit()
        database.upgrade("0009")
        with database.connect() as connection:
            gross = connection.execute(text("SELECT gross_pnl FROM closed_positions")).scalar()
            bps = connection.execute(text("SELECT slippage_bps FROM orders")).scalar()
        assert from_db_number(gross) == D(2)
        assert bps == float(slippage_bps(D("0.05"), D(50)))  # type: ignore[arg-type]
    finally:
        database.dispose()
