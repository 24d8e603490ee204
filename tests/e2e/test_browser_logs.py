"""The live tail in a real browser: lines ingested through the real endpoint appear without a
reload; pause, the 1,000-line cap (made small here) and the automatic stop with Resume."""

import httpx
import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e.conftest import login
from tests.logs.conftest import fly_record

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ingest(live_server, *messages: str) -> None:
    response = httpx.post(
        f"{live_server.url}/logs/ingest",
        json=[fly_record(message) for message in messages],
        headers={"Authorization": f"Bearer {django_settings.LOG_INGEST_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["accepted"] == len(messages)


def open_tail(page, live_server, query: str = "") -> None:
    make_user("victor", role="viewer")
    login(page, live_server, "victor")
    page.goto(f"{live_server.url}/logs/{query}")
    page.wait_for_selector("#log-poller.live")


def lines(page) -> list[str]:
    return page.locator("#log-lines .log-line .msg").all_inner_texts()


def test_a_line_ingested_while_the_tail_is_open_appears_without_a_reload(page, live_server, settings):
    settings.LOG_TAIL_POLL_SECONDS = 0.5
    ingest(live_server, "already there before the page opened")
    open_tail(page, live_server, "?preset=topics")
    assert lines(page) == [], "the filter hides lines without a webhook topic"

    ingest(live_server, "GET /health 200", "Received webhook APP/UNINSTALLED shop=demo.myshopify.com")
    page.wait_for_selector("#log-lines .log-line.topic-app", timeout=10_000)
    assert lines(page) == ["Received webhook APP/UNINSTALLED shop=demo.myshopify.com"]
    assert page.locator("#log-lines .log-line .ts").first.inner_text().endswith(".123456789")

    page.click("#log-pause")
    assert page.locator("#log-paused").is_visible()
    ingest(live_server, "SHOP/REDACT while paused")
    page.wait_for_timeout(2_000)  # four poll intervals, all cancelled
    assert len(lines(page)) == 1
    page.click("#log-pause")
    page.wait_for_selector("#log-lines .log-line.topic-shop", timeout=10_000)
    assert lines(page)[-1] == "SHOP/REDACT while paused"
    assert page.errors == []


def test_the_page_keeps_only_the_newest_lines_and_says_how_many_it_dropped(page, live_server, settings, monkeypatch):
    settings.LOG_TAIL_POLL_SECONDS = 0.5
    monkeypatch.setattr("dashboard.logs.views.PAGE_MAX_LINES", 3)
    open_tail(page, live_server)
    ingest(live_server, *[f"line {n}" for n in range(5)])
    # expect(), not wait_for_function: the content security policy forbids eval.
    expect(page.locator("#log-lines .log-line")).to_have_count(3, timeout=10_000)
    expect(page.locator("#log-lines")).to_have_attribute("data-dropped", "2", timeout=10_000)
    assert lines(page) == ["line 2", "line 3", "line 4"]
    assert page.locator("#log-dropped").inner_text() == "2 older lines were dropped: the page keeps the newest 3."
    assert page.errors == []


def test_the_tail_stops_by_itself_and_resumes_where_it_stopped(page, live_server, settings):
    settings.LOG_TAIL_POLL_SECONDS = 0.5
    settings.LOG_TAIL_MAX_SECONDS = 2
    open_tail(page, live_server)
    page.wait_for_selector("#log-poller.stopped", timeout=15_000)
    assert "stopped by itself after 2 seconds" in page.locator("#log-poller").inner_text()
    ingest(live_server, "arrived after the stop")
    settings.LOG_TAIL_MAX_SECONDS = 900
    page.click("#log-resume")
    page.wait_for_selector("#log-poller.live", timeout=10_000)
    expect(page.locator("#log-lines .msg", has_text="arrived after the stop")).to_have_count(1, timeout=10_000)
    assert page.url.endswith("/logs/"), "no reload"
    assert page.errors == []
