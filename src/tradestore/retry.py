"""Deprecated path: the retry rules are ``tradestore.db.retry`` (and ``tradestore.RetryPolicy``)."""

import warnings

from tradestore.db.retry import (
    NO_RETRY,
    Retrying,
    RetryPolicy,
    is_connect_failure,
    is_connection_lost,
    is_transient,
)

warnings.warn(
    "tradestore.retry is deprecated; import from tradestore.db.retry",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "NO_RETRY",
    "RetryPolicy",
    "Retrying",
    "is_connect_failure",
    "is_connection_lost",
    "is_transient",
]
