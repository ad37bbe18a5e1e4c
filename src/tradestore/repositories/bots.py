"""Bots: registration, liveness, lifecycle and restart recovery.

Liveness is judged by the Database's clock (``Database(clock=...)``, the host's UTC clock by
default), like every other timestamp the library writes: ``heartbeat`` stores its time and
``stale`` compares against it. A backtest's simulated clock thus writes simulated heartbeats,
and its bots are stale or alive in simulated time. Bots on several hosts are judged correctly
as long as those hosts' clocks agree to well within ``older_than`` (NTP keeps them within
milliseconds); the database server's clock is not consulted, so SQLite and PostgreSQL give the
same answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from typing import Any, Final

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import LABEL_STYLE_TABLENAME_PLUS_COL

from tradestore.db.dialects import upsert_insert
from tradestore.db.executor import Executor, Prepared
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain import validation
from tradestore.domain.enums import (
    TERMINAL_ORDER_STATUSES,
    BotMode,
    BotStatus,
    OrderStatus,
    PositionKeeping,
    SessionEndReason,
)
from tradestore.domain.money import MONEY_CONTEXT, Amount, fit
from tradestore.domain.trade_totals import TradeTotals
from tradestore.errors import BotNotFound, ConflictError, ValidationError
from tradestore.models.base import table_of
from tradestore.models.bots import END_REASON_LENGTH, Bot
from tradestore.models.trading import Fill, Order
from tradestore.repositories import position_totals
from tradestore.repositories.order_records import FillRecord, OrderRecord
from tradestore.repositories.order_sql import FILL_COLUMNS, ORDER_COLUMNS
from tradestore.repositories.positions import PositionRecord, PositionRepository
from tradestore.repositories.sessions import SessionRecord, SessionRepository
from tradestore.repositories.snapshots import SnapshotRecord, SnapshotRepository

MAX_NAME_LENGTH: Final = 200
MAX_BROKER_LENGTH: Final = 50
MAX_CONFIG_FILE_LENGTH: Final = 500
MAX_NOTES_LENGTH: Final = 10_000
#: A bot in one of these statuses is expected to heartbeat; ``stale`` only looks at them.
LIVE_STATUSES: Final = frozenset({BotStatus.STARTING, BotStatus.RUNNING, BotStatus.PAUSED})
#: Fields that a repeated ``register`` call updates when it passes a (new) value.
DESCRIPTIVE_FIELDS: Final = ("name", "broker", "config_file", "config", "metadata", "notes")


@dataclass(frozen=True)
class BotRecord:
    bot_id: str
    name: str | None
    mode: BotMode
    broker: str | None
    status: BotStatus
    config_file: str | None
    #: Start and end of the bot's latest trading session (``uow.sessions`` has them all).
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    last_heartbeat: dt.datetime | None
    starting_balance: Decimal | None
    current_balance: Decimal | None
    #: Realized P&L and commission of all closed positions, as of the last ``refresh_totals``
    #: (done automatically when the bot is stopped or errors).
    total_pnl: Decimal
    total_commission: Decimal
    config: dict[str, Any] | None
    metadata: dict[str, Any] | None
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    #: Whether the fills of the bot's orders move its positions (revision 0012):
    #: ``manual`` (they do not) or ``netting`` (docs/guide/positions.md).
    position_keeping: PositionKeeping = PositionKeeping.MANUAL


@dataclass(frozen=True, slots=True)
class OrderState(OrderRecord):
    """A non-terminal order as a restarting bot needs it, with every fill recorded so far
    (oldest first): the order as ``OrderRepository.get`` returns it, plus its fills."""

    fills: tuple[FillRecord, ...] = ()


@dataclass(frozen=True)
class Balances:
    """Money figures of one bot, computed exactly from its rows at recovery time."""

    starting_balance: Decimal | None
    #: As last stored with ``set_balance`` (or the starting balance), moved by every fill
    #: of an order that keeps positions (position keeping); otherwise tradestore does not
    #: move cash, the bot or its broker does.
    current_balance: Decimal | None
    #: SUM(realized_pnl) of every closed position (net of commission).
    realized_pnl: Decimal
    #: SUM(unrealized_pnl) of the open positions.
    unrealized_pnl: Decimal
    #: Commission of closed positions plus the entry commission still on open ones.
    commission_paid: Decimal


@dataclass(frozen=True)
class RecoveryState:
    """Everything a restarting bot reloads: see ``BotRepository.recover``."""

    #: The bot as the previous run left it (its status and session times before this start).
    bot: BotRecord
    open_positions: tuple[PositionRecord, ...]
    open_orders: tuple[OrderState, ...]
    latest_snapshot: SnapshotRecord | None
    balances: Balances
    #: The session this start opened.
    session: SessionRecord | None = None
    #: The previous run's session when it was still open, now ended as ``interrupted``.
    interrupted_session: SessionRecord | None = None


_B = table_of(Bot)
_O = table_of(Order)
_F = table_of(Fill)

#: A restart's orders: the non-terminal ones, oldest first, and their fills in the order they
#: happened. Prebuilt (``recover`` runs them on every restart); the statuses are literals, so
#: the SQL is one text whatever their number.
_OPEN_STATUS = or_(
    *(
        _O.c.status == literal_column(f"'{status.value}'")
        for status in sorted(set(OrderStatus) - TERMINAL_ORDER_STATUSES)
    )
)
#: One statement, so that each order comes with exactly the fills of the same snapshot (two
#: READ COMMITTED statements could see an order open and then, cancelled in between, none of
#: its fills): the orders joined to their fills, an order's row repeated per fill.
_OPEN_ORDERS_AND_FILLS = Prepared(
    select(*ORDER_COLUMNS, *FILL_COLUMNS)
    .select_from(_O.outerjoin(_F, and_(_F.c.bot_id == _O.c.bot_id, _F.c.order_id == _O.c.order_id)))
    .where(_O.c.bot_id == bindparam("bot_id"), _OPEN_STATUS)
    .order_by(_O.c.submitted_at, _O.c.order_id, _F.c.filled_at, _F.c.fill_id)
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL),
    name="bots.open_orders_and_fills",
)
_ORDER_WIDTH = len(ORDER_COLUMNS)
_BOT_FIELDS = tuple(f.name for f in fields(BotRecord))
_BOT_COLUMNS = tuple(_B.c[name] for name in _BOT_FIELDS)
_SELECT_BOT = select(*_BOT_COLUMNS).where(_B.c.bot_id == bindparam("bot_id"))
#: Prebuilt: every session writer and every restart runs them.
_LOCK_BOT = Prepared(_SELECT_BOT.with_for_update(), name="bots.lock")
_BOT_STARTED = Prepared(
    update(_B)
    .where(_B.c.bot_id == bindparam("bot_id"))
    .values(
        started_at=bindparam("now", type_=_B.c.started_at.type),
        ended_at=null(),
        updated_at=bindparam("now", type_=_B.c.updated_at.type),
    )
    .returning(*_BOT_COLUMNS),
    name="bots.started",
)


def _bot(row: Any) -> BotRecord:
    return BotRecord(*row)


@error_net
class BotRepository:
    """The bots sharing this database. Not scoped to one bot: every method names its bot."""

    def __init__(self, db: Executor | Session | Connection) -> None:
        self._db = Executor.of(db)
        self._dialect = self._db.dialect_name

    @atomic
    def register(
        self,
        bot_id: str,
        *,
        mode: BotMode | str = BotMode.PAPER,
        name: str | None = None,
        broker: str | None = None,
        config_file: str | None = None,
        starting_balance: Amount | None = None,
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        notes: str | None = None,
        position_keeping: PositionKeeping | str | None = None,
    ) -> BotRecord:
        """Create the bot, or return it unchanged when it exists: idempotent, race-free.

        ``position_keeping`` ('manual', the default, or 'netting') says whether the fills of
        the bot's orders move its positions (docs/guide/positions.md); given for an existing
        bot with another value, it is changed as ``set_position_keeping`` changes it.

        ``mode`` and ``starting_balance`` are the bot's accounting identity: registering an
        existing bot with a different mode, or a starting balance different from the one
        stored, raises ``ConflictError`` (a new mode or capital is a new bot_id). The
        descriptive fields (name, broker, config_file, config, metadata, notes) are updated
        when passed with a new value, so a bot restarting with a new configuration records it;
        omitted (None) fields are left as they are. A starting balance given for a bot that
        had none is stored, and becomes its current balance if that is unset too.
        """
        d = self._dialect
        bot_id_ = validation.required_text("bot_id", bot_id)
        keeping = (
            None
            if position_keeping is None
            else validation.choice("position_keeping", position_keeping, PositionKeeping)
        )
        now = self._db.now()
        values: dict[str, Any] = {
            "mode": validation.choice("mode", mode, BotMode),
            "name": validation.optional_text("name", name, max_length=MAX_NAME_LENGTH),
            "broker": validation.optional_text("broker", broker, max_length=MAX_BROKER_LENGTH),
            "config_file": validation.optional_text(
                "config_file", config_file, max_length=MAX_CONFIG_FILE_LENGTH
            ),
            "starting_balance": validation.optional_money(
                "starting_balance", starting_balance, d, non_negative=True
            ),
            "config": validation.json_document("config", config),
            "metadata": validation.json_document("metadata", metadata),
            "notes": validation.optional_text("notes", notes, max_length=MAX_NOTES_LENGTH),
        }
        stored = {
            # SQL NULL for an absent document, not the JSON document 'null'
            key: null() if key in ("config", "metadata") and value is None else value
            for key, value in values.items()
        }
        stmt = (
            upsert_insert(self._db.dialect_name, _B)
            .values(
                bot_id=bot_id_,
                current_balance=values["starting_balance"],
                status=BotStatus.STARTING,
                created_at=now,
                updated_at=now,
                position_keeping=keeping or PositionKeeping.MANUAL,
                **stored,
            )
            .on_conflict_do_nothing(index_elements=[_B.c.bot_id])
            .returning(*_BOT_COLUMNS)
        )
        row = self._db.execute(stmt).one_or_none()
        if row is not None:
            return _bot(row)
        existing = self.get(bot_id_)
        if existing.mode is not values["mode"]:
            raise ConflictError(
                f"bot {bot_id_!r} is registered in mode {existing.mode.value!r}, "
                f"not {values['mode'].value!r}: use a new bot_id for another mode"
            )
        changes = {
            key: values[key]
            for key in DESCRIPTIVE_FIELDS
            if values[key] is not None and values[key] != getattr(existing, key)
        }
        balance = values["starting_balance"]
        if balance is not None:
            if existing.starting_balance is None:
                changes["starting_balance"] = balance
                if existing.current_balance is None:
                    changes["current_balance"] = balance
            elif existing.starting_balance != balance:
                raise ConflictError(
                    f"bot {bot_id_!r} was registered with starting_balance "
                    f"{existing.starting_balance}, not {balance}"
                )
        if keeping is not None and keeping is not existing.position_keeping:
            changes["position_keeping"] = keeping
        if not changes:
            return existing
        return self._update(bot_id_, changes)

    @atomic
    def set_position_keeping(
        self, bot_id: str, position_keeping: PositionKeeping | str
    ) -> BotRecord:
        """Turn position keeping from fills on ('netting') or off ('manual') for the bot.

        From then on the first fill of each of the bot's orders that do not choose for
        themselves (``submit(keep_position=None)``) follows the new setting. An order's
        choice is frozen on it (``keep_position``) when its first fill is recorded, under
        the order's row lock, so an order already partly filled, or a late fill of a
        cancelled one, keeps going the way it started: no order is ever kept half one way
        and half the other, and no switch needs to wait or be refused (a switch racing a
        first fill on PostgreSQL decides that order one way, whichever commits first).
        Positions already open stay as they are: a kept position is moved by later fills
        only in 'netting'; the explicit API works on it in either mode.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        keeping = validation.choice("position_keeping", position_keeping, PositionKeeping)
        existing = self.get(bot_id_)
        if existing.position_keeping is keeping:
            return existing
        return self._update(bot_id_, {"position_keeping": keeping})

    def get(self, bot_id: str) -> BotRecord:
        bot_id_ = validation.required_text("bot_id", bot_id)
        row = self._db.execute(_SELECT_BOT, {"bot_id": bot_id_}).one_or_none()
        if row is None:
            raise BotNotFound("bot", bot_id_)
        return _bot(row)

    def list(
        self,
        *,
        status: BotStatus | str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[BotRecord]:
        """Registered bots by bot_id."""
        stmt = select(*_BOT_COLUMNS).order_by(_B.c.bot_id)
        if status is not None:
            stmt = stmt.where(_B.c.status == validation.choice("status", status, BotStatus))
        stmt = paginate(stmt, limit=limit, offset=offset)
        return Rows(BotRecord, (_bot(row) for row in self._db.execute(stmt)))

    def heartbeat(self, bot_id: str) -> dt.datetime:
        """Record that the bot is alive, at the Database's clock's time; returns that time."""
        bot_id_ = validation.required_text("bot_id", bot_id)
        now = self._db.now()
        stmt = (
            update(_B)
            .where(_B.c.bot_id == bot_id_)
            .values(last_heartbeat=now, updated_at=now)
            .returning(_B.c.last_heartbeat)
        )
        beat: dt.datetime | None = self._db.execute(stmt).scalar_one_or_none()
        if beat is None:
            raise BotNotFound("bot", bot_id_)
        return beat

    def stale(self, *, older_than: dt.timedelta) -> Rows[BotRecord]:
        """Live bots (starting, running, paused) whose last sign of life is too old.

        The last sign of life is the last heartbeat, else the start, else the registration;
        "too old" is judged against the Database's clock.
        """
        if not isinstance(older_than, dt.timedelta) or older_than < dt.timedelta(0):
            raise ValidationError("older_than", older_than, "expected a timedelta >= 0")
        try:
            cutoff = self._db.now() - older_than
        except OverflowError:  # further back than year 1: no bot has been silent that long
            return Rows(BotRecord, ())
        last_seen = func.coalesce(_B.c.last_heartbeat, _B.c.started_at, _B.c.created_at)
        stmt = (
            select(*_BOT_COLUMNS)
            .where(_B.c.status.in_(sorted(LIVE_STATUSES)), last_seen < cutoff)
            .order_by(_B.c.bot_id)
        )
        return Rows(BotRecord, (_bot(row) for row in self._db.execute(stmt)))

    @atomic
    def set_status(
        self, bot_id: str, status: BotStatus | str, *, notes: str | None = None
    ) -> BotRecord:
        """Move the bot to ``status`` with the session bookkeeping, by the Database's clock.

        * running: a trading session opens (``start_session``'s defaults) unless one is open
          (a resume from paused, or the session ``recover`` / ``start_session`` opened);
          started_at is the open session's start and ended_at is cleared.
        * starting: ended_at is cleared (a restart is under way).
        * stopped / error: the open session ends with that reason and its figures; ended_at
          is its end (without an open session: now, or kept if it was already stopped or in
          error), and the lifetime totals are refreshed (``refresh_totals``).
        * paused: no timestamps change.

        Any status may follow any other: a supervisor must be able to force a state.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        new = validation.choice("status", status, BotStatus)
        note = validation.optional_text("notes", notes, max_length=MAX_NOTES_LENGTH)
        bot, now = self._locked(bot_id_)  # one session writer at a time
        values: dict[str, Any] = {"status": new, "updated_at": now}
        if note is not None:
            values["notes"] = note
        if new is BotStatus.RUNNING:
            sessions = SessionRepository(self._db, bot_id_)
            session = sessions.current()
            if session is None:
                before = sessions._totals() - sessions._closed_from(now)
                session = sessions._open(
                    now,
                    starting_balance=bot.current_balance,
                    starting_equity=None,
                    metadata=None,
                    notes=None,
                    before=before,
                )
            values.update(started_at=session.started_at, ended_at=None)
        elif new is BotStatus.STARTING:
            values["ended_at"] = None
        elif new in (BotStatus.STOPPED, BotStatus.ERROR):
            sessions = SessionRepository(self._db, bot_id_)
            totals = sessions._totals()
            current = sessions._current_with_prior()
            if current is not None:
                session, prior = current
                ended = sessions._close(
                    session,
                    now,
                    end_reason=new.value,
                    ending_balance=bot.current_balance,
                    ending_equity=None,
                    prior=prior,
                    before=totals - sessions._closed_from(now),
                )
                values["ended_at"] = ended.ended_at
            else:
                already = and_(
                    _B.c.status.in_((BotStatus.STOPPED, BotStatus.ERROR)),
                    _B.c.ended_at.is_not(None),
                )
                values["ended_at"] = case((already, _B.c.ended_at), else_=now)
            values.update(self._totals_values(totals))
        return self._update(bot_id_, values)

    @atomic
    def set_balance(self, bot_id: str, *, current_balance: Amount) -> BotRecord:
        """Store the bot's current balance (from its broker, or its own paper accounting)."""
        bot_id_ = validation.required_text("bot_id", bot_id)
        balance = validation.money("current_balance", current_balance, self._dialect)
        return self._update(bot_id_, {"current_balance": balance})

    @atomic
    def refresh_totals(self, bot_id: str) -> BotRecord:
        """Set total_pnl and total_commission to the sums over the bot's closed positions.

        They are read from the running totals (``positions.closed_totals``: a row per ticker
        and strategy), which the closes and prunes keep equal to those sums; the totals are
        checked and rebuilt from the closed rows themselves (``db verify``, ``db
        rebuild-totals``), never from these copies, so a wrong copy cannot feed back."""
        bot_id_ = validation.required_text("bot_id", bot_id)
        totals = position_totals.summed(position_totals.read(self._db, bot_id_))
        return self._update(bot_id_, self._totals_values(totals))

    @atomic
    def start_session(
        self,
        bot_id: str,
        *,
        starting_balance: Amount | None = None,
        starting_equity: Amount | None = None,
        metadata: Mapping[str, Any] | None = None,
        notes: str | None = None,
    ) -> SessionRecord:
        """Open a new trading session of the bot, now (the Database's clock).

        A session still open is ended first as ``interrupted``, with its figures: its run
        ended without ``end_session`` (a crash, a kill; the database cannot tell which).
        ``starting_balance`` defaults to the bot's current balance; pass ``starting_equity``
        (cash plus open positions' market value) to measure the session's drawdown from its
        start. The bot's started_at becomes the session's start and its ended_at is cleared;
        its status is the bot's to set.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        d = self._dialect
        balance = validation.optional_money("starting_balance", starting_balance, d)
        equity = validation.optional_money("starting_equity", starting_equity, d)
        document = validation.json_document("metadata", metadata)
        note = validation.optional_text("notes", notes, max_length=MAX_NOTES_LENGTH)
        _bot, now = self._locked(bot_id_)
        sessions = SessionRepository(self._db, bot_id_)
        session, _ = self._start(
            bot_id_,
            now,
            starting_balance=balance,
            starting_equity=equity,
            metadata=document,
            notes=note,
            before=sessions._totals() - sessions._closed_from(now),
        )
        return session

    @atomic
    def end_session(
        self,
        bot_id: str,
        *,
        end_reason: SessionEndReason | str = SessionEndReason.STOPPED,
        ending_balance: Amount | None = None,
        ending_equity: Amount | None = None,
        notes: str | None = None,
    ) -> SessionRecord:
        """End the bot's open session now, storing its figures (``uow.sessions.figures``).

        ``ending_balance`` defaults to the bot's current balance, ``ending_equity`` to the
        equity of the session's last snapshot (None without one). ``end_reason`` is a
        ``SessionEndReason`` or the bot's own text (at most 64 characters). The bot's
        ended_at becomes the session's end; its status is the bot's to set
        (``set_status(bot_id, "stopped")`` ends the session itself). ``ConflictError`` when
        the bot has no open session.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        d = self._dialect
        reason = validation.open_choice(
            "end_reason", end_reason, SessionEndReason, max_length=END_REASON_LENGTH
        )
        balance = validation.optional_money("ending_balance", ending_balance, d)
        equity = validation.optional_money("ending_equity", ending_equity, d)
        note = validation.optional_text("notes", notes, max_length=MAX_NOTES_LENGTH)
        bot, now = self._locked(bot_id_)
        sessions = SessionRepository(self._db, bot_id_)
        current = sessions._current_with_prior()
        if current is None:
            raise ConflictError(f"bot {bot_id_!r} has no open trading session to end")
        session, prior = current
        ended = sessions._close(
            session,
            now,
            end_reason=reason,
            ending_balance=bot.current_balance if balance is None else balance,
            ending_equity=equity,
            notes=note,
            prior=prior,
            before=sessions._totals() - sessions._closed_from(now),
        )
        self._update(bot_id_, {"ended_at": ended.ended_at, "updated_at": now})
        return ended

    def recovery_state(self, bot_id: str) -> RecoveryState:
        """What a restarting bot reloads, read only: ``recover`` without its new session.

        For a ``readonly=True`` unit of work (a dashboard, a supervisor looking at a bot):
        ``session`` and ``interrupted_session`` are None and nothing is written. The reads
        are one consistent picture: in a read-only unit of work on PostgreSQL (psycopg2) its
        transaction is one REPEATABLE READ snapshot; in a writing one the bot's row is locked
        first, as ``recover`` does (see there); SQLite has one snapshot per transaction.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        if self._db.readonly:
            bot = self.get(bot_id_)
        else:
            bot, _ = self._locked(bot_id_)
        state, _totals = self._state(bot)
        return state

    @atomic
    def recover(self, bot_id: str) -> RecoveryState:
        """Everything a restarting bot needs, in one transaction, and its new session.

        Its registration as the previous run left it, open positions (oldest first),
        non-terminal orders (oldest first) each with its fills in the order they happened,
        the latest portfolio snapshot, and its balances computed exactly: the open rows' and
        the running totals' (a row per ticker and strategy, so a restart costs the same after
        5,000 or 5,000,000 closed trades). Then a new trading session opens
        (``start_session``: a session the previous run left open ends as ``interrupted``,
        with its figures, taken from the running totals too), starting from the current
        balance and the latest snapshot's equity, so that a restart never overwrites the
        history of the run before it. The bot's status is not changed: the bot decides what
        to do next (typically ``set_status(bot_id, "running")``, which keeps this session).

        It writes, so it needs a writing unit of work: in a ``readonly=True`` one it raises
        ``ReadOnlyUnitOfWork`` before any statement (``recovery_state`` is the read-only
        half).

        The reads are one consistent picture of the bot. The bot's row is locked first
        (``SELECT ... FOR UPDATE``). On PostgreSQL that lock conflicts with the
        ``FOR KEY SHARE`` lock the foreign-key check of every INSERT of a row naming the bot
        takes (a fill, an order, an opened or closed position, a snapshot, a running total),
        and with every UPDATE of the bot's row (``set_balance``, the session writers): such a
        writer still in flight is waited for, and a later one waits until this transaction
        ends, so none commits between the reads below, although each READ COMMITTED
        statement has a snapshot of its own. What still can is a writer that only updates
        rows other than the bot's (a mark to market, a stop moved, an order acknowledged or
        cancelled): the open positions are one statement, and each order comes with its
        fills in one statement, so such a write shows whole or not at all. On SQLite the
        writing transaction holds the database's write lock from its start: no other writer
        runs at all.
        """
        bot_id_ = validation.required_text("bot_id", bot_id)
        self._db.refuse_write(
            "BotRepository.recover", "it opens a trading session; recovery_state only reads"
        )
        bot, now = self._locked(bot_id_)
        state, totals = self._state(bot)
        sessions = SessionRepository(self._db, bot_id_)
        before = totals - sessions._closed_from(now)
        session, interrupted = self._start(
            bot_id_,
            now,
            starting_balance=None,
            starting_equity=None
            if state.latest_snapshot is None
            else state.latest_snapshot.total_equity,
            metadata=None,
            notes=None,
            before=before,
        )
        return dataclasses.replace(state, session=session, interrupted_session=interrupted)

    def _state(self, bot: BotRecord) -> tuple[RecoveryState, TradeTotals]:
        """The bot's recovery reads (no session), and its running totals' sum (unrounded)."""
        positions = PositionRepository(self._db, bot.bot_id)
        open_positions = positions.oldest_first()
        orders = self._open_orders(bot.bot_id)
        latest = SnapshotRepository(self._db, bot.bot_id).latest()
        totals = position_totals.summed(position_totals.read(self._db, bot.bot_id))
        d = self._dialect
        with localcontext(MONEY_CONTEXT):
            unrealized = sum((p.unrealized_pnl for p in open_positions), Decimal(0))
            open_commission = sum((p.commission for p in open_positions), Decimal(0))
            balances = Balances(
                starting_balance=bot.starting_balance,
                current_balance=bot.current_balance,
                realized_pnl=fit(totals.realized_pnl, d),
                unrealized_pnl=fit(unrealized, d),
                commission_paid=fit(fit(totals.commission, d) + open_commission, d),
            )
        state = RecoveryState(
            bot=bot,
            open_positions=open_positions,
            open_orders=orders,
            latest_snapshot=latest,
            balances=balances,
        )
        return state, totals

    # --- helpers ---------------------------------------------------------------------------

    def _start(
        self,
        bot_id: str,
        now: dt.datetime,
        *,
        starting_balance: Decimal | None,
        starting_equity: Decimal | None,
        metadata: dict[str, Any] | None,
        notes: str | None,
        before: TradeTotals,
    ) -> tuple[SessionRecord, SessionRecord | None]:
        """Open a session at ``now`` (the bot's row locked: ``_locked``), ending the open one
        as interrupted first; ``before`` is the sums of the bot's closed rows closed before
        ``now``: the ended session's trades are it minus its prior sums, and it is the new
        session's prior sums. Returns the new session and the ended one, if any."""
        rows = self._db.run(_BOT_STARTED, {"bot_id": bot_id, "now": now}).rows
        if not rows:
            raise BotNotFound("bot", bot_id)
        bot = _bot(rows[0])
        sessions = SessionRepository(self._db, bot_id)
        current = sessions._current_with_prior()
        interrupted = None
        if current is not None:
            open_session, prior = current
            interrupted = sessions._close(
                open_session,
                now,
                end_reason=SessionEndReason.INTERRUPTED,
                ending_balance=bot.current_balance,
                ending_equity=None,
                prior=prior,
                before=before,
            )
        session = sessions._open(
            now,
            starting_balance=bot.current_balance if starting_balance is None else starting_balance,
            starting_equity=starting_equity,
            metadata=metadata,
            notes=notes,
            before=before,
        )
        return session, interrupted

    def _locked(self, bot_id: str) -> tuple[BotRecord, dt.datetime]:
        """The bot's row, locked for the rest of the transaction, then the clock's time.

        ``SELECT ... FOR UPDATE``: on PostgreSQL it excludes every other writer of the bot's
        row and every INSERT naming the bot (see ``recover``); SQLite's writer holds the write
        lock already. Locked before the clock is read, a session writer that waited for
        another one stamps a time after that one's, so sessions never overlap and never end
        before they start (``BotNotFound`` if there is no such bot).
        """
        rows = self._db.run(_LOCK_BOT, {"bot_id": bot_id}).rows
        if not rows:
            raise BotNotFound("bot", bot_id)
        return _bot(rows[0]), self._db.now()

    def _update(self, bot_id: str, values: Mapping[str, Any]) -> BotRecord:
        changes = dict(values)
        changes.setdefault("updated_at", self._db.now())
        stmt = update(_B).where(_B.c.bot_id == bot_id).values(changes).returning(*_BOT_COLUMNS)
        row = self._db.execute(stmt).one_or_none()
        if row is None:
            raise BotNotFound("bot", bot_id)
        return _bot(row)

    def _totals_values(self, totals: TradeTotals) -> dict[str, Decimal]:
        """bots.total_pnl and total_commission from the running totals' sum."""
        fitted = position_totals.fitted(totals, self._dialect)
        return {"total_pnl": fitted.realized_pnl, "total_commission": fitted.commission}

    def _open_orders(self, bot_id: str) -> tuple[OrderState, ...]:
        orders: list[OrderState] = []
        fills: list[FillRecord] = []
        last: tuple[Any, ...] | None = None
        for row in self._db.run(_OPEN_ORDERS_AND_FILLS, {"bot_id": bot_id}).rows:
            order, fill = row[:_ORDER_WIDTH], row[_ORDER_WIDTH:]
            if order != last:
                if last is not None:
                    orders.append(dataclasses.replace(OrderState(*last), fills=tuple(fills)))
                last, fills = order, []
            if fill[0] is not None:
                fills.append(FillRecord(*fill))
        if last is not None:
            orders.append(dataclasses.replace(OrderState(*last), fills=tuple(fills)))
        return tuple(orders)
