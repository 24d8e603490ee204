"""timedify_ops.lib.notifier: message text, payloads, tries within a budget (no Django, no database)."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from timedify_ops.lib import notifier
from timedify_ops.lib.notifier import Message, Try
from timedify_ops.lib.retry import RetryBudget

BUDGET = RetryBudget(base_ms=1, retries=3, retry_after_cap_s=0.01)


@pytest.fixture
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def message(**fields) -> Message:
    defaults = {"event": "fire", "rule": "open-dead-letters", "title": "Many open dead letters", "value": 31.0}
    return Message(**{**defaults, **fields})


def test_the_text_reads_well():
    text = message(threshold=25, detail="31 open dead letters", fired_at="2026-11-26T12:00:00+00:00").text()
    assert text.splitlines() == [
        "[FIRING] Many open dead letters",
        "value 31 (threshold 25)",
        "31 open dead letters",
        "fired at 2026-11-26T12:00:00+00:00",
    ]
    assert message(event="resolve", value=1.5, unit=" min").subject == "[RESOLVED] Many open dead letters"
    assert "value 1.50 min" in message(value=1.5, unit=" min").text()


def test_slack_gets_only_text_and_the_webhook_gets_every_field():
    assert notifier.slack_payload(message()) == {"text": "[FIRING] Many open dead letters\nvalue 31"}
    payload = notifier.webhook_payload(message(alert_id=7))
    assert payload["source"] == "timedify-ops" and payload["event"] == "fire"
    assert payload["alert"]["id"] == 7 and payload["alert"]["value"] == 31.0


def test_send_stops_at_success():
    tries = iter([Try(ok=False, retryable=True, error="x"), Try(ok=True, status_code=200)])
    waits = []
    result = notifier.send(lambda: next(tries), BUDGET, sleep=waits.append)
    assert (result.ok, result.attempts, result.status_code) == (True, 2, 200)
    assert len(waits) == 1


def test_send_stops_at_a_permanent_failure_and_spends_no_more_than_the_budget():
    result = notifier.send(lambda: Try(ok=False, retryable=False, error="HTTP 404"), BUDGET, sleep=lambda s: None)
    assert (result.ok, result.attempts, result.error) == (False, 1, "HTTP 404")
    result = notifier.send(lambda: Try(ok=False, retryable=True, error="down"), BUDGET, sleep=lambda s: None)
    assert (result.ok, result.attempts) == (False, BUDGET.max_attempts)


def test_a_retry_after_lengthens_the_wait():
    tries = iter([Try(ok=False, retryable=True, status_code=429, retry_after_s=30), Try(ok=True)])
    waits = []
    notifier.send(lambda: next(tries), RetryBudget(base_ms=1, retries=1, retry_after_cap_s=2), sleep=waits.append)
    assert 2 <= waits[0] <= 2.2


def test_post_json_posts_json_and_reads_the_status(server):
    server.expect_ordered_request("/x", method="POST").respond_with_data("rate limited", status=429)
    server.expect_ordered_request("/x", method="POST").respond_with_data("ok")
    result = notifier.post_json(server.url_for("/x"), {"text": "hi"}, budget=BUDGET, timeout_s=2)
    assert (result.ok, result.attempts) == (True, 2)
    request, _ = server.log[0]
    assert json.loads(request.get_data()) == {"text": "hi"}
    assert request.headers["Content-Type"] == "application/json"


def test_a_redirect_is_a_failure_and_the_url_never_appears_in_errors(server):
    url = server.url_for("/services/T/B/secret-path")
    server.expect_request("/services/T/B/secret-path").respond_with_data("", status=302, headers={"Location": url})
    result = notifier.post_json(url, {}, budget=BUDGET, timeout_s=2)
    assert (result.ok, result.status_code, result.attempts) == (False, 302, 1)
    assert notifier.redact(f"error at {url}", url) == "error at <redacted url>"
