"""Rebuilding the running totals (``position_totals``) from the closed rows.

The totals are kept by the transaction of every close and prune, so they only drift from the
closed rows when something writes around tradestore: a restored partial dump, a hand-made
DELETE, a bug. ``db verify`` names every key that differs (``repositories.position_totals.
compare``); this operation writes the recomputation over those keys. It compares first in
a read transaction (no lock any writer waits for; SQLite: deferred, one WAL snapshot), and
only when keys differ takes the write locks and re-checks and rewrites those keys alone, in
one transaction:

* SQLite: the unit of work's ``BEGIN IMMEDIATE`` holds the write lock from the re-check to
  COMMIT, so no close or prune runs in between;
* PostgreSQL: the bots' rows are locked ``FOR KEY SHARE`` (a bot holding its row FOR UPDATE
  finishes first: no deadlock with the foreign key of a totals row written), then
  ``position_totals`` and ``closed_positions`` ``SHARE ROW EXCLUSIVE`` (in the order a close
  takes them): reads go on, closes and prunes wait until the rebuild commits, another rebuild
  waits for this one. Each lock is waited for at most ``REBUILD_LOCK_TIMEOUT`` (a queued
  table lock holds every bot's closes behind it).

The write transaction runs under the database's retry policy (``Database.run``): a lock
timeout, a deadlock or SQLite's busy timeout runs it again; past the policy's deadline
``TransientDatabaseError`` says so. A key that drifts between the first read and the lock
(only something writing around tradestore does that) is found by the next check.

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
    # First a comparison in a read transaction (SQLite: deferred, a WAL snapshot), which no
    # writer waits for; then, only when keys differ, the write lock, under which those keys
    # alone are checked again and rewritten.
    with read_connection(database) as connection:
        executor = Executor.of(connection)
        _require_bot(executor, bot)
        comparison = position_totals.compare(executor, bot)
    keys = comparison.keys
    if not dry_run and comparison.differences:
        differing = [(d.bot_id, d.ticker, d.strategy) for d in comparison.differences]
        # Under the database's retry policy: a lock wait past the rebuild's lock_timeout, a
        # deadlock or SQLite's busy timeout rolls it back and runs it again.
        comparison = database.run(
            lambda uow: position_totals.rebuild(uow.executor, bot, keys=differing)
        )
    return TotalsReport(
        database.safe_url,
        bot,
        dry_run,
        keys,
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
