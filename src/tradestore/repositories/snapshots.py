"""Portfolio snapshots of one bot.

Daily (portfolio_snapshots): one row per bot per date, the input of the daily equity curve,
of the views and of the metrics. Hourly, intraday and manual (intraday_snapshots, with a
per-symbol P&L breakdown in intraday_snapshot_symbols): any number per day, the intraday
equity curve; kept apart so that every daily reader sees exactly the rows it always did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from typing import Any, Final

from sqlalchemy import bindparam, delete, select

from tradestore.analytics import Analytics
from tradestore.analytics.portfolio import (
    EquityPoint,
    IntradayEquityPoint,
    SymbolPnl,
    equity_curve,
    instant_window,
    snapshot_kinds,
    symbol_pnl,
)
from tradestore.db.dialects import upsert_insert
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain import validation
from tradestore.domain.enums import SnapshotKind
from tradestore.domain.money import MONEY_CONTEXT, Amount, fit
from tradestore.errors import BotNotFound, IntegrityViolation, NotFound, ValidationError
from tradestore.models.base import table_of
from tradestore.models.bots import Bot
from tradestore.models.trading import IntradaySnapshot, IntradaySnapshotSymbol, PortfolioSnapshot
from tradestore.repositories._scoped import BotScopedRepository

_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True)
class SnapshotRecord:
    snapshot_id: int
    bot_id: str
    snapshot_date: dt.date
    snapshot_time: dt.datetime
    total_equity: Decimal
    cash_balance: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    positions_count: int
    daily_pnl: Decimal | None
    #: Percent (1.5 means +1.5 %), like every *_pct column.
    daily_return_pct: float | None
    cumulative_pnl: Decimal | None
    cumulative_return_pct: float | None
    buying_power: Decimal | None
    leverage: float | None
    unrealized_pnl: Decimal | None
    realized_pnl_today: Decimal | None
    trades_today: int
    wins_today: int
    losses_today: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class IntradaySnapshotRecord:
    """An hourly, intraday or manual snapshot (its per-symbol lines: ``by_symbol``)."""

    snapshot_id: int
    bot_id: str
    snapshot_kind: SnapshotKind
    snapshot_time: dt.datetime
    total_equity: Decimal
    cash_balance: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    positions_count: int
    #: The bot's realized and unrealized P&L at that time, as the bot passed them.
    realized_pnl: Decimal | None
    unrealized_pnl: Decimal | None
    total_trades: int
    winning_trades: int
    losing_trades: int
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def win_rate(self) -> float | None:
        """winning_trades / total_trades (a fraction), None without trades."""
        return self.winning_trades / self.total_trades if self.total_trades else None


@dataclass(frozen=True)
class SymbolLine:
    """One symbol's line of an intraday snapshot, as ``record_intraday`` takes it (a mapping
    with these keys does too; omitted amounts are 0)."""

    quantity: Amount = Decimal(0)
    market_value: Amount = Decimal(0)
    realized_pnl: Amount = Decimal(0)
    unrealized_pnl: Amount = Decimal(0)


_SYMBOL_FIELDS = tuple(f.name for f in fields(SymbolLine))
_S = table_of(PortfolioSnapshot)
_IS = table_of(IntradaySnapshot)
_IY = table_of(IntradaySnapshotSymbol)
_INTRADAY_FIELDS = tuple(f.name for f in fields(IntradaySnapshotRecord))
_INTRADAY_COLUMNS = tuple(_IS.c[name] for name in _INTRADAY_FIELDS)
_INTRADAY_WRITTEN = tuple(
    name
    for name in _INTRADAY_FIELDS
    if name not in ("snapshot_id", "bot_id", "snapshot_kind", "snapshot_time", "created_at")
)
_MAX_NOTES_LENGTH: Final = 10_000
_MAX_TICKER_LENGTH: Final = 32
_B = table_of(Bot)
_SNAPSHOT_FIELDS = tuple(f.name for f in fields(SnapshotRecord))
_SNAPSHOT_COLUMNS = tuple(_S.c[name] for name in _SNAPSHOT_FIELDS)
#: Columns ``record`` writes (everything but the keys and the audit timestamps).
_WRITTEN = tuple(
    name
    for name in _SNAPSHOT_FIELDS
    if name not in ("snapshot_id", "bot_id", "snapshot_date", "created_at", "updated_at")
)

_before = (_S.c.bot_id == bindparam("bot_id"), _S.c.snapshot_date < bindparam("snapshot_date"))
#: Previous equity, first equity and the bot's starting balance, in one round trip.
_BASES = select(
    select(_S.c.total_equity)
    .where(*_before)
    .order_by(_S.c.snapshot_date.desc())
    .limit(1)
    .scalar_subquery(),
    select(_S.c.total_equity)
    .where(*_before)
    .order_by(_S.c.snapshot_date.asc())
    .limit(1)
    .scalar_subquery(),
    select(_B.c.starting_balance).where(_B.c.bot_id == bindparam("bot_id")).scalar_subquery(),
)


@error_net
class SnapshotRepository(BotScopedRepository):
    """Portfolio snapshots of one bot. Validates, then writes; never commits."""

    @atomic
    def record(
        self,
        *,
        total_equity: Amount,
        cash_balance: Amount,
        snapshot_date: dt.date | None = None,
        snapshot_time: dt.datetime | None = None,
        long_market_value: Amount = Decimal(0),
        short_market_value: Amount = Decimal(0),
        positions_count: int = 0,
        daily_pnl: Amount | None = None,
        daily_return_pct: float | None = None,
        cumulative_pnl: Amount | None = None,
        cumulative_return_pct: float | None = None,
        buying_power: Amount | None = None,
        leverage: float | None = None,
        unrealized_pnl: Amount | None = None,
        realized_pnl_today: Amount | None = None,
        trades_today: int = 0,
        wins_today: int = 0,
        losses_today: int = 0,
    ) -> SnapshotRecord:
        """Record the snapshot of ``snapshot_date``; a second call for that date replaces it.

        The write is one ``INSERT ... ON CONFLICT (bot_id, snapshot_date) DO UPDATE``, so two
        writers racing on the same day cannot both insert. ``snapshot_time`` defaults to now
        and ``snapshot_date`` to its UTC date. Left as None, daily_pnl / daily_return_pct are
        derived from the previous snapshot's equity, and cumulative_pnl /
        cumulative_return_pct from the bot's starting balance (else its first snapshot's
        equity); values passed are stored as given.
        """
        d = self._dialect
        now = self._db.now()
        time_ = validation.instant("snapshot_time", snapshot_time, allow_none=True) or now
        date_ = validation.day("snapshot_date", snapshot_date) or time_.date()
        equity = validation.money("total_equity", total_equity, d)
        counts = {
            "positions_count": _count("positions_count", positions_count),
            "trades_today": _count("trades_today", trades_today),
            "wins_today": _count("wins_today", wins_today),
            "losses_today": _count("losses_today", losses_today),
        }
        if counts["wins_today"] + counts["losses_today"] > counts["trades_today"]:
            raise ValidationError(
                "wins_today", counts["wins_today"], "wins_today + losses_today > trades_today"
            )
        values: dict[str, Any] = {
            "snapshot_time": time_,
            "total_equity": equity,
            "cash_balance": validation.money("cash_balance", cash_balance, d),
            "long_market_value": validation.money(
                "long_market_value", long_market_value, d, non_negative=True
            ),
            "short_market_value": validation.money("short_market_value", short_market_value, d),
            "daily_pnl": validation.optional_money("daily_pnl", daily_pnl, d),
            "daily_return_pct": validation.number("daily_return_pct", daily_return_pct),
            "cumulative_pnl": validation.optional_money("cumulative_pnl", cumulative_pnl, d),
            "cumulative_return_pct": validation.number(
                "cumulative_return_pct", cumulative_return_pct
            ),
            "buying_power": validation.optional_money("buying_power", buying_power, d),
            "leverage": validation.number("leverage", leverage, minimum=0.0),
            "unrealized_pnl": validation.optional_money("unrealized_pnl", unrealized_pnl, d),
            "realized_pnl_today": validation.optional_money(
                "realized_pnl_today", realized_pnl_today, d
            ),
            **counts,
        }
        if any(
            values[key] is None
            for key in ("daily_pnl", "daily_return_pct", "cumulative_pnl", "cumulative_return_pct")
        ):
            self._derive(values, date_)
        insert_ = upsert_insert(self._db.dialect_name, _S).values(
            bot_id=self._bot_id, snapshot_date=date_, created_at=now, updated_at=now, **values
        )
        stmt = insert_.on_conflict_do_update(
            index_elements=[_S.c.bot_id, _S.c.snapshot_date],
            set_={
                **{name: insert_.excluded[name] for name in _WRITTEN},
                "updated_at": insert_.excluded.updated_at,
            },
        ).returning(*_SNAPSHOT_COLUMNS)
        try:
            row = self._db.execute(stmt).one()
        except IntegrityViolation as exc:
            if exc.kind == "foreign_key":
                raise BotNotFound("bot", self._bot_id) from None
            raise
        return SnapshotRecord(*row)

    def get(self, snapshot_date: dt.date) -> SnapshotRecord:
        """The bot's snapshot of that day; ``NotFound`` naming the date when there is none."""
        found = self.find(snapshot_date)
        if found is None:
            raise NotFound("snapshot", snapshot_date)
        return found

    def find(self, snapshot_date: dt.date) -> SnapshotRecord | None:
        """The bot's snapshot of that day, or None when there is none."""
        date_ = validation.day("snapshot_date", snapshot_date, allow_none=False)
        row = self._db.execute(
            select(*_SNAPSHOT_COLUMNS).where(
                _S.c.bot_id == self._bot_id, _S.c.snapshot_date == date_
            )
        ).one_or_none()
        return None if row is None else SnapshotRecord(*row)

    def latest(self, *, on_or_before: dt.date | None = None) -> SnapshotRecord | None:
        """The most recent snapshot (on or before ``on_or_before`` when given)."""
        stmt = select(*_SNAPSHOT_COLUMNS).where(_S.c.bot_id == self._bot_id)
        limit_date = validation.day("on_or_before", on_or_before)
        if limit_date is not None:
            stmt = stmt.where(_S.c.snapshot_date <= limit_date)
        row = self._db.execute(stmt.order_by(_S.c.snapshot_date.desc()).limit(1)).one_or_none()
        return None if row is None else SnapshotRecord(*row)

    def history(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[SnapshotRecord]:
        """Snapshots with start <= snapshot_date <= end (either bound optional), oldest first."""
        first, last = self._window(start, end)
        stmt = select(*_SNAPSHOT_COLUMNS).where(_S.c.bot_id == self._bot_id)
        if first is not None:
            stmt = stmt.where(_S.c.snapshot_date >= first)
        if last is not None:
            stmt = stmt.where(_S.c.snapshot_date <= last)
        stmt = paginate(stmt.order_by(_S.c.snapshot_date), limit=limit, offset=offset)
        return Rows(SnapshotRecord, (SnapshotRecord(*row) for row in self._db.execute(stmt)))

    def equity_curve(
        self, start: dt.date | None = None, end: dt.date | None = None
    ) -> Rows[EquityPoint]:
        """The bot's equity per day from start to end inclusive: ``uow.analytics.equity_curve``
        (``v_equity_curve``), the one equity curve."""
        first, last = self._window(start, end)
        return equity_curve(self._db, bot_id=self._bot_id, start=first, end=last)

    # --- hourly, intraday and manual snapshots ---------------------------------------------

    @atomic
    def record_intraday(
        self,
        *,
        total_equity: Amount,
        cash_balance: Amount,
        kind: SnapshotKind | str = SnapshotKind.HOURLY,
        snapshot_time: dt.datetime | None = None,
        long_market_value: Amount = Decimal(0),
        short_market_value: Amount = Decimal(0),
        positions_count: int = 0,
        realized_pnl: Amount | None = None,
        unrealized_pnl: Amount | None = None,
        total_trades: int = 0,
        winning_trades: int = 0,
        losing_trades: int = 0,
        notes: str | None = None,
        by_symbol: Mapping[str, SymbolLine | Mapping[str, Amount]] | None = None,
    ) -> IntradaySnapshotRecord:
        """Record an hourly, intraday or manual snapshot, with its per-symbol breakdown.

        The daily snapshot (``record``) is not touched: it stays one row per day, read by
        the views and the metrics. ``snapshot_time`` defaults to now. A second call for the
        same kind and time replaces that snapshot and its breakdown (a retried write lands
        once). ``by_symbol`` maps a ticker to a ``SymbolLine`` (or a mapping with its keys):
        the signed quantity, market value and realized / unrealized P&L of that symbol.
        Three statements: the upsert, the old breakdown's removal, the new breakdown.
        """
        d = self._dialect
        now = self._db.now()
        kind_ = validation.choice("kind", kind, SnapshotKind)
        time_ = validation.instant("snapshot_time", snapshot_time, allow_none=True) or now
        counts = {
            "positions_count": _count("positions_count", positions_count),
            "total_trades": _count("total_trades", total_trades),
            "winning_trades": _count("winning_trades", winning_trades),
            "losing_trades": _count("losing_trades", losing_trades),
        }
        if counts["winning_trades"] + counts["losing_trades"] > counts["total_trades"]:
            raise ValidationError(
                "winning_trades",
                counts["winning_trades"],
                "winning_trades + losing_trades > total_trades",
            )
        values: dict[str, Any] = {
            "total_equity": validation.money("total_equity", total_equity, d),
            "cash_balance": validation.money("cash_balance", cash_balance, d),
            "long_market_value": validation.money(
                "long_market_value", long_market_value, d, non_negative=True
            ),
            "short_market_value": validation.money("short_market_value", short_market_value, d),
            "realized_pnl": validation.optional_money("realized_pnl", realized_pnl, d),
            "unrealized_pnl": validation.optional_money("unrealized_pnl", unrealized_pnl, d),
            "notes": validation.optional_text("notes", notes, max_length=_MAX_NOTES_LENGTH),
            **counts,
        }
        lines = self._symbol_lines(by_symbol)
        insert_ = upsert_insert(d, _IS).values(
            bot_id=self._bot_id,
            snapshot_kind=kind_,
            snapshot_time=time_,
            created_at=now,
            updated_at=now,
            **values,
        )
        stmt = insert_.on_conflict_do_update(
            index_elements=[_IS.c.bot_id, _IS.c.snapshot_time, _IS.c.snapshot_kind],
            set_={name: insert_.excluded[name] for name in _INTRADAY_WRITTEN},
        ).returning(*_INTRADAY_COLUMNS)
        try:
            row = self._db.execute(stmt).one()
        except IntegrityViolation as exc:
            if exc.kind == "foreign_key":
                raise BotNotFound("bot", self._bot_id) from None
            raise
        record = IntradaySnapshotRecord(*row)
        self._db.execute(delete(_IY).where(_IY.c.snapshot_id == record.snapshot_id))
        if lines:
            self._db.execute(
                _IY.insert(), [{"snapshot_id": record.snapshot_id, **line} for line in lines]
            )
        return record

    def intraday_history(
        self,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        kind: SnapshotKind | str | Iterable[SnapshotKind | str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[IntradaySnapshotRecord]:
        """Intraday snapshots taken in [start, end) (either bound optional), oldest first."""
        first, last = instant_window(start, end)
        kinds = snapshot_kinds("kind", kind)
        stmt = select(*_INTRADAY_COLUMNS).where(_IS.c.bot_id == self._bot_id)
        if first is not None:
            stmt = stmt.where(_IS.c.snapshot_time >= first)
        if last is not None:
            stmt = stmt.where(_IS.c.snapshot_time < last)
        if kinds is not None:
            stmt = stmt.where(_IS.c.snapshot_kind.in_(sorted(kinds)))
        stmt = paginate(
            stmt.order_by(_IS.c.snapshot_time, _IS.c.snapshot_kind), limit=limit, offset=offset
        )
        return Rows(
            IntradaySnapshotRecord,
            (IntradaySnapshotRecord(*row) for row in self._db.execute(stmt)),
        )

    def by_symbol(self, snapshot_id: int) -> Rows[SymbolPnl]:
        """One intraday snapshot's per-symbol lines, by ticker; ``NotFound`` naming the
        snapshot when the bot has none of that id (a snapshot without a breakdown: empty)."""
        key = validation.integer("snapshot_id", snapshot_id, minimum=1, allow_none=False)
        lines = symbol_pnl(self._db, bot_id=self._bot_id, snapshot_id=key)
        if not lines:
            exists = self._db.execute(
                select(_IS.c.snapshot_id).where(
                    _IS.c.bot_id == self._bot_id, _IS.c.snapshot_id == key
                )
            ).one_or_none()
            if exists is None:
                raise NotFound("intraday snapshot", key)
        return lines

    def intraday_equity_curve(
        self,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        kind: SnapshotKind | str | Iterable[SnapshotKind | str] | None = None,
    ) -> Rows[IntradayEquityPoint]:
        """``uow.analytics.intraday_equity_curve`` for this bot."""
        return Analytics(self._db, bot_id=self._bot_id).intraday_equity_curve(
            start=start, end=end, kind=kind
        )

    def symbol_pnl(
        self,
        ticker: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        kind: SnapshotKind | str | Iterable[SnapshotKind | str] | None = None,
    ) -> Rows[SymbolPnl]:
        """``uow.analytics.symbol_pnl`` for this bot."""
        return Analytics(self._db, bot_id=self._bot_id).symbol_pnl(
            ticker=ticker, start=start, end=end, kind=kind
        )

    def _symbol_lines(
        self, by_symbol: Mapping[str, SymbolLine | Mapping[str, Amount]] | None
    ) -> list[dict[str, Any]]:
        d = self._dialect
        lines = []
        for ticker, line in validation.mapping_items(
            "by_symbol", by_symbol or {}, "a mapping of tickers to SymbolLine"
        ):
            name = validation.required_text("by_symbol", ticker, max_length=_MAX_TICKER_LENGTH)
            if isinstance(line, SymbolLine):
                given: Mapping[str, Any] = {f: getattr(line, f) for f in _SYMBOL_FIELDS}
            elif isinstance(line, Mapping):
                unknown = sorted(str(k) for k in line if k not in _SYMBOL_FIELDS)
                if unknown:
                    raise ValidationError(
                        f"by_symbol[{name!r}]", unknown, f"unknown keys; use {_SYMBOL_FIELDS}"
                    )
                given = line
            else:
                raise ValidationError(
                    f"by_symbol[{name!r}]", line, "expected a SymbolLine or a mapping"
                )
            row: dict[str, Any] = {"ticker": name}
            for field in _SYMBOL_FIELDS:
                row[field] = validation.money(
                    f"by_symbol[{name!r}].{field}", given.get(field, Decimal(0)), d
                )
            lines.append(row)
        return lines

    def _window(
        self, start: dt.date | None, end: dt.date | None
    ) -> tuple[dt.date | None, dt.date | None]:
        first = validation.day("start", start)
        last = validation.day("end", end)
        if first is not None and last is not None and last < first:
            raise ValidationError("end", last, f"before start {first}")
        return first, last

    def _derive(self, values: dict[str, Any], snapshot_date: dt.date) -> None:
        previous, first, starting_balance = self._db.execute(
            _BASES, {"bot_id": self._bot_id, "snapshot_date": snapshot_date}
        ).one()
        equity: Decimal = values["total_equity"]
        base = starting_balance if starting_balance is not None else first
        if base is None:
            base = equity  # the first snapshot of a bot without a starting balance
        d = self._dialect
        with localcontext(MONEY_CONTEXT):
            if previous is not None:
                if values["daily_pnl"] is None:
                    values["daily_pnl"] = fit(equity - previous, d)
                if values["daily_return_pct"] is None and previous > 0:
                    values["daily_return_pct"] = float((equity / previous - 1) * _HUNDRED)
            if values["cumulative_pnl"] is None:
                values["cumulative_pnl"] = fit(equity - base, d)
            if values["cumulative_return_pct"] is None and base > 0:
                values["cumulative_return_pct"] = float((equity / base - 1) * _HUNDRED)


def _count(field: str, value: Any) -> int:
    result = validation.integer(field, value, minimum=0, allow_none=False)
    assert result is not None
    return result
