"""The read side: every view and common query of the source schema as a typed Python call.

``uow.analytics`` is an ``Analytics`` bound to the unit of work's session and bot::

    with db.unit_of_work(bot_id="alpha") as uow:
        uow.analytics.win_rate()                      # alpha's closed trades
        uow.analytics.daily_summary(days=7).to_dataframe()
    with db.unit_of_work() as uow:                    # no bot: every bot's rows
        uow.analytics.active_positions()              # rows carry bot_id
        uow.analytics.agent_leaderboard(limit=10)     # training is shared anyway

Methods return ``Rows`` of frozen dataclasses (``.to_dataframe()`` with pandas installed) or a
single value. The same answers are in SQL for psql, sqlite3 and Grafana users: the views and
PostgreSQL functions that revision 0004 creates (docs/reference/queries.md maps each method to
its view or query). Queries live in one module per domain: ``positions``, ``orders``,
``portfolio``, ``training``; this class validates arguments and delegates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tradestore.analytics import orders, portfolio, positions, training
from tradestore.analytics.orders import (
    DailyFillRate,
    DailySummary,
    OrderFillStats,
    PaperRecentOrder,
    RecentOrder,
    SlippageByOrderType,
    SlippageStats,
    SymbolFillRate,
)
from tradestore.analytics.portfolio import (
    EquityPoint,
    IntradayEquityPoint,
    PerformancePoint,
    PerformanceSummary,
    RiskSnapshot,
    SymbolPnl,
    instant_window,
    snapshot_kinds,
)
from tradestore.analytics.positions import (
    ActivePosition,
    BestPerformer,
    ClosedTrade,
    ExitReasonHolding,
    PositionSummary,
)
from tradestore.analytics.report import (
    DEFAULT_REWARD_WINDOW,
    DEFAULT_ROLLING_WINDOW,
    PerformanceReport,
    RunHistory,
    build_report,
    returns_series,
)
from tradestore.analytics.training import (
    ActiveEnsembleMember,
    AlgorithmComparison,
    EnsembleWeightChange,
    HyperparameterGroup,
    HyperparameterResult,
    HyperparameterScore,
    LeaderboardEntry,
    RunWithHyperparameters,
    TrainingSummary,
)
from tradestore.db.executor import Executor
from tradestore.db.net import error_net
from tradestore.db.results import Rows
from tradestore.domain.enums import Algorithm, EvaluationType, RunStatus, SnapshotKind
from tradestore.domain.metrics import TradeStatistics
from tradestore.domain.validation import day, instant, integer, optional_text, required_text, room
from tradestore.errors import ValidationError
from tradestore.models import ALL_STRATEGIES

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ActiveEnsembleMember",
    "ActivePosition",
    "AlgorithmComparison",
    "Analytics",
    "BestPerformer",
    "ClosedTrade",
    "DailyFillRate",
    "DailySummary",
    "EnsembleWeightChange",
    "EquityPoint",
    "ExitReasonHolding",
    "HyperparameterGroup",
    "HyperparameterResult",
    "HyperparameterScore",
    "IntradayEquityPoint",
    "LeaderboardEntry",
    "OrderFillStats",
    "PaperRecentOrder",
    "PerformancePoint",
    "PerformanceReport",
    "PerformanceSummary",
    "PositionSummary",
    "RecentOrder",
    "RiskSnapshot",
    "Rows",
    "RunWithHyperparameters",
    "SlippageByOrderType",
    "SlippageStats",
    "SymbolFillRate",
    "SymbolPnl",
    "TradeStatistics",
    "TrainingSummary",
]

#: The views keep at most this many rows per bot ("the last 100").
RECENT_LIMIT = 100
MAX_LIMIT = 100_000
MAX_DAYS = 36_600


def _limit(value: int, *, maximum: int = MAX_LIMIT) -> int:
    result = integer("limit", value, minimum=1, maximum=maximum, allow_none=False)
    assert result is not None
    return result


def _days(value: int) -> int:
    result = integer("days", value, minimum=0, maximum=MAX_DAYS, allow_none=False)
    assert result is not None
    return result


def _now(value: dt.datetime | None, db: Executor) -> dt.datetime:
    """A caller's ``now``, validated; else the unit of work's clock (``Database(clock=...)``),
    the clock every timestamp the library writes comes from."""
    if value is None:
        return db.now()
    result = instant("now", value)
    assert result is not None
    return room("now", result, days_before=MAX_DAYS + 1)


@error_net
class Analytics:
    """Read-only queries over one session, scoped to ``bot_id`` or to every bot when None.

    Trading results (positions, orders, snapshots, metrics) are the bot's; training results
    are shared by all bots and ignore ``bot_id``. Nothing here writes or commits.

    Every answer that depends on the current time takes ``now=``; without it, now is the
    unit of work's clock (``Database(clock=...)``, the host's UTC clock by default), the one
    every timestamp the library writes comes from, never the database server's. Windows
    ("last 7 days") are measured back from now *and* end at it: rows stamped after it are a
    backtest's future and are left out. The views with a window (``v_paper_recent_orders``,
    ``v_performance_summary``, ``v_position_summary``'s ``hours_held``) are measured by the
    database's clock and take no parameter, so these calls read the same columns from the
    tables with the window as bound values.

    The whole-portfolio metrics row is ``strategy='all'`` (``models.ALL_STRATEGIES``)
    everywhere: it is what the table stores and what SQL against the views filters on.
    """

    def __init__(
        self,
        db: Executor | Session | Connection,
        *,
        bot_id: str | None = None,
        training: RunHistory | None = None,
    ) -> None:
        self._db = Executor.of(db)
        self.bot_id = None if bot_id is None else required_text("bot_id", bot_id)
        #: Reads training runs for ``report`` (the unit of work passes its repository).
        self._training = training

    # --- positions ----------------------------------------------------------------------

    def position_summary(self, *, now: dt.datetime | None = None) -> Rows[PositionSummary]:
        """v_position_summary: open positions with calculated fields (``hours_held`` to
        ``now``)."""
        return positions.position_summary(self._db, bot_id=self.bot_id, now=_now(now, self._db))

    def recent_closed_trades(self, *, limit: int = RECENT_LIMIT) -> Rows[ClosedTrade]:
        """v_recent_closed_trades: the last closed trades with WIN/LOSS/BREAKEVEN."""
        return positions.recent_closed_trades(
            self._db, bot_id=self.bot_id, limit=_limit(limit, maximum=RECENT_LIMIT)
        )

    def active_positions(self) -> Rows[ActivePosition]:
        """v_paper_active_positions: open positions with P&L, largest total P&L first."""
        return positions.active_positions(self._db, bot_id=self.bot_id)

    def total_unrealized_pnl(self) -> Decimal:
        """Total unrealized P&L of open positions."""
        return positions.total_unrealized_pnl(self._db, bot_id=self.bot_id)

    def total_pnl(self) -> Decimal:
        """The SQL function get_paper_total_pnl(): realized plus unrealized P&L."""
        return positions.total_pnl(self._db, bot_id=self.bot_id)

    def win_rate(self) -> float | None:
        """Share of closed trades with a positive realized P&L."""
        return positions.win_rate(self._db, bot_id=self.bot_id)

    def holding_period_by_exit_reason(self) -> Rows[ExitReasonHolding]:
        """Average holding period by exit reason."""
        return positions.holding_period_by_exit_reason(self._db, bot_id=self.bot_id)

    def best_performers(self, *, limit: int = 10) -> Rows[BestPerformer]:
        """Closed trades with the largest realized P&L."""
        return positions.best_performers(self._db, bot_id=self.bot_id, limit=_limit(limit))

    def trade_statistics(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        strategy: str | None = None,
    ) -> TradeStatistics:
        """Trade count, win rate, average and largest win and loss, profit factor and
        expectancy of the trades closed in [since, until) (whole history by default), of one
        strategy or all. The computation behind the stored ``*_30d`` metrics, over any span.
        """
        return positions.trade_statistics(
            self._db, bot_id=self.bot_id, strategy=strategy, since=since, until=until
        )

    # --- orders and fills ------------------------------------------------------------------

    def recent_orders(self, *, limit: int = RECENT_LIMIT) -> Rows[RecentOrder]:
        """v_recent_orders: the last orders with formatted timestamps."""
        return orders.recent_orders(
            self._db, bot_id=self.bot_id, limit=_limit(limit, maximum=RECENT_LIMIT)
        )

    def order_fill_stats(self, *, order_id: str | None = None) -> Rows[OrderFillStats]:
        """v_order_fill_stats: fills per order, VWAP, best and worst fill price."""
        return orders.order_fill_stats(
            self._db,
            bot_id=self.bot_id,
            order_id=optional_text("order_id", order_id, max_length=64),
        )

    def orders_last_24h(self, *, now: dt.datetime | None = None) -> Rows[PaperRecentOrder]:
        """v_paper_recent_orders: orders submitted in the 24 hours before ``now``."""
        return orders.orders_last_24h(self._db, bot_id=self.bot_id, now=_now(now, self._db))

    def daily_summary(self, *, days: int = 7, now: dt.datetime | None = None) -> Rows[DailySummary]:
        """v_paper_daily_summary for today and the ``days`` days before."""
        return orders.daily_summary(
            self._db,
            bot_id=self.bot_id,
            days=_days(days),
            now=_now(now, self._db),
            as_of=True,
        )

    def daily_fill_rate(
        self, *, days: int | None = None, now: dt.datetime | None = None
    ) -> Rows[DailyFillRate]:
        """Orders, filled orders and fill rate per day (all history by default)."""
        return orders.daily_fill_rate(
            self._db,
            bot_id=self.bot_id,
            days=None if days is None else _days(days),
            now=_now(now, self._db),
            as_of=True,
        )

    def slippage_by_order_type(self) -> Rows[SlippageByOrderType]:
        """Average slippage by order type."""
        return orders.slippage_by_order_type(self._db, bot_id=self.bot_id)

    def fill_rate(
        self, ticker: str, *, days: int = 7, now: dt.datetime | None = None
    ) -> float | None:
        """The SQL function get_paper_fill_rate(symbol, days): filled / submitted orders."""
        return orders.fill_rate(
            self._db,
            bot_id=self.bot_id,
            ticker=required_text("ticker", ticker, max_length=32),
            days=_days(days),
            now=_now(now, self._db),
            as_of=True,
        )

    def fill_rate_by_symbol(self, *, now: dt.datetime | None = None) -> Rows[SymbolFillRate]:
        """7- and 30-day fill rate of every ticker."""
        return orders.fill_rate_by_symbol(
            self._db, bot_id=self.bot_id, now=_now(now, self._db), as_of=True
        )

    def slippage_analysis(
        self, *, days: int = 7, now: dt.datetime | None = None
    ) -> Rows[SlippageStats]:
        """Average, median and maximum slippage per ticker of recent fills."""
        return orders.slippage_analysis(
            self._db,
            bot_id=self.bot_id,
            days=_days(days),
            now=_now(now, self._db),
            as_of=True,
        )

    # --- portfolio ---------------------------------------------------------------------------

    def equity_curve(
        self, *, start: dt.date | None = None, end: dt.date | None = None
    ) -> Rows[EquityPoint]:
        """v_equity_curve: portfolio value per day."""
        return portfolio.equity_curve(
            self._db, bot_id=self.bot_id, start=day("start", start), end=day("end", end)
        )

    def intraday_equity_curve(
        self,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        kind: SnapshotKind | str | Iterable[SnapshotKind | str] | None = None,
    ) -> Rows[IntradayEquityPoint]:
        """Hourly, intraday and manual snapshots taken in [start, end), oldest first (every
        kind unless ``kind`` names one or several): the equity curve within days, which the
        daily ``equity_curve`` cannot show."""
        first, last = instant_window(start, end)
        return portfolio.intraday_equity_curve(
            self._db,
            bot_id=self.bot_id,
            start=first,
            end=last,
            kinds=snapshot_kinds("kind", kind),
        )

    def symbol_pnl(
        self,
        *,
        ticker: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        kind: SnapshotKind | str | Iterable[SnapshotKind | str] | None = None,
    ) -> Rows[SymbolPnl]:
        """The per-symbol P&L lines of the intraday snapshots taken in [start, end), oldest
        first: one symbol's P&L through the day with ``ticker``, every symbol's without."""
        first, last = instant_window(start, end)
        return portfolio.symbol_pnl(
            self._db,
            bot_id=self.bot_id,
            ticker=optional_text("ticker", ticker, max_length=32),
            start=first,
            end=last,
            kinds=snapshot_kinds("kind", kind),
        )

    def performance_summary(
        self, *, strategy: str | None = None, now: dt.datetime | None = None
    ) -> Rows[PerformanceSummary]:
        """v_performance_summary: the 30 days of performance metrics up to ``now``, every
        strategy's rows unless ``strategy`` names one (``'all'``: the portfolio row)."""
        return portfolio.performance_summary(
            self._db,
            bot_id=self.bot_id,
            strategy=optional_text("strategy", strategy, max_length=100),
            now=_now(now, self._db),
        )

    def current_risk(
        self, *, strategy: str = ALL_STRATEGIES, now: dt.datetime | None = None
    ) -> Rows[RiskSnapshot]:
        """Current Sharpe ratio and drawdown (one row per bot), the newest on or
        before ``now``'s date."""
        return portfolio.current_risk(
            self._db,
            bot_id=self.bot_id,
            strategy=required_text("strategy", strategy, max_length=100),
            now=_now(now, self._db),
        )

    def performance_over_time(
        self, *, days: int = 30, now: dt.datetime | None = None
    ) -> Rows[PerformancePoint]:
        """Daily P&L, win rate and trades over the last ``days`` days."""
        return portfolio.performance_over_time(
            self._db,
            bot_id=self.bot_id,
            days=_days(days),
            now=_now(now, self._db),
            as_of=True,
        )

    def returns(self, *, start: dt.date | None = None, end: dt.date | None = None) -> pandas.Series:
        """The bot's daily returns as a pandas Series, for quantstats, empyrical and friends.

        The series the metrics are computed from (``domain.metrics.simple_returns``):
        r_t = E_t / E_(t-1) - 1 between consecutive snapshots, as fractions, on a
        DatetimeIndex of the snapshot dates (the later one of each pair). Needs the
        ``pandas`` extra; ``start``/``end`` select snapshots (inclusive).
        """
        return returns_series(
            self._db, self._one_bot("returns"), start=day("start", start), end=day("end", end)
        )

    def report(
        self,
        *,
        runs: Sequence[str] = (),
        rolling_window: int = DEFAULT_ROLLING_WINDOW,
        reward_window: int = DEFAULT_REWARD_WINDOW,
        now: dt.datetime | None = None,
    ) -> PerformanceReport:
        """The bot's performance report: one self-contained HTML page (``.write(path)``).

        Equity curve with drawdown, monthly returns, rolling Sharpe ratio over
        ``rolling_window`` returns, trade P&L distribution, whole-history metrics, and the
        reward curves of the training ``runs`` named (training is shared by every bot, so
        the caller says which runs belong in this bot's report). Needs the ``plots`` extra
        (matplotlib); ``MissingDependency`` says so otherwise. See docs/guide/report.md.
        """
        bot_id = self._one_bot("report")
        if isinstance(runs, str | bytes) or not isinstance(runs, Iterable):
            raise ValidationError("runs", runs, "expected a list of run ids")
        run_ids = [required_text("runs", run_id, max_length=64) for run_id in runs]
        window = integer(
            "rolling_window", rolling_window, minimum=2, maximum=MAX_DAYS, allow_none=False
        )
        reward = integer(
            "reward_window", reward_window, minimum=1, maximum=1_000_000, allow_none=False
        )
        assert window is not None  # allow_none=False
        assert reward is not None
        return build_report(
            self._db,
            bot_id,
            runs=run_ids,
            rolling_window=window,
            reward_window=reward,
            now=_now(now, self._db),
            training=self._training,
        )

    def _one_bot(self, call: str) -> str:
        if self.bot_id is None:
            raise ValidationError(
                "bot_id", None, f"{call}() is about one bot: open the unit of work with bot_id="
            )
        return self.bot_id

    # --- training (shared by every bot) ---------------------------------------------------

    def agent_leaderboard(
        self,
        *,
        limit: int = 10,
        evaluation_type: EvaluationType | str | None = EvaluationType.VALIDATION,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = RunStatus.COMPLETED,
        latest_only: bool = True,
        by: str = "sharpe_ratio",
        ascending: bool = False,
    ) -> Rows[LeaderboardEntry]:
        """The best agents: completed runs ranked by their latest validation evaluation's
        Sharpe ratio, one row per run (``analytics.training.agent_leaderboard``, the same
        call).

        ``by`` ranks by any other evaluation metric or by a figure of the run itself
        (``final_reward``, ``best_reward``); ``ascending=True`` puts the lowest first.
        ``evaluation_type=None, latest_only=False`` ranks every evaluation of every type:
        the rows of ``v_agent_leaderboard``.
        """
        return training.agent_leaderboard(
            self._db,
            limit=limit,
            evaluation_type=evaluation_type,
            algorithm=algorithm,
            status=status,
            latest_only=latest_only,
            by=by,
            ascending=ascending,
        )

    def runs_with_hyperparameters(
        self,
        *,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = None,
        model_name: str | None = None,
        started_after: dt.datetime | None = None,
        started_before: dt.datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Rows[RunWithHyperparameters]:
        """Every run, newest first, with the complete dict of its hyperparameters: one
        statement however many runs (Optuna's ``get_trials()``, MLflow's ``search_runs``)."""
        return training.runs_with_hyperparameters(
            self._db,
            algorithm=algorithm,
            status=status,
            model_name=model_name,
            started_after=started_after,
            started_before=started_before,
            limit=limit,
            offset=offset,
        )

    def runs_by_hyperparameter(
        self,
        key: str,
        *,
        by: str = "final_reward",
        evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = RunStatus.COMPLETED,
        ascending: bool = False,
    ) -> Rows[HyperparameterGroup]:
        """Completed runs grouped by the value of any hyperparameter ``key``, with the
        average, minimum and maximum of ``by`` per value (a run figure, or an evaluation
        metric of each run's latest evaluation of ``evaluation_type``), best average first."""
        return training.runs_by_hyperparameter(
            self._db,
            key,
            by=by,
            evaluation_type=evaluation_type,
            algorithm=algorithm,
            status=status,
            ascending=ascending,
        )

    best_agents = agent_leaderboard

    def current_ensemble(self, *, ensemble_id: str | None = None) -> Rows[ActiveEnsembleMember]:
        """v_current_ensemble: active ensemble composition."""
        return training.current_ensembles(
            self._db, ensemble_id=optional_text("ensemble_id", ensemble_id, max_length=100)
        )

    def training_summary(
        self,
        *,
        algorithm: Algorithm | str | None = None,
        status: RunStatus | str | None = None,
    ) -> Rows[TrainingSummary]:
        """v_training_summary: every run with duration, performance (latest validation, else
        latest evaluation) and learning rate, newest first."""
        return training.training_summary(
            self._db,
            evaluation_type=None,
            algorithm=algorithm,
            status=status,
            limit=None,
        )

    def hyperparameter_results(
        self,
        *,
        limit: int = 10,
        algorithm: Algorithm | str | None = None,
        evaluation_type: EvaluationType | str | None = None,
    ) -> Rows[HyperparameterResult]:
        """v_hyperparameter_results: hyperparameters with their evaluations."""
        return training.hyperparameter_results(
            self._db,
            limit=_limit(limit),
            algorithm=algorithm,
            evaluation_type=evaluation_type,
        )

    def algorithm_comparison(
        self, *, evaluation_type: EvaluationType | str = EvaluationType.VALIDATION
    ) -> Rows[AlgorithmComparison]:
        """Compare algorithms by Sharpe ratio over completed runs.

        ``evaluations`` is the source query's ``runs`` column (COUNT(*) over the joined
        evaluations);
        ``runs`` counts distinct runs.
        """
        return training.algorithm_comparison(self._db, evaluation_type=evaluation_type)

    def best_hyperparameters(
        self,
        *,
        algorithm: Algorithm | str = Algorithm.PPO,
        evaluation_type: EvaluationType | str = EvaluationType.VALIDATION,
        limit: int = 5,
    ) -> Rows[HyperparameterScore]:
        """Best hyperparameters for an algorithm (PPO by default); ``average`` is
        the source query's ``avg_sharpe``."""
        return training.best_hyperparameters(
            self._db, algorithm, evaluation_type=evaluation_type, limit=_limit(limit)
        )

    def ensemble_weight_history(
        self, *, ensemble_id: str = "production", limit: int = 20
    ) -> Rows[EnsembleWeightChange]:
        """An ensemble's weight history, newest first."""
        return training.ensemble_weight_history(
            self._db, ensemble_id=ensemble_id, limit=_limit(limit)
        )


def __getattr__(name: str) -> Any:
    """Deprecated names, still importable with a DeprecationWarning (``analytics.training``
    keeps the list)."""
    try:
        return training.__getattr__(name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
