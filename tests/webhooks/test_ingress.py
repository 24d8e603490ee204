"""POST /webhooks/shopify and /webhooks/<topic>: the answer matrix of the contract."""

import json
import threading

import pytest
from django.db import DatabaseError, connection
from django.test import Client

from tests.conftest import post_webhook, queued_tasks, shopify_headers, webhook_body
from timedify_ops.lib import signing
from webhooks import services
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_it_accepts_a_signed_webhook_and_stores_it_exactly(client, empty_queue):
    body = b'{"id": 42,  "note": "caf\xc3\xa9"}'  # odd spacing and UTF-8 must survive byte for byte
    response = post_webhook(client, body, webhook_id="wh-1", topic="customers/redact")
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "webhook_id": "wh-1"}
    event = WebhookEvent.objects.get(webhook_id="wh-1")
    assert event.body_bytes == body
    assert event.body_size == len(body)
    assert event.topic == "customers/redact"
    assert event.shop_domain == "demo-shop.myshopify.com"
    assert event.api_version == "2026-10"
    assert event.triggered_at.isoformat() == "2026-11-26T10:00:00+00:00"
    assert event.status == WebhookEvent.Status.RECEIVED


def test_it_enqueues_exactly_one_delivery(client, empty_queue):
    post_webhook(client, webhook_id="wh-enqueue")
    event = WebhookEvent.objects.get(webhook_id="wh-enqueue")
    tasks = queued_tasks()
    assert [(t["func"], t["args"]) for t in tasks] == [(services.DELIVERY_TASK, (event.pk,))]


def test_it_redacts_the_hmac_in_stored_headers(client, empty_queue):
    post_webhook(client, webhook_id="wh-redact", HTTP_AUTHORIZATION="Bearer leaked")
    headers = WebhookEvent.objects.get(webhook_id="wh-redact").headers
    assert headers["X-Shopify-Hmac-Sha256"] == "[redacted]"
    assert headers["Authorization"] == "[redacted]"
    assert "leaked" not in json.dumps(headers)


def test_it_rejects_a_bad_hmac_and_stores_nothing(client, empty_queue):
    response = post_webhook(client, webhook_id="wh-bad", secret="not-the-secret")
    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    assert not WebhookEvent.objects.exists()
    assert queued_tasks() == []


def test_it_rejects_a_missing_hmac(client):
    body = webhook_body()
    headers = shopify_headers(body)
    del headers["HTTP_X_SHOPIFY_HMAC_SHA256"]
    response = client.post("/webhooks/shopify", data=body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert "missing" in response.json()["error"]


def test_a_body_changed_after_signing_is_rejected(client):
    body = webhook_body()
    headers = shopify_headers(body)
    response = client.post("/webhooks/shopify", data=body + b" ", content_type="application/json", **headers)
    assert response.status_code == 401


def test_it_accepts_the_previous_secret_during_rotation(client, settings, empty_queue):
    settings.SHOPIFY_API_SECRET_PREVIOUS = "shpss_previous_secret"
    response = post_webhook(client, webhook_id="wh-old", secret="shpss_previous_secret")
    assert response.status_code == 200
    assert WebhookEvent.objects.filter(webhook_id="wh-old").exists()


def test_it_reads_the_unprefixed_headers(client, empty_queue):
    response = post_webhook(client, webhook_id="wh-new-style", unprefixed=True, topic="shop/redact")
    assert response.status_code == 200
    assert WebhookEvent.objects.get(webhook_id="wh-new-style").topic == "shop/redact"


def test_the_unprefixed_header_wins_when_both_are_present(client, empty_queue):
    body = webhook_body()
    headers = shopify_headers(body, webhook_id="wh-both", topic="app/uninstalled")
    headers["HTTP_SHOPIFY_TOPIC"] = "app/scopes_update"
    client.post("/webhooks/shopify", data=body, content_type="application/json", **headers)
    assert WebhookEvent.objects.get(webhook_id="wh-both").topic == "app/scopes_update"


@pytest.mark.parametrize("missing", ["TOPIC", "SHOP_DOMAIN", "WEBHOOK_ID"])
def test_a_missing_required_header_is_a_400_naming_it(client, missing):
    body = webhook_body()
    headers = shopify_headers(body)
    del headers[f"HTTP_X_SHOPIFY_{missing}"]
    response = client.post("/webhooks/shopify", data=body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert missing.title().replace("_", "-") in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_body_that_is_not_json_is_a_400(client):
    response = post_webhook(client, b"not json at all")
    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}
    assert not WebhookEvent.objects.exists()


def test_other_methods_are_a_405(client):
    assert client.get("/webhooks/shopify").status_code == 405
    assert client.put("/webhooks/app/uninstalled").status_code == 405


def test_a_body_over_the_limit_is_a_413_without_reading_it(client, settings):
    settings.WEBHOOK_MAX_BYTES = 1024
    body = json.dumps({"pad": "x" * 2000}).encode()
    response = post_webhook(client, body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_body_at_the_limit_is_accepted(client, settings, empty_queue):
    settings.WEBHOOK_MAX_BYTES = 1024
    body = json.dumps({"pad": "x" * (1024 - 11)}).encode()
    assert len(body) == 1024
    assert post_webhook(client, body).status_code == 200


def test_a_per_topic_path_is_accepted(client, empty_queue):
    response = post_webhook(client, path="/webhooks/app/uninstalled", webhook_id="wh-path")
    assert response.status_code == 200
    assert WebhookEvent.objects.filter(webhook_id="wh-path").exists()


def test_a_repeated_webhook_id_is_a_counted_duplicate_with_one_delivery(client, empty_queue):
    assert post_webhook(client, webhook_id="wh-dup").json()["status"] == "accepted"
    second = post_webhook(client, webhook_id="wh-dup")
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    event = WebhookEvent.objects.get(webhook_id="wh-dup")
    assert event.duplicates == 1
    assert event.last_duplicate_at is not None
    assert len(queued_tasks()) == 1


def test_it_answers_503_when_the_event_cannot_be_stored(client, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "record_event", broken)
    response = post_webhook(client)
    assert response.status_code == 503


def test_no_event_is_kept_when_the_enqueue_fails(client, monkeypatch, settings):
    """The insert and the enqueue share a transaction: never a stored event that nobody will deliver
    without the sweeper knowing, and never a 200 for an event that was rolled back."""
    settings.REDIS_URL = None

    def broken_push(func, *args, **options):
        raise DatabaseError("queue table locked")

    monkeypatch.setattr("timedify_ops.queue.async_task", broken_push)
    response = post_webhook(client, webhook_id="wh-rollback")
    assert response.status_code == 503
    assert not WebhookEvent.objects.filter(webhook_id="wh-rollback").exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_one_webhook_id_store_one_event(empty_queue):
    """Two request threads with their own database connections race on the unique index."""
    body = webhook_body()
    headers = shopify_headers(body, webhook_id="wh-race")
    barrier = threading.Barrier(4)
    answers = []

    def post():
        barrier.wait()
        try:
            response = Client().post("/webhooks/shopify", data=body, content_type="application/json", **headers)
            answers.append((response.status_code, response.json().get("status")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(200, "accepted")] + [(200, "duplicate")] * 3
    event = WebhookEvent.objects.get(webhook_id="wh-race")
    assert event.duplicates == 3
    assert len(queued_tasks()) == 1


def test_the_signature_covers_the_exact_bytes(client, empty_queue):
    body = b'{"b":1,"a":2}'
    headers = shopify_headers(body, webhook_id="wh-bytes")
    headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = signing.sign(body, "shpss_test_current_secret")
    assert client.post("/webhooks/shopify", data=body, content_type="application/json", **headers).status_code == 200


def test_with_redis_the_enqueue_waits_for_the_commit(client, settings, monkeypatch, django_capture_on_commit_callbacks):
    """A Redis worker could otherwise pick the task before the event row is visible."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    pushed = []
    monkeypatch.setattr("timedify_ops.queue.async_task", lambda func, pk, **options: pushed.append(pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert post_webhook(client, webhook_id="wh-redis").status_code == 200
        assert pushed == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert pushed == [WebhookEvent.objects.get(webhook_id="wh-redis").pk]
