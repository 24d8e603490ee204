"""Shops fixtures: an encryption key, a local server speaking Shopify's Admin API and OAuth."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Response

from timedify_ops.lib.retry import RetryBudget

TEST_KEY = Fernet.generate_key().decode()
GRAPHQL = "/admin/api/2026-10/graphql.json"
TOKEN_ENDPOINT = "/admin/oauth/access_token"


@pytest.fixture(autouse=True)
def token_settings(settings):
    settings.TOKEN_ENCRYPTION_KEY = TEST_KEY
    settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = ""
    settings.SHOPIFY_API_KEY = "test-client-id"
    settings.SHOPIFY_API_VERSION = "2026-10"
    settings.SHOPIFY_ADMIN_RETRY_BUDGET = RetryBudget(base_ms=5, retries=4, retry_after_cap_s=0.02)
    settings.TOKEN_REFRESH_MARGIN_S = 300
    return settings


@pytest.fixture(scope="session")
def shopify_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shopify(shopify_server, settings):
    """A real threaded HTTP server standing in for https://{shop}; the Admin base URL points at it.
    One per session (stopping a server takes half a second), cleared after each test."""
    shopify_server.clear()
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_server.url_for("").rstrip("/")
    yield shopify_server
    shopify_server.clear()


def json_response(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def refresh_answer(access="shpat_new", refresh="shprt_new", expires_in=3600, scope="read_products,write_products"):
    """The token endpoint's documented answer to the refresh-token grant."""
    return {
        "access_token": access,
        "expires_in": expires_in,
        "refresh_token": refresh,
        "refresh_token_expires_in": 7776000,
        "scope": scope,
    }


def shop_answer(name="Demo Shop"):
    return {
        "data": {"shop": {"name": name}},
        "extensions": {
            "cost": {
                "requestedQueryCost": 1,
                "actualQueryCost": 1,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999, "restoreRate": 100.0},
            }
        },
    }


def make_shop(domain="demo-shop.myshopify.com", *, token="shpat_old", expires_in_s=None, refresh="shprt_old", **extra):  # noqa: S107
    from shops import services

    now = timezone.now()
    stored = services.store_tokens(
        domain,
        access_token=token,
        access_token_expires_at=now + timedelta(seconds=expires_in_s) if expires_in_s is not None else None,
        refresh_token=refresh if expires_in_s is not None else None,
        refresh_token_expires_at=now + timedelta(days=90) if expires_in_s is not None else None,
        scopes="read_products",
    )
    if extra:
        type(stored.shop).objects.filter(pk=stored.shop.pk).update(**extra)
        stored.shop.refresh_from_db()
    return stored.shop
