"""RetentionRun: what one retention run deleted, per kind.

The table is the one the console app created (`db_table`): the model moved here without copying a row.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RetentionRun(models.Model):
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=16, default="schedule", help_text="schedule | command")
    dry_run = models.BooleanField(default=False)
    ok = models.BooleanField(null=True, help_text="Null while running.")
    complete = models.BooleanField(default=False, help_text="False when the time budget ran out with rows left.")
    event_days = models.PositiveIntegerField(help_text="The webhook-event age used (RETENTION_EVENT_DAYS or DAYS).")
    # {"webhook_events": 1200, "delivery_attempts": 3400, …}: rows deleted (or, dry, that would be).
    deleted = models.JSONField(default=dict, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "dashboard_retentionrun"
        ordering = ["-started_at", "-id"]
        indexes = [
            # last_retention_summary() on /schedules/: the newest real run.
            models.Index(fields=["dry_run", "-started_at"], name="retention_run_started"),
        ]

    def __str__(self) -> str:
        return f"retention {'dry run ' if self.dry_run else ''}at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(self.deleted.values())
