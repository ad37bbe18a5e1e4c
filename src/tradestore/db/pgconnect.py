"""psycopg2 connections whose ``repr`` hides every secret of their DSN.

SQLAlchemy's pool logs each connection it creates, checks out, returns and closes with
``%r`` or ``%s`` (``sqlalchemy.pool`` at DEBUG). psycopg2's repr shows the whole DSN and hides only
``password``: an ``sslpassword`` (the key of an encrypted client certificate) would be
printed in clear. The engine hands this factory to ``psycopg2.connect``.
"""

from __future__ import annotations

import functools
from typing import Any

from tradestore.config import mask_text


@functools.cache
def masked_connection_factory() -> type[Any]:
    """The connection class (built on first use, so importing tradestore needs no psycopg2)."""
    from psycopg2.extensions import connection

    class MaskedConnection(connection):  # type: ignore[misc]
        def __repr__(self) -> str:
            return mask_text(super().__repr__())

        __str__ = __repr__  # some of the pool's messages use %s

    return MaskedConnection
