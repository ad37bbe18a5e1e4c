"""The scale benchmark's data set, generated inside PostgreSQL with set-based SQL.

Full size (``Sizes.of(1.0)``): 200 bots, 1M orders, 10M fills (ten per order), one
portfolio snapshot per bot per day over three years (219,200 rows), 2,000 training runs of
5,000 episodes (10M episodes) with one validation evaluation per completed run. ``--small``
is ``fraction=0.01``: 1/100 of the orders, fills, runs and episodes; the 200 bots and their
daily snapshots stay (a bot has one snapshot a day whatever it trades). Every timestamp falls
in the three years before ``end`` (now).

Every row is valid under the schema's constraints and the library's own rules:

* the bots are registered through ``uow.bots.register`` (whatever a registration writes);
* bot b's order k (ids ``o<k>``, per bot) is submitted at an instant spread evenly over the
  three years; it is a market order of 10 (``filled``) or 12 (every tenth: ``cancelled``
  after ten fills, so ``filled_quantity`` 10 < 12) with ten fills of 1 at its reference price,
  one second apart, 0.01 commission each (the order's totals: 10, that price, 0.10);
* fills are inserted with ``INSERT ... SELECT`` into ``fills`` itself, so that on a
  partitioned schema rows are routed to their partitions and its triggers fire;
* each bot also has ``OPEN_PER_BOT`` accepted orders without fills, submitted in the last
  hour (what ``recover`` returns), and bot ``INGEST_BOT`` has the open orders the ingest
  benchmark fills (``ingest-<n>`` for tradestore, ``raw-<n>`` for the raw COPY);
* training runs start spread over the three years and last one episode per 10 seconds; the
  newest is still running (no end time), every tenth failed, the rest completed.

Run alone: ``python -m benchmarks.scale_data URL [--small | --fraction F]`` (a migrated,
empty database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradestore import Database

BOTS = 200
FILLS_PER_ORDER = 10
EPISODES_PER_RUN = 5_000
YEARS = 3
DAYS = 1096  # three years of days (one leap year)
OPEN_PER_BOT = 3
INGEST_BOT = "bot-000"
#: Open orders of INGEST_BOT that receive the ingest benchmark's fills, each a huge quantity.
INGEST_ORDERS = 100
TICKERS = 20


def bot_name(index: int) -> str:
    return f"bot-{index:03d}"


@dataclass(frozen=True)
class Sizes:
    fraction: float
    orders_per_bot: int
    runs: int
    episodes_per_run: int = EPISODES_PER_RUN
    bots: int = BOTS
    days: int = DAYS

    @classmethod
    def of(cls, fraction: float) -> Sizes:
        orders = max(1, round(1_000_000 * fraction / BOTS))
        return cls(fraction, orders, max(2, round(2_000 * fraction)))

    @property
    def orders(self) -> int:
        return self.orders_per_bot * self.bots

    @property
    def fills(self) -> int:
        return self.orders * FILLS_PER_ORDER

    @property
    def snapshots(self) -> int:
        return self.bots * self.days

    @property
    def episodes(self) -> int:
        return self.runs * self.episodes_per_run

    def describe(self) -> str:
        return (
            f"{self.bots} bots, {self.orders:,} orders, {self.fills:,} fills, "
            f"{self.snapshots:,} snapshots, {self.runs:,} runs x {self.episodes_per_run:,} = "
            f"{self.episodes:,} episodes over {YEARS} years"
        )


def window(end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The three years of timestamps: [start, end), start at midnight UTC."""
    first_day = (end - dt.timedelta(days=DAYS - 1)).date()
    return dt.datetime.combine(first_day, dt.time(), dt.UTC), end


# One generator of orders, shared by the orders and the fills: bot b, order k of that bot,
# submitted at `sub`, its ticker, side and price. `k` outer and `b` inner so that rows come in
# time order, as a live system writes them (index and partition locality).
_ORDER_ROWS = """
FROM generate_series(CAST(:k0 AS integer), CAST(:k1 AS integer) - 1) AS k,
     generate_series(0, :bots - 1) AS b,
     LATERAL (SELECT
        'bot-' || lpad(b::text, 3, '0') AS bot,
        CAST(:start AS timestamptz)
          + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz) - interval '1 hour')
            * ((k + 0.5) / :per_bot) + b * interval '7 seconds' AS sub,
        'T' || lpad(((k + b) % :tickers)::text, 2, '0') AS ticker,
        CASE WHEN (k + b) % 2 = 0 THEN 'buy' ELSE 'sell' END AS side,
        CAST(100 + ((k * 7 + b) % 50) AS numeric) + CAST(b AS numeric) / 100 AS price,
        k % 10 = 9 AS cancelled) AS o
"""

_ORDERS = f"""
INSERT INTO orders (order_id, bot_id, client_order_id, ticker, order_type, side, quantity,
    reference_price, time_in_force, status, submitted_at, accepted_at, filled_at,
    cancelled_at, updated_at, filled_quantity, filled_avg_price, commission, slippage,
    slippage_bps, strategy, reduce_only)
SELECT 'o' || k, bot, 'c' || k, ticker, 'market', side,
    CASE WHEN cancelled THEN 12 ELSE 10 END, price, 'day',
    CASE WHEN cancelled THEN 'cancelled' ELSE 'filled' END,
    sub, sub,
    sub + interval '9 seconds',
    CASE WHEN cancelled THEN sub + interval '60 seconds' END,
    CASE WHEN cancelled THEN sub + interval '60 seconds' ELSE sub + interval '9 seconds' END,
    10, price, 0.10, 0, 0, 'momentum', false
{_ORDER_ROWS}
"""

_FILLS = f"""
INSERT INTO fills (bot_id, fill_id, order_id, ticker, side, quantity, price, filled_at,
    liquidity, commission)
SELECT bot, 'f' || k || '-' || j, 'o' || k, ticker, side, 1, price,
    sub + j * interval '1 second', CASE WHEN j % 3 = 0 THEN 'maker' ELSE 'taker' END, 0.01
{_ORDER_ROWS}, generate_series(0, {FILLS_PER_ORDER - 1}) AS j
"""

_OPEN_ORDERS = """
INSERT INTO orders (order_id, bot_id, client_order_id, ticker, order_type, side, quantity,
    limit_price, time_in_force, status, submitted_at, accepted_at, updated_at,
    filled_quantity, commission, strategy, reduce_only)
SELECT prefix || n, bot, 'c-' || prefix || n, 'T00', 'limit', 'buy', quantity, 100, 'gtc',
    'accepted', CAST(:end AS timestamptz) - interval '1 hour' + n * interval '1 second',
    CAST(:end AS timestamptz) - interval '1 hour' + n * interval '1 second',
    CAST(:end AS timestamptz) - interval '1 hour' + n * interval '1 second',
    0, 0, 'momentum', false
FROM (
    SELECT 'bot-' || lpad(b::text, 3, '0') AS bot, 'open-' AS prefix, n, 10 AS quantity
    FROM generate_series(0, :bots - 1) AS b, generate_series(0, :open_per_bot - 1) AS n
    UNION ALL
    SELECT :ingest_bot, p, n, 1000000000
    FROM (VALUES ('ingest-'), ('raw-')) AS v(p), generate_series(0, :ingest_orders - 1) AS n
) AS rows
"""

_SNAPSHOTS = """
INSERT INTO portfolio_snapshots (bot_id, snapshot_date, snapshot_time, total_equity,
    cash_balance, long_market_value, short_market_value, positions_count, daily_pnl,
    cumulative_pnl, cumulative_return_pct, trades_today, wins_today, losses_today,
    created_at, updated_at)
SELECT bot, day, day + interval '21 hours', equity, equity, 0, 0, 0,
    round(CAST(50 * sin(d / 9.0 + b) AS numeric), 2), equity - 100000,
    (equity - 100000) / 1000, 3, 2, 1, day + interval '21 hours', day + interval '21 hours'
FROM generate_series(0, :days - 1) AS d, generate_series(0, :bots - 1) AS b,
    LATERAL (SELECT
        'bot-' || lpad(b::text, 3, '0') AS bot,
        CAST(:first_day AS date) + d AS day,
        round(CAST(100000 + 20 * d + 2000 * sin(d / 30.0 + b) AS numeric), 2) AS equity) AS s
"""

_RUNS = """
INSERT INTO training_runs (run_id, algorithm, model_name, start_time, end_time,
    duration_seconds, total_timesteps, status, final_reward, best_reward,
    convergence_achieved, device, random_seed)
SELECT 'run-' || lpad(r::text, 5, '0'),
    (ARRAY['PPO', 'A2C', 'SAC', 'DQN'])[r % 4 + 1], 'model-' || (r % 40), st,
    CASE WHEN r = :runs - 1 THEN NULL ELSE st + :episodes * interval '10 seconds' END,
    CASE WHEN r = :runs - 1 THEN NULL ELSE :episodes * 10.0 END,
    :episodes * 1000,
    CASE WHEN r = :runs - 1 THEN 'running' WHEN r % 10 = 9 THEN 'failed' ELSE 'completed' END,
    100 + (r * 37) % 200, 150 + (r * 37) % 200, r % 3 = 0, 'cpu', r
FROM generate_series(0, :runs - 1) AS r,
    LATERAL (SELECT CAST(:start AS timestamptz)
        + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz)
           - :episodes * interval '10 seconds') * (r + 0.5) / :runs AS st) AS s
"""

_EPISODES = """
INSERT INTO training_episodes (run_id, episode_number, episode_reward, episode_length,
    episode_time, mean_action, std_action, mean_value, mean_loss, learning_rate,
    exploration_rate)
SELECT run_id, e, 100 * (1 - exp(-e / 1000.0)) + 10 * sin(e + ordinal), 1000,
    start_time + e * interval '10 seconds', 0.1, 0.5, 1.5 * e / :episodes,
    1.0 / (1 + e), 0.0003, greatest(0.01, 1 - e / 2000.0)
FROM (SELECT run_id, start_time, row_number() OVER (ORDER BY run_id) AS ordinal
      FROM training_runs WHERE run_id >= :r0 AND run_id < :r1) AS runs,
    generate_series(1, :episodes) AS e
"""

_EVALUATIONS = """
INSERT INTO agent_performance (run_id, evaluation_date, evaluation_type, num_episodes,
    total_return, total_return_pct, cumulative_reward, avg_episode_reward, sharpe_ratio,
    sortino_ratio, max_drawdown_pct, total_trades, winning_trades, losing_trades, win_rate)
SELECT run_id, CAST(end_time AS date), 'validation', 10, 0.1, 10.0, final_reward * 10,
    final_reward, 0.2 + (CAST(substr(run_id, 5) AS integer) * 7919 % 1000) / 400.0,
    1.0, 12.5, 100, 55, 45, 0.55
FROM training_runs WHERE status = 'completed'
"""


def _chunks(total: int, per_chunk: int) -> list[tuple[int, int]]:
    per_chunk = max(1, per_chunk)
    return [(lo, min(total, lo + per_chunk)) for lo in range(0, total, per_chunk)]


def generate(
    db: Database,
    sizes: Sizes,
    end: dt.datetime,
    *,
    say: Callable[[str], None] = print,
    ingest_orders: int = INGEST_ORDERS,
) -> dict[str, float]:
    """Fill an empty migrated database; {step: seconds}. The caller runs ANALYZE."""
    start, end = window(end)
    common: dict[str, Any] = {
        "bots": sizes.bots,
        "per_bot": sizes.orders_per_bot,
        "tickers": TICKERS,
        "start": start,
        "end": end,
        "days": sizes.days,
        "first_day": start.date(),
        "runs": sizes.runs,
        "episodes": sizes.episodes_per_run,
        "open_per_bot": OPEN_PER_BOT,
        "ingest_bot": INGEST_BOT,
        "ingest_orders": ingest_orders,
    }
    timings: dict[str, float] = {}

    def step(name: str, rows: int, statements: list[tuple[str, dict[str, Any]]]) -> None:
        began = time.perf_counter()
        for sql, extra in statements:
            with db.connect() as connection:
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                connection.execute(_text(sql), {**common, **extra})
                connection.commit()
        seconds = time.perf_counter() - began
        timings[name] = seconds
        say(
            f"  generated {name:<20} {rows:>12,} rows in {seconds:8.1f} s"
            f"  ({rows / seconds:,.0f} rows/s)"
        )

    began = time.perf_counter()
    with db.unit_of_work() as uow:
        for index in range(sizes.bots):
            uow.bots.register(bot_name(index), starting_balance=Decimal(100000))
    timings["bots"] = time.perf_counter() - began
    say(f"  registered {sizes.bots} bots in {timings['bots']:.1f} s")
    # ~500k fills (50k orders) per statement: one transaction each, progress in between.
    order_chunks = _chunks(sizes.orders_per_bot, max(1, 50_000 // sizes.bots))
    step("orders", sizes.orders, [(_ORDERS, {"k0": lo, "k1": hi}) for lo, hi in order_chunks])
    step(
        "open orders",
        sizes.bots * OPEN_PER_BOT + 2 * ingest_orders,
        [(_OPEN_ORDERS, {})],
    )
    step("fills", sizes.fills, [(_FILLS, {"k0": lo, "k1": hi}) for lo, hi in order_chunks])
    step("portfolio_snapshots", sizes.snapshots, [(_SNAPSHOTS, {})])
    step("training_runs", sizes.runs, [(_RUNS, {})])
    run_chunks = _chunks(sizes.runs, max(1, 500_000 // sizes.episodes_per_run))
    step(
        "training_episodes",
        sizes.episodes,
        [(_EPISODES, {"r0": f"run-{lo:05d}", "r1": f"run-{hi:05d}"}) for lo, hi in run_chunks],
    )
    step("agent_performance", sizes.runs, [(_EVALUATIONS, {})])
    return timings


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


def analyze(db: Database) -> float:
    began = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_data")
    parser.add_argument("url")
    parser.add_argument("--small", action="store_true", help="1/100 of every count")
    parser.add_argument("--fraction", type=float, default=None)
    args = parser.parse_args(argv)
    fraction = args.fraction if args.fraction is not None else (0.01 if args.small else 1.0)
    sizes = Sizes.of(fraction)
    db = Database(args.url)
    print(sizes.describe(), flush=True)
    began = time.perf_counter()
    generate(db, sizes, dt.datetime.now(dt.UTC))
    print(f"  VACUUM ANALYZE in {analyze(db):.1f} s", flush=True)
    print(f"  generation took {time.perf_counter() - began:.1f} s", flush=True)
    db.dispose()


if __name__ == "__main__":
    main()
