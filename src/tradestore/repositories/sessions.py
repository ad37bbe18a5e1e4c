"""Trading sessions of one bot: each run from its start to its stop, with its own figures.

A bot has many sessions; at most one is open (``ended_at`` NULL). ``BotRepository`` opens
and ends them (``start_session``, ``end_session``, ``set_status``, ``recover``), with the
bot's row locked first so two starts of one bot cannot both find no open session; this
repository reads them and computes a session's figures.

A session's window is [started_at, ended_at), open-ended while the session runs, like every
other window the library reads: a position closed at the instant a session ends belongs to
the next one, and no closed position counts in two sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, literal_column, null, select, union_all, update

from tradestore.analytics.positions import closed_criteria
from tradestore.db.money_sums import exact_sums
from tradestore.db.net import error_net
from tradestore.db.results import Rows, paginate
from tradestore.domain import validation
from tradestore.domain.metrics import drawdown
from tradestore.errors import ConflictError, NotFound
from tradestore.models.base import table_of
from tradestore.models.bots import TradingSession
from tradestore.models.positions import ClosedPosition
from tradestore.models.trading import IntradaySnapshot, PortfolioSnapshot
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

_CURRENT = (
    select(*_COLUMNS)
    .where(_T.c.bot_id == bindparam("bot_id"), _T.c.ended_at.is_(None))
    .order_by(_T.c.started_at.desc(), _T.c.session_id.desc())
    .limit(1)
)


def _record(row: Any) -> SessionRecord:
    return SessionRecord(*row)


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

    def _open(
        self,
        at: dt.datetime,
        *,
        starting_balance: Decimal | None,
        starting_equity: Decimal | None,
        metadata: dict[str, Any] | None,
        notes: str | None,
    ) -> SessionRecord:
        row = self._db.execute(
            _T.insert()
            .values(
                bot_id=self._bot_id,
                started_at=at,
                starting_balance=starting_balance,
                starting_equity=starting_equity,
                metadata=null() if metadata is None else metadata,
                notes=notes,
                created_at=at,
                updated_at=at,
            )
            .returning(*_COLUMNS)
        ).one()
        return _record(row)

    def _close(
        self,
        session: SessionRecord,
        at: dt.datetime,
        *,
        end_reason: str,
        ending_balance: Decimal | None,
        ending_equity: Decimal | None,
        notes: str | None = None,
    ) -> SessionRecord:
        """End ``session`` at ``at`` with its figures; ``ConflictError`` if another writer
        ended it first (the UPDATE is guarded on ``ended_at IS NULL``)."""
        ended = replace(session, ended_at=at)
        points = self._equity_points(session.started_at, at)
        if ending_equity is None and points:
            ending_equity = points[-1][1]
        figures = self._compute(ended, ending_equity=ending_equity, points=points)
        values: dict[str, Any] = {
            "ended_at": at,
            "end_reason": end_reason,
            "ending_balance": ending_balance,
            "ending_equity": ending_equity,
            "updated_at": at,
            **{name: getattr(figures, name) for name in _FIGURES},
        }
        if notes is not None:
            values["notes"] = notes
        row = self._db.execute(
            update(_T)
            .where(_T.c.session_id == session.session_id, _T.c.ended_at.is_(None))
            .values(values)
            .returning(*_COLUMNS)
        ).one_or_none()
        if row is None:
            raise ConflictError(
                f"trading session {session.session_id} of bot {self._bot_id!r} was ended "
                "by another writer"
            )
        return _record(row)

    def _compute(
        self,
        session: SessionRecord,
        *,
        ending_equity: Decimal | None,
        points: _Points | None = None,
    ) -> SessionFigures:
        criteria = closed_criteria(
            bot_id=self._bot_id, since=session.started_at, until=session.ended_at
        )
        wins, losses, trades = self._db.execute(
            select(
                func.count(case((_C.c.realized_pnl > 0, 1))),
                func.count(case((_C.c.realized_pnl < 0, 1))),
                func.count(),
            ).where(*criteria)
        ).one()
        realized, commission = exact_sums(
            self._db, self._dialect, (_C.c.realized_pnl, _C.c.commission), *criteria
        )
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
            total_trades=trades,
            winning_trades=wins,
            losing_trades=losses,
            win_rate=wins / trades if trades else None,
            total_pnl=realized,
            total_commission=commission,
            max_drawdown=None if falls is None else falls.max_drawdown,
            max_drawdown_pct=None if falls is None else falls.max_drawdown_pct,
        )

    def _equity_points(self, start: dt.datetime, end: dt.datetime | None) -> _Points:
        """Every snapshot's equity in [start, end), daily and intraday, oldest first (a daily
        and an intraday snapshot of one instant: the daily one first)."""
        parts = []
        for rank, table in enumerate((_P, _I)):
            part = select(
                table.c.snapshot_time.label("at"),
                table.c.total_equity.label("equity"),
                literal_column(str(rank)).label("rank"),
            ).where(table.c.bot_id == self._bot_id, table.c.snapshot_time >= start)
            if end is not None:
                part = part.where(table.c.snapshot_time < end)
            parts.append(part)
        both = union_all(*parts).subquery()
        rows = self._db.execute(select(both.c.at, both.c.equity).order_by(both.c.at, both.c.rank))
        return [(at, equity) for at, equity in rows]
