"""Fault: the notification channels down (connection refused). Alerts still fire, and the failed
notifications are shown on /alerts/."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from dashboard.alerts.models import Alert, Notification
from deadletters.models import DeadLetter
from tests.live import free_port, gunicorn, wait_for
from tests.proof.conftest import killable_qcluster, post_all, proof_env, tail
from timedify_ops.jobs.models import JobRun

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]

SLACK_SECRET = "5ecretSlackPathOfTheProof"


def test_alerts_fire_and_show_their_failed_notifications_while_every_channel_refuses(fake_app, operator, tmp_path):
    """The app is down, so five webhooks dead-letter (a real cluster delivering them); both alert
    channels, Slack and the JSON webhook, point at a closed port. An operator presses "Run now"
    on the alerting job and the worker runs it, as the schedule would every minute."""
    refused = f"http://127.0.0.1:{free_port()}"
    fake_app.down()
    env = proof_env(
        fake_app,
        ALERT_SLACK_WEBHOOK_URL=f"{refused}/services/T0/B0/{SLACK_SECRET}",
        ALERT_WEBHOOK_URL=f"{refused}/hook",
        ALERT_THRESHOLDS="dead-letters-last-hour=2",
        ALERT_FOR_MINUTES="dead-letters-last-hour=0",
        ALERT_NOTIFY_RETRY_BASE_MS="10",
        ALERT_NOTIFY_RETRIES="2",
    )
    q_log = tmp_path / "q.log"
    operator_client = Client()
    operator_client.force_login(operator)

    with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base, killable_qcluster(env, q_log):
        run = uuid.uuid4().hex[:8]
        answers = post_all(base, [(f"channel-{run}-{n}", None) for n in range(5)], threads=5)
        assert {a.status for a in answers} == {200}
        wait_for(lambda: DeadLetter.objects.count() == 5, timeout=60, message=f"no dead letters:\n{tail(q_log)}")

        assert operator_client.post("/schedules/alerting/run").status_code in (200, 302)
        wait_for(
            lambda: Notification.objects.filter(ok=False).count() >= 2,
            timeout=60,
            interval=0.25,
            message=f"the alerting job did not notify:\n{tail(q_log)}",
        )

    alert = Alert.objects.get(rule_key="dead-letters-last-hour")
    assert alert.resolved_at is None and alert.value == 5  # fired, and still firing
    failures = Notification.objects.filter(alert=alert, event="fire")
    assert {n.channel for n in failures} == {"slack", "webhook"}
    assert all(not n.ok and n.status_code is None and n.attempts == 3 for n in failures)  # the retry budget, spent
    assert all("ConnectError" in n.error for n in failures)
    assert JobRun.objects.filter(key="alerting", trigger="manual", ok=True).exists()  # the job itself did not fail

    page = operator_client.get("/alerts/").content.decode()
    assert "Failed notifications" in page and "ConnectError" in page
    assert alert.title in page
    assert SLACK_SECRET not in page
    assert "alert notification failed" in q_log.read_text()  # logged by the worker …
    assert SLACK_SECRET not in q_log.read_text()  # … without the Slack URL's secret path
