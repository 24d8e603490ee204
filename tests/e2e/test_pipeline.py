"""The whole pipeline with real processes: gunicorn (2 workers) → stored event → a real
`qcluster` worker → a real local HTTP target, and a dead letter for the one that fails."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from werkzeug import Response

from deadletters.models import DeadLetter
from tests.live import gunicorn, qcluster, signed_webhook, subprocess_env, wait_for
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]


def test_webhooks_flow_from_gunicorn_through_qcluster_to_the_app(target, tmp_path, empty_queue):
    failing_id = f"wh-fail-{uuid.uuid4()}"

    def app(request):
        if request.headers["X-Shopify-Webhook-Id"] == failing_id:
            return Response("app error", status=500)
        return Response("ok")

    target.expect_request("/webhooks").respond_with_handler(app)
    env = subprocess_env(WEBHOOK_TARGET_URL=target.url_for("/webhooks"), DELIVERY_RETRY_BASE_MS="20", Q_WORKERS="2")
    ids = [f"wh-e2e-{n}-{uuid.uuid4()}" for n in range(30)] + [failing_id]

    with (
        gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base,
        qcluster(env, log_path=tmp_path / "q.log"),
    ):

        def post(webhook_id: str) -> httpx.Response:
            body, headers = signed_webhook(webhook_id, topic="app/uninstalled", shop="e2e.myshopify.com")
            return httpx.post(f"{base}/webhooks/shopify", content=body, headers=headers)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(post, ids))
            # The same webhook id again, concurrently: answered, never delivered twice.
            repeats = list(pool.map(post, ids[:5]))
        assert [a.status_code for a in answers] == [200] * len(ids)
        assert {a.json()["status"] for a in repeats} == {"duplicate"}

        def settled():
            return not WebhookEvent.objects.filter(status__in=["received", "delivering"]).exists()

        wait_for(settled, timeout=60, interval=0.25, message=(tmp_path / "q.log").read_text(errors="replace")[-3000:])

    assert WebhookEvent.objects.count() == len(ids)
    assert WebhookEvent.objects.filter(status="delivered").count() == len(ids) - 1
    letter = DeadLetter.objects.get()
    assert letter.event.webhook_id == failing_id
    assert letter.event.attempts == 5
    delivered_ids = [
        request.headers["X-Shopify-Webhook-Id"] for request, response in target.log if response.status_code == 200
    ]
    assert sorted(delivered_ids) == sorted(ids[:-1])  # each exactly once
