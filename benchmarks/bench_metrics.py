"""``metrics.compute`` over 2,148 trading days against empyrical and quantstats.

The peers get what their users give them: a float ``pandas.Series`` of the same daily
returns, already in memory. tradestore's pure line is ``compute_metrics`` on the Decimal
equity (every metric column at once); its full line is ``uow.metrics.compute`` (read the
history, compute, upsert the row). The peers' lines compute Sharpe, Sortino, Calmar, Omega,
maximum drawdown and annual volatility. Sides alternate within every repetition; medians
of CPU time (the VM is shared) and of wall time. Optional: ``pip install tradestore[bench]``;
a missing peer is skipped and named.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks.harness import fresh_database, postgres_admin_url
from tradestore.domain.metrics import compute_metrics

DAYS = 2_148
REPEAT = 31


def _history() -> list[tuple[dt.date, Decimal]]:
    rng = random.Random(2_148)
    equity, day, points = 10_000.0, dt.date(2015, 1, 2), []
    for _ in range(DAYS):
        equity *= 1 + rng.gauss(0.0004, 0.012)
        points.append((day, Decimal(f"{equity:.2f}")))
        day += dt.timedelta(days=3 if day.weekday() == 4 else 1)
    return points


def _peers(points: list[tuple[dt.date, Decimal]]) -> dict[str, Callable[[], object]]:
    peers: dict[str, Callable[[], object]] = {}
    try:
        import pandas as pd
    except ImportError:
        print("pandas not installed: no peer lines")
        return peers
    returns = (
        pd.Series([float(e) for _d, e in points], index=pd.DatetimeIndex([d for d, _e in points]))
        .pct_change()
        .dropna()
    )
    try:
        import empyrical as ep

        def empyrical_line() -> object:
            return (
                ep.sharpe_ratio(returns),
                ep.sortino_ratio(returns),
                ep.calmar_ratio(returns),
                ep.omega_ratio(returns),
                ep.max_drawdown(returns),
                ep.annual_volatility(returns),
            )

        peers["empyrical"] = empyrical_line
    except ImportError:
        print("empyrical not installed (pip install empyrical-reloaded): line skipped")
    try:
        import quantstats as qs

        def quantstats_line() -> object:
            return (
                qs.stats.sharpe(returns),
                qs.stats.sortino(returns),
                qs.stats.calmar(returns),
                qs.stats.omega(returns),
                qs.stats.max_drawdown(returns),
                qs.stats.volatility(returns),
            )

        peers["quantstats"] = quantstats_line
    except ImportError:
        print("quantstats not installed: line skipped")
    return peers


def _interleaved(lines: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """Median (CPU, wall) seconds per line, every line run once per repetition in turn."""
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in lines}
    for fn in lines.values():
        fn()
    for _ in range(REPEAT):
        for name, fn in lines.items():
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            samples[name][0].append(time.process_time() - cpu)
            samples[name][1].append(time.perf_counter() - wall)
    return {name: (statistics.median(c), statistics.median(w)) for name, (c, w) in samples.items()}


def main() -> None:
    points = _history()
    as_of = points[-1][0]
    backends = ["sqlite"] + (["postgresql"] if postgres_admin_url() else [])
    for backend in backends:
        with fresh_database(backend) as db:
            with db.unit_of_work() as uow:
                uow.bots.register("bench")
            with db.unit_of_work(bot_id="bench") as uow:
                for day, equity in points:
                    uow.snapshots.record(
                        snapshot_date=day, total_equity=equity, cash_balance=Decimal(0)
                    )

            def full(db: Any = db) -> object:
                with db.unit_of_work(bot_id="bench") as uow:
                    return uow.metrics.compute(as_of)

            lines: dict[str, Callable[[], object]] = {
                "tradestore compute_metrics (pure)": lambda: compute_metrics(
                    points, [], as_of=as_of
                ),
                "tradestore uow.metrics.compute": full,
                **_peers(points),
            }
            timings = _interleaved(lines)
            base_cpu = timings.get("empyrical", (None, None))[0]
            print(f"-- {backend}: {DAYS} trading days, medians of {REPEAT}, interleaved")
            for name, (cpu, wall) in timings.items():
                ratio = f"  {cpu / base_cpu:5.2f}x empyrical (CPU)" if base_cpu else ""
                print(f"{name:<36} cpu {cpu * 1e3:8.2f} ms  wall {wall * 1e3:8.2f} ms{ratio}")


if __name__ == "__main__":
    main()
