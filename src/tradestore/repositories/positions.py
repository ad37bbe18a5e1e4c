"""Open and closed positions of one bot.

``open`` and ``close`` run on every trade and ``mark_to_market`` on every price tick, so they
are written as a handful of prebuilt Core statements executed through the session (their
compiled form and cache key are built once per process), return frozen records built from the
values already in hand, and never load ORM entities. A full close is two statements: a
``DELETE ... RETURNING`` of the open row and an ``INSERT`` of the closed one.

Changing an open position (``update``, ``trail_stop``, ``scale_in``) reads the row locked and
writes it back: the rules it applies are ``tradestore.domain.position_changes``, and
``scale_out`` is a partial ``close``, not a second way to close.

Money arithmetic happens in Python on ``Decimal`` (``tradestore.domain.pnl``) and every derived
amount is rounded with ``money.fit`` for the backend before it is written: SQLite would
otherwise do the arithmetic in binary floating point and store 0.30000000000000004.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from typing import Any, Final

from sqlalchemy import (
    ARRAY,
    JSON,
    Column,
    Double,
    Enum,
    Numeric,
    Row,
    Select,
    String,
    Table,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from tradestore.analytics import positions as positions_read
from tradestore.db import bulk
from tradestore.db.executor import Prepared
from tradestore.db.money_sums import exact_sums
from tradestore.db.net import error_net
from tradestore.db.records import RecordReader
from tradestore.db.results import Rows, paginate
from tradestore.db.types import Money, Real, UTCDateTime, from_db_number
from tradestore.domain import pnl, position_changes, validation
from tradestore.domain.enums import ExitReason, PositionSide
from tradestore.domain.fill_accounting import slippage_bps
from tradestore.domain.money import (
    MONEY_CONTEXT,
    Amount,
    fast_money,
    fit,
)
from tradestore.domain.position_changes import UNCHANGED, Unchanged, check_stop, check_stops
from tradestore.domain.trade_totals import TradeTotals
from tradestore.errors import (
    BotNotFound,
    ConflictError,
    PositionClosed,
    PositionNotFound,
    ValidationError,
)
from tradestore.models.base import table_of
from tradestore.models.bots import Bot
from tradestore.models.positions import (
    MAX_INTERVAL_LENGTH,
    MAX_LOGIC_LENGTH,
    MAX_STRATEGY_LENGTH,
    ClosedPosition,
    Position,
)
from tradestore.repositories import position_totals, sessions
from tradestore.repositories._integrity import insert_for_registered_bot
from tradestore.repositories._scoped import BotScopedRepository
from tradestore.repositories.order_accounting import exact_sum

MAX_TICKER_LENGTH: Final = 32


@dataclass(frozen=True)
class PositionRecord:
    """An open position as stored (field order = column order of ``_POSITION_COLUMNS``)."""

    position_id: str
    bot_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    current_price: Decimal
    unrealized_pnl: Decimal
    #: Percent of the entry price (2.5 means +2.5 %), positive when the position gains.
    unrealized_pnl_pct: float
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None
    #: Best / worst *price* seen while open (entry included); see tradestore.domain.pnl.
    max_favorable_excursion: Decimal | None
    max_adverse_excursion: Decimal | None
    #: Entry commission not yet attributed to a closed part.
    commission: Decimal
    opened_at: dt.datetime
    updated_at: dt.datetime
    strategy: str | None
    signal_score: float | None
    metadata: dict[str, Any] | None
    #: The strategy rule that opened it and the bar interval it trades on (revision 0009).
    entry_logic: str | None
    interval: str | None
    #: Kept from fills (revision 0012): the netting position of its ticker and strategy, moved
    #: by each fill of an order that keeps positions (docs/guide/positions.md).
    kept_from_fills: bool = False

    @property
    def market_value(self) -> Decimal:
        """quantity * current_price (unsigned: shorts are not negated)."""
        with localcontext(MONEY_CONTEXT):
            return self.quantity * self.current_price


@dataclass(frozen=True)
class ClosedPositionRecord:
    """One closed position or one closed part of a position."""

    closed_position_id: int
    position_id: str
    bot_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    current_price: Decimal | None
    #: Net of ``commission`` (the entry share plus the exit commission).
    realized_pnl: Decimal
    realized_pnl_pct: float
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None
    opened_at: dt.datetime
    closed_at: dt.datetime
    updated_at: dt.datetime
    holding_period_hours: float
    exit_reason: ExitReason | str
    commission: Decimal
    slippage: Decimal | None
    max_favorable_excursion: Decimal | None
    max_adverse_excursion: Decimal | None
    strategy: str | None
    signal_score: float | None
    metadata: dict[str, Any] | None
    #: side x (exit - entry) x quantity, before any commission: ``realized_pnl`` is
    #: ``gross_pnl - commission``. None only on rows no release computed it for (none: the
    #: upgrade to revision 0009 computes it for older rows).
    gross_pnl: Decimal | None
    #: ``slippage`` in basis points of ``exit_price`` (``fill_accounting.slippage_bps``).
    slippage_bps: float | None
    entry_logic: str | None
    #: The strategy rule that closed it.
    exit_logic: str | None
    interval: str | None

    @property
    def outcome(self) -> str:
        """WIN / LOSS / BREAKEVEN, as v_recent_closed_trades classifies trades."""
        if self.realized_pnl > 0:
            return "WIN"
        if self.realized_pnl < 0:
            return "LOSS"
        return "BREAKEVEN"


@dataclass(frozen=True, slots=True)
class TickerPerformance:
    """Closed-trade figures of one ticker (and strategy): ``positions.performance``.

    Every closed row is a trade (a partial close too, as in ``win_rate``); a win has
    realized_pnl > 0, a loss < 0. ``strategy`` is the row's strategy with ``per_strategy``
    (None: rows without one), else the strategy asked for (None: every strategy).
    """

    ticker: str
    strategy: str | None
    trades: int
    wins: int
    losses: int
    #: Net of commission, as each closed row's realized_pnl.
    realized_pnl: Decimal
    commission: Decimal
    #: The wins' realized P&L, and the losses' (zero or negative).
    gross_profit: Decimal
    gross_loss: Decimal

    @classmethod
    def of(cls, ticker: str, strategy: str | None, totals: TradeTotals) -> TickerPerformance:
        return cls(
            ticker=ticker,
            strategy=strategy,
            trades=totals.trades,
            wins=totals.wins,
            losses=totals.losses,
            realized_pnl=totals.realized_pnl,
            commission=totals.commission,
            gross_profit=totals.gross_profit,
            gross_loss=totals.gross_loss,
        )

    @property
    def win_rate(self) -> float | None:
        """wins / trades (None without trades, which a row never has)."""
        return self.wins / self.trades if self.trades else None


@dataclass(frozen=True)
class StopHit:
    """An open position whose stop or target the given price reached (``stops_hit``)."""

    position_id: str
    ticker: str
    side: PositionSide
    quantity: Decimal
    #: The price that reached the level.
    price: Decimal
    #: ``ExitReason.STOP_LOSS`` or ``ExitReason.TAKE_PROFIT``: which level was reached.
    level: ExitReason
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None


# --- prebuilt statements -------------------------------------------------------------------

_P = table_of(Position)
_C = table_of(ClosedPosition)
_POSITION_FIELDS = tuple(f.name for f in fields(PositionRecord))
_CLOSED_FIELDS = tuple(f.name for f in fields(ClosedPositionRecord))
_POSITION_COLUMNS = tuple(_P.c[name] for name in _POSITION_FIELDS)
_CLOSED_COLUMNS = tuple(_C.c[name] for name in _CLOSED_FIELDS)

# Statements that write values the repository has already validated (inputs) or fitted
# (derived amounts) bind them with plain types: Money's bind processor would check every value
# again, which is a tenth of an open+close (docs/performance.md). A Decimal becomes a
# float on SQLite (exact: validated amounts survive a double) and stays a Decimal on
# PostgreSQL. JSON binds None as SQL NULL, not as the JSON document 'null'.
_BIND_MONEY = Numeric(asdecimal=False)
_BIND_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _bind_type(column: Column[Any]) -> TypeEngine[Any]:
    if isinstance(column.type, Money):
        return _BIND_MONEY
    if isinstance(column.type, Real):
        return Double()
    if isinstance(column.type, Enum):
        return String()
    if isinstance(column.type, JSON):
        return _BIND_JSON
    return column.type


def _typed_values(table: Table, names: Sequence[str], prefix: str = "v_") -> dict[str, Any]:
    """{column: bindparam("v_<column>")} with the plain bind type of each column."""
    return {name: bindparam(f"{prefix}{name}", type_=_bind_type(table.c[name])) for name in names}


def _bind(values: Mapping[str, Any], prefix: str = "v_") -> dict[str, Any]:
    """Execution parameters for ``_typed_values``: keys prefixed, enum members as values.

    Built with zip() over the values in order: this runs twice per open+close, where a
    per-item comprehension with isinstance checks was measurable.
    """
    params = dict(zip([f"{prefix}{name}" for name in values], values.values(), strict=True))
    for key in (f"{prefix}side", f"{prefix}exit_reason"):
        member = params.get(key)
        if isinstance(member, enum.Enum):
            params[key] = member.value
    return params


_BY_ID = (_P.c.position_id == bindparam("key_position_id"), _P.c.bot_id == bindparam("key_bot_id"))
# The statements of open and close run through ``Prepared`` (the driver's cursor): a bot opens
# and closes positions all day, one short unit of work each, and ``Session.execute`` costs
# more than the statement itself on SQLite (docs/performance.md).
_INSERT_POSITION = Prepared(
    insert(_P).values(_typed_values(_P, _POSITION_FIELDS)), name="positions.insert"
)
#: What ``open`` runs: an unregistered bot or an id already open inserts nothing (rowcount 0)
#: rather than failing, so a caller who catches the error keeps the rest of its transaction.
_OPEN_POSITION = Prepared(
    lambda dialect: insert_for_registered_bot(_P, _typed_values(_P, _POSITION_FIELDS), dialect),
    name="positions.open",
)
_NAMED = _typed_values(_P, ("bot_id", "position_id"))
#: ``open`` with the caller's position_id: an id already closed inserts nothing either (a
#: closed position is never reopened), so the check costs no statement of its own.
_OPEN_NAMED_POSITION = Prepared(
    lambda dialect: insert_for_registered_bot(
        _P,
        _typed_values(_P, _POSITION_FIELDS),
        dialect,
        also=~exists().where(
            _C.c.bot_id == _NAMED["bot_id"], _C.c.position_id == _NAMED["position_id"]
        ),
    ),
    name="positions.open_named",
)
_BOT_EXISTS = Prepared(
    select(exists().where(Bot.__table__.c.bot_id == bindparam("bot_id"))), name="bots.exists"
)
_SELECT_POSITION = select(*_POSITION_COLUMNS).where(*_BY_ID)
#: Run through ``Prepared``: every change of an open position starts with this read, and a
#: trailing-stop tick that moves nothing is this read alone.
_SELECT_POSITION_FOR_UPDATE = Prepared(
    _SELECT_POSITION.with_for_update(), name="positions.select_for_update"
)
#: A partial close's first statement: the open row locked, the bot's row held first
#: (PostgreSQL, ``_BOT_HELD``).
_SELECT_POSITION_TO_CLOSE = Prepared(
    lambda dialect: (
        _SELECT_POSITION.where(_BOT_IS_HELD).with_for_update(of=_P)
        if dialect == "postgresql"
        else _SELECT_POSITION.with_for_update()
    ),
    name="positions.select_to_close",
)
#: PostgreSQL: a close holds its bot's row ``FOR KEY SHARE`` from its first statement on,
#: before it reads the clock. The lock conflicts with a session writer's ``FOR UPDATE``
#: (``BotRepository._locked``), so a close and a session start or end serialise: a close that
#: waited is dated after the writer's instant, and a writer that waited reads the totals with
#: the close in them. Without it the close's clock could predate a session that its INSERT
#: (whose snapshot predates the session) then counts in, and a backdated close would lock the
#: session row before waiting on the bot's (a deadlock with ``end_session``). A CTE of the
#: first statement, referenced (an unreferenced SELECT CTE is never run), so it costs no
#: round trip; every other lock the close takes comes after it.
_BOT_HELD = (
    select(Bot.__table__.c.bot_id)
    .where(Bot.__table__.c.bot_id == bindparam("key_bot_id"))
    .with_for_update(read=True, key_share=True)
    .cte("bot_held")
)
_BOT_IS_HELD: ColumnElement[bool] = exists().select_from(_BOT_HELD)
#: A full close's first statement: the open row deleted and returned.
_DELETE_POSITION_RETURNING = Prepared(
    lambda dialect: (
        delete(_P)
        .where(*_BY_ID, *([_BOT_IS_HELD] if dialect == "postgresql" else []))
        .returning(*_POSITION_COLUMNS)
    ),
    name="positions.delete_returning",
)
_DELETE_POSITION = delete(_P).where(*_BY_ID)
_SHRINK_FIELDS = (
    "quantity",
    "commission",
    "current_price",
    "unrealized_pnl",
    "unrealized_pnl_pct",
    "max_favorable_excursion",
    "max_adverse_excursion",
    "updated_at",
)
_SHRINK_POSITION = update(_P).where(*_BY_ID).values(_typed_values(_P, _SHRINK_FIELDS))
#: ``update`` writes every changeable column, so its SQL text is one whatever changed.
_UPDATE_POSITION = Prepared(
    update(_P)
    .where(*_BY_ID)
    .values(_typed_values(_P, ("stop_loss_price", "take_profit_price", "metadata", "updated_at"))),
    name="positions.update",
)
_TRAIL_STOP = Prepared(
    update(_P).where(*_BY_ID).values(_typed_values(_P, ("stop_loss_price", "updated_at"))),
    name="positions.trail_stop",
)
_SCALE_IN_FIELDS = (
    "quantity",
    "entry_price",
    "commission",
    "current_price",
    "unrealized_pnl",
    "unrealized_pnl_pct",
    "max_favorable_excursion",
    "max_adverse_excursion",
    "updated_at",
)
_SCALE_IN = Prepared(
    update(_P).where(*_BY_ID).values(_typed_values(_P, _SCALE_IN_FIELDS)),
    name="positions.scale_in",
)
_CLOSED_WRITTEN = tuple(name for name in _CLOSED_FIELDS if name != "closed_position_id")
_INSERT_CLOSED_STATEMENT = (
    insert(_C).values(_typed_values(_C, _CLOSED_WRITTEN)).returning(_C.c.closed_position_id)
)
#: The closed row's INSERT. On PostgreSQL it carries the running totals' upsert as a
#: data-modifying CTE (``position_totals``, ``t_`` values): one round trip for both; SQLite
#: adds to the totals with a read and a write of its own (``position_totals.add_sqlite``).
#: A close dated before its bot's open session started adds to that session's prior sums
#: (``sessions``' module doc): on PostgreSQL a CTE of the same statement, on SQLite a read
#: and a write of their own, only for a close dated before now.
_PRIOR_CTE = sessions.prior_adding_cte(_typed_values(_C, ("closed_at",))["closed_at"])
_INSERT_CLOSED = Prepared(
    lambda dialect: (
        _INSERT_CLOSED_STATEMENT.add_cte(position_totals.adding_cte()).add_cte(_PRIOR_CTE)
        if dialect == "postgresql"
        else _INSERT_CLOSED_STATEMENT
    ),
    name="closed_positions.insert",
)
#: PostgreSQL's partial close after the row is locked: shrink the open row (``s_`` values),
#: insert the closed part and add it to the totals in one statement (the UPDATE and the
#: upsert are data-modifying CTEs).
_SHRINK_AND_CLOSE = Prepared(
    _INSERT_CLOSED_STATEMENT.add_cte(
        update(_P)
        .where(*_BY_ID)
        .values(_typed_values(_P, _SHRINK_FIELDS, prefix="s_"))
        .returning(_P.c.position_id)
        .cte("shrunk")
    )
    .add_cte(position_totals.adding_cte())
    .add_cte(_PRIOR_CTE),
    name="positions.shrink_and_close",
)
_CLOSED_EXISTS = Prepared(
    select(_C.c.closed_position_id)
    .where(_C.c.position_id == bindparam("key_position_id"), _C.c.bot_id == bindparam("key_bot_id"))
    .limit(1),
    name="closed_positions.exists",
)

# mark_to_market: read what the P&L needs, compute it in Python, write back in one statement.
# The excursions are folded in SQL: max / min of two stored prices is exact on both backends
# (SQLite compares the doubles, which order like the decimals they hold), so they need not make
# the trip through Python. ``side`` is read as its plain string, skipping the Enum processing.
_MARK_COLUMNS = (
    _P.c.position_id,
    _P.c.ticker,
    type_coerce(_P.c.side, String()),
    _P.c.quantity,
    _P.c.entry_price,
)
#: The tickers are one parameter on both backends, so the SQL text never depends on how many
#: there are: a JSON array read by json_each() on SQLite, an array on PostgreSQL.
_TICKERS_JSON = func.json_each(bindparam("tickers_json", type_=String())).table_valued("value")
#: The bot's open rows in the tickers: ``mark_to_market`` and ``stops_hit`` select by them.
_IN_TICKERS_SQLITE = (
    _P.c.bot_id == bindparam("bot_id"),
    _P.c.ticker.in_(select(_TICKERS_JSON.c.value)),
)
_IN_TICKERS_POSTGRESQL = (
    _P.c.bot_id == bindparam("bot_id"),
    _P.c.ticker == any_(bindparam("tickers", type_=ARRAY(String()))),
)
_SELECT_MARKED_SQLITE = select(*_MARK_COLUMNS).where(*_IN_TICKERS_SQLITE)
#: PostgreSQL locks the rows it marks, in the order the keeper locks kept keys
#: (``position_keeping.key_order``: ticker, then no strategy, then strategy, compared by code
#: point as Python compares them, hence ``COLLATE "C"``), the bot's explicit rows among them
#: by id: a batch holding one key and waiting for the next cannot meet a mark holding the
#: next one and waiting for the first (a deadlock), whatever order the rows lie in.
_SELECT_MARKED_POSTGRESQL = (
    select(*_MARK_COLUMNS)
    .where(*_IN_TICKERS_POSTGRESQL)
    .order_by(
        _P.c.ticker.collate("C"),
        _P.c.strategy.is_not(None),
        _P.c.strategy.collate("C"),
        _P.c.position_id,
    )
    .with_for_update()
)
#: ``stops_hit``: only the rows that have a stop or a target at all.
_HAS_LEVELS = or_(_P.c.stop_loss_price.is_not(None), _P.c.take_profit_price.is_not(None))
_SELECT_LEVELS_SQLITE = (
    select(*_POSITION_COLUMNS)
    .where(*_IN_TICKERS_SQLITE, _HAS_LEVELS)
    .order_by(_P.c.opened_at, _P.c.position_id)
)
_SELECT_LEVELS_POSTGRESQL = (
    select(*_POSITION_COLUMNS)
    .where(*_IN_TICKERS_POSTGRESQL, _HAS_LEVELS)
    .order_by(_P.c.opened_at, _P.c.position_id)
)


def _fold(dialect: str, column: Column[Any], price: Any, *, favorable: bool) -> Any:
    """SQL for folding ``price`` into an excursion column: the higher price is favorable for a
    long and adverse for a short (NULL, never set, takes the price)."""
    higher: Any
    lower: Any
    if dialect == "sqlite":
        higher = func.max(func.coalesce(column, price), price)
        lower = func.min(func.coalesce(column, price), price)
    else:
        higher, lower = func.greatest(column, price), func.least(column, price)
    is_long = type_coerce(_P.c.side, String()) == literal_column(f"'{PositionSide.LONG.value}'")
    if favorable:
        return case((is_long, higher), else_=lower)
    return case((is_long, lower), else_=higher)


# SQLite: one UPDATE run by the driver's executemany (a C loop over the rows). It is compiled
# from Core once and run with ``exec_driver_sql``: SQLAlchemy's executemany would process the
# parameters of each of the 500 rows in Python, which costs more than the UPDATE itself
# (docs/performance.md). The values are validated or fitted Decimals, stored as doubles by
# ``db.bulk.run_many`` (exact: amounts kept on SQLite survive a double); updated_at is the
# clock's time.
_MARK_PRICE = bindparam("b_price", type_=_BIND_MONEY)
_MARK_SQLITE = Prepared(
    update(_P)
    .where(_P.c.bot_id == bindparam("b_bot_id"), _P.c.position_id == bindparam("b_position_id"))
    .values(
        current_price=_MARK_PRICE,
        unrealized_pnl=bindparam("b_pnl", type_=_BIND_MONEY),
        unrealized_pnl_pct=bindparam("b_pct", type_=Double()),
        max_favorable_excursion=_fold(
            "sqlite", _P.c.max_favorable_excursion, _MARK_PRICE, favorable=True
        ),
        max_adverse_excursion=_fold(
            "sqlite", _P.c.max_adverse_excursion, _MARK_PRICE, favorable=False
        ),
        updated_at=bindparam("b_updated_at", type_=UTCDateTime()),
    ),
    name="positions.mark_sqlite",
)
# PostgreSQL: one UPDATE ... FROM unnest(arrays): one round trip, one constant SQL text.
_MARK_VALUES = (
    func.unnest(
        bindparam("ids", type_=ARRAY(String())),
        bindparam("prices", type_=ARRAY(Numeric())),
        bindparam("pnls", type_=ARRAY(Numeric())),
        bindparam("pcts", type_=ARRAY(Double())),
    )
    .table_valued("position_id", "price", "pnl", "pct")
    .render_derived(name="marks")
)
_MARK_POSTGRESQL = (
    update(_P)
    .where(_P.c.bot_id == bindparam("key_bot_id"), _P.c.position_id == _MARK_VALUES.c.position_id)
    .values(
        current_price=_MARK_VALUES.c.price,
        unrealized_pnl=_MARK_VALUES.c.pnl,
        unrealized_pnl_pct=_MARK_VALUES.c.pct,
        max_favorable_excursion=_fold(
            "postgresql", _P.c.max_favorable_excursion, _MARK_VALUES.c.price, favorable=True
        ),
        max_adverse_excursion=_fold(
            "postgresql", _P.c.max_adverse_excursion, _MARK_VALUES.c.price, favorable=False
        ),
        updated_at=bindparam("updated_at", type_=UTCDateTime()),
    )
)

_ORDERINGS: Final[Mapping[str, ColumnElement[Any]]] = {
    "opened_at": _P.c.opened_at,
    "updated_at": _P.c.updated_at,
    "ticker": _P.c.ticker,
    "quantity": _P.c.quantity,
    "unrealized_pnl": _P.c.unrealized_pnl,
    "unrealized_pnl_pct": _P.c.unrealized_pnl_pct,
}


#: Listings read their rows through these: a column-at-a-time conversion, records built
#: without a per-field __init__ (``db.records``): a few µs a row instead of about 20.
_OPEN_RECORDS = RecordReader(PositionRecord, _POSITION_COLUMNS)
_CLOSED_RECORDS = RecordReader(ClosedPositionRecord, _CLOSED_COLUMNS)


_ALL_OPEN = Prepared(
    lambda dialect: (
        select(*_OPEN_RECORDS.columns(dialect))
        .where(_P.c.bot_id == bindparam("key_bot_id"))
        .order_by(_P.c.opened_at, _P.c.position_id)
    ),
    name="positions.all_open",
)


def _position(row: Row[Any] | Sequence[Any]) -> PositionRecord:
    return PositionRecord(*row)


@error_net
class PositionRepository(BotScopedRepository):
    """Open positions of one bot and the history of the ones it closed.

    Validates, then writes; never commits. Every statement is filtered by ``bot_id``: another
    bot's position ids behave exactly like unknown ones.
    """

    # --- writes ----------------------------------------------------------------------------

    def open(
        self,
        ticker: str,
        *,
        side: PositionSide | str,
        quantity: Amount,
        entry_price: Amount,
        position_id: str | None = None,
        current_price: Amount | None = None,
        stop_loss_price: Amount | None = None,
        take_profit_price: Amount | None = None,
        commission: Amount | None = None,
        strategy: str | None = None,
        signal_score: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        opened_at: dt.datetime | None = None,
        entry_logic: str | None = None,
        interval: str | None = None,
    ) -> PositionRecord:
        """Open a position; ``position_id`` is generated (``pos_<uuid4 hex>``) when omitted.

        ``commission`` is the entry commission; it stays on the open row and is attributed pro
        rata to each closed part. ``opened_at`` defaults to now (the Database's clock).
        ``entry_logic`` names the strategy rule that opened it and ``interval`` the bar
        interval it trades on ("5m"); every closed part carries both. A long's stop is below
        the price it opens at (``current_price``, else ``entry_price``), its target above the
        entry price; a short's reversed.
        """
        d = self._dialect
        ticker_ = validation.required_text("ticker", ticker, max_length=MAX_TICKER_LENGTH)
        side_ = validation.choice("side", side, PositionSide)
        quantity_ = validation.money("quantity", quantity, d, positive=True)
        entry = validation.money("entry_price", entry_price, d, positive=True)
        current = validation.optional_money("current_price", current_price, d, positive=True)
        stop = validation.optional_money("stop_loss_price", stop_loss_price, d, positive=True)
        take = validation.optional_money("take_profit_price", take_profit_price, d, positive=True)
        check_stops(side_, entry, stop, take, price=entry if current is None else current)
        fee = validation.optional_money("commission", commission, d, non_negative=True)
        strategy_ = validation.optional_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)
        logic = validation.optional_text("entry_logic", entry_logic, max_length=MAX_LOGIC_LENGTH)
        interval_ = validation.optional_text("interval", interval, max_length=MAX_INTERVAL_LENGTH)
        score = validation.number("signal_score", signal_score, minimum=0.0, maximum=1.0)
        meta = validation.json_document("metadata", metadata)
        now = self._db.now()
        opened = validation.instant("opened_at", opened_at, allow_none=True) or now
        explicit_id = position_id is not None
        pid = (
            validation.required_text("position_id", position_id)
            if explicit_id
            else f"pos_{uuid.uuid4().hex}"
        )
        price = entry if current is None else current
        best, worst = pnl.excursions(side_, *pnl.excursions(side_, None, None, entry), price)
        unrealized = fit(pnl.pnl(side_, quantity_, entry, price), d)
        record = PositionRecord(
            position_id=pid,
            bot_id=self._bot_id,
            ticker=ticker_,
            side=side_,
            quantity=quantity_,
            entry_price=entry,
            current_price=price,
            unrealized_pnl=unrealized,
            unrealized_pnl_pct=pnl.pnl_pct(side_, entry, price),
            stop_loss_price=stop,
            take_profit_price=take,
            max_favorable_excursion=best,
            max_adverse_excursion=worst,
            commission=Decimal(0) if fee is None else fee,
            opened_at=opened,
            updated_at=now,
            strategy=strategy_,
            signal_score=score,
            metadata=meta,
            entry_logic=logic,
            interval=interval_,
        )
        connection = self._db
        statement = _OPEN_NAMED_POSITION if explicit_id else _OPEN_POSITION
        if connection.run(statement, _bind(record.__dict__)).rowcount == 1:
            return record
        if explicit_id and self._was_closed(pid):
            raise PositionClosed(f"position {pid!r} was already closed: use a new position_id")
        if not connection.run(_BOT_EXISTS, {"bot_id": self._bot_id}).rows[0][0]:
            raise BotNotFound("bot", self._bot_id)
        raise ConflictError(f"position {pid!r} is already open")

    def mark_to_market(self, prices: Mapping[str, Amount]) -> int:
        """Mark every open position of the given tickers; returns how many were updated.

        Sets current_price, unrealized_pnl (gross), unrealized_pnl_pct and folds the price into
        the favorable / adverse excursions. Tickers without an open position are ignored.
        Two statements whatever the number of tickers: a SELECT of the affected positions
        (locked on PostgreSQL, so a concurrent close cannot interleave) and one set-based
        UPDATE.
        """
        marks = self._prices(prices)
        if not marks:
            return 0
        d = self._dialect
        select_ = _SELECT_MARKED_POSTGRESQL if d == "postgresql" else _SELECT_MARKED_SQLITE
        rows = self._db.execute(select_, self._tickers(marks)).all()
        if not rows:
            return 0
        ids: list[str] = []
        new_prices: list[Decimal] = []
        pnls: list[Decimal] = []
        pcts: list[float] = []
        long = PositionSide.LONG.value
        with localcontext(MONEY_CONTEXT):
            for position_id, ticker, side, quantity, entry in rows:
                price = marks[ticker]
                move = price - entry if side == long else entry - price
                ids.append(position_id)
                new_prices.append(price)
                pnls.append(fit(move * quantity, d))
                pcts.append(float(move) / float(entry) * 100.0)
        if d == "postgresql":
            self._db.execute(
                _MARK_POSTGRESQL,
                {
                    "ids": ids,
                    "prices": new_prices,
                    "pnls": pnls,
                    "pcts": pcts,
                    "updated_at": self._db.now(),
                    "key_bot_id": self._bot_id,
                },
            )
        else:
            bulk.run_many(
                self._db,
                _MARK_SQLITE,
                {"b_price": new_prices, "b_pnl": pnls, "b_pct": pcts, "b_position_id": ids},
                constants={"b_bot_id": self._bot_id, "b_updated_at": self._db.now()},
            )
        return len(ids)

    def close(
        self,
        position_id: str,
        *,
        exit_price: Amount,
        exit_reason: ExitReason | str,
        quantity: Amount | None = None,
        commission: Amount | None = None,
        slippage: Amount | None = None,
        closed_at: dt.datetime | None = None,
        exit_logic: str | None = None,
    ) -> ClosedPositionRecord:
        """Close the position, or ``quantity`` of it, at ``exit_price``; atomic within the unit
        of work.

        A full close moves the row to closed_positions. A partial close records the closed part
        there and shrinks the open row: its quantity, its remaining share of the entry
        commission, and its mark (the exit price is the freshest price there is). ``commission``
        is the exit commission; the closed row's commission adds the entry share to it and
        realized_pnl is net of both and gross_pnl before both. ``slippage`` is recorded as given
        (signed, in price units) and not deducted again, with its figure in basis points of the
        exit price. ``exit_logic`` names the strategy rule that closed it. Raises
        PositionNotFound for an unknown id or another bot's, and PositionClosed for one already
        closed.
        """
        d = self._dialect
        pid = validation.required_text("position_id", position_id)
        exit_ = validation.money("exit_price", exit_price, d, positive=True)
        reason = validation.exit_reason("exit_reason", exit_reason)
        part = validation.optional_money("quantity", quantity, d, positive=True)
        fee = validation.optional_money("commission", commission, d, non_negative=True)
        slip = validation.optional_money("slippage", slippage, d)
        logic = validation.optional_text("exit_logic", exit_logic, max_length=MAX_LOGIC_LENGTH)
        given = validation.instant("closed_at", closed_at, allow_none=True)
        exit_fee = Decimal(0) if fee is None else fee
        key = {"key_position_id": pid, "key_bot_id": self._bot_id}
        # The clock is read after the first statement, which holds the bot's row on
        # PostgreSQL (``_BOT_HELD``): a session writer in flight is waited for first.
        if part is None:
            rows = self._db.run(_DELETE_POSITION_RETURNING, key).rows
            if not rows:
                raise self._missing(pid)
            now = self._db.now()
            closed = given or now
            position = _position(rows[0])
            try:
                figures = self._figures(position, exit_, None, exit_fee, closed)
                return self._insert_closed(
                    position, figures, exit_, reason, (slip, logic), closed, now
                )
            except BaseException:
                # "Bad input writes nothing" must hold even for a caller who catches the error
                # and commits: put the open row back (on PostgreSQL a failed statement has
                # already doomed the transaction, and this is a no-op).
                self._restore(position)
                raise

        position = self._locked(pid, _SELECT_POSITION_TO_CLOSE)
        now = self._db.now()
        closed = given or now
        return self._close_locked(
            position, exit_, part, exit_fee, reason, (slip, logic), (closed, now)
        )[0]

    def _close_locked(
        self,
        position: PositionRecord,
        exit_: Decimal,
        part: Decimal | None,
        exit_fee: Decimal,
        reason: ExitReason | str,
        exit_extra: tuple[Decimal | None, str | None],
        times: tuple[dt.datetime, dt.datetime],
    ) -> tuple[ClosedPositionRecord, PositionRecord | None]:
        """Close ``part`` (None: all) of the locked open row at ``exit_``: what ``close``
        writes once it holds the row, and what a fill reducing a kept position writes
        (``position_keeping``), so the two cannot differ. ``exit_extra`` is the slippage and
        the exit logic, ``times`` the close's time and the clock's now. Returns the closed
        row and the open remainder (None once it is all closed)."""
        d = self._dialect
        closed, now = times
        key = {"key_position_id": position.position_id, "key_bot_id": self._bot_id}
        figures = self._figures(position, exit_, part, exit_fee, closed)
        if figures.is_full:
            self._db.execute(_DELETE_POSITION, key)
            closed_row = self._insert_closed(
                position, figures, exit_, reason, exit_extra, closed, now
            )
            return closed_row, None
        shrunk = {
            "quantity": figures.remaining_quantity,
            "commission": figures.remaining_commission,
            "current_price": exit_,
            "unrealized_pnl": figures.remaining_unrealized_pnl,
            "unrealized_pnl_pct": pnl.pnl_pct(position.side, position.entry_price, exit_),
            "max_favorable_excursion": figures.max_favorable_excursion,
            "max_adverse_excursion": figures.max_adverse_excursion,
            "updated_at": now,
        }
        values = self._closed_values(position, figures, exit_, reason, exit_extra, closed, now)
        totals = _totals_params(values, self._dialect)
        if d == "postgresql":
            params = {**key, **_bind(shrunk, prefix="s_"), **_bind(values), **totals}
            [(closed_id,)] = self._db.run(_SHRINK_AND_CLOSE, params).rows
        else:
            self._db.execute(_SHRINK_POSITION, {**key, **_bind(shrunk)})
            [(closed_id,)] = self._db.run(_INSERT_CLOSED, _bind(values)).rows
            self._add_to_totals(totals, closed, now)
        closed_row = ClosedPositionRecord(closed_position_id=closed_id, **values)
        return closed_row, _replaced(position, shrunk)

    def update(
        self,
        position_id: str,
        *,
        stop_loss_price: Amount | Unchanged | None = UNCHANGED,
        take_profit_price: Amount | Unchanged | None = UNCHANGED,
        metadata: Mapping[str, Any] | Unchanged | None = UNCHANGED,
        replace_metadata: bool = False,
    ) -> PositionRecord:
        """Change the stop, the target or the metadata of an open position; returns it.

        An argument left out keeps the stored value; ``None`` clears it. The stops follow the
        rule of ``open``: a long's stop below its current price (the last mark: a stop may
        lock in a profit once the price has risen past the entry), its target above its entry
        price; a short's reversed. ``metadata`` is merged
        into the stored document key by key (the keys given replace theirs, the others are
        kept: what freqtrade's ``set_custom_data`` does one key at a time);
        ``replace_metadata=True`` stores it as the whole document instead. updated_at is the
        Database clock's now. Two statements: the row is read locked, then written; nothing
        is written when nothing is given, or when the change is refused (PositionNotFound,
        PositionClosed, ValidationError).
        """
        d = self._dialect
        pid = validation.required_text("position_id", position_id)
        replace = validation.flag("replace_metadata", replace_metadata)
        stop = (
            stop_loss_price
            if isinstance(stop_loss_price, Unchanged)
            else validation.optional_money("stop_loss_price", stop_loss_price, d, positive=True)
        )
        take = (
            take_profit_price
            if isinstance(take_profit_price, Unchanged)
            else validation.optional_money("take_profit_price", take_profit_price, d, positive=True)
        )
        meta = (
            metadata
            if isinstance(metadata, Unchanged)
            else validation.json_document("metadata", metadata)
        )
        position = self._locked(pid)
        if stop is UNCHANGED and take is UNCHANGED and meta is UNCHANGED:
            return position
        new_stop = position.stop_loss_price if isinstance(stop, Unchanged) else stop
        new_take = position.take_profit_price if isinstance(take, Unchanged) else take
        check_stops(
            position.side, position.entry_price, new_stop, new_take, price=position.current_price
        )
        new_meta = position.metadata
        if not isinstance(meta, Unchanged):
            if meta is None or replace:
                new_meta = meta
            else:
                new_meta = validation.json_document(
                    "metadata", {**(position.metadata or {}), **meta}
                )
        changes = {
            "stop_loss_price": new_stop,
            "take_profit_price": new_take,
            "metadata": new_meta,
            "updated_at": self._db.now(),
        }
        self._db.run(
            _UPDATE_POSITION,
            {"key_position_id": pid, "key_bot_id": self._bot_id, **_bind(changes)},
        )
        return _replaced(position, changes)

    def trail_stop(
        self,
        position_id: str,
        *,
        price: Amount,
        distance: Amount | None = None,
        percent: Amount | None = None,
    ) -> bool:
        """Ratchet the stop to ``distance`` (price units) or ``percent`` away from ``price``,
        only ever in the position's favour; returns whether it moved.

        A long's stop moves up to ``price - distance`` (or ``price * (1 - percent / 100)``)
        when that is above the stored stop, a short's down to ``price + distance``; a stop
        never loosens, so driving this with every mark's prices gives the classic trailing
        stop. A position without a stop gets one. The stop may pass a long's entry price
        (a short's) and so lock in a profit: it is held only to be below ``price`` (above it
        for a short), which a positive distance or percentage always keeps.
        One statement when the stop does not move (the locked read), two when it does.
        """
        d = self._dialect
        pid = validation.required_text("position_id", position_id)
        price_ = validation.money("price", price, d, positive=True)
        if (distance is None) == (percent is None):
            raise ValidationError("distance", distance, "give exactly one of distance and percent")
        away = validation.optional_money("distance", distance, d, positive=True)
        share = validation.optional_money("percent", percent, d, positive=True)
        if share is not None and share >= 100:
            raise ValidationError("percent", percent, "must be less than 100")
        position = self._locked(pid)
        level = position_changes.trailed_stop(
            position.side,
            position.stop_loss_price,
            price_,
            distance=away,
            percent=share,
            dialect_name=d,
        )
        if level is None:
            return False
        check_stop(position.side, level, price_)
        changes = {"stop_loss_price": level, "updated_at": self._db.now()}
        self._db.run(
            _TRAIL_STOP, {"key_position_id": pid, "key_bot_id": self._bot_id, **_bind(changes)}
        )
        return True

    def scale_in(
        self,
        position_id: str,
        *,
        quantity: Amount,
        price: Amount,
        commission: Amount | None = None,
    ) -> PositionRecord:
        """Add ``quantity`` at ``price`` to an open position (a DCA entry); returns it.

        The entry price becomes the quantity-weighted average of the open quantity at the old
        entry and the added one at ``price``, exact and then rounded once for the backend, as
        an order's VWAP is. ``commission`` (the added entry commission) is added to the
        position's entry commission, which later closes attribute pro rata. The position is
        marked at ``price``. A new average on the wrong side of the stop or the target is
        refused (``ValidationError``): move the level with ``update`` first. Two statements:
        the locked read and the update, so concurrent scale-ins of one position lose nothing.
        """
        d = self._dialect
        pid = validation.required_text("position_id", position_id)
        added = validation.money("quantity", quantity, d, positive=True)
        price_ = validation.money("price", price, d, positive=True)
        fee = validation.optional_money("commission", commission, d, non_negative=True)
        position = self._locked(pid)
        figures = position_changes.scale_in_figures(
            side=position.side,
            open_quantity=position.quantity,
            entry_price=position.entry_price,
            open_commission=position.commission,
            max_favorable_excursion=position.max_favorable_excursion,
            max_adverse_excursion=position.max_adverse_excursion,
            take_profit_price=position.take_profit_price,
            quantity=added,
            price=price_,
            commission=Decimal(0) if fee is None else fee,
            dialect_name=d,
        )
        exact_sum("quantity", figures.quantity, d, "position quantity")
        changes = {**figures.__dict__, "updated_at": self._db.now()}
        self._db.run(
            _SCALE_IN, {"key_position_id": pid, "key_bot_id": self._bot_id, **_bind(changes)}
        )
        return _replaced(position, changes)

    def scale_out(
        self,
        position_id: str,
        *,
        quantity: Amount,
        price: Amount,
        exit_reason: ExitReason | str,
        commission: Amount | None = None,
        slippage: Amount | None = None,
        closed_at: dt.datetime | None = None,
        exit_logic: str | None = None,
    ) -> ClosedPositionRecord:
        """Take ``quantity`` off an open position at ``price``: ``close`` with a quantity.

        The reduced part is written to closed_positions exactly as a partial close writes it
        (it *is* a partial close), and the whole open quantity closes the position. A
        quantity above the open one is refused.
        """
        if quantity is None:
            raise ValidationError("quantity", quantity, "is required")
        return self.close(
            position_id,
            exit_price=price,
            exit_reason=exit_reason,
            quantity=quantity,
            commission=commission,
            slippage=slippage,
            closed_at=closed_at,
            exit_logic=exit_logic,
        )

    # --- reads -----------------------------------------------------------------------------

    def get(self, position_id: str) -> PositionRecord:
        """The open position; raises PositionNotFound (or PositionClosed once it is closed)."""
        pid = validation.required_text("position_id", position_id)
        row = self._db.execute(
            _SELECT_POSITION, {"key_position_id": pid, "key_bot_id": self._bot_id}
        ).one_or_none()
        if row is None:
            raise self._missing(pid)
        return _position(row)

    def find(self, position_id: str) -> PositionRecord | None:
        """The open position, or None when it is not open (unknown, closed, another bot's)."""
        pid = validation.required_text("position_id", position_id)
        row = self._db.execute(
            _SELECT_POSITION, {"key_position_id": pid, "key_bot_id": self._bot_id}
        ).one_or_none()
        return None if row is None else _position(row)

    def list_open(
        self,
        *,
        ticker: str | None = None,
        strategy: str | None = None,
        side: PositionSide | str | None = None,
        order_by: str = "opened_at",
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[PositionRecord]:
        """Open positions, filtered and paginated.

        ``order_by`` is a column name, ``-`` prefixed for descending: opened_at, updated_at,
        ticker, quantity, unrealized_pnl, unrealized_pnl_pct. position_id breaks ties, so
        pages are stable.
        """
        descending = order_by.startswith("-") if isinstance(order_by, str) else False
        column = _ORDERINGS.get(order_by.removeprefix("-")) if isinstance(order_by, str) else None
        if column is None:
            allowed = ", ".join(sorted(_ORDERINGS))
            raise ValidationError("order_by", order_by, f"must be one of {allowed} (- for desc)")
        stmt = select(*_OPEN_RECORDS.columns(self._dialect)).where(_P.c.bot_id == self._bot_id)
        stmt = _ticker_strategy_filter(stmt, _P, ticker=ticker, strategy=strategy)
        if side is not None:
            stmt = stmt.where(_P.c.side == validation.choice("side", side, PositionSide))
        stmt = stmt.order_by(column.desc() if descending else column.asc(), _P.c.position_id)
        stmt = paginate(stmt, limit=limit, offset=offset)
        rows = self._db.execute(stmt).all()
        return Rows(PositionRecord, _OPEN_RECORDS.records(self._db.dialect, rows))

    def oldest_first(self) -> tuple[PositionRecord, ...]:
        """Every open position, oldest first: ``list_open(order_by="opened_at")`` as one
        prebuilt statement, for a restart (``bots.recover``)."""
        rows = self._db.run(_ALL_OPEN, {"key_bot_id": self._bot_id}).rows
        return tuple(_OPEN_RECORDS.records(self._db.dialect, rows))

    def list_closed(
        self,
        *,
        ticker: str | None = None,
        strategy: str | None = None,
        exit_reason: ExitReason | str | None = None,
        position_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[ClosedPositionRecord]:
        """Closed positions (and closed parts), newest first; ``since`` <= closed_at < ``until``.

        Every row unless ``limit`` is given.
        """
        stmt = select(*_CLOSED_RECORDS.columns(self._dialect)).where(_C.c.bot_id == self._bot_id)
        stmt = _ticker_strategy_filter(stmt, _C, ticker=ticker, strategy=strategy)
        if exit_reason is not None:
            stmt = stmt.where(
                _C.c.exit_reason == validation.exit_reason("exit_reason", exit_reason)
            )
        if position_id is not None:
            stmt = stmt.where(
                _C.c.position_id == validation.required_text("position_id", position_id)
            )
        stmt = _closed_window(stmt, since, until)
        stmt = stmt.order_by(_C.c.closed_at.desc(), _C.c.closed_position_id.desc())
        stmt = paginate(stmt, limit=limit, offset=offset)
        rows = self._db.execute(stmt).all()
        return Rows(ClosedPositionRecord, _CLOSED_RECORDS.records(self._db.dialect, rows))

    def stops_hit(self, prices: Mapping[str, Amount]) -> Rows[StopHit]:
        """The open positions of these tickers whose stop or target the price reached.

        A long's stop is reached at or below it and its target at or above it; a short's
        reversed. Nothing is closed: the bot closes each at the price it obtains, with the
        exit reason it chooses (``hit.level``, or ``"trailing_stop"`` for a stop it trails).
        One statement, oldest position first; tickers without a position are ignored.
        """
        marks = self._prices(prices)
        if not marks:
            return Rows(StopHit, ())
        select_ = (
            _SELECT_LEVELS_POSTGRESQL if self._dialect == "postgresql" else _SELECT_LEVELS_SQLITE
        )
        hits: list[StopHit] = []
        for row in self._db.execute(select_, self._tickers(marks)):
            position = _position(row)
            price = marks[position.ticker]
            level = position_changes.crossed(
                position.side, price, position.stop_loss_price, position.take_profit_price
            )
            if level is not None:
                hits.append(
                    StopHit(
                        position_id=position.position_id,
                        ticker=position.ticker,
                        side=position.side,
                        quantity=position.quantity,
                        price=price,
                        level=level,
                        stop_loss_price=position.stop_loss_price,
                        take_profit_price=position.take_profit_price,
                    )
                )
        return Rows(StopHit, hits)

    # --- common queries ---------------------------------------------------------------------

    def total_unrealized_pnl(self) -> Decimal:
        """SUM(unrealized_pnl) of the open positions, exact on both backends
        (``analytics.positions.total_unrealized_pnl``)."""
        return positions_read.total_unrealized_pnl(self._db, bot_id=self._bot_id)

    def win_rate(
        self,
        *,
        strategy: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> float | None:
        """Share of closed rows with realized_pnl > 0, None when nothing was closed (a
        partial close is a trade of its own; ``analytics.positions.win_rate``)."""
        return positions_read.win_rate(
            self._db, bot_id=self._bot_id, strategy=strategy, since=since, until=until
        )

    def average_holding_period_by_exit_reason(
        self,
        *,
        strategy: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> dict[ExitReason | str, float]:
        """AVG(holding_period_hours) per exit reason, over the closed rows."""
        rows = positions_read.holding_period_by_exit_reason(
            self._db, bot_id=self._bot_id, strategy=strategy, since=since, until=until
        )
        return {row.exit_reason: row.avg_hours for row in rows if row.avg_hours is not None}

    def best_performers(
        self,
        limit: int = 10,
        *,
        strategy: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Rows[ClosedPositionRecord]:
        """Closed rows by realized_pnl, highest first (``ORDER BY realized_pnl DESC``): the
        query of ``uow.analytics.best_performers``, with the whole closed rows."""
        stmt = positions_read.best_performers_query(
            *_CLOSED_RECORDS.columns(self._dialect),
            criteria=self._closed_criteria(strategy, since, until),
            limit=None,
        )
        rows = self._db.execute(paginate(stmt, limit=limit)).all()
        return Rows(ClosedPositionRecord, _CLOSED_RECORDS.records(self._db.dialect, rows))

    def total_realized_pnl(
        self,
        *,
        strategy: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Decimal:
        """SUM(realized_pnl) of the closed rows, exact (see ``total_unrealized_pnl``).

        Without ``since`` / ``until`` it is read from the running totals (``closed_totals``):
        a row per ticker and strategy, whatever the length of the history. A time window
        sums the closed rows in it."""
        criteria = self._closed_criteria(strategy, since, until)
        if since is None and until is None:
            return self.closed_totals(strategy=strategy).realized_pnl
        [total] = exact_sums(self._db, self._dialect, (_C.c.realized_pnl,), *criteria)
        return total

    def closed_totals(self, *, strategy: str | None = None) -> TradeTotals:
        """Trade count, wins, losses, realized P&L, commission, gross profit and gross loss
        of the closed rows (one strategy's when given), from the running totals.

        The totals equal the same figures summed over the closed rows that exist (retention
        subtracts what it prunes) and are kept by the transaction of each close, so the read
        costs a row per ticker and strategy, not a row per trade. Sums are exact and rounded
        for the backend as any sum of money is (``money.fit``)."""
        name = validation.optional_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)
        keys = position_totals.read(self._db, self._bot_id, strategy=name)
        return position_totals.fitted(position_totals.summed(keys), self._dialect)

    def performance(
        self, *, strategy: str | None = None, per_strategy: bool = False
    ) -> Rows[TickerPerformance]:
        """Closed-trade performance per ticker, best realized P&L first (freqtrade's
        ``Trade.get_overall_performance()``, with wins, losses and commission).

        One row per ticker, over every strategy (or ``strategy``'s rows only); with
        ``per_strategy`` one row per (ticker, strategy). Read from the running totals, so
        its cost is a row per ticker and strategy, not a row per trade. Ties are broken by
        ticker, then strategy (no strategy first)."""
        name = validation.optional_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)
        split = validation.flag("per_strategy", per_strategy)
        grouped: dict[tuple[str, str | None], TradeTotals] = {}
        for key in position_totals.read(self._db, self._bot_id, strategy=name):
            group = (key.ticker, key.strategy if split else name)
            found = grouped.get(group)
            grouped[group] = key.totals if found is None else found + key.totals
        d = self._dialect
        rows = [
            TickerPerformance.of(ticker, group_strategy, position_totals.fitted(total, d))
            for (ticker, group_strategy), total in grouped.items()
        ]
        rows.sort(key=lambda row: (-row.realized_pnl, row.ticker, row.strategy or ""))
        return Rows(TickerPerformance, rows)

    # --- helpers ---------------------------------------------------------------------------

    def _prices(self, prices: Mapping[str, Amount]) -> dict[str, Decimal]:
        """{ticker: price} validated: what ``mark_to_market`` and ``stops_hit`` are given."""
        items = (
            prices.items()
            if isinstance(prices, Mapping)
            else validation.mapping_items(
                "prices", prices, "a mapping (or pandas Series) of ticker to price"
            )
        )
        d = self._dialect
        sqlite = d == "sqlite"
        marks: dict[str, Decimal] = {}
        for ticker, price in items:
            key = validation.required_text("ticker", ticker, max_length=MAX_TICKER_LENGTH)
            marks[key] = fast_money(price, sqlite, positive=True) or validation.money(
                f"prices[{key!r}]", price, d, positive=True
            )
        return marks

    def _tickers(self, marks: Mapping[str, Decimal]) -> dict[str, Any]:
        """Parameters of a select by ticker: one parameter whatever the number of tickers."""
        if self._dialect == "postgresql":
            return {"bot_id": self._bot_id, "tickers": list(marks)}
        return {"bot_id": self._bot_id, "tickers_json": json.dumps(list(marks))}

    def _locked(
        self, position_id: str, statement: Prepared = _SELECT_POSITION_FOR_UPDATE
    ) -> PositionRecord:
        """The open row, locked until the transaction ends on PostgreSQL (``FOR UPDATE``);
        SQLite's writers hold the database's write lock from ``BEGIN IMMEDIATE`` on, so a
        read-then-write there cannot interleave with another writer either."""
        rows = self._db.run(
            statement, {"key_position_id": position_id, "key_bot_id": self._bot_id}
        ).rows
        if not rows:
            raise self._missing(position_id)
        return _position(rows[0])

    def _figures(
        self,
        position: PositionRecord,
        exit_price: Decimal,
        quantity: Decimal | None,
        exit_commission: Decimal,
        closed_at: dt.datetime,
    ) -> pnl.CloseFigures:
        return pnl.close_figures(
            side=position.side,
            open_quantity=position.quantity,
            entry_price=position.entry_price,
            open_commission=position.commission,
            max_favorable_excursion=position.max_favorable_excursion,
            max_adverse_excursion=position.max_adverse_excursion,
            opened_at=position.opened_at,
            exit_price=exit_price,
            close_quantity=quantity,
            exit_commission=exit_commission,
            closed_at=closed_at,
            dialect_name=self._dialect,
        )

    def _insert_closed(
        self,
        position: PositionRecord,
        figures: pnl.CloseFigures,
        exit_price: Decimal,
        reason: ExitReason | str,
        exit_: tuple[Decimal | None, str | None],
        closed_at: dt.datetime,
        now: dt.datetime,
    ) -> ClosedPositionRecord:
        values = self._closed_values(position, figures, exit_price, reason, exit_, closed_at, now)
        totals = _totals_params(values, self._dialect)
        if self._dialect == "postgresql":
            [(closed_id,)] = self._db.run(_INSERT_CLOSED, {**_bind(values), **totals}).rows
        else:
            [(closed_id,)] = self._db.run(_INSERT_CLOSED, _bind(values)).rows
            self._add_to_totals(totals, closed_at, now)
        return ClosedPositionRecord(closed_position_id=closed_id, **values)

    def _add_to_totals(
        self, totals: Mapping[str, Any], closed_at: dt.datetime, now: dt.datetime
    ) -> None:
        """SQLite's half of a close's totals (and, for a close dated before now, of its
        session's prior sums), after its closed row is written. A failure here would leave
        the row without its share of the totals, so it makes the unit of work refuse to
        commit (``TransactionAborted``) whatever the caller catches."""
        try:
            position_totals.add_sqlite(self._db, totals)
            if closed_at < now:
                sessions.add_prior_sqlite(self._db, totals, closed_at)
        except BaseException as exc:
            self._db.note_failure(exc)
            raise

    def _closed_values(
        self,
        position: PositionRecord,
        figures: pnl.CloseFigures,
        exit_price: Decimal,
        reason: ExitReason | str,
        exit_: tuple[Decimal | None, str | None],
        closed_at: dt.datetime,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """The closed row; ``exit_`` is the close's slippage and exit logic."""
        slippage, exit_logic = exit_
        bps = slippage_bps(slippage, exit_price)
        return {
            "position_id": position.position_id,
            "bot_id": self._bot_id,
            "ticker": position.ticker,
            "side": position.side,
            "quantity": figures.quantity,
            "entry_price": position.entry_price,
            "exit_price": exit_price,
            "current_price": exit_price,
            "realized_pnl": figures.realized_pnl,
            "realized_pnl_pct": figures.realized_pnl_pct,
            "stop_loss_price": position.stop_loss_price,
            "take_profit_price": position.take_profit_price,
            "opened_at": position.opened_at,
            "closed_at": closed_at,
            "updated_at": now,
            "holding_period_hours": figures.holding_period_hours,
            "exit_reason": reason,
            "commission": figures.commission,
            "slippage": slippage,
            "max_favorable_excursion": figures.max_favorable_excursion,
            "max_adverse_excursion": figures.max_adverse_excursion,
            "strategy": position.strategy,
            "signal_score": position.signal_score,
            "metadata": position.metadata,
            "gross_pnl": figures.gross_pnl,
            "slippage_bps": None if bps is None else float(bps),
            "entry_logic": position.entry_logic,
            "exit_logic": exit_logic,
            "interval": position.interval,
        }

    def _restore(self, position: PositionRecord) -> None:
        """Put back the open row a failed full close deleted, or make the block refuse.

        The caller sees the original error either way. If the row cannot be put back (the
        transaction was already doomed by the database, or the insert itself fails), the
        unit of work is marked failed, so a caller who catches the error and carries on gets
        ``TransactionAborted`` at the end of the block instead of committing a position
        that vanished without a closed row.
        """
        try:
            with self._db.savepoint():
                self._db.run(_INSERT_POSITION, _bind(position.__dict__))
        except Exception as exc:
            self._db.note_failure(exc)

    def _was_closed(self, position_id: str) -> bool:
        found = self._db.run(
            _CLOSED_EXISTS,
            {"key_position_id": position_id, "key_bot_id": self._bot_id},
        ).rows
        return bool(found)

    def _missing(self, position_id: str) -> Exception:
        if self._was_closed(position_id):
            return PositionClosed(f"position {position_id!r} is already closed")
        return PositionNotFound("position", position_id)

    def _closed_criteria(
        self, strategy: str | None, since: dt.datetime | None, until: dt.datetime | None
    ) -> list[ColumnElement[bool]]:
        return positions_read.closed_criteria(
            bot_id=self._bot_id, strategy=strategy, since=since, until=until
        )


def _totals_params(values: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    """The running totals' change for a closed row's ``values`` (``_closed_values``).

    On SQLite the amounts are added as the row reads back (the shortest decimal of its
    double: 788.5, not the 788.50 computed), so a total prints as the row-by-row sum does."""
    realized, commission = values["realized_pnl"], values["commission"]
    if dialect == "sqlite":
        realized, commission = from_db_number(float(realized)), from_db_number(float(commission))
    return position_totals.params(
        values["bot_id"],
        values["ticker"],
        values["strategy"],
        TradeTotals.of_trade(realized, commission),
    )


def _replaced(position: PositionRecord, changes: Mapping[str, Any]) -> PositionRecord:
    """The record as written: ``position`` with ``changes`` (column: value)."""
    return PositionRecord(**{**position.__dict__, **changes})


def _closed_window(stmt: Any, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    start = validation.instant("since", since, allow_none=True)
    end = validation.instant("until", until, allow_none=True)
    if start is not None:
        stmt = stmt.where(_C.c.closed_at >= start)
    if end is not None:
        stmt = stmt.where(_C.c.closed_at < end)
    return stmt


def _ticker_strategy_filter(
    stmt: Select[Any], table: Table, *, ticker: str | None, strategy: str | None
) -> Select[Any]:
    """The ticker / strategy filters open and closed listings share, validated first."""
    if ticker is not None:
        stmt = stmt.where(
            table.c.ticker
            == validation.required_text("ticker", ticker, max_length=MAX_TICKER_LENGTH)
        )
    if strategy is not None:
        stmt = stmt.where(
            table.c.strategy
            == validation.required_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)
        )
    return stmt
