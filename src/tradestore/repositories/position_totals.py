"""``position_totals``: the running totals of closed rows, changed with the rows themselves.

Every write of a closed row adds its contribution (``TradeTotals.of_trade``) to its (bot,
ticker, strategy) row in the same transaction, and every delete of one subtracts it, so no
read ever needs the closed rows to know a bot's realized P&L, commission or trade counts.

Two writers at once lose nothing:

* PostgreSQL adds in the database: ``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x``
  is exact in NUMERIC, and the conflicting row is locked by the UPDATE, so a second close of
  the same key waits and then adds to the first one's sums. ``positions.close`` sends it as a
  data-modifying CTE of its own INSERT of the closed row: no extra round trip.
* SQLite cannot add decimals exactly in SQL (its arithmetic is in doubles), so the sums are
  read, added in Python as Decimals and written back. A writer holds SQLite's write lock from
  ``BEGIN IMMEDIATE`` to COMMIT, so no other writer runs between the read and the write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from sqlalchemy import BigInteger, String, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Executable

from tradestore.db.executor import Executor, Prepared
from tradestore.db.types import MoneyTotal
from tradestore.domain.money import fit
from tradestore.domain.trade_totals import TradeTotals
from tradestore.models.base import table_of
from tradestore.models.positions import NO_STRATEGY, PositionTotal

_T = table_of(PositionTotal)
_KEY: Final = ("bot_id", "ticker", "strategy")
_SUMS: Final = tuple(f.name for f in fields(TradeTotals))
_COUNTS: Final = frozenset({"trades", "wins", "losses"})
_MONEY: Final = tuple(name for name in _SUMS if name not in _COUNTS)


def _param(name: str) -> Any:
    type_ = BigInteger() if name in _COUNTS else String() if name in _KEY else MoneyTotal()
    return bindparam(f"t_{name}", type_=type_)


_VALUES: Final = {name: _param(name) for name in (*_KEY, *_SUMS)}


def change_param(name: str) -> Any:
    """The ``t_`` bind parameter of ``name`` (a key column or a sum), for statements that
    take a close's change along with the totals (a session's prior sums)."""
    return _VALUES[name]


_BY_KEY: Final = tuple(_T.c[name] == _VALUES[name] for name in _KEY)


def _add_upsert() -> Any:
    """PostgreSQL: add the ``t_`` values to the key's row, creating it at zero first."""
    statement = postgresql.insert(_T).values(_VALUES)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={name: _T.c[name] + statement.excluded[name] for name in _SUMS},
    )


def adding_cte() -> Any:
    """The PostgreSQL upsert as a CTE, for ``positions.close`` to attach to its INSERT."""
    return _add_upsert().returning(_T.c.trades).cte("totals")


def _put() -> Executable:
    """SQLite: store the ``t_`` values as the key's row (sums computed by the caller)."""
    statement = sqlite.insert(_T).values(_VALUES)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={name: statement.excluded[name] for name in _SUMS}
    )


_SELECT: Final = Prepared(
    select(*(_T.c[name] for name in _SUMS)).where(*_BY_KEY), name="position_totals.select"
)
_PUT: Final = Prepared(lambda _dialect: _put(), name="position_totals.put")
_ADD: Final = Prepared(lambda _dialect: _add_upsert(), name="position_totals.add")
#: PostgreSQL, retention taking rows out: the key's row exists (the rows added to it), and an
#: upsert cannot carry a negative change (PostgreSQL checks the proposed row's CHECK
#: constraints before it looks for the conflict).
_TAKE_OUT: Final = Prepared(
    update(_T).where(*_BY_KEY).values({name: _T.c[name] + _VALUES[name] for name in _SUMS}),
    name="position_totals.take_out",
)
_DELETE_EMPTY: Final = Prepared(
    delete(_T).where(*_BY_KEY[:1], _T.c.trades == 0), name="position_totals.delete_empty"
)


def stored_strategy(strategy: str | None) -> str:
    return NO_STRATEGY if strategy is None else strategy


def params(bot_id: str, ticker: str, strategy: str | None, change: TradeTotals) -> dict[str, Any]:
    """The ``t_`` parameters of a change to one key's totals."""
    values: dict[str, Any] = {
        "t_bot_id": bot_id,
        "t_ticker": ticker,
        "t_strategy": stored_strategy(strategy),
    }
    for name in _SUMS:
        values[f"t_{name}"] = getattr(change, name)
    return values


def add_sqlite(executor: Executor, values: Mapping[str, Any]) -> TradeTotals:
    """Add the change in ``values`` (``params``) to its key's row; returns the new totals.

    Only for SQLite, inside a writing unit of work (the write lock makes the read-then-write
    atomic); PostgreSQL adds in the statement itself (``add``)."""
    rows = executor.run(_SELECT, values).rows
    change = TradeTotals(*(values[f"t_{name}"] for name in _SUMS))
    total = TradeTotals(*rows[0]) + change if rows else change
    executor.run(_PUT, {**values, **{f"t_{n}": getattr(total, n) for n in _SUMS}})
    return total


def apply(executor: Executor, changes: Mapping[tuple[str, str, str | None], TradeTotals]) -> None:
    """Add each (bot_id, ticker, strategy) change to its row, and drop the rows left with no
    trade (retention subtracting every row of a key): the totals then hold exactly the keys
    the closed rows do."""
    postgres = executor.dialect.name == "postgresql"
    emptied: set[str] = set()
    # in key order: two writers touching the same keys lock them in the same order
    for (bot_id, ticker, strategy), change in sorted(
        changes.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
    ):
        values = params(bot_id, ticker, strategy, change)
        if postgres:
            executor.run(_TAKE_OUT if change.trades < 0 else _ADD, values)
        else:
            add_sqlite(executor, values)
        if change.trades < 0:
            emptied.add(bot_id)
    for bot_id in sorted(emptied):
        executor.run(_DELETE_EMPTY, {"t_bot_id": bot_id})


@dataclass(frozen=True, slots=True)
class KeyTotals:
    """One (ticker, strategy) row of a bot's totals; strategy None for closed rows without."""

    ticker: str
    strategy: str | None
    totals: TradeTotals


_COLUMNS: Final = (_T.c.ticker, _T.c.strategy, *(_T.c[name] for name in _SUMS))


_READ: Final = Prepared(
    select(*_COLUMNS)
    .where(_T.c.bot_id == bindparam("bot_id", type_=String()))
    .order_by(_T.c.ticker, _T.c.strategy),
    name="position_totals.read",
)


def read(executor: Executor, bot_id: str, *, strategy: str | None = None) -> list[KeyTotals]:
    """The bot's rows (one strategy's when ``strategy`` is given), by ticker then strategy."""
    rows: Iterable[Any]
    if strategy is None:  # a restart's and every total's: prebuilt
        rows = executor.run(_READ, {"bot_id": bot_id}).rows
    else:
        criteria: list[ColumnElement[bool]] = [_T.c.bot_id == bot_id, _T.c.strategy == strategy]
        rows = executor.execute(
            select(*_COLUMNS).where(*criteria).order_by(_T.c.ticker, _T.c.strategy)
        )
    return [
        KeyTotals(ticker, None if name == NO_STRATEGY else name, TradeTotals(*sums))
        for ticker, name, *sums in rows
    ]


def summed(keys: Iterable[KeyTotals]) -> TradeTotals:
    """The totals of several keys (a bot's, or one strategy's): exact, a row per key."""
    total = TradeTotals()
    for key in keys:
        total = total + key.totals
    return total


def fitted(total: TradeTotals, dialect_name: str) -> TradeTotals:
    """``total`` with its sums rounded as ``money_sums.exact_sums`` rounds a sum for the
    backend (``fit``): the figure the same sum over the closed rows gives."""
    return TradeTotals(
        trades=total.trades,
        wins=total.wins,
        losses=total.losses,
        **{name: fit(getattr(total, name), dialect_name) for name in _MONEY},
    )
