"""Shopify webhook headers: both spellings, the unprefixed one wins.

Shopify sends `X-Shopify-Topic` and, newer, `Shopify-Topic`; the ingress reads
either. Header names here are the canonical suffixes.
"""

from __future__ import annotations

from collections.abc import Mapping

TOPIC = "Topic"
SHOP_DOMAIN = "Shop-Domain"
API_VERSION = "API-Version"
WEBHOOK_ID = "Webhook-Id"
EVENT_ID = "Event-Id"
TRIGGERED_AT = "Triggered-At"
HMAC = "Hmac-Sha256"

REDACTED = "[redacted]"
# Never stored or shown: signatures, credentials, cookies.
SECRET_HEADER_NAMES = frozenset(
    {
        "x-shopify-hmac-sha256",
        "shopify-hmac-sha256",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-shopify-access-token",
        "x-csrftoken",
    }
)


def header_from_meta(meta_key: str) -> str | None:
    """Django's META key (HTTP_X_SHOPIFY_TOPIC) back to a header name (X-Shopify-Topic)."""
    if meta_key.startswith("HTTP_"):
        name = meta_key[5:]
    elif meta_key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = meta_key
    else:
        return None
    return "-".join(part.capitalize() for part in name.split("_"))


def headers_from_meta(meta: Mapping[str, object]) -> dict[str, str]:
    headers = {}
    for key, value in meta.items():
        name = header_from_meta(key)
        if name is not None and isinstance(value, str):
            headers[name] = value
    return headers


class Lookup:
    """Case-insensitive access to Shopify's headers, lower-casing the names once (the ingress
    reads seven of them per request)."""

    def __init__(self, headers: Mapping[str, str]):
        self._lowered = {name.lower(): value for name, value in headers.items()}

    def get(self, suffix: str) -> str | None:
        """The value of `Shopify-<suffix>`, else `X-Shopify-<suffix>`: the unprefixed one wins."""
        for name in (f"shopify-{suffix}", f"x-shopify-{suffix}"):
            value = self._lowered.get(name.lower())
            if value is not None and value.strip():
                return value.strip()
        return None


def get(headers: Mapping[str, str], suffix: str) -> str | None:
    """One header of a mapping (see Lookup, for reading several)."""
    return Lookup(headers).get(suffix)


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: (REDACTED if name.lower() in SECRET_HEADER_NAMES else value) for name, value in headers.items()}


def shopify_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The Shopify headers of a stored event, minus the signature (forwarding re-signs)."""
    return {
        name: value
        for name, value in headers.items()
        if (name.lower().startswith("x-shopify-") or name.lower().startswith("shopify-"))
        and name.lower() not in SECRET_HEADER_NAMES
    }
