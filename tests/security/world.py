"""A small world made through the real code paths, carrying every secret there is, so the sweep
has a real object behind every URL parameter and the secret checks have something to find."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from dashboard.alerts.models import Alert, Notification
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from shops.models import Shop, SyntheticRun
from tests.conftest import run_queued_tasks, shopify_headers, webhook_body
from tests.security.urlsweep import World
from timedify_ops.jobs.registry import JOBS
from timedify_ops.jobs.services import run_job
from timedify_ops.lib import signing
from timedify_ops.lib.heartbeats import parse as parse_heartbeats
from timedify_ops.lib.retry import RetryBudget
from webhooks.models import WebhookEvent

ACCESS_TOKEN = "shpat_world_access_token_5ecret_0123456789"
REFRESH_TOKEN = "shprt_world_refresh_token_5ecret_0123456789"
WRONG_PASSWORD = "wrong-password-5ecret-0123"
LEAKY_AUTHORIZATION = "Bearer leaked-upstream-token-5ecret-0123"
SLACK_SECRET = "5ecretSlackWebhookPath0123"
HEARTBEAT_TOKEN = "heartbeat-5ecret-token-0123456789"


@dataclass
class SecretWorld(World):
    secrets: dict[str, str] = field(default_factory=dict)  # what it is → the secret text


def build_world(*, settings, target, operator) -> SecretWorld:
    """1. Signed webhooks through the ingress (one with an Authorization header it must not keep),
       delivered to a local target: one delivered, one dead-lettered (500s), then replayed by the
       operator and bulk-replayed (failing again).
    2. A shop with an encrypted offline token pair, checked against a local Admin API that
       answers 401; a synthetic run.
    3. A log batch through /logs/ingest; /metrics scraped; a real login with a password and a
       failed one; every scheduled job run once (probes, SLO rollups, the daily report, retention,
       alerting: an alert fires on the dead letter and notifies Slack and the JSON webhook).
    """
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    settings.SHOPIFY_ADMIN_BASE_URL = target.url_for("/shopify").rstrip("/")
    settings.SHOPIFY_API_SECRET_PREVIOUS = "shpss_previous_5ecret_0123"
    settings.HEARTBEATS = parse_heartbeats("nightly-backup=24h+2h")
    settings.HEARTBEAT_TOKEN = HEARTBEAT_TOKEN
    # An outside job reports a failure, with its output (kept, shown on /status/).
    reported = Client().post(
        "/heartbeats/nightly-backup/fail",
        data=b"pg_dump: error: connection to server failed",
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {HEARTBEAT_TOKEN}",
    )
    assert reported.status_code == 200, reported.content
    client = Client()
    signatures = []

    target.expect_request("/webhooks", headers={"X-Shopify-Webhook-Id": "world-fails"}).respond_with_data(
        "app error", status=500
    )
    target.expect_request("/webhooks").respond_with_data("ok")
    # Alert channels on the same local server; the Slack URL's path is a credential.
    settings.ALERT_SLACK_WEBHOOK_URL = target.url_for(f"/slack/T0WORLD/B0WORLD/{SLACK_SECRET}")
    settings.ALERT_WEBHOOK_URL = target.url_for("/hook")
    settings.ALERT_THRESHOLDS = {"dead-letters-last-hour": 0}
    settings.ALERT_FOR_MINUTES = {"dead-letters-last-hour": 0}
    settings.ALERT_NOTIFY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=1, retry_after_cap_s=0.05)
    target.expect_request(f"/slack/T0WORLD/B0WORLD/{SLACK_SECRET}").respond_with_data("ok")
    target.expect_request("/hook").respond_with_data("ok")
    target.expect_request("/shopify/admin/api/2026-10/graphql.json").respond_with_data(
        '{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}', status=401
    )
    for webhook_id, topic in (("world-ok", "customers/data_request"), ("world-fails", "app/uninstalled")):
        body = webhook_body(id=webhook_id, note="world")
        headers = shopify_headers(
            body, topic=topic, webhook_id=webhook_id, shop="world.myshopify.com", HTTP_AUTHORIZATION=LEAKY_AUTHORIZATION
        )
        signatures.append(headers["HTTP_X_SHOPIFY_HMAC_SHA256"])
        assert (
            client.post("/webhooks/shopify", data=body, content_type="application/json", **headers).status_code == 200
        )
    run_queued_tasks()
    letter = DeadLetter.objects.get(event__webhook_id="world-fails")

    from shops import services as shop_services

    shop = shop_services.store_tokens(
        "world.myshopify.com",
        access_token=ACCESS_TOKEN,
        access_token_expires_at=timezone.now() + timedelta(hours=1),
        refresh_token=REFRESH_TOKEN,
        refresh_token_expires_at=timezone.now() + timedelta(days=90),
        scopes="read_products",
    ).shop
    shop_services.check_token(shop, sleep=lambda _s: None)
    synthetic = SyntheticRun.objects.create(
        requested_by=operator,
        base_url="http://127.0.0.1:9",
        topics=["app/uninstalled"],
        status=SyntheticRun.Status.DONE,
        finished_at=timezone.now(),
        ok=True,
        results=[{"topic": "app/uninstalled", "status_code": 200, "ok": True, "webhook_id": "synthetic-world"}],
    )

    operator_client = Client()
    assert operator_client.post("/login/", {"username": operator.username, "password": "pw-olivia"}).status_code == 302
    Client().post("/login/", {"username": operator.username, "password": WRONG_PASSWORD})
    assert operator_client.post(f"/deadletters/{letter.pk}/replay/").status_code in (200, 302)
    run_queued_tasks()
    letter.refresh_from_db()
    bulk = bulk_actions.start_bulk(BulkAction.Kind.REPLAY, actor=operator, ids=[letter.pk], inline=True)
    bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), inline=True, sleep=lambda _s: None)
    bulk.refresh_from_db()

    logs = json.dumps(
        [
            {"timestamp": "2026-11-26T10:00:00Z", "message": "webhook error: target answered 500", "host": "h1"},
            {"timestamp": "2026-11-26T10:00:01Z", "message": "GET /health 200", "fly": {"region": "fra"}},
        ]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {django_settings.LOG_INGEST_TOKEN}"}
    assert Client().post("/logs/ingest", data=logs, content_type="application/json", **auth).status_code == 200
    metrics = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {django_settings.METRICS_TOKEN}")
    assert metrics.status_code == 200

    for job in JOBS:  # probes, rollups, the daily report, alerting (fires on the dead letter) …
        run_job(job.key, trigger="test")
    alert = Alert.objects.get(rule_key="dead-letters-last-hour")
    assert Notification.objects.filter(alert=alert, ok=True).exists()

    schedule_key = JOBS[0].key
    world = SecretWorld(
        objects={DeadLetter: letter, BulkAction: bulk, Shop: shop, SyntheticRun: synthetic, Alert: alert},
        pk_owners=[
            ("deadletters/", DeadLetter),
            ("deadletters/bulk/", BulkAction),
            ("shops/", Shop),
            ("shops/synthetic/", SyntheticRun),
            ("alerts/", Alert),
        ],
        # The daily report job has just written the previous UTC day.
        values={
            "key": schedule_key,
            "day": (timezone.now().date() - timedelta(days=1)).isoformat(),
            "topic": "app/uninstalled",
            "doc": "runbook",  # /runbook/<doc>/ (docs/RUNBOOK.md)
            "name": "nightly-backup",  # /heartbeats/<name> (HEARTBEATS)
        },
        secrets={
            "SHOPIFY_API_SECRET": django_settings.SHOPIFY_API_SECRET,
            "SHOPIFY_API_SECRET_PREVIOUS": django_settings.SHOPIFY_API_SECRET_PREVIOUS,
            "LOG_INGEST_TOKEN": django_settings.LOG_INGEST_TOKEN,
            "METRICS_TOKEN": django_settings.METRICS_TOKEN,
            "HEARTBEAT_TOKEN": HEARTBEAT_TOKEN,
            "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
            "TOKEN_ENCRYPTION_KEY": django_settings.TOKEN_ENCRYPTION_KEY,
            "the shop's access token": ACCESS_TOKEN,
            "the shop's refresh token": REFRESH_TOKEN,
            "the operator's password": "pw-olivia",
            "a mistyped password": WRONG_PASSWORD,
            "the Slack webhook URL's secret path": SLACK_SECRET,
            "an Authorization header sent with a webhook": LEAKY_AUTHORIZATION.split()[1],
            "the re-signed HMAC of a forwarded webhook": signing.sign(
                WebhookEvent.objects.get(webhook_id="world-ok").body_bytes, django_settings.SHOPIFY_API_SECRET
            ),
            **{f"the HMAC of webhook {n}": signature for n, signature in enumerate(signatures)},
        },
    )
    return world
