"""Before and after in the same run: an old commit against the working tree, interleaved.

    python -m benchmarks.compare --before <rev> [--after <path or rev>] [--repeat N]
        [--env NAME=VALUE ...] [--tmpdir DIR] [--bench-code own|after] [--save FILE]
        <bench> [<bench> ...]

``<bench>`` is what ``python -m benchmarks`` takes (``positions``, ``orders``, ``indexes``, ...).
The old commit is materialised with ``git archive`` into a temporary directory (nothing is
added to the repository's worktree list); ``--after`` defaults to the working tree this
command runs in. Each repetition runs every benchmark once per side, in a separate process
with ``PYTHONPATH=<tree>/src``, the sides alternating which goes first, so a burst of load
on a shared machine lands on both.

Each side runs its own tree's ``benchmarks/`` (``--bench-code own``), so a benchmark measures
an API its tree has; ``--bench-code after`` runs the after tree's benchmark code against both
source trees, for when the API is unchanged and the new baselines (the replay of captured
statements, for instance) are wanted on the old code too. Results are read from the
harness's JSON lines (``TRADESTORE_BENCH_JSON``), or parsed from the printed result lines of
a tree whose harness predates them.

Per benchmark it prints one table, a row per case (benchmark, backend, raw side): the medians
over repetitions of tradestore's time before and after, after/before (with the range of the
per-repetition pairs), and each side's ratio to the raw driver measured in its own process,
which is the figure that survives a change of machine load. ``verdict`` is ``worse`` or
``better`` when the ranges of that ratio do not overlap (three repetitions or more), ``~``
otherwise. ``TMPDIR`` is /dev/shm for both sides unless ``--tmpdir`` says otherwise, so every
SQLite file is on tmpfs whatever each tree's benchmarks choose.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ``harness.Result.line()``: name, backend, tradestore ms, raw label, raw ms, ratio.
RESULT_LINE = re.compile(
    r"^(?P<benchmark>.+?)\s+(?P<backend>sqlite|postgresql)\s+tradestore\s+(?P<ours>[\d.]+) ms"
    r"\s+(?P<label>.+?)\s+(?P<raw>[\d.]+) ms\s+ratio\s+(?P<ratio>[\d.]+|inf)x"
    r"(?:\s+target <= (?P<target>[\d.]+)x)?"
)


@dataclass
class Side:
    name: str  # "before" / "after"
    label: str  # the revision or path, for the header
    source: Path  # the tree whose src/ is imported
    bench: Path  # the tree whose benchmarks/ run (cwd)


@dataclass
class Case:
    """One result line, across repetitions, for both sides."""

    order: int = 0  # position of the line in the output of the side that printed it
    target: float | None = None
    ours: dict[str, list[float]] = field(default_factory=lambda: {"before": [], "after": []})
    ratio: dict[str, list[float]] = field(default_factory=lambda: {"before": [], "after": []})


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def materialise(repo: Path, rev: str, into: Path) -> str:
    """Extract ``rev``'s tree into ``into``; returns the full commit hash."""
    commit = _git(repo, "rev-parse", "--verify", f"{rev}^{{commit}}")
    into.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    assert archive.stdout is not None
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    return commit


def _environment(side: Side, overrides: dict[str, str], json_path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    env["PYTHONPATH"] = str(side.source / "src")
    if json_path is not None:
        env["TRADESTORE_BENCH_JSON"] = str(json_path)
    return env


def check_imports(side: Side, overrides: dict[str, str]) -> None:
    """Refuse to run if ``tradestore`` would not be imported from the side's own tree."""
    found = subprocess.run(
        [sys.executable, "-c", "import tradestore; print(tradestore.__file__)"],
        cwd=side.bench,
        env=_environment(side, overrides, None),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    expected = (side.source / "src").resolve()
    if not Path(found).resolve().is_relative_to(expected):
        raise SystemExit(f"{side.name}: tradestore imported from {found}, not {expected}")
    print(f"{side.name}: {side.label}: tradestore from {found}", flush=True)


def parse_text(stdout: str) -> list[dict[str, Any]]:
    records = []
    for line in stdout.splitlines():
        match = RESULT_LINE.match(line)
        if match is None:
            continue
        ours, raw = float(match["ours"]) / 1e3, float(match["raw"]) / 1e3
        records.append(
            {
                "kind": "result",
                "benchmark": match["benchmark"].strip(),
                "backend": match["backend"],
                "ours_s": ours,
                "raw_s": raw,
                "raw_label": match["label"].strip(),
                "ratio": ours / raw if raw else float("inf"),
                "target": float(match["target"]) if match["target"] else None,
            }
        )
    return records


def run_once(
    side: Side, bench: str, overrides: dict[str, str], workdir: Path, tag: str
) -> list[dict[str, Any]]:
    json_path = workdir / f"{tag}.jsonl"
    log_path = workdir / f"{tag}.log"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", bench],
        cwd=side.bench,
        env=_environment(side, overrides, json_path),
        capture_output=True,
        text=True,
    )
    log_path.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise SystemExit(f"{side.name} {bench} failed ({proc.returncode}):\n{tail}")
    if json_path.exists():
        records = [json.loads(line) for line in json_path.read_text().splitlines() if line]
    else:
        records = parse_text(proc.stdout)
    print(
        f"  {tag}: {sum(r['kind'] == 'result' for r in records)} results in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return records


def _fmt_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:10.3f}" if values else f"{'-':>10}"


def _fmt_ratio(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}x" if values else f"{'-':>9}"


def _verdict(case: Case) -> str:
    before, after = case.ratio["before"], case.ratio["after"]
    if len(before) < 3 or len(after) < 3:
        return ""
    if min(after) > max(before):
        return "worse"
    if max(after) < min(before):
        return "better"
    return "~"


def table(bench: str, cases: dict[tuple[str, str, str], Case], notes: dict[str, list[str]]) -> str:
    width = max([len(name) for name, _, _ in cases] + [4])
    label_width = max([len(label) for _, _, label in cases] + [8])
    header = (
        f"{'case':<{width}} {'backend':<10} {'raw side':<{label_width}} {'before ms':>10} "
        f"{'after ms':>10} {'after/before':>12} {'(range)':>13} {'before/raw':>10} "
        f"{'after/raw':>10} {'target':>7}  verdict"
    )
    lines = [f"== {bench}", header, "-" * len(header)]
    # The after tree's order (it runs the newer benchmark code), then cases only before has.
    ordered = sorted(cases.items(), key=lambda item: (not item[1].ours["after"], item[1].order))
    for (name, backend, label), case in ordered:
        before, after = case.ours["before"], case.ours["after"]
        change, spread = f"{'-':>12}", f"{'':>13}"
        if before and after:
            change = f"{statistics.median(after) / statistics.median(before):11.2f}x"
            pairs = [a / b for a, b in zip(after, before, strict=False) if b]
            if len(pairs) > 1:
                spread = f"({min(pairs):.2f}-{max(pairs):.2f})".rjust(13)
        target = f"{case.target:6.2f}x" if case.target is not None else f"{'':>7}"
        lines.append(
            f"{name:<{width}} {backend:<10} {label:<{label_width}} {_fmt_ms(before)} "
            f"{_fmt_ms(after)} {change} {spread} {_fmt_ratio(case.ratio['before']):>10} "
            f"{_fmt_ratio(case.ratio['after']):>10} {target}  {_verdict(case)}"
        )
    for side, texts in notes.items():
        for text in dict.fromkeys(texts):
            lines.append(f"  [{side}] {text}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--before", required=True, help="git revision of the old code")
    parser.add_argument("--after", help="a source tree (directory) or a git revision")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per side")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument(
        "--tmpdir", default="/dev/shm", help="TMPDIR of both sides ('' leaves it as it is)"
    )
    parser.add_argument("--bench-code", choices=("own", "after"), default="own")
    parser.add_argument("--save", type=Path, help="write every raw record here (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the materialised trees")
    parser.add_argument("benches", nargs="+", metavar="bench")
    args = parser.parse_args(list(argv) if argv is not None else None)

    overrides: dict[str, str] = {}
    for item in args.env:
        name, equals, value = item.partition("=")
        if not equals:
            parser.error(f"--env {item!r}: expected NAME=VALUE")
        overrides[name] = value
    if args.tmpdir:
        overrides["TMPDIR"] = args.tmpdir
    repo = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel"))
    workdir = Path(tempfile.mkdtemp(prefix="tradestore-compare-"))
    try:
        before_commit = materialise(repo, args.before, workdir / "before")
        before = Side("before", f"{args.before} ({before_commit[:10]})", workdir / "before",
                      workdir / "before")  # fmt: skip
        if args.after is None or Path(args.after).is_dir():
            tree = Path(args.after).resolve() if args.after else repo
            dirty = " + uncommitted changes" if _git(tree, "status", "--porcelain") else ""
            head = _git(tree, "rev-parse", "--short=10", "HEAD")
            after = Side("after", f"{tree} at {head}{dirty}", tree, tree)
        else:
            after_commit = materialise(repo, args.after, workdir / "after")
            after = Side("after", f"{args.after} ({after_commit[:10]})", workdir / "after",
                         workdir / "after")  # fmt: skip
        if args.bench_code == "after":
            before.bench = after.bench
        for side in (before, after):
            check_imports(side, overrides)

        cases: dict[str, dict[tuple[str, str, str], Case]] = {b: {} for b in args.benches}
        notes: dict[str, dict[str, list[str]]] = {
            b: {"before": [], "after": []} for b in args.benches
        }
        saved: list[dict[str, Any]] = []
        for rep in range(args.repeat):
            order = (before, after) if rep % 2 == 0 else (after, before)
            for bench in args.benches:
                for side in order:
                    tag = f"{bench}-{side.name}-{rep + 1}"
                    records = run_once(side, bench, overrides, workdir, tag)
                    seen: dict[tuple[str, str, str], int] = {}
                    for record in records:
                        saved.append({"side": side.name, "repetition": rep + 1, **record})
                        if record["kind"] == "note":
                            notes[bench][side.name].append(record["text"])
                            continue
                        key = (record["benchmark"], record["backend"], record["raw_label"])
                        seen[key] = seen.get(key, 0) + 1
                        if seen[key] > 1:  # the same line twice in one run: keep them apart
                            key = (f"{key[0]} #{seen[key]}", key[1], key[2])
                        case = cases[bench].setdefault(key, Case())
                        if side.name == "after" or not case.ours["after"]:
                            case.order = sum(seen.values())
                        if record.get("target") is not None and (
                            side.name == "after" or case.target is None
                        ):
                            case.target = record["target"]  # the after tree's targets win
                        case.ours[side.name].append(record["ours_s"])
                        case.ratio[side.name].append(record["ratio"])
        print(f"\nbefore: {before.label}\nafter:  {after.label}\n"
              f"{args.repeat} repetitions, interleaved; TMPDIR={overrides.get('TMPDIR', '')!r}; "
              f"benchmark code: {args.bench_code}\n")  # fmt: skip
        for bench in args.benches:
            print(table(bench, cases[bench], notes[bench]), end="\n\n", flush=True)
        if args.save:
            args.save.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    finally:
        if args.keep:
            print(f"trees and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
