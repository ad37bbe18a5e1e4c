"""docs/guide/training.md runs as written: its ```python blocks, in order, on SQLite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "guide" / "training.md"


def test_the_training_guide_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)
    assert len(blocks) > 10
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "usage_training"}
    for number, block in enumerate(blocks, start=1):
        try:
            exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"block {number} of {DOC.name} failed: {exc!r}\n{block}")
