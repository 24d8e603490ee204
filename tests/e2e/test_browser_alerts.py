"""/alerts/ in a real browser: an operator acknowledges a firing alert; the live part refreshes by itself."""

import pytest
from django.utils import timezone

from dashboard.alerts.models import Alert
from tests.conftest import make_user
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fire(rule_key: str, title: str) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        rule_key=rule_key, title=title, category="pattern", pending_since=now, fired_at=now, value=31, threshold=25
    )


def test_an_operator_acknowledges_a_firing_alert(page, live_server, monkeypatch):
    from dashboard.alerts import views

    monkeypatch.setattr(views, "POLL_SECONDS", 1)
    make_user("olivia", role="operator")
    alert = fire("open-dead-letters", "Many open dead letters")
    login(page, live_server, "olivia")
    page.click("nav.sections >> text=Alerts")
    page.wait_for_url(f"{live_server.url}/alerts/")
    row = page.locator('#firing tr[data-rule="open-dead-letters"]')
    assert "Many open dead letters" in row.inner_text()
    row.locator("button", has_text="Acknowledge").click()
    page.wait_for_selector("text=no more repeats while it fires")
    assert "acknowledged" in page.locator('#firing tr[data-rule="open-dead-letters"]').inner_text()
    alert.refresh_from_db()
    assert alert.acknowledged_by.username == "olivia"

    # A new alert appears without a reload (the htmx poll of the live part).
    fire("probe-down", "A health probe is down")
    page.wait_for_selector('#firing tr[data-rule="probe-down"]', timeout=5000)
    assert page.errors == []
