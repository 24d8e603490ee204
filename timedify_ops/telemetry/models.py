"""The telemetry tables: per-minute and cumulative latency histograms, and cumulative counters.

Every process adds to them (timedify_ops.telemetry.measure.flush_batch, additive upserts); the SLO
rollups, the overview's query panel and /metrics read them.
"""

from __future__ import annotations

from django.db import models

from timedify_ops.lib.histogram import BUCKETS, Histogram

BUCKET_FIELDS = [f"b{index:02d}" for index in range(BUCKETS)]


class HistogramColumns(models.Model):
    """Bucket counts of a latency histogram; edges in timedify_ops.lib.histogram.EDGES_MS
    (b00 ≤ 1 ms … b15 > 10 s). Rows are only ever changed by additive upserts."""

    series = models.CharField(max_length=40)
    labels = models.CharField(max_length=200, blank=True, default="")
    count = models.BigIntegerField(default=0)
    sum_ms = models.FloatField(default=0)
    b00 = models.BigIntegerField(default=0)
    b01 = models.BigIntegerField(default=0)
    b02 = models.BigIntegerField(default=0)
    b03 = models.BigIntegerField(default=0)
    b04 = models.BigIntegerField(default=0)
    b05 = models.BigIntegerField(default=0)
    b06 = models.BigIntegerField(default=0)
    b07 = models.BigIntegerField(default=0)
    b08 = models.BigIntegerField(default=0)
    b09 = models.BigIntegerField(default=0)
    b10 = models.BigIntegerField(default=0)
    b11 = models.BigIntegerField(default=0)
    b12 = models.BigIntegerField(default=0)
    b13 = models.BigIntegerField(default=0)
    b14 = models.BigIntegerField(default=0)
    b15 = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def histogram(self) -> Histogram:
        return Histogram.from_counts([getattr(self, name) for name in BUCKET_FIELDS], self.sum_ms)

    def label_dict(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.labels.split(",") if "=" in item)


class LatencyMinute(HistogramColumns):
    """One minute of a latency histogram, summed over every process that measured it
    (timedify_ops.telemetry.measure.flush_batch). Series: "ingress" (labels outcome, synthetic) read by the
    SLO rollups; "db_query" (labels kind, ok) read by the overview's query panel."""

    minute = models.DateTimeField()

    class Meta:
        # The tables the console app created; the models moved here without copying a row.
        db_table = "dashboard_latencyminute"
        constraints = [
            # The upsert's conflict target; also serves "series over a time range".
            models.UniqueConstraint(fields=["series", "minute", "labels"], name="latency_minute_key")
        ]
        indexes = [
            # Retention deletes by age across every series.
            models.Index(fields=["minute"], name="latency_minute_time"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.minute:%Y-%m-%d %H:%M} {self.labels}: {self.count}"


class LatencyTotal(HistogramColumns):
    """The same histograms summed since the beginning: the /metrics `_bucket` series
    (Prometheus wants cumulative counters; retention never deletes these rows)."""

    class Meta:
        db_table = "dashboard_latencytotal"
        constraints = [models.UniqueConstraint(fields=["series", "labels"], name="latency_total_key")]

    def __str__(self) -> str:
        return f"{self.series} {self.labels}: {self.count}"


class MetricCounter(models.Model):
    """A cumulative counter summed over processes (the /metrics `_total` series)."""

    name = models.CharField(max_length=80)
    labels = models.CharField(max_length=200, blank=True, default="")
    value = models.FloatField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dashboard_metriccounter"
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="metric_counter_key")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} {self.value}"
