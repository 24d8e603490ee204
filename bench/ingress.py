"""Ingress throughput and latency through gunicorn on PostgreSQL, against a trivial Django view.

    .venv/bin/python bench/ingress.py [--workers 3] [--seconds 8] [--levels 1,4,16,32]

For each concurrency level: signed webhooks with unique ids to POST /webhooks/shopify, and the
same load to a trivial view on the same server (same middleware, no database), alternating, in
the same run. Then an open-loop run at 70 % of the best ingress rate for the p95 goal.
Goals (issue 2): ingress ≥ 0.5× the trivial view's throughput; p95 < 100 ms at 70 % of max.
No worker runs: this measures the ingress (insert + enqueue), not delivery.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.common import closed_loop, gunicorn, machine, open_loop, throwaway_database, webhook

counter = itertools.count()


def trivial():
    body = json.dumps({"id": next(counter), "domain": "bench.myshopify.com", "note": "x" * 400}).encode()
    return body, {"Content-Type": "application/json"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--seconds", type=float, default=8, help="per measurement")
    parser.add_argument("--levels", default="1,4,16,32", help="concurrency levels")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    print(f"machine: {machine()}; gunicorn workers: {args.workers}; PostgreSQL")
    with throwaway_database("timedify_bench_ingress") as url:
        from bench.common import bench_env

        with gunicorn(bench_env(url), workers=args.workers) as base:
            closed_loop(f"{base}/bench/trivial", trivial, 4, 1)  # warm up both paths
            closed_loop(f"{base}/webhooks/shopify", webhook, 4, 1)
            best_ingress = 0.0
            ratios = []
            print(f"{'conc':>4}  {'view':8}  result")
            for level in levels:
                base_run = closed_loop(f"{base}/bench/trivial", trivial, level, args.seconds)
                ingress_run = closed_loop(f"{base}/webhooks/shopify", webhook, level, args.seconds)
                print(f"{level:>4}  trivial   {base_run.line()}")
                print(f"{level:>4}  ingress   {ingress_run.line()}")
                ratio = ingress_run.rate / base_run.rate
                ratios.append(ratio)
                print(f"{level:>4}  ratio     ingress/trivial throughput = {ratio:.2f}×")
                best_ingress = max(best_ingress, ingress_run.rate)
            target_rate = 0.7 * best_ingress
            steady = open_loop(f"{base}/webhooks/shopify", webhook, target_rate, args.seconds)
            steady_base = open_loop(f"{base}/bench/trivial", trivial, target_rate, args.seconds)
            print(f"open loop at 70 % of max ingress ({target_rate:.0f} req/s):")
            print(f"      trivial   {steady_base.line()}")
            print(f"      ingress   {steady.line()}")
            print(
                f"summary: best ingress {best_ingress:.0f} req/s; ingress/trivial throughput ratio "
                f"min {min(ratios):.2f}× max {max(ratios):.2f}× (goal ≥ 0.5×); "
                f"p95 at 70 % of max {steady.pct(95):.1f} ms (goal < 100 ms)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
