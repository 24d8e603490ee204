"""Synthetic Shopify webhooks: realistic payloads, signed like Shopify signs, sent and timed.

Django-free: `synthetic_webhook_test` and the dashboard's synthetic runs (shops.services) both
call `build_request` and `send`. A synthetic webhook is marked twice, so nobody mistakes it
for a merchant's: the header `X-Timedify-Synthetic: 1` and a reserved shop domain
(`timedify-synthetic.myshopify.com` by default) that no real shop can have.

The payloads follow the shapes of Shopify's documented example payloads for each topic; a
topic without a builder gets a small generic body.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from timedify_ops.lib import signing

SYNTHETIC_HEADER = "X-Timedify-Synthetic"
DEFAULT_SHOP = "timedify-synthetic.myshopify.com"
SHOP_ID = 690933842
PATH_STYLES = ("topic", "single")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _shop_resource(shop: str, now: datetime) -> dict:
    """The Shop resource, as app/uninstalled sends it."""
    return {
        "id": SHOP_ID,
        "name": "Timedify Synthetic",
        "email": "synthetic@example.com",
        "domain": shop,
        "province": "Ontario",
        "country": "CA",
        "address1": "150 Elgin Street",
        "zip": "K2P 1L4",
        "city": "Ottawa",
        "source": None,
        "phone": "+16135550100",
        "latitude": None,
        "longitude": None,
        "primary_locale": "en",
        "address2": None,
        "created_at": "2024-01-15T09:00:00-05:00",
        "updated_at": _iso(now),
        "country_code": "CA",
        "country_name": "Canada",
        "currency": "CAD",
        "customer_email": "synthetic@example.com",
        "timezone": "(GMT-05:00) Eastern Time (US & Canada)",
        "iana_timezone": "America/Toronto",
        "shop_owner": "Synthetic Owner",
        "money_format": "${{amount}}",
        "money_with_currency_format": "${{amount}} CAD",
        "weight_unit": "kg",
        "province_code": "ON",
        "taxes_included": False,
        "tax_shipping": None,
        "county_taxes": True,
        "plan_display_name": "Basic",
        "plan_name": "basic",
        "has_discounts": False,
        "has_gift_cards": False,
        "myshopify_domain": shop,
        "google_apps_domain": None,
        "google_apps_login_enabled": None,
        "money_in_emails_format": "${{amount}}",
        "money_with_currency_in_emails_format": "${{amount}} CAD",
        "eligible_for_payments": True,
        "requires_extra_payments_agreement": False,
        "password_enabled": False,
        "has_storefront": True,
        "finances": True,
        "primary_location_id": 905684977,
        "checkout_api_supported": True,
        "multi_location_enabled": True,
        "setup_required": False,
        "pre_launch_enabled": False,
        "enabled_presentment_currencies": ["CAD"],
        "transactional_sms_disabled": False,
        "marketing_sms_consent_enabled_at_checkout": False,
    }


def _customer() -> dict:
    return {"id": 207119551, "email": "synthetic.customer@example.com", "phone": "+16135550199"}


def payload_for(topic: str, shop: str = DEFAULT_SHOP, now: datetime | None = None) -> dict:
    """A realistic body for `topic`."""
    now = now or datetime.now(UTC)
    if topic == "app/uninstalled":
        return _shop_resource(shop, now)
    if topic == "app/scopes_update":
        return {
            "id": 1029266949,
            "previous": ["read_products"],
            "current": ["read_products", "write_products", "read_orders"],
            "updated_at": _iso(now),
            "shop_id": SHOP_ID,
        }
    if topic == "customers/data_request":
        return {
            "shop_id": SHOP_ID,
            "shop_domain": shop,
            "orders_requested": [299938, 280263, 220458],
            "customer": _customer(),
            "data_request": {"id": 9999},
        }
    if topic == "customers/redact":
        return {
            "shop_id": SHOP_ID,
            "shop_domain": shop,
            "customer": _customer(),
            "orders_to_redact": [299938, 280263, 220458],
        }
    if topic == "shop/redact":
        return {"shop_id": SHOP_ID, "shop_domain": shop}
    if topic == "app_subscriptions/update":
        return {
            "app_subscription": {
                "admin_graphql_api_id": "gid://shopify/AppSubscription/1029266950",
                "name": "Timedify Pro",
                "status": "ACTIVE",
                "admin_graphql_api_shop_id": f"gid://shopify/Shop/{SHOP_ID}",
                "created_at": "2024-01-15T09:05:00-05:00",
                "updated_at": _iso(now),
                "currency": "USD",
                "capped_amount": "100.0",
                "price": "19.00",
                "interval": "every_30_days",
                "plan_handle": "timedify-pro",
            }
        }
    return {"id": 1029266951, "shop_id": SHOP_ID, "shop_domain": shop, "updated_at": _iso(now)}


@dataclass(frozen=True)
class SyntheticRequest:
    topic: str
    url: str
    body: bytes
    headers: dict[str, str] = field(repr=False)
    webhook_id: str


def url_for(base_url: str, topic: str, path_style: str = "topic") -> str:
    """`BASE/webhooks/<topic>` (the Shopify app template's paths) or `BASE/webhooks/shopify`."""
    if path_style not in PATH_STYLES:
        raise ValueError(f"path style must be one of {', '.join(PATH_STYLES)} (got {path_style!r})")
    base = base_url.rstrip("/")
    return f"{base}/webhooks/{topic}" if path_style == "topic" else f"{base}/webhooks/shopify"


def build_request(
    topic: str, url: str, *, secret: str, shop: str = DEFAULT_SHOP, api_version: str = "2026-10", now=None
) -> SyntheticRequest:
    now = now or datetime.now(UTC)
    body = json.dumps(payload_for(topic, shop, now), separators=(",", ":")).encode()
    webhook_id = f"synthetic-{uuid.uuid4()}"
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "X-Shopify-Hmac-Sha256": signing.sign(body, secret),
        SYNTHETIC_HEADER: "1",
        "User-Agent": "timedify-ops/1 (synthetic webhook test)",
    }
    return SyntheticRequest(topic=topic, url=url, body=body, headers=headers, webhook_id=webhook_id)


@dataclass
class SyntheticResult:
    topic: str
    url: str
    status_code: int | None
    ms: float
    error: str = ""
    webhook_id: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code <= 299

    @property
    def outcome(self) -> str:
        if self.status_code is None:
            return self.error or "no answer"
        return str(self.status_code)

    def as_dict(self) -> dict:
        return {
            "topic": self.topic,
            "url": self.url,
            "status_code": self.status_code,
            "ms": round(self.ms, 1),
            "error": self.error,
            "webhook_id": self.webhook_id,
            "ok": self.ok,
        }


def send(requests: Iterable[SyntheticRequest], *, timeout_s: float = 5.0, http: httpx.Client | None = None):
    """POST each request once (no retries: a synthetic test measures what Shopify would see).

    A redirect counts as a failure, as it does for Shopify. Returns one SyntheticResult each.
    """
    client = http or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0)))
    results = []
    try:
        for request in requests:
            started = time.perf_counter()
            try:
                response = client.post(request.url, content=request.body, headers=request.headers)
                status, error = response.status_code, ""
                if not 200 <= status <= 299:
                    error = " ".join(response.text.split())[:200]
            except httpx.TimeoutException:
                status, error = None, f"timeout after {timeout_s:g} s"
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"[:200]
            results.append(
                SyntheticResult(
                    topic=request.topic,
                    url=request.url,
                    status_code=status,
                    ms=(time.perf_counter() - started) * 1000,
                    error=error,
                    webhook_id=request.webhook_id,
                )
            )
    finally:
        if http is None:
            client.close()
    return results


def format_table(results: list[SyntheticResult]) -> str:
    """topic · status · ms, aligned for a terminal."""
    rows = [("topic", "status", "ms")] + [(r.topic, r.outcome, f"{r.ms:.0f}") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}")
        if index == 0:
            lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}")
    return "\n".join(lines)
