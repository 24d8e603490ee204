"""Dead letters made directly (fast) or through the real pipeline (ingress → worker → failing target)."""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from django.utils import timezone

from deadletters.models import DeadLetter
from tests.conftest import post_webhook, run_queued_tasks, webhook_body
from webhooks.models import DeliveryAttempt, WebhookEvent

_numbers = itertools.count(1)


def make_dead_letter(
    *,
    topic: str = "app/uninstalled",
    shop: str = "a.myshopify.com",
    status: str = DeadLetter.Status.OPEN,
    body: bytes | None = None,
    created_at=None,
    last_status_code: int | None = 500,
    last_error: str = "upstream exploded",
    reason: str = "HTTP 500 after 5 attempts (retry budget spent)",
    attempts: int = 0,
    webhook_id: str | None = None,
    synthetic: bool = False,
    **fields,
) -> DeadLetter:
    """An event as the ingress stores it (headers redacted), dead-lettered, with `attempts` 500s."""
    n = next(_numbers)
    webhook_id = webhook_id or f"wh-{n}-{uuid.uuid4().hex[:8]}"
    body = body if body is not None else json.dumps({"id": n, "domain": shop}).encode()
    event = WebhookEvent.objects.create(
        webhook_id=webhook_id,
        event_id=f"ev-{n}",
        topic=topic,
        shop_domain=shop,
        api_version="2026-10",
        body=body,
        body_size=len(body),
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Api-Version": "2026-10",
            "X-Shopify-Hmac-Sha256": "[redacted]",
        },
        status=WebhookEvent.Status.DEAD_LETTERED,
        attempts=attempts,
        synthetic=synthetic,
    )
    now = timezone.now()
    for number in range(1, attempts + 1):
        DeliveryAttempt.objects.create(
            event=event, number=number, started_at=now, duration_ms=3.0, status_code=500, response_excerpt="boom"
        )
    return DeadLetter.objects.create(
        event=event,
        status=status,
        reason=reason,
        topic=topic,
        shop_domain=shop,
        last_status_code=last_status_code,
        last_error=last_error,
        created_at=created_at or now,
        **fields,
    )


@pytest.fixture
def dead_letter_via_pipeline(client, target, fast_budget, empty_queue):
    """A dead letter made the real way: signed webhook → ingress → delivery → five 500s."""

    def make(**header_options) -> DeadLetter:
        target.expect_request("/webhooks").respond_with_data("down", status=500)
        body = header_options.pop("body", None) or webhook_body(id=next(_numbers))
        assert post_webhook(client, body, **header_options).status_code == 200
        run_queued_tasks()
        target.clear()
        return DeadLetter.objects.latest("pk")

    return make


def no_sleep(_seconds: float) -> None:
    return None
