"""The status board in a real browser: the table, the uPlot chart, the htmx refresh, no JS errors."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.health import services
from dashboard.health.probes import Outcome
from tests.conftest import make_user
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# The policy issue 9 turns on: no inline script or style anywhere (uPlot styles through the DOM, which it allows).
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"


def with_strict_csp(route):
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


def record(probe: str, state: str, at, latency_ms: float = 20.0) -> None:
    services.record_results(
        [Outcome(probe=probe, state=state, latency_ms=latency_ms, detail=f"{probe} {state}")], at=at
    )


def test_a_viewer_watches_the_board_and_its_chart_update_without_a_reload(page, live_server, settings):
    settings.STATUS_POLL_SECONDS = 1
    now = timezone.now()
    for minute in range(30, 0, -1):
        record("app", "ok", now - timedelta(minutes=minute), latency_ms=20.0 + minute)
        record("database", "ok", now - timedelta(minutes=minute), latency_ms=1.5)
    make_user("victor", role="viewer")
    login(page, live_server, "victor")

    page.route("**/status/", with_strict_csp)
    page.goto(f"{live_server.url}/status/")
    app_status = page.locator('tr[data-probe="app"] [data-status]')
    assert app_status.inner_text() == "up"
    assert page.locator('tr[data-probe="app"] td[data-window="24h"]').inner_text() == "100.000 %"
    page.wait_for_selector("#latency-chart canvas")
    assert page.locator("#latency-chart .u-legend").inner_text().count("app") == 1

    # Two failed checks arrive: the poll flips the row to down, lists the incident, and the chart survives.
    record("app", "fail", timezone.now(), latency_ms=5000.0)
    record("app", "fail", timezone.now(), latency_ms=5000.0)
    # (expect, not wait_for_function: that evaluates a string, which the policy rightly refuses)
    expect(app_status).to_have_text("down", timeout=10000)
    page.wait_for_selector('#incidents tr[data-incident="app"]')
    assert page.locator("#latency-chart canvas").count() >= 1
    assert page.evaluate("typeof uPlot") == "function"
    assert page.errors == []


def test_an_operator_pauses_and_resumes_a_schedule(page, live_server):
    from timedify_ops.jobs.services import sync_schedules

    sync_schedules()
    make_user("olivia", role="operator")
    login(page, live_server, "olivia")
    page.goto(f"{live_server.url}/schedules/")
    row = page.locator('tr[data-job="sweep-stale-events"]')
    row.get_by_role("button", name="Pause").click()
    page.wait_for_selector("text=Paused sweep-stale-events")
    assert row.locator("[data-state]").inner_text() == "paused"
    row.get_by_role("button", name="Resume").click()
    page.wait_for_selector("text=Resumed sweep-stale-events")
    assert row.locator("[data-state]").inner_text() == "active"
    assert page.errors == []
