"""``tradestore report``: a bot's performance report as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from tradestore.analytics.report import DEFAULT_REWARD_WINDOW, DEFAULT_ROLLING_WINDOW
from tradestore.cli._common import console, handle_errors, open_database, url_option


@click.command("report")
@url_option
@click.option("--bot", "bot_id", required=True, help="The bot whose performance is reported.")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write (its directory is created).",
)
@click.option(
    "--run",
    "runs",
    multiple=True,
    metavar="RUN_ID",
    help="Add this training run's reward curve (repeatable).",
)
@click.option(
    "--rolling-window",
    type=click.IntRange(min=2),
    default=DEFAULT_ROLLING_WINDOW,
    show_default=True,
    help="Daily returns in the rolling Sharpe ratio's window.",
)
@click.option(
    "--reward-window",
    type=click.IntRange(min=1),
    default=DEFAULT_REWARD_WINDOW,
    show_default=True,
    help="Episodes in the reward curves' moving average.",
)
@handle_errors
def report_command(
    url: str | None,
    bot_id: str,
    out: Path,
    runs: tuple[str, ...],
    rolling_window: int,
    reward_window: int,
) -> None:
    """Write the performance report of --bot (needs: pip install 'tradestore[plots]')."""
    with open_database(url) as database:
        database.check_schema()
        with database.unit_of_work(bot_id, readonly=True) as uow:
            report = uow.analytics.report(
                runs=runs, rolling_window=rolling_window, reward_window=reward_window
            )
    path = report.write(out)
    console(stderr=True).print(
        f"wrote the report of {escape(bot_id)} ({len(report.charts)} charts) to {escape(str(path))}"
    )
