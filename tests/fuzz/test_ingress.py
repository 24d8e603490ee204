"""The ingress under random input: random headers (both spellings, missing, malformed), bodies in
any encoding and size, signed right, wrong or not at all.

Properties: never a 5xx; never a stored event without a valid HMAC; a 200 always has its event
stored byte for byte; an accepted event with any JSON body is delivered, never stuck.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client
from hypothesis import event as label
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_queued_tasks
from tests.fuzz.conftest import encoded_bodies, header_name, header_value, json_values
from timedify_ops.lib import signing
from timedify_ops.lib.topics import DEFAULT_TOPICS
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

SECRET = "shpss_test_current_secret"
PREVIOUS = "shpss_previous_secret"
MAX_BYTES = 2048  # WEBHOOK_MAX_BYTES in these tests, so some bodies are too large
SHOPIFY_FIELDS = ["Topic", "Shop-Domain", "Webhook-Id", "Event-Id", "Api-Version", "Triggered-At"]
TOPICS = list(DEFAULT_TOPICS)


def meta_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


@st.composite
def shopify_requests(draw):
    """(path, body, META headers, the HMAC sent or None)."""
    body = draw(encoded_bodies() | st.binary(min_size=MAX_BYTES - 8, max_size=MAX_BYTES + 8))
    headers = {}
    for field in SHOPIFY_FIELDS:
        valid = {
            "Topic": draw(st.sampled_from(TOPICS)),
            "Shop-Domain": "fuzz.myshopify.com",
            "Webhook-Id": f"fuzz-{draw(st.uuids())}",
            "Event-Id": str(draw(st.uuids())),
            "Api-Version": "2026-10",
            "Triggered-At": "2026-11-26T10:00:00.000Z",
        }[field]
        choice = draw(st.sampled_from(["valid", "valid", "valid", "missing", "random", "both"]))
        if choice in ("valid", "random"):
            prefix = draw(st.sampled_from(["X-Shopify-", "Shopify-"]))
            headers[meta_key(prefix + field)] = valid if choice == "valid" else draw(header_value)
        elif choice == "both":  # the unprefixed spelling wins
            headers[meta_key("Shopify-" + field)] = valid
            headers[meta_key("X-Shopify-" + field)] = draw(header_value)
    signature = draw(
        st.one_of(
            st.just(signing.sign(body, SECRET)),
            st.just(signing.sign(body, PREVIOUS)),
            st.just(signing.sign(body + b" ", SECRET)),  # signed, then the body changed
            st.just(signing.sign(body, "some-other-secret")),
            header_value,
            st.none(),
        )
    )
    if signature is not None:
        headers[meta_key(draw(st.sampled_from(["X-Shopify-", "Shopify-"])) + "Hmac-Sha256")] = signature
    for name, value in draw(st.dictionaries(header_name, header_value, max_size=4)).items():
        headers.setdefault(meta_key(name), value)
    headers["CONTENT_TYPE"] = draw(
        st.sampled_from(["application/json", "application/json; charset=utf-16", "text/plain", "", "x/y; q=\xff"])
    )
    if draw(st.booleans()):
        headers["HTTP_CONTENT_ENCODING"] = draw(st.sampled_from(["gzip", "identity", "br", "\xe9"]))
    path = draw(st.sampled_from(["/webhooks/shopify", "/webhooks/app/uninstalled", "/webhooks/shop/redact"]))
    if draw(st.integers(0, 9)) == 0:
        path = "/webhooks/" + draw(st.from_regex(r"\A[A-Za-z0-9_./%-]{1,60}\Z"))
    return path, body, headers, signature


@pytest.fixture
def fuzz_settings(settings):
    settings.WEBHOOK_MAX_BYTES = MAX_BYTES
    settings.SHOPIFY_API_SECRET = SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = PREVIOUS
    return settings


@settings(max_examples=150)
@given(request=shopify_requests())
def test_the_ingress_never_fails_and_stores_only_signed_events(request, fuzz_settings, empty_queue):
    path, body, headers, signature = request
    before = WebhookEvent.objects.count()
    response = Client().generic("POST", path, data=body, **headers)

    label(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.content
    assert response.status_code in {200, 400, 401, 404, 413}
    signed = signing.verify(body, signature, [SECRET, PREVIOUS])
    stored = WebhookEvent.objects.count() - before
    if not signed:
        assert stored == 0
        assert response.status_code in {401, 404, 413}
    if response.status_code == 200:
        assert signed and len(body) <= MAX_BYTES
        event = WebhookEvent.objects.get(webhook_id=response.json()["webhook_id"])
        assert event.body_bytes == body or response.json()["status"] == "duplicate"
        assert signature not in str(event.headers)
    else:
        assert stored == 0


@settings(max_examples=60)
@given(payload=json_values, topic=st.sampled_from(TOPICS), unprefixed=st.booleans())
def test_any_signed_json_is_accepted_and_delivered(payload, topic, unprefixed, target, fast_budget, empty_queue):
    """Valid HMAC, random JSON (any shape, not just Shopify's): the ingress takes it and the worker
    delivers it, side effects included, whatever the body holds."""
    target.clear()
    target.expect_request("/webhooks").respond_with_data("ok")
    body = json.dumps(payload).encode()
    prefix = "HTTP_SHOPIFY_" if unprefixed else "HTTP_X_SHOPIFY_"
    webhook_id = f"fuzz-json-{uuid.uuid4()}"
    headers = {
        f"{prefix}TOPIC": topic,
        f"{prefix}SHOP_DOMAIN": "fuzz-json.myshopify.com",
        f"{prefix}WEBHOOK_ID": webhook_id,
        f"{prefix}HMAC_SHA256": signing.sign(body, SECRET),
    }
    response = Client().post("/webhooks/shopify", data=body, content_type="application/json", **headers)
    assert response.status_code == 200
    run_queued_tasks()
    event = WebhookEvent.objects.get(webhook_id=webhook_id)
    assert event.status == WebhookEvent.Status.DELIVERED
    forwarded = target.log[-1][0]
    assert forwarded.get_data() == body
    signature = forwarded.headers.get("X-Shopify-Hmac-Sha256") or forwarded.headers.get("Shopify-Hmac-Sha256")
    assert signing.verify(body, signature, [SECRET])
