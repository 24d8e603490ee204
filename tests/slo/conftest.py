"""SLO test helpers: raw rows at chosen times, ingress telemetry at chosen minutes, rollup rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.slo.models import SloMinute
from deadletters.models import DeadLetter
from timedify_ops.telemetry import measure
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import DeliveryAttempt, WebhookEvent

# A fixed "now" for tests that pass it explicitly; on the minute.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def empty_recorder(db):
    """No measurement from another test may leak in through the process-wide recorder."""
    measure.recorder.flush()
    LatencyMinute.objects.all().delete()
    yield
    measure.recorder.flush()


def make_event(*, received_at: datetime, synthetic: bool = False, topic: str = "orders/create", **fields):
    defaults = {
        "webhook_id": f"slo-{next(_ids)}",
        "topic": topic,
        "shop_domain": "a.myshopify.com",
        "body": b"{}",
        "received_at": received_at,
        "synthetic": synthetic,
    }
    return WebhookEvent.objects.create(**{**defaults, **fields})


def deliver(event: WebhookEvent, *, at: datetime, attempts: int = 1) -> WebhookEvent:
    event.status = WebhookEvent.Status.DELIVERED
    event.delivered_at = at
    event.attempts = attempts
    event.save()
    return event


def dead_letter(event: WebhookEvent, *, at: datetime) -> DeadLetter:
    event.status = WebhookEvent.Status.DEAD_LETTERED
    event.save(update_fields=["status"])
    return DeadLetter.objects.create(
        event=event, reason="HTTP 500", topic=event.topic, shop_domain=event.shop_domain, created_at=at
    )


def attempt(event: WebhookEvent, *, at: datetime, duration_ms: float, status_code: int | None = 200, **fields):
    number = DeliveryAttempt.objects.filter(event=event).count() + 1
    return DeliveryAttempt.objects.create(
        event=event, number=number, started_at=at, duration_ms=duration_ms, status_code=status_code, **fields
    )


def ingress(minute: datetime, values_ms, *, outcome: str = "accepted", synthetic: str = "0") -> None:
    """Ingress answers measured during `minute`, as the middleware records them (memory only)."""
    labels = tuple(sorted({"outcome": outcome, "synthetic": synthetic}.items()))
    for value in values_ms:
        measure.recorder.observe("ingress", value, labels, at=minute.timestamp() + 1)


def rollup_rows(start: datetime, minutes: int, **fields) -> None:
    """SloMinute rows written directly (the window and status tests start from rollups)."""
    SloMinute.objects.bulk_create(
        [SloMinute(minute=start + index * MINUTE, **fields) for index in range(minutes)], batch_size=500
    )
