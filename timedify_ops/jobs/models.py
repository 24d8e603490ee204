from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One run of a scheduled job (timedify_ops.jobs.services.run_job writes these)."""

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
        # The table the console app created; the model moved here without copying a row.
        db_table = "dashboard_jobrun"
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
