"""The overview in a real browser: login, the counts, and the htmx refresh."""

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import login
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_viewer_logs_in_and_sees_new_events_counted_without_a_reload(page, live_server, settings):
    settings.OVERVIEW_POLL_SECONDS = 1
    make_user("victor", role="viewer")
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url  # anonymous users are sent to the login page
    login(page, live_server, "victor")

    received = page.locator('[data-count="received"]')
    assert received.inner_text() == "0"
    WebhookEvent.objects.create(webhook_id="browser-1", topic="shop/redact", shop_domain="b.myshopify.com", body=b"{}")
    expect(received).to_have_text("1", timeout=5000)
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.errors == []


def test_the_login_and_overview_pages_raise_no_csp_violations(page, live_server):
    make_user("olivia", role="operator")
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    login(page, live_server, "olivia")
    page.goto(f"{live_server.url}/audit/")
    assert violations == []
    assert page.errors == []
