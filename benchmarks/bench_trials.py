"""Every run with all its hyperparameters, against Optuna's storage: the read a tuning loop makes.

``uow.analytics.runs_with_hyperparameters()`` (one statement whatever the run count) next to
Optuna's ``RDBStorage.get_all_trials`` on the same machine, in the same run, over 1,000 runs /
trials with five parameters and a final value each, both on SQLite files in ``TMPDIR``. The
storage is used directly, not through ``optuna.load_study``, whose in-memory cache would
answer from memory after the first call: this compares reading from the database. The
samples alternate between the two, and the medians are compared.

Optuna is an optional benchmark dependency (``pip install -e '.[bench]'``); without it this
benchmark says so and does nothing.

    python -m benchmarks trials
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, fresh_database, report
from tradestore import Database

RUNS = int(os.environ.get("TRADESTORE_BENCH_TRIALS", "1000"))
REPEAT = int(os.environ.get("TRADESTORE_BENCH_REPEAT", "9"))


def _params(n: int) -> dict[str, float | int | str]:
    return {
        "learning_rate": 1e-4 * (1 + n % 7),
        "batch_size": 32 * (1 + n % 4),
        "n_steps": 512 * (1 + n % 3),
        "gamma": 0.9 + 0.001 * (n % 50),
        "policy": "MlpPolicy" if n % 2 else "CnnPolicy",
    }


def _fill_tradestore(db: Database) -> None:
    with db.unit_of_work() as uow:
        for n in range(RUNS):
            run = uow.training.start_run("PPO", "bench", hyperparameters=_params(n))
            uow.training.finish(run.run_id, status="completed", final_reward=float(n % 97))


def _fill_optuna(url: str) -> tuple[Any, int]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(storage=storage, study_name="bench")
    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-3),
        "batch_size": optuna.distributions.IntDistribution(32, 128),
        "n_steps": optuna.distributions.IntDistribution(512, 1536),
        "gamma": optuna.distributions.FloatDistribution(0.9, 0.95),
        "policy": optuna.distributions.CategoricalDistribution(["MlpPolicy", "CnnPolicy"]),
    }
    study.add_trials(
        [
            optuna.trial.create_trial(
                params=_params(n), distributions=distributions, value=float(n % 97)
            )
            for n in range(RUNS)
        ]
    )
    return storage, study._study_id


def _alternate(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float]:
    """Medians of ``REPEAT`` samples of each, taken in alternation after one warm-up each."""
    ours()
    theirs()
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        print("trials: optuna is not installed (pip install -e '.[bench]'); skipped")
        return
    with fresh_database("sqlite") as db, tempfile.TemporaryDirectory() as tmp:
        _fill_tradestore(db)
        storage, study_id = _fill_optuna(f"sqlite:///{Path(tmp) / 'optuna.db'}")

        def ours() -> object:
            with db.unit_of_work() as uow:
                rows = uow.analytics.runs_with_hyperparameters()
                assert len(rows) == RUNS
                return rows

        def theirs() -> object:
            trials = storage.get_all_trials(study_id, deepcopy=False)
            assert len(trials) == RUNS
            return trials

        ours_s, theirs_s = _alternate(ours, theirs)
    report(
        [
            Result(
                f"{RUNS} runs with hyperparameters",
                "sqlite",
                ours_s,
                theirs_s,
                "Optuna get_all_trials",
                target=1.0,
            )
        ]
    )


if __name__ == "__main__":
    main()
