"""Each probe passing and failing for real: a local HTTP server, the test database, the broker, the disk."""

import re
import time
from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.signing import SignedPackage
from werkzeug import Response

from dashboard.health import probes
from dashboard.health.probes import run_probe
from deadletters.models import DeadLetter
from tests.conftest import make_user
from tests.health.conftest import dashboard_leaf_migration, record_run
from tests.live import free_port
from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.services import resume_schedule
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def probe(name: str):
    found = [p for p in probes.registry() if p.name == name]
    assert found, f"no probe {name}"
    return run_probe(found[0])


# --------------------------------------------------------------------------- app (HTTP)


def test_the_app_probe_passes_on_a_2xx(app_server):
    result = probe("app")
    assert (result.state, result.detail) == ("ok", "HTTP 200")
    assert result.latency_ms > 0
    assert app_server.log[0][0].headers["User-Agent"] == probes.USER_AGENT


def test_the_app_probe_fails_on_a_500(app_server):
    app_server.clear()
    app_server.expect_request("/health").respond_with_data("boom", status=500)
    assert (probe("app").state, probe("app").detail) == ("fail", "HTTP 500")


def test_the_app_probe_does_not_follow_a_redirect(app_server):
    app_server.clear()
    app_server.expect_request("/health").respond_with_data("", status=302, headers={"Location": "/login"})
    assert probe("app").detail == "HTTP 302"


def test_the_app_probe_fails_when_the_app_hangs_past_the_timeout(app_server, settings):
    settings.HEALTH_HTTP_TIMEOUT_S = 0.2

    def hang(request):
        time.sleep(1)
        return Response("late")

    app_server.clear()
    app_server.expect_request("/health").respond_with_handler(hang)
    result = probe("app")
    assert (result.state, result.detail) == ("fail", "no answer within 0.2 s")


def test_the_app_probe_fails_when_nothing_listens(settings):
    settings.APP_HEALTH_URL = f"http://127.0.0.1:{free_port()}/health"
    result = probe("app")
    assert result.state == "fail"
    assert result.detail.startswith("ConnectError")


def test_a_slow_answer_is_a_warning(app_server, settings):
    settings.HEALTH_HTTP_SLOW_MS = 1

    def slow(request):
        time.sleep(0.05)
        return Response("ok")

    app_server.clear()
    app_server.expect_request("/health").respond_with_handler(slow)
    result = probe("app")
    assert result.state == "warn"
    assert result.detail.startswith("HTTP 200, slow:")


def test_extra_http_targets_are_probed_under_their_own_names(app_server, settings):
    app_server.expect_request("/api-ping").respond_with_data("down", status=503)
    settings.EXTRA_HTTP_PROBES = {"api": app_server.url_for("/api-ping")}
    names = [p.name for p in probes.registry()]
    assert names[:2] == ["app", "api"]
    assert (probe("api").state, probe("api").detail) == ("fail", "HTTP 503")
    assert probe("app").state == "ok"


def test_the_registry_lists_the_builtin_probes_in_order():
    assert [p.name for p in probes.registry()] == list(probes.BUILTIN)


# --------------------------------------------------------------------------- database and migrations


def test_the_database_probe_makes_a_round_trip():
    result = probe("database")
    assert result.state == "ok"
    assert result.latency_ms is not None


@pytest.mark.django_db(transaction=True)
def test_the_database_probe_fails_when_the_database_is_unreachable(broken_database):
    result = probe("database")
    assert result.state == "fail"
    assert result.detail.startswith("OperationalError")


def test_the_migrations_probe_passes_when_everything_is_applied():
    assert (probe("migrations").state, probe("migrations").detail) == ("ok", "all applied")


def test_the_migrations_probe_fails_on_an_unapplied_migration():
    MigrationRecorder.Migration.objects.filter(app="dashboard", name=dashboard_leaf_migration()).delete()
    result = probe("migrations")
    assert result.state == "fail"
    assert result.detail == f"1 unapplied: dashboard.{dashboard_leaf_migration()}"


# --------------------------------------------------------------------------- worker


@pytest.mark.queue
def test_the_worker_probe_passes_on_a_fresh_heartbeat_and_an_empty_queue(empty_queue):
    record_run("worker-heartbeat", ago=timedelta(seconds=20))
    result = probe("worker")
    assert result.state == "ok"
    assert re.fullmatch(r"heartbeat 2\d s ago; 0 queued", result.detail)


@pytest.mark.queue
def test_the_worker_probe_fails_without_a_heartbeat(empty_queue):
    result = probe("worker")
    assert (result.state, result.detail) == ("fail", "no heartbeat recorded; 0 queued")


@pytest.mark.queue
def test_the_worker_probe_fails_when_the_heartbeat_is_older_than_its_interval_and_grace(empty_queue):
    record_run("worker-heartbeat", ago=timedelta(minutes=5))
    result = probe("worker")
    assert result.state == "fail"
    assert result.detail.startswith("last heartbeat 5\xa0minutes ago")


@pytest.mark.queue
def test_a_paused_heartbeat_is_a_warning_not_a_failure(empty_queue):
    jobs.sync_schedules()
    Schedule.objects.filter(name="worker-heartbeat").update(repeats=0)
    result = probe("worker")
    assert result.state == "warn"
    assert "schedule is paused" in result.detail


@pytest.mark.queue
def test_a_task_waiting_too_long_in_the_queue_is_a_warning(empty_queue, settings):
    settings.HEALTH_QUEUE_MAX_AGE_S = 60
    record_run("worker-heartbeat")
    package = {"id": "t1", "name": "old", "func": "math.floor", "args": (1.5,), "kwargs": {}}
    get_broker().enqueue(SignedPackage.dumps({**package, "started": timezone.now() - timedelta(minutes=10)}))
    get_broker().enqueue(SignedPackage.dumps({**package, "id": "t2", "started": timezone.now()}))
    result = probe("worker")
    assert result.state == "warn"
    assert "2 queued, oldest enqueued 10\xa0minutes ago" in result.detail


# --------------------------------------------------------------------------- backlog and dead letters


def make_event(webhook_id: str, *, age: timedelta, status: str = "received") -> WebhookEvent:
    return WebhookEvent.objects.create(
        webhook_id=webhook_id,
        topic="app/uninstalled",
        shop_domain="a.myshopify.com",
        body=b"{}",
        received_at=timezone.now() - age,
        status=status,
    )


def test_the_backlog_probe_passes_when_only_recent_events_wait():
    make_event("new", age=timedelta(seconds=30))
    make_event("old-but-delivered", age=timedelta(hours=2), status="delivered")
    assert probe("backlog").state == "ok"


def test_the_backlog_probe_fails_on_events_stuck_past_the_threshold(settings):
    settings.HEALTH_BACKLOG_AGE_S = 600
    make_event("stuck-1", age=timedelta(minutes=30))
    make_event("stuck-2", age=timedelta(minutes=11), status="delivering")
    make_event("new", age=timedelta(minutes=1))
    result = probe("backlog")
    assert result.state == "fail"
    assert result.detail == "2 event(s) undelivered for over 10 min, oldest received 30\xa0minutes ago"


def make_dead_letter(webhook_id: str, status: str = "open") -> DeadLetter:
    event = make_event(webhook_id, age=timedelta(hours=1), status="dead_lettered")
    return DeadLetter.objects.create(event=event, reason="HTTP 500", topic=event.topic, shop_domain="a", status=status)


def test_the_deadletters_probe_passes_with_none_open():
    make_dead_letter("replayed", status="replayed")
    assert (probe("deadletters").state, probe("deadletters").detail) == ("ok", "0 open dead letter(s)")


def test_open_dead_letters_over_the_threshold_are_a_warning(settings):
    make_dead_letter("a")
    make_dead_letter("b")
    assert probe("deadletters").state == "warn"
    settings.HEALTH_DEADLETTERS_WARN = 2
    assert probe("deadletters").state == "ok"


# --------------------------------------------------------------------------- schedules


@pytest.fixture
def synced():
    jobs.sync_schedules()


def all_ran_just_now(except_for=()):
    for job in registry.JOBS:
        if job.key not in except_for:
            record_run(job.key)


def test_the_schedules_probe_passes_when_every_job_ran_within_its_interval(synced):
    all_ran_just_now()
    result = probe("schedules")
    assert (result.state, result.detail) == ("ok", f"{len(registry.JOBS)} of {len(registry.JOBS)} on time")


def test_a_job_that_stopped_running_is_missed(synced):
    all_ran_just_now(except_for={"sweep-stale-events"})
    record_run("sweep-stale-events", ago=timedelta(minutes=10))
    result = probe("schedules")
    assert result.state == "fail"
    assert "missed: sweep-stale-events last ran 10\xa0minutes ago, expected every minute" in result.detail


def test_a_job_that_never_ran_is_missed_only_after_its_first_slot_and_grace(synced):
    all_ran_just_now(except_for={"sweep-stale-events"})
    assert probe("schedules").state == "ok"  # its first slot is still ahead
    Schedule.objects.filter(name="sweep-stale-events").update(next_run=timezone.now() - timedelta(minutes=4))
    result = probe("schedules")
    assert result.state == "fail"
    assert "sweep-stale-events never ran" in result.detail


def test_a_paused_job_is_reported_as_paused_not_failed(synced):
    all_ran_just_now(except_for={"sweep-stale-events"})
    record_run("sweep-stale-events", ago=timedelta(days=3))
    Schedule.objects.filter(name="sweep-stale-events").update(repeats=0)
    result = probe("schedules")
    assert result.state == "ok"
    assert result.detail.endswith("paused: sweep-stale-events")


def test_a_resumed_job_counts_its_interval_from_the_resume(synced):
    all_ran_just_now(except_for={"sweep-stale-events"})
    record_run("sweep-stale-events", ago=timedelta(days=3))
    Schedule.objects.filter(name="sweep-stale-events").update(repeats=0)
    resume_schedule("sweep-stale-events", make_user("olivia", role="operator"))
    assert probe("schedules").state == "ok"


def test_a_job_whose_last_run_failed_is_a_warning(synced):
    all_ran_just_now(except_for={"sweep-stale-events"})
    record_run("sweep-stale-events", ok=False, error="RuntimeError: kaput")
    result = probe("schedules")
    assert result.state == "warn"
    assert "last run failed: sweep-stale-events" in result.detail


def test_a_job_without_a_schedule_row_fails(synced):
    all_ran_just_now()
    Schedule.objects.filter(name="worker-heartbeat").delete()
    result = probe("schedules")
    assert result.state == "fail"
    assert "worker-heartbeat has no schedule (run sync_schedules)" in result.detail


# --------------------------------------------------------------------------- disk


def test_the_disk_probe_reports_free_space_where_the_var_dir_is(settings):
    settings.HEALTH_DISK_WARN_PERCENT = 0
    settings.HEALTH_DISK_FAIL_PERCENT = 0
    result = probe("disk")
    assert result.state == "ok"
    assert " free of " in result.detail


def test_the_disk_probe_warns_and_fails_below_its_thresholds(settings):
    settings.HEALTH_DISK_FAIL_PERCENT = 0
    settings.HEALTH_DISK_WARN_PERCENT = 100
    assert probe("disk").state == "warn"
    settings.HEALTH_DISK_FAIL_PERCENT = 100
    result = probe("disk")
    assert result.state == "fail"
    assert result.detail.endswith("below 100 %")


def test_the_disk_probe_fails_when_the_var_dir_is_missing(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "gone"
    result = probe("disk")
    assert result.state == "fail"
    assert result.detail.startswith("FileNotFoundError")


# --------------------------------------------------------------------------- every probe


def test_a_probe_that_raises_is_a_failure_with_the_error():
    broken = probes.Probe("broken", lambda: 1 / 0, "divides by zero")
    result = run_probe(broken)
    assert (result.state, result.detail) == ("fail", "ZeroDivisionError: division by zero")


def test_all_probes_pass_on_a_healthy_system(healthy):
    results = probes.run_all()
    assert [r.probe for r in results] == list(probes.BUILTIN)
    assert {r.probe: r.state for r in results} == dict.fromkeys(probes.BUILTIN, "ok")


def test_the_migrations_probe_also_sees_an_unrecorded_migration_below_the_leaf():
    MigrationRecorder.Migration.objects.filter(app="dashboard", name="0002_roles").delete()
    result = probe("migrations")
    assert (result.state, result.detail) == ("fail", "1 unapplied: dashboard.0002_roles")
