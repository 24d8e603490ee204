"""manage.py seed_demo: an empty database gets a week that adds up, a full one is refused, every page shows it."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Q, Sum
from django.test import Client
from django.utils import timezone

from dashboard.alerts.models import Alert, RuleState
from dashboard.health import services as health
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from dashboard.logs.models import LogEntry
from dashboard.retention.models import RetentionRun
from dashboard.slo.models import SloDailyReport, SloMinute
from deadletters.models import BulkAction, DeadLetter
from shops.models import Shop, SyntheticRun
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.permissions import is_operator
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = pytest.mark.django_db

# Two days and a quarter of the default traffic: the same code paths, a fraction of the rows.
SMALL = ["--events", "1500", "--days", "2", "--password", "pw-demo-login"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def make_event(webhook_id: str = "existing") -> WebhookEvent:
    return WebhookEvent.objects.create(webhook_id=webhook_id, topic="app/uninstalled", shop_domain="a.myshopify.com")


def pages() -> list[str]:
    letter = DeadLetter.objects.order_by("-created_at").first()
    report = SloDailyReport.objects.order_by("-date").first()
    return [
        "/",
        "/?page=2",
        "/deadletters/",
        "/deadletters/?status=any",
        "/deadletters/?status=replayed",
        f"/deadletters/{letter.pk}/",
        f"/deadletters/{letter.pk}/raw/",
        "/deadletters/bulk/",
        f"/deadletters/bulk/{BulkAction.objects.get().pk}/",
        "/status/",
        "/schedules/",
        "/slo/",
        "/slo/?range=7d",
        "/slo/?range=28d",
        "/slo/daily/",
        f"/slo/daily/{report.date:%Y-%m-%d}/",
        "/logs/",
        "/logs/?preset=errors",
        "/alerts/",
        "/shops/",
        "/shops/?state=problems",
        "/shops/synthetic/",
        f"/shops/synthetic/{SyntheticRun.objects.first().pk}/",
        "/audit/",
        "/runbook/",
        "/runbook/cron-jobs/",
    ]


def test_an_empty_database_gets_a_week_that_adds_up_and_every_page_shows_it(token_key):
    output = seed(*SMALL)
    assert "Seeded 2 days of demo history" in output
    assert "Created the operator login: demo / pw-demo-login" in output
    assert "Created the viewer login: demo-viewer / pw-demo-login" in output

    # Events, attempts and dead letters tell one story.
    assert WebhookEvent.objects.count() > 1400
    assert not WebhookEvent.objects.filter(status__in=["received", "delivering"]).exists()
    for event in WebhookEvent.objects.annotate(tries=Count("delivery_attempts")):
        assert event.tries == event.attempts
    assert not WebhookEvent.objects.filter(status="dead_lettered", dead_letter__isnull=True).exists()
    assert not DeadLetter.objects.exclude(event__status="dead_lettered").exclude(status="replayed").exists()
    assert not DeadLetter.objects.filter(status="replayed").exclude(event__status="delivered").exists()
    assert DeadLetter.objects.filter(status="open").exists()
    assert DeliveryAttempt.objects.filter(is_replay=True, replayed_by__isnull=False).exists()
    assert set(DeadLetter.objects.values_list("status", flat=True)) >= {"open", "failed"}
    # Replayed letters go once replayed longer than DEADLETTER_REPLAYED_GRACE before a retention run.
    assert RetentionRun.objects.filter(deleted__dead_letters__gt=0).exists()
    bulk = BulkAction.objects.get()
    assert (bulk.status, bulk.done + bulk.failed) == ("done", bulk.expected)
    assert WebhookEvent.objects.filter(synthetic=True).count() == 6 * SyntheticRun.objects.count()
    assert WebhookEvent.objects.filter(duplicates__gt=0).exists()

    # The probes' hourly counters agree with their results (the uptime windows read both).
    for row in ProbeResult.objects.values("probe").annotate(n=Count("id"), failed=Count("id", filter=Q(state="fail"))):
        hours = ProbeHour.objects.filter(probe=row["probe"]).aggregate(checks=Sum("checks"), failures=Sum("failures"))
        assert (hours["checks"], hours["failures"]) == (row["n"], row["failed"])
    outage = ProbeFlip.objects.get(probe="app", to_status="down")
    assert outage.until is not None
    now = timezone.now()
    app = health.uptime(now, ["app"])["app"]["7d"]
    assert app.failures == ProbeResult.objects.filter(probe="app", state="fail").count() > 0
    assert ProbeState.objects.get(probe="app").status == "up"
    assert ProbeState.objects.get(probe="tokens").status == "down"

    # Telemetry, rollups and reports come from the same rows.
    rolled = SloMinute.objects.aggregate(
        received=Sum("received"), dead=Sum("dead_lettered"), ingress=Sum("ingress_count")
    )
    deleted = AuditEntry.objects.filter(action="deadletter.delete").count()
    assert rolled["received"] == WebhookEvent.objects.filter(synthetic=False).count() + deleted
    assert LatencyMinute.objects.filter(series="ingress").exists() and rolled["ingress"] > rolled["received"]
    days = SloDailyReport.objects.order_by("date")
    assert days.count() == 2 and all(report.slos for report in days)
    assert days.last().incidents, "yesterday's report lists the outage"

    # Logs, alerts, schedules, shops, audit.
    assert LogEntry.objects.filter(app="timedify", topic="customers/redact").exists()
    assert LogEntry.objects.filter(app="timedify-ops", provider="events").exists()
    assert LogEntry.objects.filter(level__gte=40, timestamp__gte=outage.at - timedelta(minutes=1)).exists()
    assert Alert.objects.filter(resolved_at__isnull=False).count() >= 2
    firing = Alert.objects.get(resolved_at__isnull=True, rule_key="probe-down")
    assert firing.acknowledged_by is not None
    assert RuleState.objects.get(key="probe-down").breaching
    assert JobRun.objects.filter(key="health-probes", started_at__gte=now - timedelta(minutes=2)).exists()
    assert {shop.token_state() for shop in Shop.objects.all()} >= {"ok", "expiring", "invalid", "uninstalled"}
    assert {"deadletter.replay", "deadletter.bulk_replay", "alert.acknowledge"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )

    # The logins work, with their roles.
    operator, viewer = (get_user_model().objects.get(username=name) for name in ("demo", "demo-viewer"))
    assert operator.check_password("pw-demo-login") and viewer.check_password("pw-demo-login")
    assert is_operator(operator) and not is_operator(viewer)

    client = Client()
    client.force_login(viewer)
    for path in pages():
        response = client.get(path)
        assert response.status_code == 200, path
    assert b"harbor-hound.myshopify.com" in client.get("/shops/").content
    assert b"Bulk replay" in client.get(f"/deadletters/bulk/{bulk.pk}/").content


def test_a_database_with_events_is_refused_and_left_alone(token_key):
    make_event()
    with pytest.raises(CommandError, match="has webhook events already") as refused:
        seed(*SMALL)
    assert refused.value.returncode == 1
    assert WebhookEvent.objects.count() == 1
    assert not LogEntry.objects.exists() and not Shop.objects.exists()


def test_if_empty_leaves_a_full_database_alone_but_makes_the_logins(token_key):
    make_event()
    output = seed("--if-empty", "--password", "pw-demo-login")
    assert "not seeding" in output
    assert WebhookEvent.objects.count() == 1
    assert get_user_model().objects.get(username="demo").check_password("pw-demo-login")
    assert "exists already" in seed("--if-empty")


def test_force_replaces_what_is_there(token_key):
    make_event()
    output = seed("--force", "--events", "200", "--days", "2")
    assert "Deleted the existing history" in output
    assert not WebhookEvent.objects.filter(webhook_id="existing").exists()
    assert WebhookEvent.objects.count() >= 200


def test_it_needs_the_token_key_to_store_the_shops_tokens(settings):
    settings.TOKEN_ENCRYPTION_KEY = ""
    with pytest.raises(CommandError, match="TOKEN_ENCRYPTION_KEY"):
        seed(*SMALL)
    assert not WebhookEvent.objects.exists()
