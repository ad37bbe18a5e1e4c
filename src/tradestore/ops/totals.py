"""Rebuilding the running totals (``position_totals``) from the closed rows.

The totals are kept by the transaction of every close and prune, so they only drift from the
closed rows when something writes around tradestore: a restored partial dump, a hand-made
DELETE, a bug. ``db verify`` names every key that differs (``repositories.position_totals.
compare``); this operation writes the recomputation over those keys, in one transaction:

* SQLite: the unit of work's ``BEGIN IMMEDIATE`` holds the write lock from the first read to
  COMMIT, so no close or prune runs in between;
* PostgreSQL: ``position_totals`` and ``closed_positions`` are locked ``SHARE ROW EXCLUSIVE``
  first (in the order a close takes them): reads go on, closes and prunes wait until the
  rebuild commits, another rebuild waits for this one.

A dry run compares in a read-only transaction and writes nothing. ``bots.total_pnl`` and
``total_commission`` are not touched: they are a copy made by ``refresh_totals`` (when a
bot stops), which keeps a bot's all-time figures after a prune on purpose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from tradestore.database import Database
from tradestore.db.executor import Executor
from tradestore.domain import validation
from tradestore.errors import BotNotFound
from tradestore.models import Bot
from tradestore.ops._common import read_connection
from tradestore.repositories import position_totals
from tradestore.repositories.position_totals import TotalsDifference


@dataclass(frozen=True)
class TotalsReport:
    database: str
    #: The bot rebuilt, or None for every bot.
    bot_id: str | None
    dry_run: bool
    #: Keys (bot, ticker, strategy) the closed rows give.
    keys: int
    #: The keys that differed (rewritten or deleted, unless ``dry_run``), in key order.
    differences: tuple[TotalsDifference, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when the stored totals already equalled the recomputation."""
        return not self.differences


def rebuild_totals(
    database: Database, *, bot_id: str | None = None, dry_run: bool = False
) -> TotalsReport:
    """Recompute the running totals of every bot (or ``bot_id``'s) from closed_positions and
    write those that differ, in one transaction (see the module doc for the locks).

    ``BotNotFound`` for a ``bot_id`` that does not exist. The schema must be at head."""
    started = time.monotonic()
    bot = None if bot_id is None else validation.required_text("bot_id", bot_id)
    database.check_schema()
    if dry_run:
        with read_connection(database) as connection:
            executor = Executor.of(connection)
            _require_bot(executor, bot)
            comparison = position_totals.compare(executor, bot)
    else:
        with database.connect() as connection:
            executor = Executor.of(connection)
            _require_bot(executor, bot)
            comparison = position_totals.rebuild(executor, bot)
            connection.commit()
    return TotalsReport(
        database.safe_url,
        bot,
        dry_run,
        comparison.keys,
        comparison.differences,
        time.monotonic() - started,
    )


def _require_bot(executor: Executor, bot_id: str | None) -> None:
    if bot_id is None:
        return
    found = executor.execute(select(Bot.bot_id).where(Bot.bot_id == bot_id)).first()
    if found is None:
        raise BotNotFound("bot", bot_id)


__all__ = ["TotalsReport", "rebuild_totals"]
