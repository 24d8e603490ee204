"""Health probes: every result, each probe's state machine, its flips, and hourly counters.

Written by dashboard.health.services.record_results (the "health-probes" job, every minute);
read by /status/, current_states() (the alerting room's "a probe is down" rule) and the SLO
rollups (the uptime SLI reads the `app` probe's results per minute).

The tables are the ones the console app created (`db_table`): the models moved here without
copying a row.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboard.health.rules import Machine, format_duration, step


class CheckState(models.TextChoices):
    """The outcome of one check."""

    OK = "ok", "ok"
    WARN = "warn", "warning"
    FAIL = "fail", "failed"


class Status(models.TextChoices):
    """Where a probe's state machine stands (one failure alone does not make it down)."""

    UNKNOWN = "unknown", "unknown"
    UP = "up", "up"
    DEGRADED = "degraded", "degraded"
    DOWN = "down", "down"


class ProbeResult(models.Model):
    """One check of one probe. All probes of a run share `checked_at` (the run's start)."""

    probe = models.CharField(max_length=64)
    checked_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=8, choices=CheckState.choices)
    latency_ms = models.FloatField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "dashboard_proberesult"
        ordering = ["-checked_at", "-id"]
        indexes = [
            # By probe and time: the 24 h chart, the uptime window edges, and the SLO rollups'
            # per-minute uptime of the `app` probe (probe = 'app' AND checked_at in a minute range).
            models.Index(fields=["probe", "checked_at"], name="probe_result_probe_time"),
            # Retention deletes by age across all probes.
            models.Index(fields=["checked_at"], name="probe_result_time"),
        ]

    def __str__(self) -> str:
        return f"{self.probe} {self.state} at {self.checked_at:%Y-%m-%d %H:%M:%S}"


class ProbeState(models.Model):
    """One row per probe: its state machine and its latest check (the board's table reads only these).

    unknown ──ok──▶ up ◀──ok──▶ degraded (warn)     up/degraded/unknown ──HEALTH_DOWN_AFTER fails──▶ down
    down ──HEALTH_UP_AFTER passes──▶ up/degraded     (dashboard.health.rules.step; `advance` applies it)
    """

    probe = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNKNOWN)
    status_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    first_checked_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_state = models.CharField(max_length=8, choices=CheckState.choices, blank=True, default="")
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_detail = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "dashboard_probestate"
        ordering = ["probe"]

    def __str__(self) -> str:
        return f"{self.probe}: {self.status}"

    def advance(self, state: str, *, at: datetime, latency_ms: float | None, detail: str) -> ProbeFlip | None:
        """One more check (ok / warn / fail) of this probe: step the state machine, keep the check as the
        latest, and return the flip it makes (unsaved), if any. A new probe's first status is not a
        flip, unless it starts out down. The caller saves (services.record_results, the demo's seed)."""
        before = Machine(self.status, self.consecutive_failures, self.consecutive_successes)
        after = step(before, state, down_after=settings.HEALTH_DOWN_AFTER, up_after=settings.HEALTH_UP_AFTER)
        flip = None
        if after.status != before.status and (before.status != Status.UNKNOWN or after.status == Status.DOWN):
            flip = ProbeFlip(
                probe=self.probe, at=at, from_status=before.status, to_status=after.status, detail=detail[:500]
            )
        if after.status != before.status:
            self.status_since = at
        self.status = after.status
        self.consecutive_failures = after.failures
        self.consecutive_successes = after.successes
        self.first_checked_at = self.first_checked_at or at
        self.last_checked_at = at
        self.last_state = state
        self.last_latency_ms = latency_ms
        self.last_detail = detail[:500]
        return flip


class ProbeFlip(models.Model):
    """A change of a probe's status, kept forever-ish: a flip to down opens an incident,
    the next flip of the same probe (`until`) closes it."""

    probe = models.CharField(max_length=64)
    at = models.DateTimeField()
    from_status = models.CharField(max_length=10, choices=Status.choices)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.CharField(max_length=500, blank=True, default="")
    # When the probe left this status; null while it still holds.
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "dashboard_probeflip"
        ordering = ["-at", "-id"]
        indexes = [
            # The incident list: flips to down, newest first.
            models.Index(fields=["to_status", "-at"], name="probe_flip_to_at"),
            # Closing the open flip of one probe when it flips again.
            models.Index(fields=["probe", "-at"], name="probe_flip_probe_at"),
        ]

    def __str__(self) -> str:
        return f"{self.probe}: {self.from_status} → {self.to_status} at {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration(self):
        return (self.until or timezone.now()) - self.at

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration.total_seconds())


class ProbeHour(models.Model):
    """Per probe and UTC hour: how many checks and how many failed.

    The uptime windows sum these for whole hours and count raw results only at the
    two partial hours at a window's edges, so the 30-day figure reads ~720 rows per
    probe instead of ~43,000.
    """

    probe = models.CharField(max_length=64)
    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "dashboard_probehour"
        constraints = [
            # Also the index the uptime query uses (hour ranges, grouped by probe).
            models.UniqueConstraint(fields=["probe", "hour"], name="probe_hour_unique"),
        ]
        indexes = [
            # The uptime windows: every probe's hours in a range.
            models.Index(fields=["hour"], name="probe_hour_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.probe} {self.hour:%Y-%m-%d %H}:00 {self.failures}/{self.checks} failed"


class Heartbeat(models.Model):
    """One outside job that reports in (HEARTBEATS names them; POST /heartbeats/<name>).

    The row holds where the job stands — timedify_ops.lib.heartbeats.state() reads these fields —
    and is created the first time timedify-ops sees the name (a probe run or a ping), which starts
    the clock for a job that never reports. Written under a row lock by
    dashboard.health.heartbeats.record_ping.
    """

    name = models.CharField(max_length=64, unique=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_ping_at = models.DateTimeField(null=True, blank=True, help_text="The last end of a run: success or fail.")
    last_kind = models.CharField(max_length=8, blank=True, default="", help_text="success or fail")
    last_start_at = models.DateTimeField(null=True, blank=True, help_text="A run started and not reported finished.")
    last_duration_s = models.FloatField(null=True, blank=True, help_text="From /start to its end, when both came.")
    pings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"heartbeat {self.name}"


class HeartbeatPing(models.Model):
    """One report of an outside job, the last HEARTBEAT_PINGS_KEPT per heartbeat (pruned as they come)."""

    class Kind(models.TextChoices):
        SUCCESS = "success", "success"
        START = "start", "start"
        FAIL = "fail", "fail"

    heartbeat = models.ForeignKey(Heartbeat, on_delete=models.CASCADE, related_name="ping_set")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    duration_s = models.FloatField(null=True, blank=True)
    body = models.TextField(blank=True, default="", help_text="The first 1,000 characters the job sent (its output).")
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The board's last pings of one heartbeat, and pruning all but the newest.
            models.Index(fields=["heartbeat", "-at", "-id"], name="heartbeat_ping_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.heartbeat_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"
