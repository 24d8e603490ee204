"""Every rule fires and resolves, with explicit clocks (`now` is passed in, nothing sleeps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.alerts import engine
from dashboard.alerts.models import Alert, RuleState
from dashboard.alerts.rules import RULES, get_rule
from dashboard.health.models import ProbeState
from dashboard.logs.ingest import insert_rows
from dashboard.logs.models import LogEntry
from dashboard.logs.records import LogRow, datetime_to_ns
from dashboard.slo.models import SloMinute
from deadletters.models import DeadLetter
from tests.alerts.conftest import T0, make_dead_letters, make_event, minutes, on_schedule
from timedify_ops.jobs import registry
from timedify_ops.jobs.models import JobRun

pytestmark = pytest.mark.django_db


def run(key: str, now):
    """One alerting run of one rule; returns its result."""
    results, _ = engine.alert_now(now, rules=[get_rule(key)])
    return results[0]


def open_alert(key: str) -> Alert | None:
    return Alert.objects.filter(rule_key=key, resolved_at__isnull=True).first()


def test_the_registry_has_the_rules_of_the_issue():
    assert {rule.key for rule in RULES} == {
        "probe-down",
        "slo-fast-burn",
        "slo-slow-burn",
        "dead-letters-last-hour",
        "open-dead-letters",
        "error-log-lines",
        "schedule-missed",
        "delivery-backlog",
    }
    assert len({rule.key for rule in RULES}) == len(RULES)
    assert all(rule.category in ("health", "pattern", "slo") for rule in RULES)


def test_thresholds_and_for_durations_come_from_settings(settings):
    rule = get_rule("open-dead-letters")
    assert (rule.threshold, rule.for_duration) == (25, timedelta(minutes=5))
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 3}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0.5}
    assert (rule.threshold, rule.for_duration) == (3, timedelta(seconds=30))


# --------------------------------------------------------------------------- health


def test_a_probe_down_fires_after_its_for_duration_and_resolves_when_it_is_up(settings):
    settings.ALERT_FOR_MINUTES = {"probe-down": 2}
    ProbeState.objects.create(probe="app", status="down", status_since=T0, last_detail="HTTP 502")
    assert run("probe-down", T0).state == "pending"
    assert run("probe-down", T0 + minutes(1)).state == "pending"
    assert open_alert("probe-down") is None
    assert run("probe-down", T0 + minutes(2)).state == "firing"
    alert = open_alert("probe-down")
    assert alert.value == 1
    assert "app since 12:00 UTC (HTTP 502)" in alert.detail
    assert alert.pending_since == T0 and alert.fired_at == T0 + minutes(2)

    ProbeState.objects.filter(probe="app").update(status="up")
    assert run("probe-down", T0 + minutes(3)).state == "ok"
    alert.refresh_from_db()
    assert alert.resolved_at == T0 + minutes(3)


def test_a_degraded_probe_is_not_down():
    ProbeState.objects.create(probe="app", status="degraded")
    assert run("probe-down", T0).state == "ok"


def test_a_missed_schedule_fires_and_resolves_once_it_runs_again():
    now = timezone.now()
    on_schedule(now)
    assert run("schedule-missed", now + minutes(2)).state == "ok"  # within interval + grace
    result = run("schedule-missed", now + minutes(10))
    assert result.state == "firing"
    assert "sweep-stale-events" in result.evaluation.detail
    assert "retention" not in result.evaluation.detail  # daily: not due yet
    later = now + minutes(11)
    for job in registry.JOBS:
        JobRun.objects.create(key=job.key, started_at=later, finished_at=later, ok=True)
    assert run("schedule-missed", later + minutes(1)).state == "ok"
    assert Alert.objects.get(rule_key="schedule-missed").resolved_at == later + minutes(1)


def test_a_paused_schedule_is_not_missed_but_a_missing_one_is():
    from django_q.models import Schedule

    now = timezone.now()
    on_schedule(now)
    Schedule.objects.exclude(name="alerting").update(repeats=0)
    evaluation = run("schedule-missed", now + minutes(30)).evaluation
    assert evaluation.value == 1 and "alerting" in evaluation.detail
    Schedule.objects.filter(name="alerting").delete()
    assert "no schedule" in run("schedule-missed", now).evaluation.detail


def test_runs_of_run_now_do_not_hide_a_dead_scheduler():
    now = timezone.now()
    on_schedule(now - minutes(30))
    JobRun.objects.create(key="alerting", started_at=now, trigger=JobRun.Trigger.MANUAL, ok=True)
    assert "alerting" in run("schedule-missed", now).evaluation.detail


def test_an_old_delivery_backlog_fires_and_resolves_when_delivered(settings):
    settings.ALERT_THRESHOLDS = {"delivery-backlog": 10}
    event = make_event("slow", status="received", received_at=T0 - minutes(11))
    make_event("fresh", status="delivering", received_at=T0 - minutes(1))
    make_event("done", status="delivered", received_at=T0 - minutes(60))
    result = run("delivery-backlog", T0)
    assert result.state == "firing"
    assert result.evaluation.value == 11.0
    assert "2 events waiting" in result.evaluation.detail
    WebhookEventStatus = type(event).Status
    type(event).objects.filter(pk=event.pk).update(status=WebhookEventStatus.DELIVERED)
    assert run("delivery-backlog", T0 + minutes(1)).state == "ok"
    assert Alert.objects.get(rule_key="delivery-backlog").resolved_at is not None


# --------------------------------------------------------------------------- patterns


def test_dead_letters_in_the_last_hour_fire_above_n_and_resolve_as_they_age(settings):
    settings.ALERT_THRESHOLDS = {"dead-letters-last-hour": 2}
    make_dead_letters(3, created_at=T0 - minutes(30))
    make_dead_letters(5, created_at=T0 - minutes(90), prefix="old")
    result = run("dead-letters-last-hour", T0)
    assert (result.state, result.evaluation.value) == ("firing", 3)
    assert run("dead-letters-last-hour", T0 + minutes(31)).state == "ok"


def test_open_dead_letters_fire_above_n_and_resolve_when_replayed(settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 1}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    letters = make_dead_letters(2)
    make_dead_letters(3, status="replayed", prefix="done")
    assert run("open-dead-letters", T0).state == "firing"
    DeadLetter.objects.filter(pk=letters[0].pk).update(status="replayed")
    assert run("open-dead-letters", T0 + minutes(1)).state == "ok"


def log_line(message: str, when, provider: str = "app") -> LogEntry:
    """A line stored as ingest stores it (classified by the one error-line matcher)."""
    insert_rows([LogRow(timestamp_ns=datetime_to_ns(when), message=message, app="timedify", provider=provider)])
    return LogEntry.objects.order_by("-id").first()


def test_error_lines_in_the_last_five_minutes_fire_above_n_and_resolve_as_they_age(settings):
    settings.ALERT_THRESHOLDS = {"error-log-lines": 3}
    settings.ALERT_FOR_MINUTES = {"error-log-lines": 0}
    matching = [
        "Webhook error: could not process orders/create",
        "PrismaClientKnownRequestError: prisma query error P2002",
        "Shopify Admin API answered 429 Too Many Requests",
        "POST /webhooks/app/uninstalled 500 in 33 ms",
        "upstream said HTTP 503",
        "5xx from the app's checkout route",
    ]
    harmless = [
        "GET /health 200 in 1500 ms",  # 1500 is not a 5xx
        "released 2026-05-12, build 4512",
        "request took 15.2 ms",
        # The checklist's bare `429|5..` flags every one of these.
        '"POST /webhooks/orders/create HTTP/1.1" 200 512 0.004s',
        "took 503ms",
        "fly scale memory 512",
        "GET /products/512 200",
        "upstream said 503",  # a bare number is not a status
    ]
    for message in matching + harmless:
        log_line(message, T0 - minutes(2))
    log_line("webhook error long ago", T0 - minutes(6))
    # timedify-ops' own events (e.g. a failed notification's "HTTP 500") do not count.
    log_line("alert notification failed: error=HTTP 500", T0 - minutes(1), provider="events")
    result = run("error-log-lines", T0)
    assert (result.state, result.evaluation.value) == ("firing", 6)
    assert result.evaluation.detail == "6 error lines in the last 5 minutes"
    assert run("error-log-lines", T0 + minutes(4)).state == "ok"


# --------------------------------------------------------------------------- SLOs


def slo_minutes(start, count: int, **fields) -> None:
    """Issue 6's per-minute rollups, written directly."""
    SloMinute.objects.bulk_create([SloMinute(minute=start + minutes(index), **fields) for index in range(count)])


def test_slo_fast_burn_pages_and_resolves_when_the_hour_is_clean_again(settings):
    settings.SLO_ERROR_RATE_OBJECTIVE = 0.995
    settings.ALERT_FOR_MINUTES = {"slo-fast-burn": 0}
    # The last hour: 7.3 % of 1,000 events a minute dead-lettered, 14.6× the 0.5 % budget.
    slo_minutes(T0 - minutes(60), 60, received=1000, dead_lettered=73)
    fast = run("slo-fast-burn", T0)
    assert fast.state == "firing"
    assert fast.evaluation.value == pytest.approx(14.6)
    assert "Error rate (page: 14.4× over 1h and 5m; page: 6× over 6h and 30m)" in fast.evaluation.detail
    assert run("slo-slow-burn", T0).state == "ok"  # paging already: no ticket on top
    # Clean traffic since: the short windows recover, so it resolves.
    slo_minutes(T0, 60, received=1000)
    slo_minutes(T0 + minutes(60), 300, received=100000)
    assert run("slo-fast-burn", T0 + minutes(360)).state == "ok"
    assert Alert.objects.get(rule_key="slo-fast-burn").resolved_at == T0 + minutes(360)


def test_slo_slow_burn_opens_a_ticket(settings):
    settings.SLO_ERROR_RATE_OBJECTIVE = 0.995
    settings.ALERT_FOR_MINUTES = {"slo-slow-burn": 15}
    # Six hours at 1 % errors: 2× the budget, too slow to page, enough for "1× over 3d and 6h".
    slo_minutes(T0 - minutes(360), 360, received=100, dead_lettered=1)
    assert run("slo-slow-burn", T0).state == "pending"
    assert run("slo-fast-burn", T0).state == "ok"
    slow = run("slo-slow-burn", T0 + minutes(15))
    assert slow.state == "firing"
    assert "Error rate (ticket: 1× over 3d and 6h)" in slow.evaluation.detail
    SloMinute.objects.all().delete()
    assert run("slo-slow-burn", T0 + minutes(16)).state == "ok"


# --------------------------------------------------------------------------- the "for" duration and lifecycle


def test_a_condition_must_hold_for_the_whole_duration_so_a_flap_never_fires(settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 5}
    letters = make_dead_letters(1)
    assert run("open-dead-letters", T0).state == "pending"
    assert run("open-dead-letters", T0 + minutes(4)).state == "pending"
    DeadLetter.objects.update(status="replayed")  # clears for a moment: the clock restarts
    assert run("open-dead-letters", T0 + minutes(4.5)).state == "ok"
    assert RuleState.objects.get(key="open-dead-letters").pending_since is None
    DeadLetter.objects.filter(pk=letters[0].pk).update(status="open")
    assert run("open-dead-letters", T0 + minutes(5)).state == "pending"
    assert run("open-dead-letters", T0 + minutes(9)).state == "pending"
    assert not Alert.objects.exists()
    assert run("open-dead-letters", T0 + minutes(10)).state == "firing"
    assert Alert.objects.get().pending_since == T0 + minutes(5)


def test_an_alert_fires_once_and_is_updated_while_firing(settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    make_dead_letters(1)
    run("open-dead-letters", T0)
    make_dead_letters(2, prefix="more")
    run("open-dead-letters", T0 + minutes(1))
    DeadLetter.objects.filter(status="open").first().delete()
    run("open-dead-letters", T0 + minutes(2))
    alert = Alert.objects.get()
    assert (alert.value, alert.peak_value) == (2, 3)
    assert alert.last_seen_at == T0 + minutes(2)
    assert alert.fired_at == T0
    assert alert.detail == "2 open dead letters"


def test_it_fires_again_after_resolving_as_a_new_alert(settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    make_dead_letters(1)
    run("open-dead-letters", T0)
    DeadLetter.objects.update(status="replayed")
    run("open-dead-letters", T0 + minutes(1))
    make_dead_letters(1, prefix="again")
    run("open-dead-letters", T0 + minutes(2))
    assert Alert.objects.count() == 2
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1


def test_one_open_alert_per_rule_is_enforced_by_the_database():
    from django.db import IntegrityError, transaction

    fields = {"rule_key": "open-dead-letters", "title": "x", "category": "pattern", "pending_since": T0}
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)
    Alert.objects.create(**fields, resolved_at=T0)  # resolved ones are history: any number


def test_a_rule_that_fails_to_evaluate_keeps_its_alert_open_and_says_why(settings, monkeypatch):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    make_dead_letters(1)
    run("open-dead-letters", T0)

    def broken(rule, now):
        raise RuntimeError("database went away")

    from dashboard.alerts import rules

    rule = get_rule("open-dead-letters")
    monkeypatch.setattr(rules, "RULES", [type(rule)(**{**rule.__dict__, "evaluate": broken})])
    results, summary = engine.alert_now(T0 + minutes(1), rules=rules.RULES)
    assert results[0].state == "error"
    assert summary["errors"] == ["open-dead-letters"]
    assert open_alert("open-dead-letters") is not None
    assert RuleState.objects.get(key="open-dead-letters").error == "RuntimeError: database went away"
    assert engine.exit_code(results) == 2
