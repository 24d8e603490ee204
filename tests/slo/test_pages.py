"""/slo/, /slo/daily/ and /slo/daily/<date>/: login, roles, ranges and what they show."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.slo import report as reports
from dashboard.slo.models import SloDailyReport
from tests.slo.conftest import MINUTE, rollup_rows

pytestmark = pytest.mark.django_db

PAGES = ["/slo/", "/slo/?range=7d", "/slo/daily/", "/slo/daily/2026-11-19/"]


@pytest.fixture
def some_traffic():
    """The last hour: 100 events a minute, 1 dead-lettered, answers in the 50–75 ms bucket."""
    end = timezone.now().replace(second=0, microsecond=0)
    rollup_rows(end - 60 * MINUTE, 60, received=100, dead_lettered=1, ingress_count=100, i06=96, i09=4)


@pytest.fixture
def a_report():
    return SloDailyReport.objects.create(
        date=date(2026, 11, 19),
        all_met=False,
        slos={
            "latency": {"name": "Webhook response time", "objective": 0.95, "target": "p95 < 100 ms", "value": 0.97,
                        "met": True, "good": 97, "bad": 3, "total": 100, "budget_consumed": 0.02, "burn_rate": 0.6,
                        "window_days": 28},
            "error_rate": {"name": "Error rate", "objective": 0.995, "target": "< 0.5 % errors", "value": 0.99,
                           "met": False, "good": 99, "bad": 1, "total": 100, "budget_consumed": 0.2, "burn_rate": 2.0,
                           "window_days": 28},
            "uptime": {"name": "Uptime", "objective": 0.999, "target": "> 99.9 %", "value": None, "met": None,
                       "good": 0, "bad": 0, "total": 0, "budget_consumed": None, "burn_rate": None, "window_days": 28},
        },
        received=100,
        delivered=99,
        dead_lettered=1,
        replayed=1,
        incidents=[{"probe": "app", "at": "2026-11-19T03:12:00+00:00", "until": "2026-11-19T03:20:00+00:00",
                    "detail": "HTTP 503"}],
        top_topics=[["orders/create", 1]],
        top_shops=[["a.myshopify.com", 1]],
    )  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_the_slo_pages_need_login(anonymous_client, path):
    response = anonymous_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_an_account_without_a_role_is_refused(roleless, path):
    client = Client()
    client.force_login(roleless)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/slo/", "/slo/daily/"])
def test_the_slo_pages_only_answer_get(viewer_client, path):
    assert viewer_client.post(path).status_code == 405


def test_a_viewer_sees_a_card_per_slo_with_value_target_budget_and_state(viewer_client, some_traffic):
    response = viewer_client.get("/slo/")
    assert response.status_code == 200
    content = response.content.decode()
    for key in ("latency", "error_rate", "uptime"):
        assert f'data-slo="{key}"' in content
    statuses = {status.key: status for status in response.context["statuses"]}
    assert statuses["error_rate"].sli == pytest.approx(0.99)
    # 1 % errors is a 2× burn over every window: a ticket, not a page.
    assert statuses["error_rate"].state == "ticket"
    assert "Firing: ticket: 1× over 3d and 6h" in content
    assert statuses["error_rate"].burn_rates["1h"] == pytest.approx(2.0)
    assert statuses["latency"].sli == pytest.approx(0.96)
    assert statuses["uptime"].sli is None
    assert 'id="slo-data"' in content and "js/slo.js" in content and "vendor/uplot/uPlot.iife.min.js" in content
    assert 'href="/slo/"' in content  # the top bar shows the section


@pytest.mark.parametrize(("query", "points"), [("", 288), ("?range=24h", 288), ("?range=7d", 336), ("?range=28d", 336)])
def test_each_range_has_its_own_resolution(viewer_client, query, points):
    response = viewer_client.get(f"/slo/{query}")
    assert response.status_code == 200
    charts = response.context["charts"]
    assert len(charts["x"]) in (points, points + 1)  # the window's start may fall inside a step
    assert len(charts["sli"]["latency"]) == len(charts["x"])
    assert len(charts["burn_down"]["x"]) == len(charts["burn_down"]["ideal"])


def test_an_unknown_range_is_explained_not_a_500(viewer_client):
    response = viewer_client.get("/slo/?range=1y")
    assert response.status_code == 200
    assert b"Unknown range" in response.content
    assert response.context["range_key"] == "24h"


def test_the_page_says_how_much_a_crash_can_lose(viewer_client, settings):
    settings.TELEMETRY_FLUSH_SECONDS = 5
    content = viewer_client.get("/slo/").content.decode()
    assert "flushed every 5 s; a crashed process loses at most" in content


def test_the_charts_have_a_table_view(viewer_client, some_traffic):
    content = viewer_client.get("/slo/").content.decode()
    assert "<details" in content and "The charts as tables" in content
    assert '<th scope="col" class="num">Ideal</th>' in content


def test_the_slo_page_reads_the_rollups_in_a_few_queries(viewer_client, some_traffic, django_assert_max_num_queries):
    # Session, user and groups, then: the window sums, the range's series and the burn-down series.
    with django_assert_max_num_queries(8):
        viewer_client.get("/slo/?range=28d")


def test_the_daily_table_shows_green_and_red_cells(viewer_client, a_report):
    response = viewer_client.get("/slo/daily/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="slo-cell slo-met" data-slo="latency"' in content
    assert 'class="slo-cell slo-missed" data-slo="error_rate"' in content
    assert 'class="slo-cell slo-nodata" data-slo="uptime"' in content
    assert 'href="/slo/daily/2026-11-19/"' in content


def test_the_daily_table_pages_by_date_and_survives_a_bad_one(viewer_client, monkeypatch):
    from dashboard.slo import views

    monkeypatch.setattr(views, "DAYS_PER_PAGE", 2)
    for offset in range(3):
        SloDailyReport.objects.create(date=date(2026, 11, 10) + timedelta(days=offset), slos={})
    first = viewer_client.get("/slo/daily/")
    assert [r.date.day for r in first.context["reports"]] == [12, 11]
    assert first.context["older"] == "2026-11-11"
    second = viewer_client.get("/slo/daily/", {"before": "2026-11-11"})
    assert [r.date.day for r in second.context["reports"]] == [10]
    bad = viewer_client.get("/slo/daily/", {"before": "yesterday"})
    assert bad.status_code == 200 and b"is not a date" in bad.content


def test_the_day_page_shows_every_part_of_the_summary(viewer_client, a_report):
    response = viewer_client.get("/slo/daily/2026-11-19/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "missed: Error rate" in content
    assert "97.000 %" in content and "no data" in content
    assert 'data-count="replayed">1<' in content
    assert "HTTP 503" in content and "2026-11-19T03:12" in content
    assert "orders/create" in content and "a.myshopify.com" in content


def test_a_day_without_a_report_or_a_bad_date_is_a_404(viewer_client):
    assert viewer_client.get("/slo/daily/2026-01-01/").status_code == 404
    assert viewer_client.get("/slo/daily/not-a-day/").status_code == 404


def test_the_day_page_of_a_real_report(viewer_client):
    report = reports.write_report(date(2026, 11, 18))
    assert viewer_client.get(f"/slo/daily/{report.date.isoformat()}/").status_code == 200
