"""The poll cursor never skips or repeats a line while lines are being written concurrently.

On PostgreSQL ids come from a sequence at insert time but transactions commit in any order,
so a naive `id > cursor` poll can see id 12 before id 11 is committed and then never show 11.
ingest.insert_rows serialises writers with an advisory lock; these tests show the hazard is
real and that the lock closes it.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from dashboard.logs import records, selectors
from dashboard.logs.ingest import insert_rows
from dashboard.logs.models import LogEntry
from dashboard.logs.selectors import LogFilter
from tests.live import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def row(message: str) -> records.LogRow:
    return records.LogRow(timestamp_ns=time.time_ns(), message=message, app="timedify")


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids are committed in order there")


def waiting_for_the_log_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


def test_without_the_lock_postgresql_commits_a_later_id_first():
    """Why the lock exists: plain inserts let a poll move past a line that is not committed yet."""
    needs_postgresql()
    inserted, release = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            LogEntry.objects.create(timestamp_ns=0, timestamp=records.ns_to_datetime(0), message="slow")
            inserted.set()
            release.wait(10)

    slow = in_thread(slow_writer)
    assert inserted.wait(10)
    fast = LogEntry.objects.create(timestamp_ns=0, timestamp=records.ns_to_datetime(0), message="fast")
    seen = selectors.poll(LogFilter(), 0, limit=100)
    release.set()
    slow.join(10)
    assert [line.message for line in seen.lines] == ["fast"]
    assert LogEntry.objects.get(message="slow").id < fast.id <= seen.cursor, "a naive cursor would skip 'slow'"


def test_a_writer_waits_for_an_earlier_one_so_a_poll_never_passes_an_uncommitted_line():
    needs_postgresql()
    cursor = selectors.latest_id()
    inserted, release = threading.Event(), threading.Event()

    def first_writer():
        with transaction.atomic():
            insert_rows([row("first")])
            inserted.set()
            release.wait(10)

    first = in_thread(first_writer)
    assert inserted.wait(10)
    second = in_thread(lambda: insert_rows([row("second")]))
    wait_for(lambda: waiting_for_the_log_lock() == 1, timeout=10, message="the second writer should wait")

    assert selectors.poll(LogFilter(), cursor).lines == [], "nothing is committed yet, so nothing is shown"
    release.set()
    first.join(10)
    second.join(10)
    result = selectors.poll(LogFilter(), cursor)
    assert [line.message for line in result.lines] == ["first", "second"]
    assert selectors.poll(LogFilter(), result.cursor).lines == []


def test_two_concurrent_writers_and_a_poller_see_every_line_exactly_once():
    writers, batches, per_batch = 2, 25, 20
    done = threading.Event()
    seen: list[int] = []
    cursor = selectors.latest_id()

    def write(writer: int):
        for batch in range(batches):
            insert_rows([row(f"w{writer}-{batch}-{n}") for n in range(per_batch)])

    def poll_until_done():
        position = cursor
        while True:
            finished = done.is_set()  # read before polling: the last poll sees everything
            result = selectors.poll(LogFilter(), position, limit=50)
            seen.extend(line.id for line in result.lines)
            position = result.cursor
            if finished and len(result.lines) < 50:
                return

    poller = in_thread(poll_until_done)
    threads = [in_thread(lambda n=n: write(n)) for n in range(writers)]
    for thread in threads:
        thread.join(60)
    done.set()
    poller.join(60)

    stored = list(LogEntry.objects.filter(id__gt=cursor).order_by("id").values_list("id", flat=True))
    assert len(stored) == writers * batches * per_batch
    assert len(seen) == len(set(seen)), "no line is shown twice"
    assert sorted(seen) == stored, "no line is skipped"
