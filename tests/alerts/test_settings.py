"""Alerting and retention settings: malformed values stop start-up, naming the variable."""

import pytest

from tests.test_settings import PRODUCTION, check


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ALERT_SLACK_WEBHOOK_URL", "hooks.slack.com/services/x", "ALERT_SLACK_WEBHOOK_URL must be an absolute"),
        ("ALERT_THRESHOLDS", "open-dead-letters=many", "ALERT_THRESHOLDS[open-dead-letters] must be a number"),
        ("ALERT_FOR_MINUTES", "probe-down", "ALERT_FOR_MINUTES must look like key=value"),
        ("RETENTION_EVENT_DAYS", "0", "RETENTION_EVENT_DAYS must be at least 1"),
        ("EMAIL_USE_SSL", "maybe", "EMAIL_USE_SSL must be one of"),
    ],
)
def test_a_malformed_alerting_setting_stops_start_up(name, value, message):
    result = check({**PRODUCTION, name: value})
    assert result.returncode == 2
    assert message in result.stderr


def test_channels_and_overrides_are_read():
    env = {
        **PRODUCTION,
        "ALERT_WEBHOOK_URL": "https://hooks.example.com/alerts",
        "ALERT_EMAIL_TO": "a@example.com, b@example.com",
        "ALERT_THRESHOLDS": "open-dead-letters=50,error-log-lines=5",
        "ALERT_FOR_MINUTES": "probe-down=3",
    }
    assert check(env).returncode == 0
