"""Shared fixtures: personas, signed webhooks, a real local delivery target, the task queue."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from pytest_httpserver import HTTPServer

from timedify_ops.lib import signing
from timedify_ops.lib.retry import RetryBudget

# --------------------------------------------------------------------------- personas


def make_user(username: str, *, role: str | None, superuser: bool = False):
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(username=username, password="pw-" + username, email="")
    else:
        user = User.objects.create_user(username=username, password="pw-" + username)
    if role:
        # get_or_create: a transactional test (django_db(transaction=True)) flushes the tables after
        # itself, including the groups the roles migration created.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def operator(db):
    return make_user("olivia", role="operator")


@pytest.fixture
def viewer(db):
    return make_user("victor", role="viewer")


@pytest.fixture
def roleless(db):
    return make_user("nora", role=None)


@pytest.fixture
def operator_client(operator):
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def viewer_client(viewer):
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def anonymous_client():
    return Client()


# --------------------------------------------------------------------------- webhooks


def webhook_body(**fields) -> bytes:
    payload = {"id": 1234567890, "domain": "demo-shop.myshopify.com", **fields}
    return json.dumps(payload).encode()


def shopify_headers(
    body: bytes,
    *,
    topic: str = "app/uninstalled",
    shop: str = "demo-shop.myshopify.com",
    webhook_id: str | None = None,
    secret: str | None = None,
    unprefixed: bool = False,
    **extra: str,
) -> dict[str, str]:
    """Headers as Django's test client takes them (HTTP_… keys), signed like Shopify signs."""
    prefix = "HTTP_SHOPIFY_" if unprefixed else "HTTP_X_SHOPIFY_"
    headers = {
        f"{prefix}TOPIC": topic,
        f"{prefix}SHOP_DOMAIN": shop,
        f"{prefix}WEBHOOK_ID": webhook_id or str(uuid.uuid4()),
        f"{prefix}EVENT_ID": str(uuid.uuid4()),
        f"{prefix}API_VERSION": "2026-10",
        f"{prefix}TRIGGERED_AT": "2026-11-26T10:00:00.000Z",
        f"{prefix}HMAC_SHA256": signing.sign(body, secret or django_settings.SHOPIFY_API_SECRET),
    }
    headers.update(extra)
    return headers


def post_webhook(client: Client, body: bytes | None = None, path: str = "/webhooks/shopify", **header_options):
    body = webhook_body() if body is None else body
    headers = shopify_headers(body, **header_options)
    return client.post(path, data=body, content_type="application/json", **headers)


# --------------------------------------------------------------------------- delivery


@pytest.fixture
def target(settings):
    """A real HTTP server on localhost that receives forwarded webhooks."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    settings.WEBHOOK_TARGET_URL = server.url_for("/webhooks")
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def fast_budget(settings):
    """The real retry logic with 10 ms instead of 300 ms steps, for tests about outcomes, not spacing."""
    settings.DELIVERY_RETRY_BUDGET = RetryBudget(base_ms=10, retries=4, retry_after_cap_s=0.05)
    return settings.DELIVERY_RETRY_BUDGET


def queued_tasks() -> list[dict]:
    """The tasks waiting in the django-q2 broker (ORM or Redis), without running them."""
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    broker = get_broker()
    tasks = []
    # queue_size first: an empty dequeue blocks for the poll interval (ORM) or a second (Redis).
    while broker.queue_size() > 0:
        batch = broker.dequeue() or []
        for ack_id, payload in batch:
            tasks.append({"ack_id": ack_id, **SignedPackage.loads(payload)})
            broker.acknowledge(ack_id)
    return tasks


def run_queued_tasks() -> list:
    """Run every queued task in this process, as a worker would; returns their results."""
    from django.utils.module_loading import import_string

    results = []
    while True:
        tasks = queued_tasks()
        if not tasks:
            return results
        for task in tasks:
            func = task["func"]
            if isinstance(func, str):
                func = import_string(func)
            results.append(func(*task["args"], **task["kwargs"]))


@pytest.fixture
def empty_queue(db):
    from django_q.brokers import get_broker

    get_broker().purge_queue()
    yield
    get_broker().purge_queue()
