"""docs/guide/asyncio.md runs as written: its python blocks, in order, in one namespace, on
SQLite (aiosqlite for the async API, the sync driver under the recorder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_docs_report import run_page


def test_the_asyncio_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    printed = run_page("guide/asyncio.md", tmp_path, monkeypatch).splitlines()
    # the async API
    assert "replayed: True filled: 0.2" in printed
    assert "refused: quantity" in printed
    assert "fills: 1" in printed
    assert "rewards: [0.0, 0.1, 0.2]" in printed
    # the recorder: 50 orders, 250 events, far fewer transactions
    (grouped,) = [line for line in printed if line.endswith(" transactions")]
    statuses, transactions = grouped.split(" in ")
    assert statuses == "[<OrderStatus.FILLED: 'filled'>]"
    assert int(transactions.split()[0]) < 250
    # the threaded bot
    assert "filled" in printed
    # the ccxt loop: t1 delivered twice recorded once, t2 crossed the cancel and counts
    assert "ccxt: cancelled 0.6 2" in printed
