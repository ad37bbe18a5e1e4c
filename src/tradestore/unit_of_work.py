"""The unit of work: one transaction and the repositories that write inside it.

Repositories take the session and never commit; ``Database.unit_of_work`` commits when the
``with`` block finishes and rolls back if it raises, so everything a block did lands together
or not at all. Repositories are built on first use, so a block that only logs episodes pays
nothing for the trading ones.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tradestore.errors import ValidationError

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
