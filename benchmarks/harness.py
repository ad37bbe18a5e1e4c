"""Shared benchmark plumbing: fresh databases per backend, medians, and ratio reports.

Every benchmark times tradestore and the hand-written raw-driver equivalent (sqlite3,
psycopg2) on the same machine in the same run and prints the ratio; absolute numbers from
another day or machine are not comparable, ratios mostly are.

With ``TRADESTORE_BENCH_JSON=<file>`` (``python -m benchmarks --json <file>``) every reported
result and note is also appended to the file as one JSON object a line, which is what
``python -m benchmarks.compare`` reads.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tradestore import Database

PG_ENV = ("TRADESTORE_BENCH_POSTGRES_URL", "TRADESTORE_TEST_POSTGRES_URL")
DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
JSON_ENV = "TRADESTORE_BENCH_JSON"
#: Where hot-path benchmarks put their SQLite file: a COMMIT on tmpfs costs microseconds, so
#: the ratio shows the library's own cost (the harshest case).
TMPFS = Path("/dev/shm")


def postgres_admin_url() -> str | None:
    """The server to benchmark on; None when TRADESTORE_BENCH_SKIP_POSTGRES is set."""
    if os.environ.get("TRADESTORE_BENCH_SKIP_POSTGRES"):
        return None
    for name in PG_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return DEFAULT_PG


def tmpfs_directory() -> str | None:
    """/dev/shm when it is a writable directory (Linux), else None (the default TMPDIR)."""
    if TMPFS.is_dir() and os.access(TMPFS, os.W_OK):
        return str(TMPFS)
    print(f"  note: {TMPFS} is not available; SQLite file in the default TMPDIR", flush=True)
    return None


@contextmanager
def fresh_database(backend: str, *, tmpfs: bool = False) -> Iterator[Database]:
    """A new, migrated database on ``backend`` ("sqlite" file or "postgresql"), dropped after.

    ``tmpfs``: the SQLite file goes under /dev/shm whatever TMPDIR says.
    """
    if backend == "sqlite":
        directory = tmpfs_directory() if tmpfs else None
        with tempfile.TemporaryDirectory(prefix="tradestore-bench-", dir=directory) as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}", check_schema=False)
            db.upgrade()
            try:
                yield db
            finally:
                db.dispose()
        return
    admin_raw = postgres_admin_url()
    if admin_raw is None:
        raise RuntimeError("no PostgreSQL URL for benchmarks")
    admin = make_url(admin_raw)
    name = f"ts_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(admin.set(database=name), check_schema=False)
    try:
        db.upgrade()
        yield db
    finally:
        db.dispose()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def median_seconds(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass(frozen=True)
class Result:
    benchmark: str
    backend: str
    ours_s: float
    raw_s: float
    raw_label: str
    target: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours_s / self.raw_s if self.raw_s else float("inf")

    def line(self) -> str:
        target = f"target <= {self.target:.2f}x" if self.target is not None else ""
        verdict = ""
        if self.target is not None:
            verdict = "met" if self.ratio <= self.target else "MISSED"
        return (
            f"{self.benchmark:<38} {self.backend:<10} tradestore {self.ours_s * 1e3:10.3f} ms"
            f"  {self.raw_label:<26} {self.raw_s * 1e3:10.3f} ms  ratio {self.ratio:6.2f}x"
            f"  {target} {verdict}"
        )

    def record(self) -> dict[str, object]:
        return {
            "kind": "result",
            "benchmark": self.benchmark,
            "backend": self.backend,
            "ours_s": self.ours_s,
            "raw_s": self.raw_s,
            "raw_label": self.raw_label,
            "ratio": self.ratio,
            "target": self.target,
        }


def _emit(record: dict[str, object]) -> None:
    path = os.environ.get(JSON_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def report(results: list[Result]) -> None:
    for result in results:
        print(result.line(), flush=True)
        _emit(result.record())


def note(benchmark: str, backend: str, text: str) -> None:
    """A line that is not a timing (statement counts, absolute targets), printed and recorded."""
    print(text, flush=True)
    _emit({"kind": "note", "benchmark": benchmark, "backend": backend, "text": text.strip()})
