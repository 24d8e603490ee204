"""Run every benchmark under bench/ at a size that fits this machine, one after the other, and
print each one's ratios against the baseline it measured in the same run.

    .venv/bin/python bench/run_all.py            # `make bench`: about 20 minutes on 2 CPUs
    .venv/bin/python bench/run_all.py --quick    # small sizes, a few minutes: does everything still run?
    .venv/bin/python bench/run_all.py --only ingress,slo

Each benchmark's full output goes to the terminal and to var/bench/<name>.log; at the end a
summary repeats every benchmark's ratio and goal lines, with how long it took and its exit code.
A benchmark file added to bench/ later is run too, with its own defaults, until it gets a line
in SIZES. Every PostgreSQL database a benchmark creates gets a suffix unique to this run
(BENCH_DB_SUFFIX), so runs on a shared server never drop each other's database.

Sizes (`make bench`): the issues' own, except retention: 1,000,000 expired events instead of
5,000,000 (issue 7's size takes about 13 minutes here; the p95 ratio it measures does not depend
on the backlog's size, and the 5,000,000 figure is in docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

NOT_BENCHMARKS = {"__init__", "common", "settings", "urls", "run_all"}

# name → (arguments for `make bench`, arguments for --quick). "status_uptime@postgresql" runs
# the same file on a throwaway PostgreSQL database instead of the embedded SQLite.
SIZES: dict[str, tuple[list[str], list[str]]] = {
    "ingress": (["--seconds", "8", "--levels", "1,4,16,32"], ["--seconds", "2", "--levels", "1,8"]),
    "deadletters": (["--size", "1000000"], ["--size", "20000", "--depth", "100", "--repeat", "3"]),
    "logs": (
        ["--lines", "500000", "--stored", "5000000"],
        ["--lines", "20000", "--stored", "200000", "--runs", "20", "--slow-runs", "3"],
    ),
    "slo": (["--events", "10000000", "--days", "28"], ["--events", "200000", "--days", "7", "--runs", "3"]),
    "status_uptime": (["--days", "30"], ["--days", "3", "--runs", "3"]),
    "status_uptime@postgresql": (["--days", "30"], ["--days", "3", "--runs", "3"]),
    "retention": (
        ["--size", "1000000"],
        ["--size", "20000", "--rest-seconds", "4", "--slice-seconds", "3", "--paused-seconds", "2"],
    ),
}
# Lines worth repeating in the summary: the ratios, the goals and the headline figures.
SUMMARY = re.compile(r"×|\bratio\b|\bgoal|summary:|faster|p95|GOAL|goals met", re.IGNORECASE)


def benchmarks() -> list[str]:
    found = sorted(path.stem for path in BENCH.glob("*.py") if path.stem not in NOT_BENCHMARKS)
    names = [name for name in SIZES if name.split("@")[0] in found]
    return names + [name for name in found if name not in {n.split("@")[0] for n in SIZES}]


def run(name: str, arguments: list[str], log_path: Path) -> tuple[int, float, list[str]]:
    script = BENCH / f"{name.split('@')[0]}.py"
    env = dict(os.environ)
    env["BENCH_DB_SUFFIX"] = f"_run{os.getpid()}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    started = time.monotonic()
    lines: list[str] = []
    with open(log_path, "w") as log:
        if name.endswith("@postgresql"):
            from bench.common import throwaway_database

            with throwaway_database(f"timedify_bench_{name.split('@')[0]}") as url:
                env["DATABASE_URL"] = url
                code = _stream([sys.executable, str(script), *arguments], env, log, lines)
        else:
            env.pop("DATABASE_URL", None)  # status_uptime: the embedded SQLite under var/bench/
            code = _stream([sys.executable, str(script), *arguments], env, log, lines)
    return code, time.monotonic() - started, lines


def _stream(command: list[str], env: dict, log, lines: list[str]) -> int:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        log.write(line)
        lines.append(line.rstrip("\n"))
    return process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that every benchmark runs")
    parser.add_argument("--only", help="comma-separated benchmark names (see --list)")
    parser.add_argument("--list", action="store_true", help="print the benchmarks and their arguments")
    args = parser.parse_args()

    names = benchmarks()
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; there are {', '.join(names)}")
        names = [name for name in names if name in wanted]
    plan = [(name, SIZES.get(name, ([], []))[1 if args.quick else 0]) for name in names]
    if args.list:
        for name, arguments in plan:
            print(f"{name:<26} {' '.join(arguments) or '(its defaults)'}")
        return 0

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"{len(plan)} benchmarks, {'quick' if args.quick else 'make bench'} sizes; load average {load[0]:.2f}")
    results = []
    for name, arguments in plan:
        print(f"\n===== {name}: bench/{name.split('@')[0]}.py {' '.join(arguments)}", flush=True)
        code, seconds, lines = run(name, arguments, log_dir / f"{name.replace('@', '-')}.log")
        summary = [line for line in lines if SUMMARY.search(line) and not line.lstrip().startswith("filling")]
        results.append((name, arguments, code, seconds, summary))

    print("\n===== summary (full output in var/bench/<name>.log)")
    failed = 0
    for name, arguments, code, seconds, summary in results:
        state = "ok" if code == 0 else f"exit {code} (a goal missed, or it failed: see its log)"
        failed += code != 0
        print(f"\n{name} ({' '.join(arguments) or 'defaults'}): {seconds / 60:.1f} min, {state}")
        for line in summary:
            print(f"    {line.strip()}")
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work skews the figures)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
