"""Benchmark: the status board's uptime windows, and /health's checks.

    .venv/bin/python bench/status_uptime.py [--days 30] [--probes 9]

Fills a scratch database with one check per probe per minute for --days days (the
embedded SQLite under var/bench/, or DATABASE_URL if set: use a scratch database, the
probe tables are emptied), then measures, median of several runs:

1. uptime(): whole hours from the ProbeHour counters + raw results at the window edges
   (what /status/ does), against the baseline of counting every raw result of the last
   30 days in one grouped query; both must give the same numbers.
2. status_board(): everything the board reads in one poll.
3. health_checks() (/health): with the migrations check trusted from the per-process
   cache (every request but one a minute), against a cold check that loads the
   migration graph.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TIMEDIFY_VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def median_ms(func, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--probes", type=int, default=9)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Q
    from django.utils import timezone

    from dashboard.health import services
    from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState

    call_command("migrate", verbosity=0)
    for model in (ProbeResult, ProbeHour, ProbeFlip, ProbeState):
        model.objects.all().delete()

    names = ["app", "database", "migrations", "worker", "backlog", "deadletters", "schedules", "disk"]
    names = (names + [f"extra{n}" for n in range(args.probes)])[: args.probes]
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=args.days)
    minutes = args.days * 24 * 60
    print(f"filling {minutes * len(names):,} results ({args.days} d × {len(names)} probes, one a minute) …", flush=True)
    filled = time.perf_counter()
    hours: dict[tuple[str, datetime], list[int]] = {}
    batch = []
    for minute in range(minutes + 1):
        at = start + timedelta(minutes=minute)
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for index, name in enumerate(names):
            failed = (minute + index * 7) % 997 == 0
            batch.append(ProbeResult(probe=name, checked_at=at, state="fail" if failed else "ok", latency_ms=12.5))
            cell = hours.setdefault((name, hour), [0, 0])
            cell[0] += 1
            cell[1] += int(failed)
        if len(batch) >= 20_000:
            ProbeResult.objects.bulk_create(batch)
            batch = []
    ProbeResult.objects.bulk_create(batch)
    ProbeHour.objects.bulk_create(
        ProbeHour(probe=name, hour=hour, checks=c, failures=f) for (name, hour), (c, f) in hours.items()
    )
    ProbeState.objects.bulk_create(ProbeState(probe=name, status="up", last_checked_at=now) for name in names)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"filled in {time.perf_counter() - filled:.1f} s", flush=True)

    def baseline():
        aggregates = {}
        for label, span in services.WINDOWS:
            window = Q(checked_at__gte=now - span, checked_at__lte=now)
            aggregates[f"c_{label}"] = Count("id", filter=window)
            aggregates[f"f_{label}"] = Count("id", filter=window & Q(state="fail"))
        rows = ProbeResult.objects.filter(checked_at__gte=now - timedelta(days=30), checked_at__lte=now)
        return {row["probe"]: row for row in rows.order_by().values("probe").annotate(**aggregates)}

    def counters():
        return services.uptime(now, names)

    fast, slow = counters(), baseline()
    for name in names:
        for label, _span in services.WINDOWS:
            got = (fast[name][label].checks, fast[name][label].failures)
            want = (slow[name][f"c_{label}"], slow[name][f"f_{label}"])
            assert got == want, (name, label, got, want)
    print("uptime from counters + edges equals the raw count for every probe and window")

    counters_ms = median_ms(counters, args.runs)
    baseline_ms = median_ms(baseline, args.runs)
    board_ms = median_ms(lambda: services.status_board(now), args.runs)

    services.reset_health_cache()
    services.health_checks()

    def cold():
        services.reset_health_cache()
        services.health_checks()

    warm_ms = median_ms(services.health_checks, 50)
    cold_ms = median_ms(cold, args.runs)

    print()
    print(
        f"database: {connection.vendor}; {ProbeResult.objects.count():,} results, {ProbeHour.objects.count():,} hours"
    )
    print(f"uptime 24h/7d/30d, counters + edges : {counters_ms:8.1f} ms")
    print(
        f"uptime, baseline raw count          : {baseline_ms:8.1f} ms   ratio {baseline_ms / counters_ms:.1f}× faster"
    )
    print(f"status_board() (one poll, all reads): {board_ms:8.1f} ms")
    print(f"/health checks, migrations cached   : {warm_ms:8.2f} ms")
    print(f"/health checks, cold (graph loaded) : {cold_ms:8.2f} ms   ratio {cold_ms / warm_ms:.1f}×")


if __name__ == "__main__":
    main()
