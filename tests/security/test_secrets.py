"""No secret in any stored header, table, log line, page or metric.

The world (tests/security/world.py) is made through the real paths with every secret in play:
signed webhooks (their HMACs, an Authorization header sent along), forwards re-signed with the
app secret, a previous secret during rotation, the log ingest and metrics tokens, a shop's
offline token pair encrypted with the Fernet key, an operator's password and a mistyped one.
Then every table, every log record (captured from every logger, and the log store's rows),
every page (as an operator and as a superuser in the admin, full and htmx) and /metrics are
searched for each secret.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.test import Client

from dashboard.logs.handler import store_handler
from tests.conftest import make_user
from tests.security.snapshot import database_text
from tests.security.urlsweep import admin_paths, project_routes
from tests.security.world import SecretWorld, build_world

pytestmark = pytest.mark.django_db


@dataclass
class Seen:
    world: SecretWorld
    logs: list[str]
    pages: dict[str, str]
    metrics: str


@pytest.fixture
def seen(caplog, settings, target, fast_budget, operator, empty_queue) -> Seen:
    caplog.set_level(logging.DEBUG)
    handler = store_handler()
    handler.discard_buffered()
    world = build_world(settings=settings, target=target, operator=operator)

    pages = {}
    client = Client()
    client.force_login(operator)
    for route in project_routes():
        if route.csrf_exempt or route.name in ("logout",):
            continue
        path = world.path(route)
        for label, headers in (("", {}), (" (htmx)", {"HTTP_HX_REQUEST": "true"})):
            response = client.get(path, **headers)
            pages[path + label] = response.content.decode("utf-8", errors="replace")
    admin = Client()
    admin.force_login(make_user("ada", role="operator", superuser=True))
    for _name, path in admin_paths(world):
        if not path.endswith("/logout/"):
            pages[path] = admin.get(path).content.decode("utf-8", errors="replace")

    metrics = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {django_settings.METRICS_TOKEN}")
    handler.write_buffered()  # timedify-ops' own events into the log store, as the thread would
    # Every record of every logger at the configured levels, the root lowered to DEBUG; not the
    # test's own HTTP servers (werkzeug), which stand in for Shopify, Slack and the app.
    logs = [handler.format(record) for record in caplog.records if not record.name.startswith("werkzeug")]
    return Seen(world=world, logs=logs, pages=pages, metrics=metrics.content.decode())


def found(secrets: dict[str, str], texts: dict[str, str]) -> list[str]:
    return [f"{what} in {where}" for what, secret in secrets.items() for where, text in texts.items() if secret in text]


def test_no_secret_is_in_any_table_log_line_page_or_metric(seen):
    """One test over one world: building it is most of the time."""
    tables = database_text()
    assert "webhooks.WebhookEvent" in tables and "logs.LogEntry" in tables
    assert len(seen.logs) > 10 and len(seen.pages) > 40 and "# HELP" in seen.metrics
    logs = {f"log record {n}": line for n, line in enumerate(seen.logs)}
    leaks = found(seen.world.secrets, {**tables, **logs, **seen.pages, "/metrics": seen.metrics})
    assert leaks == []
