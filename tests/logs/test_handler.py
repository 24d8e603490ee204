"""timedify-ops' own events into the log store: buffered on the logging call, written in batches."""

import logging
import os

import pytest

from dashboard.logs import records
from dashboard.logs.handler import LogStoreHandler
from dashboard.logs.models import LogEntry
from tests.conftest import post_webhook, run_queued_tasks
from tests.live import wait_for

events = logging.getLogger("timedify_ops.events")


@pytest.mark.django_db
def test_an_event_is_buffered_not_written_on_the_logging_call(store_handler):
    events.warning("webhook dead-lettered: topic=%s", "shop/redact", extra={"webhook_id": "wh-1"})
    assert store_handler.waiting == 1
    assert not LogEntry.objects.exists()

    assert store_handler.write_buffered() == 1
    entry = LogEntry.objects.get()
    assert entry.app == "timedify-ops" and entry.provider == "events"
    assert entry.level == records.WARNING
    assert entry.message == "webhook dead-lettered: topic=shop/redact"
    assert entry.topic == "shop/redact"
    assert entry.extra["logger"] == "timedify_ops.events" and entry.extra["webhook_id"] == "wh-1"
    assert store_handler.waiting == 0


@pytest.mark.django_db
def test_info_events_are_kept_and_debug_ones_are_not(store_handler):
    events.info("probe flipped: app health up")
    events.debug("noise")
    assert store_handler.waiting == 1


@pytest.mark.django_db
def test_an_exception_is_written_with_its_traceback(store_handler):
    try:
        raise RuntimeError("target unreachable")
    except RuntimeError:
        events.exception("delivery failed")
    store_handler.write_buffered()
    entry = LogEntry.objects.get()
    assert entry.level == records.ERROR
    assert "delivery failed\nTraceback" in entry.message and "RuntimeError: target unreachable" in entry.message


@pytest.mark.django_db
def test_a_dead_lettered_webhook_lands_in_the_store_as_a_timedify_ops_line(
    client, target, fast_budget, empty_queue, store_handler
):
    target.expect_request("/webhooks").respond_with_data("boom", status=500)
    assert post_webhook(client, topic="customers/redact").status_code == 200
    run_queued_tasks()
    store_handler.write_buffered()
    entry = LogEntry.objects.get(app="timedify-ops", message__startswith="webhook dead-lettered")
    assert entry.topic == "customers/redact" and entry.level == records.WARNING


def test_when_the_buffer_is_full_the_oldest_rows_are_dropped_and_counted():
    handler = LogStoreHandler(flush_interval=0, capacity=3)
    for number in range(5):
        handler.handle(logging.makeLogRecord({"msg": f"event {number}", "levelno": logging.INFO}))
    assert handler.waiting == 3 and handler.dropped == 2
    assert [row.message for row in handler._buffer] == ["event 2", "event 3", "event 4"]


@pytest.mark.django_db
def test_a_failed_write_is_retried_once_then_dropped_without_raising(monkeypatch, caplog):
    calls = []

    def refuse(rows):
        calls.append(len(rows))
        raise RuntimeError("database is down")

    monkeypatch.setattr("dashboard.logs.ingest.insert_rows", refuse)
    handler = LogStoreHandler(flush_interval=0)
    handler.handle(logging.makeLogRecord({"msg": "lost", "levelno": logging.ERROR}))
    with caplog.at_level(logging.WARNING, logger="timedify_ops.logstore"):
        assert handler.write_buffered() == 0
    assert calls == [1, 1] and handler.dropped == 1
    assert "could not write 1 event(s) to the log store" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_writes_batches_by_itself():
    handler = LogStoreHandler(flush_interval=0.05, batch_size=2)
    try:
        handler.handle(logging.makeLogRecord({"msg": "from the thread", "levelno": logging.INFO}))
        assert handler.flusher.thread is not None and handler.flusher.thread.name == "logstore-flush"
        wait_for(lambda: LogEntry.objects.filter(message="from the thread").exists(), timeout=10)
    finally:
        handler.close()
    assert not handler.flusher.thread.is_alive()


def test_a_forked_child_drops_the_rows_it_inherited_and_buffers_its_own():
    """django-q2 and gunicorn fork their workers: the parent writes its own rows, the child its own."""
    handler = LogStoreHandler(flush_interval=0)
    handler.handle(logging.makeLogRecord({"msg": "parent's", "levelno": logging.INFO}))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it holds, never return into pytest
        try:
            inherited = handler.waiting
            handler.handle(logging.makeLogRecord({"msg": "child's", "levelno": logging.INFO}))
            os.write(write_end, f"{inherited},{[row.message for row in handler._buffer]}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    report = os.read(read_end, 1000).decode()
    os.waitpid(pid, 0)
    assert report == '0,["child\'s"]'
    assert [row.message for row in handler._buffer] == ["parent's"]
