"""Declarative models, one module per domain; importing this package registers them all."""

from tradestore.models.base import NAMING_CONVENTION, Base
from tradestore.models.bots import Bot
from tradestore.models.migrations import MigrationHistory
from tradestore.models.positions import ClosedPosition, Position, PositionTotal
from tradestore.models.trading import (
    ALL_STRATEGIES,
    Fill,
    Order,
    PerformanceMetric,
    PortfolioSnapshot,
)
from tradestore.models.training import (
    AgentPerformance,
    EnsembleWeight,
    Hyperparameters,
    TrainingEpisode,
    TrainingRun,
)

__all__ = [
    "ALL_STRATEGIES",
    "NAMING_CONVENTION",
    "AgentPerformance",
    "Base",
    "Bot",
    "ClosedPosition",
    "EnsembleWeight",
    "Fill",
    "Hyperparameters",
    "MigrationHistory",
    "Order",
    "PerformanceMetric",
    "PortfolioSnapshot",
    "Position",
    "PositionTotal",
    "TrainingEpisode",
    "TrainingRun",
]
