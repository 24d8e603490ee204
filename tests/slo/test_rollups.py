"""Per-minute rollups: exact against the raw data, idempotent, catching late flushes."""

import math
import multiprocessing
import os
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from dashboard.slo import rollups, services
from dashboard.slo.models import SloMinute
from tests.conftest import post_webhook, run_queued_tasks
from tests.slo.conftest import MINUTE, NOW, attempt, dead_letter, deliver, ingress, make_event
from timedify_ops.jobs.services import run_job
from timedify_ops.lib.histogram import Histogram
from timedify_ops.lib.telemetry import Batch
from timedify_ops.telemetry import measure

pytestmark = pytest.mark.django_db

START = NOW - 10 * MINUTE


def rows_between(start, end) -> list[SloMinute]:
    return list(SloMinute.objects.filter(minute__gte=start, minute__lt=end).order_by("minute"))


def merged(rows, method: str) -> Histogram:
    total = Histogram()
    for row in rows:
        total.merge(getattr(row, method)())
    return total


def raw_p95(values) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def test_the_latency_fraction_is_exact_and_the_p95_within_a_bucket_against_raw_answers():
    rng = random.Random(6)
    raw = []
    for offset in range(3):
        values = [rng.lognormvariate(3.6, 0.7) for _ in range(2000)] + [100.0] * 7  # exactly on the edge
        ingress(START + offset * MINUTE, values)
        raw += values
    ingress(START, [500.0] * 50, outcome="unauthorized")  # refused junk: not Shopify's wait
    ingress(START, [500.0] * 50, synthetic="1")  # our own synthetic webhooks
    measure.recorder.flush()

    rollups.rollup_range(START, START + 3 * MINUTE)
    counts = services.window_counts(START + 3 * MINUTE, {"all": 3 * MINUTE})["latency"]["all"]
    assert counts.total == len(raw)
    assert counts.good == sum(1 for value in raw if value <= 100)  # exact, not estimated
    lower, upper = merged(rows_between(START, START + 3 * MINUTE), "ingress_histogram").quantile_bounds(0.95)
    assert lower < raw_p95(raw) <= upper


def test_the_app_response_time_histogram_matches_the_raw_attempts():
    rng = random.Random(9)
    durations = [rng.lognormvariate(4.2, 0.9) for _ in range(400)] + [100.0, 1.0, 10_001.0]
    event = make_event(received_at=START)
    for index, duration in enumerate(durations):
        attempt(event, at=START + (index % 2) * MINUTE + timedelta(seconds=index % 60), duration_ms=duration)
    rollups.rollup_range(START, START + 2 * MINUTE)

    histogram = merged(rows_between(START, START + 2 * MINUTE), "app_histogram")
    assert histogram.count == len(durations)
    assert histogram.count_le(100) == sum(1 for value in durations if value <= 100)
    assert histogram.count_le(1) == sum(1 for value in durations if value <= 1)
    assert histogram.counts[-1] == 1  # over 10 s
    lower, upper = histogram.quantile_bounds(0.95)
    assert lower < raw_p95(durations) <= upper
    assert histogram.total_ms == pytest.approx(sum(durations), abs=0.01)


def _flush_in_a_child(db_settings, minute_ts, n):
    """A separate process (as each gunicorn worker is) flushing its own measurements."""
    import django
    from django.db import connections

    connections["default"].close()
    connections.settings["default"] = db_settings
    django.setup()
    histogram = Histogram()
    for value in range(n):
        histogram.observe(90 + value * 5)  # 90, 95, 100, 105 …
    batch = Batch()
    batch.histograms[(minute_ts, "ingress", (("outcome", "accepted"), ("synthetic", "0")))] = histogram
    measure.flush_batch(batch)
    connections["default"].close()
    os._exit(0)


@pytest.mark.django_db(transaction=True)
def test_flushes_from_several_processes_add_up_through_the_rollups():
    ctx = multiprocessing.get_context("fork")
    connection.close()
    children = [
        ctx.Process(target=_flush_in_a_child, args=(connection.settings_dict, int(START.timestamp()), n))
        for n in (5, 7, 11)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    rollups.rollup_range(START, START + MINUTE)
    row = SloMinute.objects.get(minute=START)
    assert row.ingress_count == 23
    # ≤ 100 ms: 90, 95, 100 from each process.
    assert services.window_counts(START + MINUTE, {"m": MINUTE})["latency"]["m"].good == 9


def test_recomputing_a_closed_minute_gives_the_same_row():
    ingress(START, [20, 80, 120])
    measure.recorder.flush()
    event = make_event(received_at=START + timedelta(seconds=5))
    attempt(event, at=START + timedelta(seconds=6), duration_ms=42)
    deliver(event, at=START + timedelta(seconds=7))
    rollups.rollup_range(START, START + 2 * MINUTE)
    before = [model_to_dict(row, exclude=["id", "computed_at"]) for row in rows_between(START, START + 2 * MINUTE)]
    rollups.rollup_range(START, START + 2 * MINUTE)
    after = [model_to_dict(row, exclude=["id", "computed_at"]) for row in rows_between(START, START + 2 * MINUTE)]
    assert before == after
    assert SloMinute.objects.count() == 2
    assert before[0]["ingress_count"] == 3 and before[0]["received"] == 1 and before[0]["attempts"] == 1


def test_a_flush_that_lands_after_its_minute_closed_is_caught_by_the_next_run(settings):
    settings.SLO_ROLLUP_MINUTES = 5
    ingress(NOW - 2 * MINUTE, [10])
    measure.recorder.flush()
    rollups.rollup_recent(NOW)
    assert SloMinute.objects.get(minute=NOW - 2 * MINUTE).ingress_count == 1
    ingress(NOW - 2 * MINUTE, [10, 10])  # another worker's flush, a few seconds late
    measure.recorder.flush()
    rollups.rollup_recent(NOW + MINUTE)
    assert SloMinute.objects.get(minute=NOW - 2 * MINUTE).ingress_count == 3


def test_the_open_minute_is_never_rolled_up():
    ingress(NOW, [10])
    measure.recorder.flush()
    rollups.rollup_recent(NOW + timedelta(seconds=30))
    assert not SloMinute.objects.filter(minute=NOW).exists()
    assert SloMinute.objects.latest("minute").minute == NOW - MINUTE


def test_the_first_run_catches_up_a_day_and_a_later_run_fills_the_gap(settings):
    settings.SLO_ROLLUP_MINUTES = 5
    assert rollups.rollup_recent(NOW)["minutes"] == 24 * 60
    summary = rollups.rollup_recent(NOW + 30 * MINUTE)  # the scheduler was away for half an hour
    assert summary["minutes"] == 30
    assert SloMinute.objects.count() == 24 * 60 + 30


def test_4xx_answers_are_left_out_of_latency_and_5xx_count_as_errors():
    ingress(START, [5, 5], outcome="accepted")
    ingress(START, [5], outcome="duplicate")
    ingress(START, [300], outcome="unavailable")
    ingress(START, [900], outcome="http_500")
    for outcome in ("unauthorized", "bad_request", "too_large", "http_405"):
        ingress(START, [1], outcome=outcome)
    measure.recorder.flush()
    rollups.rollup_range(START, START + MINUTE)
    row = SloMinute.objects.get(minute=START)
    assert row.ingress_count == 5  # accepted, duplicate and the two 5xx
    assert row.ingress_5xx == 2


def test_deliveries_count_in_their_minute_and_dead_letters_in_their_events_minute():
    first = deliver(make_event(received_at=START), at=START + timedelta(seconds=2), attempts=1)
    later = deliver(make_event(received_at=START), at=START + MINUTE + timedelta(seconds=2), attempts=3)
    dead_letter(make_event(received_at=START), at=START + MINUTE + timedelta(seconds=9))
    attempt(first, at=START, duration_ms=10)
    attempt(later, at=START, duration_ms=5000, status_code=503)
    attempt(later, at=START, duration_ms=2, status_code=None, error="connection refused")
    rollups.rollup_range(START, START + 2 * MINUTE)
    a, b = rows_between(START, START + 2 * MINUTE)
    assert (a.received, a.delivered_first_try, a.delivered_after_retries, a.dead_lettered) == (3, 1, 0, 1)
    assert (b.received, b.delivered_first_try, b.delivered_after_retries, b.dead_lettered) == (0, 0, 1, 0)
    assert (a.attempts, a.attempts_failed) == (3, 2)


def test_an_event_and_its_dead_letter_across_a_window_edge_never_make_the_error_rate_negative():
    # Received in the last second of a minute, dead-lettered in the next: by created_at the next
    # minute had one bad event and no events at all.
    dead_letter(make_event(received_at=START + timedelta(seconds=59)), at=START + MINUTE + timedelta(seconds=20))
    rollups.rollup_range(START, START + 2 * MINUTE)
    a, b = rows_between(START, START + 2 * MINUTE)
    assert (a.received, a.dead_lettered) == (1, 1)
    assert (b.received, b.dead_lettered) == (0, 0)
    from dashboard.slo import services

    for at in (START + MINUTE, START + 2 * MINUTE):
        counts = services.window_counts(at, {"1m": MINUTE})["error_rate"]["1m"]
        assert counts.bad <= counts.total


def test_a_late_dead_letter_makes_the_job_recompute_its_events_minute(settings):
    settings.SLO_ROLLUP_MINUTES = 5
    event_minute = NOW - 30 * MINUTE
    event = make_event(received_at=event_minute + timedelta(seconds=5))
    rollups.rollup_recent(NOW - 20 * MINUTE)
    assert SloMinute.objects.get(minute=event_minute).dead_lettered == 0
    dead_letter(event, at=NOW - timedelta(seconds=30))  # held, then given up on long after it arrived
    rollups.rollup_recent(NOW)
    assert SloMinute.objects.get(minute=event_minute).dead_lettered == 1


def test_synthetic_events_and_answers_are_left_out_unless_asked_for(settings):
    synthetic = make_event(received_at=START, synthetic=True)
    dead_letter(synthetic, at=START)
    attempt(synthetic, at=START, duration_ms=50)
    make_event(received_at=START)
    ingress(START, [10], synthetic="1")
    measure.recorder.flush()
    rollups.rollup_range(START, START + MINUTE)
    row = SloMinute.objects.get(minute=START)
    assert (row.received, row.dead_lettered, row.attempts, row.ingress_count) == (1, 0, 0, 0)

    settings.SLO_INCLUDE_SYNTHETIC = True
    rollups.rollup_range(START, START + MINUTE)
    row.refresh_from_db()
    assert (row.received, row.dead_lettered, row.attempts, row.ingress_count) == (2, 1, 1, 1)


def test_the_rollup_job_runs_from_the_schedule_registry():
    result = run_job("slo-rollup")
    assert result["minutes"] >= 1
    from timedify_ops.jobs.models import JobRun

    assert JobRun.objects.get(key="slo-rollup").ok is True


def test_real_webhooks_through_the_pipeline_end_up_in_the_rollups(client, target, fast_budget, empty_queue):
    from werkzeug import Response

    target.expect_request("/webhooks", headers={"X-Shopify-Topic": "orders/create"}).respond_with_data("ok")
    target.expect_request("/webhooks", headers={"X-Shopify-Topic": "shop/redact"}).respond_with_response(
        Response("no", status=410)  # permanent: dead-lettered at once
    )
    for n in range(3):
        assert post_webhook(client, webhook_id=f"real-{n}", topic="orders/create").status_code == 200
    assert post_webhook(client, webhook_id="real-dead", topic="shop/redact").status_code == 200
    assert post_webhook(client, webhook_id="real-0", topic="orders/create").status_code == 200  # duplicate
    assert post_webhook(client, webhook_id="junk", secret="wrong").status_code == 401
    run_queued_tasks()
    measure.recorder.flush()

    from django.utils import timezone

    now = timezone.now()
    rollups.rollup_range(now - 5 * MINUTE, now + MINUTE)  # include the current minute for the test
    sums = {
        name: sum(getattr(row, name) for row in SloMinute.objects.all())
        for name in ("received", "ingress_count", "ingress_5xx", "dead_lettered", "delivered_first_try", "attempts")
    }
    assert sums == {
        "received": 4,
        "ingress_count": 5,  # four accepted and one duplicate; the 401 is not counted
        "ingress_5xx": 0,
        "dead_lettered": 1,
        "delivered_first_try": 3,
        "attempts": 4,
    }


def probe_run(at, state: str, probe: str = "app") -> None:
    """One run of the health probes (issue 4) as its job records it."""
    from dashboard.health.probes import Outcome
    from dashboard.health.services import record_results

    record_results([Outcome(probe=probe, state=state, latency_ms=12.0, detail=f"HTTP {state}")], at=at)


def test_uptime_counts_the_app_probe_with_warn_as_up_and_fail_as_down():
    for offset, state in enumerate(["ok", "warn", "fail", "ok"]):
        probe_run(START + offset * MINUTE + timedelta(seconds=3), state)
    probe_run(START + timedelta(seconds=3), "fail", probe="database")  # another probe: not the uptime SLI
    rollups.rollup_range(START, START + 4 * MINUTE)
    rows = rows_between(START, START + 4 * MINUTE)
    assert [(row.probe_checks, row.probe_up) for row in rows] == [(1, 1), (1, 1), (1, 0), (1, 1)]
    status = services.window_counts(START + 4 * MINUTE, {"all": 4 * MINUTE})["uptime"]["all"]
    assert (status.bad, status.total, status.sli) == (1, 4, 0.75)


def test_the_uptime_probe_is_a_setting(settings):
    settings.SLO_UPTIME_PROBE = "database"
    probe_run(START, "fail", probe="database")
    probe_run(START, "ok")
    rollups.rollup_range(START, START + MINUTE)
    row = SloMinute.objects.get(minute=START)
    assert (row.probe_checks, row.probe_up) == (1, 0)
