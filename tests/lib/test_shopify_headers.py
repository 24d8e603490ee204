from timedify_ops.lib import shopify_headers as sh


def test_the_unprefixed_spelling_wins():
    headers = {"X-Shopify-Topic": "orders/create", "Shopify-Topic": "app/uninstalled"}
    assert sh.get(headers, sh.TOPIC) == "app/uninstalled"


def test_it_falls_back_to_the_prefixed_spelling_and_ignores_case():
    assert sh.get({"x-shopify-webhook-id": "abc"}, sh.WEBHOOK_ID) == "abc"
    assert sh.get({"Shopify-Topic": "  "}, sh.TOPIC) is None


def test_it_turns_django_meta_back_into_header_names():
    meta = {"HTTP_X_SHOPIFY_HMAC_SHA256": "sig", "CONTENT_TYPE": "application/json", "wsgi.input": object()}
    assert sh.headers_from_meta(meta) == {"X-Shopify-Hmac-Sha256": "sig", "Content-Type": "application/json"}


def test_it_redacts_signatures_and_credentials():
    headers = {"X-Shopify-Hmac-Sha256": "sig", "Shopify-Hmac-Sha256": "sig", "Authorization": "Bearer x", "Cookie": "a"}
    assert set(sh.redact(headers).values()) == {sh.REDACTED}


def test_forwarded_headers_are_the_shopify_ones_without_the_signature():
    headers = {"X-Shopify-Topic": "a/b", "X-Shopify-Hmac-Sha256": "[redacted]", "User-Agent": "Shopify"}
    assert sh.shopify_headers(headers) == {"X-Shopify-Topic": "a/b"}
