"""The performance report rendered from the demo's data, and ``Analytics.returns``.

The demo (examples/paper_bot.py) runs in a subprocess as in tests/test_demo.py; the report is
then built from what it stored. Every chart must be a PNG that decodes to a picture with
content, and the page must reference nothing outside itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tradestore import Database
from tradestore.domain import metrics
from tradestore.errors import BotNotFound, MissingDependency, ValidationError

Image = pytest.importorskip("PIL.Image", reason="Pillow comes with matplotlib (plots extra)")
pytest.importorskip("matplotlib", reason="the plots extra")

ROOT = Path(__file__).resolve().parents[2]
DATA_URI = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def demo(db_url: str, tmp_path: Path) -> tuple[Database, str, list[str], Path]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "paper_bot.py"), "--url", db_url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    db = Database(db_url)
    with db.unit_of_work() as uow:
        bot = next(b.bot_id for b in uow.bots.list() if b.bot_id.startswith("alpha-"))
        runs = [run.run_id for run in uow.training.list()]
    return db, bot, runs, tmp_path


def test_the_report_of_the_demo_bot_has_every_chart_drawn(
    demo: tuple[Database, str, list[str], Path],
) -> None:
    db, bot, runs, cwd = demo
    with db.unit_of_work(bot_id=bot) as uow:
        report = uow.analytics.report(runs=runs, rolling_window=3)
    page = report.html
    images = DATA_URI.findall(page)
    # equity + drawdown, rolling Sharpe, trade P&L, one reward curve per run
    assert len(images) == 3 + len(runs) == len(report.charts)
    for encoded, chart in zip(images, report.charts, strict=True):
        png = base64.b64decode(encoded, validate=True)
        assert png == chart.png
        with Image.open(io.BytesIO(png)) as picture:
            assert picture.format == "PNG"
            assert picture.width >= 600
            assert picture.height >= 200
            pixels = picture.convert("RGB")
            colours = pixels.getcolors(maxcolors=1 << 20)
            assert colours is not None
            assert len(colours) > 1  # not a blank canvas
            extrema = pixels.convert("L").getextrema()
            assert extrema[0] < extrema[1]  # pixel variance > 0
    for section in ("Monthly returns", "Rolling Sharpe ratio", "Trade P&amp;L", "Training runs"):
        assert section in page
    assert "Sharpe ratio" in page
    assert "2026" in page  # the demo's month in the monthly table
    # Self-contained: nothing but the embedded images is loaded from anywhere.
    without_images = DATA_URI.sub("<img>", page)
    for needle in ("http:", "https:", "//", "<link", "<script", "@import", "url(", "src="):
        assert needle not in without_images, needle
    # The demo itself wrote its first bot's report under data/ and printed where.
    [written] = (cwd / "data").glob("report-*.html")
    assert DATA_URI.search(written.read_text(encoding="utf-8"))
    db.dispose()


def test_returns_are_the_series_the_metrics_use(
    demo: tuple[Database, str, list[str], Path],
) -> None:
    pd = pytest.importorskip("pandas")
    db, bot, _runs, _ = demo
    with db.unit_of_work(bot_id=bot) as uow:
        series = uow.analytics.returns()
        stored = uow.metrics.latest()
    assert isinstance(series, pd.Series)
    assert isinstance(series.index, pd.DatetimeIndex)
    assert len(series) == 4  # five demo days, four returns
    assert series.dtype == "float64"
    # The Sharpe ratio of this series is the one uow.metrics.compute stored.
    assert stored is not None
    assert stored.sharpe_ratio == pytest.approx(metrics.sharpe_ratio(list(series)), rel=1e-12)
    db.dispose()


def test_a_report_needs_one_bot_that_exists(db: Database) -> None:
    with db.unit_of_work() as uow, pytest.raises(ValidationError) as excinfo:
        uow.analytics.report()
    assert excinfo.value.field == "bot_id"
    with db.unit_of_work(bot_id="ghost") as uow, pytest.raises(BotNotFound):
        uow.analytics.report()


def test_missing_matplotlib_names_the_extra(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with db.unit_of_work(bot_id="ghost") as uow, pytest.raises(MissingDependency) as excinfo:
        uow.analytics.report()
    assert "pip install 'tradestore[plots]'" in str(excinfo.value)
    assert isinstance(excinfo.value, ImportError)


# --- the pure series behind the charts ---------------------------------------------------------

D = Decimal


def day(n: int) -> dt.date:
    return dt.date(2025, 12, 29) + dt.timedelta(days=n)


def test_underwater_deepest_point_is_the_max_drawdown() -> None:
    points = [(day(i), D(v)) for i, v in enumerate(["100", "120", "90", "130", "117", "125"])]
    curve = metrics.underwater(points)
    assert [v for _d, v in curve] == pytest.approx([0.0, 0.0, -25.0, 0.0, -10.0, -100 * 5 / 130])
    summary = metrics.drawdown(points)
    assert summary is not None
    assert summary.max_drawdown_pct == pytest.approx(-min(v for _d, v in curve if v is not None))


def test_monthly_and_yearly_returns_compound_to_the_total() -> None:
    # 2025-12-29 .. 2026-02-07: three months over a year boundary.
    points = [(day(i), D(100) + D(i) / 2) for i in range(0, 41, 4)]
    months = metrics.monthly_returns(points)
    assert list(months) == [(2025, 12), (2026, 1), (2026, 2)]
    growth = 1.0
    for value in months.values():
        assert value is not None
        growth *= 1 + value / 100
    total = metrics.growth_pct(points[0][1], points[-1][1])
    assert total is not None
    assert (growth - 1) * 100 == pytest.approx(total, rel=1e-12)
    years = metrics.yearly_returns(points)
    assert years[2025] == months[(2025, 12)]
    assert set(years) == {2025, 2026}


def test_rolling_sharpe_is_the_sharpe_of_each_window() -> None:
    returns = [(day(i), r) for i, r in enumerate([0.01, -0.02, 0.015, 0.003, -0.004, 0.02])]
    series = metrics.rolling_sharpe(returns, 3)
    assert [full for _d, _v, full in series] == [False, False, True, True, True, True]
    assert series[0][1] is None  # one return: no deviation
    values = [r for _d, r in returns]
    for index in range(2, len(returns)):
        assert series[index][1] == metrics.sharpe_ratio(values[index - 2 : index + 1])
    assert series[1][1] == metrics.sharpe_ratio(values[:2])


def test_dated_returns_are_simple_returns_dated_by_the_later_snapshot() -> None:
    points = [(day(0), D(100)), (day(1), D(110)), (day(3), D(99))]
    assert metrics.dated_returns(points) == [
        (day(1), pytest.approx(0.1)),
        (day(3), pytest.approx(-0.1)),
    ]
    assert metrics.dated_returns([(day(0), D(0)), (day(1), D(1))]) is None
