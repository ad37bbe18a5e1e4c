"""The version: what the package, the command and the changelog say agree."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from packaging.version import Version

import tradestore
from tradestore.__about__ import __version__
from tradestore.cli import main

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def test_the_version_is_ahead_of_every_release_in_the_changelog() -> None:
    """A release heading (``## 0.1.0``) in CHANGELOG.md means that version shipped: the code
    carries a later one, so Unreleased entries never go out under an old number."""
    released = [Version(v) for v in re.findall(r"^## (\d[^\s]*)$", CHANGELOG.read_text(), re.M)]
    assert released
    assert Version(__version__) > max(released)
    assert "## Unreleased" in CHANGELOG.read_text()


def test_the_package_and_the_command_report_it() -> None:
    assert tradestore.__version__ == __version__
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert __version__ in result.output
