"""The Shopify ingress. Answers fast; delivery happens in the worker.

200 accepted or duplicate · 401 bad/missing HMAC · 400 missing headers or non-JSON body ·
405 other methods · 413 over WEBHOOK_MAX_BYTES · 503 nothing could be stored.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from timedify_ops.http import read_limited_body
from timedify_ops.lib import shopify_headers, signing
from webhooks import services

logger = logging.getLogger(__name__)

SYNTHETIC_HEADER = "X-Timedify-Synthetic"


def _answer(request: HttpRequest, status: int, outcome: str, message: str, **extra) -> JsonResponse:
    # Read by IngressTelemetryMiddleware: the SLOs and /metrics count by outcome.
    request.timedify_outcome = outcome
    return JsonResponse({"status": message, **extra} if status == 200 else {"error": message, **extra}, status=status)


@csrf_exempt
@login_not_required
@require_POST
def ingress(request: HttpRequest, topic: str | None = None) -> JsonResponse:
    body = read_limited_body(request, settings.WEBHOOK_MAX_BYTES)
    if body is None:
        return _answer(
            request, 413, "too_large", f"body larger than WEBHOOK_MAX_BYTES ({settings.WEBHOOK_MAX_BYTES} bytes)"
        )

    headers = shopify_headers.headers_from_meta(request.META)
    found = shopify_headers.Lookup(headers)
    signature = found.get(shopify_headers.HMAC)
    secrets = [settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS]
    if not signature:
        return _answer(request, 401, "unauthorized", "missing X-Shopify-Hmac-Sha256 header")
    if not signing.verify(body, signature, secrets):
        return _answer(request, 401, "unauthorized", "HMAC signature does not match the body")

    topic_header = found.get(shopify_headers.TOPIC)
    request.timedify_topic = (topic_header or "").lower()[:100]
    shop = found.get(shopify_headers.SHOP_DOMAIN)
    webhook_id = found.get(shopify_headers.WEBHOOK_ID)
    missing = [
        name
        for name, value in (("Topic", topic_header), ("Shop-Domain", shop), ("Webhook-Id", webhook_id))
        if not value
    ]
    if missing:
        names = ", ".join(f"X-Shopify-{name}" for name in missing)
        return _answer(request, 400, "bad_request", f"missing required header(s): {names}")
    if len(webhook_id) > 255 or len(shop) > 255 or len(topic_header) > 100:
        return _answer(
            request,
            400,
            "bad_request",
            "a Shopify header is longer than allowed (Webhook-Id/Shop-Domain 255, Topic 100)",
        )
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _answer(request, 400, "bad_request", "body is not valid JSON")

    try:
        recorded = services.record_event(
            body=body,
            headers=headers,
            topic=topic_header.lower(),
            shop_domain=shop.lower(),
            webhook_id=webhook_id,
            synthetic=headers.get(SYNTHETIC_HEADER) == "1",
        )
    except DatabaseError:
        logger.exception("could not store webhook %s", webhook_id)
        return _answer(request, 503, "unavailable", "the event could not be stored; retry later")
    if recorded.duplicate:
        return _answer(request, 200, "duplicate", "duplicate", webhook_id=webhook_id)
    return _answer(request, 200, "accepted", "accepted", webhook_id=webhook_id)
