from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DeadLetter(models.Model):
    """An event whose delivery budget was spent, or that the app refused for good."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        REPLAYING = "replaying", "replaying"
        REPLAYED = "replayed", "replayed"
        FAILED = "failed", "failed"

    event = models.OneToOneField("webhooks.WebhookEvent", on_delete=models.CASCADE, related_name="dead_letter")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Copied from the event so the list filters and sorts without a join.
    topic = models.CharField(max_length=100)
    shop_domain = models.CharField(max_length=255)
    # The most recent attempt's outcome (updated by replays): null status = network error.
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replay_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The dead-letter list: filter by status, newest first, keyset on (created_at, id).
            models.Index(fields=["status", "-created_at", "-id"], name="dl_status_created"),
            # Overview "dead-lettered today" and alerting "created in the last hour".
            models.Index(fields=["created_at"], name="dl_created_at"),
        ]

    def __str__(self) -> str:
        return f"dead letter {self.pk} ({self.topic}, {self.status})"
