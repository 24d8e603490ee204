#!/usr/bin/env python
"""Benchmark: the dead-letter list against the Django admin changelist, at page 1 and at depth.

    .venv/bin/python bench/deadletters.py [--size 1000000] [--depth 1000] [--repeat 7] [--keep]

1. Creates a PostgreSQL database of its own (timedify_bench_dl), migrates it, and fills it with
   `--size` dead letters (and their events) using generate_series: 90 % open, 5 % failed,
   5 % replayed, six topics, 5,000 shops, one a second going back in time.
2. Times, through Django's test client (the whole view: queries and template), median of
   `--repeat` after a warm-up:
   - /deadletters/ page 1, and the page `--depth` reached by following the "older" link
     page after page (keyset: WHERE (created_at, id) < cursor ORDER BY … LIMIT 51);
   - /admin/deadletters/deadletter/?status__exact=open (same filter, same 50 rows a page)
     at ?p=1 and at ?p=--depth (OFFSET 49,950 at depth 1,000, plus its COUNT(*)s);
   - the counts fragment the list loads after itself (capped counts).
3. Counts the COUNT(*) queries on the dead-letter table each page runs (CaptureQueriesContext).
4. Prints the figures and the ratios against the admin, then drops the database.

Goals (issue 3): ≥ 10× faster than the admin at depth, depth within 2× of page 1, no COUNT(*).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timedify_ops.lib.topics import DEFAULT_TOPICS  # noqa: E402

BENCH_DB = "timedify_bench_dl" + os.environ.get("BENCH_DB_SUFFIX", "")  # see bench.common.throwaway_database
TOPICS = list(DEFAULT_TOPICS)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="dead letters to create (default 1,000,000)")
    parser.add_argument("--depth", type=int, default=1000, help="page number to compare at (default 1,000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per page (median reported)")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (and reuse it if full)")
    return parser.parse_args()


def admin_sql(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def say(message: str) -> None:
    print(message, flush=True)


def fill(size: int) -> float:
    """Insert `size` events and their dead letters in two set-based statements."""
    from django.db import connection

    started = time.perf_counter()
    topics = "ARRAY[" + ",".join(f"'{t}'" for t in TOPICS) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO webhooks_webhookevent
                (webhook_id, event_id, topic, shop_domain, api_version, received_at, body, body_size,
                 headers, status, attempts, synthetic, duplicates)
            SELECT 'wh-' || g, 'ev-' || g, ({topics})[1 + mod(g, 6)], 'shop-' || mod(g, 5000) || '.myshopify.com',
                   '2026-10', now() - (%(size)s - g) * interval '1 second',
                   convert_to('{{"id": ' || g || ', "domain": "shop-' || mod(g, 5000) || '.myshopify.com"}}', 'UTF8'),
                   40, '{{"X-Shopify-Topic": "app/uninstalled", "X-Shopify-Hmac-Sha256": "[redacted]"}}'::jsonb,
                   'dead_lettered', 5, false, 0
            FROM generate_series(1, %(size)s) AS g
            """,
            {"size": size},
        )
        cursor.execute(
            """
            INSERT INTO deadletters_deadletter
                (event_id, status, reason, created_at, topic, shop_domain, last_status_code, last_error,
                 replay_count, replayed_at)
            SELECT e.id,
                   CASE WHEN mod(e.id, 20) = 0 THEN 'replayed' WHEN mod(e.id, 20) = 1 THEN 'failed' ELSE 'open' END,
                   'HTTP 500 after 5 attempts (retry budget spent)', e.received_at + interval '8 seconds',
                   e.topic, e.shop_domain,
                   CASE WHEN mod(e.id, 7) = 0 THEN NULL WHEN mod(e.id, 7) = 1 THEN 422 ELSE 500 END,
                   CASE WHEN mod(e.id, 7) = 0 THEN 'ConnectError: connection refused' ELSE 'Internal Server Error' END,
                   CASE WHEN mod(e.id, 20) = 0 THEN 1 ELSE 0 END,
                   CASE WHEN mod(e.id, 20) = 0 THEN e.received_at + interval '1 hour' END
            FROM webhooks_webhookevent e
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE webhooks_webhookevent")
        cursor.execute("VACUUM ANALYZE deadletters_deadletter")
    return time.perf_counter() - started


def count_queries_on_table(queries) -> int:
    return sum(1 for q in queries if re.search(r"COUNT\(", q["sql"], re.I) and "deadletters_deadletter" in q["sql"])


def timed(client, url: str, repeat: int) -> tuple[float, int, list]:
    """Median milliseconds over `repeat` requests (after one warm-up), COUNT(*)s on the table, queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), count_queries_on_table(queries.captured_queries), queries.captured_queries


NEXT_LINK = re.compile(r'href="\?([^"]*after=[^"]+)">Older dead letters')


def walk_to(client, depth: int) -> str:
    """Follow the list's "older" link from page 1 to page `depth`; returns that page's URL."""
    from html import unescape

    url = "/deadletters/"
    for _ in range(depth - 1):
        match = NEXT_LINK.search(client.get(url).content.decode())
        if not match:
            raise SystemExit(f"the list ended before page {depth}: use a larger --size")
        url = "/deadletters/?" + unescape(match.group(1))
    return url


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)
        return "\n".join("    " + row[0] for row in cursor.fetchall())


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = f"{args.server}/{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("Q_LOG_LEVEL", "ERROR")

    import django

    reuse = False
    if args.keep:
        import psycopg

        try:
            with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
                row = conn.execute("SELECT count(*) FROM deadletters_deadletter").fetchone()
                reuse = row[0] == args.size
        except psycopg.Error:
            reuse = False
    if not reuse:
        admin_sql(args.server, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin_sql(args.server, f"CREATE DATABASE {BENCH_DB}")
    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from deadletters import filters, views

    try:
        if not reuse:
            say(f"migrating {BENCH_DB} …")
            call_command("migrate", verbosity=0)
            say(f"filling {args.size:,} dead letters (and events) …")
            say(f"  filled and analysed in {fill(args.size):.1f} s")
        user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
            "bench", "", "bench-password-123"
        )
        client = Client()
        client.force_login(user)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('deadletters_deadletter'))")
            table_size = cursor.fetchone()[0]

        per_page = views.PAGE_SIZE
        rows_deep = (args.depth - 1) * per_page
        say(f"walking the list to page {args.depth} ({rows_deep:,} rows deep) by its keyset links …")
        started = time.perf_counter()
        depth_url = walk_to(client, args.depth)
        walk_s = time.perf_counter() - started

        admin = "/admin/deadletters/deadletter/?status__exact=open"
        results = {}
        for name, url in [
            ("list, page 1", "/deadletters/"),
            (f"list, page {args.depth}", depth_url),
            ("admin, page 1", f"{admin}&p=1"),
            (f"admin, page {args.depth}", f"{admin}&p={args.depth}"),
            ("counts fragment", "/deadletters/counts/"),
        ]:
            results[name] = timed(client, url, args.repeat)

        # The depth page's query exactly as keyset_page sends it, explained by PostgreSQL.
        from urllib.parse import parse_qs, urlsplit

        from django.test.utils import CaptureQueriesContext

        from deadletters import filters
        from timedify_ops.pagination import keyset_page

        cursor_value = parse_qs(urlsplit(depth_url).query)["after"][0]
        rows = filters.apply({}).queryset.select_related("event").only(*filters.LIST_FIELDS)
        with CaptureQueriesContext(connection) as captured:
            keyset_page(rows, cursor=cursor_value, page_size=per_page)
        plan = explain(captured.captured_queries[-1]["sql"])
    finally:
        connection.close()
        if not args.keep:
            admin_sql(args.server, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")

    ours1, ours1_counts, _ = results["list, page 1"]
    oursd, oursd_counts, _ = results[f"list, page {args.depth}"]
    admin1, admin1_counts, _ = results["admin, page 1"]
    admind, admind_counts, _ = results[f"admin, page {args.depth}"]
    counts_ms, counts_counts, _ = results["counts fragment"]

    nproc = os.cpu_count()
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    say("")
    say(f"machine: {nproc} CPUs, {mem_gb:.0f} GB RAM; PostgreSQL; {args.size:,} dead letters ({table_size})")
    say(f"page size {per_page} (the admin's list_per_page set to the same); depth = page {args.depth}")
    say(
        f"walking to page {args.depth} by keyset links took {walk_s:.1f} s ({walk_s / args.depth * 1000:.1f} ms a page)"
    )
    say("")
    say(f"{'page':<24}{'median ms':>12}{'COUNT(*) on the table':>24}")
    for name, (ms, counted, _) in results.items():
        say(f"{name:<24}{ms:>12.1f}{counted:>24}")
    say("")
    say(f"list vs admin at page {args.depth}:    {admind / oursd:6.1f}× faster   (goal ≥ 10×)")
    say(f"list vs admin at page 1:       {admin1 / ours1:6.1f}× faster")
    say(f"list, page {args.depth} / page 1:     {oursd / ours1:6.2f}×         (goal ≤ 2×)")
    say(
        f"COUNT(*) on the table by the list: {ours1_counts + oursd_counts}  (goal 0); by the admin: "
        f"{admin1_counts} at page 1, {admind_counts} at depth"
    )
    say(
        f"the counts fragment (loaded after the list; each count stops at {filters.COUNT_CAP:,}): "
        f"{counts_ms:.1f} ms, {counts_counts} capped counts"
    )
    say("")
    say(f"the depth query's plan:\n{plan}")
    goals = admind / oursd >= 10 and oursd / ours1 <= 2 and ours1_counts + oursd_counts == 0
    say("")
    say("all goals met" if goals else "GOAL MISSED (see above)")
    return 0 if goals else 1


if __name__ == "__main__":
    sys.exit(main())
