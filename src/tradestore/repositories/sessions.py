"""Trading sessions of one bot: each run from its start to its stop, with its own figures.

A bot has many sessions; at most one is open (``ended_at`` NULL). ``BotRepository`` opens
and ends them (``start_session``, ``end_session``, ``set_status``, ``recover``), with the
bot's row locked first so two starts of one bot cannot both find no open session; this
repository reads them and computes a session's figures.

A session's window is [started_at, ended_at), open-ended while the session runs, like every
other window the library reads: a position closed at the instant a session ends belongs to
the next one, and no closed position counts in two sessions.

A session's trade figures at its end are not a recount of its closed rows: the session row
keeps the sums of the bot's closed rows closed before its start (``prior_*``, revision 0014),
and its rows are then the running totals (``position_totals``) minus those minus the rows
closed at or after its end (a close dated in the future; normally none, an index range).
So ending a session costs the same after 50 or 5,000,000 trades in it. The prior sums stay
equal to their definition while the session is open: a close dated before the session's
start adds to them in its own transaction (``positions.close``), retention's delete of such a
row subtracts (``ops.retention``); a session opened before 0014 (prior NULL) recounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    bindparam,
    case,
    func,
    literal_column,
    select,
    union_all,
    update,
)

from tradestore.analytics.positions import closed_criteria
from tradestore.db.executor import Executor, Prepared
from tradestore.db.money_sums import exact_sums
from tradestore.db.net import error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain import validation
from tradestore.domain.metrics import drawdown
from tradestore.domain.money import fit
from tradestore.domain.trade_totals import TRADE_SUMS, TradeTotals
from tradestore.errors import ConflictError, NotFound
from tradestore.models.base import table_of
from tradestore.models.bots import TradingSession
from tradestore.models.positions import ClosedPosition
from tradestore.models.trading import IntradaySnapshot, PortfolioSnapshot
from tradestore.repositories import position_totals
from tradestore.repositories._scoped import BotScopedRepository


@dataclass(frozen=True)
class SessionRecord:
    """A trading session as stored.

    Balances are the bot's cash (``bots.current_balance`` unless the bot passes its own);
    equity is cash plus the market value of open positions, known only when the bot passes it
    (or, at the end, from the session's last snapshot). The figures are None while the
    session is open and for a session that began before revision 0010 (its figures were
    never recorded: ``uow.sessions.figures`` computes them from the rows).
    """

    session_id: int
    bot_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    #: ``SessionEndReason`` (stopped, error, interrupted) or the bot's own text; None while open.
    end_reason: str | None
    starting_balance: Decimal | None
    ending_balance: Decimal | None
    starting_equity: Decimal | None
    ending_equity: Decimal | None
    #: Closed-position rows closed in the session (a position closed in three parts is three).
    total_trades: int | None
    #: Of those, realized_pnl > 0 / < 0 (a breakeven trade is neither).
    winning_trades: int | None
    losing_trades: int | None
    #: winning_trades / total_trades, a fraction (0.6 = 60 %), None without trades.
    win_rate: float | None
    #: SUM(realized_pnl) of those trades (net of commission), and SUM(commission).
    total_pnl: Decimal | None
    total_commission: Decimal | None
    #: Largest peak-to-trough decline of the session's equity points (starting equity, every
    #: daily and intraday snapshot taken in the session, ending equity), in money and in
    #: percent of its peak.
    max_drawdown: Decimal | None
    max_drawdown_pct: float | None
    metadata: dict[str, Any] | None
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class SessionFigures:
    """A session's figures computed from its rows now (the stored ones are these, as of
    the session's end)."""

    session_id: int
    total_trades: int
    winning_trades: int
    losing_trades: int
    win_rate: float | None
    total_pnl: Decimal
    total_commission: Decimal
    max_drawdown: Decimal | None
    max_drawdown_pct: float | None


#: (time, equity) points of an equity curve, oldest first.
_Points = list[tuple[dt.datetime, Decimal]]

_T = table_of(TradingSession)
_C = table_of(ClosedPosition)
_P = table_of(PortfolioSnapshot)
_I = table_of(IntradaySnapshot)
_FIELDS = tuple(f.name for f in fields(SessionRecord))
_COLUMNS = tuple(_T.c[name] for name in _FIELDS)
_FIGURES = tuple(f.name for f in fields(SessionFigures) if f.name != "session_id")

#: The session row's sums of the bot's closed rows closed before its start (module doc).
_PRIOR = (
    _T.c.prior_trades,
    _T.c.prior_wins,
    _T.c.prior_losses,
    _T.c.prior_realized_pnl,
    _T.c.prior_commission,
)
# The statements a session writer runs on every start and end are prebuilt (``Prepared``):
# a restart runs them all.
_CURRENT_WITH_PRIOR = Prepared(
    select(*_COLUMNS, *_PRIOR)
    .where(_T.c.bot_id == bindparam("bot_id"), _T.c.ended_at.is_(None))
    .limit(1),
    name="trading_sessions.current_with_prior",
)
#: The bot's closed rows closed at or after an instant: the ones the running totals hold
#: that a window ending (or starting) there must leave out. Normally none (a close is dated
#: by the clock, or earlier), and an index range (bot_id, closed_at) either way.
_CLOSED_FROM = Prepared(
    select(_C.c.realized_pnl, _C.c.commission).where(
        _C.c.bot_id == bindparam("bot_id"),
        _C.c.closed_at >= bindparam("at", type_=_C.c.closed_at.type),
    ),
    name="closed_positions.closed_from",
)
_OPEN_COLUMNS = (
    "bot_id",
    "started_at",
    "starting_balance",
    "starting_equity",
    "metadata",
    "notes",
    "created_at",
    "updated_at",
    *(column.name for column in _PRIOR),
)
_INSERT_SESSION = Prepared(
    _T.insert()
    .values({name: bindparam(f"v_{name}", type_=_T.c[name].type) for name in _OPEN_COLUMNS})
    .returning(*_COLUMNS),
    name="trading_sessions.insert",
)
_CLOSE_COLUMNS = (
    "ended_at",
    "end_reason",
    "ending_balance",
    "ending_equity",
    "updated_at",
    "total_trades",
    "winning_trades",
    "losing_trades",
    "win_rate",
    "total_pnl",
    "total_commission",
    "max_drawdown",
    "max_drawdown_pct",
)
#: Guarded on ``ended_at IS NULL``: a session another writer ended is not ended twice.
#: ``notes`` NULL keeps the stored notes.
_END_SESSION = Prepared(
    update(_T)
    .where(_T.c.session_id == bindparam("session_id", type_=BigInteger()), _T.c.ended_at.is_(None))
    .values(
        {
            **{name: bindparam(f"v_{name}", type_=_T.c[name].type) for name in _CLOSE_COLUMNS},
            "notes": func.coalesce(bindparam("v_notes", type_=_T.c.notes.type), _T.c.notes),
        }
    )
    .returning(*_COLUMNS),
    name="trading_sessions.end",
)

_CURRENT = (
    select(*_COLUMNS)
    .where(_T.c.bot_id == bindparam("bot_id"), _T.c.ended_at.is_(None))
    .order_by(_T.c.started_at.desc(), _T.c.session_id.desc())
    .limit(1)
)


#: The prior sums a close adds to (module doc): the open session of the close's bot that
#: started after the close's instant; ``prior_trades IS NULL`` marks a session of before
#: revision 0014, whose end recounts.
_PRIOR_CHANGED = (
    _T.c.bot_id == position_totals.change_param("bot_id"),
    _T.c.ended_at.is_(None),
    _T.c.prior_trades.is_not(None),
)
_PRIOR_SUMS = {
    "prior_trades": "trades",
    "prior_wins": "wins",
    "prior_losses": "losses",
    "prior_realized_pnl": "realized_pnl",
    "prior_commission": "commission",
}


def prior_adding_cte(closed_at: Any) -> Any:
    """PostgreSQL: a close's change (``position_totals``' ``t_`` values) added to the prior
    sums of its bot's open session when the close is dated before that session's start, as
    a data-modifying CTE of the close's own INSERT (``closed_at``: its bind parameter). It
    matches no row for a close dated at or after the start, which is every close dated by
    the clock: no extra round trip either way."""
    return (
        update(_T)
        .where(*_PRIOR_CHANGED, _T.c.started_at > closed_at)
        .values(
            {
                column: _T.c[column] + position_totals.change_param(name)
                for column, name in _PRIOR_SUMS.items()
            }
        )
        .returning(_T.c.session_id)
        .cte("prior")
    )


_SELECT_PRIOR_BEFORE = Prepared(
    select(_T.c.session_id, *_PRIOR).where(
        *_PRIOR_CHANGED, _T.c.started_at > bindparam("closed_at", type_=_T.c.started_at.type)
    ),
    name="trading_sessions.prior_before",
)
_PUT_PRIOR = Prepared(
    update(_T)
    .where(_T.c.session_id == bindparam("session_id", type_=BigInteger()))
    .values({column: bindparam(f"p_{column}", type_=_T.c[column].type) for column in _PRIOR_SUMS}),
    name="trading_sessions.put_prior",
)


def add_prior_sqlite(executor: Executor, change: Mapping[str, Any], closed_at: dt.datetime) -> None:
    """SQLite's half of ``prior_adding_cte``, for a close dated before now: read the open
    session that started after ``closed_at`` (normally none), add the change in Python (the
    sums are exact text) and write them back, under the writer's lock."""
    rows = executor.run(_SELECT_PRIOR_BEFORE, {**change, "closed_at": closed_at}).rows
    for session_id, *sums in rows:
        total = _prior(sums)
        assert total is not None  # selected on prior_trades IS NOT NULL
        total = total + TradeTotals(*(change[f"t_{n}"] for n in TRADE_SUMS))
        executor.run(
            _PUT_PRIOR,
            {
                "session_id": session_id,
                **{f"p_{column}": getattr(total, name) for column, name in _PRIOR_SUMS.items()},
            },
        )


_OPEN_PRIORS = (
    select(_T.c.session_id, _T.c.bot_id, _T.c.started_at, *_PRIOR)
    .where(
        _T.c.bot_id.in_(bindparam("bot_ids", expanding=True)),
        _T.c.ended_at.is_(None),
        _T.c.prior_trades.is_not(None),
    )
    .order_by(_T.c.bot_id)
    .with_for_update()
)


def take_out_prior(
    executor: Executor, rows: list[tuple[str, dt.datetime, Decimal, Decimal]]
) -> None:
    """Retention deletes closed rows (bot_id, closed_at, realized_pnl, commission): take
    the ones closed before an open session's start out of its prior sums, in the delete's
    transaction (the session row locked: a close adding to it waits)."""
    bots = sorted({bot_id for bot_id, *_ in rows})
    if not bots:
        return
    for session_id, bot_id, started_at, *sums in executor.execute(
        _OPEN_PRIORS, {"bot_ids": bots}
    ).all():
        gone = TradeTotals.of_trades(
            (realized, fee)
            for owner, closed_at, realized, fee in rows
            if owner == bot_id and closed_at < started_at
        )
        if gone.trades == 0:
            continue
        total = _prior(sums)
        assert total is not None  # selected on prior_trades IS NOT NULL
        total = total - gone
        executor.run(
            _PUT_PRIOR,
            {
                "session_id": session_id,
                **{f"p_{column}": getattr(total, name) for column, name in _PRIOR_SUMS.items()},
            },
        )


def _record(row: Any) -> SessionRecord:
    return SessionRecord(*row)


def _prior(values: Any) -> TradeTotals | None:
    trades, wins, losses, realized, commission = values
    if trades is None:
        return None
    return TradeTotals(
        trades=trades, wins=wins, losses=losses, realized_pnl=realized, commission=commission
    )


@error_net
class SessionRepository(BotScopedRepository):
    """The trading sessions of one bot. Reads only: ``uow.bots`` opens and ends them."""

    def current(self) -> SessionRecord | None:
        """The open session, or None when the bot is not in one."""
        row = self._db.execute(_CURRENT, {"bot_id": self._bot_id}).one_or_none()
        return None if row is None else _record(row)

    def get(self, session_id: int) -> SessionRecord:
        """The bot's session; ``NotFound`` naming it when the bot has no such session."""
        found = self.find(session_id)
        if found is None:
            raise NotFound("trading session", session_id)
        return found

    def find(self, session_id: int) -> SessionRecord | None:
        key = validation.integer("session_id", session_id, minimum=1, allow_none=False)
        row = self._db.execute(
            select(*_COLUMNS).where(_T.c.bot_id == self._bot_id, _T.c.session_id == key)
        ).one_or_none()
        return None if row is None else _record(row)

    def list(self, *, limit: int | None = None, offset: int = 0) -> Rows[SessionRecord]:
        """The bot's sessions, newest first: its history across restarts."""
        stmt = (
            select(*_COLUMNS)
            .where(_T.c.bot_id == self._bot_id)
            .order_by(_T.c.started_at.desc(), _T.c.session_id.desc())
        )
        stmt = paginate(stmt, limit=limit, offset=offset)
        return Rows(SessionRecord, (_record(row) for row in self._db.execute(stmt)))

    def figures(self, session_id: int) -> SessionFigures:
        """The session's figures computed from its rows: its closed positions closed in
        [started_at, ended_at) and its snapshots taken then (an open session's so far).

        For an ended session these equal the stored figures until closed positions or
        snapshots of its window are pruned; the stored ones then remain what it did.
        """
        session = self.get(session_id)
        return self._compute(session, ending_equity=session.ending_equity)

    # --- used by BotRepository ------------------------------------------------------------

    def _totals(self) -> TradeTotals:
        """The sums over every closed row of the bot, from the running totals (unrounded)."""
        return position_totals.summed(position_totals.read(self._db, self._bot_id))

    def _closed_from(self, at: dt.datetime) -> TradeTotals:
        """The sums over the bot's closed rows closed at or after ``at``."""
        rows = self._db.run(_CLOSED_FROM, {"bot_id": self._bot_id, "at": at}).rows
        return TradeTotals.of_trades((realized, fee) for realized, fee in rows)

    def _current_with_prior(self) -> tuple[SessionRecord, TradeTotals | None] | None:
        """The open session and its prior sums (None: opened before revision 0014)."""
        rows = self._db.run(_CURRENT_WITH_PRIOR, {"bot_id": self._bot_id}).rows
        if not rows:
            return None
        width = len(_COLUMNS)
        return _record(rows[0][:width]), _prior(rows[0][width:])

    def _open(
        self,
        at: dt.datetime,
        *,
        starting_balance: Decimal | None,
        starting_equity: Decimal | None,
        metadata: dict[str, Any] | None,
        notes: str | None,
        before: TradeTotals,
    ) -> SessionRecord:
        """Open a session at ``at``; ``before`` is the sums of the bot's closed rows closed
        before ``at`` (the totals minus ``_closed_from(at)``), stored as its prior sums."""
        values = {
            "v_bot_id": self._bot_id,
            "v_started_at": at,
            "v_starting_balance": starting_balance,
            "v_starting_equity": starting_equity,
            "v_metadata": metadata,
            "v_notes": notes,
            "v_created_at": at,
            "v_updated_at": at,
            "v_prior_trades": before.trades,
            "v_prior_wins": before.wins,
            "v_prior_losses": before.losses,
            "v_prior_realized_pnl": before.realized_pnl,
            "v_prior_commission": before.commission,
        }
        return _record(self._db.run(_INSERT_SESSION, values).rows[0])

    def _close(
        self,
        session: SessionRecord,
        at: dt.datetime,
        *,
        end_reason: str,
        ending_balance: Decimal | None,
        ending_equity: Decimal | None,
        prior: TradeTotals | None,
        before: TradeTotals,
        notes: str | None = None,
    ) -> SessionRecord:
        """End ``session`` at ``at`` with its figures; ``ConflictError`` if another writer
        ended it first (the UPDATE is guarded on ``ended_at IS NULL``).

        ``before`` is the sums of the bot's closed rows closed before ``at`` (the totals minus
        ``_closed_from(at)``) and ``prior`` the session's prior sums: the session's trades are
        the difference. Without prior sums (a session of before revision 0014) they are
        recounted from its rows.
        """
        ended = replace(session, ended_at=at)
        points = self._equity_points(session.started_at, at)
        if ending_equity is None and points:
            ending_equity = points[-1][1]
        trades = None if prior is None else before - prior
        figures = self._compute(ended, ending_equity=ending_equity, points=points, trades=trades)
        values: dict[str, Any] = {
            "session_id": session.session_id,
            "v_ended_at": at,
            "v_end_reason": end_reason,
            "v_ending_balance": ending_balance,
            "v_ending_equity": ending_equity,
            "v_updated_at": at,
            "v_notes": notes,
            **{f"v_{name}": getattr(figures, name) for name in _FIGURES},
        }
        rows = self._db.run(_END_SESSION, values).rows
        if not rows:
            raise ConflictError(
                f"trading session {session.session_id} of bot {self._bot_id!r} was ended "
                "by another writer"
            )
        return _record(rows[0])

    def _compute(
        self,
        session: SessionRecord,
        *,
        ending_equity: Decimal | None,
        points: _Points | None = None,
        trades: TradeTotals | None = None,
    ) -> SessionFigures:
        """The session's figures; its trades' sums are ``trades`` when the caller derived them
        from the running totals, else recounted over its closed rows."""
        if trades is None:
            count, realized, commission, wins, losses = self._recount(session)
        else:
            count, wins, losses = trades.trades, trades.wins, trades.losses
            realized = fit(trades.realized_pnl, self._dialect)
            commission = fit(trades.commission, self._dialect)
        curve: _Points = []
        if session.starting_equity is not None:
            curve.append((session.started_at, session.starting_equity))
        if points is None:
            points = self._equity_points(session.started_at, session.ended_at)
        curve += points
        if ending_equity is not None and session.ended_at is not None:
            curve.append((session.ended_at, ending_equity))
        falls = drawdown([(at.date(), equity) for at, equity in curve])
        return SessionFigures(
            session_id=session.session_id,
            total_trades=count,
            winning_trades=wins,
            losing_trades=losses,
            win_rate=wins / count if count else None,
            total_pnl=realized,
            total_commission=commission,
            max_drawdown=None if falls is None else falls.max_drawdown,
            max_drawdown_pct=None if falls is None else falls.max_drawdown_pct,
        )

    def _recount(self, session: SessionRecord) -> tuple[int, Decimal, Decimal, int, int]:
        """Trades, P&L, commission, wins and losses counted over the session's closed rows."""
        criteria = closed_criteria(
            bot_id=self._bot_id, since=session.started_at, until=session.ended_at
        )
        wins, losses, count = self._db.execute(
            select(
                func.count(case((_C.c.realized_pnl > 0, 1))),
                func.count(case((_C.c.realized_pnl < 0, 1))),
                func.count(),
            ).where(*criteria)
        ).one()
        realized, commission = exact_sums(
            self._db, self._dialect, (_C.c.realized_pnl, _C.c.commission), *criteria
        )
        return count, realized, commission, wins, losses

    def _equity_points(self, start: dt.datetime, end: dt.datetime | None) -> _Points:
        """Every snapshot's equity in [start, end), daily and intraday, oldest first (a daily
        and an intraday snapshot of one instant: the daily one first)."""
        params = {"bot_id": self._bot_id, "start": start}
        if end is None:
            return list(self._db.run(_EQUITY_SINCE, params).rows)
        return list(self._db.run(_EQUITY_BETWEEN, {**params, "end": end}).rows)


def _equity_points_statement(*, bounded: bool) -> Any:
    parts = []
    for rank, table in enumerate((_P, _I)):
        at = table.c.snapshot_time
        part = select(
            at.label("at"),
            table.c.total_equity.label("equity"),
            literal_column(str(rank)).label("rank"),
        ).where(table.c.bot_id == bindparam("bot_id"), at >= bindparam("start", type_=at.type))
        if bounded:
            part = part.where(at < bindparam("end", type_=at.type))
        parts.append(part)
    both = union_all(*parts).subquery()
    return select(both.c.at, both.c.equity).order_by(both.c.at, both.c.rank)


_EQUITY_SINCE = Prepared(_equity_points_statement(bounded=False), name="sessions.equity_since")
_EQUITY_BETWEEN = Prepared(_equity_points_statement(bounded=True), name="sessions.equity_between")
