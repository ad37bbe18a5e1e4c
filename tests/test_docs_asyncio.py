"""docs/guide/asyncio.md runs as written: its python blocks, in order, in one namespace."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "asyncio.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_the_asyncio_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "usage_asyncio"}
    output = io.StringIO()
    blocks = BLOCK.findall(GUIDE.read_text())
    assert len(blocks) >= 2
    try:
        for number, block in enumerate(blocks, start=1):
            with contextlib.redirect_stdout(output):
                exec(compile(block, f"{GUIDE.name} block {number}", "exec"), namespace)
    finally:
        database = namespace.get("db")
        if database is not None:
            database.dispose()  # type: ignore[attr-defined]
    first, second = output.getvalue().splitlines()
    statuses, transactions = first.split(" in ")
    assert statuses == "[<OrderStatus.FILLED: 'filled'>]"
    assert int(transactions.split()[0]) < 250  # 250 events, far fewer transactions
    assert second == "filled"
