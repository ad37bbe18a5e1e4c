"""Rows written as an older release wrote them, for revision tests that start below head.

Today's repositories write every column head has, so a test sitting at an older revision
cannot register a bot through ``uow.bots.register`` once a later revision adds a column to
``bots`` (0012's ``position_keeping``). These helpers write the columns every revision has.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, text

from tradestore import Database
from tradestore.db.types import Money, UTCDateTime

_INSERT_BOT = text(
    "INSERT INTO bots (bot_id, mode, status, starting_balance, current_balance, total_pnl, "
    "total_commission, created_at, updated_at) "
    "VALUES (:bot_id, :mode, 'starting', :balance, :balance, 0, 0, :now, :now)"
).bindparams(bindparam("balance", type_=Money()), bindparam("now", type_=UTCDateTime()))


def register_bot(
    database: Database, bot_id: str, *, mode: str = "paper", starting_balance: Decimal | None = None
) -> None:
    """``uow.bots.register(bot_id, mode=, starting_balance=)`` as any revision stores it."""
    with database.engine.begin() as connection:
        connection.execute(
            _INSERT_BOT,
            {
                "bot_id": bot_id,
                "mode": mode,
                "balance": starting_balance,
                "now": dt.datetime.now(dt.UTC),
            },
        )
