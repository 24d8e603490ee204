"""Sending the daily SLO report: a Slack incoming webhook and/or e-mail.

Deliberately small and on its own: issue 7's general notifier can replace `send_report`
(the daily job is its only caller) without touching the report itself.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from dashboard.slo.models import SloDailyReport

events_log = logging.getLogger("timedify_ops.events")

TIMEOUT_S = 10


def configured() -> bool:
    return bool(settings.SLO_REPORT_SLACK_WEBHOOK_URL or settings.SLO_REPORT_EMAIL_TO)


def _subject(report: SloDailyReport) -> str:
    from dashboard.slo.report import missed_slos

    missed = missed_slos(report)
    verdict = f"missed: {', '.join(missed)}" if missed else "all met"
    return f"SLO report {report.date.isoformat()}: {verdict}"


def send_report(report: SloDailyReport) -> tuple[list[str], list[str]]:
    """Send to every configured channel; returns (channels sent, errors). Never raises."""
    from dashboard.slo.report import format_report

    text = format_report(report)
    path = reverse("slo_daily_detail", args=[report.date.isoformat()])
    sent, errors = [], []
    if settings.SLO_REPORT_SLACK_WEBHOOK_URL:
        try:
            # Slack's incoming webhooks take {"text": …} and answer 200 "ok".
            response = httpx.post(
                settings.SLO_REPORT_SLACK_WEBHOOK_URL,
                json={"text": f"*{_subject(report)}*\n```{text}```\n(details: {path})"},
                timeout=TIMEOUT_S,
            )
            response.raise_for_status()
            sent.append("slack")
        except httpx.HTTPError as error:
            # The URL holds Slack's secret: name the failure, never the URL.
            errors.append(f"slack: {type(error).__name__}")
    if settings.SLO_REPORT_EMAIL_TO:
        try:
            send_mail(_subject(report), f"{text}\n\nDetails: {path}\n", None, settings.SLO_REPORT_EMAIL_TO)
            sent.append("email")
        except Exception as error:  # SMTP errors come in many classes; the job must still finish
            errors.append(f"email: {type(error).__name__}: {error}")
    for error in errors:
        events_log.error("SLO report %s could not be sent: %s", report.date.isoformat(), error)
    return sent, errors
