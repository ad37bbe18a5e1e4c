"""Text arguments are stored exactly as given or refused, never silently altered."""

from __future__ import annotations

import pytest

from tradestore.domain.validation import text
from tradestore.errors import ValidationError


@pytest.mark.parametrize("value", [" AAPL", "AAPL ", "\tAAPL", "AAPL\n"])
def test_surrounding_whitespace_is_refused_not_stripped(value: str) -> None:
    with pytest.raises(ValidationError, match="whitespace") as caught:
        text("ticker", value, max_length=16)
    assert caught.value.field == "ticker"
    assert caught.value.value == value


@pytest.mark.parametrize("value", ["", " ", "\t\n"])
def test_blank_text_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="empty"):
        text("strategy", value, max_length=16)


def test_inner_whitespace_and_unicode_are_kept() -> None:
    assert text("strategy", "mean reversion ✓", max_length=32) == "mean reversion ✓"


def test_free_text_may_keep_its_whitespace() -> None:
    assert text("error_message", "  Traceback\n", max_length=100, trimmed=False) == (
        "  Traceback\n"
    )
