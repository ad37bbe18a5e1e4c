#!/usr/bin/env python3
"""Freeze a release's database: fill one with that release's own code, keep it and what it said.

    python tests/frozen/make_frozen.py [--release 0.1.0] [--commit '1f019b9^']
        [--postgres-url postgresql+psycopg2://postgres@127.0.0.1:5432/test]

Why: an upgrade must keep every row and every figure a release wrote. The only faithful
witness of what a release wrote is that release itself, so this script checks the release out
into a temporary git worktree (``git worktree add --detach``, removed afterwards) and runs
*itself* again with ``PYTHONPATH=<worktree>/src``: the filling and the expected figures come
from the release's code, never from today's.

What it writes under ``tests/frozen/<release>/``:

* ``tradestore.sqlite``: the SQLite database (vacuumed, no WAL left beside it);
* ``tradestore.pg.sql``: ``pg_dump --no-owner --no-privileges`` (plain SQL) of a throwaway
  PostgreSQL database created on ``--postgres-url``'s server for the purpose and dropped after;
* ``expected.sqlite.json`` and ``expected.postgresql.json``: every row of every table, every
  view's rows, and the figures the release derived (``tests/frozen/figures.py``: order totals,
  P&L, snapshots, metrics, analytics, training), read by the release's own code right after it
  filled the database.

The data is the release's demo (``examples/paper_bot.py``: the equities bot with a long built
from partial fills and a replayed fill, a short, a cancelled limit order; the crypto bot with
fractional quantities, restarted mid-week and recovered; stop-loss, take-profit, partial and
time exits; daily marks, snapshots and metrics), plus what the demo lacks: fills reported after
the cancel (late fills), an order cancelled part-filled, an expired and a rejected order, and a
smaller training set (a few hundred episodes, NaN losses included, evaluations, an ensemble
reweighted once).

Determinism: the data is fixed or drawn from ``random.Random`` with a fixed start; generated
ids come from a ``uuid4`` drawn the same way; the release's ``utcnow`` (0.1.0 has no
injectable clock) is replaced by a clock that starts at the demo's Monday and ticks one second
a call. What the release takes
from the *database's* clock (``created_at`` defaults, heartbeats) is set afterwards, through
the release's own column types, to the demo's Friday close (:data:`DB_CLOCK`): it is recorded
as such in the expected figures. Figures that follow the wall clock (hours held, "the last 24
hours") are read twice a few seconds apart and the leaves that moved are stored as
``"<clock>"``, which the test does not compare.

Run it from the repository root with the project's Python; it needs ``git``, ``pg_dump`` and
a PostgreSQL server it may create a database on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
#: The instant written wherever the release used the database's clock.
DB_CLOCK = dt.datetime(2026, 11, 13, 22, 0, tzinfo=dt.UTC)
#: Anything later than this came from a real clock (the simulated week ends on 2026-11-13).
SIMULATED_END = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
TAG = "frozen"
#: psql's ``\\restrict`` key in the dump: fixed, so that the dump is the same on every run.
RESTRICT_KEY = "tradestorefrozen"


# --- outer: check out, run the inner part twice, dump ---------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--release", default="0.1.0")
    parser.add_argument("--commit", default="1f019b9^")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TRADESTORE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--fill", help=argparse.SUPPRESS)  # inner: URL to fill
    parser.add_argument("--expected", help=argparse.SUPPRESS)  # inner: JSON to write
    parser.add_argument("--release-tree", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill:
        fill_and_describe(args.fill, Path(args.expected), Path(args.release_tree))
        return 0

    out = HERE / args.release
    out.mkdir(parents=True, exist_ok=True)
    tree = Path(tempfile.mkdtemp(prefix=f"tradestore-{args.release}-"))
    tree.rmdir()
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), args.commit], check=True
    )
    try:
        sqlite_path = out / "tradestore.sqlite"
        for stale in out.glob("tradestore.sqlite*"):
            stale.unlink()
        _inner(tree, f"sqlite:///{sqlite_path}", out / "expected.sqlite.json")
        _compact_sqlite(sqlite_path)
        Path(f"{sqlite_path}.migrate-lock").unlink(missing_ok=True)
        _freeze_postgres(tree, args.postgres_url, out)
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=True
        )
    for path in sorted(out.iterdir()):
        print(f"{path.relative_to(REPO)}: {path.stat().st_size:,} bytes")
    return 0


def _inner(tree: Path, url: str, expected: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("TRADESTORE_DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--fill",
            url,
            "--expected",
            str(expected),
            "--release-tree",
            str(tree),
        ],
        check=True,
        env=env,
        cwd=tree,
    )


def _compact_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()
    for extra in ("-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def _freeze_postgres(tree: Path, admin_url: str, out: Path) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    name = f"ts_frozen_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name)
        _inner(tree, url.render_as_string(hide_password=False), out / "expected.postgresql.json")
        env = {**os.environ}
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "--format=plain",
                f"--restrict-key={RESTRICT_KEY}",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                name,
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
        (out / "tradestore.pg.sql").write_text(dump)
    finally:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


# --- inner: runs with the release's code ------------------------------------------------------


class Clock:
    """The release's ``utcnow``: the demo's Monday, one second later at every call."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def _pin_clocks_and_ids() -> None:
    import tradestore.types

    original = tradestore.types.utcnow
    clock = Clock(dt.datetime(2026, 11, 9, 13, 0, tzinfo=dt.UTC))
    import pkgutil

    import tradestore

    for info in pkgutil.walk_packages(tradestore.__path__, "tradestore."):
        if ".cli" in info.name:
            continue
        importlib.import_module(info.name)
    for module in list(sys.modules.values()):
        if (
            getattr(module, "__name__", "").startswith("tradestore")
            and getattr(module, "utcnow", None) is original
        ):
            module.utcnow = clock  # type: ignore[attr-defined]
    ids = random.Random(20261109)
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)  # type: ignore[assignment]


def _demo(tree: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        "release_paper_bot", tree / "examples" / "paper_bot.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the release's demo from {tree}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fill_and_describe(url: str, expected: Path, tree: Path) -> None:
    _pin_clocks_and_ids()
    from tradestore import Database

    demo = _demo(tree)
    database = Database(url, check_schema=False)
    database.upgrade()
    database.dispose()
    database = fill(Database(url), demo, url)
    _pin_database_clock(database)
    database.dispose()
    database = Database(url)
    json_text = json.dumps(describe(database), indent=1, sort_keys=True)
    expected.write_text(json_text + "\n")
    database.dispose()


def fill(db: Any, demo: Any, url: str) -> Any:
    """The demo's week (its own functions, in its own order), then what it lacks."""
    from tradestore import Database

    bots = [f"alpha-{TAG}", f"beta-{TAG}"]
    market = demo.Market()
    books = {bot: demo.Book(Decimal(100_000)) for bot in bots}
    with db.unit_of_work() as uow:
        uow.bots.register(
            bots[0],
            mode="paper",
            broker="demo-equities",
            starting_balance=Decimal(100_000),
            config={"universe": ["AAPL", "TSLA"]},
        )
        uow.bots.register(
            bots[1],
            mode="paper",
            broker="demo-crypto",
            starting_balance=Decimal(100_000),
            config={"universe": ["BTC", "ETH"]},
        )
        for bot in bots:
            uow.bots.set_status(bot, "running")
    demo.trade_alpha(db, bots[0], market, books[bots[0]])
    late_fills(db, demo, bots[0])
    demo.trade_beta(db, bots[1], market, books[bots[1]])
    for day in range(len(demo.WEEK)):
        for bot in bots:
            if day == 3 and bot == bots[1]:
                db.dispose()
                db = Database(url)
                with db.unit_of_work() as uow:
                    state = uow.bots.recover(bot)
                books[bot] = demo.Book(state.bot.current_balance or Decimal(0))
            demo.end_of_day(db, bot, market, books[bot], day)
    left_open(db, demo, bots)
    with db.unit_of_work() as uow:
        for bot in bots:
            uow.bots.set_status(bot, "stopped")
    train(db, demo)
    return db


def late_fills(db: Any, demo: Any, bot: str) -> None:
    """Fills the broker reports after the cancel, an order cancelled part-filled, an expired
    and a rejected order: the order statuses the demo does not reach."""
    at = demo.at
    with db.unit_of_work(bot_id=bot) as uow:
        dip = uow.orders.get(client_order_id=f"{bot}-msft-dip")
        # The execution crossed the cancel: reported after it, the order stays cancelled.
        uow.orders.record_fill(
            dip.order_id,
            fill_id="f-msft-late-1",
            quantity=Decimal(4),
            price=Decimal("380.00"),
            filled_at=at(0, 20, 59),
            liquidity="maker",
            commission=Decimal("0.76"),
        )
        partial = uow.orders.submit(
            client_order_id=f"{bot}-aapl-scale",
            ticker="AAPL",
            side="buy",
            order_type="limit",
            quantity=Decimal(30),
            limit_price=Decimal("189.50"),
            reference_price=Decimal("189.60"),
            strategy="demo_momentum",
            submitted_at=at(1, 14, 30),
            metadata={"note": "scale-in"},
        )
        uow.orders.set_status(partial.order_id, "accepted", at=at(1, 14, 31))
        uow.orders.record_fill(
            partial.order_id,
            fill_id="f-aapl-scale-1",
            quantity=Decimal("12.5"),
            price=Decimal("189.50"),
            filled_at=at(1, 14, 40),
            liquidity="maker",
            commission=Decimal("1.18"),
        )
        uow.orders.cancel(partial.order_id, at=at(1, 20))
        uow.orders.record_fill(
            partial.order_id,
            fill_id="f-aapl-scale-late",
            quantity=Decimal("2.5"),
            price=Decimal("189.49"),
            filled_at=at(
                1,
                19,
                59,
            ),
            liquidity="maker",
            commission=Decimal("0.24"),
        )
        expiring = uow.orders.submit(
            client_order_id=f"{bot}-tsla-stop",
            ticker="TSLA",
            side="buy",
            order_type="stop",
            quantity=Decimal(20),
            stop_price=Decimal("265.00"),
            submitted_at=at(1, 15),
        )
        uow.orders.set_status(expiring.order_id, "accepted", at=at(1, 15, 1))
        uow.orders.expire(expiring.order_id, at=at(1, 21))
        rejected = uow.orders.submit(
            client_order_id=f"{bot}-msft-big",
            ticker="MSFT",
            side="buy",
            order_type="market",
            quantity=Decimal(10_000),
            submitted_at=at(2, 14, 30),
        )
        uow.orders.reject(rejected.order_id, reason="insufficient buying power", at=at(2, 14, 30))


def left_open(db: Any, demo: Any, bots: list[str]) -> None:
    """Positions still open when the release's database is frozen (the demo closes all): a
    short on the equities bot, a fractional long on the crypto bot, both marked."""
    day = len(demo.WEEK) - 1
    for bot, ticker, side, quantity, stop, target in (
        (bots[0], "MSFT", "short", Decimal(15), Decimal("405.00"), Decimal("380.00")),
        (bots[1], "BTC-USD", "long", Decimal("0.125"), Decimal("64000.00"), None),
    ):
        price = demo.PRICES[ticker][day]
        with db.unit_of_work(bot_id=bot) as uow:
            vwap, fee = demo.buy_and_fill(
                uow,
                coid=f"{bot}-{ticker}-weekend",
                ticker=ticker,
                side="sell" if side == "short" else "buy",
                quantity=quantity,
                day=day,
                fills=[(f"f-{ticker}-weekend", quantity, price)],
            )
            uow.positions.open(
                ticker,
                side=side,
                quantity=quantity,
                entry_price=vwap,
                stop_loss_price=stop,
                take_profit_price=target,
                commission=fee,
                strategy="demo_weekend",
                opened_at=demo.at(day, 20, 30),
                metadata={"hold": "weekend"},
            )
            uow.positions.mark_to_market({ticker: price + Decimal("1.25")})


def train(db: Any, demo: Any) -> None:
    """The demo's training, smaller: two runs of 300 episodes, evaluations, an ensemble."""
    import math

    rng = random.Random(11)
    at = demo.at
    run_ids = []
    with db.unit_of_work() as uow:
        for algorithm, lr in (("PPO", 3e-4), ("SAC", 1e-3)):
            run = uow.training.start_run(
                algorithm,
                f"demo_{algorithm.lower()}_{TAG}",
                total_timesteps=200_000,
                hyperparameters={
                    "learning_rate": lr,
                    "batch_size": 64,
                    "gamma": 0.99,
                    "net_arch": {"pi": [64, 64], "vf": [64, 64]},
                },
                train_start_date=dt.date(2024, 1, 1),
                train_end_date=dt.date(2025, 12, 31),
                random_seed=42,
                start_time=at(0, 2),
            )
            episodes = [
                {
                    "episode_number": n,
                    "episode_reward": 50 * math.log1p(n) + rng.gauss(0, 5),
                    "episode_length": 390,
                    "mean_loss": 1 / (1 + n) if n else float("nan"),
                }
                for n in range(300)
            ]
            uow.training.log_episodes(run.run_id, episodes)
            uow.training.finish(
                run.run_id,
                "completed",
                final_reward=episodes[-1]["episode_reward"],
                best_reward=max(e["episode_reward"] for e in episodes),
                end_time=at(0, 4),
            )
            for kind, day in (("validation", 0), ("test", 1)):
                uow.evaluations.record(
                    run.run_id,
                    kind,
                    evaluation_date=demo.WEEK[day],
                    sharpe_ratio=1.1 + rng.random(),
                    total_return_pct=8 * rng.random(),
                    max_drawdown_pct=-5 * rng.random(),
                    win_rate=0.5 + rng.random() / 5,
                    total_trades=120,
                )
            run_ids.append(run.run_id)
        uow.ensembles.set_weights(
            f"demo-{TAG}",
            {run_ids[0]: 0.6, run_ids[1]: 0.4},
            method="sharpe_weighted",
            lookback_days=30,
            update_time=at(1, 6),
        )
        uow.ensembles.set_weights(
            f"demo-{TAG}",
            {run_ids[0]: 0.45, run_ids[1]: 0.55},
            method="sharpe_weighted",
            lookback_days=30,
            update_time=at(4, 6),
        )


def _pin_database_clock(db: Any) -> None:
    """Set every instant that came from a real clock to :data:`DB_CLOCK` (see the docstring),
    and what ``migration_history`` says of the machine (path or URL, date, duration) to fixed
    values: the frozen database must not change when it is generated again elsewhere."""
    from sqlalchemy import DateTime, inspect, update

    from tradestore.models import Base

    with db.engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            for column in table.columns:
                if isinstance(getattr(column.type, "impl", column.type), DateTime):
                    conn.execute(
                        update(table).where(column > SIMULATED_END).values({column.name: DB_CLOCK})
                    )
        history = Base.metadata.tables["migration_history"]
        conn.execute(
            update(history).values(
                database_path=f"frozen {first_release()} {conn.dialect.name}",
                applied_date=DB_CLOCK.date(),
                duration_seconds=0.0,
            )
        )


def describe(db: Any) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import figures

    from tradestore.models import Base

    first = figures.everything(db, Base.metadata)
    time.sleep(3)
    second = figures.everything(db, Base.metadata)
    from tradestore.migrate import head_revision

    return {
        "release": first_release(),
        "revision": head_revision(),
        "dialect": db.engine.dialect.name,
        **figures.mask(first, second),
    }


def first_release() -> str:
    import tradestore

    return str(getattr(tradestore, "__version__", "?"))


if __name__ == "__main__":
    sys.exit(main())
