"""The process-wide telemetry recorder and its database flush.

Hot paths call `observe(...)`/`count(...)` (memory only); the recorder's thread calls
`flush_batch` every TELEMETRY_FLUSH_SECONDS with additive upserts, so gunicorn workers and
django-q2 workers add up. A crash loses at most one interval of one process's figures.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction

from dashboard.models import BUCKET_FIELDS, LatencyMinute, MetricCounter
from timedify_ops.lib.telemetry import Batch, Recorder


def labels_key(labels: tuple) -> str:
    """("outcome", "accepted"), ("synthetic", "0") → "outcome=accepted,synthetic=0" (sorted)."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels))


def _upsert_histograms(cursor, batch: Batch) -> None:
    table = connection.ops.quote_name(LatencyMinute._meta.db_table)
    columns = ["series", "minute", "labels", "count", "sum_ms", *BUCKET_FIELDS]
    additive = ["count", "sum_ms", *BUCKET_FIELDS]
    q = connection.ops.quote_name
    quoted = ", ".join(q(c) for c in columns)
    updates = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in additive)
    # Identifiers only come from the model; values are parameters.
    sql = (
        f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT (series, minute, labels) DO UPDATE SET {updates}"
    )
    rows = []
    for (minute, series, labels), histogram in sorted(batch.histograms.items()):
        moment = connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(minute, tz=UTC))
        rows.append([series, moment, labels_key(labels), histogram.count, histogram.total_ms, *histogram.counts])
    if rows:
        cursor.executemany(sql, rows)


def _upsert_counters(cursor, batch: Batch) -> None:
    table = connection.ops.quote_name(MetricCounter._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(datetime.now(tz=UTC))
    sql = (
        f"INSERT INTO {table} (name, labels, value, updated_at) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT (name, labels) DO UPDATE SET value = {table}.value + excluded.value, "
        "updated_at = excluded.updated_at"
    )
    rows = [[name, labels_key(labels), value, now] for (name, labels), value in sorted(batch.counters.items())]
    if rows:
        cursor.executemany(sql, rows)


def flush_batch(batch: Batch) -> None:
    """Add one batch to the tables (sorted keys: concurrent flushers lock rows in one order)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _upsert_histograms(cursor, batch)
            _upsert_counters(cursor, batch)
    finally:
        if not connection.in_atomic_block:
            # The flush thread's own connection: don't keep it between flushes.
            from django.db import connections

            if connections["default"] is connection and _in_flush_thread():
                connection.close()


def _in_flush_thread() -> bool:
    import threading

    return threading.current_thread().name == "telemetry-flush"


recorder = Recorder(flush_batch, interval=settings.TELEMETRY_FLUSH_SECONDS)


def observe(series: str, value_ms: float, **labels: str) -> None:
    recorder.observe(series, value_ms, tuple(sorted(labels.items())))


def count(name: str, value: float = 1, **labels: str) -> None:
    recorder.count(name, tuple(sorted(labels.items())), value)
