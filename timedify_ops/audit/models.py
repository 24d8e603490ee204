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
        # The table the console app created; the model moved here without copying a row.
        db_table = "dashboard_auditentry"
        ordering = ["-created_at", "-id"]
        indexes = [
            # /audit/ newest first with keyset pagination.
            models.Index(fields=["-created_at", "-id"], name="audit_created"),
            # The dead-letter detail page lists the entries for one target.
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"
