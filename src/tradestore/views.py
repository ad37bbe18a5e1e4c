"""Deprecated path: keeping views across a table alteration is ``tradestore.db.view_ddl``."""

import warnings

from tradestore.db.view_ddl import PreservedViews, preserved_views

warnings.warn(
    "tradestore.views is deprecated; import from tradestore.db.view_ddl",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["PreservedViews", "preserved_views"]
