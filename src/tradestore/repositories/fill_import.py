"""Bulk import of broker fills: ``OrderRepository.ingest_fills``.

Thousands of fills in one call, idempotent and all-or-nothing: every row is validated before
anything is written, replays are recognised, and the affected orders are recomputed from all
their fills with the same accounting as ``record_fill`` (``order_accounting``).

The fast paths (see docs/performance.md): the common row (Decimal amounts, aware UTC
datetime) is checked with type tests, not the general validators; fills go in with one
``executemany`` on SQLite and one ``COPY`` on PostgreSQL; the order updates are one
``executemany`` / one ``UPDATE ... FROM unnest(...)``. All of it inside a savepoint, so a
``fill_id`` that only the insert finds taken leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, cast

from sqlalchemy import Table

from tradestore.db import bulk
from tradestore.db.errors import translate_errors
from tradestore.db.executor import Executor
from tradestore.domain.enums import Liquidity
from tradestore.domain.fill_accounting import reference_price
from tradestore.domain.money import MONEY_CONTEXT, fast_money
from tradestore.domain.validation import choice, instant, money, required_text
from tradestore.errors import (
    ConflictError,
    DuplicateFill,
    IntegrityViolation,
    OrderNotFound,
    Overfill,
    TradestoreError,
    ValidationError,
)
from tradestore.models.trading import Fill
from tradestore.repositories import order_sql as sql
from tradestore.repositories.order_accounting import (
    LockedOrder,
    OrderChanges,
    fill_changes,
    order_changes,
    replay_refusal,
)
from tradestore.repositories.order_records import (
    FillRecord,
    IngestReport,
    OrderRecord,
    RecordedFill,
    replaced,
)
from tradestore.repositories.position_keeping import (
    KeptFill,
    PositionKeeper,
    keeps_position,
    kept_fill,
    key_order,
)

_ZERO = Decimal(0)
_FILL_ID_LENGTH = 128
_CLIENT_ID_LENGTH = 128
_FILLS = cast(Table, Fill.__table__)


class FillImport:
    """One ``ingest_fills`` call of one bot, inside the caller's unit of work."""

    def __init__(self, session: Executor, bot_id: str, dialect: str) -> None:
        self._db = session
        self._bot_id = bot_id
        self._dialect = dialect
        self._keeping: dict[str, tuple[Any, ...]] = {}

    def run(self, rows: Iterable[Mapping[str, Any]]) -> IngestReport:
        """Validate, lock the orders, separate replays, then write fills and orders."""
        batch = _validate_ingest_rows(rows, self._dialect)
        if not batch.fills:
            return IngestReport(inserted=0, replayed=batch.duplicates, orders_updated=0)
        with translate_errors():
            connection = self._db
            self._resolve_client_order_ids(connection, batch)
            orders = self._lock_orders(connection, batch.fills)
            stored = self._stored_fills(connection, orders)
            new_fills, replayed = _separate_replays(batch, stored)
            if not new_fills:
                return IngestReport(inserted=0, replayed=replayed, orders_updated=0)
            updates = _ingest_order_updates(orders, new_fills, self._dialect)
            keeper, links = self._keep_ingested(orders, new_fills)
            keeps = {
                order_id: keeps_position(extra[1], extra[2])
                for order_id, extra in self._keeping.items()
            }
            inserted = self._write(new_fills, orders, updates, links, keeps)
            if keeper is not None:
                keeper.link(_first_per_order(links, new_fills, orders), fills=False)
                keeper.settle_cash()
        return IngestReport(inserted=inserted, replayed=replayed, orders_updated=len(updates))

    def _keep_ingested(
        self, orders: Mapping[str, LockedOrder], new_fills: Sequence[_IngestFill]
    ) -> tuple[PositionKeeper | None, dict[str, tuple[KeptFill, str]]]:
        """Move the kept positions by the batch's new fills of keeping orders, before the
        fills are written (each is inserted with its position); the batch is all or nothing,
        so a refusal here undoes the whole call. Keys in key order (their rows locked in that
        order: no deadlock between two imports), each key's fills by execution time."""
        kept: list[tuple[int, KeptFill]] = []
        for fill in new_fills:
            state = orders[fill.order_id]
            extra = self._keeping.get(fill.order_id)
            if extra is None or not keeps_position(extra[1], extra[2]):
                continue
            kept.append((fill.index, _kept(fill, state, extra[0])))
        if not kept:
            return None, {}
        kept.sort(key=lambda item: (key_order(item[1].key), item[1].filled_at, item[0]))
        keeper = PositionKeeper(self._db, self._bot_id, self._dialect)
        keeper.lock(k.key for _, k in kept)
        links = {k.fill_id: (k, keeper.apply(k)) for _, k in kept}
        return keeper, links

    def run_each(
        self, requests: Sequence[tuple[FillRecord, dt.datetime | None] | TradestoreError]
    ) -> list[RecordedFill | TradestoreError]:
        """``record_fills``: validated ``record_fill`` calls (or their refusals), decided one
        by one against the locked orders with ``record_fill``'s rules, written at once."""
        outcomes: list[RecordedFill | TradestoreError] = []
        valid = [request for request in requests if not isinstance(request, TradestoreError)]
        if not valid:
            return list(requests)  # type: ignore[arg-type]  # errors only
        with translate_errors():
            connection = self._db
            ids = sql.id_list_value(sorted({fill.order_id for fill, _ in valid}), self._dialect)
            rows = connection.run(sql.FILL_GROUP_LOCK_ORDERS, {"bot_id": self._bot_id, "ids": ids})
            width = len(sql.ORDER_COLUMNS)
            current = {row[0]: OrderRecord(*row[:width]) for row in rows.rows}
            orders = {oid: LockedOrder.from_record(record) for oid, record in current.items()}
            bot_keeping = rows.rows[0][width] if rows.rows else None
            keeping = {
                oid
                for oid, record in current.items()
                if keeps_position(record.keep_position, bot_keeping)
            }
            keeper: PositionKeeper | None = None
            #: The first kept fill of each order that had no position: it names it.
            order_links: dict[str, tuple[KeptFill, str]] = {}
            if keeping:
                keeper = PositionKeeper(connection, self._bot_id, self._dialect)
                keeper.lock(
                    (current[fill.order_id].ticker, current[fill.order_id].strategy)
                    for fill, _ in valid
                    if fill.order_id in keeping
                )
            self._stored_fills(connection, orders)
            for locked in orders.values():
                locked.current_totals = locked.totals
            recorded: dict[str, FillRecord] = {}
            new_fills: list[_IngestFill] = []
            #: The kept fills' positions, which their inserts write.
            fill_links: dict[str, tuple[KeptFill, str]] = {}
            #: Each order's columns after its last new fill: what is written.
            updates: dict[str, OrderChanges] = {}
            now = connection.now()
            for index, request in enumerate(requests):
                if isinstance(request, TradestoreError):
                    outcomes.append(request)
                    continue
                fill, given_time = request
                state = orders.get(fill.order_id)
                if state is None:
                    outcomes.append(OrderNotFound("order", fill.order_id))
                    continue
                earlier = recorded.get(fill.fill_id) or state.fill(fill.fill_id)
                if earlier is not None:
                    refusal = replay_refusal(earlier, fill, given_time)
                    outcomes.append(
                        refusal
                        or RecordedFill(
                            fill=earlier, order=current[earlier.order_id], replayed=True
                        )
                    )
                    continue
                try:
                    totals, changes = fill_changes(state, fill, self._dialect)
                except TradestoreError as exc:
                    outcomes.append(exc)
                    continue
                fill = replaced(
                    fill, ticker=state.ticker, side=state.side, position_id=state.position_id
                )
                before = current[fill.order_id]
                extra: dict[str, Any] = {}
                if keeper is not None and fill.order_id in keeping:
                    kept = kept_fill(fill, before, order_position_id=before.position_id)
                    try:
                        position_id = keeper.apply(kept)
                    except ValidationError as exc:
                        # A refusal of this fill (a quantity the backend cannot store),
                        # decided before the keeper wrote anything: this fill alone is
                        # refused. A database error is not a refusal: it escapes, and the
                        # call (atomic) writes nothing.
                        outcomes.append(exc)
                        continue
                    fill = replaced(fill, position_id=position_id)
                    fill_links[fill.fill_id] = (kept, position_id)
                    if before.position_id is None:
                        extra["position_id"] = position_id
                        order_links.setdefault(fill.order_id, (kept, position_id))
                state.current_totals = totals
                updates[fill.order_id] = changes
                extra["keep_position"] = fill.order_id in keeping
                order = replaced(before, **changes._asdict(), **extra, updated_at=now)
                current[fill.order_id] = order
                recorded[fill.fill_id] = fill
                new_fills.append(
                    _IngestFill(
                        index,
                        fill.fill_id,
                        fill.order_id,
                        None,
                        fill.quantity,
                        fill.price,
                        fill.filled_at,
                        fill.liquidity,
                        fill.commission,
                    )
                )
                outcomes.append(RecordedFill(fill=fill, order=order, replayed=False))
            if new_fills:
                keeps = {order_id: order_id in keeping for order_id in updates}
                self._write(new_fills, orders, list(updates.items()), fill_links, keeps)
            if keeper is not None:
                keeper.link(order_links.values(), fills=False)
                keeper.settle_cash()
        return outcomes

    def _lock_orders(
        self, connection: Executor, fills: Sequence[_IngestFill]
    ) -> dict[str, LockedOrder]:
        """Lock every order the batch names (in order_id order: no deadlock between imports)."""
        ids = sql.id_list_value(sorted({fill.order_id for fill in fills}), self._dialect)
        rows = connection.run(sql.INGEST_LOCK_ORDERS, {"bot_id": self._bot_id, "ids": ids})
        width = 1 + len(sql.LOCK_ORDER_COLUMNS)
        orders = {
            row[0]: LockedOrder.from_rows(self._bot_id, row[0], row[1:width], [])
            for row in rows.rows
        }
        #: order_id -> (strategy, keep_position, the bot's position keeping).
        self._keeping = {row[0]: tuple(row[width:]) for row in rows.rows}
        for fill in fills:
            if fill.order_id not in orders:
                raise OrderNotFound(f"rows[{fill.index}]: order", fill.order_id)
        return orders

    def _stored_fills(
        self, connection: Executor, orders: Mapping[str, LockedOrder]
    ) -> dict[str, tuple[str, tuple[Any, ...]]]:
        """Fills already stored for the batch's orders, by fill_id; added to ``orders`` too.

        Read after the orders are locked, so on PostgreSQL this statement's snapshot sees
        every fill committed for them. Orders with nothing filled have no fills to read.
        """
        with_fills = [oid for oid, order in orders.items() if order.filled_quantity > 0]
        stored: dict[str, tuple[str, tuple[Any, ...]]] = {}
        if not with_fills:
            return stored
        ids = sql.id_list_value(with_fills, self._dialect)
        rows = connection.run(sql.INGEST_EXISTING_FILLS, {"bot_id": self._bot_id, "ids": ids})
        for row in rows.rows:
            order_id, fill_values = row[0], row[1:]
            stored[fill_values[0]] = (order_id, fill_values)
            orders[order_id].fill_rows.append(fill_values)
        for order_id in with_fills:
            orders[order_id].check_consistent()
        return stored

    def _write(
        self,
        new_fills: Sequence[_IngestFill],
        orders: Mapping[str, LockedOrder],
        updates: Sequence[tuple[str, OrderChanges]],
        links: Mapping[str, tuple[KeptFill, str]],
        keeps: Mapping[str, bool],
    ) -> int:
        """Insert the fills and update the orders inside a savepoint; ``keeps`` is each
        order's keeping choice, frozen on it (its own, else the bot's mode read with it).

        The savepoint is what keeps "refused means nothing written" when only the insert
        itself can tell that a fill_id is taken (by an order outside the batch).
        """
        try:
            with self._db.savepoint():
                inserted = self._insert_fills(self._db, new_fills, orders, links)
                if inserted != len(new_fills):
                    raise _FillIdTaken
                self._write_order_updates(self._db, updates, keeps)
        except _FillIdTaken:
            self._raise_foreign_fill_ids(self._db, new_fills)
        return inserted

    def _resolve_client_order_ids(self, connection: Executor, batch: _IngestBatch) -> None:
        wanted = sorted({f.client_order_id for f in batch.fills if f.client_order_id})
        if not wanted:
            return
        found: dict[str, str] = dict(
            connection.run(
                sql.INGEST_ORDERS_BY_CLIENT_ID,
                {"bot_id": self._bot_id, "ids": sql.id_list_value(wanted, self._dialect)},
            ).rows
        )
        for fill in batch.fills:
            if fill.client_order_id is None:
                continue
            resolved = found.get(fill.client_order_id)
            if resolved is None:
                raise OrderNotFound(
                    f"rows[{fill.index}]: order", f"client_order_id={fill.client_order_id}"
                )
            if fill.order_id and fill.order_id != resolved:
                raise ValidationError(
                    f"rows[{fill.index}].order_id",
                    fill.order_id,
                    f"client_order_id {fill.client_order_id!r} names order {resolved!r}",
                )
            fill.order_id = resolved

    def _insert_fills(
        self,
        connection: Executor,
        new_fills: Sequence[_IngestFill],
        states: Mapping[str, LockedOrder],
        links: Mapping[str, tuple[KeptFill, str]],
    ) -> int:
        """One ``executemany`` on SQLite (a fill_id taken elsewhere is skipped and counted
        missing); a CSV ``COPY`` on PostgreSQL (COPY has no ON CONFLICT: a taken fill_id fails
        it, and the caller's savepoint turns that into ``DuplicateFill`` for the row)."""
        constants = {"bot_id": self._bot_id}
        columns = _fill_columns(new_fills, states, links)
        if self._dialect != "postgresql":
            return bulk.run_many(connection, sql.INGEST_INSERT_FILLS, columns, constants=constants)
        try:
            return bulk.copy_rows(connection, _FILLS, columns, constants=constants, format="csv")
        except IntegrityViolation:
            return -1

    def _raise_foreign_fill_ids(
        self, connection: Executor, new_fills: Sequence[_IngestFill]
    ) -> None:
        ids = [fill.fill_id for fill in new_fills]
        taken: dict[str, str] = dict(
            connection.run(
                sql.INGEST_FILLS_BY_ID,
                {"bot_id": self._bot_id, "ids": sql.id_list_value(ids, self._dialect)},
            ).rows
        )
        for fill in new_fills:
            if fill.fill_id in taken:
                raise DuplicateFill(
                    f"rows[{fill.index}]: fill_id {fill.fill_id!r} was already recorded for "
                    f"order {taken[fill.fill_id]!r}, not {fill.order_id!r}"
                )
        raise ConflictError(  # pragma: no cover - a concurrent writer outside the locks
            "fills were inserted concurrently for orders of this batch; retry"
        )

    def _write_order_updates(
        self,
        connection: Executor,
        updates: Sequence[tuple[str, OrderChanges]],
        keeps: Mapping[str, bool],
    ) -> None:
        now = connection.now()
        if self._dialect == "postgresql":
            columns = list(zip(*(changes for _, changes in updates), strict=True))
            params: dict[str, Any] = {
                f"v_{name}": sql.pg_array(values)
                for name, values in zip(OrderChanges._fields, columns, strict=True)
            }
            params["v_keep_position"] = sql.pg_array(keeps[order_id] for order_id, _ in updates)
            params["v_order_id"] = sql.pg_array(order_id for order_id, _ in updates)
            params["v_updated_at"] = now
            params["key_bot_id"] = self._bot_id
            connection.execute(sql.INGEST_UPDATE_ORDERS_POSTGRESQL, params)
            return
        # OrderChanges' fields are the statement's SET parameters.
        changes = zip(*(c for _, c in updates), strict=True)
        values: dict[str, Sequence[Any]] = dict(zip(OrderChanges._fields, changes, strict=True))
        values["key_order_id"] = [order_id for order_id, _ in updates]
        values["keep_position"] = [keeps[order_id] for order_id, _ in updates]
        written = bulk.run_many(
            connection,
            sql.INGEST_UPDATE_ORDERS_SQLITE,
            values,
            constants={"updated_at": now, "key_bot_id": self._bot_id},
        )
        if written != len(updates):  # pragma: no cover - the orders are locked
            raise ConflictError("orders changed during ingest_fills; retry")


_INGEST_KEYS = frozenset(
    {
        "fill_id",
        "order_id",
        "client_order_id",
        "quantity",
        "price",
        "filled_at",
        "liquidity",
        "commission",
    }
)
_LIQUIDITY: dict[str, Liquidity] = {member.value: member for member in Liquidity}


class _IngestFill:
    """One validated ingest row."""

    __slots__ = (
        "client_order_id",
        "commission",
        "fill_id",
        "filled_at",
        "index",
        "liquidity",
        "order_id",
        "price",
        "quantity",
    )

    def __init__(
        self,
        index: int,
        fill_id: str,
        order_id: str,
        client_order_id: str | None,
        quantity: Decimal,
        price: Decimal,
        filled_at: dt.datetime,
        liquidity: Liquidity,
        commission: Decimal,
    ) -> None:
        self.index = index
        self.fill_id = fill_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.quantity = quantity
        self.price = price
        self.filled_at = filled_at
        self.liquidity = liquidity
        self.commission = commission

    def payload(self) -> tuple[Any, ...]:
        return (
            self.order_id,
            self.quantity,
            self.price,
            self.commission,
            self.filled_at,
            self.liquidity,
        )

    def differences(self, order_id: str, stored: Sequence[Any]) -> list[str]:
        """Fields differing from a stored fill (``stored``: sql.LOCK_FILL_COLUMNS values)."""
        _fid, quantity, price, commission, filled_at, liquidity = stored
        return [
            name
            for name, mine, theirs in (
                ("order_id", self.order_id, order_id),
                ("quantity", self.quantity, quantity),
                ("price", self.price, price),
                ("commission", self.commission, commission),
                ("filled_at", self.filled_at, filled_at),
                ("liquidity", self.liquidity, Liquidity(liquidity)),
            )
            if mine != theirs
        ]


@dataclass(slots=True)
class _IngestBatch:
    fills: list[_IngestFill]
    #: Rows repeating an earlier row of the same batch exactly (counted as replays).
    duplicates: int


def _separate_replays(
    batch: _IngestBatch, stored: Mapping[str, tuple[str, tuple[Any, ...]]]
) -> tuple[list[_IngestFill], int]:
    """(fills to insert, number of replays); a stored fill_id with another payload raises."""
    new_fills: list[_IngestFill] = []
    replayed = batch.duplicates
    for fill in batch.fills:
        found = stored.get(fill.fill_id)
        if found is None:
            new_fills.append(fill)
            continue
        differing = fill.differences(*found)
        if differing:
            raise DuplicateFill(
                f"rows[{fill.index}]: fill_id {fill.fill_id!r} was already recorded "
                f"(order {found[0]!r}) with a different {', '.join(differing)}"
            )
        replayed += 1
    return new_fills, replayed


def _validate_ingest_rows(rows: Iterable[Mapping[str, Any]], dialect: str) -> _IngestBatch:
    """Validate every row before anything is written; the first bad row raises.

    The common row (Decimal amounts, aware datetime, known liquidity) takes a fast path of
    type checks; anything else goes through ``tradestore.domain.validation`` for the same result or
    the same error message as ``record_fill``, with the field named ``rows[i].field``.
    """
    sqlite = dialect == "sqlite"
    by_fill_id: dict[str, _IngestFill] = {}
    duplicates = 0
    utc = dt.UTC
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise ValidationError("rows", rows, "expected an iterable of mappings (one per fill)")
    for index, row in enumerate(rows):
        if type(row) is not dict and not isinstance(row, Mapping):
            raise ValidationError(f"rows[{index}]", row, "expected a mapping")
        if not row.keys() <= _INGEST_KEYS:
            unknown = sorted(set(row.keys()) - _INGEST_KEYS)
            raise ValidationError(f"rows[{index}]", unknown, "unknown keys")
        fill_id = _fast_text(row.get("fill_id"), _FILL_ID_LENGTH) or required_text(
            f"rows[{index}].fill_id", row.get("fill_id"), max_length=_FILL_ID_LENGTH
        )
        raw_order_id = row.get("order_id")
        client_order_id = row.get("client_order_id")
        order_id = ""
        if raw_order_id is not None:
            order_id = _fast_text(raw_order_id, 64) or required_text(
                f"rows[{index}].order_id", raw_order_id
            )
        if client_order_id is not None:
            client_order_id = required_text(
                f"rows[{index}].client_order_id", client_order_id, max_length=_CLIENT_ID_LENGTH
            )
        elif raw_order_id is None:
            raise ValidationError(
                f"rows[{index}].order_id", None, "give order_id or client_order_id"
            )
        quantity = fast_money(row.get("quantity"), sqlite, positive=True)
        if quantity is None:
            quantity = money(f"rows[{index}].quantity", row.get("quantity"), dialect, positive=True)
        price = fast_money(row.get("price"), sqlite, positive=True)
        if price is None:
            price = money(f"rows[{index}].price", row.get("price"), dialect, positive=True)
        raw_commission = row.get("commission", _ZERO)
        commission = fast_money(raw_commission, sqlite, positive=False)
        if commission is None:
            commission = money(
                f"rows[{index}].commission", raw_commission, dialect, non_negative=True
            )
        filled_at = row.get("filled_at")
        if type(filled_at) is dt.datetime and filled_at.tzinfo is utc:
            pass
        else:
            filled_at = instant(f"rows[{index}].filled_at", filled_at)
            assert filled_at is not None
        raw_liquidity = row.get("liquidity", Liquidity.UNKNOWN)
        liquidity = _LIQUIDITY.get(raw_liquidity) if isinstance(raw_liquidity, str) else None
        if liquidity is None:
            liquidity = choice(f"rows[{index}].liquidity", row.get("liquidity"), Liquidity)
        fill = _IngestFill(
            index,
            fill_id,
            order_id,
            client_order_id,
            quantity,
            price,
            filled_at,
            liquidity,
            commission,
        )
        earlier = by_fill_id.get(fill_id)
        if earlier is None:
            by_fill_id[fill_id] = fill
            continue
        if (earlier.client_order_id, earlier.payload()) != (fill.client_order_id, fill.payload()):
            raise DuplicateFill(
                f"rows[{index}]: fill_id {fill_id!r} repeats rows[{earlier.index}] "
                "with a different payload"
            )
        duplicates += 1
    return _IngestBatch(list(by_fill_id.values()), duplicates)


def _fast_text(value: Any, max_length: int) -> str | None:
    """The common identifier, accepted without the general checks; None means "check it"."""
    if (
        type(value) is str
        and 0 < len(value) <= max_length
        and not value[0].isspace()
        and not value[-1].isspace()
        and "\x00" not in value
    ):
        return value
    return None


def _ingest_order_updates(
    states: Mapping[str, LockedOrder], new_fills: Sequence[_IngestFill], dialect: str
) -> list[tuple[str, OrderChanges]]:
    """Recompute every affected order from all its fills; refuse overfills and rejected orders.

    Plain Decimal sums in one exact context: this runs once per fill of the batch.
    """
    by_order: dict[str, list[_IngestFill]] = {}
    for fill in new_fills:
        by_order.setdefault(fill.order_id, []).append(fill)
    updates = []
    with localcontext(MONEY_CONTEXT):
        for order_id, fills in by_order.items():
            state = states[order_id]
            state.check_fillable(fills[0].index)
            filled, notional, commission, last = _ZERO, _ZERO, _ZERO, None
            for _fid, q, p, c, at, _liq in state.fill_rows:
                filled, notional, commission = filled + q, notional + q * p, commission + c
                last = at if last is None or at > last else last
            limit = state.quantity
            for fill in fills:
                filled += fill.quantity
                if filled > limit:
                    raise Overfill(
                        f"rows[{fill.index}]: fill {fill.fill_id!r} of {fill.quantity} would "
                        f"bring order {order_id!r} to {filled}, above its quantity {limit}"
                    )
                notional += fill.quantity * fill.price
                commission += fill.commission
                if last is None or fill.filled_at > last:
                    last = fill.filled_at
            changes = order_changes(
                state,
                filled_quantity=filled,
                notional=notional,
                commission=commission,
                last_filled_at=last,
                dialect=dialect,
                row=fills[-1].index,
            )
            updates.append((order_id, changes))
    return updates


def _fill_columns(
    new_fills: Sequence[_IngestFill],
    states: Mapping[str, LockedOrder],
    links: Mapping[str, tuple[KeptFill, str]],
) -> dict[str, list[Any]]:
    """The fills' columns (but bot_id), for ``db.bulk``: what every fill of an order shares
    is taken from the locked order; a kept fill's position is the one it moved."""
    shared = {oid: (o.ticker, o.side.value, o.position_id) for oid, o in states.items()}
    ticker, side, position_id = zip(*(shared[fill.order_id] for fill in new_fills), strict=True)
    if links:
        position_id = tuple(
            links[fill.fill_id][1] if fill.fill_id in links else shared_id
            for fill, shared_id in zip(new_fills, position_id, strict=True)
        )
    return {
        "fill_id": [fill.fill_id for fill in new_fills],
        "order_id": [fill.order_id for fill in new_fills],
        "ticker": list(ticker),
        "side": list(side),
        "quantity": [fill.quantity for fill in new_fills],
        "price": [fill.price for fill in new_fills],
        "filled_at": [fill.filled_at for fill in new_fills],
        "liquidity": [fill.liquidity.value for fill in new_fills],
        "commission": [fill.commission for fill in new_fills],
        "position_id": list(position_id),
    }


class _FillIdTaken(Exception):
    """Raised inside the insert's savepoint to undo it: a fill_id belongs to another order."""


def _kept(fill: _IngestFill, state: LockedOrder, strategy: str | None) -> KeptFill:
    return KeptFill(
        fill_id=fill.fill_id,
        order_id=fill.order_id,
        ticker=state.ticker,
        strategy=strategy,
        side=state.side,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        filled_at=fill.filled_at,
        reference=reference_price(
            reference=state.reference_price,
            limit_price=state.limit_price,
            stop_price=state.stop_price,
        ),
        order_position_id=state.position_id,
    )


def _first_per_order(
    links: Mapping[str, tuple[KeptFill, str]],
    new_fills: Sequence[_IngestFill],
    orders: Mapping[str, LockedOrder],
) -> list[tuple[KeptFill, str]]:
    """The link that names each order's position: its first kept fill's, for orders that
    had none (later fills of the order do not move the order's position_id, as live)."""
    first: dict[str, tuple[KeptFill, str]] = {}
    for kept, position_id in links.values():
        if orders[kept.order_id].position_id is None and kept.order_id not in first:
            first[kept.order_id] = (kept, position_id)
    return list(first.values())
