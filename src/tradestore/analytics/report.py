"""A bot's performance report: one self-contained HTML page, and its returns as a Series.

The figures come from the existing read side: the equity curve (``v_equity_curve``), the
metric formulas of ``domain.metrics`` over the whole history (the same functions
``uow.metrics.compute`` stores), the closed trades' realized P&L and the training runs'
reward curves (``TrainingRepository.reward_curve``). Nothing is written to the database.

The page needs no network to open: styles are inline and every chart is a PNG embedded as a
``data:`` URI (drawn by ``analytics.charts``; matplotlib is the ``plots`` extra).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from tradestore.analytics import charts, portfolio
from tradestore.analytics.charts import Chart
from tradestore.db.executor import Executor
from tradestore.domain import metrics
from tradestore.errors import BotNotFound, MissingDependency, ValidationError
from tradestore.models import Bot, ClosedPosition

if TYPE_CHECKING:
    import pandas

#: Returns in the rolling Sharpe ratio's window: a quarter of trading days.
DEFAULT_ROLLING_WINDOW = 63
#: Episodes in a reward curve's moving average.
DEFAULT_REWARD_WINDOW = 100
#: A reward curve is thinned (every k-th episode) to at most this many points.
MAX_CURVE_POINTS = 2_000

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """The rendered report: the page, and its charts (for a caller that embeds them itself)."""

    bot_id: str
    html: str
    charts: tuple[Chart, ...] = field(default=())

    def write(self, path: str | Path) -> Path:
        """Write the page (UTF-8), creating the parent directory; returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html, encoding="utf-8")
        return target


# --- data ------------------------------------------------------------------------------------


def equity_points(session: Executor, bot_id: str) -> list[metrics.DatedEquity]:
    """The bot's (snapshot date, total equity) curve, oldest first."""
    return [
        (point.snapshot_date, point.total_equity)
        for point in portfolio.equity_curve(session, bot_id=bot_id)
    ]


def daily_returns(
    session: Executor,
    bot_id: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[tuple[dt.date, float]]:
    """Simple returns between consecutive snapshots, the series every metric is computed from.

    ``start``/``end`` select snapshots (inclusive), so the first return is the one *after*
    the first snapshot on or after ``start``. Empty when a return would be relative to zero
    or negative equity (the metrics are undefined then too).
    """
    points = [
        (p.snapshot_date, p.total_equity)
        for p in portfolio.equity_curve(session, bot_id=bot_id, start=start, end=end)
    ]
    return metrics.dated_returns(points) or []


def returns_series(
    session: Executor,
    bot_id: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pandas.Series:
    """``daily_returns`` as a float Series on a DatetimeIndex (quantstats' and empyrical's
    input: fractions, 0.01 = 1 %)."""
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependency("Analytics.returns()", "pandas", "pandas") from None
    returns = daily_returns(session, bot_id, start=start, end=end)
    index = pd.DatetimeIndex([pd.Timestamp(day) for day, _ in returns], name="date")
    return pd.Series([r for _, r in returns], index=index, name=bot_id, dtype="float64")


def _require_bot(session: Executor, bot_id: str) -> Decimal | None:
    row = session.execute(select(Bot.starting_balance).where(Bot.bot_id == bot_id)).one_or_none()
    if row is None:
        raise BotNotFound("bot", bot_id)
    balance: Decimal | None = row[0]
    return balance


def _trade_pnls(session: Executor, bot_id: str) -> list[Decimal]:
    return list(
        session.execute(
            select(ClosedPosition.realized_pnl)
            .where(ClosedPosition.bot_id == bot_id)
            .order_by(ClosedPosition.closed_at)
        ).scalars()
    )


# --- the report ------------------------------------------------------------------------------


class RunHistory(Protocol):
    """What the report reads of a training run (``TrainingRepository`` is one)."""

    def get(self, run_id: str) -> Any: ...

    def episode_count(self, run_id: str) -> int: ...

    def reward_curve(self, run_id: str, *, window: int, every: int) -> Any: ...


def build_report(
    session: Executor,
    bot_id: str,
    *,
    runs: Sequence[str] = (),
    rolling_window: int = DEFAULT_ROLLING_WINDOW,
    reward_window: int = DEFAULT_REWARD_WINDOW,
    now: dt.datetime,
    training: RunHistory | None = None,
) -> PerformanceReport:
    """Gather the bot's history and render the page (arguments validated by the caller).

    ``training`` reads the ``runs``: the unit of work's training repository, handed down by
    whoever holds it (the read side does not build repositories).
    """
    charts.require_matplotlib()
    if runs and training is None:
        raise ValidationError(
            "runs",
            list(runs),
            "reward curves need the unit of work's training repository: use uow.analytics.report",
        )
    starting_balance = _require_bot(session, bot_id)
    points = equity_points(session, bot_id)
    pnls = _trade_pnls(session, bot_id)
    run_views = []
    for run_id in runs:
        assert training is not None
        run = training.get(run_id)
        count = training.episode_count(run_id)
        every = max(1, -(-count // MAX_CURVE_POINTS))
        run_views.append((run, training.reward_curve(run_id, window=reward_window, every=every)))

    sections: list[str] = []
    rendered: list[Chart] = []

    def add_chart(chart: Chart, caption: str) -> None:
        rendered.append(chart)
        data = base64.b64encode(chart.png).decode("ascii")
        sections.append(
            f'<figure id="{chart.name}"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(chart.title)}"><figcaption>{html.escape(caption)}'
            "</figcaption></figure>"
        )

    values: metrics.MetricValues | None = None
    if points:
        values = metrics.compute_metrics(
            points, pnls, as_of=points[-1][0], inception_equity=starting_balance
        )
    stats = metrics.trade_statistics(pnls)
    sections.append(_metrics_table(points, values, stats, pnls))

    sections.append("<h2>Equity and drawdown</h2>")
    if len(points) >= 2:
        add_chart(
            charts.equity_and_drawdown(
                [(day, float(equity)) for day, equity in points], metrics.underwater(points)
            ),
            "Total equity at each daily snapshot; below it, the percentage below the running "
            "peak (0 at a new high).",
        )
    else:
        sections.append(_note("Fewer than two snapshots: no curve to draw yet."))

    sections.append("<h2>Monthly returns</h2>")
    if points:
        sections.append(
            _monthly_table(metrics.monthly_returns(points), metrics.yearly_returns(points))
        )
    else:
        sections.append(_note("No snapshots."))

    sections.append("<h2>Rolling Sharpe ratio</h2>")
    returns = metrics.dated_returns(points) or []
    series = metrics.rolling_sharpe(returns, rolling_window)
    if any(ratio is not None for _day, ratio, _full in series):
        add_chart(
            charts.rolling_sharpe(series, rolling_window),
            f"Annualised Sharpe ratio (risk-free rate 0) of the last {rolling_window} daily "
            "returns; dashed while fewer returns exist.",
        )
    else:
        sections.append(_note("Not enough returns with any volatility for a Sharpe ratio."))

    sections.append("<h2>Trade P&amp;L</h2>")
    if pnls:
        add_chart(
            charts.trade_distribution([float(p) for p in pnls]),
            "Realized P&L of every closed trade (a partial close is one trade); losses red.",
        )
    else:
        sections.append(_note("No closed trades."))

    if run_views:
        sections.append("<h2>Training runs</h2>")
    for run, curve in run_views:
        if not len(curve):
            sections.append(_note(f"Run {run.run_id}: no episodes logged."))
            continue
        title = f"{run.algorithm} {run.model_name} ({run.status})"
        add_chart(
            charts.reward_curve(
                f"run-{_slug(run.run_id)}",
                title,
                curve.episode_numbers,
                curve.rewards,
                curve.moving_average,
                curve.window,
            ),
            f"Run {run.run_id}: reward per episode and its trailing {curve.window}-episode "
            "moving average.",
        )

    page = _page(bot_id, points, now, "\n".join(sections))
    return PerformanceReport(bot_id=bot_id, html=page, charts=tuple(rendered))


# --- HTML ------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1040px; color: #212121; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } .sub { color: #616161; margin-top: 0; }
h2 { border-bottom: 1px solid #e0e0e0; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
td, th { padding: 0.25em 0.7em; border: 1px solid #e0e0e0; text-align: right; }
th { background: #f5f5f5; } td.name { text-align: left; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; }
figcaption, .note { color: #616161; font-size: 0.9em; }
.metrics { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
"""


def _page(bot_id: str, points: Sequence[metrics.DatedEquity], now: dt.datetime, body: str) -> str:
    span = f"{points[0][0]} to {points[-1][0]}, {len(points)} snapshots" if points else "no data"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Performance report: {html.escape(bot_id)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Performance report: {html.escape(bot_id)}</h1>"
        f'<p class="sub">{html.escape(span)}; generated '
        f"{now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC by tradestore</p>\n"
        f"{body}\n</body></html>\n"
    )


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} %"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _metrics_table(
    points: Sequence[metrics.DatedEquity],
    values: metrics.MetricValues | None,
    stats: metrics.TradeStatistics,
    pnls: Sequence[Decimal],
) -> str:
    v = values or metrics.MetricValues()
    returns_rows: list[tuple[str, str]] = [
        ("Final equity", _money(points[-1][1]) if points else "-"),
        ("Return since inception", _pct(v.return_inception)),
        ("Return year to date", _pct(v.return_ytd)),
        ("Return 30 days", _pct(v.return_30d)),
        ("Sharpe ratio", _ratio(v.sharpe_ratio)),
        ("Sortino ratio", _ratio(v.sortino_ratio)),
        ("Calmar ratio", _ratio(v.calmar_ratio)),
        ("Omega ratio", _ratio(v.omega_ratio)),
        ("Volatility (annualised)", _pct(v.volatility_annualized)),
        ("Downside deviation", _pct(v.downside_deviation)),
        ("Max drawdown", f"{_pct(v.max_drawdown_pct)} ({_money(v.max_drawdown)})"),
        ("Current drawdown", _pct(v.current_drawdown_pct)),
        ("Days in drawdown", "-" if v.days_in_drawdown is None else str(v.days_in_drawdown)),
    ]
    trade_rows: list[tuple[str, str]] = [
        ("Closed trades", str(stats.total_trades)),
        ("Winning / losing", f"{stats.winning_trades} / {stats.losing_trades}"),
        ("Win rate", "-" if stats.win_rate is None else f"{stats.win_rate:.1%}"),
        ("Profit factor", _ratio(stats.profit_factor)),
        ("Expectancy per trade", _money(stats.expectancy)),
        ("Average win", _money(stats.avg_win)),
        ("Average loss", _money(stats.avg_loss)),
        ("Largest win", _money(max(pnls)) if pnls and max(pnls) > 0 else "-"),
        ("Largest loss", _money(min(pnls)) if pnls and min(pnls) < 0 else "-"),
    ]

    def table(caption: str, rows: Sequence[tuple[str, str]]) -> str:
        body = "".join(
            f'<tr><td class="name">{html.escape(n)}</td><td>{html.escape(x)}</td></tr>'
            for n, x in rows
        )
        return f"<table><caption>{caption}</caption>{body}</table>"

    return (
        '<h2>Metrics</h2><div class="metrics">'
        + table("Returns and risk (whole history)", returns_rows)
        + table("Trades (whole history)", trade_rows)
        + "</div>"
        + _note(
            "Computed by tradestore.domain.metrics over every snapshot "
            "(docs/reference/metrics.md): simple daily returns, sample deviation, "
            "252 periods a year, risk-free rate 0."
        )
    )


def _monthly_table(
    months: dict[tuple[int, int], float | None], years: dict[int, float | None]
) -> str:
    head = "".join(f"<th>{m}</th>" for m in _MONTHS)
    rows = []
    for year in sorted(years):
        cells = "".join(
            _cell(months.get((year, month)), present=(year, month) in months)
            for month in range(1, 13)
        )
        rows.append(f"<tr><th>{year}</th>{cells}{_cell(years[year], present=True)}</tr>")
    return f"<table><tr><th></th>{head}<th>Year</th></tr>{''.join(rows)}</table>" + _note(
        "Percent return of each calendar month, from the last snapshot of the month before."
    )


def _cell(value: float | None, *, present: bool) -> str:
    if not present:
        return "<td></td>"
    if value is None:
        return "<td>-</td>"
    shade = min(abs(value) / 10.0, 1.0) * 0.45 + 0.08
    colour = f"rgba(46,125,50,{shade:.2f})" if value >= 0 else f"rgba(198,40,40,{shade:.2f})"
    return f'<td style="background:{colour}">{value:,.2f}</td>'
