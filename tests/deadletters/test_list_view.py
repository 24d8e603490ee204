"""/deadletters/: filters, keyset pages, cheap counts, and what viewers and operators see."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deadletters import filters, views
from deadletters.services import bulk as bulk_actions
from tests.deadletters.conftest import make_dead_letter

pytestmark = pytest.mark.django_db


def shown(response) -> list[int]:
    return [letter.pk for letter in response.context["page"].items]


def test_the_list_needs_login(anonymous_client):
    response = anonymous_client.get("/deadletters/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_shows_open_dead_letters_newest_first_with_their_facts(viewer_client):
    now = timezone.now()
    old = make_dead_letter(created_at=now - timedelta(hours=2), webhook_id="wh-old", attempts=5)
    new = make_dead_letter(
        created_at=now, topic="shop/redact", shop="b.myshopify.com", last_error="kaput", synthetic=True
    )
    make_dead_letter(status="replayed")
    response = viewer_client.get("/deadletters/")
    assert response.status_code == 200
    assert shown(response) == [new.pk, old.pk]
    html = response.content.decode()
    for text in (
        "wh-old",
        "shop/redact",
        "b.myshopify.com",
        "HTTP 500",
        "kaput",
        '<span class="badge">synthetic</span>',
    ):
        assert text in html
    assert '<td class="num">5</td>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["failed"]),
        ({"status": "any"}, ["open-5xx", "open-4xx", "open-net", "failed", "other-topic", "other-shop"]),
        ({"topic": "orders/create"}, ["other-topic"]),
        ({"shop": "B.myshopify.com"}, ["other-shop"]),
        ({"http": "4xx"}, ["open-4xx"]),
        ({"http": "network"}, ["open-net"]),
        ({"q": "GATEWAY"}, ["open-5xx"]),
        ({"http": "5xx"}, ["open-5xx", "other-topic", "other-shop"]),
        ({"webhook_id": "open-4xx"}, ["open-4xx"]),
    ],
)
def test_each_filter_narrows_the_list(viewer_client, query, expected):
    now = timezone.now()
    make_dead_letter(webhook_id="open-5xx", last_error="bad gateway", created_at=now - timedelta(minutes=1))
    make_dead_letter(webhook_id="open-4xx", last_status_code=422, created_at=now - timedelta(minutes=2))
    make_dead_letter(webhook_id="open-net", last_status_code=None, created_at=now - timedelta(minutes=3))
    make_dead_letter(webhook_id="failed", status="failed", created_at=now - timedelta(minutes=4))
    make_dead_letter(webhook_id="other-topic", topic="orders/create", created_at=now - timedelta(minutes=5))
    make_dead_letter(webhook_id="other-shop", shop="b.myshopify.com", created_at=now - timedelta(minutes=6))
    response = viewer_client.get("/deadletters/", query)
    assert [letter.event.webhook_id for letter in response.context["page"].items] == expected


def test_created_between_filters_by_time(viewer_client):
    make_dead_letter(webhook_id="monday", created_at=datetime(2026, 11, 23, 12, tzinfo=UTC))
    make_dead_letter(webhook_id="tuesday", created_at=datetime(2026, 11, 24, 12, tzinfo=UTC))
    make_dead_letter(webhook_id="wednesday", created_at=datetime(2026, 11, 25, 12, tzinfo=UTC))
    response = viewer_client.get("/deadletters/", {"created_after": "2026-11-24", "created_before": "2026-11-25 00:00"})
    assert [letter.event.webhook_id for letter in response.context["page"].items] == ["tuesday"]


def test_bad_filter_values_are_explained_not_fatal(viewer_client):
    make_dead_letter()
    response = viewer_client.get(
        "/deadletters/",
        {"status": "exploded", "created_after": "last tuesday", "http": "7xx", "after": "garbage"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Created after (UTC): Enter a valid date/time. (ignored)" in html
    assert "Status: Select a valid choice." in html
    assert "Last HTTP status: Select a valid choice." in html
    assert "cursor is malformed" in html
    assert len(shown(response)) == 1


def test_reversed_dates_are_explained(viewer_client):
    response = viewer_client.get("/deadletters/", {"created_after": "2026-11-25", "created_before": "2026-11-24"})
    assert "Created after is later than created before" in response.content.decode()


def test_pages_follow_a_keyset_cursor_and_keep_the_filter(viewer_client, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    now = timezone.now()
    letters = [make_dead_letter(topic="shop/redact", created_at=now - timedelta(minutes=n)) for n in range(5)]
    make_dead_letter(topic="app/uninstalled")
    first = viewer_client.get("/deadletters/", {"topic": "shop/redact"})
    assert shown(first) == [letters[0].pk, letters[1].pk]
    cursor = first.context["page"].next_cursor
    assert "?topic=shop%2Fredact&amp;after=" in first.content.decode()
    second = viewer_client.get("/deadletters/", {"topic": "shop/redact", "after": cursor})
    assert shown(second) == [letters[2].pk, letters[3].pk]
    third = viewer_client.get("/deadletters/", {"topic": "shop/redact", "after": second.context["page"].next_cursor})
    assert shown(third) == [letters[4].pk] and not third.context["page"].has_next


def test_the_list_page_never_counts_the_table(viewer_client):
    for _ in range(3):
        make_dead_letter()
    with CaptureQueriesContext(connection) as queries:
        response = viewer_client.get("/deadletters/", {"topic": "app/uninstalled"})
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert not [q["sql"] for q in queries if "OFFSET" in q["sql"].upper()]


def test_the_counts_arrive_separately_and_are_capped(viewer_client, monkeypatch, settings):
    settings.WEBHOOK_TOPICS = ["app/uninstalled", "shop/redact", "customers/redact"]
    for _ in range(3):
        make_dead_letter(topic="app/uninstalled")
    make_dead_letter(topic="shop/redact")
    page = viewer_client.get("/deadletters/").content.decode()
    assert 'hx-get="/deadletters/counts/?"' in page
    assert 'hx-trigger="load"' in page

    response = viewer_client.get("/deadletters/counts/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert '<strong data-count="matching">4</strong> dead letters match' in html
    assert "app/uninstalled · 3" in html and "shop/redact · 1" in html
    assert "customers/redact" not in html
    assert "<html" not in html

    monkeypatch.setattr(filters, "COUNT_CAP", 2)
    html = viewer_client.get("/deadletters/counts/").content.decode()
    assert "More than 2" in html and "app/uninstalled · 2+" in html


def test_an_operator_gets_checkboxes_and_buttons_a_viewer_does_not(operator_client, viewer_client):
    letter = make_dead_letter()
    operator_html = operator_client.get("/deadletters/").content.decode()
    assert f'action="/deadletters/{letter.pk}/replay/"' in operator_html
    assert f'action="/deadletters/{letter.pk}/delete/"' in operator_html
    assert 'name="ids"' in operator_html and "Replay selected" in operator_html
    assert "js/deadletters.js" in operator_html
    counts = operator_client.get("/deadletters/counts/").content.decode()
    assert "Replay all 1 matching" in counts and "Delete all 1 matching" in counts

    viewer_html = viewer_client.get("/deadletters/").content.decode()
    for text in ("/replay/", "/delete/", 'name="ids"', "Replay selected", "deadletters.js"):
        assert text not in viewer_html
    assert "Replay all" not in viewer_client.get("/deadletters/counts/").content.decode()


def test_the_row_endpoint_serves_one_row_and_polls_while_replaying(viewer_client):
    letter = make_dead_letter(status="replaying")
    html = viewer_client.get(f"/deadletters/{letter.pk}/row/").content.decode()
    assert html.strip().startswith(f'<tr id="dl-{letter.pk}"')
    assert 'hx-trigger="every 1s"' in html
    done = make_dead_letter(status="replayed")
    assert "hx-trigger" not in viewer_client.get(f"/deadletters/{done.pk}/row/").content.decode()
    assert viewer_client.get("/deadletters/999999/row/").content == b""


def test_rows_already_replaying_when_the_page_loads_do_not_poll(viewer_client):
    make_dead_letter(status="replaying")
    html = viewer_client.get("/deadletters/", {"status": "replaying"}).content.decode()
    assert 'data-status="replaying"' in html and "every 1s" not in html


def test_bulk_actions_in_progress_are_announced(viewer_client, operator):
    make_dead_letter()
    bulk = bulk_actions.start_bulk("replay", actor=operator, params={}, expected=1, inline=True)
    html = viewer_client.get("/deadletters/").content.decode()
    assert f'href="/deadletters/bulk/{bulk.pk}/"' in html
