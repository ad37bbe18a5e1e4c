"""Run every benchmark module: ``python -m benchmarks [--json FILE] [name ...]``."""

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
    wanted = set(argv)
    here = Path(__file__).parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(here)])):
        if not module.startswith("bench_"):
            continue
        if wanted and module.removeprefix("bench_") not in wanted and module not in wanted:
            continue
        print(f"== {module}", flush=True)
        importlib.import_module(f"benchmarks.{module}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
