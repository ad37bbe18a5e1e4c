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

The totals can be checked and rebuilt from the closed rows, which are the truth they are
derived from (never from the totals themselves, nor from ``bots.total_pnl``, which is copied
from them): ``compare`` recomputes every key and names each one that differs (``db verify``),
``rebuild`` writes the recomputation over the keys that differ (``db rebuild-totals``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Executable

from tradestore.db.executor import Executor, Prepared
from tradestore.db.types import MoneyTotal
from tradestore.domain.money import fit
from tradestore.domain.trade_totals import TradeTotals
from tradestore.models.base import table_of
from tradestore.models.bots import Bot
from tradestore.models.positions import NO_STRATEGY, ClosedPosition, PositionTotal

_T = table_of(PositionTotal)
_C = table_of(ClosedPosition)
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


def _put(dialect_name: str = "sqlite") -> Executable:
    """Store the ``t_`` values as the key's row (sums computed by the caller): SQLite's add,
    and both backends' rebuild."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(_T).values(_VALUES)
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
_REPLACE: Final = Prepared(_put, name="position_totals.replace")
_DELETE_KEY: Final = Prepared(delete(_T).where(*_BY_KEY), name="position_totals.delete_key")
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


# --- checking and rebuilding from the closed rows --------------------------------------------

#: (bot_id, ticker, strategy): strategy None for closed rows without one (stored as '').
Key = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class TotalsDifference:
    """A key whose stored totals differ from the recomputation over its closed rows.

    ``stored`` is None when the key has closed rows but no totals row; ``recomputed`` is None
    when a totals row has no closed row left. Sums compare as numbers, exactly (``1.50``
    equals ``1.5``; one unit in the 18th decimal does not)."""

    bot_id: str
    ticker: str
    strategy: str | None
    stored: TradeTotals | None
    recomputed: TradeTotals | None

    @property
    def fields(self) -> tuple[str, ...]:
        """The totals' fields that differ (all of them when a side is missing)."""
        if self.stored is None or self.recomputed is None:
            return _SUMS
        return tuple(
            name for name in _SUMS if getattr(self.stored, name) != getattr(self.recomputed, name)
        )

    def describe(self) -> str:
        """One line: the key, then each differing field as stored and as recomputed."""
        key = f"(bot {self.bot_id!r}, ticker {self.ticker!r}, strategy {self.strategy!r})"
        if self.stored is None:
            assert self.recomputed is not None
            return f"{key}: no totals row for {self.recomputed.trades} closed rows"
        if self.recomputed is None:
            return f"{key}: a totals row of {self.stored.trades} trades without closed rows"
        changes = ", ".join(
            f"{name} {getattr(self.stored, name)} stored, "
            f"{getattr(self.recomputed, name)} recomputed"
            for name in self.fields
        )
        return f"{key}: {changes}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The stored totals set beside a recomputation over the closed rows."""

    #: Keys the closed rows give (the rows a correct table holds).
    keys: int
    #: Every key that differs, in key order.
    differences: tuple[TotalsDifference, ...]


#: Which rows a check reads: every bot's (None), one bot's (a str), or some bots' (a tuple).
Bots = str | tuple[str, ...] | None


def _bot_criteria(
    table: Any, bots: Bots, tickers: tuple[str, ...] | None = None
) -> list[ColumnElement[bool]]:
    """The rows of ``bots`` (and of ``tickers``, when given: a re-check of some keys, which an
    index by ticker can narrow to their rows)."""
    criteria: list[ColumnElement[bool]] = []
    if isinstance(bots, str):
        criteria.append(table.c.bot_id == bots)
    elif bots is not None:
        criteria.append(table.c.bot_id.in_(bots))
    if tickers is not None:
        criteria.append(table.c.ticker.in_(tickers))
    return criteria


def _recomputed_sql(bot_id: Bots, tickers: tuple[str, ...] | None) -> Any:
    """PostgreSQL: the totals of every key as one exact NUMERIC aggregate (0011's fill)."""
    pnl = _C.c.realized_pnl
    strategy = func.coalesce(_C.c.strategy, NO_STRATEGY)
    zero = literal(0, MoneyTotal())
    return (
        select(
            literal("recomputed").label("side"),
            _C.c.bot_id,
            _C.c.ticker,
            strategy.label("strategy"),
            func.count().label("trades"),
            func.count().filter(pnl > 0).label("wins"),
            func.count().filter(pnl < 0).label("losses"),
            func.sum(pnl).label("realized_pnl"),
            func.sum(_C.c.commission).label("commission"),
            func.coalesce(func.sum(pnl).filter(pnl > 0), zero).label("gross_profit"),
            func.coalesce(func.sum(pnl).filter(pnl < 0), zero).label("gross_loss"),
        )
        .where(*_bot_criteria(_C, bot_id, tickers))
        .group_by(_C.c.bot_id, _C.c.ticker, strategy)
    )


def _stored_select(bot_id: Bots, tickers: tuple[str, ...] | None) -> Any:
    return select(literal("stored").label("side"), *(_T.c[name] for name in (*_KEY, *_SUMS))).where(
        *_bot_criteria(_T, bot_id, tickers)
    )


def _strategy(stored: str) -> str | None:
    return None if stored == NO_STRATEGY else stored


def _both_sides(
    executor: Executor, bot_id: Bots, tickers: tuple[str, ...] | None = None
) -> tuple[dict[Key, TradeTotals], dict[Key, TradeTotals]]:
    """(stored, recomputed) totals per key, read as one consistent state.

    PostgreSQL: one statement (a UNION ALL of the aggregate and the table), so a close that
    commits meanwhile is in both halves or in neither, even in READ COMMITTED. SQLite: two
    statements of one transaction, which reads one snapshot; the amounts are added in Python
    as they read back (``Money``: the decimal the double holds), the way a close adds them.
    """
    stored: dict[Key, TradeTotals] = {}
    recomputed: dict[Key, TradeTotals] = {}
    if executor.dialect.name == "postgresql":
        rows = executor.execute(
            union_all(_recomputed_sql(bot_id, tickers), _stored_select(bot_id, tickers))
        )
        for side, bot, ticker, strategy, *sums in rows:
            target = recomputed if side == "recomputed" else stored
            target[(bot, ticker, _strategy(strategy))] = TradeTotals(*sums)
        return stored, recomputed
    for _side, bot, ticker, strategy, *sums in executor.execute(_stored_select(bot_id, tickers)):
        stored[(bot, ticker, _strategy(strategy))] = TradeTotals(*sums)
    recomputed.update(_recomputed_sqlite(executor, bot_id, tickers))
    return stored, recomputed


def _recomputed_sqlite(
    executor: Executor, bot_id: Bots, tickers: tuple[str, ...] | None
) -> dict[Key, TradeTotals]:
    """SQLite: the closed rows' totals per key, added in Python as the rows stream back.

    Memory is one running total per key, not a list of rows; the rows are grouped by the
    strategy as stored in the totals (``COALESCE(strategy, '')``, 0011's fill), so a closed
    row written with '' and one with NULL count in the one key they share. The money sums
    stay in Python (SQLite's SUM adds doubles); only the rows' order is left to SQL."""
    running: dict[Key, TradeTotals] = {}
    closed = select(
        _C.c.bot_id,
        _C.c.ticker,
        func.coalesce(_C.c.strategy, NO_STRATEGY),
        _C.c.realized_pnl,
        _C.c.commission,
    ).where(*_bot_criteria(_C, bot_id, tickers))
    for bot, ticker, strategy, realized, commission in executor.execute(
        closed.execution_options(yield_per=_STREAM)
    ):
        key = (bot, ticker, _strategy(strategy))
        trade = TradeTotals.of_trade(realized, commission)
        previous = running.get(key)
        running[key] = trade if previous is None else previous + trade
    return running


#: Closed rows fetched at a time while recomputing on SQLite.
_STREAM: Final = 1000


def _order(key: Key) -> tuple[str, str, str]:
    return (key[0], key[1], key[2] or "")


def compare(
    executor: Executor, bot_id: str | None = None, *, keys: Collection[Key] | None = None
) -> Comparison:
    """Recompute the totals of every key (of ``bot_id``'s, when given; only ``keys``, when
    given) from the closed rows and name each key whose stored row differs, is missing, or
    has no closed row left.

    Memory is a total per key (two, stored and recomputed), whatever the number of rows.
    ``keys`` reads the rows of those keys' bots and tickers only: a rebuild re-checking, under
    its lock, the keys a first read found different (``rebuild``)."""
    bots: Bots = bot_id
    tickers = None
    if keys is not None:
        keys = [key for key in keys if bot_id is None or key[0] == bot_id]
        bots = tuple(sorted({key[0] for key in keys}))
        tickers = tuple(sorted({key[1] for key in keys}))
    stored, recomputed = _both_sides(executor, bots, tickers)
    if keys is not None:
        wanted = set(keys)
        stored = {key: value for key, value in stored.items() if key in wanted}
        recomputed = {key: value for key, value in recomputed.items() if key in wanted}
    differences = [
        TotalsDifference(key[0], key[1], key[2], stored.get(key), recomputed.get(key))
        for key in sorted(stored.keys() | recomputed.keys(), key=_order)
        if stored.get(key) != recomputed.get(key)
    ]
    return Comparison(len(recomputed), tuple(differences))


#: What a rebuild locks on PostgreSQL, in this order (the order a close takes them: its
#: statement's CTE upserts the totals before its INSERT of the closed row). SHARE ROW
#: EXCLUSIVE conflicts with every writer's ROW EXCLUSIVE (a close, a scale-out, retention's
#: subtract and delete) and with another rebuild, and lets plain reads and SELECT ... FOR
#: UPDATE through: bots' reads go on, their closes wait until the rebuild commits.
_REBUILD_LOCK: Final = f"LOCK TABLE {_T.name}, {_C.name} IN SHARE ROW EXCLUSIVE MODE"
#: How long a rebuild waits for a lock on PostgreSQL before it gives up (55P03, transient:
#: ``ops.rebuild_totals`` tries again under the database's retry policy). A LOCK TABLE queued
#: behind a long transaction holds every later close of every bot behind it; this bounds that
#: stall, and the retry's backoff lets the queued closes through between attempts.
REBUILD_LOCK_TIMEOUT: Final = "1s"


def _lock_for_rebuild(executor: Executor, bots: Bots) -> None:
    """PostgreSQL: the locks a rebuild needs, taken before any of its writes, in order.

    A totals row written (INSERT) takes FOR KEY SHARE on its bot's row (the foreign key). A
    bot that holds its row FOR UPDATE and then closes would wait for the table lock while the
    rebuild waits for its row: a deadlock. So the bots' rows are locked FOR KEY SHARE first (in
    key order, before the table lock: such a bot finishes its transaction, closes included,
    and the rebuild goes on), then the tables."""
    executor.execute(text(f"SET LOCAL lock_timeout = '{REBUILD_LOCK_TIMEOUT}'"))
    bots_table = table_of(Bot)
    executor.execute(
        select(bots_table.c.bot_id)
        .where(*_bot_criteria(bots_table, bots))
        .order_by(bots_table.c.bot_id)
        .with_for_update(key_share=True)
    )
    executor.execute(text(_REBUILD_LOCK))


def rebuild(
    executor: Executor, bot_id: str | None = None, *, keys: Collection[Key] | None = None
) -> Comparison:
    """Make the stored totals equal the recomputation over the closed rows (of ``bot_id``'s,
    of ``keys`` only when given), in the caller's transaction; returns what differed (the keys
    it rewrote or deleted).

    Run it in a writing transaction: on SQLite its ``BEGIN IMMEDIATE`` holds the write lock,
    so no close or prune runs between the recomputation and the writes; on PostgreSQL the
    bots' rows and the tables are locked first (``_lock_for_rebuild``) for the same reason.
    ``keys`` is what a first comparison outside the lock found different: only those are
    re-checked under it, so the lock is held for their bots' rows, not every row. Only the
    keys that differ are written, each through the one upsert or delete by key."""
    if executor.dialect.name == "postgresql":
        bots: Bots = bot_id
        if keys is not None:
            bots = tuple(sorted({key[0] for key in keys}))
        _lock_for_rebuild(executor, bots)
    comparison = compare(executor, bot_id, keys=keys)
    for difference in comparison.differences:
        key = (difference.bot_id, difference.ticker, difference.strategy)
        if difference.recomputed is None:
            executor.run(_DELETE_KEY, params(*key, TradeTotals()))
        else:
            executor.run(_REPLACE, params(*key, difference.recomputed))
    return comparison
