"""Logs with real processes: the Fly shipper's batches through gunicorn, and timedify-ops' own
events written from a real django-q2 worker process (forked, thread started lazily there)."""

import json

import httpx
import pytest
from django.conf import settings

from dashboard.logs.models import LogEntry
from tests.live import gunicorn, qcluster, signed_webhook, subprocess_env, wait_for
from tests.logs.conftest import fly_record

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]


def test_a_dead_letter_in_a_qcluster_worker_reaches_the_log_store_by_itself(target, tmp_path, empty_queue):
    target.expect_request("/webhooks").respond_with_data("app error", status=500)
    env = subprocess_env(
        WEBHOOK_TARGET_URL=target.url_for("/webhooks"),
        DELIVERY_RETRY_BASE_MS="10",
        Q_WORKERS="1",
        LOG_EVENTS_FLUSH_SECONDS="0.2",  # the background thread on, as in production
    )
    with (
        gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base,
        qcluster(env, log_path=tmp_path / "q.log"),
    ):
        body, headers = signed_webhook("wh-logs-e2e", topic="shop/redact", shop="e2e.myshopify.com")
        assert httpx.post(f"{base}/webhooks/shopify", content=body, headers=headers).status_code == 200
        batch = [fly_record("Received webhook SHOP/REDACT shop=e2e.myshopify.com", timestamp=None)]
        shipped = httpx.post(
            f"{base}/logs/ingest",
            content=json.dumps(batch),
            headers={"Authorization": f"Bearer {settings.LOG_INGEST_TOKEN}", "Content-Type": "application/json"},
        )
        assert shipped.json() == {"accepted": 1, "rejected": 0, "errors": []}

        def own_event():
            return LogEntry.objects.filter(app="timedify-ops", message__startswith="webhook dead-lettered").first()

        entry = wait_for(own_event, timeout=60, interval=0.25, message=(tmp_path / "q.log").read_text()[-3000:])
    assert entry.topic == "shop/redact" and entry.provider == "events"
    assert entry.extra["logger"] == "timedify_ops.events"
    assert LogEntry.objects.filter(app="timedify", topic="shop/redact").count() == 1
