"""Fixtures for the log room: Fly-shaped records, posting batches, writing lines directly."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings

from dashboard.logs import records
from dashboard.logs.ingest import insert_rows
from dashboard.logs.models import LogEntry


def fly_record(message: str = "GET /health 200", **overrides) -> dict:
    """A record exactly as the Fly log shipper's HTTP sink sends it."""
    record = {
        "timestamp": "2026-11-26T10:00:00.123456789Z",
        "message": message,
        "host": "a1b2",
        "log": {"level": "info"},
        "event": {"provider": "app"},
        "fly": {"app": {"name": "timedify", "instance": "148e453f2d4e89"}, "region": "fra"},
    }
    record.update(overrides)
    return record


def post_logs(client, body, *, content_type="application/json", token=None, path="/logs/ingest", **headers):
    if isinstance(body, list | dict):
        body = json.dumps(body)
    token = django_settings.LOG_INGEST_TOKEN if token is None else token
    if token:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
    return client.post(path, data=body, content_type=content_type, **headers)


def add_lines(*messages: str, when: datetime | None = None, **fields) -> list[LogEntry]:
    """Write lines the way ingest does; returns them in id order."""
    when_ns = records.datetime_to_ns(when) if when else time.time_ns()
    rows = [
        records.LogRow(
            timestamp_ns=when_ns + index,
            message=message,
            app=fields.get("app", "timedify"),
            instance=fields.get("instance", "148e453f2d4e89"),
            region=fields.get("region", "fra"),
            level=fields.get("level", records.effective_level(None, message)),
            provider=fields.get("provider", "app"),
            topic=records.derive_topic(message),
        )
        for index, message in enumerate(messages)
    ]
    before = LogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    insert_rows(rows)
    return list(LogEntry.objects.filter(id__gt=before).order_by("id"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def store_handler():
    """The LogStoreHandler LOGGING attached to timedify_ops.events, emptied before and after."""
    from dashboard.logs.handler import store_handler as find

    handler = find()
    assert handler is not None, "LOGGING should attach LogStoreHandler to timedify_ops.events"
    handler.discard_buffered()
    yield handler
    handler.discard_buffered()
