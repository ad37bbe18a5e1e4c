"""Performance metrics of one bot: stored rows, and their computation from its own data.

The formulas are pure functions in ``tradestore.domain.metrics`` (documented in
docs/reference/metrics.md); this module selects their inputs (snapshots, closed positions),
rounds the money amounts for the backend and upserts the row of (bot, date, strategy).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal, localcontext
from typing import Any, Final

from sqlalchemy import bindparam, select, type_coerce
from sqlalchemy.types import NullType

from tradestore.db.dialects import upsert_insert
from tradestore.db.net import atomic, error_net
from tradestore.db.results import Rows, paginate
from tradestore.db.types import from_db_number
from tradestore.domain import validation
from tradestore.domain.enums import MetricPeriod
from tradestore.domain.metrics import (
    ALL_TIME_START,
    TRADE_WINDOW_DAYS,
    TRADING_DAYS_PER_YEAR,
    DatedEquity,
    MetricValues,
    compute_metrics,
    period_start,
    trade_statistics,
)
from tradestore.domain.money import MONEY_CONTEXT, fit
from tradestore.errors import BotNotFound, IntegrityViolation, NotFound, ValidationError
from tradestore.models.base import table_of
from tradestore.models.bots import Bot
from tradestore.models.positions import ClosedPosition
from tradestore.models.trading import (
    ALL_STRATEGIES,
    PerformanceMetric,
    PeriodMetric,
    PortfolioSnapshot,
)
from tradestore.repositories._scoped import BotScopedRepository

MAX_STRATEGY_LENGTH: Final = 100

_M = table_of(PerformanceMetric)
_PM = table_of(PeriodMetric)
_S = table_of(PortfolioSnapshot)
_C = table_of(ClosedPosition)
_B = table_of(Bot)
_VALUE_FIELDS = tuple(f.name for f in dataclasses.fields(MetricValues))
_MONEY_FIELDS = frozenset(
    {
        "max_drawdown",
        "current_drawdown",
        "avg_win_30d",
        "avg_loss_30d",
        "expectancy_30d",
        "largest_win_30d",
        "largest_loss_30d",
    }
)
_COUNT_FIELDS = frozenset(
    {"days_in_drawdown", "total_trades_30d", "winning_trades_30d", "losing_trades_30d"}
)
_KEY_FIELDS = ("metric_id", "bot_id", "metric_date", "strategy", "created_at", "updated_at")
_COLUMNS = tuple(_M.c[name] for name in _KEY_FIELDS + _VALUE_FIELDS)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricRecord(MetricValues):
    """A stored performance_metrics row; ``strategy`` ``'all'`` is the whole portfolio."""

    metric_id: int
    bot_id: str
    metric_date: dt.date
    strategy: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def values(self) -> MetricValues:
        return MetricValues(**{name: getattr(self, name) for name in _VALUE_FIELDS})


def _record(row: Any) -> MetricRecord:
    return MetricRecord(**row._mapping)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PeriodMetricRecord:
    """A stored period_metrics row: the trades closed from ``period_start`` to ``as_of``.

    Counts and amounts as ``tradestore.domain.metrics.trade_statistics`` defines them (a
    trade at exactly zero is neither win nor loss); ``strategy`` ``'all'`` is every trade.
    """

    period_metric_id: int
    bot_id: str
    period: MetricPeriod
    period_start: dt.date
    as_of: dt.date
    strategy: str
    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate: float | None
    net_pnl: Decimal
    avg_win: Decimal | None
    avg_loss: Decimal | None
    largest_win: Decimal | None
    largest_loss: Decimal | None
    profit_factor: float | None
    expectancy: Decimal | None
    created_at: dt.datetime
    updated_at: dt.datetime


_PERIOD_FIELDS = tuple(f.name for f in dataclasses.fields(PeriodMetricRecord))
_PERIOD_COLUMNS = tuple(_PM.c[name] for name in _PERIOD_FIELDS)
_PERIOD_MONEY = ("net_pnl", "avg_win", "avg_loss", "largest_win", "largest_loss", "expectancy")
_PERIOD_VALUES = (
    "as_of",
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    *_PERIOD_MONEY,
    "profit_factor",
)


@error_net
class MetricsRepository(BotScopedRepository):
    """performance_metrics rows of one bot. Validates, then writes; never commits."""

    @atomic
    def record(
        self,
        metric_date: dt.date,
        values: MetricValues | None = None,
        *,
        strategy: str | None = ALL_STRATEGIES,
    ) -> MetricRecord:
        """Store ``values`` as the row of (bot, metric_date, strategy), replacing any row there.

        One ``INSERT ... ON CONFLICT DO UPDATE``; every metric column is written, so a field
        left None in ``values`` becomes NULL. ``strategy`` ``'all'`` is the portfolio row.
        """
        date_ = validation.day("metric_date", metric_date, allow_none=False)
        assert date_ is not None
        key = self._strategy_key(strategy)
        if values is None:
            values = MetricValues()
        if not isinstance(values, MetricValues):
            raise ValidationError("values", values, "expected a MetricValues")
        columns = self._validated(values)
        now = self._db.now()
        params = {
            "bot_id": self._bot_id,
            "metric_date": date_,
            "strategy": key,
            "created_at": now,
            "updated_at": now,
            **columns,
        }
        try:
            row = self._db.execute(_upsert(self._dialect), params).one()
        except IntegrityViolation as exc:
            if exc.kind == "foreign_key":
                raise BotNotFound("bot", self._bot_id) from None
            raise
        return _record(row)

    @atomic
    def compute(
        self,
        as_of: dt.date,
        strategy: str | None = ALL_STRATEGIES,
        benchmark_returns: Mapping[dt.date, float] | None = None,
        *,
        risk_free_rate: float = 0.0,
        periods_per_year: int = TRADING_DAYS_PER_YEAR,
        window_days: int | None = None,
    ) -> MetricRecord:
        """Derive every metric as of ``as_of`` from this bot's rows, store and return them.

        The portfolio row (``strategy`` ``'all'``) uses the snapshots' equity curve. A strategy row
        uses that strategy's *realized* curve: the portfolio's inception equity plus the
        strategy's cumulative realized P&L, sampled on the snapshot dates (snapshots are
        per bot, so a strategy's open risk is not in it). Trade statistics cover the trades
        closed in the 30 calendar days ending on ``as_of`` (UTC). ``benchmark_returns`` maps
        a date to the benchmark's simple return that day (0.01 = 1 %); ``risk_free_rate`` is
        annual (0.04 = 4 %). See docs/reference/metrics.md for every formula.
        """
        date_ = validation.day("as_of", as_of, allow_none=False)
        assert date_ is not None
        key = self._strategy_key(strategy)
        benchmark = _benchmark(benchmark_returns)
        rate = validation.number("risk_free_rate", risk_free_rate, minimum=-0.99, allow_none=False)
        periods = validation.integer(
            "periods_per_year", periods_per_year, minimum=1, maximum=100_000, allow_none=False
        )
        window = validation.integer(
            "window_days", window_days, minimum=1, maximum=(dt.date.max - dt.date.min).days
        )
        assert rate is not None
        assert periods is not None
        # The windows below: the trade window, window_days, and the year before as_of (YTD).
        reach = max(TRADE_WINDOW_DAYS, window or 0, 366) + 1
        validation.room("as_of", date_, days_before=reach, days_after=1)

        end = dt.datetime.combine(date_ + dt.timedelta(days=1), dt.time(), dt.UTC)
        start = end - dt.timedelta(days=TRADE_WINDOW_DAYS)
        points = self._equity_points(date_)
        inception = self._starting_balance()
        if inception is None and points:
            inception = points[0][1]
        if key != ALL_STRATEGIES:
            points = self._strategy_points(points, inception, key, end)
        trades = select(_C.c.realized_pnl).where(
            _C.c.bot_id == self._bot_id, _C.c.closed_at >= start, _C.c.closed_at < end
        )
        if key != ALL_STRATEGIES:
            trades = trades.where(_C.c.strategy == key)
        values = compute_metrics(
            points,
            self._db.execute(trades).scalars(),
            as_of=date_,
            inception_equity=inception,
            benchmark_returns=benchmark,
            risk_free_rate=rate,
            periods_per_year=periods,
            window_days=window,
        )
        fitted: dict[str, Any] = {
            name: fit(getattr(values, name), self._dialect)
            for name in _MONEY_FIELDS
            if getattr(values, name) is not None
        }
        return self.record(date_, dataclasses.replace(values, **fitted), strategy=strategy)

    @atomic
    def compute_periods(
        self, as_of: dt.date, *, strategy: str | None = ALL_STRATEGIES
    ) -> Rows[PeriodMetricRecord]:
        """Trade statistics of the day, the ISO week, the month and the whole history that end
        on ``as_of`` (UTC days), stored and returned in that order.

        Each row counts the trades closed from its period's first day to ``as_of``, both
        included; a later ``as_of`` in the same period replaces the row (the week to date).
        One read of the trades closed up to ``as_of`` and one upsert per period.
        """
        date_ = validation.day("as_of", as_of, allow_none=False)
        assert date_ is not None
        key = self._strategy_key(strategy)
        validation.room("as_of", date_, days_before=0, days_after=1)
        end = dt.datetime.combine(date_ + dt.timedelta(days=1), dt.time(), dt.UTC)
        trades = select(_C.c.closed_at, _C.c.realized_pnl).where(
            _C.c.bot_id == self._bot_id, _C.c.closed_at < end
        )
        if key != ALL_STRATEGIES:
            trades = trades.where(_C.c.strategy == key)
        closed = self._db.execute(trades).all()
        now = self._db.now()
        records: list[PeriodMetricRecord] = []
        for period in MetricPeriod:
            first = period_start(period, date_)
            since = None
            if first != ALL_TIME_START:
                since = dt.datetime.combine(first, dt.time(), dt.UTC)
            stats = trade_statistics(
                pnl for closed_at, pnl in closed if since is None or closed_at >= since
            )
            params: dict[str, Any] = {
                "bot_id": self._bot_id,
                "period": period.value,
                "period_start": first,
                "strategy": key,
                "created_at": now,
                "updated_at": now,
                "as_of": date_,
                "total_trades": stats.total_trades,
                "winning_trades": stats.winning_trades,
                "losing_trades": stats.losing_trades,
                "win_rate": stats.win_rate,
                "profit_factor": stats.profit_factor,
            }
            for name in _PERIOD_MONEY:
                value = getattr(stats, name)
                params[name] = None if value is None else fit(value, self._dialect)
            try:
                row = self._db.execute(_period_upsert(self._dialect), params).one()
            except IntegrityViolation as exc:
                if exc.kind == "foreign_key":
                    raise BotNotFound("bot", self._bot_id) from None
                raise
            records.append(PeriodMetricRecord(**row._mapping))
        return Rows(PeriodMetricRecord, records)

    def find_period(
        self,
        period: MetricPeriod | str,
        as_of: dt.date,
        *,
        strategy: str | None = ALL_STRATEGIES,
    ) -> PeriodMetricRecord | None:
        """The stored row of the ``period`` that contains ``as_of``, or None."""
        period_ = validation.choice("period", period, MetricPeriod)
        date_ = validation.day("as_of", as_of, allow_none=False)
        assert date_ is not None
        row = self._db.execute(
            select(*_PERIOD_COLUMNS).where(
                _PM.c.bot_id == self._bot_id,
                _PM.c.period == period_,
                _PM.c.period_start == period_start(period_, date_),
                _PM.c.strategy == self._strategy_key(strategy),
            )
        ).one_or_none()
        return None if row is None else PeriodMetricRecord(**row._mapping)

    def period_history(
        self,
        period: MetricPeriod | str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        strategy: str | None = ALL_STRATEGIES,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[PeriodMetricRecord]:
        """The rows of ``period`` whose period starts between ``start`` and ``end`` (both
        included), oldest first."""
        period_ = validation.choice("period", period, MetricPeriod)
        stmt = select(*_PERIOD_COLUMNS).where(
            _PM.c.bot_id == self._bot_id,
            _PM.c.period == period_,
            _PM.c.strategy == self._strategy_key(strategy),
        )
        first = validation.day("start", start)
        last = validation.day("end", end)
        if first is not None:
            stmt = stmt.where(_PM.c.period_start >= first)
        if last is not None:
            stmt = stmt.where(_PM.c.period_start <= last)
        stmt = paginate(stmt.order_by(_PM.c.period_start), limit=limit, offset=offset)
        return Rows(
            PeriodMetricRecord,
            (PeriodMetricRecord(**row._mapping) for row in self._db.execute(stmt)),
        )

    def get(self, metric_date: dt.date, *, strategy: str | None = ALL_STRATEGIES) -> MetricRecord:
        """The row of that day and strategy; ``NotFound`` naming both when there is none."""
        found = self.find(metric_date, strategy=strategy)
        if found is None:
            raise NotFound("metrics", (metric_date, self._strategy_key(strategy)))
        return found

    def find(
        self, metric_date: dt.date, *, strategy: str | None = ALL_STRATEGIES
    ) -> MetricRecord | None:
        """The row of that day and strategy, or None when there is none."""
        date_ = validation.day("metric_date", metric_date, allow_none=False)
        row = self._db.execute(
            select(*_COLUMNS).where(
                _M.c.bot_id == self._bot_id,
                _M.c.metric_date == date_,
                _M.c.strategy == self._strategy_key(strategy),
            )
        ).one_or_none()
        return None if row is None else _record(row)

    def latest(self, *, strategy: str | None = ALL_STRATEGIES) -> MetricRecord | None:
        """The most recent row (the "current Sharpe ratio and drawdown" query)."""
        row = self._db.execute(
            select(*_COLUMNS)
            .where(_M.c.bot_id == self._bot_id, _M.c.strategy == self._strategy_key(strategy))
            .order_by(_M.c.metric_date.desc())
            .limit(1)
        ).one_or_none()
        return None if row is None else _record(row)

    def history(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        strategy: str | None = ALL_STRATEGIES,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[MetricRecord]:
        """Rows with start <= metric_date <= end, oldest first."""
        stmt = select(*_COLUMNS).where(
            _M.c.bot_id == self._bot_id, _M.c.strategy == self._strategy_key(strategy)
        )
        first = validation.day("start", start)
        last = validation.day("end", end)
        if first is not None:
            stmt = stmt.where(_M.c.metric_date >= first)
        if last is not None:
            stmt = stmt.where(_M.c.metric_date <= last)
        stmt = paginate(stmt.order_by(_M.c.metric_date), limit=limit, offset=offset)
        return Rows(MetricRecord, (_record(row) for row in self._db.execute(stmt)))

    def strategies(self) -> list[str]:
        """Strategies with a stored row (the portfolio row excluded)."""
        stmt = (
            select(_M.c.strategy)
            .where(_M.c.bot_id == self._bot_id, _M.c.strategy != ALL_STRATEGIES)
            .distinct()
            .order_by(_M.c.strategy)
        )
        return list(self._db.execute(stmt).scalars())

    # --- helpers ---------------------------------------------------------------------------

    def _strategy_key(self, strategy: str | None) -> str:
        """``'all'`` is the portfolio row, as analytics and the views spell it; None, the
        spelling this repository used first, is kept as an alias of it."""
        if strategy is None:
            return ALL_STRATEGIES
        return validation.required_text("strategy", strategy, max_length=MAX_STRATEGY_LENGTH)

    def _validated(self, values: MetricValues) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for name in _VALUE_FIELDS:
            value = getattr(values, name)
            if name in _MONEY_FIELDS:
                columns[name] = validation.optional_money(name, value, self._dialect)
            elif name in _COUNT_FIELDS:
                columns[name] = validation.integer(name, value, minimum=0)
            elif name == "win_rate_30d":
                columns[name] = validation.number(name, value, minimum=0.0, maximum=1.0)
            else:
                columns[name] = validation.number(name, value)
        for name in ("max_drawdown", "current_drawdown"):
            if columns[name] is not None and columns[name] < 0:
                raise ValidationError(name, columns[name], "a drawdown is a decline: >= 0")
        total, wins, losses = (
            columns["total_trades_30d"],
            columns["winning_trades_30d"],
            columns["losing_trades_30d"],
        )
        if total is not None and (wins or 0) + (losses or 0) > total:
            raise ValidationError(
                "winning_trades_30d", wins, f"wins + losses exceed total_trades_30d={total}"
            )
        return columns

    def _starting_balance(self) -> Decimal | None:
        balance: Decimal | None = self._db.execute(
            select(_B.c.starting_balance).where(_B.c.bot_id == self._bot_id)
        ).scalar_one_or_none()
        return balance

    def _equity_points(self, as_of: dt.date) -> list[DatedEquity]:
        rows = self._db.execute(_EQUITY_POINTS, {"bot_id": self._bot_id, "as_of": as_of}).all()
        if not rows:
            return []
        days: list[Any] = [row[0] for row in rows]
        amounts: list[Any] = [row[1] for row in rows]
        if self._dialect == "sqlite":
            # What the Date and Money types do per row, in C loops over the whole column.
            days = list(map(dt.date.fromisoformat, days))
            amounts = [
                Decimal(repr(amount)) if amount.__class__ is float else _amount(amount)
                for amount in amounts
            ]
        return list(zip(days, amounts, strict=True))

    def _strategy_points(
        self,
        points: list[DatedEquity],
        inception: Decimal | None,
        strategy: str,
        end: dt.datetime,
    ) -> list[DatedEquity]:
        """inception + cumulative realized P&L of ``strategy``, on the snapshot dates."""
        if not points or inception is None:
            return []
        closes = self._db.execute(
            select(_C.c.closed_at, _C.c.realized_pnl)
            .where(_C.c.bot_id == self._bot_id, _C.c.strategy == strategy, _C.c.closed_at < end)
            .order_by(_C.c.closed_at)
        ).all()
        curve: list[DatedEquity] = []
        index = 0
        cumulative = Decimal(0)
        with localcontext(MONEY_CONTEXT):
            for day, _equity in points:
                day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
                while index < len(closes) and closes[index][0] < day_end:
                    cumulative += closes[index][1]
                    index += 1
                curve.append((day, inception + cumulative))
        return curve


#: The equity curve, read raw: through the column types every row costs a Python call per
#: value (Date, Money), which took longer than every formula over the same history.
#: ``_equity_points`` converts the two columns as those types would.
_EQUITY_POINTS = (
    select(type_coerce(_S.c.snapshot_date, NullType()), type_coerce(_S.c.total_equity, NullType()))
    .where(_S.c.bot_id == bindparam("bot_id"), _S.c.snapshot_date <= bindparam("as_of"))
    .order_by(_S.c.snapshot_date)
)

#: The upsert of ``record`` per dialect, built once: building it (``excluded`` proxies every
#: column of the table) costs more than executing it.
_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert_ = upsert_insert(dialect, _M)
        statement = insert_.on_conflict_do_update(
            index_elements=[_M.c.bot_id, _M.c.metric_date, _M.c.strategy],
            set_={
                **{name: insert_.excluded[name] for name in _VALUE_FIELDS},
                "updated_at": insert_.excluded.updated_at,
            },
        ).returning(*_COLUMNS)
        _UPSERTS[dialect] = statement
    return statement


def _period_upsert(dialect: str) -> Any:
    statement = _UPSERTS.get(f"period:{dialect}")
    if statement is None:
        insert_ = upsert_insert(dialect, _PM)
        statement = insert_.on_conflict_do_update(
            index_elements=[_PM.c.bot_id, _PM.c.period, _PM.c.period_start, _PM.c.strategy],
            set_={
                **{name: insert_.excluded[name] for name in _PERIOD_VALUES},
                "updated_at": insert_.excluded.updated_at,
            },
        ).returning(*_PERIOD_COLUMNS)
        _UPSERTS[f"period:{dialect}"] = statement
    return statement


def _amount(value: Any) -> Decimal:
    amount = from_db_number(value)
    assert amount is not None  # total_equity is NOT NULL
    return amount


def _benchmark(returns: Mapping[dt.date, float] | None) -> dict[dt.date, float] | None:
    """The benchmark's returns by day, from a mapping or a pandas Series.

    A NaN return means "no return that day" (the first value ``pct_change`` leaves) and the
    day is left out, like a day the mapping does not have: the comparison covers the days
    both series have. Keys may be dates or aware datetimes (a Series' DatetimeIndex); two
    keys on the same day are refused, since one would silently replace the other.
    """
    if returns is None:
        return None
    items = validation.mapping_items(
        "benchmark_returns", returns, "a mapping (or pandas Series) of date to daily return"
    )
    checked: dict[dt.date, float] = {}
    seen: set[dt.date] = set()
    for day, value in items:
        key = validation.day("benchmark_returns", day, allow_none=False)
        assert key is not None
        field = f"benchmark_returns[{key}]"
        if key in seen:
            raise ValidationError(field, day, "a second entry for the same day")
        seen.add(key)
        raw = validation.number(field, value, allow_none=False, allow_nonfinite=True)
        assert raw is not None
        if math.isnan(raw):
            continue
        number = validation.number(field, value, minimum=-1.0, allow_none=False)
        assert number is not None
        checked[key] = number
    return checked
