"""Retention deletes exactly the expired rows, in batches, never an event an operator still needs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Task

from dashboard.alerts.models import Notification
from dashboard.health.models import ProbeFlip, ProbeResult
from dashboard.logs.models import LogEntry
from dashboard.retention import services
from dashboard.retention.models import RetentionRun
from dashboard.retention.policies import get_policy
from dashboard.slo.models import SloDailyReport, SloMinute
from deadletters.models import DeadLetter
from tests.conftest import queued_tasks
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def event(name: str, age: timedelta, *, status="delivered", attempts: int = 1) -> WebhookEvent:
    made = WebhookEvent.objects.create(
        webhook_id=name,
        topic="app/uninstalled",
        shop_domain="a.myshopify.com",
        body=b"{}",
        status=status,
        received_at=NOW - age,
    )
    for number in range(1, attempts + 1):
        DeliveryAttempt.objects.create(
            event=made, number=number, started_at=NOW - age, duration_ms=3, status_code=200 if status else 500
        )
    return made


def dead_letter(name: str, age: timedelta, status: str, replayed_ago: timedelta | None = None) -> DeadLetter:
    made = event(name, age, status="dead_lettered", attempts=5)
    return DeadLetter.objects.create(
        event=made,
        reason="HTTP 500",
        topic=made.topic,
        shop_domain=made.shop_domain,
        status=status,
        created_at=NOW - age,
        replayed_at=NOW - replayed_ago if replayed_ago is not None else None,
    )


def names() -> set[str]:
    return set(WebhookEvent.objects.values_list("webhook_id", flat=True))


def test_events_older_than_14_days_go_with_their_attempts_and_the_rest_stay():
    event("old-1", days(15), attempts=3)
    event("old-2", days(14) + timedelta(seconds=1))
    event("young", days(13), attempts=2)
    event("edge", days(14) - timedelta(seconds=1))
    run, _ = services.run_retention(now=NOW)
    assert names() == {"young", "edge"}
    assert DeliveryAttempt.objects.count() == 3
    assert run.deleted["webhook_events"] == 2
    assert run.deleted["delivery_attempts"] == 4
    assert (run.ok, run.complete, run.dry_run, run.event_days) == (True, True, False, 14)


def test_an_event_whose_dead_letter_needs_an_operator_is_never_deleted():
    dead_letter("open", days(400), "open")
    dead_letter("failed", days(400), "failed")
    dead_letter("replaying", days(400), "replaying")
    dead_letter("replayed-long-ago", days(400), "replayed", replayed_ago=days(30))
    dead_letter("replayed-just-now", days(400), "replayed", replayed_ago=timedelta(minutes=20))
    event("in-flight", days(20), status="received")
    event("stuck", days(20), status="delivering")
    services.run_retention(now=NOW)
    assert names() == {"open", "failed", "replaying", "replayed-just-now", "in-flight", "stuck"}
    assert DeadLetter.objects.filter(status="open").count() == 1
    assert DeliveryAttempt.objects.filter(event__webhook_id="open").count() == 5


def test_dead_letters_replayed_more_than_the_grace_ago_are_deleted_and_their_young_events_stay(settings):
    settings.DEADLETTER_REPLAYED_GRACE = timedelta(hours=24)
    dead_letter("replayed-2d", days(3), "replayed", replayed_ago=days(2))
    dead_letter("replayed-23h", days(3), "replayed", replayed_ago=timedelta(hours=23))
    dead_letter("open", days(3), "open")
    run, _ = services.run_retention(now=NOW)
    assert set(DeadLetter.objects.values_list("event__webhook_id", flat=True)) == {"replayed-23h", "open"}
    assert names() == {"replayed-2d", "replayed-23h", "open"}
    assert run.deleted["dead_letters"] == 1


def test_days_overrides_the_event_age():
    event("10d", days(10))
    event("5d", days(5))
    run, _ = services.run_retention(now=NOW, event_days=7)
    assert names() == {"5d"}
    assert run.event_days == 7


def test_a_dry_run_deletes_nothing_and_counts_what_would_go():
    event("old", days(20), attempts=2)
    event("young", days(1))
    dead_letter("open", days(20), "open")
    dead_letter("replayed", days(20), "replayed", replayed_ago=days(5))
    LatencyMinute.objects.create(series="ingress", minute=NOW - days(91), count=1)
    run, reports = services.run_retention(now=NOW, dry_run=True)
    assert WebhookEvent.objects.count() == 4 and DeadLetter.objects.count() == 2
    assert LatencyMinute.objects.count() == 1
    # The replayed dead letter is past its 24 h, so its event goes too (after the dead letter, in a real run).
    assert run.dry_run and run.deleted["webhook_events"] == 2
    assert run.deleted["dead_letters"] == 1
    assert run.deleted["latency_minutes"] == 1
    assert services.last_retention_summary() is None  # dry runs are not "the last retention run"


def test_every_kind_keeps_its_own_age(settings):
    ProbeResult.objects.create(probe="app", checked_at=NOW - days(31), state="ok")
    ProbeResult.objects.create(probe="app", checked_at=NOW - days(29), state="ok")
    ProbeFlip.objects.create(probe="app", at=NOW - days(366), from_status="up", to_status="down")
    ProbeFlip.objects.create(probe="app", at=NOW - days(200), from_status="down", to_status="up")
    for age in (8, 6):
        when = NOW - days(age)
        LogEntry.objects.create(timestamp=when, timestamp_ns=int(when.timestamp() * 1e9), message=f"{age} days old")
    LatencyMinute.objects.create(series="ingress", minute=NOW - days(91), count=1)
    LatencyMinute.objects.create(series="ingress", minute=NOW - days(89), count=1)
    JobRun.objects.create(key="alerting", started_at=NOW - days(31))
    JobRun.objects.create(key="alerting", started_at=NOW - days(1))
    Notification.objects.create(channel="slack", event="test", ok=True, created_at=NOW - days(91))
    Notification.objects.create(channel="slack", event="test", ok=False, created_at=NOW - days(1))
    for index, age in enumerate((8, 1)):
        Task.objects.create(
            id=f"task{index}", name=f"t{index}", func="x.y", started=NOW - days(age), stopped=NOW - days(age)
        )
    SloMinute.objects.create(minute=NOW - days(91))
    SloMinute.objects.create(minute=NOW - days(89))
    SloDailyReport.objects.create(date=(NOW - days(400)).date())
    run, _ = services.run_retention(now=NOW)
    assert run.deleted == {
        "dead_letters": 0,
        "notifications": 1,
        "job_runs": 1,
        "task_results": 1,
        "probe_results": 1,
        "probe_flips": 1,
        "log_entries": 1,
        "slo_minutes": 1,
        "latency_minutes": 1,
        "webhook_events": 0,
    }
    assert ProbeResult.objects.count() == ProbeFlip.objects.count() == LogEntry.objects.count() == 1
    assert LogEntry.objects.get().message == "6 days old"
    assert SloMinute.objects.count() == 1
    assert SloDailyReport.objects.count() == 1  # daily reports are kept


def test_deletes_run_in_bounded_batches(settings):
    settings.RETENTION_BATCH_SIZE = 2
    for index in range(5):
        event(f"old-{index}", days(20) + timedelta(minutes=index))
    report = services.delete_expired(get_policy("webhook_events"), NOW, duty=1)
    assert (report.rows, report.batches, report.complete) == (5, 3, True)
    assert report.cascaded == {"delivery_attempts": 5}


def test_a_run_that_reaches_its_time_budget_stops_between_batches_and_says_so(settings):
    settings.RETENTION_BATCH_SIZE = 1
    for index in range(3):
        event(f"old-{index}", days(20))
    report = services.delete_expired(get_policy("webhook_events"), NOW, deadline=0)
    assert (report.rows, report.complete) == (0, False)
    assert WebhookEvent.objects.count() == 3


def test_the_schedule_continues_a_large_backlog_at_once(settings, monkeypatch, empty_queue):
    settings.RETENTION_BATCH_SIZE = 1
    settings.RETENTION_DUTY_PERCENT = 100
    for index in range(3):
        event(f"old-{index}", days(20) + timedelta(hours=index))
    # Time runs out after the first batch: the clock jumps past the deadline once an event is gone.
    monkeypatch.setattr(services.time, "monotonic", lambda: 0.0 if WebhookEvent.objects.count() == 3 else 1000.0)
    result = services.retention_job()
    assert result["complete"] is False and result["continued"] is True
    assert result["deleted"] == {"webhook_events": 1, "delivery_attempts": 1}
    (task,) = queued_tasks()
    assert (task["func"], task["args"]) == ("timedify_ops.schedules.run_job", ("retention",))


def test_every_run_is_recorded_and_summarised_for_the_schedules_page():
    event("old", days(20), attempts=2)
    services.run_retention(now=NOW, trigger="schedule")
    summary = services.last_retention_summary()
    assert summary["deleted"]["webhook_events"] == 1
    assert summary["total"] == 3
    assert summary["text"] == "delivery_attempts 2, webhook_events 1"
    assert summary["ok"] and summary["complete"] and summary["trigger"] == "schedule"
    assert RetentionRun.objects.count() == 1


def test_a_failing_run_is_recorded_as_failed(monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "delete_expired", explode)
    with pytest.raises(RuntimeError):
        services.run_retention(now=NOW)
    run = RetentionRun.objects.get()
    assert (run.ok, run.error) == (False, "RuntimeError: disk full")


# --------------------------------------------------------------------------- the command


def command(*args) -> str:
    out = StringIO()
    call_command("retention_cleanup", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_per_kind_what_it_deleted():
    now = timezone.now()
    WebhookEvent.objects.create(
        webhook_id="old", topic="t", shop_domain="s", body=b"{}", received_at=now - days(20), status="delivered"
    )
    out = command()
    assert "webhook_events     deleted 1" in out
    assert "slo_minutes        deleted 0" in out
    assert "total deleted: 1 row(s)" in out
    assert not WebhookEvent.objects.exists()


def test_the_command_dry_run_with_days_deletes_nothing():
    now = timezone.now()
    WebhookEvent.objects.create(
        webhook_id="8d", topic="t", shop_domain="s", body=b"{}", received_at=now - days(8), status="delivered"
    )
    out = command("7", "--dry-run")
    assert "retention (dry run): webhook events older than 7 days" in out
    assert "webhook_events     would delete 1 (+ their attempts)" in out
    assert WebhookEvent.objects.count() == 1
    assert RetentionRun.objects.get().dry_run is True


def test_the_command_refuses_zero_days():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        command("0")


def test_dead_letter_retention_is_the_dead_letter_rooms_own_audited_cleanup():
    dead_letter("replayed-long-ago", days(3), "replayed", replayed_ago=days(2))
    dead_letter("replayed-recently", days(3), "replayed", replayed_ago=timedelta(minutes=20))
    dead_letter("still-open", days(3), "open")
    run, _ = services.run_retention(now=NOW)
    assert run.deleted["dead_letters"] == 1
    kept = set(DeadLetter.objects.values_list("event__webhook_id", flat=True))
    assert kept == {"replayed-recently", "still-open"}
    assert "replayed-long-ago" in names()  # its event stays until its own policy
    entry = AuditEntry.objects.get(action="deadletter.cleanup")
    assert (entry.count, entry.actor_name) == (1, "system")


def test_simple_cascades_are_deleted_per_table_and_anything_else_through_djangos_collector(settings):
    from django.db.models.signals import post_delete

    settings.RETENTION_BATCH_SIZE = 700  # more ids than SQLite takes in one statement's IN list
    for index in range(800):
        event(f"old-{index}", days(20), attempts=2)
    plan = services._cascade_plan(WebhookEvent)
    assert {(child._meta.label, column) for child, column in plan} == {
        ("webhooks.DeliveryAttempt", "event_id"),
        ("deadletters.DeadLetter", "event_id"),
    }
    seen = []

    def note(sender, instance, **kwargs):
        seen.append(instance.pk)

    # A room that listens to attempt deletions (or adds a deeper relation) gets the collector.
    post_delete.connect(note, sender=DeliveryAttempt)
    try:
        assert services._cascade_plan(WebhookEvent) is None
        report = services.delete_expired(get_policy("webhook_events"), NOW, duty=1)
    finally:
        post_delete.disconnect(note, sender=DeliveryAttempt)
    assert (report.rows, report.cascaded, len(seen)) == (800, {"delivery_attempts": 1600}, 1600)


def test_the_fast_path_deletes_the_same_rows():
    for index in range(3):
        event(f"old-{index}", days(20), attempts=2)
    dead_letter("replayed", days(20), "replayed", replayed_ago=days(3))
    event("young", days(1))
    report = services.delete_expired(get_policy("webhook_events"), NOW, duty=1)
    assert (report.rows, report.cascaded) == (4, {"delivery_attempts": 11, "dead_letters": 1})
    assert names() == {"young"}


def test_it_rests_between_batches_in_proportion_to_how_long_a_batch_took(settings, monkeypatch):
    settings.RETENTION_BATCH_SIZE = 1
    settings.RETENTION_DUTY_PERCENT = 25
    for index in range(3):
        event(f"old-{index}", days(20) + timedelta(hours=index))
    ticks = iter(range(1000))
    rests = []
    monkeypatch.setattr(services.time, "monotonic", lambda: float(next(ticks)))
    monkeypatch.setattr(services.time, "sleep", rests.append)
    report = services.delete_expired(get_policy("webhook_events"), NOW)
    assert report.rows == 3
    # Each batch "took" one tick: at 25 % duty it rests three times as long (a fourth, empty one ends it).
    assert rests == [3.0, 3.0, 3.0]


def test_one_grace_for_replayed_dead_letters_short_by_default(settings):
    """The checklist: delete after a successful replay. One setting for the retention job and
    `replay_deadletters --cleanup`; an hour, not zero, so the replay's page stays readable a while."""
    from timedify_ops import settings as project_settings

    default = project_settings.DEADLETTER_REPLAYED_GRACE
    assert default == timedelta(hours=1)
    dead_letter("replayed-2h", days(3), "replayed", replayed_ago=timedelta(hours=2))
    dead_letter("replayed-20m", days(3), "replayed", replayed_ago=timedelta(minutes=20))
    services.run_retention(now=NOW)
    assert set(DeadLetter.objects.values_list("event__webhook_id", flat=True)) == {"replayed-20m"}
    settings.DEADLETTER_REPLAYED_GRACE = timedelta(minutes=10)
    services.run_retention(now=NOW)
    assert not DeadLetter.objects.exists()
