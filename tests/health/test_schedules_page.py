"""/schedules/: every job with its last and next run; operators run now, pause and resume (audited)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape
from django_q.models import Schedule

from tests.conftest import queued_tasks, run_queued_tasks
from tests.health.conftest import record_run
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synced():
    jobs.sync_schedules()


def test_the_page_needs_login(anonymous_client):
    assert anonymous_client.get("/schedules/").status_code == 302


def test_every_job_is_listed_with_cadence_last_run_result_and_next_run(viewer_client, operator):
    record_run("sweep-stale-events", ago=timedelta(minutes=2), result="{'requeued': 0}")
    record_run("health-probes", ok=False, error="RuntimeError: kaput", trigger="manual", triggered_by=operator)
    response = viewer_client.get("/schedules/")
    assert response.status_code == 200
    content = response.content.decode()
    for job in registry.JOBS:
        assert f'<tr data-job="{job.key}">' in content
        assert escape(job.description) in content
    assert "every minute" in content
    assert "{&#x27;requeued&#x27;: 0}" in content
    assert "RuntimeError: kaput" in content and "run now by olivia" in content
    next_run = Schedule.objects.get(name="worker-heartbeat").next_run
    assert next_run.strftime("%Y-%m-%d %H:%M:%S") in content
    assert 'href="/schedules/"' in content  # in the top bar


def test_a_viewer_sees_no_buttons_and_an_operator_does(viewer_client, operator_client):
    assert "Run now" not in viewer_client.get("/schedules/").content.decode()
    content = operator_client.get("/schedules/").content.decode()
    assert 'action="/schedules/health-probes/run"' in content
    assert 'action="/schedules/health-probes/pause"' in content


def test_a_paused_job_shows_as_paused_with_a_resume_button(operator_client):
    Schedule.objects.filter(name="sweep-stale-events").update(repeats=0)
    content = operator_client.get("/schedules/").content.decode()
    assert "data-state>paused<" in content
    assert 'action="/schedules/sweep-stale-events/resume"' in content


def test_the_poll_gets_only_the_table(viewer_client):
    response = viewer_client.get("/schedules/", HTTP_HX_REQUEST="true")
    assert b'id="schedules"' in response.content and b"<html" not in response.content


# --------------------------------------------------------------------------- run now


@pytest.mark.parametrize("action", ["run", "pause", "resume"])
def test_the_actions_refuse_get(operator_client, action):
    assert operator_client.get(f"/schedules/health-probes/{action}").status_code == 405


@pytest.mark.parametrize("action", ["run", "pause", "resume"])
def test_the_actions_refuse_a_viewer(viewer_client, action):
    Schedule.objects.filter(name="health-probes").update(repeats=0 if action == "resume" else -1)
    assert viewer_client.post(f"/schedules/health-probes/{action}").status_code == 403
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("action", ["run", "pause", "resume"])
def test_an_unknown_job_is_a_404(operator_client, action):
    assert operator_client.post(f"/schedules/no-such-job/{action}").status_code == 404


@pytest.mark.queue
def test_run_now_queues_the_job_for_the_worker_as_the_operator_and_audits_it(
    operator_client, operator, empty_queue, django_capture_on_commit_callbacks
):
    # With Redis the push waits for the commit (timedify_ops.queue.enqueue): the test's transaction stands in.
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post("/schedules/worker-heartbeat/run", follow=True)
    assert response.redirect_chain == [("/schedules/", 302)]
    assert "Queued a run of worker-heartbeat" in response.content.decode()
    tasks = queued_tasks()
    assert [(t["func"], t["args"], t["kwargs"]) for t in tasks] == [
        (registry.RUNNER, ("worker-heartbeat",), {"trigger": "manual", "user_id": operator.pk})
    ]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type, entry.target_id, entry.actor) == (
        "schedule.run_now",
        "schedule",
        "worker-heartbeat",
        operator,
    )


@pytest.mark.queue
def test_the_queued_run_is_recorded_as_a_manual_run_by_the_operator(
    operator_client, operator, empty_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post("/schedules/worker-heartbeat/run")
    run_queued_tasks()
    run = JobRun.objects.get(key="worker-heartbeat")
    assert (run.trigger, run.triggered_by, run.ok) == ("manual", operator, True)
    assert "run now by olivia" in operator_client.get("/schedules/").content.decode()


# --------------------------------------------------------------------------- pause and resume


def test_pause_stops_the_scheduler_and_is_audited(operator_client):
    response = operator_client.post("/schedules/sweep-stale-events/pause", follow=True)
    assert "Paused sweep-stale-events" in response.content.decode()
    assert Schedule.objects.get(name="sweep-stale-events").repeats == 0
    assert AuditEntry.objects.get().action == "schedule.pause"
    jobs.sync_schedules()  # a deploy keeps it paused
    assert Schedule.objects.get(name="sweep-stale-events").repeats == 0


def test_resume_restarts_it_from_its_next_slot_and_is_audited(operator_client):
    Schedule.objects.filter(name="sweep-stale-events").update(repeats=0, next_run=timezone.now() - timedelta(days=2))
    response = operator_client.post("/schedules/sweep-stale-events/resume", follow=True)
    assert "Resumed sweep-stale-events" in response.content.decode()
    row = Schedule.objects.get(name="sweep-stale-events")
    assert row.repeats == -1
    assert timezone.now() < row.next_run <= timezone.now() + timedelta(minutes=1)
    assert AuditEntry.objects.get().action == "schedule.resume"


def test_pausing_twice_records_once(operator_client):
    operator_client.post("/schedules/sweep-stale-events/pause")
    response = operator_client.post("/schedules/sweep-stale-events/pause", follow=True)
    assert "was already paused" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_resuming_an_active_job_changes_nothing(operator_client):
    response = operator_client.post("/schedules/sweep-stale-events/resume", follow=True)
    assert "was not paused" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_job_without_a_schedule_row_says_to_sync(operator_client):
    Schedule.objects.filter(name="sweep-stale-events").delete()
    response = operator_client.post("/schedules/sweep-stale-events/pause", follow=True)
    assert "run manage.py sync_schedules" in response.content.decode()
    assert "not synced" in response.content.decode()


def test_the_page_shows_what_the_last_retention_run_deleted(viewer_client):
    from dashboard.retention.models import RetentionRun

    assert b"Retention has not run yet" in viewer_client.get("/schedules/").content
    RetentionRun.objects.create(
        dry_run=False,
        ok=True,
        complete=True,
        event_days=14,
        deleted={"events": 12, "logs": 3000},
        duration_ms=1500,
        finished_at=timezone.now(),
    )
    content = viewer_client.get("/schedules/").content.decode()
    assert "Deleted 3,012 row(s)" in content
    assert "events 12, logs 3000" in content
