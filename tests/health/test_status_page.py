"""/status/: every probe's state, last check, latency, uptime, the chart data and the incidents."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.health import services
from tests.health.conftest import outcome, record

pytestmark = pytest.mark.django_db


def test_the_board_needs_login(anonymous_client):
    response = anonymous_client.get("/status/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_board_is_in_the_top_bar(viewer_client):
    assert 'href="/status/"' in viewer_client.get("/").content.decode()


def test_the_board_shows_every_probe_with_its_state_latency_and_uptime(viewer_client):
    now = timezone.now()
    record("app", "o" * 9 + "f", start=now - timedelta(minutes=9))
    services.record_results([outcome("database", "ok", 3.4, "postgresql answered")], at=now)
    response = viewer_client.get("/status/")
    assert response.status_code == 200
    content = response.content.decode()
    rows = {row.probe: row for row in response.context["board"].rows}
    assert list(rows)[:2] == ["app", "database"]
    assert rows["app"].state.status == "up"  # one failure is not down
    assert rows["app"].uptime["24h"].text == "90.000"
    assert rows["database"].state.last_latency_ms == 3.4
    assert '<tr data-probe="app">' in content
    assert 'data-window="24h" title="10 checks, 1 failed">90.000 %' in content
    assert "3.4 ms" in content and "postgresql answered" in content
    assert 'id="latency-chart"' in content
    assert "vendor/uplot/uPlot.iife.min.js" in content and "js/status.js" in content
    assert " style=" not in content and "<script>" not in content  # the content security policy


def test_the_chart_data_has_one_series_per_charted_probe_over_24_hours(viewer_client):
    now = timezone.now()
    services.record_results([outcome("app", "ok", 40.0), outcome("app-two", "ok")], at=now - timedelta(minutes=1))
    services.record_results([outcome("app", "ok", 60.0)], at=now)
    response = viewer_client.get("/status/")
    chart = response.context["board"].chart
    assert [s["name"] for s in chart["series"]] == ["app", "database"]
    assert len(chart["x"]) == 24 * 60 // chart["bucket_minutes"]
    app = [v for v in chart["series"][0]["values"] if v is not None]
    assert app in ([50.0], [40.0, 60.0])  # one bucket, or split across two
    embedded = response.content.decode().split('<script id="latency-data" type="application/json">')[1]
    assert json.loads(embedded.split("</script>")[0]) == chart


def test_the_board_lists_incidents_with_durations(viewer_client):
    start = timezone.now() - timedelta(hours=2)
    record("app", "offffo", start=start)
    content = viewer_client.get("/status/").content.decode()
    assert '<tr data-incident="app">' in content
    assert "<td>3 min</td>" in content


def test_an_ongoing_incident_says_so(viewer_client):
    record("database", "ff", start=timezone.now() - timedelta(minutes=1))
    content = viewer_client.get("/status/").content.decode()
    assert "ongoing" in content
    assert 'status-down" data-status>down<' in content


def test_the_board_warns_when_probes_stopped_running(viewer_client):
    content = viewer_client.get("/status/").content.decode()
    assert "No probe has run yet" in content
    record("app", "o", start=timezone.now() - timedelta(minutes=10))
    content = viewer_client.get("/status/").content.decode()
    assert "No probe has run since" in content
    record("app", "o", start=timezone.now())
    assert "No probe has run" not in viewer_client.get("/status/").content.decode()


def test_the_poll_gets_the_table_and_the_incidents_out_of_band_but_not_the_chart(viewer_client):
    response = viewer_client.get("/status/", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="board"' in content and 'id="latency-data"' in content
    assert '<section id="incidents" class="card" hx-swap-oob="true">' in content
    assert 'id="latency-chart"' not in content


def test_the_board_refuses_post(operator_client):
    assert operator_client.post("/status/").status_code == 405
