"""The demo's Shopify app (demo.receiver): webhooks, health, and the Admin API the token check uses."""

import json

import httpx
import pytest
from django.utils import timezone

from demo.receiver import Behaviour, DemoApp, Receiver
from shops import services
from shops.models import Shop
from timedify_ops.lib import signing

SECRET = "shpss_test_current_secret"


def webhook(url: str, body: bytes, signature: str) -> httpx.Response:
    headers = {
        "X-Shopify-Topic": "customers/redact",
        "X-Shopify-Shop-Domain": "alpine-roasters.myshopify.com",
        "X-Shopify-Webhook-Id": "wh-1",
        "X-Shopify-Hmac-Sha256": signature,
    }
    return httpx.post(f"{url}/webhooks", content=body, headers=headers)


def test_it_answers_a_correctly_signed_webhook_and_refuses_a_forged_one(demo_app):
    body = json.dumps({"shop_domain": "alpine-roasters.myshopify.com"}).encode()
    assert webhook(demo_app.url, body, signing.sign(body, SECRET)).status_code == 200
    assert webhook(demo_app.url, body, signing.sign(body, "another secret")).status_code == 401
    assert demo_app.app.webhook_ids == ["wh-1"]


def test_a_bad_spell_answers_503_and_the_health_endpoint_fails_in_a_blip():
    stormy = Behaviour(
        spell_every_s=0.001, spell_seconds=(60, 60), health_blip_every_s=0.001, health_blip_seconds=(60, 60)
    )
    receiver = Receiver(DemoApp(behaviour=stormy, seed=1), port=0).start()
    try:
        body = b"{}"
        assert webhook(receiver.url, body, signing.sign(body, SECRET)).status_code == 503
        assert httpx.get(f"{receiver.url}/health").status_code == 503
    finally:
        receiver.stop()


def test_its_health_endpoint_answers(demo_app):
    response = httpx.get(f"{demo_app.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_the_hourly_token_check_against_it_finds_the_revoked_token_and_refreshes_an_expiring_one(
    demo_app, token_key, settings
):
    settings.SHOPIFY_ADMIN_BASE_URL = f"{demo_app.url}/shopify/{{shop}}"
    settings.SHOPIFY_API_KEY = "demo-client-id"
    now = timezone.now()
    services.store_tokens("harbor-hound.myshopify.com", access_token="shpat_revoked")
    services.store_tokens(
        "lumen-lighting.myshopify.com",
        access_token="shpat_old",
        access_token_expires_at=now + timezone.timedelta(minutes=1),
        refresh_token="shprt_old",
        refresh_token_expires_at=now + timezone.timedelta(days=30),
    )

    assert services.check_tokens(budget_s=30) == {"checked": 2, "ok": 1, "failed": 1}

    revoked = Shop.objects.get(domain="harbor-hound.myshopify.com")
    assert revoked.token_state() == Shop.TokenState.INVALID
    refreshed = Shop.objects.get(domain="lumen-lighting.myshopify.com")
    assert refreshed.token_state() == Shop.TokenState.OK
    assert refreshed.access_token_expires_at > now + timezone.timedelta(minutes=30)
