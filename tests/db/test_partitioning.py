"""Time-partitioned history on PostgreSQL (revision 0016, db.partitioning, ops.partitions):
the conversion both ways with every row, fill_id idempotency across partitions, partitions
created ahead and rows moved out of the default partition, retention dropping whole
partitions. Each test has a database of its own: partitions are schema, not rows."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from alembic import command
from sqlalchemy import Connection, text

import tradestore.ops
from tradestore import Database
from tradestore.db import partitioning
from tradestore.errors import DuplicateFill, ValidationError
from tradestore.migrate import alembic_config, compare_schema
from tradestore.ops.retention import prune

pytestmark = pytest.mark.postgres_only

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
#: A month with a partition of its own once rows exist there: two years back.
OLD = dt.datetime(2024, 11, 10, 9, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def pdb(fresh_url: str, clock: Clock) -> Iterator[Database]:
    database = Database(fresh_url, clock=clock)
    database.upgrade()
    yield database
    database.dispose()


def _fill(database: Database, bot: str, cid: str, when: dt.datetime, n: int = 1) -> str:
    """A market order of ``n`` units filled by ``n`` fills at ``when`` (+ minutes)."""
    with database.unit_of_work(bot_id=bot) as uow:
        order = uow.orders.submit(
            client_order_id=cid,
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal(n),
            submitted_at=when,
        )
        uow.orders.ingest_fills(
            {
                "fill_id": f"{cid}-f{i}",
                "order_id": order.order_id,
                "quantity": Decimal(1),
                "price": Decimal(100),
                "filled_at": when + dt.timedelta(minutes=i),
            }
            for i in range(n)
        )
    return order.order_id


def _dsn(database: Database) -> str:
    """The database's URL for a raw psycopg2 connection (a bot's own transaction)."""
    return database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _register(database: Database, *bots: str) -> None:
    with database.unit_of_work() as uow:
        for bot in bots:
            uow.bots.register(bot, mode="paper")


def _scalar(database: Database, sql: str, **params: Any) -> Any:
    with database.engine.connect() as connection:
        value = connection.execute(text(sql), params).scalar()
        connection.rollback()
    return value


def _rows(database: Database, table: str, order: str) -> list[tuple[Any, ...]]:
    with database.engine.connect() as connection:
        rows = [
            tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
        ]
        connection.rollback()
    return rows


def _where(database: Database, table: str) -> dict[str, int]:
    """Rows per partition of ``table`` (tableoid)."""
    with database.engine.connect() as connection:
        counts = dict(
            connection.execute(
                text(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")
            ).all()
        )
        connection.rollback()
    return counts


# --- the schema --------------------------------------------------------------------------------


def test_head_partitions_fills_and_snapshots_monthly_with_a_default(pdb: Database) -> None:
    report = tradestore.ops.list_partitions(pdb)
    assert [(p.table, p.column, p.interval, p.premake) for p in report.policies] == [
        ("fills", "filled_at", "month", 3),
        ("portfolio_snapshots", "snapshot_date", "month", 3),
    ]
    today = dt.datetime.now(dt.UTC).date().replace(day=1)
    for table in ("fills", "portfolio_snapshots"):
        mine = [p for p in report.partitions if p.table == table]
        assert mine[-1].name == f"{table}_default"
        assert mine[-1].is_default
        ranges = [(p.lower, p.upper) for p in mine[:-1]]
        assert ranges[0] == (today, partitioning.advance(today, "month"))
        assert len(ranges) == 4  # this month and three ahead
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    with pdb.engine.connect() as connection:
        assert compare_schema(connection) == []
        key = connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'fills'::regclass AND contype = 'p'"
            )
        ).scalar()
        assert key == "PRIMARY KEY (bot_id, fill_id, filled_at)"
        # 0015's autovacuum settings are on every partition (a parent has no storage)
        options = connection.execute(
            text(
                "SELECT c.reloptions FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'fills'::regclass"
            )
        ).scalars()
        assert all("autovacuum_vacuum_scale_factor=0.02" in (o or []) for o in options)


# --- fill_id idempotency across partitions -----------------------------------------------------


def test_a_fill_id_is_unique_across_partitions(pdb: Database) -> None:
    _register(pdb, "alpha", "beta")
    order_id = _fill(pdb, "alpha", "c-1", NOW)
    with pdb.unit_of_work(bot_id="alpha") as uow:
        # A replay without its time returns the stored fill; with a time months away (another
        # partition) it is a different payload, refused by name.
        stored = uow.orders.record_fill(
            order_id, fill_id="c-1-f0", quantity=Decimal(1), price=Decimal(100)
        )
        assert stored.replayed
        assert stored.fill.filled_at == NOW
    with pytest.raises(DuplicateFill, match="c-1-f0"), pdb.unit_of_work(bot_id="alpha") as uow:
        uow.orders.record_fill(
            order_id,
            fill_id="c-1-f0",
            quantity=Decimal(1),
            price=Decimal(100),
            filled_at=NOW + dt.timedelta(days=40),
        )
    # Raw SQL too: a taken (bot_id, fill_id) in any partition inserts nothing.
    with pdb.engine.begin() as connection:
        inserted = connection.execute(
            text(
                "INSERT INTO fills (bot_id, fill_id, order_id, ticker, side, quantity, price, "
                "filled_at, liquidity, commission) VALUES ('alpha', 'c-1-f0', :o, 'AAPL', "
                "'buy', 1, 100, :t, 'unknown', 0)"
            ),
            {"o": order_id, "t": NOW - dt.timedelta(days=400)},
        ).rowcount
    assert inserted == 0
    assert _scalar(pdb, "SELECT count(*) FROM fills") == 1
    # another bot's fill of the same id is its own
    _fill(pdb, "beta", "c-1", NOW)
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 2


def test_two_writers_of_one_fill_id_store_one_fill(pdb: Database) -> None:
    """The second writer waits for the first one's commit, then inserts nothing: what a
    unique index does, across partitions."""
    _register(pdb, "alpha")
    with pdb.unit_of_work(bot_id="alpha") as uow:
        order_id = uow.orders.submit(
            client_order_id="c-1",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal(2),
        ).order_id
    dsn = _dsn(pdb)
    insert = (
        "INSERT INTO fills (bot_id, fill_id, order_id, ticker, side, quantity, price, "
        "filled_at, liquidity, commission) VALUES ('alpha', 'f-x', %s, 'AAPL', 'buy', 1, "
        "100, %s, 'unknown', 0)"
    )
    first, second = psycopg2.connect(dsn), psycopg2.connect(dsn)
    try:
        with first.cursor() as cursor:
            cursor.execute(insert, (order_id, NOW))
            assert cursor.rowcount == 1
        counts: list[int] = []

        def other() -> None:
            with second.cursor() as cursor:
                cursor.execute(insert, (order_id, NOW + dt.timedelta(days=35)))
                counts.append(cursor.rowcount)
            second.commit()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting on the first writer's guard row
        first.commit()
        thread.join(10)
        assert counts == [0]
    finally:
        first.close()
        second.close()
    assert _scalar(pdb, "SELECT count(*) FROM fills") == 1


def test_deleting_fills_frees_their_ids_and_keys_cannot_change(pdb: Database) -> None:
    _register(pdb, "alpha")
    _fill(pdb, "alpha", "c-1", NOW, n=2)
    with pdb.engine.begin() as connection:
        with pytest.raises(Exception, match="cannot be changed"), connection.begin_nested():
            connection.execute(text("UPDATE fills SET filled_at = filled_at + interval '1 day'"))
        # position_id and the other columns stay writable
        connection.execute(text("UPDATE fills SET position_id = NULL"))
        connection.execute(text("DELETE FROM fills WHERE fill_id = 'c-1-f0'"))
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 1
    with pdb.engine.begin() as connection:
        connection.execute(text("TRUNCATE fills"))
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 0


# --- partitions created ahead ------------------------------------------------------------------


def test_ensure_moves_rows_out_of_the_default_partition(pdb: Database, clock: Clock) -> None:
    _register(pdb, "alpha")
    far = NOW + dt.timedelta(days=400)  # past the three months made ahead
    for when, cid in ((OLD, "old"), (far, "far"), (NOW, "now")):
        clock.now = when
        _fill(pdb, "alpha", cid, when, n=2)
        with pdb.unit_of_work(bot_id="alpha") as uow:
            uow.snapshots.record(
                total_equity=Decimal(1000), cash_balance=Decimal(1000), snapshot_date=when.date(),
                snapshot_time=when,
            )  # fmt: skip
    clock.now = NOW
    assert _where(pdb, "fills")["fills_default"] == 4
    dry = tradestore.ops.ensure_partitions(pdb, today=NOW.date(), dry_run=True)
    expected = [f"fills_p{OLD:%Y%m01}", f"fills_p{far:%Y%m01}"]
    assert sorted(n for n in dry.created if n.startswith("fills_")) == sorted(expected)
    assert _where(pdb, "fills")["fills_default"] == 4  # a dry run creates nothing

    report = tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    assert report.created == dry.created
    assert "fills_default" not in _where(pdb, "fills")
    assert _where(pdb, "fills")[f"fills_p{OLD:%Y%m01}"] == 2
    assert "portfolio_snapshots_default" not in _where(pdb, "portfolio_snapshots")
    # the moved fills keep their guard rows: a replay is still one fill
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 6
    with pdb.engine.begin() as connection:
        connection.execute(text("INSERT INTO fills SELECT * FROM fills WHERE fill_id = 'old-f0' "))
    assert _scalar(pdb, "SELECT count(*) FROM fills") == 6
    assert tradestore.ops.ensure_partitions(pdb, today=NOW.date()).created == ()
    with pdb.engine.connect() as connection:
        assert compare_schema(connection) == []


def test_a_changed_interval_cuts_the_next_partitions(pdb: Database) -> None:
    policy = tradestore.ops.set_partition_policy(pdb, "fills", interval="week", premake=2)
    assert (policy.interval, policy.premake) == ("week", 2)
    last = [p for p in tradestore.ops.list_partitions(pdb).partitions if p.table == "fills"][-2]
    assert last.upper is not None
    later = last.upper + dt.timedelta(days=10)
    created = tradestore.ops.ensure_partitions(pdb, today=later).created
    fills = [p for p in tradestore.ops.list_partitions(pdb).partitions if p.table == "fills"]
    new = [p for p in fills if p.name in created]
    # no gap, no overlap: the first one runs from the last month's end to the next Monday
    assert new
    assert new[0].lower == last.upper
    assert all(a.upper == b.lower for a, b in itertools.pairwise(new))
    assert all(p.upper and p.lower and (p.upper - p.lower).days == 7 for p in new[1:])
    assert all(p.upper and p.upper.weekday() == 0 for p in new)
    with pytest.raises(ValidationError, match="interval"):
        tradestore.ops.set_partition_policy(pdb, "fills", interval="fortnight")
    with pytest.raises(ValidationError, match="orders"):
        tradestore.ops.set_partition_policy(pdb, "orders", premake=1)


# --- retention ---------------------------------------------------------------------------------


def test_prune_drops_whole_partitions_and_deletes_the_rest(pdb: Database, clock: Clock) -> None:
    _register(pdb, "alpha")
    old_month = dt.datetime(2024, 9, 10, tzinfo=dt.UTC)
    mixed_month = dt.datetime(2024, 10, 10, tzinfo=dt.UTC)
    for when, cid in ((old_month, "a"), (old_month, "b"), (mixed_month, "c"), (NOW, "d")):
        clock.now = when
        _fill(pdb, "alpha", cid, when, n=3)
    # an order of the mixed month still open (partially filled): its fill and it stay
    clock.now = mixed_month
    with pdb.unit_of_work(bot_id="alpha") as uow:
        open_order = uow.orders.submit(
            client_order_id="open", ticker="AAPL", side="buy", order_type="market",
            quantity=Decimal(5), submitted_at=mixed_month,
        )  # fmt: skip
        uow.orders.record_fill(
            open_order.order_id, fill_id="open-f0", quantity=Decimal(1), price=Decimal(100),
            filled_at=mixed_month,
        )  # fmt: skip
    clock.now = NOW
    tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    before = tradestore.ops.list_partitions(pdb)
    size = {p.name: p.total_bytes for p in before.partitions}

    dry = prune(pdb, older_than=dt.timedelta(days=365), now=NOW, dry_run=True)
    assert dry.partitions == ("fills_p20240901",)
    report = prune(pdb, older_than=dt.timedelta(days=365), now=NOW)
    assert report.partitions == dry.partitions
    assert report.counts["fills"] == dry.counts["fills"] == 9  # 6 dropped + 3 deleted
    assert report.counts["orders"] == dry.counts["orders"] == 3
    names = {p.name for p in tradestore.ops.list_partitions(pdb).partitions}
    assert "fills_p20240901" not in names
    assert "fills_p20241001" in names
    assert size["fills_p20240901"] > 0
    assert sorted(r[1] for r in _rows(pdb, "fills", "fill_id")) == [
        "d-f0", "d-f1", "d-f2", "open-f0",
    ]  # fmt: skip
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 4
    # the dropped ids are free again, the kept ones are not
    with pdb.unit_of_work(bot_id="alpha") as uow:
        again = uow.orders.record_fill(
            open_order.order_id, fill_id="a-f0", quantity=Decimal(1), price=Decimal(100)
        )
    assert not again.replayed
    assert again.fill.fill_id == "a-f0"
    assert prune(pdb, older_than=dt.timedelta(days=365), now=NOW).total == 0


def test_prune_drops_snapshot_partitions_wholly_before_the_cutoff(
    pdb: Database, clock: Clock
) -> None:
    _register(pdb, "alpha")
    start = dt.datetime(2024, 8, 1, 18, tzinfo=dt.UTC)
    with pdb.unit_of_work(bot_id="alpha") as uow:
        for day in range(0, 150, 3):
            when = start + dt.timedelta(days=day)
            uow.snapshots.record(
                total_equity=Decimal(1000), cash_balance=Decimal(1000), snapshot_date=when.date(),
                snapshot_time=when,
            )  # fmt: skip
    tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    cutoff = dt.datetime(2024, 10, 15, tzinfo=dt.UTC)
    expected = _scalar(
        pdb, "SELECT count(*) FROM portfolio_snapshots WHERE snapshot_time < :c", c=cutoff
    )
    report = prune(pdb, cutoff=cutoff, now=NOW, tables=["portfolio_snapshots"])
    assert report.partitions == ("portfolio_snapshots_p20240801", "portfolio_snapshots_p20240901")
    assert report.counts["portfolio_snapshots"] == expected
    assert _scalar(pdb, "SELECT min(snapshot_time) FROM portfolio_snapshots") >= cutoff


# --- the conversion, both ways, and the options ------------------------------------------------


def _contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "fills": _rows(database, "fills", "bot_id, fill_id"),
        "portfolio_snapshots": _rows(database, "portfolio_snapshots", "snapshot_id"),
        "v_order_fill_stats": _rows(database, "v_order_fill_stats", "1, 2"),
        "v_equity_curve": _rows(database, "v_equity_curve", "1, 2"),
    }


def _relkind(connection: Connection, name: str) -> str | None:
    return connection.execute(
        text("SELECT relkind FROM pg_class WHERE relname = :n"), {"n": name}
    ).scalar()


def test_down_to_plain_tables_and_up_again_keeps_every_row(pdb: Database, clock: Clock) -> None:
    _register(pdb, "alpha", "beta")
    for when, cid in ((OLD, "old"), (NOW, "now")):
        clock.now = when
        for bot in ("alpha", "beta"):
            _fill(pdb, bot, cid, when, n=2)
            with pdb.unit_of_work(bot_id=bot) as uow:
                uow.snapshots.record(
                    total_equity=Decimal(1000),
                    cash_balance=Decimal(990),
                    snapshot_date=when.date(),
                    snapshot_time=when,
                )
    clock.now = NOW
    contents = _contents(pdb)
    assert len(contents["fills"]) == 8
    assert len(contents["v_order_fill_stats"]) == 4

    pdb.downgrade("0015")
    assert _contents(pdb) == contents
    with pdb.engine.connect() as connection:
        assert _relkind(connection, "fills") == "r"
        assert _relkind(connection, "fill_ids") is None
        assert _relkind(connection, "fills_default") is None
        key = connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'fills'::regclass AND contype = 'p'"
            )
        ).scalar()
        assert key == "PRIMARY KEY (bot_id, fill_id)"
        # the snapshots' sequence survived the round trip: the next id follows the last
        assert connection.execute(
            text("SELECT pg_get_serial_sequence('portfolio_snapshots', 'snapshot_id')")
        ).scalar()
        connection.rollback()

    pdb.upgrade()
    assert _contents(pdb) == contents
    with pdb.engine.connect() as connection:
        assert _relkind(connection, "fills") == "p"
        assert compare_schema(connection) == []
        connection.rollback()
    assert _where(pdb, "fills")[f"fills_p{OLD:%Y%m01}"] == 4
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 8
    with pdb.unit_of_work(bot_id="alpha") as uow:
        snapshot = uow.snapshots.record(
            total_equity=Decimal(1),
            cash_balance=Decimal(1),
            snapshot_date=NOW.date() + dt.timedelta(days=1),
        )
    assert snapshot.snapshot_id > max(row[0] for row in contents["portfolio_snapshots"])


def test_partitioning_none_keeps_plain_tables(fresh_url: str) -> None:
    database = Database(fresh_url)
    try:
        with pytest.raises(ValidationError, match="partitioning"):
            database.upgrade(partitioning="fortnight")
        database.upgrade(partitioning="none")
        assert tradestore.ops.list_partitions(database).policies == ()
        assert tradestore.ops.ensure_partitions(database).created == ()
        with database.engine.connect() as connection:
            assert _relkind(connection, "fills") == "r"
            assert compare_schema(connection) == []
            connection.rollback()
        _register(database, "alpha")
        order_id = _fill(database, "alpha", "c-1", NOW)
        with database.unit_of_work(bot_id="alpha") as uow:
            again = uow.orders.record_fill(
                order_id, fill_id="c-1-f0", quantity=Decimal(1), price=Decimal(100)
            )
        assert again.replayed
        assert again.fill.filled_at == NOW
        assert prune(database, older_than=dt.timedelta(days=1), now=NOW).partitions == ()
    finally:
        database.dispose()


def test_weekly_partitions(fresh_url: str) -> None:
    database = Database(fresh_url)
    try:
        database.upgrade(partitioning="week")
        report = tradestore.ops.list_partitions(database)
        assert {p.interval for p in report.policies} == {"week"}
        ranges = [p for p in report.partitions if p.table == "fills" and not p.is_default]
        assert all(p.lower and p.upper and (p.upper - p.lower).days == 7 for p in ranges)
        assert all(p.lower and p.lower.weekday() == 0 for p in ranges)
    finally:
        database.dispose()


def test_stats_size_a_partitioned_table_by_its_partitions(pdb: Database) -> None:
    """A partitioned table has no storage of its own: its size is its partitions'."""
    _register(pdb, "alpha")
    _fill(pdb, "alpha", "c-1", NOW, n=3)
    stats = tradestore.ops.database_stats(pdb)
    fills = next(t for t in stats.tables if t.name == "fills")
    partitions = [p for p in tradestore.ops.list_partitions(pdb).partitions if p.table == "fills"]
    assert fills.rows == 3
    assert fills.total_bytes == sum(p.total_bytes for p in partitions) > 0
    assert not any(t.name.startswith("fills_p") for t in stats.tables)


def test_backup_and_restore_keep_partitions_and_the_guard(
    pdb: Database, clock: Clock, tmp_path: Path
) -> None:
    """``pg_restore --clean`` alone cannot restore over partitioned tables (it drops each
    partition's inherited key on its own): the restore's script filter makes it work."""
    _register(pdb, "alpha")
    for when, cid in ((OLD, "old"), (NOW, "now")):
        clock.now = when
        _fill(pdb, "alpha", cid, when, n=2)
    clock.now = NOW
    tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    contents = _contents(pdb)
    partitions = tradestore.ops.list_partitions(pdb).partitions
    backup = tradestore.ops.backup_database(pdb, directory=tmp_path)
    _fill(pdb, "alpha", "after", NOW, n=2)  # written after the backup: gone after the restore

    result = tradestore.ops.restore_database(pdb, backup.backup.path, safety_backup=False)
    assert result.verify.ok, result.verify
    assert _contents(pdb) == contents
    restored = tradestore.ops.list_partitions(pdb).partitions
    assert [(p.name, p.lower, p.upper) for p in restored] == [
        (p.name, p.lower, p.upper) for p in partitions
    ]
    assert _scalar(pdb, "SELECT count(*) FROM fill_ids") == 4
    # the guard's triggers came back: a replay with another time is still one fill
    with pdb.engine.begin() as connection:
        connection.execute(text("INSERT INTO fills SELECT * FROM fills WHERE fill_id = 'old-f0'"))
    assert _scalar(pdb, "SELECT count(*) FROM fills") == 4


def test_alembic_x_argument_chooses_the_interval(fresh_url: str) -> None:
    """``alembic -x partitioning=quarter upgrade head``, as a project's own Alembic runs it."""
    config = alembic_config(fresh_url)
    config.cmd_opts = argparse.Namespace(x=["partitioning=quarter"])
    command.upgrade(config, "head")
    database = Database(fresh_url)
    try:
        report = tradestore.ops.list_partitions(database)
        assert {p.interval for p in report.policies} == {"quarter"}
        lowers = [p.lower for p in report.partitions if p.lower is not None]
        assert lowers
        assert all(d.month in (1, 4, 7, 10) and d.day == 1 for d in lowers)
    finally:
        database.dispose()


def test_record_fill_on_an_order_older_than_its_window(pdb: Database, clock: Clock) -> None:
    """record_fill reads fills within FILLS_WINDOW (partition pruning at planning): an order
    whose first fill came long before is read again without the window, and a replay of
    that old fill is still a replay."""
    _register(pdb, "alpha")
    start = NOW - dt.timedelta(days=120)
    clock.now = start
    with pdb.unit_of_work(bot_id="alpha") as uow:
        order = uow.orders.submit(
            client_order_id="gtc", ticker="AAPL", side="buy", order_type="limit",
            quantity=Decimal(3), limit_price=Decimal(101), time_in_force="gtc",
        )  # fmt: skip
        uow.orders.record_fill(
            order.order_id, fill_id="g-1", quantity=Decimal(1), price=Decimal(100)
        )
    clock.now = NOW
    with pdb.unit_of_work(bot_id="alpha") as uow:
        second = uow.orders.record_fill(
            order.order_id, fill_id="g-2", quantity=Decimal(1), price=Decimal(99)
        )
        replay = uow.orders.record_fill(
            order.order_id, fill_id="g-1", quantity=Decimal(1), price=Decimal(100)
        )
    assert not second.replayed
    assert second.order.filled_quantity == 2
    assert second.order.filled_avg_price == Decimal("99.5")
    assert replay.replayed
    assert replay.fill.filled_at == start
    assert _scalar(pdb, "SELECT count(*) FROM fills") == 2


def test_a_fill_of_an_open_position_keeps_its_partition(pdb: Database, clock: Clock) -> None:
    """An old, filled order whose fill belongs to a position still open is not pruned, so
    neither is its month's partition (the other months' go)."""
    _register(pdb, "alpha")
    months = (dt.datetime(2024, 7, 10, tzinfo=dt.UTC), dt.datetime(2024, 8, 10, tzinfo=dt.UTC))
    for when, cid in zip(months, ("july", "august"), strict=True):
        clock.now = when
        _fill(pdb, "alpha", cid, when, n=2)
    clock.now = NOW
    with pdb.unit_of_work(bot_id="alpha") as uow:
        uow.positions.open(
            "AAPL", side="long", quantity=Decimal(2), entry_price=Decimal(100),
            position_id="held", opened_at=months[1],
        )  # fmt: skip
    with pdb.engine.begin() as connection:
        connection.execute(
            text("UPDATE fills SET position_id = 'held' WHERE fill_id = 'august-f0'")
        )
    tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    report = prune(pdb, older_than=dt.timedelta(days=365), now=NOW)
    assert report.partitions == ("fills_p20240701",)
    assert sorted(r[1] for r in _rows(pdb, "fills", "fill_id")) == ["august-f0", "august-f1"]


def _holding_orders(database: Database) -> Any:
    """A bot's open transaction that has written an order (ROW EXCLUSIVE on orders)."""
    bot = psycopg2.connect(_dsn(database))
    with bot.cursor() as cursor:
        cursor.execute("UPDATE orders SET updated_at = updated_at WHERE client_order_id = 'live'")
        cursor.execute("SELECT count(*) FROM fills")  # and reads fills, as record_fill does
    return bot


def test_prune_gives_way_to_a_bot_holding_locks(pdb: Database, clock: Clock) -> None:
    """The drop takes its locks first and waits LOCK_TIMEOUT at most: with a bot's
    transaction in the way it falls back to batched deletes, no deadlock, the bot's
    transaction untouched."""
    _register(pdb, "alpha")
    clock.now = OLD
    _fill(pdb, "alpha", "old", OLD, n=2)
    clock.now = NOW
    _fill(pdb, "alpha", "live", NOW)
    tradestore.ops.ensure_partitions(pdb, today=NOW.date())
    bot = _holding_orders(pdb)
    try:
        report = prune(pdb, older_than=dt.timedelta(days=365), now=NOW, tables=["orders"])
        assert report.partitions == ()
        assert report.counts["fills"] == 2  # deleted in batches instead
        with bot.cursor() as cursor:  # the bot's transaction goes on and commits
            cursor.execute("SELECT count(*) FROM fills")
            assert cursor.fetchone() == (1,)
        bot.commit()
    finally:
        bot.close()


def test_ensure_waits_for_a_bot_then_creates(pdb: Database, clock: Clock) -> None:
    _register(pdb, "alpha")
    _fill(pdb, "alpha", "live", NOW)
    bot = _holding_orders(pdb)
    release = threading.Timer(1.2, bot.commit)
    release.start()
    try:
        later = NOW.date() + dt.timedelta(days=200)
        report = tradestore.ops.ensure_partitions(pdb, today=later)
        assert report.created  # tried again until the bot's transaction ended
    finally:
        release.join()
        bot.close()
