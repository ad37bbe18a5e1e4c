"""The common base of the repositories that see one bot's rows only."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from tradestore.db.executor import Executor
from tradestore.domain import validation


class BotScopedRepository:
    """Holds the session, the bot every statement is filtered by, and the backend's name
    (precision rules and statement variants depend on it). Never commits."""

    def __init__(self, db: Executor | Session | Connection, bot_id: str) -> None:
        self._db = Executor.of(db)
        self._bot_id = validation.required_text("bot_id", bot_id)
        self._dialect = self._db.dialect_name

    @property
    def bot_id(self) -> str:
        return self._bot_id
