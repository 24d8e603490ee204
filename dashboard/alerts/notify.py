"""The one notifier: channels from settings, and one Notification row per send (never silent).

Called by the alerting engine after its writes are committed (in the worker, or by
`alerting_check --notify`), by the "send test notification" task, and by the daily SLO report
job (`daily_slo_report`, whose channels are SLO_REPORT_SLACK_WEBHOOK_URL and SLO_REPORT_EMAIL_TO).
Nothing here runs on a request: the button only enqueues `send_test_task`.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from dashboard.alerts.models import Alert, Notification
from dashboard.alerts.rules import get_rule
from dashboard.slo import report as slo_report
from dashboard.slo.models import SloDailyReport
from timedify_ops.lib import notifier
from timedify_ops.lib.notifier import Message, SendResult, Try
from timedify_ops.telemetry import measure

events_log = logging.getLogger("timedify_ops.events")


@dataclass(frozen=True)
class Channel:
    name: str  # a Notification.Channel value
    target: str  # shown on /alerts/: a host name or addresses, never a credential
    send: Callable[[Message], SendResult]


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def _post(url: str, payload_for: Callable[[Message], dict]) -> Callable[[Message], SendResult]:
    def send(message: Message) -> SendResult:
        return notifier.post_json(
            url,
            payload_for(message),
            budget=settings.ALERT_NOTIFY_RETRY_BUDGET,
            timeout_s=settings.ALERT_NOTIFY_TIMEOUT_S,
        )

    return send


def _email_try(message: Message, to: list[str]) -> Try:
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        EmailMessage(
            subject=message.subject,
            body=message.text(),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            connection=connection,
        ).send(fail_silently=False)
    except smtplib.SMTPResponseException as error:
        # 4xx is a temporary refusal; 5xx is permanent (bad address, refused sender …).
        return Try(
            ok=False, error=f"SMTP {error.smtp_code}: {error.smtp_error!r}"[:500], retryable=error.smtp_code < 500
        )
    except (smtplib.SMTPException, OSError) as error:
        return Try(ok=False, error=f"{type(error).__name__}: {error}"[:500], retryable=True)
    return Try(ok=True)


def slack(url: str) -> Channel:
    return Channel(Notification.Channel.SLACK, _host(url), _post(url, notifier.slack_payload))


def webhook(url: str) -> Channel:
    return Channel(Notification.Channel.WEBHOOK, _host(url), _post(url, notifier.webhook_payload))


def email(to: list[str]) -> Channel:
    def send(message: Message) -> SendResult:
        return notifier.send(lambda: _email_try(message, to), settings.ALERT_NOTIFY_RETRY_BUDGET)

    return Channel(Notification.Channel.EMAIL, ", ".join(to), send)


def channels() -> list[Channel]:
    """The alert channels configured in the environment, in a fixed order."""
    configured = []
    if settings.ALERT_SLACK_WEBHOOK_URL:
        configured.append(slack(settings.ALERT_SLACK_WEBHOOK_URL))
    if settings.ALERT_WEBHOOK_URL:
        configured.append(webhook(settings.ALERT_WEBHOOK_URL))
    if settings.ALERT_EMAIL_TO:
        configured.append(email(settings.ALERT_EMAIL_TO))
    return configured


def report_channels() -> list[Channel]:
    """Where the daily SLO report goes: SLO_REPORT_SLACK_WEBHOOK_URL and/or SLO_REPORT_EMAIL_TO."""
    configured = []
    if settings.SLO_REPORT_SLACK_WEBHOOK_URL:
        configured.append(slack(settings.SLO_REPORT_SLACK_WEBHOOK_URL))
    if settings.SLO_REPORT_EMAIL_TO:
        configured.append(email(settings.SLO_REPORT_EMAIL_TO))
    return configured


def console_url(path: str | None = None) -> str | None:
    """The console's page (default /alerts/) as an absolute link, when ALERT_CONSOLE_URL says where it lives."""
    if not settings.ALERT_CONSOLE_URL:
        return None
    return settings.ALERT_CONSOLE_URL.rstrip("/") + (path or reverse("alerts"))


def message_for(alert: Alert, event: str) -> Message:
    try:
        description = get_rule(alert.rule_key).description
    except KeyError:
        description = ""
    return Message(
        event=event,
        rule=alert.rule_key,
        title=alert.title,
        severity=alert.severity,
        category=alert.category,
        value=alert.value,
        threshold=alert.threshold,
        unit=alert.unit,
        detail=alert.detail or description,
        fired_at=alert.fired_at.isoformat(timespec="seconds"),
        resolved_at=alert.resolved_at.isoformat(timespec="seconds") if alert.resolved_at else None,
        acknowledged_by=alert.acknowledged_by.get_username() if alert.acknowledged_by_id else "",
        alert_id=alert.pk,
        url=console_url(),
    )


def _deliver(message: Message, to: list[Channel], *, alert: Alert | None, requested_by=None) -> list[Notification]:
    rows = []
    for channel in to:
        started = timezone.now()
        try:
            result = channel.send(message)
        except Exception as error:  # a channel's bug must not hide the other channels' sends
            result = SendResult(ok=False, attempts=1, error=f"{type(error).__name__}: {error}"[:500])
        rows.append(
            Notification.objects.create(
                alert=alert,
                channel=channel.name,
                event=message.event,
                created_at=started,
                ok=result.ok,
                status_code=result.status_code,
                error=result.error,
                attempts=result.attempts,
                duration_ms=round(result.duration_ms, 3),
                target=channel.target[:300],
                requested_by=requested_by,
            )
        )
        # Cumulative, for /metrics (the rows themselves go after RETENTION_NOTIFICATION_DAYS).
        measure.count("notifications_total", channel=channel.name, ok="1" if result.ok else "0")
        if not result.ok:
            events_log.error(
                "alert notification failed: channel=%s event=%s rule=%s attempts=%d error=%s",
                channel.name,
                message.event,
                message.rule,
                result.attempts,
                result.error,
            )
    return rows


def send_alert(alert: Alert, event: str) -> list[Notification]:
    """Notify every channel that `alert` fired, repeats or resolved."""
    return _deliver(message_for(alert, event), channels(), alert=alert)


def test_message(user=None) -> Message:
    who = user.get_username() if user is not None and getattr(user, "pk", None) else "an operator"
    return Message(
        event=Notification.Event.TEST,
        rule="test",
        title="Test notification from timedify-ops",
        severity="info",
        detail=f"Sent by {who} from the alerts page. If you can read this, the channel works.",
        fired_at=timezone.now().isoformat(timespec="seconds"),
        url=console_url(),
    )


def send_test(user=None) -> list[Notification]:
    return _deliver(
        test_message(user), channels(), alert=None, requested_by=user if user is not None and user.pk else None
    )


def send_test_task(user_pk: int | None = None) -> dict:
    """The django-q2 task behind the "send test notification" button."""
    user = get_user_model().objects.filter(pk=user_pk).first() if user_pk else None
    rows = send_test(user)
    return {"sent": sum(row.ok for row in rows), "failed": sum(not row.ok for row in rows)}


# --------------------------------------------------------------------------- the daily SLO report


def report_message(report: SloDailyReport) -> Message:
    missed = slo_report.missed_slos(report)
    verdict = f"missed: {', '.join(missed)}" if missed else "all met"
    path = reverse("slo_daily_detail", args=[report.date.isoformat()])
    return Message(
        event=Notification.Event.REPORT,
        rule="slo-daily-report",
        title=f"SLO report {report.date.isoformat()}: {verdict}",
        severity="info",
        detail=slo_report.format_report(report),
        url=console_url(path) or path,
        monospace=True,
    )


def send_report(report: SloDailyReport) -> list[Notification]:
    """The report to its channels, with the notifications' retry budget, one Notification row each."""
    return _deliver(report_message(report), report_channels(), alert=None)


def daily_slo_report(now: datetime | None = None) -> dict:
    """The "slo-daily-report" job: write the previous UTC day's report (dashboard.slo.report) and send it.

    The report is claimed for sending with a conditional UPDATE of `notified_at`, so a second run
    (or two at once) sends it once; when every channel failed the claim is let go, and the next
    run tries again.
    """
    report = slo_report.write_previous_day_report(now)
    sent, errors = [], []
    claimed = report_channels() and SloDailyReport.objects.claim_notification(report.pk, timezone.now())
    if claimed:
        rows = send_report(report)
        sent = [row.channel for row in rows if row.ok]
        errors = [f"{row.channel}: {row.error}" for row in rows if not row.ok]
        if not sent:
            SloDailyReport.objects.release_notification(report.pk)
    return daily_report_result(report, sent, errors)


def daily_report_result(report: SloDailyReport, sent: list[str], errors: list[str]) -> dict:
    """The daily report job's result, as its JobRun keeps it."""
    return {
        "date": report.date.isoformat(),
        "all_met": report.all_met,
        "missed": slo_report.missed_slos(report),
        "sent": sent,
        "errors": errors,
    }
