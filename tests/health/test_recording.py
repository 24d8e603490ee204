"""Stored results, the flip thresholds, incidents, and exact uptime over rolling windows."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from dashboard.health import probes, services
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from tests.health.conftest import outcome, record
from timedify_ops.jobs.models import JobRun
from timedify_ops.jobs.services import run_job

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def flips(probe: str = "app") -> list[tuple[str, str]]:
    return [(f.from_status, f.to_status) for f in ProbeFlip.objects.filter(probe=probe).order_by("at")]


def test_each_result_is_stored_with_the_run_time():
    services.record_results([outcome("app", "ok", 12.5, "HTTP 200"), outcome("disk", "warn")], at=T0)
    rows = {r.probe: r for r in ProbeResult.objects.all()}
    assert (rows["app"].state, rows["app"].latency_ms, rows["app"].detail) == ("ok", 12.5, "HTTP 200")
    assert rows["app"].checked_at == rows["disk"].checked_at == T0
    state = ProbeState.objects.get(probe="disk")
    assert (state.status, state.last_state, state.last_checked_at) == ("degraded", "warn", T0)


def test_a_single_failure_does_not_flip_the_probe_down(settings):
    record("app", "ofo", start=T0)
    assert ProbeState.objects.get(probe="app").status == "up"
    assert flips() == []


def test_two_failures_flip_it_down_and_a_pass_brings_it_back_each_flip_with_its_time():
    record("app", "offfo", start=T0)
    assert flips() == [("up", "down"), ("down", "up")]
    down = ProbeFlip.objects.get(to_status="down")
    assert down.at == T0 + 2 * MINUTE  # the second failure
    assert down.until == T0 + 4 * MINUTE  # the first pass after it
    assert down.duration == timedelta(minutes=2)
    state = ProbeState.objects.get(probe="app")
    assert (state.status, state.status_since) == ("up", T0 + 4 * MINUTE)


def test_the_flip_thresholds_come_from_the_settings(settings):
    settings.HEALTH_DOWN_AFTER = 3
    settings.HEALTH_UP_AFTER = 2
    record("app", "offoffffoo", start=T0)
    assert flips() == [("up", "down"), ("down", "up")]
    assert ProbeFlip.objects.get(to_status="down").at == T0 + 6 * MINUTE  # the third failure in a row
    assert ProbeFlip.objects.get(from_status="down").at == T0 + 9 * MINUTE  # the second pass


def test_a_warning_flips_to_degraded_and_back():
    record("deadletters", "owwo", start=T0)
    assert flips("deadletters") == [("up", "degraded"), ("degraded", "up")]


def test_incidents_are_the_down_intervals_newest_first_with_durations():
    record("app", "offo", start=T0)  # down 2 min
    record("database", "off", start=T0 + timedelta(hours=1))  # still down
    incidents = services.recent_incidents()
    assert [(i.probe, i.until is None) for i in incidents] == [("database", True), ("app", False)]
    assert incidents[1].duration_text == "1 min"


def test_flips_are_logged_as_events(caplog):
    with caplog.at_level("INFO", logger="timedify_ops.events"):
        services.record_results([outcome("app", "fail", detail="HTTP 500")], at=T0)
        services.record_results([outcome("app", "fail", detail="HTTP 500")], at=T0 + MINUTE)
    assert "probe app is down (was unknown): HTTP 500" in caplog.text


def test_current_states_lists_every_registered_probe():
    record("app", "ff", start=T0)
    states = services.current_states()
    assert list(states)[:2] == ["app", "database"]
    assert states["app"].status == "down"
    assert states["database"].status == "unknown"


def test_hourly_counters_follow_the_results():
    record("app", "o" * 50 + "f" * 20, start=T0 + timedelta(minutes=10))  # 12:10 … 13:19
    hours = {h.hour: (h.checks, h.failures) for h in ProbeHour.objects.filter(probe="app")}
    assert hours == {T0: (50, 0), T0 + timedelta(hours=1): (20, 20)}


# --------------------------------------------------------------------------- uptime


def test_uptime_over_24_hours_is_exact_on_known_data():
    # One check a minute for exactly 24 h ending at `now`, 3 of them failed: 1437 / 1440.
    now = T0 + timedelta(hours=24) - MINUTE
    states = ["o"] * 1440
    for index in (5, 700, 1400):
        states[index] = "f"
    record("app", "".join(states), start=T0)
    result = services.uptime(now, ["app"])["app"]
    assert (result["24h"].checks, result["24h"].failures, result["24h"].text) == (1440, 3, "99.791")
    assert result["7d"].text == result["30d"].text == "99.791"


def test_a_window_counts_only_checks_inside_it():
    # 2 failures 25 h ago fall out of the 24 h window but stay in 7 d.
    now = T0 + timedelta(hours=25)
    record("app", "ff", start=T0)
    record("app", "o" * 60, start=now - timedelta(minutes=59))
    result = services.uptime(now, ["app"])["app"]
    assert (result["24h"].checks, result["24h"].failures) == (60, 0)
    assert (result["7d"].checks, result["7d"].failures) == (62, 2)
    assert result["7d"].text == "96.774"  # 60/62 = 96.7741…
    assert result["24h"].text == "100.000"


def test_a_probe_without_checks_has_no_uptime():
    assert services.uptime(T0, ["app"])["app"]["24h"].text == "—"


def test_uptime_from_hourly_counters_and_edges_equals_a_count_of_the_raw_results():
    """Random results over 9 days at uneven times; the windows end mid-hour, so the edges matter."""
    rng = random.Random(4)
    at = T0
    for _ in range(600):
        at += timedelta(minutes=rng.randint(1, 40), seconds=rng.randint(0, 59))
        services.record_results([outcome("app", rng.choice(["ok", "ok", "ok", "warn", "fail"]))], at=at)
    for now in (T0 + timedelta(days=2, minutes=17, seconds=3), at, at - timedelta(hours=30, seconds=1)):
        computed = services.uptime(now, ["app"])["app"]
        for label, span in services.WINDOWS:
            rows = ProbeResult.objects.filter(Q(checked_at__gte=now - span, checked_at__lte=now), probe="app")
            expected = (rows.count(), rows.filter(state="fail").count())
            assert (computed[label].checks, computed[label].failures) == expected, (now, label)


def test_uptime_on_a_window_inside_the_current_hour():
    record("app", "ffoooooooo", start=T0 + timedelta(minutes=5))  # 12:05 … 12:14
    now = T0 + timedelta(minutes=14)
    result = services.uptime(now, ["app"], windows=(("5m", timedelta(minutes=5)),))["app"]["5m"]
    assert (result.checks, result.failures) == (6, 0)  # 12:09 … 12:14


# --------------------------------------------------------------------------- the job


def test_the_probes_job_records_every_probe_and_summarises(healthy):
    summary = run_job("health-probes")
    assert summary.startswith(f"{len(probes.registry())} ok")
    assert ProbeResult.objects.values("checked_at").distinct().count() == 1
    assert set(ProbeResult.objects.values_list("probe", flat=True)) == set(services.current_states())
    run = JobRun.objects.filter(key="health-probes").latest("started_at")
    assert run.ok and run.result == summary


def test_the_heartbeat_job_is_what_the_worker_probe_reads():
    run_job("worker-heartbeat")
    assert JobRun.objects.get(key="worker-heartbeat").result == "alive"
