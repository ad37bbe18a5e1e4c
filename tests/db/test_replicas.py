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
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal as D  # noqa: N817

import pytest
from sqlalchemy import Engine, create_engine, event, make_url, text

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
from tradestore.db.engine import EngineOptions, _postgres_connect_args
from tradestore.db.replicas import ANY_SERVER, ReplicaSet, _Replica, parse_lsn
from tradestore.db.retry import NO_RETRY
from tradestore.errors import ConfigurationError, DatabaseUnavailable, ValidationError
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


# --- back-off, one probe at a time, pool exhaustion, clocks (fake clocks and sockets) ------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def connect_attempts(engine: Engine) -> list[int]:
    """A list that grows by one for each connection the engine tries to open."""
    attempts: list[int] = []
    event.listen(engine, "do_connect", lambda *_args: attempts.append(1))
    return attempts


def refusing_engine() -> Engine:
    """An engine to a port nothing listens on: every connect is refused at once."""
    port = free_port()
    return create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/nothing")


def test_a_down_replica_rests_longer_each_time_it_is_found_down() -> None:
    clock = FakeClock()
    primary, replica = refusing_engine(), refusing_engine()
    attempts = connect_attempts(replica)
    replicas = ReplicaSet(
        primary, [(replica.url, replica)], max_lag=5.0, check_interval=1.0, clock=clock
    )
    try:
        rests = []
        for _ in range(9):
            before = len(attempts)
            assert replicas.open_read() is None
            assert len(attempts) == before + 1  # probed once the rest is over
            (replica_state,) = replicas._replicas
            rest = replica_state.resting_until - clock.now
            rests.append(rest)
            clock.now += rest / 2
            assert replicas.open_read() is None  # resting: passed by, not probed
            assert len(attempts) == before + 1
            clock.now = replica_state.resting_until + 0.001
        assert rests == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
        assert replicas.status()[0].state == "down"
    finally:
        primary.dispose()
        replica.dispose()


def test_an_unreachable_primary_is_sampled_less_and_less_often(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    primary = refusing_engine()
    attempts = connect_attempts(primary)
    replicas = ReplicaSet(primary, [], max_lag=5.0, check_interval=1.0, clock=clock)
    try:
        tries_at = []
        with caplog.at_level(logging.WARNING, logger="tradestore.db.replicas"):
            for _ in range(200):  # a read every 0.5 s for 100 s
                before = len(attempts)
                replicas._sample_if_due()
                if len(attempts) > before:
                    tries_at.append(clock.now - 1000.0)
                clock.now += 0.5
        assert tries_at == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
        assert replicas.primary_unreachable
        warnings = [r for r in caplog.records if "cannot be sampled" in r.getMessage()]
        assert len(warnings) == 1  # once, not per try
    finally:
        primary.dispose()


def test_the_replay_age_is_measured_on_the_primarys_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The replica's clock runs 45 s behind the primary's; its last replayed commit is 40 s
    old by the primary's clock. Its own now() would make it look 5 s in the future (lag 0)."""
    clock = FakeClock()
    replicas = ReplicaSet(
        create_engine("sqlite://"), [], max_lag=5.0, check_interval=1.0, clock=clock
    )
    primary_epoch = 1_700_000_000.0
    replicas.record_sample(clock.now - 10.0, 100, primary_epoch - 10.0)
    commit = primary_epoch - 40.0
    replica_now = primary_epoch - 45.0
    age, by_primary = replicas.replay_age(commit, replica_now, clock.now)
    assert by_primary
    assert age == pytest.approx(40.0)
    assert replicas._lag(50, age, clock.now) == pytest.approx(40.0)  # beyond the bound
    # Never sampled: the replica's clock is all there is.
    fresh = ReplicaSet(create_engine("sqlite://"), [], max_lag=5.0, check_interval=1.0)
    assert fresh.replay_age(commit, replica_now, clock.now) == (pytest.approx(-5.0), False)
    # A commit from the future is reported as skew, once.
    url = make_url("postgresql://postgres:pw@replica-1/x")
    replica = _Replica(url, create_engine("sqlite://"))
    with caplog.at_level(logging.WARNING, logger="tradestore.db.replicas"):
        replicas._note_skew(replica, -5.0, True)
        replicas._note_skew(replica, -5.0, True)
    skew = [r for r in caplog.records if "clock skew" in r.getMessage()]
    assert len(skew) == 1
    assert "pw" not in skew[0].getMessage()


def test_replica_connections_have_keepalives_and_a_short_connect_timeout() -> None:
    from tradestore.database import Settings

    settings = Settings(True, None, None, {"pool_timeout": 30, "connect_timeout": 10})
    options = settings.replica_engine_options()
    assert options["connect_timeout"] == 2
    assert options["pool_timeout"] < 0.1
    args = _postgres_connect_args(EngineOptions(**options), {})
    assert args["keepalives"] == 1
    assert args["keepalives_idle"] == 10
    assert "keepalives" not in _postgres_connect_args(EngineOptions(), {})
    with pytest.raises(ConfigurationError, match="replica_connect_timeout"):
        Database(
            "postgresql://postgres@127.0.0.1:55299/x",
            replicas=["postgresql://postgres@127.0.0.1:55298/x"],
            replica_connect_timeout=0,
        )


@pytest.mark.postgres_only
def test_a_hung_replica_is_probed_by_one_read_at_a_time(db: Database) -> None:
    """A host that accepts the TCP connection and never answers: the read probing it waits
    (up to replica_connect_timeout); the reads meanwhile pass it by and run on the primary."""
    port = free_port()
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen(16)
        listener.settimeout(0.2)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                with suppress(TimeoutError, OSError):
                    accepted.append(listener.accept()[0])

        acceptor = threading.Thread(target=accept, daemon=True)
        acceptor.start()
        routed = Database(
            db.url,
            replicas=[f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/nothing"],
            replica_check_interval=0.5,
            replica_connect_timeout=5,
        )
        try:
            with routed.unit_of_work():  # the schema check, on the primary
                pass
            prober = threading.Thread(target=lambda: read_where_primary(routed))
            prober.start()
            wait_for(lambda: len(accepted) >= 1, "the first read connects to the hung replica")
            for _ in range(5):  # while it hangs there
                read_where_primary(routed)
            assert len(accepted) == 1
            prober.join()
            (status,) = routed.replica_status()
            assert status.state == "down"
            assert status.last_error
            assert "timeout" in status.last_error.lower()
        finally:
            stop.set()
            acceptor.join()
            routed.dispose()
            for connection in accepted:
                connection.close()


def read_where_primary(db: Database) -> None:
    with db.unit_of_work(readonly=True) as uow:
        assert uow.executor.execute(text("SELECT pg_is_in_recovery()")).scalar() is False


def test_a_full_replica_pool_passes_the_read_on_without_marking_it_down(replay: Pair) -> None:
    db = replay.db(pool_size=1, max_overflow=0, pool_timeout=30)
    held, release = threading.Event(), threading.Event()
    seen: list[tuple[bool, int]] = []

    def hold() -> None:
        with db.unit_of_work(readonly=True) as uow:
            seen.append(where(uow))
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    try:
        register(db)
        wait_for(replay.caught_up, "the replica replays the registration")
        holder.start()
        assert held.wait(60)
        assert seen == [(True, replay.replica.port)]
        assert read_where(db) == (False, replay.primary.port)  # the pool is full: the primary
        (status,) = db.replica_status()
        assert status.state == "in use"
        assert status.skipped >= 1
        release.set()
        holder.join()
        assert read_where(db) == (True, replay.replica.port)
    finally:
        release.set()
        if holder.is_alive():
            holder.join()
        db.dispose()


def test_a_replica_that_has_not_replayed_the_schema_serves_no_reads(replay: Pair) -> None:
    """Within the lag bound, but behind a migration: its tables are the older revision's."""
    url = replay.primary.url(replay.database)
    with Database(url, check_schema=False) as plain:
        register(plain, "schema-bot")
    wait_for(replay.caught_up, "the replica replays the registration")
    replay.replica_sql("SELECT pg_wal_replay_pause()")
    # What a migration does, as far as the replica can tell: DDL it has not replayed.
    replay.primary.execute("CREATE TABLE replica_schema_marker (x integer)", replay.database)
    try:
        db = replay.db()  # checks the schema on its first unit of work: after the "migration"
        try:
            with db.unit_of_work():
                pass
            assert read_where(db) == (False, replay.primary.port)
            assert db.replica_status()[0].state == "behind the schema"
        finally:
            db.dispose()
        db = replay.db(check_schema=False)  # no check: upgrade() sets the same floor
        try:
            assert read_where(db) == (True, replay.replica.port)
            db.upgrade()
            wait_for(
                lambda: read_where(db) == (False, replay.primary.port),
                "after upgrade() reads avoid the replica that has not replayed it",
            )
            replay.replica_sql("SELECT pg_wal_replay_resume()")
            wait_for(replay.caught_up, "the replica replays the DDL")
            wait_for(
                lambda: read_where(db) == (True, replay.replica.port),
                "the replica serves reads once it has replayed the schema",
            )
        finally:
            db.dispose()
    finally:
        replay.primary.execute("DROP TABLE IF EXISTS replica_schema_marker", replay.database)


def test_with_the_primary_down_the_replica_serves_plain_reads(
    replay: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    db = replay.db(max_replica_lag=LAG)
    try:
        register(db, "primary-down-bot")
        wait_for(replay.caught_up, "the replica replays the registration")
        assert read_where(db) == (True, replay.replica.port)
        with caplog.at_level(logging.WARNING, logger="tradestore.db.replicas"):
            replay.primary.stop("fast")
            try:

                def old_commit() -> bool:
                    assert read_where(db) == (True, replay.replica.port)  # every read
                    age = replay.replica_sql(
                        "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                    )
                    return float(age) > 3 * LAG.total_seconds()  # type: ignore[arg-type]

                wait_for(old_commit, "the last replayed commit is older than the bound")
                (status,) = db.replica_status()
                assert status.state == "in use"
                assert status.lag is not None
                assert status.lag > LAG  # reported, not enforced, while the primary is away
                with (
                    pytest.raises(DatabaseUnavailable),
                    db.unit_of_work(readonly=True, fresh=True, retry=NO_RETRY),
                ):
                    pass
            finally:
                replay.primary.start()
        assert any("cannot be sampled" in r.getMessage() for r in caplog.records)
    finally:
        db.dispose()
