"""docs/guide/report.md and docs/guide/ccxt.md run as written: each page's python blocks, in
order."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def run_page(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    page = DOCS / name
    namespace: dict[str, object] = {"__name__": name}
    output = io.StringIO()
    blocks = BLOCK.findall(page.read_text())
    assert blocks
    try:
        for number, block in enumerate(blocks, start=1):
            with contextlib.redirect_stdout(output):
                exec(compile(block, f"{name} block {number}", "exec"), namespace)
    finally:
        database = namespace.get("db")
        if database is not None:
            database.dispose()  # type: ignore[attr-defined]
    return output.getvalue()


def test_the_report_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib", reason="the plots extra")
    pytest.importorskip("pandas", reason="the pandas extra")
    printed = run_page("guide/report.md", tmp_path, monkeypatch)
    assert "['equity', 'rolling-sharpe']" in printed
    assert "59 2026-01-02" in printed
    assert (tmp_path / "data" / "alpha.html").exists()


def test_the_ccxt_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    printed = run_page("guide/ccxt.md", tmp_path, monkeypatch).splitlines()
    assert printed == ["accepted 0.06917684", "filled 1", "0 1"]
