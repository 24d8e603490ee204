"""Sending notifications (alerts, tests, the daily SLO report): message text, channel payloads,
and tries within a retry budget.

Django-free (dashboard.alerts.notify is the consumer: it picks the channels from settings
and records every send as a Notification row).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from timedify_ops.lib.retry import RetryBudget, is_retryable_status, parse_retry_after

EVENT_WORDS = {"fire": "FIRING", "repeat": "STILL FIRING", "resolve": "RESOLVED", "test": "TEST", "report": "REPORT"}


@dataclass(frozen=True)
class Message:
    """One notification, whatever the channel."""

    event: str  # fire | repeat | resolve | test | report
    rule: str
    title: str
    severity: str = "warning"
    category: str = ""
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    detail: str = ""
    fired_at: str | None = None  # ISO 8601
    resolved_at: str | None = None
    acknowledged_by: str = ""
    alert_id: int | None = None
    url: str | None = None
    # The detail is a table meant for a fixed-width font (the SLO report): Slack shows it as code.
    monospace: bool = False

    @property
    def subject(self) -> str:
        return f"[{EVENT_WORDS.get(self.event, self.event.upper())}] {self.title}"

    def text(self) -> str:
        """Plain text: the Slack message, the email body, the generic webhook's `text`."""
        lines = [self.subject]
        if self.value is not None:
            figure = f"value {format_number(self.value)}{self.unit}"
            if self.threshold is not None:
                figure += f" (threshold {format_number(self.threshold)}{self.unit})"
            lines.append(figure)
        if self.detail:
            lines.append(self.detail)
        if self.fired_at:
            lines.append(
                f"fired at {self.fired_at}" + (f", resolved at {self.resolved_at}" if self.resolved_at else "")
            )
        if self.acknowledged_by:
            lines.append(f"acknowledged by {self.acknowledged_by}")
        if self.url:
            lines.append(self.url)
        return "\n".join(lines)


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def slack_payload(message: Message) -> dict:
    """A Slack incoming webhook takes `{"text": …}` (mrkdwn; plain text reads fine)."""
    if message.monospace:
        return {"text": f"*{message.subject}*\n```{message.detail}```" + (f"\n{message.url}" if message.url else "")}
    return {"text": message.text()}


def webhook_payload(message: Message) -> dict:
    """The generic JSON webhook: the text plus every field, for a receiver that routes on them."""
    return {
        "source": "timedify-ops",
        "event": message.event,
        "text": message.text(),
        "alert": {
            "id": message.alert_id,
            "rule": message.rule,
            "title": message.title,
            "severity": message.severity,
            "category": message.category,
            "value": message.value,
            "threshold": message.threshold,
            "unit": message.unit,
            "detail": message.detail,
            "fired_at": message.fired_at,
            "resolved_at": message.resolved_at,
            "acknowledged_by": message.acknowledged_by or None,
        },
        "url": message.url,
    }


@dataclass
class Try:
    """The outcome of one try."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = False
    retry_after_s: float | None = None


@dataclass
class SendResult:
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str = ""
    duration_ms: float = 0.0
    tries: list[Try] = field(default_factory=list)


def send(attempt: Callable[[], Try], budget: RetryBudget, *, sleep=time.sleep) -> SendResult:
    """Try `attempt` within the budget (RetryBudget.run); the last try says how it ended."""
    started = time.perf_counter()
    tries = budget.run(lambda _number: attempt(), sleep=sleep)
    last = tries[-1]
    return SendResult(
        ok=last.ok,
        attempts=len(tries),
        status_code=last.status_code,
        error=last.error,
        duration_ms=(time.perf_counter() - started) * 1000,
        tries=tries,
    )


def redact(text: str, secret: str) -> str:
    """Errors from the HTTP client may quote the URL; a Slack URL is a credential."""
    return text.replace(secret, "<redacted url>") if secret else text


def post_json_once(client: httpx.Client, url: str, payload: dict) -> Try:
    try:
        response = client.post(url, json=payload)
    except httpx.TimeoutException as error:
        return Try(ok=False, error=f"timeout ({type(error).__name__})", retryable=True)
    except httpx.HTTPError as error:
        return Try(ok=False, error=redact(f"{type(error).__name__}: {error}", url)[:500], retryable=True)
    if 200 <= response.status_code <= 299:
        return Try(ok=True, status_code=response.status_code)
    excerpt = response.text[:200].strip()
    return Try(
        ok=False,
        status_code=response.status_code,
        error=redact(f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else ""), url),
        retryable=is_retryable_status(response.status_code),
        retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
    )


def post_json(
    url: str, payload: dict, *, budget: RetryBudget, timeout_s: float, sleep=time.sleep, client=None
) -> SendResult:
    """POST `payload` as JSON within the budget: 2xx is success; network errors, 408, 429 and 5xx are
    retried; any other status is a permanent failure."""
    own = client is None
    client = client or httpx.Client(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
        follow_redirects=False,
        headers={"User-Agent": "timedify-ops/1 (alerts)"},
    )
    try:
        return send(lambda: post_json_once(client, url, payload), budget, sleep=sleep)
    finally:
        if own:
            client.close()
