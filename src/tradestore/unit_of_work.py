"""The unit of work: one transaction and the repositories that write inside it.

Repositories take the session and never commit; ``Database.unit_of_work`` commits when the
``with`` block finishes and rolls back if it raises, so everything a block did lands together
or not at all. Repositories are built on first use, so a block that only logs episodes pays
nothing for the trading ones.

A call refused inside a block undoes only itself: the refusals a bot is expected to meet
(conflicts, an unknown bot) are decided without a failing statement, and a method that could
leave half its writes behind runs in a savepoint. What is left, a statement the database
refused outside any savepoint, is noted on the session (``note_failure``); on PostgreSQL it
has aborted the transaction, on SQLite it may have left a method half done. Committing would
then lose writes without a word (PostgreSQL turns COMMIT into ROLLBACK), so the block ends
with ``TransactionAborted`` naming the first refusal instead (``failure``).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from psycopg2.extensions import TRANSACTION_STATUS_INERROR
from sqlalchemy.orm import Session

from tradestore.errors import TransactionAborted, ValidationError

if TYPE_CHECKING:
    from tradestore.analytics import Analytics
    from tradestore.repositories.bots import BotRepository
    from tradestore.repositories.ensembles import EnsembleRepository
    from tradestore.repositories.evaluations import EvaluationRepository
    from tradestore.repositories.metrics import MetricsRepository
    from tradestore.repositories.orders import OrderRepository
    from tradestore.repositories.positions import PositionRepository
    from tradestore.repositories.snapshots import SnapshotRepository
    from tradestore.repositories.training import TrainingRepository


#: ``Session.info`` key of the first refusal that left the transaction unusable.
_FAILURE = "tradestore.failure"
#: A statement failed, COMMIT will roll back (psycopg2.extensions, from libpq's PQTRANS_INERROR).
_PG_IN_ERROR = TRANSACTION_STATUS_INERROR


def note_failure(session: Session, error: BaseException) -> None:
    """Remember ``error`` as what broke this unit of work's transaction, unless an earlier one
    did. Tied to the transaction: a block that rolls back itself starts over clean."""
    transaction = session.get_transaction()
    noted = session.info.get(_FAILURE)
    if noted is None or noted[0] is not transaction:
        session.info[_FAILURE] = (transaction, error)


def forget_failure(session: Session) -> None:
    """Start the next unit of work clean (a thread's Session is reused across them)."""
    session.info.pop(_FAILURE, None)


def refuse_if_failed(session: Session) -> None:
    """Raise ``TransactionAborted`` at once when an earlier call broke this transaction.

    On PostgreSQL every later statement would fail anyway ("current transaction is
    aborted"), on SQLite it would succeed and then be rolled back with the rest: saying so
    up front, naming the first error, is the same answer on both.
    """
    noted = session.info.get(_FAILURE)
    if noted is not None and noted[0] is session.get_transaction():
        raise _aborted(noted[1])


def failure(session: Session) -> TransactionAborted | None:
    """Why committing ``session`` now would silently lose writes, or None.

    Two sources: a refusal the repositories noted, and the database's own word that the
    transaction can no longer commit (PostgreSQL's "in error" state, or SQLite having rolled
    the transaction back itself, as it does on a full disk). The second catches refusals no
    repository saw, such as a failed statement of the bot's own on ``uow.session``; asking
    costs no round trip on either driver.
    """
    noted = session.info.get(_FAILURE)
    transaction = session.get_transaction()
    first = noted[1] if noted is not None and noted[0] is transaction is not None else None
    aborted = _aborted_by_database(session)
    if first is None and not aborted:
        return None
    if first is None:
        return TransactionAborted(
            "nothing was committed: a statement failed earlier in this unit of work and the "
            "database aborted its transaction; let the error end the block (or wrap that "
            "statement in uow.session.begin_nested()) and run the block again"
        )
    return _aborted(first)


def _aborted(first: BaseException) -> TransactionAborted:
    return TransactionAborted(
        f"nothing was committed: an earlier call in this unit of work was refused by the "
        f"database and left the transaction unusable ({type(first).__name__}: {first}); "
        "let the error end the block, then run the block again",
        first,
    )


def _aborted_by_database(session: Session) -> bool:
    transaction = session.get_transaction()
    if transaction is None:
        return False
    # Every unit of work pays this check: the transaction's own connection record is read
    # directly (Session.connection() costs ten times as much); a unit of work that has not
    # connected has nothing to lose.
    connections = getattr(transaction, "_connections", None)
    if connections is None:
        connection = session.connection()
    elif not connections:
        return False
    else:
        connection = next(iter(connections.values()))[0]
    if connection.closed or connection.invalidated:
        return False  # lost: the commit reports that on its own
    raw = connection.connection.dbapi_connection
    status = getattr(raw, "get_transaction_status", None)  # psycopg2
    if callable(status):
        return bool(status() == _PG_IN_ERROR)
    in_transaction = getattr(raw, "in_transaction", None)  # sqlite3
    return in_transaction is False


class UnitOfWork:
    """What ``db.unit_of_work(bot_id=...)`` yields.

    Trading repositories (positions, orders, snapshots, metrics) are scoped to ``bot_id`` and
    never see another bot's rows; bots, training, evaluations and ensembles are shared.
    """

    def __init__(self, session: Session, *, bot_id: str | None = None) -> None:
        self.session = session
        self.bot_id = bot_id

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
        from tradestore.repositories.bots import BotRepository

        return BotRepository(self.session)

    @cached_property
    def positions(self) -> PositionRepository:
        from tradestore.repositories.positions import PositionRepository

        return PositionRepository(self.session, self._require_bot("positions"))

    @cached_property
    def orders(self) -> OrderRepository:
        from tradestore.repositories.orders import OrderRepository

        return OrderRepository(self.session, self._require_bot("orders"))

    @cached_property
    def snapshots(self) -> SnapshotRepository:
        from tradestore.repositories.snapshots import SnapshotRepository

        return SnapshotRepository(self.session, self._require_bot("snapshots"))

    @cached_property
    def metrics(self) -> MetricsRepository:
        from tradestore.repositories.metrics import MetricsRepository

        return MetricsRepository(self.session, self._require_bot("metrics"))

    @cached_property
    def training(self) -> TrainingRepository:
        from tradestore.repositories.training import TrainingRepository

        return TrainingRepository(self.session)

    @cached_property
    def evaluations(self) -> EvaluationRepository:
        from tradestore.repositories.evaluations import EvaluationRepository

        return EvaluationRepository(self.session)

    @cached_property
    def ensembles(self) -> EnsembleRepository:
        from tradestore.repositories.ensembles import EnsembleRepository

        return EnsembleRepository(self.session)

    @cached_property
    def analytics(self) -> Analytics:
        """Read-side queries; bot-aware when the unit of work has a bot_id."""
        from tradestore.analytics import Analytics

        return Analytics(self.session, bot_id=self.bot_id)
