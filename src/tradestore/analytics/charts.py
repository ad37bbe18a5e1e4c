"""The report's charts: matplotlib figures rendered to PNG bytes, never to a display.

matplotlib is the optional ``plots`` extra, imported on the first chart. Figures are built
from ``matplotlib.figure.Figure`` with an explicit Agg canvas instead of ``pyplot``: no
global backend is chosen, no GUI is ever touched (a headless server or a bot's worker thread
renders the same way), and no figure outlives its chart.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradestore.errors import MissingDependency

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Pixels per inch of the PNGs; with the figure sizes below, charts about 1000 px wide.
DPI = 100
_WIDTH = 10.0
_GREEN, _RED, _BLUE, _GREY = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e"


@dataclass(frozen=True, slots=True)
class Chart:
    """One rendered chart: a stable ``name`` (an HTML id), a title and its PNG."""

    name: str
    title: str
    png: bytes


def _figure(height: float, rows: int = 1, ratios: Sequence[int] | None = None) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependency("the performance report", "plots", "matplotlib") from None
    figure = Figure(figsize=(_WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    kwargs: dict[str, Any] = {"sharex": True}
    if ratios is not None:
        kwargs["gridspec_kw"] = {"height_ratios": list(ratios)}
    axes = figure.subplots(rows, 1, **kwargs)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No metadata: the same data gives the same bytes whatever matplotlib's version string.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _date_axis(axes: Any, days: Sequence[dt.date]) -> None:
    """Whole days on the x axis (matplotlib's default locator picks hours for a short span)."""
    # matplotlib.dates has no annotations: bind it as Any so strict mypy accepts the calls.
    dates: Any = importlib.import_module("matplotlib.dates")
    if days and (max(days) - min(days)).days <= 14:
        locator: Any = dates.DayLocator()
    else:
        locator = dates.AutoDateLocator(minticks=3, maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))


def require_matplotlib() -> None:
    """Raise ``MissingDependency`` now rather than halfway through a report."""
    _figure(1.0)


def equity_and_drawdown(
    equity: Sequence[tuple[dt.date, float]], underwater: Sequence[tuple[dt.date, float | None]]
) -> Chart:
    figure, (top, bottom) = _figure(6.0, rows=2, ratios=(3, 1))
    days = [day for day, _ in equity]
    top.plot(
        days,
        [value for _, value in equity],
        color=_BLUE,
        linewidth=1.6,
        marker="o" if len(days) <= 30 else None,
        markersize=3,
    )
    top.set_ylabel("equity")
    top.set_title("Equity curve")
    top.grid(alpha=0.3)
    depth = [math.nan if value is None else value for _, value in underwater]
    bottom.fill_between([day for day, _ in underwater], depth, 0.0, color=_RED, alpha=0.35)
    bottom.plot([day for day, _ in underwater], depth, color=_RED, linewidth=1.0)
    bottom.set_ylabel("drawdown %")
    bottom.grid(alpha=0.3)
    _date_axis(bottom, days)
    return Chart("equity", "Equity curve and drawdown", _png(figure))


def rolling_sharpe(series: Sequence[tuple[dt.date, float | None, bool]], window: int) -> Chart:
    figure, axes = _figure(3.5)
    warm = [(day, math.nan if v is None else v) for day, v, full in series if not full]
    full = [(day, math.nan if v is None else v) for day, v, full in series if full]
    if warm and full:
        full.insert(0, warm[-1])  # join the two segments
    if warm:
        axes.plot(
            [d for d, _ in warm],
            [v for _, v in warm],
            color=_BLUE,
            linestyle="--",
            linewidth=1.4,
            marker="o",
            markersize=3,
            label="warm-up (fewer returns)",
        )
    if full:
        axes.plot(
            [d for d, _ in full],
            [v for _, v in full],
            color=_BLUE,
            linewidth=1.6,
            label=f"{window}-day window",
        )
    axes.axhline(0.0, color=_GREY, linewidth=0.8)
    axes.set_title(f"Rolling Sharpe ratio ({window} returns, annualised)")
    axes.set_ylabel("Sharpe ratio")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    _date_axis(axes, [day for day, _v, _f in series])
    return Chart("rolling-sharpe", "Rolling Sharpe ratio", _png(figure))


def trade_distribution(pnls: Sequence[float]) -> Chart:
    figure, axes = _figure(3.5)
    bins = max(5, min(40, int(math.sqrt(len(pnls)) * 2)))
    _counts, edges, patches = axes.hist(pnls, bins=bins, color=_GREEN, edgecolor="white")
    for left, right, patch in zip(edges[:-1], edges[1:], patches, strict=True):
        if (left + right) / 2 < 0:
            patch.set_facecolor(_RED)
    axes.axvline(0.0, color=_GREY, linewidth=0.8)
    mean = math.fsum(pnls) / len(pnls)
    axes.axvline(mean, color="black", linestyle="--", linewidth=1.0, label=f"mean {mean:,.2f}")
    axes.set_title(f"Distribution of trade P&L ({len(pnls)} closed trades)")
    axes.set_xlabel("realized P&L per trade")
    axes.set_ylabel("trades")
    axes.legend(loc="best")
    axes.grid(alpha=0.3)
    return Chart("trade-pnl", "Distribution of trade P&L", _png(figure))


def reward_curve(
    name: str,
    title: str,
    episodes: Sequence[int],
    rewards: Sequence[float | None],
    average: Sequence[float | None],
    window: int,
) -> Chart:
    figure, axes = _figure(3.5)

    def numbers(values: Sequence[float | None]) -> list[float]:
        return [math.nan if v is None else v for v in values]

    axes.plot(
        episodes, numbers(rewards), color=_GREY, linewidth=0.6, alpha=0.7, label="episode reward"
    )
    axes.plot(
        episodes,
        numbers(average),
        color=_BLUE,
        linewidth=1.8,
        label=f"moving average ({window} episodes)",
    )
    axes.set_title(title)
    axes.set_xlabel("episode")
    axes.set_ylabel("reward")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    return Chart(name, title, _png(figure))
