"""docs/guide/ecosystem.md runs as written: a pandas backtest, a numpy RL loop and a ccxt stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_docs_report import DOCS, run_page


def test_the_ecosystem_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas", reason="the pandas extra")
    printed = run_page("guide/ecosystem.md", tmp_path, monkeypatch).splitlines()
    assert printed == [
        "4 2024-06-14 0.031",
        "500",
        "0",
        "534.3 2048",
        "64095.55 -1.395",
    ]


def test_the_ecosystem_page_is_linked() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert "(docs/guide/ecosystem.md)" in readme
    assert "(ccxt.md)" in (DOCS / "guide" / "ecosystem.md").read_text()
