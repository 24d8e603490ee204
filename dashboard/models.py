from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Who did what, to how many, under which filter. Written for every operator action."""

    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept even when the user is deleted.
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=64, help_text="e.g. deadletter.replay, schedule.run_now")
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    count = models.PositiveIntegerField(default=1)
    summary = models.TextField(blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # /audit/ newest first with keyset pagination.
            models.Index(fields=["-created_at", "-id"], name="audit_created"),
            # The dead-letter detail page lists the entries for one target.
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class JobRun(models.Model):
    """One run of a scheduled job (timedify_ops.schedules.run_job writes these)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "schedule"
        MANUAL = "manual", "run now"
        COMMAND = "command", "command"

    key = models.CharField(max_length=100)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    ok = models.BooleanField(null=True, help_text="Null while running.")
    result = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # "Last run of each job" on /schedules/ and the schedules probe.
            models.Index(fields=["key", "-started_at"], name="jobrun_key_started"),
            # Retention deletes runs by age.
            models.Index(fields=["started_at"], name="jobrun_started"),
        ]

    def __str__(self) -> str:
        return f"{self.key} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    def finish(self, *, ok: bool, duration_ms: float, result: str = "", error: str = "") -> None:
        self.finished_at = timezone.now()
        self.ok = ok
        self.duration_ms = round(duration_ms, 3)
        self.result = result
        self.error = error
        self.save(update_fields=["finished_at", "ok", "duration_ms", "result", "error"])


def _bucket_fields():
    from timedify_ops.lib.histogram import BUCKETS

    return [f"b{index:02d}" for index in range(BUCKETS)]


BUCKET_FIELDS = _bucket_fields()


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

    def histogram(self):
        from timedify_ops.lib.histogram import Histogram

        return Histogram.from_counts([getattr(self, name) for name in BUCKET_FIELDS], self.sum_ms)

    def label_dict(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.labels.split(",") if "=" in item)


class LatencyMinute(HistogramColumns):
    """One minute of a latency histogram, summed over every process that measured it
    (dashboard.telemetry.flush_batch). Series: "ingress" (labels outcome, synthetic) read by the
    SLO rollups; "db_query" (labels kind, ok) read by the overview's query panel."""

    minute = models.DateTimeField()

    class Meta:
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
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="metric_counter_key")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} {self.value}"


# Sub-packages' models, imported here so they belong to this app: health probes (issue 4),
# logs (issue 5), SLO rollups and daily reports (issue 6), alerting and retention (issue 7).
from dashboard.alerts.models import Alert, Notification, RuleState  # noqa: E402
from dashboard.health.models import (  # noqa: E402
    Heartbeat,
    HeartbeatPing,
    ProbeFlip,
    ProbeHour,
    ProbeResult,
    ProbeState,
)
from dashboard.logs.models import LogEntry  # noqa: E402
from dashboard.retention.models import RetentionRun  # noqa: E402
from dashboard.slo.models import SloDailyReport, SloMinute  # noqa: E402

__all__ = [
    "Alert",
    "AuditEntry",
    "Heartbeat",
    "HeartbeatPing",
    "JobRun",
    "LatencyMinute",
    "LatencyTotal",
    "LogEntry",
    "MetricCounter",
    "Notification",
    "ProbeFlip",
    "ProbeHour",
    "ProbeResult",
    "ProbeState",
    "RetentionRun",
    "RuleState",
    "SloDailyReport",
    "SloMinute",
]
