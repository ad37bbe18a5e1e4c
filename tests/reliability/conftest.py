"""Reliability tests: the marker, and the figures they report.

Every test here is marked ``reliability`` (``pytest -m reliability`` runs only them). Each
test records what it ran (writers, rows, kills, connections cut, inputs tried, rows lost) with
``reliability_support.record_figure``; the figures are printed at the end of the run, and
written as JSON to ``$TRADESTORE_RELIABILITY_FIGURES`` when that is set
(docs/reference/reliability.md quotes them).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from reliability_support import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, figures in sorted(FIGURES.items()):
        shown = ", ".join(f"{k}={v:g}" for k, v in sorted(figures.items()))
        terminalreporter.write_line(f"{test}: {shown}")
    target = os.environ.get("TRADESTORE_RELIABILITY_FIGURES")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(FIGURES, handle, indent=2, sort_keys=True)


@pytest.fixture(autouse=True)
def _reliability_marker(request: pytest.FixtureRequest) -> None:
    """Every test in this folder carries the marker (so ``-m 'not reliability'`` skips them)."""
    assert request.node.get_closest_marker("reliability") is not None
