"""The README's main command runs the demo bot session: it must keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tradestore import Database

ROOT = Path(__file__).resolve().parents[1]


def test_demo_session_runs_end_to_end(db_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "paper_bot.py"), "--url", db_url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restarted" in result.stdout
    assert "take_profit" in result.stdout
    assert "stop_loss" in result.stdout
    assert "DCA: ETH +2.1" in result.stdout  # a scale-in at the fill's VWAP
    assert "trailing_stop" in result.stdout  # the trailed stop, above entry, hit after restart
    assert "performance report of alpha" in result.stdout
    # the netting bot's position, kept from its fills: added at the VWAP, reduced with P&L
    # booked, reversed past zero, closed
    assert "gamma netting: buy 20 MSFT @ 388.20 -> long 50 @ 389.34" in result.stdout
    assert "gamma netting: sell 40 MSFT @ 391.50 -> long 10 @ 389.34" in result.stdout
    assert "gamma netting: sell 20 MSFT @ 393.00 -> short 10 @ 393.00" in result.stdout
    assert "gamma netting: buy 10 MSFT @ 392.40 -> flat" in result.stdout
    db = Database(db_url)
    with db.unit_of_work() as uow:
        bots = uow.bots.list()
    assert len(bots) == 3
    assert all(str(bot.status) == "stopped" for bot in bots)
    # The restart kept the crashed run as a session of its own, ended as interrupted.
    assert "ended as interrupted" in result.stdout
    reasons = {}
    for bot in bots:
        with db.unit_of_work(bot_id=bot.bot_id) as uow:
            reasons[bot.bot_id.split("-")[0]] = [s.end_reason for s in uow.sessions.list()]
    assert reasons == {
        "alpha": ["stopped"],
        "beta": ["stopped", "interrupted"],
        "gamma": ["stopped"],
    }
    db.dispose()
