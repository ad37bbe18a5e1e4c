"""Running totals of closed trades: what a sum over every closed row would give, kept as a sum.

A restarting or reporting bot asks for its realized P&L, commissions and trade counts; summed
over the closed rows, that costs a row per trade ever made. The totals are kept instead, per
(bot, ticker, strategy), and changed by the same transaction that writes or deletes a closed
row: adding a trade's contribution on close, subtracting it when retention prunes the row.
Integer counts and exact Decimal sums make both directions exact, so the totals always equal a
recomputation over the rows that remain. Pure Python: ``repositories.position_totals`` stores
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final

from tradestore.domain.money import MONEY_CONTEXT

_ZERO: Final = Decimal(0)
#: The fields of ``TradeTotals``, in order.
TRADE_SUMS: Final = (
    "trades",
    "wins",
    "losses",
    "realized_pnl",
    "commission",
    "gross_profit",
    "gross_loss",
)


@dataclass(frozen=True, slots=True)
class TradeTotals:
    """Counts and exact sums over a set of closed trades (closed rows: a partial close is a
    trade of its own, as ``win_rate`` counts it).

    A win is a row with realized_pnl > 0, a loss one with realized_pnl < 0 (breakevens are
    ``trades - wins - losses``). ``gross_profit`` sums the wins' P&L, ``gross_loss`` the
    losses' (negative or zero), so ``realized_pnl == gross_profit + gross_loss``.
    """

    trades: int = 0
    wins: int = 0
    losses: int = 0
    realized_pnl: Decimal = _ZERO
    commission: Decimal = _ZERO
    gross_profit: Decimal = _ZERO
    gross_loss: Decimal = _ZERO

    @classmethod
    def of_trade(cls, realized_pnl: Decimal, commission: Decimal) -> TradeTotals:
        """One closed row's contribution."""
        win = realized_pnl > 0
        loss = realized_pnl < 0
        return cls(
            trades=1,
            wins=int(win),
            losses=int(loss),
            realized_pnl=realized_pnl,
            commission=commission,
            gross_profit=realized_pnl if win else _ZERO,
            gross_loss=realized_pnl if loss else _ZERO,
        )

    @classmethod
    def of_trades(cls, trades: Iterable[tuple[Decimal, Decimal]]) -> TradeTotals:
        """The totals of (realized_pnl, commission) pairs: the recomputation the kept totals
        must equal."""
        total = cls()
        for realized, commission in trades:
            total = total + cls.of_trade(realized, commission)
        return total

    def __add__(self, other: TradeTotals) -> TradeTotals:
        with localcontext(MONEY_CONTEXT):
            return TradeTotals(
                trades=self.trades + other.trades,
                wins=self.wins + other.wins,
                losses=self.losses + other.losses,
                realized_pnl=self.realized_pnl + other.realized_pnl,
                commission=self.commission + other.commission,
                gross_profit=self.gross_profit + other.gross_profit,
                gross_loss=self.gross_loss + other.gross_loss,
            )

    def __neg__(self) -> TradeTotals:
        return TradeTotals(
            trades=-self.trades,
            wins=-self.wins,
            losses=-self.losses,
            realized_pnl=-self.realized_pnl,
            commission=-self.commission,
            gross_profit=-self.gross_profit,
            gross_loss=-self.gross_loss,
        )

    def __sub__(self, other: TradeTotals) -> TradeTotals:
        return self + -other

    @property
    def breakevens(self) -> int:
        return self.trades - self.wins - self.losses

    @property
    def win_rate(self) -> float | None:
        """wins / trades, None without trades (``positions.win_rate``'s rule)."""
        return self.wins / self.trades if self.trades else None
