"""docs/guide/orders-and-fills.md runs as written: its python blocks, in order, in one namespace."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "orders-and-fills.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_the_guide_has_examples() -> None:
    assert len(BLOCK.findall(GUIDE.read_text())) >= 10


def test_the_orders_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "usage_orders"}
    output = io.StringIO()
    try:
        for number, block in enumerate(BLOCK.findall(GUIDE.read_text()), start=1):
            with contextlib.redirect_stdout(output):
                exec(compile(block, f"{GUIDE.name} block {number}", "exec"), namespace)
    finally:
        database = namespace.get("db")
        if database is not None:
            database.dispose()  # type: ignore[attr-defined]
    printed = output.getvalue()
    assert "with a different quantity" in printed
    assert "rows[1].price" in printed
    assert "accepted -> new" in printed
    assert "broker_order_id B-999 B-778813" in printed
    assert "139.928571428571" in printed  # the late fill counted in the VWAP
