"""Retention of a large backlog on PostgreSQL while signed webhooks keep arriving through gunicorn.

    .venv/bin/python bench/retention.py [--size 5000000] [--rate 30] [--workers 2] [--rest-seconds 20]

1. A throwaway database with `--size` expired webhook events (60 days old, one delivery attempt
   each), generated with SQL generate_series, plus 1,000 old events whose dead letter is open
   (retention must keep them) and 1,000 recent events.
2. gunicorn serves the ingress; an open-loop generator sends signed webhooks at `--rate` per second.
3. The ingress p95 at rest, then `manage.py retention_cleanup` runs (its default batches and rest
   between them) while the same load continues. Slices with retention running alternate with
   slices where it is paused (SIGSTOP), which count as "at rest" with the slices before and
   after, so the rest of the machine's load weighs on both figures alike. Prints rows deleted per
   second of running time and the ingress p95 during retention over the p95 at rest, same run.
   Goal (issue 7): ratio ≤ 1.5.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.common import ROOT, LoadResult, bench_env, gunicorn, machine, open_loop, throwaway_database, webhook

PROTECTED = 1000
RECENT = 1000


GENERATE = """
INSERT INTO webhooks_webhookevent (webhook_id, event_id, topic, shop_domain, api_version, received_at,
    body, body_size, headers, status, attempts, delivered_at, synthetic, duplicates)
SELECT %(prefix)s || g, 'ev-' || g, 'customers/data_request', 'shop-' || (g %% 500) || '.myshopify.com', '2026-10',
    %(start)s + g * interval '500 microseconds',
    convert_to('{"id":' || g || ',"domain":"shop.myshopify.com","note":"' || repeat('x', 400) || '"}', 'UTF8'),
    440, '{"X-Shopify-Topic": "customers/data_request"}'::jsonb, %(status)s, 1,
    %(start)s + g * interval '500 microseconds', false, 0
FROM generate_series(1, %(count)s) AS g
"""

ATTEMPTS = """
INSERT INTO webhooks_deliveryattempt (number, started_at, duration_ms, status_code, error, response_excerpt,
    target_url, is_replay, event_id)
SELECT 1, received_at, 12.5, CASE WHEN status = 'delivered' THEN 200 ELSE 500 END, '', 'ok',
    'http://app.example.com/webhooks', false, id
FROM webhooks_webhookevent
"""

DEAD_LETTERS = """
INSERT INTO deadletters_deadletter (event_id, status, reason, created_at, topic, shop_domain, last_error, replay_count)
SELECT id, 'open', 'HTTP 500 after 5 attempts', received_at, topic, shop_domain, '', 0
FROM webhooks_webhookevent WHERE webhook_id LIKE 'protected-%'
"""


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def populate(url: str, size: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(GENERATE, {"prefix": "old-", "start": ago(days=60), "status": "delivered", "count": size})
        conn.execute(
            GENERATE,
            {
                "prefix": "protected-",
                "start": ago(days=90),
                "status": "dead_lettered",
                "count": PROTECTED,
            },
        )
        conn.execute(GENERATE, {"prefix": "recent-", "start": ago(days=1), "status": "delivered", "count": RECENT})
        conn.execute(ATTEMPTS)
        conn.execute(DEAD_LETTERS)
        conn.execute("VACUUM ANALYZE")
        size_text = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        print(
            f"generated {size:,} expired events (+ attempts) in {time.perf_counter() - started:.0f} s; "
            f"database {size_text}"
        )


def counts(url: str) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        # The expired ones only: webhooks sent during the run are young and stay.
        events = conn.execute("SELECT count(*) FROM webhooks_webhookevent WHERE webhook_id LIKE 'old-%'").fetchone()[0]
        attempts = conn.execute("SELECT count(*) FROM webhooks_deliveryattempt").fetchone()[0]
        protected = conn.execute(
            "SELECT count(*) FROM webhooks_webhookevent WHERE webhook_id LIKE 'protected-%'"
        ).fetchone()[0]
    return events, attempts, protected


def merge(results: list[LoadResult]) -> LoadResult:
    latencies = [value for result in results for value in result.latencies_ms]
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=latencies,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=5_000_000, help="expired events to generate")
    parser.add_argument("--rate", type=float, default=30, help="signed webhooks per second (open loop)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rest-seconds", type=float, default=20, help="length of the at-rest measurement")
    parser.add_argument("--slice-seconds", type=float, default=10, help="slices with retention running")
    parser.add_argument("--paused-seconds", type=float, default=5, help="slices with retention paused, between them")
    parser.add_argument("--batch-size", type=int, help="RETENTION_BATCH_SIZE (default: the setting's default)")
    parser.add_argument("--duty", type=int, help="RETENTION_DUTY_PERCENT (default: the setting's default)")
    args = parser.parse_args()
    overrides = {}
    if args.batch_size:
        overrides["RETENTION_BATCH_SIZE"] = str(args.batch_size)
    if args.duty:
        overrides["RETENTION_DUTY_PERCENT"] = str(args.duty)

    print(f"machine: {machine()}; PostgreSQL; gunicorn workers {args.workers}; ingress load {args.rate:g}/s open loop")
    print(f"retention settings: {overrides or 'defaults'}")
    with throwaway_database("timedify_bench_retention") as url:
        populate(url, args.size)
        env = bench_env(url, **overrides)
        with gunicorn(env, workers=args.workers) as base:
            ingress = f"{base}/webhooks/shopify"
            open_loop(ingress, webhook, args.rate, 3)  # warm up
            rest_parts = [open_loop(ingress, webhook, args.rate, args.rest_seconds)]
            print(f"at rest (before): {rest_parts[0].line()}")

            events_before, attempts_before, _ = counts(url)
            retention = subprocess.Popen(
                [sys.executable, "manage.py", "retention_cleanup"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            output: list[str] = []
            reader = threading.Thread(target=lambda: output.extend(retention.stdout), daemon=True)
            reader.start()
            # Alternate: retention running, then paused (SIGSTOP) for a slice "at rest", so a change
            # in the machine's other load hits both figures alike (the machine is shared).
            during_parts = []
            running_s = 0.0
            while retention.poll() is None:
                started = time.perf_counter()
                during_parts.append(open_loop(ingress, webhook, args.rate, args.slice_seconds))
                running_s += time.perf_counter() - started
                if retention.poll() is not None:
                    break
                retention.send_signal(signal.SIGSTOP)
                try:
                    rest_parts.append(open_loop(ingress, webhook, args.rate, args.paused_seconds))
                finally:
                    retention.send_signal(signal.SIGCONT)
            reader.join(timeout=10)
            rest_parts.append(open_loop(ingress, webhook, args.rate, args.rest_seconds))
            print(f"at rest (after):  {rest_parts[-1].line()}")
            rest, during = merge(rest_parts), merge(during_parts)
            print(f"at rest (all):    {rest.line()}")
            print(f"during retention: {during.line()}")
            elapsed = running_s

        if retention.returncode != 0:
            print("".join(output))
            print(f"retention_cleanup failed with exit {retention.returncode}")
            return 1
        print("retention_cleanup said:\n" + "".join("    " + line for line in output))
        events_after, attempts_after, protected = counts(url)
        received = rest.requests + during.requests + 3 * int(args.rate)
        events_deleted = events_before - events_after
        attempts_deleted = attempts_before - attempts_after
        rows = events_deleted + attempts_deleted
        ratio = during.pct(95) / rest.pct(95)
        print(
            f"deleted {events_deleted:,} events and {attempts_deleted:,} attempts in {elapsed:.1f} s running: "
            f"{events_deleted / elapsed:,.0f} events/s, {rows / elapsed:,.0f} rows/s"
        )
        print(f"kept: {protected:,} of {PROTECTED:,} events with an open dead letter; {received:,} webhooks sent")
        print(
            f"summary: ingress p95 during retention {during.pct(95):.1f} ms / at rest {rest.pct(95):.1f} ms "
            f"= {ratio:.2f}× (goal ≤ 1.5×); errors during {during.errors}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
