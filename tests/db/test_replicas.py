"""Read replicas against a real streaming replica (issue 14, item 2).

A module fixture makes a throwaway primary (initdb, on a port of its own) and a streaming
replica of it (``pg_basebackup -R`` into a second cluster on another port); the shared test
server is only used for the replica-that-never-answers case, read-only. Where a unit of work
ran is read through the unit of work itself: ``pg_is_in_recovery()`` and the server's port.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D  # noqa: N817

import pytest
from sqlalchemy import text

from pg_clusters import (
    PG_BIN,
    Cluster,
    free_port,
    private_dir,
    require_tools,
    run_as_postgres,
    stop_and_remove,
    throwaway_cluster,
    wait_for,
)
from tradestore import Database
from tradestore.db.replicas import ANY_SERVER, parse_lsn
from tradestore.errors import ConfigurationError, ValidationError
from tradestore.unit_of_work import UnitOfWork

BOT = "replica-bot"
PASSWORD = "s3cret-Replica-pw"  # trust authentication ignores it; the logs must not show it
LAG = dt.timedelta(seconds=1)
WIDE = dt.timedelta(seconds=30)
INTERVAL = 0.2


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster
    database: str

    def db(self, **options: object) -> Database:
        # Wide unless a test is about the bound: a loaded machine must not make one flaky.
        options.setdefault("max_replica_lag", WIDE)
        options.setdefault("replica_check_interval", INTERVAL)
        return Database(
            self.primary.url(self.database),
            replicas=[self.replica.url(self.database, password=PASSWORD)],
            **options,  # type: ignore[arg-type]
        )

    def replica_sql(self, sql: str) -> object:
        return self.replica.execute(sql)

    def caught_up(self) -> bool:
        primary = parse_lsn(str(self.primary.execute("SELECT pg_current_wal_flush_lsn()")))
        replayed = self.replica.execute("SELECT pg_last_wal_replay_lsn()")
        return replayed is not None and parse_lsn(str(replayed)) >= primary


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    require_tools("initdb", "pg_ctl", "pg_basebackup")
    with throwaway_cluster("tradestore-primary-", wal_level="replica", fsync="off") as primary:
        database = "tradestore_replicas"
        url = primary.create_database(database)
        Database(url, check_schema=False).upgrade()
        replica = Cluster(private_dir("tradestore-replica-"), free_port(), {"fsync": "off"})
        try:
            run_as_postgres(
                [
                    str(PG_BIN / "pg_basebackup"),
                    f"--dbname=host=127.0.0.1 port={primary.port} user=postgres",
                    f"--pgdata={replica.data}",
                    "--write-recovery-conf",
                    "--wal-method=stream",
                    "--checkpoint=fast",
                    "--no-sync",
                ]
            )
            replica.configure()
            replica.start()
            pair = Pair(primary, replica, database)
            wait_for(pair.caught_up, "the replica replays the primary's WAL")
            yield pair
        finally:
            stop_and_remove(replica)


@pytest.fixture
def replay(pair: Pair) -> Iterator[Pair]:
    """The pair, with replay running again (and caught up) after the test, whatever it did."""
    try:
        yield pair
    finally:
        if not pair.replica.running:
            pair.replica.start()
        pair.replica_sql("SELECT pg_wal_replay_resume()")
        wait_for(pair.caught_up, "the replica catches up after the test")


def where(uow: UnitOfWork) -> tuple[bool, int]:
    """(in recovery, port) of the server this unit of work runs on."""
    standby, port = uow.executor.execute(
        text("SELECT pg_is_in_recovery(), CAST(current_setting('port') AS integer)")
    ).one()
    return bool(standby), int(port)


def read_where(db: Database, **options: object) -> tuple[bool, int]:
    with db.unit_of_work(readonly=True, **options) as uow:  # type: ignore[arg-type]
        return where(uow)


def register(db: Database, bot_id: str = BOT) -> None:
    with db.unit_of_work() as uow:
        uow.bots.register(bot_id, mode="paper", starting_balance=D(1000))


def test_reads_go_to_the_replica_and_writes_to_the_primary(replay: Pair) -> None:
    db = replay.db()
    try:
        register(db)  # the first unit of work checks the schema, on the primary
        with db.unit_of_work(bot_id=BOT) as uow:
            assert where(uow) == (False, replay.primary.port)
            uow.positions.open("AAPL", side="long", quantity=D(1), entry_price=D(10), strategy="s")
        wait_for(replay.caught_up, "the replica replays the write")
        assert read_where(db) == (True, replay.replica.port)
        with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
            assert where(uow) == (True, replay.replica.port)
            assert [p.ticker for p in uow.positions.list_open()] == ["AAPL"]
            assert uow.analytics.position_summary() is not None
        # recover writes (it opens a trading session): always the primary.
        with db.unit_of_work(bot_id=BOT) as uow:
            assert where(uow)[1] == replay.primary.port
            state = uow.bots.recover(BOT)
        assert [p.ticker for p in state.open_positions] == ["AAPL"]
        (status,) = db.replica_status()
        assert status.state == "in use"
        assert status.reads >= 2
        assert PASSWORD not in status.url
        assert PASSWORD not in repr(db.replica_status())
    finally:
        db.dispose()


def test_an_idle_primary_does_not_make_a_caught_up_replica_look_stale(replay: Pair) -> None:
    """The last replayed commit ages while nothing is written; the WAL positions say the
    replica misses nothing, so it stays in use beyond the lag bound."""
    db = replay.db(max_replica_lag=LAG)
    try:
        register(db)
        wait_for(replay.caught_up, "the replica replays the write")
        read_where(db)  # starts the primary's samples
        seconds = LAG.total_seconds() * 2

        def old_commit() -> bool:
            age = replay.replica_sql(
                "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            )
            read_where(db)  # keeps the samples coming, as a reading bot would
            return age is not None and float(age) > seconds  # type: ignore[arg-type]

        wait_for(old_commit, "the replica's last replayed commit is older than twice the bound")
        assert read_where(db) == (True, replay.replica.port)
    finally:
        db.dispose()


def test_read_your_writes(replay: Pair) -> None:
    db = replay.db(max_replica_lag=dt.timedelta(hours=1))  # only the token keeps it off
    try:
        register(db)
        wait_for(replay.caught_up, "the replica replays the registration")
        replay.replica_sql("SELECT pg_wal_replay_pause()")
        with db.unit_of_work(bot_id=BOT) as uow:
            opened = uow.positions.open(
                "MSFT", side="long", quantity=D(2), entry_price=D(300), strategy="ryw"
            )
        token = uow.commit_token()
        assert uow.commit_token() is token  # read once, then kept

        # Without the token a read may see the past: the replica is within the (wide) bound.
        with db.unit_of_work(bot_id=BOT, readonly=True) as reader:
            assert where(reader) == (True, replay.replica.port)
            assert reader.positions.find(opened.position_id) is None
        # With it, the read runs where the write is: the primary while replay is paused.
        for options in ({"consistent_with": token}, {"fresh": True}):
            with db.unit_of_work(bot_id=BOT, readonly=True, **options) as reader:  # type: ignore[arg-type]
                assert where(reader) == (False, replay.primary.port)
                assert reader.positions.get(opened.position_id).ticker == "MSFT"
        replay.replica_sql("SELECT pg_wal_replay_resume()")
        wait_for(replay.caught_up, "the replica replays the position")
        with db.unit_of_work(bot_id=BOT, readonly=True, consistent_with=token) as reader:
            assert where(reader) == (True, replay.replica.port)
            assert reader.positions.get(opened.position_id).ticker == "MSFT"
    finally:
        db.dispose()


def test_a_lagging_replica_is_skipped_beyond_the_bound(
    replay: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    db = replay.db(max_replica_lag=LAG)
    try:
        register(db)
        wait_for(replay.caught_up, "the replica replays the registration")
        assert read_where(db) == (True, replay.replica.port)
        replay.replica_sql("SELECT pg_wal_replay_pause()")
        with db.unit_of_work(bot_id=BOT) as uow:
            uow.positions.open("NVDA", side="long", quantity=D(1), entry_price=D(1), strategy="l")
        with caplog.at_level(logging.INFO, logger="tradestore.db.replicas"):
            wait_for(
                lambda: read_where(db) == (False, replay.primary.port),
                "reads move to the primary once the paused replica lags beyond the bound",
            )
            (status,) = db.replica_status()
            assert status.state == "lagging"
            assert status.lag is not None
            assert status.lag > LAG
            assert db.primary_reads >= 1
            replay.replica_sql("SELECT pg_wal_replay_resume()")
            wait_for(
                lambda: read_where(db) == (True, replay.replica.port),
                "the replica is used again once it has caught up",
            )
        messages = [r.getMessage() for r in caplog.records]
        assert any("skipped (lagging" in m for m in messages), messages
        assert any("in use again" in m for m in messages), messages
        assert not any(PASSWORD in m for m in messages)
    finally:
        db.dispose()


def test_a_replica_stopped_mid_run_costs_no_read_and_comes_back(
    replay: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    db = replay.db()
    try:
        register(db)
        wait_for(replay.caught_up, "the replica replays the registration")
        for _ in range(3):
            assert read_where(db) == (True, replay.replica.port)  # pooled connections now
        with caplog.at_level(logging.INFO, logger="tradestore.db.replicas"):
            replay.replica.stop("immediate")
            for n in range(20):  # reads on, no error: the primary serves them
                with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
                    assert where(uow) == (False, replay.primary.port)
                    assert uow.bots.get(BOT).bot_id == BOT
                if n == 10:
                    with db.unit_of_work(bot_id=BOT) as uow:  # and writes, as always
                        uow.positions.open(
                            "AMD", side="long", quantity=D(1), entry_price=D(1), strategy="d"
                        )
            (status,) = db.replica_status()
            assert status.state == "down"
            assert status.last_error
            replay.replica.start()
            wait_for(
                lambda: read_where(db) == (True, replay.replica.port),
                "the restarted replica is used again",
            )
        with db.unit_of_work(bot_id=BOT, readonly=True) as uow:
            assert [p.ticker for p in uow.positions.list_open()].count("AMD") == 1
        text_logged = caplog.text
        assert "skipped (down" in text_logged
        assert PASSWORD not in text_logged
        assert "***" in text_logged
    finally:
        db.dispose()


def test_the_async_database_reads_on_the_replica(replay: Pair) -> None:
    pytest.importorskip("asyncpg")
    from tradestore.aio import AsyncDatabase

    async def scenario() -> None:
        db = AsyncDatabase(
            replay.primary.url(replay.database),
            replicas=[replay.replica.url(replay.database)],
            max_replica_lag=WIDE,
            replica_check_interval=INTERVAL,
        )
        try:
            async with db.unit_of_work() as uow:
                await uow.bots.register(BOT, mode="paper", starting_balance=D(1000))
                assert (await uow.run_sync(where))[1] == replay.primary.port
            token = await uow.commit_token()
            async with db.unit_of_work(readonly=True, consistent_with=token) as reader:
                assert (await reader.bots.get(BOT)).bot_id == BOT
            await asyncio.to_thread(wait_for, replay.caught_up, "the replica catches up")
            async with db.unit_of_work(readonly=True) as reader:
                assert await reader.run_sync(where) == (True, replay.replica.port)
            assert db.replica_status()[0].state == "in use"
        finally:
            await db.dispose()

    asyncio.run(scenario())


# --- without a replica cluster --------------------------------------------------------------


@pytest.mark.postgres_only
def test_a_replica_that_never_answers_is_skipped(db: Database) -> None:
    port = free_port()  # nothing listens there
    with Database(
        db.url,
        replicas=[f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/nothing"],
        replica_check_interval=0.05,
    ) as routed:
        for _ in range(3):
            with routed.unit_of_work(readonly=True) as uow:
                assert uow.executor.execute(text("SELECT pg_is_in_recovery()")).scalar() is False
        (status,) = routed.replica_status()
        assert status.state == "down"
        assert PASSWORD not in f"{status}"
        assert routed.primary_reads >= 1


def test_tokens_without_replicas(db: Database) -> None:
    with db.unit_of_work() as uow, pytest.raises(ValidationError, match="after the with block"):
        uow.commit_token()
    assert uow.commit_token() == ANY_SERVER
    with db.unit_of_work(readonly=True, consistent_with=uow.commit_token(), fresh=True) as r:
        assert r.commit_token() == ANY_SERVER
    with pytest.raises(ValidationError, match="readonly=True"), db.unit_of_work(fresh=True):
        pass


@pytest.mark.sqlite_only
def test_sqlite_refuses_replicas(db: Database) -> None:
    with pytest.raises(ConfigurationError, match=r"replicas=.*SQLite"):
        Database(db.url, replicas=["postgresql://postgres@127.0.0.1:55299/x"])


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_replica_lag"):
        Database(
            "postgresql://postgres@127.0.0.1:55299/x",
            replicas=["postgresql://postgres@127.0.0.1:55298/x"],
            max_replica_lag=dt.timedelta(0),
        )
    with pytest.raises(ConfigurationError, match="lower replica_check_interval"):
        Database(
            "postgresql://postgres@127.0.0.1:55299/x",
            replicas=["postgresql://postgres@127.0.0.1:55298/x"],
            max_replica_lag=dt.timedelta(seconds=1),
            replica_check_interval=2,
        )
    with pytest.raises(ConfigurationError, match="not a PostgreSQL URL"):
        Database("postgresql://postgres@127.0.0.1:55299/x", replicas=["sqlite:///x.db"])


def test_the_lag_is_the_tighter_of_the_two_upper_bounds() -> None:
    """Samples of the primary's position at t=10 (position 100) and t=20 (position 200)."""
    from sqlalchemy import create_engine

    from tradestore.db.replicas import ReplicaSet

    now = 25.0
    replicas = ReplicaSet(
        create_engine("sqlite://"), [], max_lag=5.0, check_interval=1.0, clock=lambda: now
    )
    replicas._samples.extend([(10.0, 100), (20.0, 200)])
    # Reached the newest sample: at most 5 s behind, however old its last commit (idle primary).
    assert replicas._lag(200, 3600.0, now) == 5.0
    # Reached only the older sample; its last commit 2 s ago is the tighter bound (busy primary).
    assert replicas._lag(150, 2.0, now) == 2.0
    assert replicas._lag(150, 3600.0, now) == 15.0
    # Behind every sample: only the replay timestamp says anything; with neither, unknown.
    assert replicas._lag(50, 7.0, now) == 7.0
    assert replicas._lag(50, None, now) is None
    assert replicas._lag(None, None, now) is None
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
