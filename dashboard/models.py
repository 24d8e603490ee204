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


# Models of the dashboard's sub-packages, so Django finds them under the dashboard app.
from dashboard.logs.models import LogEntry  # noqa: E402

__all__ = ["AuditEntry", "JobRun", "LogEntry"]
