"""Synthetic webhooks: realistic payloads for the six default topics, signed and marked, sent once each."""

import json

import pytest
from werkzeug import Response

from timedify_ops.lib import signing, synthetic
from timedify_ops.lib.topics import DEFAULT_TOPICS


@pytest.mark.parametrize("topic", DEFAULT_TOPICS)
def test_each_default_topic_gets_a_signed_synthetic_request_with_its_documented_shape(topic):
    request = synthetic.build_request(topic, "http://ops.test/webhooks/x", secret="shpss_s", shop="syn.myshopify.com")
    payload = json.loads(request.body)
    expected_keys = {
        "app/uninstalled": {"id", "name", "domain", "myshopify_domain", "plan_name"},
        "app/scopes_update": {"id", "previous", "current", "updated_at"},
        "customers/data_request": {"shop_id", "shop_domain", "orders_requested", "customer", "data_request"},
        "customers/redact": {"shop_id", "shop_domain", "customer", "orders_to_redact"},
        "shop/redact": {"shop_id", "shop_domain"},
        "app_subscriptions/update": {"app_subscription"},
    }[topic]
    assert expected_keys <= set(payload)
    assert signing.verify(request.body, request.headers["X-Shopify-Hmac-Sha256"], ["shpss_s"])
    assert request.headers["X-Shopify-Topic"] == topic
    assert request.headers["X-Shopify-Shop-Domain"] == "syn.myshopify.com"
    assert request.headers["X-Timedify-Synthetic"] == "1"
    assert request.headers["X-Shopify-Webhook-Id"].startswith("synthetic-")


def test_an_unknown_topic_gets_a_small_generic_body():
    assert json.loads(synthetic.build_request("orders/create", "http://x", secret="s").body)["shop_domain"]


def test_paths_follow_the_app_template_or_the_single_endpoint():
    assert synthetic.url_for("https://ops.test/", "app/uninstalled") == "https://ops.test/webhooks/app/uninstalled"
    assert synthetic.url_for("https://ops.test", "shop/redact", "single") == "https://ops.test/webhooks/shopify"
    with pytest.raises(ValueError):
        synthetic.url_for("https://ops.test", "shop/redact", "nested")


def test_send_reports_each_answer_and_a_table(httpserver):
    httpserver.expect_request("/webhooks/shop/redact").respond_with_response(Response("nope", status=500))
    httpserver.expect_request("/webhooks/app/uninstalled").respond_with_data("ok")
    requests = [
        synthetic.build_request(topic, synthetic.url_for(httpserver.url_for("/"), topic), secret="s")
        for topic in ("app/uninstalled", "shop/redact")
    ]
    results = synthetic.send(requests, timeout_s=2)
    assert [(r.topic, r.status_code, r.ok) for r in results] == [
        ("app/uninstalled", 200, True),
        ("shop/redact", 500, False),
    ]
    assert results[1].error == "nope"
    table = synthetic.format_table(results).splitlines()
    assert table[0].split() == ["topic", "status", "ms"]
    assert table[3].split()[:2] == ["shop/redact", "500"]
