"""The webhook pipeline: record once, enqueue, deliver with the retry budget, dead-letter.

URL → view (webhooks.views.ingress) → record_event → enqueue_delivery
django-q2 worker → webhooks.tasks.deliver → deliver_event → run_attempts
schedule "sweep-stale-events" → sweep_stale_events
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The two hand-offs of the pipeline to the recover layer above (tests/test_layers.py lists them):
# a spent budget creates the dead letter, and a delivered webhook's side effects are the shops room's.
from deadletters.models import DeadLetter
from shops.side_effects import apply_side_effects
from timedify_ops.lib import shopify_headers, signing
from timedify_ops.lib.retry import is_retryable_status, parse_retry_after
from timedify_ops.queue import enqueue
from timedify_ops.telemetry import measure
from webhooks.models import DeliveryAttempt, WebhookEvent

events_log = logging.getLogger("timedify_ops.events")

EXCERPT_BYTES = 2048
DELIVERY_TASK = "webhooks.tasks.deliver"


# --------------------------------------------------------------------------- receive


@dataclass(frozen=True)
class Recorded:
    event: WebhookEvent | None
    duplicate: bool


def _parse_triggered_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def record_event(
    *, body: bytes, headers: dict[str, str], topic: str, shop_domain: str, webhook_id: str, synthetic: bool = False
) -> Recorded:
    """Store the event and enqueue its delivery in one transaction; a repeated
    Webhook-Id is counted on the first event instead.

    Raises django.db.DatabaseError when nothing could be stored (the view answers 503).
    """
    now = timezone.now()
    found = shopify_headers.Lookup(headers)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                webhook_id=webhook_id,
                event_id=(found.get(shopify_headers.EVENT_ID) or "")[:255],
                topic=topic,
                shop_domain=shop_domain,
                api_version=(found.get(shopify_headers.API_VERSION) or "")[:32],
                triggered_at=_parse_triggered_at(found.get(shopify_headers.TRIGGERED_AT)),
                received_at=now,
                body=body,
                body_size=len(body),
                headers=shopify_headers.redact(headers),
                synthetic=synthetic,
                enqueued_at=now,
            )
            enqueue_delivery(event.pk)
    except IntegrityError:
        # The unique webhook_id refused a second copy (possibly one that arrived at the
        # same moment on another worker: the insert waited for it to commit).
        if WebhookEvent.objects.count_duplicate(webhook_id, now):
            return Recorded(event=None, duplicate=True)
        raise
    return Recorded(event=event, duplicate=False)


def enqueue_delivery(event_pk: int) -> None:
    """Queue the delivery task, with the event's row (timedify_ops.queue.enqueue); an enqueue
    that Redis refuses after the commit is found again by the sweeper."""
    # save=False: DeliveryAttempt rows are the record; django-q2's result table is not needed.
    enqueue(DELIVERY_TASK, event_pk, task_name=f"deliver-{event_pk}", group="deliveries", save=False)


# --------------------------------------------------------------------------- deliver


@dataclass
class AttemptResult:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: float
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code <= 299

    @property
    def retryable(self) -> bool:
        return self.status_code is None or is_retryable_status(self.status_code)

    def describe(self) -> str:
        if self.status_code is None:
            return f"network error: {self.error}"
        if 300 <= self.status_code <= 399:
            return f"HTTP {self.status_code} (a redirect counts as a failure)"
        return f"HTTP {self.status_code}"


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    last: AttemptResult | None
    reason: str = ""


_client: httpx.Client | None = None
_client_timeouts: tuple[float, float] | None = None


def http_client() -> httpx.Client:
    """One pooled client per process (each django-q2 worker is its own process),
    rebuilt if the timeout settings change."""
    global _client, _client_timeouts
    timeouts = (settings.DELIVERY_TIMEOUT_S, settings.DELIVERY_CONNECT_TIMEOUT_S)
    if _client is None or _client_timeouts != timeouts:
        _client_timeouts = timeouts
        _client = httpx.Client(
            timeout=httpx.Timeout(settings.DELIVERY_TIMEOUT_S, connect=settings.DELIVERY_CONNECT_TIMEOUT_S),
            follow_redirects=False,
            headers={"User-Agent": "timedify-ops/1 (webhook forwarder)"},
        )
    return _client


def target_url_for(topic: str) -> str:
    return settings.WEBHOOK_TARGET_OVERRIDES.get(topic, settings.WEBHOOK_TARGET_URL)


def outgoing_headers(event: WebhookEvent, *, attempt_number: int, extra: dict[str, str] | None = None) -> dict:
    """The original Shopify headers, a fresh HMAC over the exact body bytes, and our own markers."""
    headers = shopify_headers.shopify_headers(event.headers)
    prefix = "X-Shopify-" if any(name.lower().startswith("x-shopify-") for name in headers) else "Shopify-"
    headers[f"{prefix}Hmac-Sha256"] = signing.sign(event.body_bytes, settings.SHOPIFY_API_SECRET)
    headers["Content-Type"] = "application/json"
    headers["X-Timedify-Attempt"] = str(attempt_number)
    headers["X-Timedify-Event"] = str(event.pk)
    if event.synthetic:
        headers["X-Timedify-Synthetic"] = "1"
    headers.update(extra or {})
    return headers


def post_once(url: str, body: bytes, headers: dict[str, str], deadline_s: float) -> AttemptResult:
    """One POST. Reads at most EXCERPT_BYTES of the answer; gives up at the total deadline."""
    started = time.perf_counter()
    try:
        with http_client().stream("POST", url, content=body, headers=headers) as response:
            chunks = bytearray()
            for chunk in response.iter_raw():
                chunks.extend(chunk)
                if len(chunks) >= EXCERPT_BYTES or time.perf_counter() - started > deadline_s:
                    break
            excerpt = bytes(chunks[:EXCERPT_BYTES]).decode("utf-8", "replace")
            retry_after = (
                parse_retry_after(response.headers.get("Retry-After")) if response.status_code == 429 else None
            )
            return AttemptResult(
                status_code=response.status_code,
                error="",
                excerpt=excerpt,
                duration_ms=(time.perf_counter() - started) * 1000,
                retry_after_s=retry_after,
            )
    except httpx.TimeoutException as error:
        message = f"timeout ({type(error).__name__})"
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error}"[:500]
    return AttemptResult(
        status_code=None, error=message, excerpt="", duration_ms=(time.perf_counter() - started) * 1000
    )


def run_attempts(
    event: WebhookEvent,
    *,
    replayed_by=None,
    extra_headers: dict[str, str] | None = None,
    sleep=time.sleep,
) -> Outcome:
    """Deliver `event` within the retry budget; every try becomes a DeliveryAttempt.

    1. POST the stored body, re-signed, to the topic's target.
    2. 2xx → done. 3xx and 4xx other than 408/429 → permanent failure, stop.
    3. Otherwise wait (300 → 600 → 1200 → 2400 ms; Retry-After may lengthen it) and retry.
    4. After the last retry → failure with the reason.
    The caller owns the claim on the event and decides what success or failure means.
    """
    budget = settings.DELIVERY_RETRY_BUDGET
    url = target_url_for(event.topic)
    replay = bool(extra_headers and "X-Timedify-Replay" in extra_headers)

    def try_once(_: int) -> AttemptResult:
        number = event.attempts + 1
        started_at = timezone.now()
        result = post_once(
            url,
            event.body_bytes,
            outgoing_headers(event, attempt_number=number, extra=extra_headers),
            deadline_s=settings.DELIVERY_TIMEOUT_S,
        )
        with transaction.atomic():
            DeliveryAttempt.objects.create(
                event=event,
                number=number,
                started_at=started_at,
                duration_ms=round(result.duration_ms, 3),
                status_code=result.status_code,
                error=result.error,
                response_excerpt=result.excerpt[:EXCERPT_BYTES],
                target_url=url[:500],
                is_replay=replayed_by is not None or replay,
                replayed_by=replayed_by,
            )
            WebhookEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
        event.attempts = number
        if not result.ok:
            events_log.warning(
                "delivery attempt %d failed: topic=%s shop=%s webhook_id=%s %s%s",
                number,
                event.topic,
                event.shop_domain,
                event.webhook_id,
                result.describe(),
                " (replay)" if replay else "",
            )
        return result

    tries = budget.run(try_once, sleep=sleep)
    last = tries[-1]
    if last.ok:
        return Outcome(delivered=True, attempts=len(tries), last=last)
    return Outcome(delivered=False, attempts=len(tries), last=last, reason=failure_reason(last, len(tries)))


def failure_reason(last: AttemptResult, attempts: int) -> str:
    """Why a run of attempts ended without a delivery: the dead letter's reason."""
    if not last.retryable:
        return f"{last.describe()}: permanent, not retried"
    return f"{last.describe()} after {attempts} {'attempt' if attempts == 1 else 'attempts'} (retry budget spent)"


def deliver_event(event_pk: int, *, sleep=time.sleep) -> str:
    """The delivery task: claim, run the attempts, then mark delivered or dead-letter."""
    token = WebhookEvent.objects.claim_delivery(event_pk)
    if token is None:
        return "skipped: already claimed or finished"
    event = WebhookEvent.objects.get(pk=event_pk)
    # What the event changes inside timedify-ops (shops room); logs and never raises.
    apply_side_effects(event)
    outcome = run_attempts(event, sleep=sleep)
    if outcome.delivered:
        done = WebhookEvent.objects.finish_delivered(event_pk, token)
        measure.count(
            "deliveries_total", outcome="delivered_first_try" if outcome.attempts == 1 else "delivered_after_retries"
        )
        return "delivered" if done else "delivered, but the claim had been taken over"
    measure.count("deliveries_total", outcome="dead_lettered")
    dead_letter_event(event, token, outcome)
    return f"dead-lettered: {outcome.reason}"


def dead_letter_event(event: WebhookEvent, token: uuid.UUID, outcome: Outcome) -> DeadLetter | None:
    with transaction.atomic():
        if not WebhookEvent.objects.finish_dead_lettered(event.pk, token):
            return None
        # The hand-off to the recover room: the dead letter is what an operator acts on.
        letter, _ = DeadLetter.objects.update_or_create(
            event=event,
            defaults={
                "status": DeadLetter.Status.OPEN,
                "reason": outcome.reason,
                "topic": event.topic,
                "shop_domain": event.shop_domain,
                "last_status_code": outcome.last.status_code if outcome.last else None,
                "last_error": (outcome.last.error or outcome.last.excerpt[:500]) if outcome.last else "",
                "created_at": timezone.now(),
            },
        )
    events_log.warning(
        "webhook dead-lettered: topic=%s shop=%s webhook_id=%s reason=%s",
        event.topic,
        event.shop_domain,
        event.webhook_id,
        outcome.reason,
    )
    return letter


# --------------------------------------------------------------------------- sweep


def sweep_stale_events(batch: int = 500) -> dict[str, int]:
    """Re-enqueue events that should be moving but are not.

    1. `received` and enqueued more than WEBHOOK_STALE_SECONDS ago: the enqueue was lost
       (e.g. Redis refused it after the commit) or the queue is far behind.
    2. `delivering` with an expired lease: the worker died mid-delivery.
    Each is re-enqueued (and its enqueued_at moved on); the claim in deliver_event makes
    an extra task for an event that is in fact moving a no-op.
    """
    now = timezone.now()
    pending = WebhookEvent.objects.stale(now, now - timedelta(seconds=settings.WEBHOOK_STALE_SECONDS))
    # Ordered by the partial index's column so the scan stays inside it.
    pks = list(pending.order_by("enqueued_at").values_list("pk", flat=True)[:batch])
    for pk in pks:
        with transaction.atomic():
            WebhookEvent.objects.filter(pk=pk).update(enqueued_at=now)
            enqueue_delivery(pk)
    if pks:
        events_log.warning("sweeper re-enqueued %d stale webhook event(s)", len(pks))
    return {"requeued": len(pks)}
