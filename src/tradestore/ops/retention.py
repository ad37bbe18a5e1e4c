"""Deleting old history without touching live state.

What is pruned, and by which timestamp a row is aged (a row goes when that instant is strictly
before the cut-off):

=====================  ====================================  ==================================
table                  aged by                               never pruned while
=====================  ====================================  ==================================
orders                 ``updated_at`` of a *terminal* order  the order is not terminal
                       (filled, cancelled, rejected,         (pending, new, accepted,
                       expired): the instant it reached its  partially filled); its
                       final state, or a later correction.   ``position_id`` or one of its
                       ``submitted_at`` must be before the   fills' is an open position
                       cut-off too (always, unless clocks
                       disagree; it lets an index help)
fills                  with their order, never on their own  their order is kept
closed_positions       ``closed_at``                         the same ``position_id`` is
                                                             still open (a partial close)
training_episodes      the run's ``end_time``: a run's       the run is running, or any of
                       episodes go together, never half a    its ensemble weights is active
                       learning curve
portfolio_snapshots    ``snapshot_time``                     -
intraday_snapshots     ``snapshot_time``; its per-symbol     -
                       lines (``intraday_snapshot_symbols``)
                       go with it, never on their own
performance_metrics    ``metric_date``: the row of day D     -
                       goes when all of D (UTC) is before
                       the cut-off, i.e. D < cut-off's date
period_metrics         ``as_of``, the last day the row       all-time rows (one per bot and
                       counts, by the same rule: the row     strategy, replaced by each
                       goes when as_of < cut-off's date      compute: nothing to free)
=====================  ====================================  ==================================

Bots, open positions, training runs, hyperparameters, evaluations, ensemble weights and
migration_history are never pruned.

A batch of closed positions is taken out of the running totals (``position_totals``) in its
own transaction, before its rows go: the totals stay equal to the closed rows that remain.

**Partitions first.** On PostgreSQL, where revision 0016 partitioned ``fills`` and
``portfolio_snapshots`` by time, a partition whose whole range is before the cut-off and all of
whose rows may go (every fill's order is prunable; every snapshot is older than the cut-off)
is detached and dropped: instant, nothing for VACUUM, the table's size falls at once. Each
drop is its own transaction: the parent is locked ``ACCESS EXCLUSIVE`` (waiting at most
``db.partitioning.LOCK_TIMEOUT``; a busy table falls back to batched deletes), the rows are
checked again under that lock, the partition (and its fills' guard rows) goes. What remains
is pruned by the batched deletes below. Dropped fills are counted as deleted; the report
names the partitions (a dry run names those it would drop).

Rows are deleted in batches of ``batch_size``, each in its own short transaction (on SQLite a
``BEGIN IMMEDIATE`` that holds the write lock for one batch only; on PostgreSQL the batch's rows
are locked ``FOR UPDATE`` and the predicate re-checked), so a bot writing at the same time
waits for one batch at most. A dry run counts with the very same predicates the deletes use,
so its figures are what a real run deletes from the same data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy import table as sa_table
from sqlalchemy.exc import OperationalError

from tradestore.database import Database
from tradestore.db import partitioning
from tradestore.db.executor import Executor
from tradestore.domain.enums import TERMINAL_ORDER_STATUSES, MetricPeriod, RunStatus
from tradestore.domain.timestamps import ensure_aware
from tradestore.domain.trade_totals import TradeTotals
from tradestore.errors import ValidationError
from tradestore.models import (
    Base,
    Bot,
    ClosedPosition,
    EnsembleWeight,
    Fill,
    IntradaySnapshot,
    IntradaySnapshotSymbol,
    Order,
    PerformanceMetric,
    PeriodMetric,
    PortfolioSnapshot,
    Position,
    TrainingEpisode,
    TrainingRun,
)
from tradestore.models.base import table_of
from tradestore.ops._common import Progress, no_progress, read_connection
from tradestore.ops.timespec import cutoff_before
from tradestore.repositories import position_totals, sessions

#: What ``prune`` can be limited to (``tables=``); fills always go with their orders, an
#: intraday snapshot's per-symbol lines with it.
PRUNABLE = (
    "orders",
    "closed_positions",
    "training_episodes",
    "portfolio_snapshots",
    "intraday_snapshots",
    "performance_metrics",
    "period_metrics",
)
#: The tables a report counts, in the order they are pruned.
REPORTED = (
    "fills",
    "orders",
    "closed_positions",
    "training_episodes",
    "portfolio_snapshots",
    "intraday_snapshot_symbols",
    "intraday_snapshots",
    "performance_metrics",
    "period_metrics",
)
#: Tables pruned only with their parent: the name to give ``tables=`` instead.
_WITH_PARENT = {"fills": "orders", "intraday_snapshot_symbols": "intraday_snapshots"}
DEFAULT_BATCH_SIZE = 1000

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PruneReport:
    cutoff: dt.datetime
    dry_run: bool
    #: Rows deleted (or, in a dry run, that would be deleted) per table.
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Partitions detached and dropped whole (in a dry run: that would be), PostgreSQL only.
    partitions: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def prune(
    database: Database,
    *,
    older_than: dt.timedelta | None = None,
    cutoff: dt.datetime | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    tables: Collection[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress = no_progress,
    allow_future: bool = False,
) -> PruneReport:
    """Delete (or with ``dry_run`` count) history older than the cut-off; see the module doc.

    Give either ``older_than`` (the cut-off is ``now - older_than``) or ``cutoff``. A
    ``cutoff`` after ``now`` (default: the current time) makes every terminal row old enough,
    which is almost always a typo (2052 for 2025): it is refused unless ``allow_future``.
    """
    started = time.monotonic()
    limit = _cutoff(older_than=older_than, cutoff=cutoff, now=now, allow_future=allow_future)
    selected = _selected(tables)
    if batch_size <= 0:
        raise ValidationError("batch_size", batch_size, "must be greater than zero")
    database.check_schema()
    plan = _count_plan(database, limit, selected)
    if dry_run:
        with read_connection(database) as connection:
            would_drop = [
                partition.name
                for group in selected
                for partition in _droppable(connection, group, limit)
            ]
        return PruneReport(limit, True, plan, time.monotonic() - started, tuple(would_drop))
    deleted = dict.fromkeys(plan, 0)
    dropped: list[str] = []
    with database.connect() as connection:
        for group in selected:
            dropped += _drop_partitions(connection, group, limit, deleted, progress)
            _GROUPS[group].delete(connection, limit, batch_size, deleted, plan, progress)
    return PruneReport(limit, False, deleted, time.monotonic() - started, tuple(dropped))


# --- whole partitions --------------------------------------------------------------------------


def _fills_check(limit: dt.datetime, part: Any) -> Select[int, int]:
    """(fills, fills that stay) of one partition: a fill stays while its order does (fills
    go with their orders, never on their own), by ``_orders_predicate`` stated for a join:
    the orders holding a fill of an open position are found once (a hashed set from the
    open positions, which are few), not per order across every partition."""
    of_open_positions = select(Fill.bot_id, Fill.order_id).join(
        Position, and_(Position.bot_id == Fill.bot_id, Position.position_id == Fill.position_id)
    )
    stays = or_(
        Order.status.not_in(sorted(TERMINAL_ORDER_STATUSES)),
        Order.updated_at >= limit,
        Order.submitted_at >= limit,
        _open_position(Order.bot_id, Order.position_id),
        tuple_(Order.bot_id, Order.order_id).in_(of_open_positions),
    )
    return select(func.count(), func.count().filter(stays)).select_from(
        part.join(
            _table(Order), and_(Order.bot_id == part.c.bot_id, Order.order_id == part.c.order_id)
        )
    )


def _snapshots_check(limit: dt.datetime, part: Any) -> Select[int, int]:
    return select(func.count(), func.count().filter(part.c.snapshot_time >= limit)).select_from(
        part
    )


#: group -> (its partitioned table, the count of one partition's rows and of those that stay).
_PARTITIONED: dict[str, tuple[str, Callable[[dt.datetime, Any], Select[int, int]]]] = {
    "orders": ("fills", _fills_check),
    "portfolio_snapshots": ("portfolio_snapshots", _snapshots_check),
}


def _partition_table(name: str) -> Any:
    """A partition as a selectable with the columns the checks read (their model types)."""
    columns = [
        column(c.name, c.type)
        for c in (*_table(Fill).c, *_table(PortfolioSnapshot).c)
        if c.name in ("bot_id", "order_id", "snapshot_time")
    ]
    return sa_table(name, *{c.name: c for c in columns}.values())


def _candidates(
    connection: Connection, group: str, limit: dt.datetime
) -> tuple[partitioning.Policy | None, list[partitioning.Partition]]:
    if group not in _PARTITIONED:
        return None, []
    policy = partitioning.policy(connection, _PARTITIONED[group][0])
    if policy is None:
        return None, []
    before = [
        p
        for p in partitioning.partitions(connection, policy.table)
        if p.upper is not None and dt.datetime.combine(p.upper, dt.time(), dt.UTC) <= limit
    ]
    return policy, before


def _rows_and_kept(
    connection: Connection, group: str, partition: partitioning.Partition, limit: dt.datetime
) -> tuple[int, int]:
    check = _PARTITIONED[group][1](limit, _partition_table(partition.name))
    rows, keep = connection.execute(check).one()
    return int(rows), int(keep)


def _droppable(
    connection: Connection, group: str, limit: dt.datetime
) -> list[partitioning.Partition]:
    _, before = _candidates(connection, group, limit)
    return [p for p in before if _rows_and_kept(connection, group, p, limit)[1] == 0]


def _drop_partitions(
    connection: Connection,
    group: str,
    limit: dt.datetime,
    deleted: dict[str, int],
    progress: Progress,
) -> list[str]:
    """Drop the partitions of ``group``'s table that hold only prunable rows (module doc)."""
    policy, before = _candidates(connection, group, limit)
    connection.commit()
    if policy is None:
        return []
    dropped = []
    phase = f"dropping partitions of {policy.table}"
    for index, partition in enumerate(before):
        progress(phase, index, len(before))
        if _rows_and_kept(connection, group, partition, limit)[1]:
            connection.commit()
            continue  # some rows stay: the batched deletes take the others
        try:
            partitioning.lock_for_drop(connection, policy.table)
            rows, kept = _rows_and_kept(connection, group, partition, limit)
            if kept:
                connection.rollback()
                continue
            partitioning.detach_and_drop(connection, policy, partition)
            connection.commit()
        except OperationalError as exc:
            connection.rollback()
            if not partitioning.is_lock_timeout(exc):
                raise
            _log.info("%s is busy: %s left to batched deletes", policy.table, partition.name)
            continue
        deleted[policy.table] = deleted.get(policy.table, 0) + rows
        dropped.append(partition.name)
    progress(phase, len(before), len(before))
    return dropped


def _cutoff(
    *,
    older_than: dt.timedelta | None,
    cutoff: dt.datetime | None,
    now: dt.datetime | None,
    allow_future: bool,
) -> dt.datetime:
    if (older_than is None) == (cutoff is None):
        raise ValidationError("older_than", older_than, "give exactly one of older_than, cutoff")
    reference = ensure_aware("now", now) if now is not None else dt.datetime.now(dt.UTC)
    if cutoff is not None:
        limit = ensure_aware("cutoff", cutoff)
        if limit > reference and not allow_future:
            raise ValidationError(
                "cutoff",
                limit.isoformat(),
                f"is in the future (now is {reference.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC): "
                "every terminal row would be deleted; confirm with --yes (allow_future=True)",
            )
        return limit
    assert older_than is not None
    if older_than <= dt.timedelta(0):
        raise ValidationError("older_than", older_than, "must be greater than zero")
    return cutoff_before(reference, older_than, field="older_than", text=older_than)


def _selected(tables: Collection[str] | None) -> list[str]:
    if tables is None:
        return list(PRUNABLE)
    unknown = sorted(set(tables) - set(PRUNABLE))
    if unknown:
        children = [
            f"{name} are pruned with {_WITH_PARENT[name]}"
            for name in unknown
            if name in _WITH_PARENT
        ]
        hint = f" ({'; '.join(children)})" if children else ""
        raise ValidationError(
            "tables",
            sorted(tables),
            f"cannot prune {', '.join(unknown)}{hint}; choose from {', '.join(PRUNABLE)}",
        )
    return [name for name in PRUNABLE if name in tables]


def _count_plan(database: Database, limit: dt.datetime, selected: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with read_connection(database) as connection:  # one snapshot for every count
        for group in selected:
            counts.update(_GROUPS[group].count(connection, limit))
    return {name: counts[name] for name in REPORTED if name in counts}


# --- predicates: one definition each, used by both the count and the delete ----------------------


def _open_position(bot_id: Any, position_id: Any) -> ColumnElement[bool]:
    """The bot's own position of that id is open. Scoped by bot: a position id only means
    something within its bot, so another bot's open position of the same id (which it can
    open once this bot's is closed) must not keep this bot's history forever."""
    return exists().where(Position.bot_id == bot_id, Position.position_id == position_id)


def _orders_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    fill_of_open_position = (
        exists()
        .where(Fill.bot_id == Order.bot_id, Fill.order_id == Order.order_id)
        .where(_open_position(Fill.bot_id, Fill.position_id))
    )
    return and_(
        Order.status.in_(sorted(TERMINAL_ORDER_STATUSES)),
        Order.updated_at < limit,
        # Implied by the line above for every order whose updated_at is not earlier than its
        # submitted_at; stated so the planner can use idx_orders_submitted_at (updated_at has
        # no index), and so an order with a skewed clock is kept rather than pruned.
        Order.submitted_at < limit,
        ~_open_position(Order.bot_id, Order.position_id),
        ~fill_of_open_position,
    )


def _closed_positions_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    return and_(
        ClosedPosition.closed_at < limit,
        ~_open_position(ClosedPosition.bot_id, ClosedPosition.position_id),
    )


def _episodes_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    active_ensemble = exists().where(
        EnsembleWeight.run_id == TrainingRun.run_id, EnsembleWeight.is_active.is_(True)
    )
    finished_runs = select(TrainingRun.run_id).where(
        TrainingRun.status != RunStatus.RUNNING,
        TrainingRun.end_time < limit,
        ~active_ensemble,
    )
    return TrainingEpisode.run_id.in_(finished_runs)


def _snapshots_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    return PortfolioSnapshot.snapshot_time < limit


def _intraday_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    return IntradaySnapshot.snapshot_time < limit


def _metrics_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    return PerformanceMetric.metric_date < limit.date()


def _period_metrics_predicate(limit: dt.datetime) -> ColumnElement[bool]:
    """A period's row covers period_start..as_of: all of it is before the cut-off when its
    last day is (the daily metrics' rule). All-time rows are kept: there is one per bot and
    strategy (each compute replaces it), so pruning it frees nothing and loses the last
    all-time figure of a bot that no longer computes."""
    return and_(PeriodMetric.as_of < limit.date(), PeriodMetric.period != MetricPeriod.ALL_TIME)


# --- groups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """A table pruned by primary key in batches, with dependants deleted first."""

    name: str
    table: Table
    #: The primary key's columns: (bot_id, order_id) for orders, whose ids are per bot.
    key: tuple[Any, ...]
    predicate: Callable[[dt.datetime], ColumnElement[bool]]
    #: (table, columns referencing ``key``) whose rows go first, in the same batch: fills.
    dependants: tuple[tuple[Table, tuple[Any, ...]], ...] = ()
    #: Run in each batch's transaction before its rows go, with their keys: what keeps
    #: figures derived from the rows (the running totals) equal to the rows that remain.
    before_delete: Callable[[Connection, list[Any]], None] | None = None

    def count(self, connection: Connection, limit: dt.datetime) -> dict[str, int]:
        condition = self.predicate(limit)
        counts = {self.name: _scalar(connection, self.table, condition)}
        for table, columns in self.dependants:
            keys = select(*self.key).where(condition)
            counts[table.name] = _scalar(connection, table, _key_in(columns, keys))
        return counts

    def delete(
        self,
        connection: Connection,
        limit: dt.datetime,
        batch_size: int,
        deleted: dict[str, int],
        plan: dict[str, int],
        progress: Progress,
    ) -> None:
        condition = self.predicate(limit)
        phase = f"pruning {self.name}"
        progress(phase, 0, plan.get(self.name))
        # Built once: each batch only binds its keys.
        postgresql = connection.dialect.name == "postgresql"
        choose = select(*self.key).where(condition).limit(batch_size).with_for_update(of=self.table)
        dependants = [
            (table.name, delete(table).where(_in_batch(columns, postgresql)))
            for table, columns in self.dependants
        ]
        remove = delete(self.table).where(_in_batch(self.key, postgresql))
        while True:
            rows = connection.execute(choose).all()
            if not rows:
                connection.commit()
                break
            keys = [row[0] for row in rows] if len(self.key) == 1 else [tuple(r) for r in rows]
            if self.before_delete is not None:
                self.before_delete(connection, keys)
            bound = _batch_parameters(keys, len(self.key), postgresql)
            for name, statement in dependants:
                deleted[name] += connection.execute(statement, bound).rowcount
            deleted[self.name] += connection.execute(remove, bound).rowcount
            connection.commit()  # one short transaction per batch
            progress(phase, deleted[self.name], max(plan.get(self.name, 0), deleted[self.name]))


_PRUNED_TRADES = select(
    ClosedPosition.bot_id,
    ClosedPosition.ticker,
    ClosedPosition.strategy,
    ClosedPosition.realized_pnl,
    ClosedPosition.commission,
    ClosedPosition.closed_at,
).where(ClosedPosition.closed_position_id.in_(bindparam("keys", expanding=True)))


#: PostgreSQL: the batch's bots' rows, in bot_id order, ``FOR KEY SHARE``: it conflicts with
#: the session writers' ``FOR UPDATE`` (``BotRepository._locked``), so a session start or end
#: and a batch of a bot serialise (the other writers' locks on the row do not conflict).
_BOTS = table_of(Bot)
_LOCK_BOTS = (
    select(_BOTS.c.bot_id)
    .where(_BOTS.c.bot_id.in_(bindparam("bot_ids", expanding=True)))
    .order_by(_BOTS.c.bot_id)
    .with_for_update(read=True, key_share=True)
)


def _subtract_from_totals(connection: Connection, keys: list[Any]) -> None:
    """Take the batch's closed rows out of the running totals, in the batch's transaction.

    The totals are those of the closed rows that exist, so a prune keeps them equal to a
    recomputation over what remains (docs/reference/queries.md): a bot's all-time P&L lives
    on in ``bots.total_pnl`` only if it is refreshed before the prune.

    On PostgreSQL the batch's bots are locked first (``_LOCK_BOTS``). Without it a session
    opening while the batch is in flight reads the totals before the batch commits (they
    still hold its rows) and stores them as its prior sums, and ``take_out_prior``, whose
    snapshot predates the new session, cannot correct them: the session would end with
    negative trades. Locked, the session writer waits for the batch (its reads then see the
    rows gone), or the batch waits for the writer (its reads then see the new session).
    """
    rows = connection.execute(_PRUNED_TRADES, {"keys": keys}).all()
    if connection.dialect.name == "postgresql" and rows:
        connection.execute(_LOCK_BOTS, {"bot_ids": sorted({row[0] for row in rows})})
    changes: dict[tuple[str, str, str | None], TradeTotals] = {}
    pruned = []
    for bot_id, ticker, strategy, realized, commission, closed_at in rows:
        key = (bot_id, ticker, strategy)
        trade = TradeTotals.of_trade(realized, commission)
        found = changes.get(key)
        changes[key] = trade if found is None else found + trade
        pruned.append((bot_id, closed_at, realized, commission))
    executor = Executor.of(connection)
    position_totals.apply(executor, {key: -change for key, change in changes.items()})
    # an open session's prior sums are those of the rows closed before it: they go too
    sessions.take_out_prior(executor, pruned)


def _in_batch(columns: tuple[Any, ...], postgresql: bool) -> ColumnElement[bool]:
    """``columns IN`` one batch's keys, bound by ``_batch_parameters``.

    A composite key on PostgreSQL is bound as one array per column and joined through
    ``unnest``: PostgreSQL expands a row-value ``IN`` list into an ``OR`` of one equality per
    key, which it plans as one index scan per key *per partition*; over the fills' partitions
    a batch of 1,000 orders took seconds to plan and run, the ``unnest`` join milliseconds
    (docs/operations/partitioning.md). Elsewhere an expanding ``IN`` list, one parameter per
    key: PostgreSQL folds a single column's into one ``= ANY(array)`` scan, and SQLite has
    row values and no partitions. The arrays are typed by the key columns (a bind cast such as
    ``::VARCHAR(64)[]``), so the driver never sends an untyped array to ``unnest``.
    """
    if not _as_arrays(len(columns), postgresql):
        return _key_in(columns, bindparam("keys", expanding=True))
    arrays = [
        bindparam(f"keys_{index}", type_=ARRAY(column.type)) for index, column in enumerate(columns)
    ]
    names = [f"key_{index}" for index in range(len(columns))]
    batch = func.unnest(*arrays).table_valued(*names).render_derived(name="batch")
    return tuple_(*columns).in_(select(*batch.c))


def _batch_parameters(keys: list[Any], width: int, postgresql: bool) -> dict[str, Any]:
    if not _as_arrays(width, postgresql):
        return {"keys": keys}
    return {f"keys_{index}": [key[index] for key in keys] for index in range(width)}


def _as_arrays(width: int, postgresql: bool) -> bool:
    """Whether a batch of keys this wide is bound as one array per column (``_in_batch``)."""
    return width > 1 and postgresql


def _key_in(columns: tuple[Any, ...], keys: Any) -> ColumnElement[bool]:
    """``column IN keys``, or ``(a, b) IN keys`` for a composite key (row values: both
    backends)."""
    if len(columns) == 1:
        return cast(ColumnElement[bool], columns[0].in_(keys))
    return tuple_(*columns).in_(keys)


def _table(model: type[Base]) -> Table:
    return table_of(model)


def _scalar(connection: Connection, table: Any, condition: ColumnElement[bool]) -> int:
    return int(
        connection.execute(select(func.count()).select_from(table).where(condition)).scalar_one()
    )


_GROUPS: dict[str, _Group] = {
    "orders": _Group(
        "orders",
        _table(Order),
        (Order.bot_id, Order.order_id),
        _orders_predicate,
        dependants=((_table(Fill), (Fill.bot_id, Fill.order_id)),),
    ),
    "closed_positions": _Group(
        "closed_positions",
        _table(ClosedPosition),
        (ClosedPosition.closed_position_id,),
        _closed_positions_predicate,
        before_delete=_subtract_from_totals,
    ),
    "training_episodes": _Group(
        "training_episodes",
        _table(TrainingEpisode),
        (TrainingEpisode.episode_id,),
        _episodes_predicate,
    ),
    "portfolio_snapshots": _Group(
        "portfolio_snapshots",
        _table(PortfolioSnapshot),
        (PortfolioSnapshot.snapshot_id,),
        _snapshots_predicate,
    ),
    "intraday_snapshots": _Group(
        "intraday_snapshots",
        _table(IntradaySnapshot),
        (IntradaySnapshot.snapshot_id,),
        _intraday_predicate,
        # deleted explicitly, not left to ON DELETE CASCADE: counted in the report, and
        # the same on a SQLite connection that has foreign keys off
        dependants=((_table(IntradaySnapshotSymbol), (IntradaySnapshotSymbol.snapshot_id,)),),
    ),
    "performance_metrics": _Group(
        "performance_metrics",
        _table(PerformanceMetric),
        (PerformanceMetric.metric_id,),
        _metrics_predicate,
    ),
    "period_metrics": _Group(
        "period_metrics",
        _table(PeriodMetric),
        (PeriodMetric.period_metric_id,),
        _period_metrics_predicate,
    ),
}
