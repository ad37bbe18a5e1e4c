"""docs/guide/asyncio.md runs as written: its python blocks, in order, on SQLite (aiosqlite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_docs_report import run_page


def test_the_asyncio_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    printed = run_page("guide/asyncio.md", tmp_path, monkeypatch).splitlines()
    assert "replayed: True filled: 0.2" in printed
    assert "refused: quantity" in printed
    assert "fills: 1" in printed
    assert "rewards: [0.0, 0.1, 0.2]" in printed
