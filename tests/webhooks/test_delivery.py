"""Delivery to a real local HTTP server, with the retry budget and dead-lettering."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from deadletters.models import DeadLetter
from tests.conftest import post_webhook, run_queued_tasks, webhook_body
from timedify_ops.lib import signing
from webhooks import services
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = pytest.mark.django_db


def receive_one(client, **options) -> WebhookEvent:
    body = options.pop("body", None) or webhook_body()
    assert post_webhook(client, body, **options).status_code == 200
    return WebhookEvent.objects.latest("pk")


def test_it_delivers_the_same_bytes_re_signed_with_the_shopify_headers(client, target, empty_queue):
    body = b'{"id": 7,   "email": "a@example.com"}'
    target.expect_request("/webhooks", method="POST").respond_with_data("ok")
    event = receive_one(client, body=body, webhook_id="wh-ok", topic="customers/data_request")
    assert run_queued_tasks() == ["delivered"]

    request, _ = target.log[0]
    assert request.get_data() == body
    assert request.headers["X-Shopify-Hmac-Sha256"] == signing.sign(body, "shpss_test_current_secret")
    assert request.headers["X-Shopify-Topic"] == "customers/data_request"
    assert request.headers["X-Shopify-Webhook-Id"] == "wh-ok"
    assert request.headers["X-Timedify-Attempt"] == "1"
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DELIVERED
    assert event.delivered_at is not None
    assert event.attempts == 1
    attempt = event.delivery_attempts.get()
    assert (attempt.number, attempt.status_code, attempt.response_excerpt) == (1, 200, "ok")
    assert attempt.duration_ms > 0


def test_the_original_header_spelling_is_kept_when_forwarding(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    receive_one(client, unprefixed=True)
    run_queued_tasks()
    request, _ = target.log[0]
    assert "Shopify-Hmac-Sha256" in request.headers
    assert "X-Shopify-Hmac-Sha256" not in request.headers


def test_a_per_topic_override_sends_the_topic_elsewhere(client, target, settings, empty_queue):
    settings.WEBHOOK_TARGET_OVERRIDES = {"shop/redact": target.url_for("/gdpr")}
    target.expect_request("/gdpr").respond_with_data("ok")
    receive_one(client, topic="shop/redact")
    assert run_queued_tasks() == ["delivered"]
    assert target.log[0][0].path == "/gdpr"


def test_500_five_times_dead_letters_with_the_backoff_spacing(client, target, empty_queue):
    """The real budget: waits of at least 300, 600, 1200 and 2400 ms (jitter only adds up to 10 %)."""
    target.expect_request("/webhooks").respond_with_data("boom", status=500)
    event = receive_one(client, webhook_id="wh-500")
    run_queued_tasks()

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED
    attempts = list(event.delivery_attempts.order_by("number"))
    assert [a.status_code for a in attempts] == [500] * 5
    assert [a.number for a in attempts] == [1, 2, 3, 4, 5]
    gaps = [
        (later.started_at - earlier.started_at).total_seconds() - earlier.duration_ms / 1000
        for earlier, later in zip(attempts, attempts[1:], strict=False)
    ]
    for gap, expected in zip(gaps, [0.3, 0.6, 1.2, 2.4], strict=True):
        assert expected - 0.005 <= gap <= expected * 1.1 + 0.5, gaps
    letter = DeadLetter.objects.get(event=event)
    assert letter.status == DeadLetter.Status.OPEN
    assert letter.reason == "HTTP 500 after 5 attempts (retry budget spent)"
    assert letter.last_status_code == 500
    assert letter.topic == event.topic


def test_a_404_dead_letters_after_one_attempt(client, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_data("no such route", status=404)
    event = receive_one(client)
    run_queued_tasks()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED
    assert event.delivery_attempts.count() == 1
    assert "permanent" in event.dead_letter.reason


def test_a_redirect_is_a_failure_and_is_not_followed(client, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_response(Response("", status=302, headers={"Location": "/x"}))
    event = receive_one(client)
    run_queued_tasks()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED
    assert len(target.log) == 1
    assert "redirect" in event.dead_letter.reason


def test_a_failure_then_success_is_delivered_with_both_attempts_kept(client, target, fast_budget, empty_queue):
    target.expect_ordered_request("/webhooks").respond_with_data("busy", status=503)
    target.expect_ordered_request("/webhooks").respond_with_data("ok", status=200)
    event = receive_one(client)
    run_queued_tasks()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DELIVERED
    assert list(event.delivery_attempts.values_list("status_code", flat=True)) == [503, 200]
    assert [r.headers["X-Timedify-Attempt"] for r, _ in target.log] == ["1", "2"]


def test_429_waits_for_retry_after(client, target, settings, empty_queue):
    from timedify_ops.lib.retry import RetryBudget

    settings.DELIVERY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=4, retry_after_cap_s=5)
    target.expect_ordered_request("/webhooks").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "1"})
    )
    target.expect_ordered_request("/webhooks").respond_with_data("ok")
    event = receive_one(client)
    run_queued_tasks()
    first, second = event.delivery_attempts.order_by("number")
    assert first.status_code == 429 and second.status_code == 200
    assert (second.started_at - first.started_at).total_seconds() >= 1.0


def test_retry_after_is_capped(client, target, settings, empty_queue):
    from timedify_ops.lib.retry import RetryBudget

    settings.DELIVERY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=1, retry_after_cap_s=0.2)
    target.expect_request("/webhooks").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "3600"})
    )
    started = time.monotonic()
    event = receive_one(client)
    run_queued_tasks()
    assert time.monotonic() - started < 5
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED
    assert event.delivery_attempts.count() == 2


def test_a_slow_target_hits_the_5_second_timeout(client, target, settings, empty_queue):
    from timedify_ops.lib.retry import RetryBudget

    assert settings.DELIVERY_TIMEOUT_S == 5.0  # Shopify's own limit, the default
    settings.DELIVERY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=0)

    def slow(request):
        time.sleep(6.5)
        return Response("too late")

    target.expect_request("/webhooks").respond_with_handler(slow)
    event = receive_one(client)
    started = time.monotonic()
    run_queued_tasks()
    elapsed = time.monotonic() - started
    attempt = event.delivery_attempts.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("timeout")
    assert 4.9 <= attempt.duration_ms / 1000 <= 6.0
    assert elapsed < 6.4  # the target still sleeps: the client gave up
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED


def test_a_refused_connection_is_a_network_error_and_is_retried(client, settings, fast_budget, empty_queue):
    settings.WEBHOOK_TARGET_URL = "http://127.0.0.1:9/closed"
    event = receive_one(client)
    run_queued_tasks()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DEAD_LETTERED
    assert event.delivery_attempts.count() == 5
    assert all(a.status_code is None for a in event.delivery_attempts.all())
    assert event.dead_letter.reason.startswith("network error")
    assert event.dead_letter.last_status_code is None


def test_an_event_claimed_by_a_live_worker_is_not_delivered_twice(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    event = receive_one(client)
    token = WebhookEvent.objects.claim_delivery(event.pk)
    assert token is not None
    assert WebhookEvent.objects.claim_delivery(event.pk) is None
    assert services.deliver_event(event.pk) == "skipped: already claimed or finished"
    assert target.log == []


def test_a_delivered_event_is_never_delivered_again(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    event = receive_one(client)
    run_queued_tasks()
    assert services.deliver_event(event.pk).startswith("skipped")
    assert len(target.log) == 1


def test_the_response_excerpt_is_short(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("x" * 100_000)
    event = receive_one(client)
    run_queued_tasks()
    assert len(event.delivery_attempts.get().response_excerpt) == services.EXCERPT_BYTES


def test_synthetic_events_are_marked_when_forwarded(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    event = receive_one(client, HTTP_X_TIMEDIFY_SYNTHETIC="1")
    assert event.synthetic
    run_queued_tasks()
    assert target.log[0][0].headers["X-Timedify-Synthetic"] == "1"


def test_attempt_history_is_never_overwritten(client, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_data("down", status=500)
    event = receive_one(client)
    run_queued_tasks()
    before = list(DeliveryAttempt.objects.filter(event=event).values("id", "number", "status_code"))
    # A second run (as a replay would) adds rows with continuing numbers.
    WebhookEvent.objects.filter(pk=event.pk).update(status="received")
    target.clear()
    target.expect_request("/webhooks").respond_with_data("ok")
    services.deliver_event(event.pk)
    after = list(DeliveryAttempt.objects.filter(event=event).order_by("number").values("id", "number", "status_code"))
    assert after[: len(before)] == before
    assert after[-1]["number"] == 6 and after[-1]["status_code"] == 200


def test_forwarded_json_is_untouched(client, target, empty_queue):
    payload = {"id": 1, "unicode": "\u2603", "nested": {"a": [1, 2, 3]}}
    body = json.dumps(payload, ensure_ascii=False).encode()
    target.expect_request("/webhooks").respond_with_data("ok")
    receive_one(client, body=body)
    run_queued_tasks()
    assert target.log[0][0].get_data() == body


def test_a_dead_letter_is_written_once_per_event(client, target, fast_budget, empty_queue):
    target.expect_request("/webhooks").respond_with_data("gone", status=410)
    event = receive_one(client)
    run_queued_tasks()
    assert DeadLetter.objects.filter(event=event).count() == 1
    assert event.dead_letter.created_at <= timezone.now() + timedelta(seconds=1)


def test_a_failed_attempt_is_one_of_timedify_ops_own_events(client, target, fast_budget, empty_queue, caplog):
    target.expect_request("/webhooks").respond_with_data("gone", status=410)
    receive_one(client, webhook_id="wh-logged", topic="shop/redact")
    with caplog.at_level("WARNING", logger="timedify_ops.events"):
        run_queued_tasks()
    messages = [record.getMessage() for record in caplog.records if record.name == "timedify_ops.events"]
    assert any(m.startswith("delivery attempt 1 failed: topic=shop/redact") and "HTTP 410" in m for m in messages)
    assert any(m.startswith("webhook dead-lettered:") for m in messages)
