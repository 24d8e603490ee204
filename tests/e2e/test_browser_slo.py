"""The SLO pages in a real browser: charts drawn from real rollups, hover values, ranges, no JS errors."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.slo import report as reports
from dashboard.slo.models import SloMinute
from tests.conftest import make_user
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The policy issue 9 turns on: no inline script or style (uPlot styles through the DOM, which it allows).
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"


def with_strict_csp(route):
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


CHARTS = [
    "chart-sli-latency",
    "chart-sli-error_rate",
    "chart-sli-uptime",
    "chart-burn-down",
    "chart-traffic",
    "chart-latency",
]


@pytest.fixture
def two_days_of_rollups():
    """Two days of traffic: 60 events a minute, one dead letter every 10 minutes, an app probe check a minute."""
    end = timezone.now().replace(second=0, microsecond=0)
    rows = []
    for index in range(2 * 24 * 60, 0, -1):
        rows.append(
            SloMinute(
                minute=end - timedelta(minutes=index),
                received=60,
                delivered_first_try=58,
                delivered_after_retries=1,
                dead_lettered=1 if index % 10 == 0 else 0,
                ingress_count=60,
                i05=50,
                i06=7,
                i08=3,
                attempts=60,
                a04=60,
                probe_checks=1,
                probe_up=0 if index == 30 else 1,
            )
        )
    SloMinute.objects.bulk_create(rows, batch_size=1000)


def test_a_viewer_sees_every_chart_drawn_with_data_and_values_on_hover(page, live_server, two_days_of_rollups):
    make_user("victor", role="viewer")
    login(page, live_server, "victor")
    page.route("**/slo/**", with_strict_csp)
    page.goto(f"{live_server.url}/slo/")

    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-rendered=true] canvas")
    assert page.locator("[data-slo=error_rate] [data-figure=sli]").inner_text() == "99.833 %"

    # Hovering the traffic chart shows the values of the point under the cursor in its legend.
    plot = page.locator("#chart-traffic .u-over")
    box = plot.bounding_box()
    plot.hover(position={"x": box["width"] * 0.8, "y": box["height"] / 2})
    legend = page.locator("#chart-traffic .u-legend")
    # (expect, not wait_for_function: that evaluates a string, which the policy rightly refuses)
    expect(legend.locator(".u-series").nth(1).locator(".u-value")).to_have_text("300")
    assert "received" in legend.inner_text()

    # The table view carries the same numbers for screen readers.
    page.locator("details.chart-tables summary").click()
    assert page.locator("details.chart-tables table").first.is_visible()

    page.get_by_role("link", name="7d").click()
    page.wait_for_url("**/slo/?range=7d")
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-rendered=true] canvas")
    assert page.evaluate("typeof uPlot") == "function"
    assert page.errors == []


def test_the_daily_summary_shows_its_grid_and_a_day(page, live_server, two_days_of_rollups):
    yesterday = date.today() - timedelta(days=1)
    reports.write_report(yesterday)
    make_user("victor", role="viewer")
    login(page, live_server, "victor")
    page.route("**/slo/**", with_strict_csp)
    page.goto(f"{live_server.url}/slo/daily/")
    cell = page.locator("td[data-slo=error_rate]").first
    assert "met" in cell.inner_text() or "missed" in cell.inner_text()
    page.get_by_role("link", name=yesterday.strftime("%Y-%m-%d")).click()
    page.wait_for_selector("h1:has-text('SLO summary for')")
    assert page.errors == []
