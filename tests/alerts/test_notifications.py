"""Notifications on fire, repeat and resolve: payloads received by a real local HTTP server, email through
Django's locmem backend, failures recorded and shown, never silent."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from dashboard.alerts import engine, notify
from dashboard.alerts.models import Alert, Notification
from dashboard.alerts.rules import get_rule
from deadletters.models import DeadLetter
from tests.alerts.conftest import T0, make_dead_letters, minutes

pytestmark = pytest.mark.django_db

RULE = get_rule("open-dead-letters")


@pytest.fixture
def firing_soon(settings):
    """open-dead-letters with threshold 0 and no "for": one open dead letter fires it."""
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    settings.ALERT_CONSOLE_URL = "https://ops.example.com/"


def run(now):
    return engine.alert_now(now, rules=[RULE])


def received(server, path: str) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in server.log if request.path.startswith(path)]


def test_slack_and_the_webhook_receive_fire_and_resolve(receiver, firing_soon):
    receiver.expect_request("/slack/T000/B000/sekrit-token", method="POST").respond_with_data("ok")
    receiver.expect_request("/hook", method="POST").respond_with_json({"received": True})
    make_dead_letters(1)
    _, summary = run(T0)
    assert summary["fired"] == ["open-dead-letters"]
    DeadLetter.objects.update(status="replayed")
    _, summary = run(T0 + minutes(3))
    assert summary["resolved"] == ["open-dead-letters"]

    fire, resolve = received(receiver, "/slack")
    assert set(fire) == {"text"}
    assert fire["text"].startswith("[FIRING] Many open dead letters")
    assert "value 1 (threshold 0)" in fire["text"]
    assert "https://ops.example.com/alerts/" in fire["text"]
    assert resolve["text"].startswith("[RESOLVED] Many open dead letters")

    hook_fire, hook_resolve = received(receiver, "/hook")
    alert = Alert.objects.get()
    assert hook_fire["event"] == "fire" and hook_resolve["event"] == "resolve"
    assert hook_fire["alert"] == {
        "id": alert.pk,
        "rule": "open-dead-letters",
        "title": "Many open dead letters",
        "severity": "warning",
        "category": "pattern",
        "value": 1,
        "threshold": 0,
        "unit": "",
        "detail": "1 open dead letter",
        "fired_at": "2026-11-26T12:00:00+00:00",
        "resolved_at": None,
        "acknowledged_by": None,
    }
    assert hook_resolve["alert"]["resolved_at"] == "2026-11-26T12:03:00+00:00"
    assert hook_fire["url"] == "https://ops.example.com/alerts/"
    rows = Notification.objects.order_by("created_at", "channel")
    assert [(row.channel, row.event, row.ok, row.status_code) for row in rows] == [
        ("slack", "fire", True, 200),
        ("webhook", "fire", True, 200),
        ("slack", "resolve", True, 200),
        ("webhook", "resolve", True, 200),
    ]
    assert {row.target for row in rows} == {"127.0.0.1"}


def test_email_goes_through_djangos_mail_settings(settings, firing_soon, mailoutbox):
    settings.ALERT_EMAIL_TO = ["oncall@example.com", "ops@example.com"]
    settings.DEFAULT_FROM_EMAIL = "alerts@example.com"
    make_dead_letters(1)
    run(T0)
    DeadLetter.objects.update(status="replayed")
    run(T0 + minutes(1))
    assert [mail.subject for mail in mailoutbox] == [
        "[FIRING] Many open dead letters",
        "[RESOLVED] Many open dead letters",
    ]
    assert mailoutbox[0].to == ["oncall@example.com", "ops@example.com"]
    assert mailoutbox[0].from_email == "alerts@example.com"
    assert "1 open dead letter" in mailoutbox[0].body
    row = Notification.objects.filter(channel="email").first()
    assert row.ok and row.target == "oncall@example.com, ops@example.com"


def test_it_repeats_every_n_hours_while_firing_until_acknowledged(receiver, firing_soon, settings, operator):
    settings.ALERT_REPEAT_HOURS = 2
    settings.ALERT_SLACK_WEBHOOK_URL = None
    receiver.expect_request("/hook").respond_with_data("")
    make_dead_letters(1)
    run(T0)
    run(T0 + minutes(119))
    _, summary = run(T0 + minutes(120))
    assert summary["repeated"] == ["open-dead-letters"]
    run(T0 + minutes(121))
    assert [body["event"] for body in received(receiver, "/hook")] == ["fire", "repeat"]
    alert = Alert.objects.get()
    assert alert.repeats == 1
    assert engine.acknowledge(alert.pk, operator)
    run(T0 + minutes(240))
    assert [body["event"] for body in received(receiver, "/hook")] == ["fire", "repeat"]
    DeadLetter.objects.update(status="replayed")
    run(T0 + minutes(241))
    resolve = received(receiver, "/hook")[-1]
    assert resolve["event"] == "resolve"
    assert resolve["alert"]["acknowledged_by"] == "olivia"


def test_a_channel_that_refuses_connections_still_fires_the_alert_and_shows_the_failure(
    settings, firing_soon, refused_url, viewer_client
):
    settings.ALERT_WEBHOOK_URL = refused_url
    make_dead_letters(1)
    _, summary = run(T0)
    assert summary["fired"] == ["open-dead-letters"]
    assert summary["notifications"] == {"sent": 0, "failed": 1}
    assert Alert.objects.get().is_firing
    failure = Notification.objects.get()
    assert (failure.ok, failure.status_code, failure.event) == (False, None, "fire")
    assert failure.attempts == settings.ALERT_NOTIFY_RETRY_BUDGET.max_attempts
    assert "ConnectError" in failure.error
    page = viewer_client.get("/alerts/")
    assert b"Failed notifications" in page.content
    assert b"ConnectError" in page.content


def test_a_server_error_is_retried_within_the_budget(receiver, firing_soon, settings):
    settings.ALERT_SLACK_WEBHOOK_URL = None
    receiver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    receiver.expect_ordered_request("/hook").respond_with_data("ok")
    make_dead_letters(1)
    run(T0)
    row = Notification.objects.get()
    assert (row.ok, row.attempts, row.status_code) == (True, 2, 200)


def test_a_client_error_is_permanent_and_not_retried(receiver, firing_soon, settings):
    settings.ALERT_WEBHOOK_URL = None
    receiver.expect_request("/slack/T000/B000/sekrit-token").respond_with_response(
        Response("invalid_payload", status=400)
    )
    make_dead_letters(1)
    run(T0)
    row = Notification.objects.get()
    assert (row.ok, row.attempts, row.status_code) == (False, 1, 400)
    assert row.error == "HTTP 400: invalid_payload"


def test_the_slack_url_is_a_secret_never_stored(receiver, firing_soon, settings, viewer_client):
    settings.ALERT_SLACK_WEBHOOK_URL = settings.ALERT_SLACK_WEBHOOK_URL.replace(
        f"{receiver.port}", "1"
    )  # nothing listens on port 1: the error would quote the URL if anything did
    make_dead_letters(1)
    run(T0)
    row = Notification.objects.get(channel="slack")
    assert not row.ok
    assert "sekrit" not in row.error and "sekrit" not in row.target
    assert b"sekrit" not in viewer_client.get("/alerts/").content


def test_the_test_notification_reaches_every_channel(receiver, settings, operator, mailoutbox):
    settings.ALERT_EMAIL_TO = ["oncall@example.com"]
    receiver.expect_request("/slack/T000/B000/sekrit-token").respond_with_data("ok")
    receiver.expect_request("/hook").respond_with_data("")
    assert notify.send_test_task(operator.pk) == {"sent": 3, "failed": 0}
    assert received(receiver, "/slack")[0]["text"].startswith("[TEST] Test notification from timedify-ops")
    assert "Sent by olivia" in received(receiver, "/hook")[0]["text"]
    assert mailoutbox[0].subject == "[TEST] Test notification from timedify-ops"
    assert set(Notification.objects.values_list("event", "requested_by__username")) == {("test", "olivia")}


def test_without_channels_nothing_is_sent_and_nothing_breaks(firing_soon):
    make_dead_letters(1)
    _, summary = run(T0)
    assert summary["fired"] == ["open-dead-letters"]
    assert summary["notifications"] == {"sent": 0, "failed": 0}
    assert not Notification.objects.exists()
