"""Benchmark of the log store, on PostgreSQL, in a database of its own (dropped at the end).

    .venv/bin/python bench/logs.py [--lines 500000] [--batch 1000] [--stored 5000000]

1. Ingest: `--lines` Fly-shaped lines POSTed to /logs/ingest (a real gunicorn, sync workers) in
   batches of `--batch`, against a raw psycopg COPY of the same rows into the same table, measured
   in the same run. Goal: the endpoint reaches at least 0.5x the raw COPY's lines/s.
2. Tail: with `--stored` lines in the table (spread over `--days`), the tail's opening query
   (the last 15 minutes, a regex filter, LIMIT 200) and its poll, timed as the app runs them
   (dashboard.logs.selectors), against the same opening query without the (timestamp, id) index
   it relies on. Goal: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = secrets.token_urlsafe(32)  # this run's LOG_INGEST_TOKEN
MESSAGES = [
    "GET /api/shops/{n} 200 in {ms}ms",
    "POST /webhooks 200 in {ms}ms",
    "Received webhook APP/UNINSTALLED shop=s{n}.myshopify.com",
    "processing customers/redact for shop s{n}.myshopify.com",
    "SHOP/REDACT done in {ms}ms",
    "webhook error: target answered 502 for webhook {n}",
    'prisma:query SELECT "public"."Session"."id" FROM "public"."Session" WHERE id = {n}',
    "GraphQL throttled: 429 Too Many Requests, retrying in {ms}ms",
    "session token refreshed for s{n}.myshopify.com",
    "health check ok",
]


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def fly_record(n: int, when_ns: int) -> dict:
    seconds, nanos = divmod(when_ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"
    message = MESSAGES[n % len(MESSAGES)].format(n=n, ms=n % 900)
    return {
        "timestamp": stamp,
        "message": message,
        "host": f"{n % 16:04x}",
        "log": {"level": "error" if "error" in message else "info"},
        "event": {"provider": "app"},
        "fly": {"app": {"name": "timedify", "instance": f"148e453f2d4e{n % 4:02d}"}, "region": ("fra", "iad")[n % 2]},
    }


def environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "timedify_ops.settings",
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "SHOPIFY_API_SECRET": "shpss_bench_secret",
            "WEBHOOK_TARGET_URL": "http://127.0.0.1:9/unused",
            "APP_HEALTH_URL": "http://127.0.0.1:9/unused",
            "LOG_INGEST_TOKEN": TOKEN,
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "LOG_EVENTS_FLUSH_SECONDS": "0",
            "TIMEDIFY_VAR_DIR": str(ROOT / "var" / "bench"),
        }
    )
    return env


# --------------------------------------------------------------------------- 1. ingest


def bench_ingest(args, env: dict[str, str]) -> dict:
    import httpx
    from django.db import connection

    from dashboard.logs import records
    from dashboard.logs.ingest import COLUMNS, copy_values
    from dashboard.logs.models import LogEntry

    batches = args.lines // args.batch
    start_ns = time.time_ns()
    say(f"preparing {batches} batches of {args.batch} lines …")
    bodies = []
    rows = []
    for batch in range(batches):
        chunk = [
            fly_record(batch * args.batch + n, start_ns + (batch * args.batch + n) * 1000) for n in range(args.batch)
        ]
        bodies.append(json.dumps(chunk).encode())
        # The raw baseline gets the same rows, already mapped: only the COPY is measured.
        rows.append([copy_values(records.row_from_record(record, now_ns=start_ns)) for record in chunk])
    say(f"  {sum(map(len, bodies)) / 1e6:.0f} MB of JSON")

    table = LogEntry._meta.db_table
    columns = ", ".join(COLUMNS)

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute("VACUUM ANALYZE " + table)

    # Raw psycopg COPY, one transaction per batch, same table, same indexes.
    truncate()
    connection.ensure_connection()
    raw_connection = connection.connection
    started = time.perf_counter()
    for chunk in rows:
        with (
            raw_connection.transaction(),
            raw_connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for values in chunk:
                copy.write_row(values)
    raw_seconds = time.perf_counter() - started
    raw_rate = args.lines / raw_seconds
    say(f"raw psycopg COPY: {args.lines:,} lines in {raw_seconds:.1f} s = {raw_rate:,.0f} lines/s")

    truncate()
    port = 18000 + os.getpid() % 1000
    log = open(ROOT / "var" / "bench" / "gunicorn-logs.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "timedify_ops.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/logs/ingest"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.post(url, content=b"[]", headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start; see var/bench/gunicorn-logs.log")
            time.sleep(0.2)
        failures = []
        accepted = [0]
        lock = threading.Lock()
        queue = list(enumerate(bodies))

        def client():
            with httpx.Client(timeout=60) as http:
                while True:
                    with lock:
                        if not queue:
                            return
                        _, body = queue.pop(0)
                    response = http.post(url, content=body, headers=headers)
                    if response.status_code != 200:
                        failures.append(response.status_code)
                        continue
                    with lock:
                        accepted[0] += response.json()["accepted"]

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        endpoint_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    if failures or accepted[0] != args.lines:
        raise RuntimeError(f"ingest failed: {len(failures)} failed batches, {accepted[0]} lines accepted")
    endpoint_rate = args.lines / endpoint_seconds
    ratio = endpoint_rate / raw_rate
    say(
        f"POST /logs/ingest ({args.workers} gunicorn workers, {args.clients} clients): {args.lines:,} lines in "
        f"{endpoint_seconds:.1f} s = {endpoint_rate:,.0f} lines/s"
    )
    say(f"  ratio endpoint / raw COPY = {ratio:.2f}x (goal >= 0.5x)")
    return {"raw_rate": raw_rate, "endpoint_rate": endpoint_rate, "ratio": ratio}


# --------------------------------------------------------------------------- 2. the tail


FILL_SQL = """
INSERT INTO {table} (timestamp, timestamp_ns, app, instance, region, level, provider, host, message, topic, extra)
SELECT ts, (extract(epoch FROM ts) * 1000000)::bigint * 1000 + (g % 1000), app, instance, region, level, 'app',
       lpad(to_hex(g % 16), 4, '0'), message, topic, '{{}}'::jsonb
FROM (
  SELECT g,
         now() - make_interval(secs => {seconds} * (1 - g::float8 / {total})) AS ts,
         CASE WHEN g % 5 = 0 THEN 'timedify-ops' ELSE 'timedify' END AS app,
         '148e453f2d4e' || lpad((g % 4)::text, 2, '0') AS instance,
         CASE WHEN g % 2 = 0 THEN 'fra' ELSE 'iad' END AS region,
         CASE WHEN g % 10 = 5 THEN 40 ELSE 20 END AS level,
         CASE g % 10
           WHEN 0 THEN 'GET /api/shops/' || g || ' 200 in ' || (g % 900) || 'ms'
           WHEN 1 THEN 'POST /webhooks 200 in ' || (g % 900) || 'ms'
           WHEN 2 THEN 'Received webhook APP/UNINSTALLED shop=s' || g || '.myshopify.com'
           WHEN 3 THEN 'processing customers/redact for shop s' || g || '.myshopify.com'
           WHEN 4 THEN 'SHOP/REDACT done in ' || (g % 900) || 'ms'
           WHEN 5 THEN 'webhook error: target answered 502 for webhook ' || g
           WHEN 6 THEN 'prisma:query SELECT "public"."Session"."id" FROM "public"."Session" WHERE id = ' || g
           WHEN 7 THEN 'GraphQL throttled: 429 Too Many Requests, retrying in ' || (g % 900) || 'ms'
           WHEN 8 THEN 'session token refreshed for s' || g || '.myshopify.com'
           ELSE 'health check ok'
         END AS message,
         CASE g % 10 WHEN 2 THEN 'app/uninstalled' WHEN 3 THEN 'customers/redact' WHEN 4 THEN 'shop/redact'
           ELSE '' END AS topic
  FROM generate_series({first}, {last}) AS g
) AS lines
ORDER BY g
"""


def bench_tail(args) -> dict:
    from django.db import connection
    from django.utils import timezone

    from dashboard.logs import selectors
    from dashboard.logs.models import LogEntry
    from dashboard.logs.selectors import LogFilter

    table = LogEntry._meta.db_table
    seconds = args.days * 86400
    say(f"filling {args.stored:,} lines over {args.days} days (indexes built afterwards) …")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute("DROP INDEX logentry_ts")
        cursor.execute("DROP INDEX logentry_app_ts")
        step = 1_000_000
        for first in range(1, args.stored + 1, step):
            last = min(args.stored, first + step - 1)
            cursor.execute(FILL_SQL.format(table=table, seconds=seconds, total=args.stored, first=first, last=last))
        cursor.execute(f"CREATE INDEX logentry_ts ON {table} (timestamp, id)")
        cursor.execute(f"CREATE INDEX logentry_app_ts ON {table} (app, timestamp, id)")
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")
        size = cursor.fetchone()[0]
    say(f"  filled in {time.perf_counter() - started:.0f} s; table with indexes: {size}")

    topics = LogFilter.from_query({"preset": "topics"})
    errors = LogFilter.from_query({"preset": "errors", "app": "timedify"})

    def opening(log_filter):
        return selectors.opening_lines(log_filter, now=timezone.now(), window_minutes=15, limit=200)

    def timed(func, runs: int) -> list[float]:
        func()  # warm
        values = []
        for _ in range(runs):
            started = time.perf_counter()
            func()
            values.append((time.perf_counter() - started) * 1000)
        return values

    def explain(log_filter) -> str:
        since = timezone.now() - timedelta(minutes=15)
        queryset = log_filter.apply(LogEntry.objects.filter(timestamp__gte=since, id__lte=selectors.latest_id()))
        plan = queryset.order_by("-timestamp", "-id")[:201].explain()
        return " / ".join(line.strip() for line in plan.splitlines()[:3])

    in_window = LogEntry.objects.filter(timestamp__gte=timezone.now() - timedelta(minutes=15)).count()
    say(f"  {in_window:,} lines in the last 15 minutes")
    results = {}
    for name, log_filter in (("topics preset", topics), ("errors preset + app", errors)):
        shown = len(opening(log_filter).lines)
        values = timed(lambda f=log_filter: opening(f), args.runs)
        results[name] = values
        say(
            f"opening view, {name} ({shown} lines): p50 {statistics.median(values):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms over {len(values)} runs"
        )
        say(f"  plan: {explain(log_filter)}")

    newest = selectors.latest_id()
    poll_values = timed(lambda: selectors.poll(topics, newest - 1000), args.runs)
    say(
        f"poll (1,000 new ids, topics preset): p50 {statistics.median(poll_values):.1f} ms, "
        f"p95 {percentile(poll_values, 0.95):.1f} ms"
    )

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX logentry_ts")
        cursor.execute(f"ANALYZE {table}")
    slow = timed(lambda: opening(topics), args.slow_runs)
    say(
        f"opening view, topics preset, WITHOUT the (timestamp, id) index: p50 {statistics.median(slow):.1f} ms, "
        f"p95 {percentile(slow, 0.95):.1f} ms over {len(slow)} runs"
    )
    say(f"  plan: {explain(topics)}")
    fast = results["topics preset"]
    ratio = statistics.median(slow) / statistics.median(fast)
    say(f"  the index makes it {ratio:,.0f}x faster (p50); goal p95 < 50 ms with it")
    return {"p95": percentile(fast, 0.95), "slow_p95": percentile(slow, 0.95), "ratio": ratio}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=2, help="concurrent senders")
    parser.add_argument("--stored", type=int, default=5_000_000)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--slow-runs", type=int, default=10)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-tail", action="store_true")
    args = parser.parse_args()

    import psycopg

    name = f"timedify_bench_logs_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    database_url = f"{args.postgres}/{name}"
    env = environment(database_url)
    os.environ.update(env)
    # This process's own query telemetry is not flushed (at exit it would find the database dropped);
    # gunicorn keeps the production default in `env`.
    os.environ["TELEMETRY_FLUSH_SECONDS"] = "0"
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        say(f"machine: {os.cpu_count()} CPUs; PostgreSQL {connection.cursor().connection.info.server_version}")
        random.seed(5)
        if not args.skip_ingest:
            bench_ingest(args, env)
        if not args.skip_tail:
            bench_tail(args)
        connection.close()
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
        say(f"dropped {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
