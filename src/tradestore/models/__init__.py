"""Declarative models, one module per domain; importing this package registers them all."""

from tradestore.models.base import NAMING_CONVENTION, Base
from tradestore.models.bots import Bot, TradingSession
from tradestore.models.migrations import MigrationHistory
from tradestore.models.partitions import PARTITION_INTERVALS, PartitionPolicy
from tradestore.models.positions import ClosedPosition, Position, PositionTotal
from tradestore.models.trading import (
    ALL_STRATEGIES,
    Fill,
    IntradaySnapshot,
    IntradaySnapshotSymbol,
    Order,
    PerformanceMetric,
    PeriodMetric,
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
    "PARTITION_INTERVALS",
    "AgentPerformance",
    "Base",
    "Bot",
    "ClosedPosition",
    "EnsembleWeight",
    "Fill",
    "Hyperparameters",
    "IntradaySnapshot",
    "IntradaySnapshotSymbol",
    "MigrationHistory",
    "Order",
    "PartitionPolicy",
    "PerformanceMetric",
    "PeriodMetric",
    "PortfolioSnapshot",
    "Position",
    "PositionTotal",
    "TradingSession",
    "TrainingEpisode",
    "TrainingRun",
]
