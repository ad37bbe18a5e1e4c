"""The unit of work: one Connection, its transaction, and the repositories that write in it.

Repositories run their statements through the unit of work's ``Executor`` and never commit;
``Database.unit_of_work`` commits when the ``with`` block finishes and rolls back if it raises,
so everything a block did lands together or not at all. Repositories are built on first use,
so a block that only logs episodes pays nothing for the trading ones; so is ``uow.session``,
the ORM Session for a bot author's own queries, which joins the same connection and
transaction (SQLAlchemy's "join a Session into an external transaction" recipe).

A call refused inside a block undoes only itself: the refusals a bot is expected to meet
(conflicts, an unknown bot) are decided without a failing statement, and a method that could
leave half its writes behind runs in a savepoint. What is left, a statement the database
refused outside any savepoint, is noted by the executor; on PostgreSQL it has aborted the
transaction, on SQLite it may have left a method half done. Committing would then lose
writes without a word (PostgreSQL turns COMMIT into ROLLBACK), so the block ends with
``TransactionAborted`` naming the first refusal instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tradestore.analytics import Analytics
from tradestore.db.executor import Executor
from tradestore.db.replicas import ANY_SERVER, CommitToken
from tradestore.errors import ReadOnlyUnitOfWork, TransactionAborted, ValidationError
from tradestore.repositories.bots import BotRepository
from tradestore.repositories.ensembles import EnsembleRepository
from tradestore.repositories.evaluations import EvaluationRepository
from tradestore.repositories.metrics import MetricsRepository
from tradestore.repositories.orders import OrderRepository
from tradestore.repositories.positions import PositionRepository
from tradestore.repositories.sessions import SessionRepository
from tradestore.repositories.snapshots import SnapshotRepository
from tradestore.repositories.training import TrainingRepository


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    """A flush with changes in a ``readonly=True`` unit of work: they would be rolled back."""
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyUnitOfWork("uow.session.flush", "the Session's pending changes")


class UnitOfWork:
    """What ``db.unit_of_work(bot_id=...)`` yields.

    Trading repositories (positions, orders, snapshots, metrics) are scoped to ``bot_id`` and
    never see another bot's rows; bots, training, evaluations and ensembles are shared.
    """

    def __init__(
        self, executor: Executor, *, bot_id: str | None = None, readonly: bool = False
    ) -> None:
        self.executor = executor
        self.bot_id = bot_id
        self._readonly = readonly
        self._session: Session | None = None
        self._token_source: Callable[[], CommitToken] | None = None
        self._token: CommitToken | None = None

    def commit_token(self) -> CommitToken:
        """For read-your-writes, after this write unit of work committed (the ``with`` block
        has ended): ``db.unit_of_work(readonly=True, consistent_with=token)`` then reads on a
        replica that has replayed this commit, or on the primary.

        The primary's WAL position is read on the first call (one statement) and kept; a
        Database without replicas answers at once. A read-only unit of work wrote nothing:
        any server is consistent with it.
        """
        if self._token is not None:
            return self._token
        if self._token_source is None:
            if self._readonly:
                return ANY_SERVER
            raise ValidationError(
                "commit_token",
                None,
                "is known once the unit of work has committed: call it after the with block",
            )
        self._token = self._token_source()
        return self._token

    def _committed(self, token_source: Callable[[], CommitToken]) -> None:
        self._token_source = token_source

    @property
    def session(self) -> Session:
        """An ORM Session in this unit of work's transaction, for the bot's own queries.

        Created on first use. It commits and rolls back with the block: ``session.commit()``
        inside the block flushes but does not end the transaction (the block does), and a
        failed flush makes the block end with ``TransactionAborted``.
        """
        if self._session is None:
            self._session = Session(
                bind=self.executor.connection,
                expire_on_commit=False,
                join_transaction_mode="rollback_only",
            )
            if getattr(self.executor, "readonly", False):
                event.listen(self._session, "before_flush", _refuse_flush)
        return self._session

    def _finish(self) -> TransactionAborted | None:
        """Before COMMIT: flush the Session's pending writes; say why COMMIT must not run."""
        session = self._session
        if session is not None:
            if session.in_transaction() and not session.get_transaction().is_active:  # type: ignore[union-attr]
                return TransactionAborted(
                    "nothing was committed: a flush of uow.session failed earlier in this "
                    "unit of work and rolled its transaction back"
                )
            session.flush()
        return self.executor.failure()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _require_bot(self, repository: str) -> str:
        if self.bot_id is None:
            raise ValidationError(
                "bot_id",
                None,
                f"uow.{repository} is scoped to one bot: use unit_of_work(bot_id=...)",
            )
        return self.bot_id

    @cached_property
    def bots(self) -> BotRepository:
        return BotRepository(self.executor)

    @cached_property
    def positions(self) -> PositionRepository:
        return PositionRepository(self.executor, self._require_bot("positions"))

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.executor, self._require_bot("orders"))

    @cached_property
    def snapshots(self) -> SnapshotRepository:
        return SnapshotRepository(self.executor, self._require_bot("snapshots"))

    @cached_property
    def sessions(self) -> SessionRepository:
        """The bot's trading sessions (read here; opened and ended by ``uow.bots``)."""
        return SessionRepository(self.executor, self._require_bot("sessions"))

    @cached_property
    def metrics(self) -> MetricsRepository:
        return MetricsRepository(self.executor, self._require_bot("metrics"))

    @cached_property
    def training(self) -> TrainingRepository:
        return TrainingRepository(self.executor)

    @cached_property
    def evaluations(self) -> EvaluationRepository:
        return EvaluationRepository(self.executor)

    @cached_property
    def ensembles(self) -> EnsembleRepository:
        return EnsembleRepository(self.executor)

    @cached_property
    def analytics(self) -> Analytics:
        """Read-side queries; bot-aware when the unit of work has a bot_id."""
        return Analytics(self.executor, bot_id=self.bot_id, training=self.training)
