"""The process-wide telemetry recorder and its database flush.

Hot paths call `observe(...)`/`count(...)` (memory only); the recorder's thread calls
`flush_batch` every TELEMETRY_FLUSH_SECONDS with additive upserts, so gunicorn workers and
django-q2 workers add up. A crash loses at most one interval of one process's figures.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, connections, transaction

from timedify_ops.lib.histogram import Histogram
from timedify_ops.lib.telemetry import Batch, Recorder
from timedify_ops.telemetry.models import BUCKET_FIELDS, LatencyMinute, LatencyTotal, MetricCounter


def labels_key(labels: tuple) -> str:
    """("outcome", "accepted"), ("synthetic", "0") → "outcome=accepted,synthetic=0" (sorted)."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels))


def _histogram_upsert_sql(model, key_columns: list[str]) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    q = connection.ops.quote_name
    columns = [*key_columns, "count", "sum_ms", *BUCKET_FIELDS]
    additive = ["count", "sum_ms", *BUCKET_FIELDS]
    quoted = ", ".join(q(c) for c in columns)
    updates = ", ".join(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in additive)
    conflict = ", ".join(q(c) for c in key_columns)
    return (
        f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )


def _upsert_histograms(cursor, batch: Batch) -> None:
    per_minute, totals = [], {}
    for (minute, series, labels), histogram in sorted(batch.histograms.items()):
        moment = connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(minute, tz=UTC))
        key = labels_key(labels)
        per_minute.append([series, moment, key, histogram.count, histogram.total_ms, *histogram.counts])
        totals.setdefault((series, key), Histogram()).merge(histogram)
    if per_minute:
        cursor.executemany(_histogram_upsert_sql(LatencyMinute, ["series", "minute", "labels"]), per_minute)
        rows = [[s, k, h.count, h.total_ms, *h.counts] for (s, k), h in sorted(totals.items())]
        cursor.executemany(_histogram_upsert_sql(LatencyTotal, ["series", "labels"]), rows)


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
        # The flush thread's own connection: don't keep it between flushes.
        if not connection.in_atomic_block and connections["default"] is connection and _in_flush_thread():
            connection.close()


def _in_flush_thread() -> bool:
    return threading.current_thread().name == "telemetry-flush"


recorder = Recorder(flush_batch, interval=settings.TELEMETRY_FLUSH_SECONDS)


def observe(series: str, value_ms: float, **labels: str) -> None:
    recorder.observe(series, value_ms, tuple(sorted(labels.items())))


def count(name: str, value: float = 1, **labels: str) -> None:
    recorder.count(name, tuple(sorted(labels.items())), value)
