"""Issue 11, item 3: a call refused inside a unit of work must not take the block's other
writes with it.

A bot submits an order, then makes a call that is refused, catches the error and carries on;
the block ends normally. Before the fix, PostgreSQL had aborted the transaction at the refused
statement and turned the final COMMIT into a silent ROLLBACK: the order was gone, no error.
Now, on both backends, either the refused call undoes only itself and everything else
commits, or (when the refusal has left the transaction unusable) the block raises
``TransactionAborted`` naming the first error and nothing is committed. Never a silent loss.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from reliability_support import record_figure
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError

from tradestore import Database
from tradestore.errors import (
    BotNotFound,
    ConflictError,
    IntegrityViolation,
    TradestoreError,
    TransactionAborted,
)
from tradestore.models import Bot, Order, PortfolioSnapshot, Position, TrainingRun
from tradestore.unit_of_work import UnitOfWork

pytestmark = pytest.mark.reliability

BOT = "alpha"
GHOST = "ghost"  # never registered
D = Decimal

# Rules only the database knows about, installed by the test: a CHECK constraint (a trigger
# with the same effect on SQLite, which cannot add one to an existing table) on snapshots, and
# a trigger refusing some rows of positions and training_runs.
_PG_RULES = (
    "ALTER TABLE portfolio_snapshots ADD CONSTRAINT ck_test_cash CHECK (cash_balance <> 13)",
    """CREATE FUNCTION ts_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'refused by the test trigger on %', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER ts_test_halt BEFORE INSERT ON positions FOR EACH ROW
       WHEN (NEW.ticker = 'HALT') EXECUTE FUNCTION ts_test_refuse()""",
    """CREATE TRIGGER ts_test_halt BEFORE INSERT ON training_runs FOR EACH ROW
       WHEN (NEW.model_name = 'halted') EXECUTE FUNCTION ts_test_refuse()""",
)
_PG_DROP = (
    "ALTER TABLE portfolio_snapshots DROP CONSTRAINT IF EXISTS ck_test_cash",
    "DROP TRIGGER IF EXISTS ts_test_halt ON positions",
    "DROP TRIGGER IF EXISTS ts_test_halt ON training_runs",
    "DROP FUNCTION IF EXISTS ts_test_refuse()",
)
_SQLITE_RULES = (
    """CREATE TRIGGER ts_test_cash BEFORE INSERT ON portfolio_snapshots
       WHEN NEW.cash_balance = 13
       BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_test_cash'); END""",
    """CREATE TRIGGER ts_test_halt_positions BEFORE INSERT ON positions
       WHEN NEW.ticker = 'HALT'
       BEGIN SELECT RAISE(ABORT, 'refused by the test trigger on positions'); END""",
    """CREATE TRIGGER ts_test_halt_runs BEFORE INSERT ON training_runs
       WHEN NEW.model_name = 'halted'
       BEGIN SELECT RAISE(ABORT, 'refused by the test trigger on training_runs'); END""",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS ts_test_cash",
    "DROP TRIGGER IF EXISTS ts_test_halt_positions",
    "DROP TRIGGER IF EXISTS ts_test_halt_runs",
)


@pytest.fixture
def store(db: Database, db_url: str) -> Iterator[Database]:
    """``db`` with bot alpha, its open position p-open, and the test's database rules."""
    engine = create_engine(db_url)
    rules, drop = (
        (_PG_RULES, _PG_DROP)
        if db.dialect_name == "postgresql"
        else (
            _SQLITE_RULES,
            _SQLITE_DROP,
        )
    )
    try:
        with engine.begin() as connection:
            for statement in rules:
                connection.execute(text(statement))
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.bots.register(BOT)
            uow.positions.open(
                "AAPL", side="long", quantity=D(10), entry_price=D(100), position_id="p-open"
            )
        yield db
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))
        engine.dispose()


def _submit(uow: UnitOfWork, client_order_id: str) -> None:
    uow.orders.submit(
        client_order_id=client_order_id,
        ticker="MSFT",
        side="buy",
        order_type="market",
        quantity=D(5),
    )


def _open_taken_id(uow: UnitOfWork) -> None:
    uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(100), position_id="p-open")


def _ghost_submits(uow: UnitOfWork) -> None:
    _submit(UnitOfWork(uow.executor, bot_id=GHOST), "ghost-1")


def _ghost_opens(uow: UnitOfWork) -> None:
    UnitOfWork(uow.executor, bot_id=GHOST).positions.open(
        "AAPL", side="long", quantity=D(1), entry_price=D(100)
    )


def _ghost_snapshot(uow: UnitOfWork) -> None:
    UnitOfWork(uow.executor, bot_id=GHOST).snapshots.record(total_equity=D(1), cash_balance=D(1))


def _constraint_refuses(uow: UnitOfWork) -> None:
    uow.snapshots.record(total_equity=D(100), cash_balance=D(13))


def _only_the_database_knows(uow: UnitOfWork) -> None:
    uow.training.start_run("PPO", "halted")


#: (refused call, the error the bot catches). Each must undo only itself.
CONTAINED: dict[str, tuple[Callable[[UnitOfWork], None], type[TradestoreError]]] = {
    "position_id_already_open": (_open_taken_id, ConflictError),
    "unregistered_bot_submits": (_ghost_submits, BotNotFound),
    "unregistered_bot_opens": (_ghost_opens, BotNotFound),
    "unregistered_bot_snapshot": (_ghost_snapshot, BotNotFound),
    "constraint_refuses": (_constraint_refuses, IntegrityViolation),
    "trigger_refuses": (_only_the_database_knows, TradestoreError),
}


def _rows(db: Database) -> dict[str, int]:
    with db.unit_of_work() as uow:
        return {
            "orders": len(uow.session.execute(select(Order.order_id)).all()),
            "positions": len(uow.session.execute(select(Position.position_id)).all()),
            "snapshots": len(uow.session.execute(select(PortfolioSnapshot.snapshot_id)).all()),
            "runs": len(uow.session.execute(select(TrainingRun.run_id)).all()),
        }


@pytest.mark.parametrize("case", sorted(CONTAINED))
def test_a_caught_refusal_undoes_only_itself(store: Database, case: str) -> None:
    refused, expected = CONTAINED[case]
    before = _rows(store)
    with store.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, "before")
        with pytest.raises(expected):
            refused(uow)
        _submit(uow, "after")  # the transaction is still usable
    with store.unit_of_work(bot_id=BOT) as uow:
        assert {o.client_order_id for o in uow.orders.list_open()} == {"before", "after"}
        assert uow.positions.get("p-open").quantity == D(10)
    after = _rows(store)
    assert after == {**before, "orders": before["orders"] + 2}, "the refused call wrote"
    record_figure(f"refused_calls[{case}]", "rows_lost", 0)


def test_a_refusal_that_breaks_the_transaction_raises_on_exit(store: Database) -> None:
    """A hot-path insert the database refuses outside any savepoint: the block cannot commit
    everything it did, so it commits nothing and says why, on both backends."""
    before = _rows(store)
    with pytest.raises(TransactionAborted) as raised, store.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, "before")
        with pytest.raises(TradestoreError) as first:
            uow.positions.open("HALT", side="long", quantity=D(1), entry_price=D(1))
        # Every later call says so at once, on both backends (PostgreSQL would refuse it
        # anyway, SQLite would accept it only to roll it back).
        with pytest.raises(TransactionAborted) as later:
            _submit(uow, "after")
        assert later.value.first_error is first.value
    assert raised.value.first_error is first.value
    assert "refused by the test trigger on positions" in str(raised.value)
    assert _rows(store) == before, "a block that raised committed something"
    # The next unit of work on the same thread starts clean.
    with store.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, "next")
    assert _rows(store)["orders"] == before["orders"] + 1


def test_a_failed_statement_of_the_bots_own_is_not_committed_silently(
    store: Database,
) -> None:
    """No repository saw it, but PostgreSQL aborted the transaction: the block says so."""
    if store.dialect_name != "postgresql":
        pytest.skip("SQLite has no aborted-transaction state: its statement undoes itself")
    before = _rows(store)
    aborted = pytest.raises(TransactionAborted, match="aborted its transaction")
    with aborted, store.unit_of_work(bot_id=BOT) as uow:
        _submit(uow, "before")
        with contextlib.suppress(DBAPIError):  # the bot's own handler
            uow.session.execute(text("SELECT 1 / 0"))
    assert _rows(store) == before


def test_a_failed_orm_flush_of_the_bots_own_raises_on_exit(store: Database) -> None:
    """The bot's own ORM write fails at flush and the bot catches it: the Session refuses to
    go on (``PendingRollbackError``), and the block ends with ``TransactionAborted`` naming
    it, never a raw SQLAlchemy exception and never a commit of half the block."""
    before = _rows(store)
    with (
        pytest.raises(TransactionAborted, match="nothing was committed"),
        store.unit_of_work(bot_id=BOT) as uow,
    ):
        _submit(uow, "before")
        uow.session.add(Bot(bot_id=BOT))  # already registered: the flush fails
        with contextlib.suppress(DBAPIError):  # the bot's own handler
            uow.session.flush()
    assert _rows(store) == before


def test_hot_path_writes_take_no_savepoint(store: Database) -> None:
    """submit, record_fill, open and close: no SAVEPOINT round trip was added to them."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        with store.unit_of_work(bot_id=BOT) as uow:
            order = uow.orders.submit(
                client_order_id="c-hot",
                ticker="MSFT",
                side="buy",
                order_type="market",
                quantity=D(5),
            )
            uow.orders.record_fill(order.order_id, fill_id="f-1", quantity=D(5), price=D(10))
            position = uow.positions.open("MSFT", side="long", quantity=D(5), entry_price=D(10))
            uow.positions.close(position.position_id, exit_price=D(11), exit_reason="manual")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
