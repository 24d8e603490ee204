"""Fixtures for alerting: real local HTTP receivers for the channels, a fast notify budget, rows to alert on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer

from deadletters.models import DeadLetter
from tests.live import free_port
from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun
from timedify_ops.lib.retry import RetryBudget
from webhooks.models import WebhookEvent

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quiet_rules(settings):
    """No channels, default thresholds: each test turns on what it is about."""
    settings.ALERT_SLACK_WEBHOOK_URL = None
    settings.ALERT_WEBHOOK_URL = None
    settings.ALERT_EMAIL_TO = []
    settings.ALERT_CONSOLE_URL = None
    settings.ALERT_THRESHOLDS = {}
    settings.ALERT_FOR_MINUTES = {}
    settings.ALERT_REPEAT_HOURS = 4.0
    settings.ALERT_NOTIFY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=2, retry_after_cap_s=0.05)
    settings.ALERT_NOTIFY_TIMEOUT_S = 2.0


@pytest.fixture(scope="session")
def _receiver_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver(settings, _receiver_server):
    """One real HTTP server on localhost standing in for Slack (/slack) and the generic webhook (/hook);
    started once per session (stopping one takes half a second), emptied around every test."""
    server = _receiver_server
    server.clear()
    settings.ALERT_SLACK_WEBHOOK_URL = server.url_for("/slack/T000/B000/sekrit-token")
    settings.ALERT_WEBHOOK_URL = server.url_for("/hook")
    yield server
    server.clear()


@pytest.fixture
def refused_url():
    """A URL on a closed local port: connection refused."""
    return f"http://127.0.0.1:{free_port()}/hook"


def on_schedule(now: datetime) -> None:
    """Every schedule synced and just run at `now`, so schedule-missed stays quiet."""
    jobs.sync_schedules()
    for job in registry.JOBS:
        JobRun.objects.create(key=job.key, started_at=now, finished_at=now, ok=True, duration_ms=1)


def make_event(webhook_id: str, **fields) -> WebhookEvent:
    defaults = {"topic": "app/uninstalled", "shop_domain": "a.myshopify.com", "body": b"{}", "status": "delivered"}
    return WebhookEvent.objects.create(webhook_id=webhook_id, **{**defaults, **fields})


def make_dead_letters(count: int, *, created_at: datetime | None = None, status: str = "open", prefix: str = "dl"):
    letters = []
    for index in range(count):
        event = make_event(f"{prefix}-{index}-{timezone.now().timestamp()}", status="dead_lettered")
        letters.append(
            DeadLetter.objects.create(
                event=event,
                reason="HTTP 500 after 5 attempts",
                topic=event.topic,
                shop_domain=event.shop_domain,
                status=status,
                created_at=created_at or timezone.now(),
            )
        )
    return letters


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
