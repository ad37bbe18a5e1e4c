"""Position keeping from fills: each new fill of a keeping order moves its netting position.

The rules are ``tradestore.domain.netting`` (pure); this module applies them inside the
fill's own unit of work, through the same statements ``positions.close`` and ``scale_in``
run, so a position reduced by a fill writes ``closed_positions`` and the running totals
exactly as a close does. The three fill paths (``record_fill`` on both backends,
``record_fills``, ``ingest_fills``) call ``PositionKeeper`` once their fills are decided; a
replayed fill never reaches it.

Concurrency. Locks are taken in one order everywhere: the order row (the fill paths), then
the kept position row (``FOR UPDATE`` on PostgreSQL; SQLite writers hold the database's
write lock from ``BEGIN IMMEDIATE`` on), then the running totals (the close's statements),
then the bot's row (the cash, last). A batch first takes its keys in key order (an advisory
lock per key on PostgreSQL, then the kept positions' rows), before it moves any. Two
writers opening the same key race on the partial unique indexes
(``uq_positions_kept_by_strategy`` / ``uq_positions_kept_without_strategy``): the insert
is ``ON CONFLICT DO NOTHING``, and the loser, which waited for the winner to commit, locks
the winner's row and applies its fill to it. So two fills of different orders on one
key never lose an update (tests/repositories/test_position_keeping_concurrency.py).

Statements per kept fill (beside the fill's own): the locked read of the key's position
(none when a batch already holds it), then one write to open or add to it; a partial
reduce is one statement on PostgreSQL (shrink, closed row and totals as CTEs) and four on
SQLite (shrink, closed row, the totals' read and write); a full close is two on PostgreSQL
and four on SQLite; a reversal adds the insert of the new position. Then the links and the
cash: one statement on PostgreSQL, four on SQLite (the fill's link, the order's while it has
none, the cash's read and write). tests/repositories/test_position_keeping.py counts them;
a batch locks each key once (two statements on PostgreSQL) and moves the cash once.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, select, update

from tradestore.db.dialects import upsert_insert
from tradestore.db.executor import Executor, Prepared
from tradestore.domain.enums import ExitReason, OrderSide, PositionKeeping, PositionSide
from tradestore.domain.fill_accounting import reference_price, slippage
from tradestore.domain.money import MONEY_CONTEXT, check_storable, fit
from tradestore.domain.netting import FillSplit, cash_change, split_fill
from tradestore.domain.position_changes import check_target, scale_in_figures
from tradestore.errors import ConflictError, PrecisionError, ValidationError
from tradestore.models import Bot, Fill, Order
from tradestore.models.base import table_of
from tradestore.repositories.order_accounting import exact_sum
from tradestore.repositories.order_records import FillRecord, OrderRecord
from tradestore.repositories.positions import (
    _BY_ID,
    _P,
    _POSITION_COLUMNS,
    _POSITION_FIELDS,
    _SCALE_IN_FIELDS,
    PositionRecord,
    PositionRepository,
    _bind,
    _position,
    _replaced,
    _typed_values,
)

#: What a fill reducing a kept position writes as the closed row's exit reason.
EXIT_REASON = ExitReason.SIGNAL

_B = table_of(Bot)
_F = table_of(Fill)
_O = table_of(Order)
_ZERO = Decimal(0)

_KEPT = (
    _P.c.bot_id == bindparam("key_bot_id"),
    _P.c.ticker == bindparam("key_ticker"),
    _P.c.kept_from_fills,
)
#: The kept position of a key, locked: one statement per strategy-ness (NULL never equals).
_SELECT_KEPT = Prepared(
    select(*_POSITION_COLUMNS)
    .where(*_KEPT, _P.c.strategy == bindparam("key_strategy"))
    .with_for_update(),
    name="positions.kept_select",
)
_SELECT_KEPT_NO_STRATEGY = Prepared(
    select(*_POSITION_COLUMNS).where(*_KEPT, _P.c.strategy.is_(None)).with_for_update(),
    name="positions.kept_select_no_strategy",
)
#: A new kept position: a key taken by a concurrent writer inserts nothing (rowcount 0),
#: and the writer then locks that one.
_INSERT_KEPT = Prepared(
    lambda dialect: (
        upsert_insert(dialect, _P)
        .values(_typed_values(_P, _POSITION_FIELDS))
        .on_conflict_do_nothing()
    ),
    name="positions.kept_insert",
)
#: scale_in's columns, and the target a new average entry may have passed (cleared then).
_ADD_FIELDS = (*_SCALE_IN_FIELDS, "take_profit_price")
_ADD_TO_KEPT = Prepared(
    update(_P).where(*_BY_ID).values(_typed_values(_P, _ADD_FIELDS)),
    name="positions.kept_add",
)

#: The links of one fill: its own position_id, and its order's when the order has none.
_LINK_FILL = Prepared(
    update(_F)
    .where(_F.c.bot_id == bindparam("l_bot_id"), _F.c.fill_id == bindparam("l_fill_id"))
    .values(position_id=bindparam("l_position_id", type_=_F.c.position_id.type)),
    name="fills.kept_link",
)
_LINK_ORDER = Prepared(
    update(_O)
    .where(
        _O.c.bot_id == bindparam("l_bot_id"),
        _O.c.order_id == bindparam("l_order_id"),
        _O.c.position_id.is_(None),
    )
    .values(position_id=bindparam("l_position_id", type_=_O.c.position_id.type)),
    name="orders.kept_link",
)
_CASH_DELTA = bindparam("c_delta", type_=_B.c.current_balance.type)
_HAS_CASH = and_(_B.c.bot_id == bindparam("c_bot_id"), _B.c.current_balance.is_not(None))
#: PostgreSQL adds the cash change in NUMERIC, exact; SQLite reads and writes it in Python.
_ADD_CASH = update(_B).where(_HAS_CASH).values(current_balance=_B.c.current_balance + _CASH_DELTA)
_READ_CASH = Prepared(
    select(_B.c.current_balance).where(_B.c.bot_id == bindparam("c_bot_id")),
    name="bots.kept_read_cash",
)
_WRITE_CASH = Prepared(
    update(_B)
    .where(_HAS_CASH)
    .values(current_balance=bindparam("c_balance", type_=_B.c.current_balance.type)),
    name="bots.kept_write_cash",
)
#: PostgreSQL's single-fill epilogue in one statement: link the fill, link the order when
#: it has no position yet, move the cash (the links are data-modifying CTEs).
_SETTLE_ONE_POSTGRESQL = Prepared(
    _ADD_CASH.add_cte(
        update(_F)
        .where(_F.c.bot_id == bindparam("c_bot_id"), _F.c.fill_id == bindparam("l_fill_id"))
        .values(position_id=bindparam("l_position_id", type_=_F.c.position_id.type))
        .returning(_F.c.fill_id)
        .cte("linked_fill")
    ).add_cte(
        update(_O)
        .where(
            _O.c.bot_id == bindparam("c_bot_id"),
            _O.c.order_id == bindparam("l_order_id"),
            _O.c.position_id.is_(None),
        )
        .values(position_id=bindparam("l_position_id", type_=_O.c.position_id.type))
        .returning(_O.c.order_id)
        .cte("linked_order")
    ),
    name="positions.kept_settle_one",
)


#: The advisory locks of kept keys (PostgreSQL): the two-int form, whose first int names the
#: user ("tskp"), so no other advisory lock of the database can be taken for one.
_KEY_LOCK_SPACE = 0x74736B70
_KEY_LOCK = Prepared(
    select(
        func.pg_advisory_xact_lock(
            bindparam("k_space", type_=Integer()), bindparam("k_key", type_=Integer())
        )
    ),
    name="positions.kept_key_lock",
)


@dataclass(frozen=True, slots=True)
class KeptFill:
    """A new fill of an order that keeps positions, with what the keeper needs of its order."""

    fill_id: str
    order_id: str
    ticker: str
    strategy: str | None
    side: OrderSide
    quantity: Decimal
    price: Decimal
    commission: Decimal
    filled_at: dt.datetime
    #: The order's slippage reference (reference, else limit, else stop price), or None.
    reference: Decimal | None
    #: The order's position_id before this fill (linked when None).
    order_position_id: str | None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.ticker, self.strategy)


def key_order(key: tuple[str, str | None]) -> tuple[str, int, str]:
    """The order kept positions are locked in: ticker, then no strategy, then strategy."""
    ticker, strategy = key
    return (ticker, 0 if strategy is None else 1, strategy or "")


class PositionKeeper:
    """Moves the kept positions of one bot for the new fills of one call, in call order.

    ``apply`` returns the position each fill moved (the one it leaves open: the new one
    after a reversal; the closed one when it closes), and adds the fill's cash change to a
    running delta that ``settle_cash`` writes once.
    """

    def __init__(self, db: Executor, bot_id: str, dialect: str) -> None:
        self._db = db
        self._bot_id = bot_id
        self._dialect = dialect
        self._positions = PositionRepository(db, bot_id)
        #: The key's position as this transaction last locked or wrote it (None: none open).
        self._held: dict[tuple[str, str | None], PositionRecord | None] = {}
        self.cash_delta = _ZERO
        #: Each fill's cash change, in order (SQLite folds them into the balance one by one,
        #: rounding each sum as a fill recorded alone would: the same balance either way).
        self._cash_steps: list[Decimal] = []

    def lock(self, keys: Iterable[tuple[str, str | None]]) -> None:
        """Lock the kept positions of ``keys`` in key order (a batch, before it moves any):
        two batches on the same keys then wait for each other instead of deadlocking.

        A key without a position has no row to lock, and a batch opens its keys in call
        order: two batches opening the same two keys in opposite orders would each wait for
        the other's new row. So on PostgreSQL a batch first takes a transaction-level
        advisory lock per key, in key order (``pg_advisory_xact_lock``, in a namespace of its
        own); SQLite's writers are serialised already. A single ``record_fill`` moves one
        key and needs none."""
        ordered = sorted(set(keys), key=key_order)
        if self._dialect == "postgresql":
            for key in ordered:
                self._db.run(_KEY_LOCK, {"k_space": _KEY_LOCK_SPACE, "k_key": self._key_id(key)})
        for key in ordered:
            if key not in self._held:
                self._held[key] = self._read(key)

    def _key_id(self, key: tuple[str, str | None]) -> int:
        """A stable 32-bit id of the bot's key (a collision only serialises two keys)."""
        ticker, strategy = key
        text = "\x1f".join((self._bot_id, ticker, "\x1e" if strategy is None else strategy))
        value = zlib.crc32(text.encode())
        return value - (1 << 32) if value >= 1 << 31 else value

    def apply(self, fill: KeptFill) -> str:
        """Move the key's position by ``fill``; the id of the position moved. A refusal
        (``PrecisionError``: a quantity the backend cannot store exactly) is raised before
        anything is written."""
        key = fill.key
        position = self._held[key] if key in self._held else self._read(key)
        while True:
            split = split_fill(
                open_side=None if position is None else position.side,
                open_quantity=_ZERO if position is None else position.quantity,
                fill_side=fill.side,
                quantity=fill.quantity,
                commission=fill.commission,
                dialect_name=self._dialect,
            )
            if position is None:
                opened = self._new_position(fill, split.increasing, split.increasing_commission)
                if self._insert(opened):
                    break
                # A concurrent writer opened this key and committed: lock its row, again.
                position = self._read(key)
                continue
            if split.reducing.is_zero():
                position = self._add(position, fill, split)
                self._held[key] = position
                return self._moved(fill, position.position_id)
            return self._moved(fill, self._reduce(position, fill, split))
        self._held[key] = opened
        return self._moved(fill, opened.position_id)

    # --- the moves ------------------------------------------------------------------------

    def _add(self, position: PositionRecord, fill: KeptFill, split: FillSplit) -> PositionRecord:
        """The increasing part on the same side: ``scale_in``'s figures. A new average past
        the target clears the target: a fill is a fact, it cannot be refused for that."""
        d = self._dialect
        figures = scale_in_figures(
            side=position.side,
            open_quantity=position.quantity,
            entry_price=position.entry_price,
            open_commission=position.commission,
            max_favorable_excursion=position.max_favorable_excursion,
            max_adverse_excursion=position.max_adverse_excursion,
            take_profit_price=None,
            quantity=split.increasing,
            price=fill.price,
            commission=split.increasing_commission,
            dialect_name=d,
        )
        exact_sum("quantity", figures.quantity, d, "position quantity")
        target = position.take_profit_price
        if target is not None:
            try:
                check_target(position.side, figures.entry_price, target)
            except ValidationError:
                target = None
        changes: dict[str, Any] = {
            **figures.__dict__,
            "take_profit_price": target,
            "updated_at": self._db.now(),
        }
        self._db.run(
            _ADD_TO_KEPT,
            {"key_position_id": position.position_id, "key_bot_id": self._bot_id} | _bind(changes),
        )
        return _replaced(position, changes)

    def _reduce(self, position: PositionRecord, fill: KeptFill, split: FillSplit) -> str:
        """The reducing part: a close of that quantity at the fill price, as ``close``
        writes it; past zero, the rest opens the reversed position. Everything that can
        refuse is decided before the first write."""
        d = self._dialect
        closed_at = max(fill.filled_at, position.opened_at)
        # Validates the close (a remainder the backend cannot store raises here, unwritten).
        self._positions._figures(
            position, fill.price, split.reducing, split.reducing_commission, closed_at
        )
        reversed_: PositionRecord | None = None
        if split.closes and split.increasing > 0:
            try:
                check_storable("quantity", split.increasing, d)
            except PrecisionError:
                raise PrecisionError(
                    "quantity",
                    fill.quantity,
                    f"the reversed position's quantity {split.increasing} would not be "
                    "stored exactly",
                ) from None
            reversed_ = self._new_position(
                fill, split.increasing, split.increasing_commission, opened_at=closed_at
            )
        slip = slippage(fill.side, fill.price, fill.reference)
        _closed, remainder = self._positions._close_locked(
            position,
            fill.price,
            split.reducing,
            split.reducing_commission,
            EXIT_REASON,
            (None if slip is None else fit(slip, d), None),
            (closed_at, self._db.now()),
        )
        key = fill.key
        if reversed_ is None:
            self._held[key] = remainder
            return position.position_id
        if not self._insert(reversed_):  # pragma: no cover - the key's row was ours, deleted
            self._db.note_failure(ConflictError("kept position"))
            raise ConflictError(
                f"the reversed position of {fill.ticker!r} could not be opened; retry"
            )
        self._held[key] = reversed_
        return reversed_.position_id

    def _new_position(
        self,
        fill: KeptFill,
        quantity: Decimal,
        commission: Decimal,
        *,
        opened_at: dt.datetime | None = None,
    ) -> PositionRecord:
        """A kept position opened by ``fill`` at its price (at its time, or ``opened_at``:
        a reversed position opens when the one it replaces closed)."""
        side = PositionSide.LONG if fill.side is OrderSide.BUY else PositionSide.SHORT
        price = fill.price
        return PositionRecord(
            position_id=f"pos_{uuid.uuid4().hex}",
            bot_id=self._bot_id,
            ticker=fill.ticker,
            side=side,
            quantity=quantity,
            entry_price=price,
            current_price=price,
            unrealized_pnl=_ZERO,
            unrealized_pnl_pct=0.0,
            stop_loss_price=None,
            take_profit_price=None,
            max_favorable_excursion=price,
            max_adverse_excursion=price,
            commission=commission,
            opened_at=fill.filled_at if opened_at is None else opened_at,
            updated_at=self._db.now(),
            strategy=fill.strategy,
            signal_score=None,
            metadata=None,
            entry_logic=None,
            interval=None,
            kept_from_fills=True,
        )

    def _moved(self, fill: KeptFill, position_id: str) -> str:
        with localcontext(MONEY_CONTEXT):
            change = cash_change(
                fill.side, fill.quantity, fill.price, fill.commission, self._dialect
            )
            self.cash_delta += change
        self._cash_steps.append(change)
        return position_id

    # --- reads and writes -----------------------------------------------------------------

    def _read(self, key: tuple[str, str | None]) -> PositionRecord | None:
        ticker, strategy = key
        params: dict[str, Any] = {"key_bot_id": self._bot_id, "key_ticker": ticker}
        if strategy is None:
            rows = self._db.run(_SELECT_KEPT_NO_STRATEGY, params).rows
        else:
            rows = self._db.run(_SELECT_KEPT, params | {"key_strategy": strategy}).rows
        return _position(rows[0]) if rows else None

    def _insert(self, record: PositionRecord) -> bool:
        return bool(self._db.run(_INSERT_KEPT, _bind(record.__dict__)).rowcount == 1)

    def link(self, links: Iterable[tuple[KeptFill, str]], *, fills: bool = True) -> None:
        """Set each fill's position_id (unless ``fills`` is False: a batch inserts its fills
        with it) and its order's when the order had none, one statement each."""
        for fill, position_id in links:
            params = {
                "l_bot_id": self._bot_id,
                "l_fill_id": fill.fill_id,
                "l_order_id": fill.order_id,
                "l_position_id": position_id,
            }
            if fills:
                self._db.run(_LINK_FILL, params)
            if fill.order_position_id is None:
                self._db.run(_LINK_ORDER, params)

    def settle_one(self, fill: KeptFill, position_id: str) -> None:
        """``record_fill``'s epilogue: the links and the cash. One statement on PostgreSQL;
        on SQLite the fill's link, the order's (only while it has none), and the cash's
        read and write (the read alone when the bot keeps no balance)."""
        if self._dialect == "postgresql":
            self._db.run(
                _SETTLE_ONE_POSTGRESQL,
                {
                    "c_bot_id": self._bot_id,
                    "c_delta": fit(self.cash_delta, self._dialect),
                    "l_fill_id": fill.fill_id,
                    "l_order_id": fill.order_id,
                    "l_position_id": position_id,
                },
            )
            self.cash_delta = _ZERO
            self._cash_steps.clear()
            return
        self.link([(fill, position_id)])
        self.settle_cash()

    def settle_cash(self) -> None:
        """Add the fills' cash change to the bot's current balance; a bot without a balance
        (NULL: it keeps none) keeps none."""
        delta, self.cash_delta = self.cash_delta, _ZERO
        steps, self._cash_steps = self._cash_steps, []
        params: dict[str, Any] = {"c_bot_id": self._bot_id}
        if self._dialect == "postgresql":
            # NUMERIC adds exactly: the sum is what adding each change would leave.
            self._db.run(_ADD_CASH_PREPARED, params | {"c_delta": fit(delta, self._dialect)})
            return
        balance = self._db.run(_READ_CASH, params).scalar()
        if balance is None:
            return
        new = balance
        with localcontext(MONEY_CONTEXT):
            for change in steps:  # as record_fill one by one rounds: still one write
                new = fit(new + change, self._dialect)
        self._db.run(_WRITE_CASH, params | {"c_balance": new})


_ADD_CASH_PREPARED = Prepared(_ADD_CASH, name="bots.kept_add_cash")


def keeps_position(order_choice: bool | None, bot_keeping: Any) -> bool:
    """Whether a fill of an order moves a kept position: the order's own choice, else its
    bot's ``position_keeping`` (read with the order, in the same statement)."""
    if order_choice is not None:
        return bool(order_choice)
    return bool(bot_keeping == PositionKeeping.NETTING)


def kept_fill(fill: FillRecord, order: OrderRecord, *, order_position_id: str | None) -> KeptFill:
    """The keeper's view of a new fill of ``order`` (``order_position_id``: the order's
    position before this fill)."""
    return KeptFill(
        fill_id=fill.fill_id,
        order_id=fill.order_id,
        ticker=order.ticker,
        strategy=order.strategy,
        side=order.side,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        filled_at=fill.filled_at,
        reference=reference_price(
            reference=order.reference_price,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
        ),
        order_position_id=order_position_id,
    )
