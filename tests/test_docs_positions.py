"""docs/guide/positions.md runs as written: its Python blocks execute in order on SQLite."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "positions.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_the_guide_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADESTORE_DATABASE_URL", f"sqlite:///{tmp_path / 'guide.db'}")
    blocks = BLOCK.findall(GUIDE.read_text())
    assert len(blocks) >= 10
    namespace: dict[str, Any] = {}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{GUIDE.name} block {number}", "exec"), namespace)
    out = capsys.readouterr().out
    # a few of the figures the guide's comments promise
    lines = out.splitlines()
    for expected in (
        "starting 100000",
        "2 550 99",
        "3.96",
        "499.00 1.00",
        "50 0.5",
        "399.50 -110.00 LOSS",
        "['NVDA'] ['NVDA', 'AMD']",
        "2800 3300 {'signal': 'rsi', 'dca_step': 0}",
        "[True, False, True] 2845",
        "120",
        "stop_loss_price a long's stop must be < 130",
        "200",
        "RSIBBVolumeEntry ATRExit 5m",
        "750.0 742.50 0.4878",
        "4 2950 2950 146.175",
        "stop_loss 3 trailing_stop -332.175",
        "True 20 95 2",
        "short 10 97 1",
        "[(Decimal('5'), Decimal('19'), 'signal'), (Decimal('15'), Decimal('27'), 'signal')]",
        "11015",
        "2.0 2.50485",
        "10.32 0.5 2.98",
        "1.4",
        "2 0",
        "788.5 True",
        "['102504.85', '102710.1', '102450']",
        "['150', '355.25', '95.15']",
        "True interrupted",
        "3 2 788.5",
        "True True",
        "0 None",
        "0",
    ):
        assert expected in lines, expected
    assert namespace["first_half"].realized_pnl == Decimal("499.00")
    assert namespace["second_half"].realized_pnl == Decimal("399.50")
    assert namespace["stopped"].realized_pnl == Decimal("-110.00")
    assert namespace["rest"].commission == Decimal("0.50")
    assert namespace["part"].realized_pnl == Decimal("146.175")
    assert namespace["last"].realized_pnl == Decimal("-332.175")
    assert "PositionClosed" in out
    assert "PositionNotFound" in out
    assert namespace["row"].total_trades_30d == 3
