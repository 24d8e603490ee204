"""The SLO settings stop start-up when they cannot give exact figures."""

import pytest

from tests.test_settings import PRODUCTION, check


def test_the_default_slos_start():
    result = check(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLO_LATENCY_OBJECTIVE", "95", "SLO_LATENCY_OBJECTIVE must be a fraction between 0 and 1"),
        ("SLO_UPTIME_OBJECTIVE", "1", "SLO_UPTIME_OBJECTIVE must be a fraction between 0 and 1"),
        ("SLO_WINDOW_DAYS", "0", "SLO_WINDOW_DAYS must be at least 1"),
        ("SLO_REPORT_SLACK_WEBHOOK_URL", "hooks.slack.com/x", "must be an absolute http/https URL"),
        ("SLO_REPORT_EMAIL_TO", "ops@example.com,ops", "SLO_REPORT_EMAIL_TO: 'ops' is not an e-mail address"),
    ],
)
def test_a_bad_slo_setting_stops_start_up_naming_it(name, value, message):
    result = check({**PRODUCTION, name: value})
    assert result.returncode == 2
    assert message in result.stderr


def test_another_bucket_edge_is_a_valid_threshold():
    result = check({**PRODUCTION, "SLO_LATENCY_THRESHOLD_MS": "250"})
    assert result.returncode == 0, result.stderr
