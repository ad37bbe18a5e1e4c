"""Run benchmark modules: ``python -m benchmarks [--json FILE] [name ...] [--flag ...]``.

Names select modules (``orders`` or ``bench_orders``); without one, every module runs except
those marked ``EXPLICIT_ONLY`` (the scale benchmark starts servers of its own and loads
millions of rows: it runs when named). Other arguments (``--small``, ``--fraction 0.1``) stay
in ``sys.argv`` for the modules that read options of their own.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if argv[:1] == ["--json"] and len(argv) > 1:
        # harness.report appends one JSON object a line to this file (benchmarks.compare).
        os.environ["TRADESTORE_BENCH_JSON"] = argv[1]
        argv = argv[2:]
    here = Path(__file__).parent
    modules = sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    names = {m.removeprefix("bench_") for m in modules} | set(modules)
    wanted = set()
    after_flag = False
    for arg in argv:
        if arg.startswith("--"):
            after_flag = "=" not in arg
        elif arg in names:
            wanted.add(arg)
            after_flag = False
        elif after_flag:
            after_flag = False  # a flag's value: the module reads it
        else:
            print(f"unknown benchmark {arg!r}; choose from {', '.join(sorted(names))}")
            return 2
    for module in modules:
        if wanted and module.removeprefix("bench_") not in wanted and module not in wanted:
            continue
        imported = importlib.import_module(f"benchmarks.{module}")
        if not wanted and getattr(imported, "EXPLICIT_ONLY", False):
            print(
                f"== {module}: skipped (run it by name: python -m benchmarks "
                f"{module.removeprefix('bench_')})",
                flush=True,
            )
            continue
        print(f"== {module}", flush=True)
        imported.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
