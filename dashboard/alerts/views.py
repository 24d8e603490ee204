"""/alerts/: firing now, every rule's last evaluation, notifications (failures first), history."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard.alerts import engine, notify
from dashboard.alerts.models import Alert, Notification, RuleState
from dashboard.alerts.rules import RULES
from timedify_ops.audit.services import record_audit
from timedify_ops.http import text_filter
from timedify_ops.pagination import keyset_page_or_first
from timedify_ops.permissions import operator_required
from timedify_ops.queue import enqueue

HISTORY_PAGE_SIZE = 25
NOTIFICATIONS_SHOWN = 15
POLL_SECONDS = 30


def _rule_rows(open_alerts: dict[str, Alert]) -> list[dict]:
    stored = {state.key: state for state in RuleState.objects.all()}
    rows = []
    for rule in RULES:
        state = stored.get(rule.key)
        alert = open_alerts.get(rule.key)
        if state is None:
            status = "unknown"
        elif state.error:
            status = "error"
        elif alert is not None:
            status = alert.status
        elif state.breaching:
            status = "pending"
        else:
            status = "ok"
        rows.append({"rule": rule, "state": state, "status": status, "alert": alert})
    return rows


@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    errors = []
    firing = list(Alert.objects.filter(resolved_at__isnull=True).select_related("acknowledged_by"))
    open_by_key = {alert.rule_key: alert for alert in firing}
    context = {
        "firing": firing,
        "rules": _rule_rows(open_by_key),
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx:
        return render(request, "dashboard/alerts/alerts.html#now", context)

    history = Alert.objects.select_related("acknowledged_by")
    rule_key = text_filter(request.GET.get("rule", ""), "rule", errors)
    if rule_key:
        if rule_key in {rule.key for rule in RULES} or Alert.objects.filter(rule_key=rule_key).exists():
            history = history.filter(rule_key=rule_key)
        else:
            errors.append(f"There is no alert rule named “{rule_key}”; showing every rule.")
            rule_key = ""
    page = keyset_page_or_first(
        history, cursor=request.GET.get("after"), page_size=HISTORY_PAGE_SIZE, errors=errors, field="fired_at"
    )
    query = request.GET.copy()
    query.pop("after", None)
    context.update(
        {
            "errors": errors,
            "page": page,
            "rule_filter": rule_key,
            "rule_keys": [rule.key for rule in RULES],
            "base_query": query.urlencode(),
            "failed_notifications": list(
                Notification.objects.filter(ok=False)
                .select_related("alert")
                .order_by("-created_at")[:NOTIFICATIONS_SHOWN]
            ),
            "recent_notifications": list(
                Notification.objects.select_related("alert", "requested_by").order_by("-created_at", "-id")[
                    :NOTIFICATIONS_SHOWN
                ]
            ),
            "channels": notify.channels(),
        }
    )
    return render(request, "dashboard/alerts/alerts.html", context)


@require_POST
@operator_required
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    if engine.acknowledge(alert.pk, request.user):
        record_audit(
            request.user,
            "alert.acknowledge",
            target_type="alert",
            target_id=alert.pk,
            summary=f"acknowledged {alert.rule_key} (fired {alert.fired_at:%Y-%m-%d %H:%M} UTC)",
            details={"rule": alert.rule_key},
        )
        messages.success(request, f"Acknowledged “{alert.title}”: no more repeats while it fires.")
    elif alert.resolved_at is not None:
        messages.warning(request, f"“{alert.title}” has already resolved.")
    else:
        messages.warning(request, f"“{alert.title}” was already acknowledged.")
    return redirect("alerts")


@require_POST
@operator_required
def test_notification(request: HttpRequest) -> HttpResponse:
    configured = notify.channels()
    if not configured:
        messages.error(
            request,
            "No notification channel is configured: set ALERT_SLACK_WEBHOOK_URL, ALERT_WEBHOOK_URL or ALERT_EMAIL_TO.",
        )
        return redirect("alerts")
    # Sent by the worker, not on this request: a slow channel must not hold a web worker.
    enqueue("dashboard.alerts.notify.send_test_task", request.user.pk, group="alerts")
    names = ", ".join(channel.name for channel in configured)
    record_audit(
        request.user,
        "alert.test_notification",
        target_type="channels",
        target_id=names,
        count=len(configured),
        summary=f"test notification to {names}",
    )
    messages.success(request, f"Test notification queued for {names}; the result appears under Notifications.")
    return redirect("alerts")
