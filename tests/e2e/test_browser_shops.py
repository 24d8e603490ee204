"""Shops in a real browser: the token table, and synthetic webhooks sent from the dashboard whose
results appear without a reload once the worker has sent them."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.conftest import make_user, run_queued_tasks
from tests.e2e.conftest import login
from tests.shops.conftest import TEST_KEY, make_shop

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.queue, pytest.mark.django_db(transaction=True)]


def test_an_operator_sends_synthetic_webhooks_and_watches_the_results_arrive(
    page, live_server, settings, httpserver, empty_queue
):
    settings.TOKEN_ENCRYPTION_KEY = TEST_KEY
    make_shop("fine.myshopify.com")
    make_shop("broken.myshopify.com", token_invalid_at=timezone.now(), token_error="401 Unauthorized")
    settings.SYNTHETIC_INGRESS_URL = httpserver.url_for("/")
    httpserver.expect_request("/webhooks/shop/redact").respond_with_data("nope", status=500)
    httpserver.expect_request("/webhooks/app/uninstalled").respond_with_data("ok")
    Group.objects.get_or_create(name="operator")  # an earlier transactional test may have flushed the roles
    make_user("olivia", role="operator")
    login(page, live_server, "olivia")

    page.click("nav.sections >> text=Shops")
    assert page.locator('[data-shop="broken.myshopify.com"] [data-token-state]').inner_text() == "invalid"
    page.click("nav.tabs >> text=Synthetic webhooks")
    for box in page.locator('input[name="topics"]').all():
        if box.get_attribute("value") not in ("app/uninstalled", "shop/redact"):
            box.uncheck()
    page.click("text=Send synthetic webhooks")
    page.wait_for_selector('.synthetic-run[data-status="pending"]')

    assert run_queued_tasks() == ["failed: shop/redact"]  # the worker's half, in this process

    page.wait_for_selector('.synthetic-run[data-status="done"] tr[data-topic="shop/redact"]', timeout=5000)
    assert "1 failed" in page.locator(".synthetic-run").first.inner_text()
    assert page.errors == []
