"""/alerts/: firing now, rules, notifications, history; acknowledge and the test notification (operators)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dashboard.alerts import engine
from dashboard.alerts.models import Alert, Notification
from dashboard.alerts.rules import get_rule
from tests.alerts.conftest import T0, make_dead_letters, minutes
from tests.conftest import queued_tasks
from timedify_ops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def make_alert(rule_key="open-dead-letters", *, fired_at=None, resolved=False, **fields) -> Alert:
    fired_at = fired_at or timezone.now()
    return Alert.objects.create(
        rule_key=rule_key,
        title=fields.pop("title", "Many open dead letters"),
        category="pattern",
        pending_since=fired_at,
        fired_at=fired_at,
        resolved_at=fired_at + minutes(5) if resolved else None,
        value=fields.pop("value", 30),
        threshold=25,
        detail=fields.pop("detail", "30 open dead letters"),
        **fields,
    )


def test_it_needs_login(anonymous_client):
    response = anonymous_client.get("/alerts/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_quiet_system_says_so_and_lists_every_rule(viewer_client):
    response = viewer_client.get("/alerts/")
    assert response.status_code == 200
    assert b'id="quiet"' in response.content
    for key in ("probe-down", "open-dead-letters", "error-log-lines", "schedule-missed"):
        assert f'data-rule="{key}"'.encode() in response.content
    assert b"No channel is configured" in response.content
    assert b'href="/alerts/"' in response.content  # the top bar shows the section


def test_firing_alerts_and_rule_states_are_shown(viewer_client, settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0, "dead-letters-last-hour": 10}
    settings.ALERT_THRESHOLDS["dead-letters-last-hour"] = 0
    make_dead_letters(1)
    now = timezone.now()
    engine.alert_now(now, rules=[get_rule("open-dead-letters"), get_rule("dead-letters-last-hour")])
    response = viewer_client.get("/alerts/")
    rows = {row["rule"].key: row["status"] for row in response.context["rules"]}
    assert rows["open-dead-letters"] == "firing"
    assert rows["dead-letters-last-hour"] == "pending"
    assert rows["probe-down"] == "unknown"  # never evaluated
    assert [alert.rule_key for alert in response.context["firing"]] == ["open-dead-letters"]
    assert b">Acknowledge</button>" not in response.content  # viewers do not get the button


def test_the_poll_gets_only_the_live_part(viewer_client):
    make_alert()
    response = viewer_client.get("/alerts/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b'id="alerts-now"' in response.content
    assert b"<html" not in response.content and b"History" not in response.content


def test_history_pages_with_a_keyset_cursor_and_filters_by_rule(viewer_client):
    for index in range(30):
        make_alert(fired_at=T0 - minutes(index), resolved=True)
    make_alert("probe-down", title="A health probe is down", fired_at=T0 + minutes(1), resolved=True)
    first = viewer_client.get("/alerts/")
    assert len(first.context["page"].items) == 25
    second = viewer_client.get("/alerts/", {"after": first.context["page"].next_cursor})
    assert len(second.context["page"].items) == 6
    filtered = viewer_client.get("/alerts/", {"rule": "probe-down"})
    assert [alert.rule_key for alert in filtered.context["page"].items] == ["probe-down"]


@pytest.mark.parametrize(
    ("query", "message"), [({"after": "garbage"}, b"malformed"), ({"rule": "nope"}, b"no alert rule")]
)
def test_a_bad_filter_is_a_message_not_a_500(viewer_client, query, message):
    response = viewer_client.get("/alerts/", query)
    assert response.status_code == 200
    assert message in response.content


def test_failed_notifications_are_listed(viewer_client):
    alert = make_alert()
    Notification.objects.create(alert=alert, channel="slack", event="fire", ok=False, error="HTTP 404: no_service")
    Notification.objects.create(alert=alert, channel="webhook", event="fire", ok=True, status_code=200)
    response = viewer_client.get("/alerts/")
    assert [note.channel for note in response.context["failed_notifications"]] == ["slack"]
    assert b"HTTP 404: no_service" in response.content


# --------------------------------------------------------------------------- acknowledge


def test_acknowledge_refuses_get(operator_client):
    alert = make_alert()
    assert operator_client.get(f"/alerts/{alert.pk}/acknowledge/").status_code == 405


def test_acknowledge_is_for_operators(viewer_client):
    alert = make_alert()
    assert viewer_client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_operator_acknowledges_and_it_is_audited(operator_client, operator):
    alert = make_alert()
    response = operator_client.post(f"/alerts/{alert.pk}/acknowledge/", follow=True)
    assert response.redirect_chain[-1][0] == "/alerts/"
    alert.refresh_from_db()
    assert alert.acknowledged_by == operator and alert.acknowledged_at is not None
    assert alert.status == "acknowledged"
    entry = AuditEntry.objects.get(action="alert.acknowledge")
    assert (entry.actor, entry.target_type, entry.target_id) == (operator, "alert", str(alert.pk))
    assert b"Acknowledged" in response.content
    # A second click changes nothing and writes no second audit entry.
    response = operator_client.post(f"/alerts/{alert.pk}/acknowledge/", follow=True)
    assert b"already acknowledged" in response.content
    assert AuditEntry.objects.filter(action="alert.acknowledge").count() == 1


def test_a_resolved_alert_cannot_be_acknowledged(operator_client):
    alert = make_alert(resolved=True)
    response = operator_client.post(f"/alerts/{alert.pk}/acknowledge/", follow=True)
    assert b"already resolved" in response.content
    assert not AuditEntry.objects.exists()


def test_acknowledging_a_missing_alert_is_a_404(operator_client):
    assert operator_client.post("/alerts/999999/acknowledge/").status_code == 404


# --------------------------------------------------------------------------- test notification


def test_the_test_notification_refuses_get(operator_client):
    assert operator_client.get("/alerts/test-notification/").status_code == 405


def test_the_test_notification_is_for_operators(viewer_client, receiver, empty_queue):
    assert viewer_client.post("/alerts/test-notification/").status_code == 403
    assert queued_tasks() == []


def test_the_test_notification_is_queued_for_the_worker_and_audited(operator_client, operator, receiver, empty_queue):
    receiver.expect_request("/slack/T000/B000/sekrit-token").respond_with_data("ok")
    receiver.expect_request("/hook").respond_with_data("", status=500)
    response = operator_client.post("/alerts/test-notification/", follow=True)
    assert b"Test notification queued for slack, webhook" in response.content
    assert receiver.log == []  # nothing is sent on the request
    entry = AuditEntry.objects.get(action="alert.test_notification")
    assert (entry.actor, entry.count) == (operator, 2)
    (task,) = queued_tasks()
    assert task["func"] == "dashboard.alerts.notify.send_test_task"
    from django.utils.module_loading import import_string

    assert import_string(task["func"])(*task["args"]) == {"sent": 1, "failed": 1}
    page = operator_client.get("/alerts/")
    assert [(n.channel, n.ok) for n in page.context["failed_notifications"]] == [("webhook", False)]


def test_without_a_channel_the_test_notification_explains_and_queues_nothing(operator_client, empty_queue):
    response = operator_client.post("/alerts/test-notification/", follow=True)
    assert b"No notification channel is configured" in response.content
    assert queued_tasks() == []
    assert not AuditEntry.objects.exists()
