"""Training episodes at scale: bulk logging and the two hot reads, against the raw drivers.

Figures issue 4 asks for:

* ``log_episodes`` of 1,000,000 episodes in batches of 10,000 (one transaction per batch, as a
  training loop commits): SQLite within 1.5x of hand-written ``sqlite3.executemany``;
  PostgreSQL at least as fast as ``psycopg2.extras.execute_values``. The raw code starts from
  the same episode dicts and builds its tuples itself, as a hand-written logger would.
* the leaderboard and a run's reward curve over 10 runs x 100,000 episodes in tens of
  milliseconds on both backends, with the query plans printed.

Sizes: ``TRADESTORE_BENCH_QUICK=1`` (or ``--quick``) runs 100,000 episodes and 10 runs x 10,000
episodes in a few seconds; ``TRADESTORE_BENCH_EPISODES`` / ``TRADESTORE_BENCH_RUN_EPISODES``
set them explicitly, ``TRADESTORE_BENCH_REPEAT`` the number of timed repetitions and
``TRADESTORE_BENCH_PARTS`` (``log``, ``reads``, default both) what runs.

SQLite runs in the benchmark's own process, so its log figure is also given in CPU time
(``time.process_time``), which other processes on a busy machine do not distort.

    python -m benchmarks training            # everything, full size
    python -m benchmarks.bench_training --quick
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extras
from sqlalchemy import event, insert, text

from benchmarks.harness import Result, fresh_database, postgres_admin_url, report
from tradestore import Database
from tradestore.analytics.training import agent_leaderboard, training_summary
from tradestore.domain.floats import moving_average
from tradestore.models.training import AgentPerformance, TrainingRun
from tradestore.repositories import episode_batch
from tradestore.repositories.evaluations import EvaluationRepository
from tradestore.repositories.training import TrainingRepository

BATCH = 10_000
FIELDS = (
    "episode_number",
    "episode_reward",
    "episode_length",
    "episode_time",
    "mean_action",
    "std_action",
    "mean_value",
    "mean_loss",
    "learning_rate",
    "exploration_rate",
)
COLUMNS = ", ".join(("run_id", *FIELDS))
WINDOW = 100
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _sizes(argv: list[str]) -> tuple[int, int, int, int]:
    quick = "--quick" in argv or os.environ.get("TRADESTORE_BENCH_QUICK", "") not in ("", "0")
    episodes = int(os.environ.get("TRADESTORE_BENCH_EPISODES", 100_000 if quick else 1_000_000))
    run_episodes = int(
        os.environ.get("TRADESTORE_BENCH_RUN_EPISODES", 10_000 if quick else 100_000)
    )
    repeat = int(os.environ.get("TRADESTORE_BENCH_REPEAT", 3))
    runs = 10
    return episodes, runs, run_episodes, repeat


def make_episodes(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Full episode rows (every column), as a training callback would log them."""
    rng = random.Random(seed)
    return [
        {
            "episode_number": i,
            "episode_reward": rng.gauss(100.0, 30.0) + i * 1e-3,
            "episode_length": 200 + rng.randrange(50),
            "episode_time": EPOCH + dt.timedelta(seconds=i, microseconds=rng.randrange(10**6)),
            "mean_action": rng.uniform(-1, 1),
            "std_action": rng.uniform(0, 1),
            "mean_value": rng.gauss(50, 10),
            "mean_loss": rng.expovariate(1.0),
            "learning_rate": 3e-4,
            "exploration_rate": max(0.05, 1.0 - i / max(count, 1)),
        }
        for i in range(count)
    ]


def _timed(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _once(fn: Callable[..., object], *args: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - start, time.process_time() - cpu


def _start_run(db: Database, run_id: str) -> None:
    with db.unit_of_work() as uow:
        uow.training.start_run("PPO", "bench", run_id=run_id)


def _pg_dsn(db: Database) -> str:
    return db.url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _database(backend: str) -> Iterator[Database]:
    with fresh_database(backend) as db:
        db.ensure_schema()
        yield db


# --- log_episodes --------------------------------------------------------------------------


def ours_log(db: Database, run_id: str, episodes: list[dict[str, Any]]) -> None:
    for start in range(0, len(episodes), BATCH):
        with db.unit_of_work() as uow:
            uow.training.log_episodes(run_id, episodes[start : start + BATCH])


def raw_sqlite_log(path: str, run_id: str, episodes: list[dict[str, Any]]) -> None:
    sql = f"INSERT INTO training_episodes ({COLUMNS}) VALUES ({', '.join('?' * 11)})"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=NORMAL")
        for start in range(0, len(episodes), BATCH):
            rows = [
                (
                    run_id,
                    e["episode_number"],
                    e["episode_reward"],
                    e["episode_length"],
                    e["episode_time"].isoformat(" ", "microseconds")[:26],
                    e["mean_action"],
                    e["std_action"],
                    e["mean_value"],
                    e["mean_loss"],
                    e["learning_rate"],
                    e["exploration_rate"],
                )
                for e in episodes[start : start + BATCH]
            ]
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(sql, rows)
            connection.execute("COMMIT")
    finally:
        connection.close()


def raw_postgres_log(dsn: str, run_id: str, episodes: list[dict[str, Any]]) -> None:
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            for start in range(0, len(episodes), BATCH):
                rows = [
                    (
                        run_id,
                        e["episode_number"],
                        e["episode_reward"],
                        e["episode_length"],
                        e["episode_time"],
                        e["mean_action"],
                        e["std_action"],
                        e["mean_value"],
                        e["mean_loss"],
                        e["learning_rate"],
                        e["exploration_rate"],
                    )
                    for e in episodes[start : start + BATCH]
                ]
                psycopg2.extras.execute_values(
                    cursor,
                    f"INSERT INTO training_episodes ({COLUMNS}) VALUES %s",
                    rows,
                    page_size=1000,
                )
                connection.commit()
    finally:
        connection.close()


def bench_log_episodes(backend: str, count: int, repeat: int) -> list[Result]:
    episodes = make_episodes(count)
    ours: list[tuple[float, float]] = []
    raw: list[tuple[float, float]] = []
    for attempt in range(repeat):
        # A fresh database per measurement: both sides fill an empty table of the same size.
        with _database(backend) as db:
            _start_run(db, "raw")
            if backend == "sqlite":
                raw.append(_once(raw_sqlite_log, db.url.database or "", "raw", episodes))
            else:
                raw.append(_once(raw_postgres_log, _pg_dsn(db), "raw", episodes))
        with _database(backend) as db:
            _start_run(db, "ours")
            ours.append(_once(ours_log, db, "ours", episodes))
            if attempt == 0:
                with db.session(readonly=True) as session:
                    stored = TrainingRepository(session).episode_count("ours")
                assert stored == count, (stored, count)
    label = "sqlite3.executemany" if backend == "sqlite" else "execute_values(1000)"
    name = f"log_episodes {count:,} ({BATCH:,}/txn)"
    target = 1.5 if backend == "sqlite" else 1.0
    wall = (statistics.median(t[0] for t in ours), statistics.median(t[0] for t in raw))
    results = [Result(name, backend, wall[0], wall[1], label, target=target)]
    if backend == "sqlite":
        cpu = (statistics.median(t[1] for t in ours), statistics.median(t[1] for t in raw))
        results.append(Result(name + " cpu", backend, cpu[0], cpu[1], label, target=target))
    print(f"  {backend}: tradestore logs {count / wall[0]:,.0f} episodes/s", flush=True)
    return results


# --- reads over runs x episodes --------------------------------------------------------------


def _populate(db: Database, runs: int, per_run: int) -> list[str]:
    episodes = make_episodes(per_run, seed=11)
    run_ids = [f"run_{i:02d}" for i in range(runs)]
    rng = random.Random(3)
    for i, run_id in enumerate(run_ids):
        with db.unit_of_work() as uow:
            uow.training.start_run(
                ("PPO", "SAC", "A2C")[i % 3],
                f"model_{i}",
                run_id=run_id,
                hyperparameters={"learning_rate": 1e-4 * (1 + i % 3), "batch_size": 64},
            )
            for start in range(0, per_run, 50_000):
                uow.training.log_episodes(run_id, episodes[start : start + 50_000])
            evaluations = EvaluationRepository(uow.session)
            for day in range(20):
                evaluations.record(
                    run_id,
                    ("validation", "test")[day % 2],
                    evaluation_date=dt.date(2024, 1, 1) + dt.timedelta(days=day),
                    sharpe_ratio=rng.gauss(1.0, 0.5),
                    total_return_pct=rng.gauss(10, 5),
                    max_drawdown_pct=-abs(rng.gauss(5, 2)),
                    win_rate=rng.uniform(0.3, 0.7),
                    total_trades=rng.randrange(100, 1000),
                )
            uow.training.finish(run_id, "completed")
    with db.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return run_ids


LEADERBOARD_SQL = """
SELECT ap.run_id, tr.algorithm, tr.model_name, ap.evaluation_type, ap.evaluation_date,
       ap.sharpe_ratio, ap.total_return_pct, ap.max_drawdown_pct, ap.win_rate, ap.total_trades
FROM agent_performance ap JOIN training_runs tr ON tr.run_id = ap.run_id
WHERE ap.evaluation_type = 'validation' AND tr.status = 'completed'
  AND ap.sharpe_ratio IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agent_performance n
                  WHERE n.run_id = ap.run_id AND n.evaluation_type = ap.evaluation_type
                    AND (n.evaluation_date > ap.evaluation_date
                         OR (n.evaluation_date = ap.evaluation_date
                             AND n.performance_id > ap.performance_id)))
ORDER BY ap.sharpe_ratio DESC, ap.run_id
LIMIT 10
"""

CURVE_SQL = {
    # What a hand-written reward curve looks like: SQL's own moving average.
    "sqlite": (
        "SELECT episode_number, episode_reward, AVG(episode_reward) OVER "
        f"(ORDER BY episode_number ROWS {WINDOW - 1} PRECEDING) "
        "FROM training_episodes WHERE run_id = ? ORDER BY episode_number"
    ),
    "postgresql": (
        "SELECT episode_number, episode_reward, AVG(episode_reward) OVER "
        f"(ORDER BY episode_number ROWS {WINDOW - 1} PRECEDING) "
        "FROM training_episodes WHERE run_id = %s ORDER BY episode_number"
    ),
}
FETCH_SQL = {
    "sqlite": "SELECT episode_number, episode_reward FROM training_episodes "
    "WHERE run_id = ? ORDER BY episode_number",
    "postgresql": "SELECT episode_number, episode_reward FROM training_episodes "
    "WHERE run_id = %s ORDER BY episode_number",
}


SAMPLED_SQL = {
    "sqlite": "SELECT episode_number, episode_reward FROM training_episodes "
    "WHERE run_id = ? AND episode_number % 100 = 0 ORDER BY episode_number",
    "postgresql": "SELECT episode_number, episode_reward FROM training_episodes "
    "WHERE run_id = %s AND episode_number %% 100 = 0 ORDER BY episode_number",
}


def _raw_connection(db: Database) -> Any:
    if db.dialect_name == "sqlite":
        return sqlite3.connect(db.url.database or "")
    return psycopg2.connect(_pg_dsn(db))


def _raw_query(connection: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    cursor = connection.cursor()
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    cursor.close()
    return rows


@contextmanager
def _captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (SQL, parameters) tradestore sends while the block runs."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _print_our_plan(db: Database, label: str, call: Callable[[], object], marker: str) -> None:
    """EXPLAIN the statement containing ``marker`` that ``call`` sends, as it sent it."""
    with _captured(db) as statements:
        call()
    sql, params = next((s, p) for s, p in statements if marker in s)
    explain = (
        "EXPLAIN QUERY PLAN " if db.dialect_name == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    )
    with db.connect() as connection:
        rows = connection.exec_driver_sql(explain + sql, params).all()
        connection.rollback()
    print(f"  plan {label} ({db.dialect_name}), as tradestore sends it:")
    if db.dialect_name == "sqlite":
        depth: dict[int, int] = {0: 0}
        for node, parent, _unused, detail in rows:
            depth[node] = depth.get(parent, 0) + 1
            print(f"    {'  ' * (depth[node] - 1)}{detail}")
    else:
        for (line,) in rows:
            print(f"    {line}")


def _print_plan(db: Database, label: str, sql: str, params: tuple[Any, ...]) -> None:
    connection = _raw_connection(db)
    try:
        if db.dialect_name == "sqlite":
            rows = _raw_query(connection, "EXPLAIN QUERY PLAN " + sql, params)
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append(f"{'  ' * (depth[node] - 1)}{detail}")
        else:
            rows = _raw_query(connection, "EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            lines = [row[0] for row in rows]
    finally:
        connection.close()
    print(f"  plan {label} ({db.dialect_name}):")
    for line in lines:
        print(f"    {line}")


def bench_reads(backend: str, runs: int, per_run: int, repeat: int) -> list[Result]:
    results: list[Result] = []
    with _database(backend) as db:
        started = time.perf_counter()
        run_ids = _populate(db, runs, per_run)
        print(
            f"  {backend}: populated {runs} runs x {per_run:,} episodes "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        target_run = run_ids[len(run_ids) // 2]
        param = "?" if backend == "sqlite" else "%s"
        raw = _raw_connection(db)
        try:

            def ours_leaderboard() -> object:
                with db.session(readonly=True) as session:
                    return agent_leaderboard(session, limit=10)

            def raw_leaderboard() -> object:
                return _raw_query(raw, LEADERBOARD_SQL)

            assert [e.run_id for e in ours_leaderboard()] == [  # type: ignore[attr-defined]
                row[0]
                for row in raw_leaderboard()  # type: ignore[attr-defined]
            ]
            results.append(
                Result(
                    f"leaderboard ({runs} runs)",
                    backend,
                    _timed(ours_leaderboard, repeat * 3),
                    _timed(raw_leaderboard, repeat * 3),
                    "raw SQL",
                )
            )

            def ours_curve() -> object:
                with db.session(readonly=True) as session:
                    return TrainingRepository(session).reward_curve(target_run, window=WINDOW)

            def raw_curve_sql() -> object:
                return _raw_query(raw, CURVE_SQL[backend], (target_run,))

            def raw_curve_python() -> object:
                rows = _raw_query(raw, FETCH_SQL[backend], (target_run,))
                return moving_average([row[1] for row in rows], WINDOW)

            assert len(ours_curve()) == per_run  # type: ignore[arg-type]
            ours_s = _timed(ours_curve, repeat * 3)
            results.append(
                Result(
                    f"reward_curve {per_run:,} (window {WINDOW})",
                    backend,
                    ours_s,
                    _timed(raw_curve_sql, repeat * 3),
                    "raw SQL AVG() OVER",
                )
            )
            results.append(
                Result(
                    f"reward_curve {per_run:,} (window {WINDOW})",
                    backend,
                    ours_s,
                    _timed(raw_curve_python, repeat * 3),
                    "raw fetch + same average",
                )
            )

            def ours_curve_sampled() -> object:
                with db.session(readonly=True) as session:
                    return TrainingRepository(session).reward_curve(
                        target_run, window=WINDOW, every=100
                    )

            def raw_sampled() -> object:
                return _raw_query(raw, SAMPLED_SQL[backend], (target_run,))

            results.append(
                Result(
                    "reward_curve every=100 (plot)",
                    backend,
                    _timed(ours_curve_sampled, repeat * 3),
                    _timed(raw_sampled, repeat * 3),
                    "raw fetch of the samples",
                )
            )

            def ours_every() -> object:
                with db.session(readonly=True) as session:
                    return TrainingRepository(session).episodes(target_run, every=100)

            results.append(
                Result(
                    "episodes(every=100)",
                    backend,
                    _timed(ours_every, repeat * 3),
                    _timed(raw_sampled, repeat * 3),
                    "raw fetch of the samples",
                )
            )

            def ours_stream() -> object:
                with db.session(readonly=True) as session:
                    return sum(1 for _ in TrainingRepository(session).iter_episodes(target_run))

            def raw_stream() -> object:
                return len(
                    _raw_query(
                        raw,
                        f"SELECT {', '.join(FIELDS)} FROM training_episodes "
                        f"WHERE run_id = {param} ORDER BY episode_number",
                        (target_run,),
                    )
                )

            results.append(
                Result(
                    f"iter_episodes {per_run:,}",
                    backend,
                    _timed(ours_stream, repeat),
                    _timed(raw_stream, repeat),
                    "raw fetchall",
                )
            )

            def ours_summary() -> object:
                with db.session(readonly=True) as session:
                    return training_summary(session)

            summary_s = _timed(ours_summary, repeat * 3)
            print(f"  {backend}: training_summary ({runs} runs) {summary_s * 1e3:.3f} ms")
        finally:
            raw.close()
        if backend == "sqlite":
            _print_our_plan(
                db, "reward curve page", lambda: _curve(db, target_run), "FROM training_episodes"
            )
        else:  # one packed row (see episode_batch.read_rewards_postgresql)
            with db.connect() as connection:
                plan = connection.execute(
                    text("EXPLAIN (ANALYZE, COSTS OFF) " + episode_batch.REWARDS_SQL),
                    {"run_id": target_run, "low": 0},
                ).all()
                connection.rollback()
            print("  plan reward curve (postgresql), as tradestore sends it:")
            for (line,) in plan:
                print(f"    {line}")
        _print_our_plan(
            db, f"leaderboard ({runs} runs)", lambda: _leaderboard(db), "agent_performance"
        )
        results.extend(_bench_leaderboard_at_scale(db, backend, repeat))
    return results


def _curve(db: Database, run_id: str) -> object:
    with db.session(readonly=True) as session:
        return TrainingRepository(session).reward_curve(run_id, window=WINDOW)


def _leaderboard(db: Database) -> object:
    with db.session(readonly=True) as session:
        return agent_leaderboard(session, limit=10)


def _bench_leaderboard_at_scale(
    db: Database, backend: str, repeat: int, runs: int = 2_000, per_run: int = 20
) -> list[Result]:
    """The leaderboard once agent_performance is large enough for indexes to matter."""
    rng = random.Random(5)
    with db.session() as session:
        session.execute(
            insert(TrainingRun),
            [
                {
                    "run_id": f"sweep_{i:05d}",
                    "algorithm": ("PPO", "SAC", "TD3", "A2C")[i % 4],
                    "model_name": f"sweep_{i}",
                    "start_time": EPOCH,
                    "end_time": EPOCH + dt.timedelta(hours=1),
                    "status": "completed",
                }
                for i in range(runs)
            ],
        )
        session.execute(
            insert(AgentPerformance),
            [
                {
                    "run_id": f"sweep_{i:05d}",
                    "evaluation_type": ("validation", "test")[day % 2],
                    "evaluation_date": dt.date(2024, 1, 1) + dt.timedelta(days=day),
                    "sharpe_ratio": rng.gauss(1.0, 0.5),
                    "win_rate": rng.uniform(0.3, 0.7),
                }
                for i in range(runs)
                for day in range(per_run)
            ],
        )
    with db.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    raw = _raw_connection(db)
    try:
        ours = _timed(lambda: _leaderboard(db), repeat * 3)
        raw_s = _timed(lambda: _raw_query(raw, LEADERBOARD_SQL), repeat * 3)
    finally:
        raw.close()
    label = f"leaderboard ({runs:,} runs x {per_run} evals)"
    _print_our_plan(db, label, lambda: _leaderboard(db), "agent_performance")

    def summary() -> object:
        with db.session(readonly=True) as session:
            return training_summary(session, limit=100)

    summary_s = _timed(summary, repeat * 3)
    print(f"  {backend}: training_summary (100 of {runs:,} runs) {summary_s * 1e3:.3f} ms")
    return [Result(label, backend, ours, raw_s, "raw SQL")]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    episodes, runs, per_run, repeat = _sizes(args)
    backends = ["sqlite"]
    if postgres_admin_url() is not None:
        backends.append("postgresql")
    print(
        f"  sizes: log {episodes:,} episodes x{repeat}; reads over {runs} runs x {per_run:,}",
        flush=True,
    )
    parts = os.environ.get("TRADESTORE_BENCH_PARTS", "log,reads").split(",")
    if "log" in parts:
        for backend in backends:
            report(bench_log_episodes(backend, episodes, repeat))
    if "reads" in parts:
        for backend in backends:
            report(bench_reads(backend, runs, per_run, repeat))


if __name__ == "__main__":
    main()
