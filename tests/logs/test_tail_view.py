"""GET /logs/: the page, its filters in the query string, and the htmx poll."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.logs.conftest import add_lines

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def poll_url(html: str) -> str:
    match = re.search(r'id="log-poller"[^>]*hx-get="([^"]+)"', html)
    assert match, "the page should carry a poller"
    return match.group(1).replace("&amp;", "&")


def test_the_tail_needs_login(anonymous_client):
    response = anonymous_client.get("/logs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_viewer_sees_the_latest_lines_coloured_in_utc(viewer_client):
    add_lines("Received APP/UNINSTALLED", "webhook error: 502 from target")
    response = viewer_client.get("/logs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Received APP/UNINSTALLED" in html
    assert 'class="log-line lvl-info topic-app"' in html
    assert 'class="log-line lvl-error"' in html
    assert 'hx-trigger="every 1.5s"' in html
    assert 'id="log-tail-config"' in html and "js/logs.js" in html
    assert "Logs" in html and 'aria-current="page">Logs' in html


def test_the_tail_page_answers_only_get(viewer_client):
    assert viewer_client.post("/logs/").status_code == 405


def test_filters_live_in_the_query_string_and_reach_the_poller(viewer_client):
    add_lines("alpha APP/UNINSTALLED", "beta", app="timedify", region="fra")
    html = viewer_client.get("/logs/?app=timedify&region=fra&level=info&text=alpha&regex=app/").content.decode()
    assert "alpha APP/UNINSTALLED" in html and ">beta<" not in html
    url = poll_url(html)
    for part in ("app=timedify", "region=fra", "level=info", "text=alpha", "regex=app%2F", "after=", "started="):
        assert part in url


def test_presets_are_links_that_keep_the_other_filters(viewer_client):
    html = viewer_client.get("/logs/?app=timedify").content.decode()
    assert 'href="/logs/?app=timedify&amp;preset=errors"' in html
    assert 'href="/logs/?app=timedify&amp;preset=topics"' in html
    assert "429/5xx as a status" in html  # the Errors preset says what an error line is


def test_an_invalid_regex_is_explained_on_the_page(viewer_client):
    add_lines("anything")
    response = viewer_client.get("/logs/?regex=(unclosed")
    html = response.content.decode()
    assert response.status_code == 200
    assert "is not valid: missing ), unterminated subpattern" in html
    assert 'id="log-poller"' not in html, "a filter that cannot run does not start the tail"
    assert 'value="(unclosed"' in html, "the pattern stays in the box to be fixed"


def test_the_poll_appends_new_lines_out_of_band_and_carries_the_cursor_forward(viewer_client):
    add_lines("earlier line")
    url = poll_url(viewer_client.get("/logs/").content.decode())
    new = add_lines("after one", "after two")
    response = viewer_client.get(url, **HTMX)
    html = response.content.decode()
    assert '<div hx-swap-oob="beforeend:#log-lines">' in html
    assert "after one" in html and "after two" in html and "earlier line" not in html
    next_url = poll_url(html)
    assert f"after={new[-1].id}" in next_url
    again = viewer_client.get(next_url, **HTMX).content.decode()
    assert "hx-swap-oob" not in again and poll_url(again) == next_url


def test_the_poll_applies_the_filters(viewer_client):
    url = poll_url(viewer_client.get("/logs/?preset=topics").content.decode())
    add_lines("GET /health 200", "SHOP/REDACT done")
    html = viewer_client.get(url, **HTMX).content.decode()
    assert "SHOP/REDACT done" in html and "GET /health" not in html
    assert "topic-shop" in html


def test_the_tail_stops_by_itself_and_offers_to_resume(viewer_client, settings):
    settings.LOG_TAIL_MAX_SECONDS = 900
    cursor = add_lines("seen")[-1].id
    started = int(time.time()) - 901
    add_lines("arrived while stopped")
    response = viewer_client.get(f"/logs/?app=timedify&after={cursor}&started={started}", **HTMX)
    html = response.content.decode()
    assert "stopped by itself after 15 minutes" in html
    assert "hx-trigger" not in html, "no more polling"
    resume = re.search(r'id="log-resume" href="([^"]+)" hx-get="([^"]+)"', html)
    assert resume.group(1) == "/logs/?app=timedify"
    resume_url = resume.group(2).replace("&amp;", "&")
    assert f"after={cursor}" in resume_url and "started" not in resume_url
    resumed = viewer_client.get(resume_url, **HTMX).content.decode()
    assert "arrived while stopped" in resumed, "resuming picks up where the tail stopped"
    assert 'hx-trigger="every' in resumed


def test_a_poll_with_a_broken_cursor_says_so(viewer_client):
    html = viewer_client.get("/logs/?after=banana", **HTMX).content.decode()
    assert "not a number" in html and "Reload" in html


def test_a_poll_with_an_invalid_filter_stops_with_the_reason(viewer_client):
    html = viewer_client.get("/logs/?after=0&regex=(x", **HTMX).content.decode()
    assert "is not valid" in html and "hx-trigger" not in html
    assert "Reload" in html and "log-resume" not in html


def test_lines_outside_the_window_are_not_in_the_opening_view(viewer_client):
    add_lines("ancient", when=timezone.now() - timedelta(hours=2))
    html = viewer_client.get("/logs/").content.decode()
    assert "ancient" not in html
    assert "No lines in the last 15 minutes" in html


def test_the_page_says_when_older_matching_lines_are_not_shown(viewer_client, settings):
    settings.LOG_TAIL_INITIAL_LINES = 2
    add_lines("a", "b", "c")
    html = viewer_client.get("/logs/").content.decode()
    assert ">a<" not in html and "Older matching lines" in html


def test_a_full_poll_answer_asks_for_the_rest_at_once(viewer_client, monkeypatch):
    monkeypatch.setattr("dashboard.logs.selectors.POLL_LIMIT", 2)
    cursor = add_lines("seen")[-1].id
    add_lines("one", "two", "three")
    html = viewer_client.get(f"/logs/?after={cursor}", **HTMX).content.decode()
    assert "one" in html and "two" in html and "three" not in html
    assert 'hx-trigger="load delay:100ms, every 1.5s"' in html
    rest = viewer_client.get(poll_url(html), **HTMX).content.decode()
    assert "three" in rest and 'hx-trigger="every 1.5s"' in rest
