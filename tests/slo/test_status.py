"""current_status(): windows summed from the rollups, burn rates, the rules and the guard."""

import json

import pytest

from dashboard.slo import services
from tests.slo.conftest import MINUTE, NOW, rollup_rows

pytestmark = pytest.mark.django_db


def error_rate_hour(bad_per_thousand: int) -> None:
    """Five clean hours of heavy traffic, then an hour of 1,000 events a minute with errors.

    The clean hours keep the 6 h (and 3 d) windows under their thresholds, so only the
    1 h / 5 m rule is under test.
    """
    rollup_rows(NOW - 360 * MINUTE, 300, received=3000)
    rollup_rows(NOW - 60 * MINUTE, 60, received=1000, dead_lettered=bad_per_thousand)


def test_it_pages_at_7_3_percent_errors_over_1h_and_5m_for_the_99_5_slo(settings):
    settings.SLO_ERROR_RATE_OBJECTIVE = 0.995
    error_rate_hour(73)
    status = services.current_status(NOW)["error_rate"]
    assert status.burn_rates["1h"] == pytest.approx(14.6)
    assert status.burn_rates["5m"] == pytest.approx(14.6)
    assert status.state == "page"
    assert status.fired == ["page: 14.4× over 1h and 5m"]


def test_it_does_not_page_at_7_1_percent(settings):
    settings.SLO_ERROR_RATE_OBJECTIVE = 0.995
    error_rate_hour(71)
    status = services.current_status(NOW)["error_rate"]
    assert status.burn_rates["1h"] == pytest.approx(14.2)
    assert status.burn_rates["6h"] < 6 and status.burn_rates["3d"] < 1
    assert status.state == "ok"
    assert status.fired == []


def test_ingress_5xx_count_as_errors_and_as_attempts_to_send(settings):
    rollup_rows(NOW - 60 * MINUTE, 60, received=900, ingress_5xx=100)  # 10 % refused with a 503
    status = services.current_status(NOW)["error_rate"]
    assert status.events == 60 * 1000
    assert status.sli == pytest.approx(0.9)
    assert status.state == "page"


def test_a_single_error_at_low_traffic_is_held_back_by_the_guard(settings):
    settings.SLO_MIN_EVENTS = 100
    rollup_rows(NOW - 3 * MINUTE, 2, received=1)
    rollup_rows(NOW - MINUTE, 1, received=1, dead_lettered=1)
    status = services.current_status(NOW)["error_rate"]
    assert status.burn_rates["5m"] == pytest.approx((1 / 3) / 0.005)  # 1 of 3 events
    assert status.state == "ok"
    assert "page: 14.4× over 1h and 5m" in status.held_back

    settings.SLO_MIN_EVENTS = 0
    assert services.current_status(NOW)["error_rate"].state == "page"


def test_the_latency_sli_counts_buckets_up_to_the_threshold(settings):
    settings.SLO_LATENCY_THRESHOLD_MS = 100
    # 100 answers a minute: 90 ≤ 75 ms (i06), 6 in (75, 100] (i07), 4 in (100, 150] (i08).
    rollup_rows(NOW - 1000 * MINUTE, 1000, ingress_count=100, i06=90, i07=6, i08=4)
    status = services.current_status(NOW)["latency"]
    assert status.sli == pytest.approx(0.96)
    assert status.budget_remaining == pytest.approx(1 - 0.04 / 0.05)
    assert status.state == "ok"

    settings.SLO_LATENCY_THRESHOLD_MS = 75  # another edge: the same rollups answer it
    assert services.current_status(NOW)["latency"].sli == pytest.approx(0.90)


def test_uptime_is_the_share_of_successful_probe_checks():
    rollup_rows(NOW - 5000 * MINUTE, 4999, probe_checks=1, probe_up=1)
    rollup_rows(NOW - MINUTE, 1, probe_checks=1, probe_up=0)
    status = services.current_status(NOW)["uptime"]
    assert status.sli == pytest.approx(0.9998)
    assert status.budget_remaining == pytest.approx(0.8)
    # One failed check: 1 in 60 over 1 h is a 16.7× burn, but 60 checks are under the guard;
    # 1 in 360 over 6 h is under 6×, and 1 in 4,320 over 3 days under 1×.
    assert status.state == "ok"
    assert status.held_back == ["page: 14.4× over 1h and 5m"]


def test_the_budget_covers_the_whole_window_and_nothing_older(settings):
    settings.SLO_WINDOW_DAYS = 28
    rollup_rows(NOW - 29 * 24 * 60 * MINUTE, 10, received=100, dead_lettered=100)  # before the window
    rollup_rows(NOW - 27 * 24 * 60 * MINUTE, 10, received=1000, dead_lettered=1)
    status = services.current_status(NOW)["error_rate"]
    assert (status.events, status.bad) == (10_000, 10)
    assert status.budget_remaining == pytest.approx(1 - 0.001 / 0.005)


def test_the_windows_end_at_the_start_of_the_current_minute():
    rollup_rows(NOW, 1, received=10, dead_lettered=10)  # the open minute (a test can write it)
    status = services.current_status(NOW + 30 * MINUTE / 60)["error_rate"]
    assert status.events == 0 and status.sli is None and status.state == "ok"
    assert status.as_of == NOW


def test_the_status_is_plain_data_for_the_alerting(django_assert_num_queries):
    rollup_rows(NOW - 10 * MINUTE, 10, received=5)
    with django_assert_num_queries(1):
        statuses = services.current_status(NOW)
    assert list(statuses) == ["latency", "error_rate", "uptime"]
    data = json.loads(json.dumps({key: status.as_dict() for key, status in statuses.items()}))
    assert data["error_rate"]["state"] == "ok"
    assert set(data["error_rate"]["burn_rates"]) == {"5m", "30m", "1h", "6h", "3d"}
    assert data["error_rate"]["budget_remaining"] == 1.0
    assert data["uptime"]["budget_remaining"] is None


def test_the_burn_down_starts_full_and_ends_at_the_budget_remaining(settings):
    settings.SLO_WINDOW_DAYS = 28
    rollup_rows(NOW - 20 * 24 * 60 * MINUTE, 60, received=100, dead_lettered=1)
    rollup_rows(NOW - 60 * MINUTE, 60, received=100)
    statuses = services.current_status(NOW)
    series = services.burn_down_series(NOW, statuses)
    remaining = series["remaining"]["error_rate"]
    assert remaining[0] == 1.0
    assert remaining[-1] == pytest.approx(statuses["error_rate"].budget_remaining)
    assert series["ideal"][0] == 1.0 and series["ideal"][-1] == 0.0
    assert series["x"][-1] == int(NOW.timestamp())
    assert remaining == sorted(remaining, reverse=True)  # spending only goes one way


def test_chart_points_group_minutes_into_steps():
    rollup_rows(NOW - 10 * MINUTE, 10, received=7, ingress_count=10, i03=10)
    series = services.chart_series("24h", NOW)
    assert len(series["x"]) == 288
    assert series["step_seconds"] == 300
    assert series["traffic"]["received"][-2:] == [35, 35]
    assert series["sli"]["latency"][-1] == 1.0
    assert series["sli"]["latency"][0] is None  # no answers: a gap, not 0 %
    assert 5 < series["latency"]["ingress_p95"][-1] <= 10  # the (5, 10] bucket
