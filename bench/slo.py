"""/slo/ from the per-minute rollups against the same figures computed from the raw rows.

    .venv/bin/python bench/slo.py [--events 10000000] [--days 28] [--runs 5]

1. A throwaway PostgreSQL database gets `--events` webhook events spread over `--days` days,
   written with SQL (generate_series): the events, one delivery attempt each (three for 2 %),
   dead letters (0.25 %, and a 10 % error burst for one hour), the ingress latency histograms
   per minute (dashboard.LatencyMinute, as the telemetry flushes write them) and the `app`
   probe's result every minute (one 10-minute outage). 1 % of the events are synthetic.
2. The rollups are built by the real code (dashboard.slo.rollups.rollup_range, one day per call),
   timed; so is one run of the every-minute job.
3. Timed in the same run, median of `--runs`:
   - rollups: the /slo/ data (dashboard.slo.services.slo_page) and the whole page through the
     Django test client (render included), for the 24 h and 28 d ranges;
   - raw: the same figures (every SLO over the SLO window and the five burn-rate windows, the
     24 h chart series and the burn-down) computed from the raw tables with aggregate queries
     that use the same indexes.
   Both must agree exactly; the script checks it.
Goals (issue 6): rollups ≥ 50× faster than raw; the page under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.common import machine, throwaway_database

TOPICS = [
    "app/uninstalled",
    "app/scopes_update",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "orders/create",
]


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def median_ms(func, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


# --------------------------------------------------------------------------- data


def generate(cursor, *, events: int, start: datetime, end: datetime, incident: datetime) -> None:
    """Raw rows written straight into the tables (no ORM: 10 M rows must take minutes, not hours)."""
    span_s = (end - start).total_seconds()
    spacing = span_s / events
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SELECT setseed(0.42)")
    chunk = 1_000_000
    for low in range(0, events, chunk):
        high = min(events, low + chunk) - 1
        cursor.execute(
            """
            INSERT INTO webhooks_webhookevent (webhook_id, event_id, topic, shop_domain, api_version, received_at,
                body, body_size, headers, status, attempts, delivered_at, synthetic, duplicates)
            SELECT 'bench-' || g.i, 'e-' || g.i, (%(topics)s::text[])[1 + g.i %% 6],
                   'shop-' || (g.i %% 50) || '.myshopify.com', '2026-10', t.at, '\\x7b7d'::bytea, 2, '{}'::jsonb,
                   CASE WHEN d.dead THEN 'dead_lettered' ELSE 'delivered' END,
                   CASE WHEN g.i %% 50 = 3 THEN 3 ELSE 1 END,
                   CASE WHEN d.dead THEN NULL ELSE t.at + interval '1 second' END,
                   g.i %% 100 = 0, 0
            FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS g(i),
                 LATERAL (SELECT %(start)s::timestamptz + g.i * %(spacing)s * interval '1 second' AS at) AS t,
                 LATERAL (SELECT g.i %% 400 = 7 OR (t.at >= %(incident)s AND t.at < %(incident_end)s
                                                  AND g.i %% 10 = 0) AS dead) AS d
            """,
            {
                "topics": TOPICS,
                "low": low,
                "high": high,
                "start": start,
                "spacing": spacing,
                "incident": incident,
                "incident_end": incident + timedelta(hours=1),
            },
        )
        print(f"    events {high + 1:,}", flush=True)
    cursor.execute(
        """
        INSERT INTO webhooks_deliveryattempt (event_id, number, started_at, duration_ms, status_code, error,
            response_excerpt, target_url, is_replay)
        SELECT e.id, n, e.received_at + (n - 1) * interval '300 milliseconds',
               round((3 + 600 * power(random(), 8))::numeric, 3)::float,
               CASE WHEN e.status = 'dead_lettered' OR n < e.attempts THEN 500 ELSE 200 END, '', '', '', false
        FROM webhooks_webhookevent e, generate_series(1, e.attempts) AS n
        """
    )
    cursor.execute(
        """
        INSERT INTO deadletters_deadletter (event_id, status, reason, created_at, topic, shop_domain,
            last_status_code, last_error, replay_count)
        SELECT id, 'open', 'HTTP 500 after 5 attempts', received_at + interval '3 seconds', topic, shop_domain,
               500, '', 0
        FROM webhooks_webhookevent WHERE status = 'dead_lettered'
        """
    )
    # The ingress histograms: per minute, accepted answers by bucket (a slower hour during the
    # incident), a few duplicates, refused junk and synthetic answers, and a rare 503.
    per_minute = events / (span_s / 60)
    cursor.execute(
        """
        WITH minutes AS (
            SELECT m, (m >= %(incident)s AND m < %(incident_end)s) AS slow
            FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 minute',
                                 interval '1 minute') AS m
        ), labelled AS (
            SELECT m, slow, l.labels, l.share
            FROM minutes, (VALUES ('outcome=accepted,synthetic=0', 0.97), ('outcome=duplicate,synthetic=0', 0.01),
                                  ('outcome=unauthorized,synthetic=0', 0.01), ('outcome=accepted,synthetic=1', 0.01))
                          AS l(labels, share)
        ), counted AS (
            SELECT m, labels,
                   round(%(n)s * share * 0.30 * (0.9 + random() * 0.2))::bigint AS b03,
                   round(%(n)s * share * 0.40 * (0.9 + random() * 0.2))::bigint AS b04,
                   round(%(n)s * share * (CASE WHEN slow THEN 0.05 ELSE 0.17 END))::bigint AS b05,
                   round(%(n)s * share * 0.08 * random())::bigint AS b06,
                   round(%(n)s * share * 0.03 * random())::bigint AS b07,
                   round(%(n)s * share * (CASE WHEN slow THEN 0.15 ELSE 0.015 END) * random())::bigint AS b08,
                   round(%(n)s * share * 0.01 * random())::bigint AS b09,
                   CASE WHEN random() < 0.002 THEN 1 ELSE 0 END AS b12
            FROM labelled
        )
        INSERT INTO dashboard_latencyminute (series, minute, labels, count, sum_ms,
            b00, b01, b02, b03, b04, b05, b06, b07, b08, b09, b10, b11, b12, b13, b14, b15)
        SELECT 'ingress', m, labels, b03 + b04 + b05 + b06 + b07 + b08 + b09 + b12,
               b03 * 8 + b04 * 18 + b05 * 40 + b06 * 62 + b07 * 88 + b08 * 120 + b09 * 200 + b12 * 2000,
               0, 0, 0, b03, b04, b05, b06, b07, b08, b09, 0, 0, b12, 0, 0, 0
        FROM counted
        UNION ALL
        SELECT 'ingress', m, 'outcome=unavailable,synthetic=0', 2, 600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0,
               0, 0
        FROM minutes WHERE extract(epoch FROM m)::bigint %% 60000 = 0
        """,
        {
            "start": start,
            "end": end,
            "incident": incident,
            "incident_end": incident + timedelta(hours=1),
            "n": per_minute,
        },
    )
    cursor.execute(
        """
        INSERT INTO dashboard_proberesult (probe, checked_at, state, latency_ms, detail)
        SELECT p.probe, m + interval '2 seconds',
               CASE WHEN p.probe = 'app' AND m >= %(incident)s AND m < %(incident)s + interval '10 minutes'
                    THEN 'fail' WHEN random() < 0.01 THEN 'warn' ELSE 'ok' END,
               20 + random() * 30, ''
        FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 minute',
                             interval '1 minute') AS m,
             (VALUES ('app'), ('database')) AS p(probe)
        """,
        {"start": start, "end": end, "incident": incident},
    )
    cursor.execute("ANALYZE")


# --------------------------------------------------------------------------- the raw baseline


def raw_figures(end: datetime) -> dict:
    """The /slo/ figures straight from the raw tables: window counts per SLO, the 24 h series
    (5-minute steps) and the burn-down's bad events per 2-hour step."""
    from django.conf import settings
    from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When

    from dashboard.health.models import ProbeResult
    from dashboard.slo import services
    from dashboard.slo.models import INGRESS_BUCKETS
    from deadletters.models import DeadLetter
    from timedify_ops.lib import slo as slo_math
    from timedify_ops.lib.histogram import BUCKETS, EDGES_MS
    from timedify_ops.telemetry.models import LatencyMinute
    from webhooks.models import DeliveryAttempt, WebhookEvent

    windows = {name: timedelta(minutes=m) for name, m in slo_math.WINDOWS.items()}
    windows["slo"] = services.slo_window()
    longest = max(windows.values())
    since = end - longest
    threshold_index = EDGES_MS.index(settings.SLO_LATENCY_THRESHOLD_MS)
    good_buckets = [f"b{index:02d}" for index in range(threshold_index + 1)]
    refused = Q(labels__regex=r"outcome=(unauthorized|bad_request|too_large|http_4)")
    fivexx = Q(labels__regex=r"outcome=(unavailable|http_5)")
    mine = Q(labels__contains="synthetic=0")

    def within(field, span):
        return Q(**{f"{field}__gte": end - span})

    received = WebhookEvent.objects.filter(received_at__gte=since, received_at__lt=end, synthetic=False).aggregate(
        **{name: Count("id", filter=within("received_at", span)) for name, span in windows.items()}
    )
    dead = DeadLetter.objects.filter(created_at__gte=since, created_at__lt=end, event__synthetic=False).aggregate(
        **{name: Count("id", filter=within("created_at", span)) for name, span in windows.items()}
    )
    latency_rows = LatencyMinute.objects.filter(series="ingress", minute__gte=since, minute__lt=end).filter(mine)
    aggregates = {}
    for name, span in windows.items():
        aggregates[f"total_{name}"] = Sum("count", filter=within("minute", span) & ~refused)
        aggregates[f"5xx_{name}"] = Sum("count", filter=within("minute", span) & fivexx)
        for bucket in good_buckets:
            aggregates[f"{bucket}_{name}"] = Sum(bucket, filter=within("minute", span) & ~refused)
    latency = latency_rows.aggregate(**aggregates)
    probes = ProbeResult.objects.filter(probe=settings.SLO_UPTIME_PROBE, checked_at__gte=since, checked_at__lt=end)
    up = probes.aggregate(
        **{f"n_{name}": Count("id", filter=within("checked_at", span)) for name, span in windows.items()},
        **{
            f"up_{name}": Count("id", filter=within("checked_at", span) & Q(state__in=["ok", "warn"]))
            for name, span in windows.items()
        },
    )
    counts = {}
    for name in windows:
        total = latency[f"total_{name}"] or 0
        good = sum(latency[f"{bucket}_{name}"] or 0 for bucket in good_buckets)
        errors_5xx = latency[f"5xx_{name}"] or 0
        counts[name] = {
            "latency": (total - good, total),
            "error_rate": (errors_5xx + dead[name], received[name] + errors_5xx),
            "uptime": (up[f"n_{name}"] - up[f"up_{name}"], up[f"n_{name}"]),
        }

    # The 24 h chart: per 5 minutes, the same columns the rollups give.
    span, step = services.RANGES["24h"]
    seconds = int(step.total_seconds())
    first = end - span
    bucket = services.EpochBucket
    series = {
        "received": WebhookEvent.objects.filter(received_at__gte=first, received_at__lt=end, synthetic=False)
        .annotate(at=bucket("received_at", seconds))
        .values("at")
        .annotate(n=Count("id")),
        "delivered": WebhookEvent.objects.filter(delivered_at__gte=first, delivered_at__lt=end, synthetic=False)
        .annotate(at=bucket("delivered_at", seconds))
        .values("at")
        .annotate(n=Count("id")),
        "dead": DeadLetter.objects.filter(created_at__gte=first, created_at__lt=end, event__synthetic=False)
        .annotate(at=bucket("created_at", seconds))
        .values("at")
        .annotate(n=Count("id")),
        "latency": latency_rows.filter(minute__gte=first)
        .exclude(refused)
        .annotate(at=bucket("minute", seconds))
        .values("at")
        .annotate(n=Sum("count"), **{f"s_{b}": Sum(f"b{b[1:]}") for b in INGRESS_BUCKETS}),
        "attempts": DeliveryAttempt.objects.filter(started_at__gte=first, started_at__lt=end, event__synthetic=False)
        .annotate(
            at=bucket("started_at", seconds),
            b=Case(
                *[When(duration_ms__lte=edge, then=Value(i)) for i, edge in enumerate(EDGES_MS)],
                default=Value(BUCKETS - 1),
                output_field=IntegerField(),
            ),
        )
        .values("at", "b")
        .annotate(n=Count("id")),
        "probes": probes.filter(checked_at__gte=first)
        .annotate(at=bucket("checked_at", seconds))
        .values("at")
        .annotate(n=Count("id"), up=Count("id", filter=Q(state__in=["ok", "warn"]))),
    }
    series = {name: list(query) for name, query in series.items()}

    # The burn-down: bad events per 2-hour step over the SLO window.
    burn_seconds = 7200
    burn = {
        "dead": DeadLetter.objects.filter(created_at__gte=since, created_at__lt=end, event__synthetic=False)
        .annotate(at=bucket("created_at", burn_seconds))
        .values("at")
        .annotate(n=Count("id")),
        "latency": latency_rows.exclude(refused)
        .annotate(at=bucket("minute", burn_seconds))
        .values("at")
        .annotate(n=Sum("count"), **{f"g_{b}": Sum(b) for b in good_buckets}),
        "probes": probes.annotate(at=bucket("checked_at", burn_seconds))
        .values("at")
        .annotate(n=Count("id"), up=Count("id", filter=Q(state__in=["ok", "warn"]))),
    }
    burn = {name: list(query) for name, query in burn.items()}
    return {"counts": counts, "series": series, "burn": burn}


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards (debugging)")
    args = parser.parse_args()

    print(f"machine: {machine()}; PostgreSQL; {args.events:,} events over {args.days} days", flush=True)
    with throwaway_database("timedify_bench_slo") as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from dashboard.slo import rollups, services
        from tests.conftest import make_user

        end = datetime.now(UTC).replace(second=0, microsecond=0)
        start = end - timedelta(days=args.days)
        incident = (end - timedelta(days=3)).replace(hour=3, minute=0)
        print("generating raw rows with SQL:", flush=True)
        with connection.cursor() as cursor:
            timed("raw rows", generate, cursor, events=args.events, start=start, end=end, incident=incident)
            cursor.execute(
                "SELECT (SELECT count(*) FROM webhooks_webhookevent), (SELECT count(*) FROM webhooks_deliveryattempt),"
                " (SELECT count(*) FROM deadletters_deadletter), (SELECT count(*) FROM dashboard_latencyminute),"
                " (SELECT count(*) FROM dashboard_proberesult), pg_size_pretty(pg_database_size(current_database()))"
            )
            counts = cursor.fetchone()
        print(
            f"  rows: {counts[0]:,} events, {counts[1]:,} attempts, {counts[2]:,} dead letters, "
            f"{counts[3]:,} latency-minute rows, {counts[4]:,} probe results; database {counts[5]}",
            flush=True,
        )

        print("rolling up with dashboard.slo.rollups.rollup_range, one day per call:", flush=True)
        day_times = []
        day = start
        while day < end:
            began = time.perf_counter()
            rollups.rollup_range(day, min(day + timedelta(days=1), end))
            day_times.append(time.perf_counter() - began)
            day += timedelta(days=1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dashboard_slominute")
        print(
            f"  {len(day_times)} days in {sum(day_times):.1f} s (median {statistics.median(day_times):.2f} s a day); "
            f"{services.SloMinute.objects.count():,} rollup rows",
            flush=True,
        )
        job_ms, _ = median_ms(lambda: rollups.rollup_recent(end + timedelta(seconds=5)), args.runs)
        print(f"  the every-minute job (recompute the last 5 minutes): median {job_ms:.1f} ms", flush=True)

        # Both sides must give the same numbers.
        statuses = services.current_status(end)
        raw = raw_figures(end)
        windows = ["5m", "30m", "1h", "6h", "3d"]
        for key, status in statuses.items():
            assert (status.bad, status.events) == raw["counts"]["slo"][key], (key, status, raw["counts"]["slo"][key])
            for window in windows:
                raw_bad, raw_total = raw["counts"][window][key]
                rate = status.burn_rates[window]
                expected = None if raw_total == 0 else (raw_bad / raw_total) / (1 - status.objective)
                assert (rate is None and expected is None) or abs(rate - expected) < 1e-9, (key, window)
        received_24h = sum(row["n"] for row in raw["series"]["received"])
        chart = services.chart_series("24h", end)
        assert received_24h == sum(chart["traffic"]["received"]), "24 h traffic differs"
        print("  check: rollups and raw rows give the same SLO counts, burn rates and 24 h traffic", flush=True)
        for key, status in statuses.items():
            rates = ", ".join(f"{w} {status.burn_rates[w]:.2f}×" for w in windows if status.burn_rates[w] is not None)
            print(
                f"  {key}: SLI {status.sli:.5f} over {status.events:,} {key != 'uptime' and 'events' or 'checks'}, "
                f"budget remaining {status.budget_remaining:.1%}, {status.state}; burn {rates}"
            )

        print(f"timing (median of {args.runs}):", flush=True)
        make_user("bench", role="viewer") if not get_user_model().objects.filter(username="bench").exists() else None
        client = Client()
        client.force_login(get_user_model().objects.get(username="bench"))
        results = {}
        for range_key in ("24h", "28d"):
            data_ms, _ = median_ms(lambda r=range_key: services.slo_page(r), args.runs)
            page_ms, response = median_ms(lambda r=range_key: client.get(f"/slo/?range={r}"), args.runs)
            assert response.status_code == 200
            results[range_key] = (data_ms, page_ms)
            print(f"  rollups {range_key:>3}: /slo/ data {data_ms:7.1f} ms · whole page (rendered) {page_ms:7.1f} ms")
        raw_ms, _ = median_ms(lambda: raw_figures(end), max(1, min(args.runs, 3)))
        print(f"  raw rows:    the same figures (24 h series)  {raw_ms:9.1f} ms")
        ratio = raw_ms / results["24h"][0]
        worst_page = max(page for _data, page in results.values())
        print(
            f"summary: /slo/ data from rollups {results['24h'][0]:.1f} ms vs {raw_ms:.0f} ms from raw rows = "
            f"{ratio:.0f}× faster (goal ≥ 50×); whole page ≤ {worst_page:.0f} ms (goal < 200 ms)"
        )
        if args.keep:
            input(f"database {url} kept until you press Enter… ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
