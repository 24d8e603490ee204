"""What app/uninstalled, app/scopes_update and shop/redact change inside timedify-ops, applied by
the delivery worker: idempotent, never for synthetic events, never blocking delivery."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from deadletters.models import DeadLetter
from shops import side_effects
from shops.models import Shop
from tests.conftest import post_webhook, run_queued_tasks
from tests.shops.conftest import make_shop
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = pytest.mark.django_db

DOMAIN = "demo-shop.myshopify.com"


def make_event(topic, payload, *, shop=DOMAIN, triggered_at=None, **fields):
    triggered_at = triggered_at or timezone.now()
    body = json.dumps(payload).encode()
    return WebhookEvent.objects.create(
        webhook_id=f"wh-{WebhookEvent.objects.count() + 1}-{topic}",
        topic=topic,
        shop_domain=shop,
        body=body,
        body_size=len(body),
        triggered_at=triggered_at,
        **fields,
    )


def test_app_uninstalled_marks_the_shop_and_wipes_its_tokens():
    shop = make_shop(expires_in_s=3600)
    event = make_event("app/uninstalled", {"id": 1, "myshopify_domain": DOMAIN})
    assert side_effects.apply_side_effects(event) == "marked uninstalled, tokens wiped"
    shop.refresh_from_db()
    assert not shop.installed and shop.uninstalled_at == event.triggered_at
    assert (shop.access_token_encrypted, shop.refresh_token_encrypted, shop.access_token_expires_at) == ("", "", None)
    assert shop.token_state() == Shop.TokenState.UNINSTALLED
    # A redelivery changes nothing more.
    assert side_effects.apply_side_effects(event) == "already uninstalled"


def test_an_uninstall_older_than_the_stored_token_is_ignored():
    make_shop()
    event = make_event("app/uninstalled", {}, triggered_at=timezone.now() - timedelta(days=1))
    assert side_effects.apply_side_effects(event).startswith("ignored")
    assert Shop.objects.get(domain=DOMAIN).installed


def test_an_uninstall_of_an_unknown_shop_is_recorded():
    side_effects.apply_side_effects(make_event("app/uninstalled", {}, shop="gone.myshopify.com"))
    assert not Shop.objects.get(domain="gone.myshopify.com").installed


def test_scopes_update_stores_the_current_scopes():
    shop = make_shop()
    event = make_event(
        "app/scopes_update", {"id": 1, "previous": ["read_products"], "current": ["read_products", "write_orders"]}
    )
    side_effects.apply_side_effects(event)
    shop.refresh_from_db()
    assert shop.scope_list() == ["read_products", "write_orders"]
    older = make_event(
        "app/scopes_update", {"current": ["read_products"]}, triggered_at=timezone.now() - timedelta(hours=1)
    )
    assert side_effects.apply_side_effects(older) == "ignored: newer scopes are stored"
    shop.refresh_from_db()
    assert shop.scopes == "read_products,write_orders"
    assert side_effects.apply_side_effects(make_event("app/scopes_update", {"current": "nope"})).startswith("ignored")


def test_shop_redact_erases_tokens_and_payloads_but_keeps_the_metadata():
    shop = make_shop(expires_in_s=3600)
    delivered = make_event(
        "customers/data_request", {"customer": {"email": "a@example.com"}}, status="delivered", attempts=1
    )
    DeliveryAttempt.objects.create(
        event=delivered,
        number=1,
        started_at=timezone.now(),
        duration_ms=3,
        status_code=200,
        response_excerpt="hi a@example.com",
    )
    dead = make_event("customers/redact", {"customer": {"email": "b@example.com"}}, status="dead_lettered")
    DeadLetter.objects.create(
        event=dead, reason="HTTP 500", topic=dead.topic, shop_domain=DOMAIN, last_error="echo b@example.com"
    )
    in_flight = make_event("orders/create", {"email": "c@example.com"}, status="delivering")
    other_shop = make_event(
        "customers/redact", {"customer": {"email": "d@example.com"}}, shop="other.myshopify.com", status="delivered"
    )
    redact = make_event("shop/redact", {"shop_id": 954889, "shop_domain": DOMAIN})

    summary = side_effects.apply_side_effects(redact)
    assert summary == "tokens wiped, 2 event payload(s) erased, 1 in flight left alone"

    shop.refresh_from_db()
    assert shop.redacted_at is not None and not shop.installed and not shop.has_token
    for event in (delivered, dead):
        size = event.body_size
        event.refresh_from_db()
        assert event.body_bytes == b"{}" and event.body_json() == {}
        assert event.body_size == size > 2  # the size as received stays, as metadata
    delivered.refresh_from_db()
    assert delivered.status == "delivered" and delivered.attempts == 1
    assert delivered.delivery_attempts.get().response_excerpt == ""
    assert DeadLetter.objects.get(event=dead).last_error == side_effects.ERASED_TEXT
    assert DeadLetter.objects.get(event=dead).reason == "HTTP 500"
    in_flight.refresh_from_db()
    other_shop.refresh_from_db()
    redact.refresh_from_db()
    assert b"c@example.com" in in_flight.body_bytes
    assert b"d@example.com" in other_shop.body_bytes
    assert b"954889" in redact.body_bytes  # the redact event itself goes to the app intact

    # Idempotent: a redelivery erases nothing more and breaks nothing.
    assert side_effects.apply_side_effects(redact) == "tokens wiped, 0 event payload(s) erased, 1 in flight left alone"


def test_synthetic_events_change_nothing(settings):
    shop = make_shop()
    assert side_effects.apply_side_effects(make_event("app/uninstalled", {}, synthetic=True)) == "skipped: synthetic"
    reserved = make_event("shop/redact", {}, shop=settings.SYNTHETIC_SHOP_DOMAIN)
    assert side_effects.apply_side_effects(reserved) == "skipped: synthetic"
    shop.refresh_from_db()
    assert shop.installed and shop.has_token


def test_topics_without_an_effect_are_left_alone():
    assert side_effects.apply_side_effects(make_event("orders/create", {})) is None


def test_the_worker_applies_the_effect_and_still_delivers(client, target, empty_queue):
    shop = make_shop()
    target.expect_request("/webhooks").respond_with_data("ok")
    body = json.dumps({"id": 1, "myshopify_domain": DOMAIN}).encode()
    triggered = (timezone.now() + timedelta(seconds=1)).isoformat()
    assert post_webhook(client, body, topic="app/uninstalled", HTTP_X_SHOPIFY_TRIGGERED_AT=triggered).status_code == 200
    assert run_queued_tasks() == ["delivered"]
    shop.refresh_from_db()
    assert not shop.installed and not shop.has_token
    assert target.log[0][0].get_data() == body


def test_a_failing_effect_is_logged_and_never_blocks_delivery(client, target, empty_queue, monkeypatch, caplog):
    def broken(event):
        raise RuntimeError("side effect exploded")

    monkeypatch.setitem(side_effects.HANDLERS, "app/uninstalled", broken)
    target.expect_request("/webhooks").respond_with_data("ok")
    post_webhook(client, topic="app/uninstalled")
    with caplog.at_level(logging.ERROR, logger="timedify_ops.events"):
        assert run_queued_tasks() == ["delivered"]
    assert "webhook side effect failed: topic=app/uninstalled" in caplog.text
    assert "side effect exploded" in caplog.text
