"""The enumerations of the domain: sides, order types and statuses, bot modes, run states.

Stored as VARCHAR with a CHECK constraint (``tradestore.db.types.enum_column``) or, for the
open lists (exit reasons, algorithm names), as free text whose common values read back as
members (``tradestore.db.types.OpenChoice``).
"""

from __future__ import annotations

import enum
from typing import Final


class PositionSide(enum.StrEnum):
    LONG = "long"
    SHORT = "short"


class OrderSide(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    #: A limit order that must rest on the book (maker only); needs a limit price like LIMIT.
    POST_ONLY = "post_only"


class TimeInForce(enum.StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    NEW = "new"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_ORDER_STATUSES


TERMINAL_ORDER_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


#: Exit reasons and algorithm names are free text (freqtrade's exit tags, any RL library's
#: algorithm names); these are the widths of their columns.
MAX_EXIT_REASON_LENGTH: Final = 255
MAX_ALGORITHM_LENGTH: Final = 64


class ExitReason(enum.StrEnum):
    """The common exit reasons; any other non-empty text of at most 255 characters is stored
    too (freqtrade's ``roi``, ``force_exit``, a strategy's own exit tags)."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    TIME_EXIT = "time_exit"
    MANUAL = "manual"
    RISK_LIMIT = "risk_limit"
    CIRCUIT_BREAKER = "circuit_breaker"
    MARKET_CLOSE = "market_close"
    #: A fill of an order reduced a position kept from fills (position keeping).
    SIGNAL = "signal"


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"
    UNKNOWN = "unknown"


class PositionKeeping(enum.StrEnum):
    """Whether the fills of a bot's orders move its positions (``bots.position_keeping``).

    ``manual``: they do not; the bot opens and closes positions itself (the explicit API, and
    the way to hold several positions of one ticker at once: hedging). ``netting``: each fill
    of an order that keeps positions moves the one position of its bot, ticker and strategy
    (see docs/guide/positions.md).
    """

    MANUAL = "manual"
    NETTING = "netting"


class BotMode(enum.StrEnum):
    PAPER = "paper"
    LIVE = "live"
    BACKTEST = "backtest"
    #: Hyperparameter optimization (freqtrade's hyperopt, an Optuna study's trials).
    OPTIMIZATION = "optimization"


class BotStatus(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"


class Algorithm(enum.StrEnum):
    """The common algorithm names; any other non-empty text of at most 64 characters is
    stored too, exactly as given (``IMPALA``, ``ppo`` is not ``PPO``)."""

    PPO = "PPO"
    SAC = "SAC"
    A2C = "A2C"
    TD3 = "TD3"
    DQN = "DQN"
    DDPG = "DDPG"
    ENSEMBLE = "Ensemble"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    ABORTED = "aborted"


class Device(enum.StrEnum):
    CPU = "cpu"
    CUDA = "cuda"


class EvaluationType(enum.StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"
    LIVE_PAPER = "live_paper"
    BACKTEST = "backtest"


class WeightingMethod(enum.StrEnum):
    EQUAL = "equal"
    SHARPE_WEIGHTED = "sharpe_weighted"
    PERFORMANCE_WEIGHTED = "performance_weighted"
    ADAPTIVE = "adaptive"
    MANUAL = "manual"


class MigrationStatus(enum.StrEnum):
    APPLIED = "applied"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


def common_value(enum_cls: type[enum.StrEnum], value: str) -> str:
    """The enum member spelled exactly ``value``, or ``value`` itself when it is no member.

    A dict lookup: ``enum_cls(value)`` raising and catching ValueError for free text costs
    about 10 µs, once per closed row read."""
    member: str = enum_cls._value2member_map_.get(value, value)  # type: ignore[assignment]
    return member


class SessionEndReason(enum.StrEnum):
    """Why a trading session ended; any other non-empty text of at most 64 characters is
    stored too (a bot's own reason, ``"maintenance"``).

    ``interrupted`` is what tradestore writes when a session is found still open at the next
    start (``recover``, ``start_session``): the process that ran it ended without saying so.
    A crash, a kill and a lost host look the same from the database, so it does not claim
    "crashed".
    """

    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class SnapshotKind(enum.StrEnum):
    """Snapshots beside the daily one (``portfolio_snapshots``, one row per bot and date):
    ``hourly`` and ``intraday`` (any other cadence) for an intraday equity curve, ``manual``
    for one the bot or its operator takes on demand."""

    HOURLY = "hourly"
    INTRADAY = "intraday"
    MANUAL = "manual"


class MetricPeriod(enum.StrEnum):
    """The period a row of trade statistics covers (``period_metrics``): the day, the ISO week
    (Monday to Sunday), the calendar month, or the whole history, each up to its ``as_of``."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    ALL_TIME = "all_time"
