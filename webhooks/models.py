from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookEvent(models.Model):
    """One Shopify webhook delivery, stored exactly as received (body bytes are re-signed
    on forwarding and replay, so they are never re-encoded)."""

    class Status(models.TextChoices):
        RECEIVED = "received", "received"
        DELIVERING = "delivering", "delivering"
        DELIVERED = "delivered", "delivered"
        DEAD_LETTERED = "dead_lettered", "dead-lettered"

    webhook_id = models.CharField(max_length=255, unique=True)
    event_id = models.CharField(max_length=255, blank=True, default="")
    topic = models.CharField(max_length=100)
    shop_domain = models.CharField(max_length=255)
    api_version = models.CharField(max_length=32, blank=True, default="")
    triggered_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()
    body_size = models.PositiveIntegerField(default=0)
    headers = models.JSONField(default=dict, help_text="Request headers with secrets redacted.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    synthetic = models.BooleanField(default=False)
    duplicates = models.PositiveIntegerField(default=0, help_text="Repeated deliveries of this Webhook-Id.")
    last_duplicate_at = models.DateTimeField(null=True, blank=True)
    # Delivery bookkeeping: when it was (re-)enqueued, and the claim of the worker delivering it.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Overview "received today" and retention ("older than N days"), both range scans.
            models.Index(fields=["received_at"], name="event_received_at"),
            # Overview "delivered today".
            models.Index(fields=["delivered_at"], name="event_delivered_at"),
            # The stale-event sweeper; partial, so it stays small however many events are kept.
            models.Index(
                fields=["status", "enqueued_at"],
                name="event_pending",
                condition=Q(status__in=["received", "delivering"]),
            ),
            # Shop-scoped lookups (shop/redact, per-shop failure lists).
            models.Index(fields=["shop_domain", "received_at"], name="event_shop_received"),
            models.Index(fields=["event_id"], name="event_event_id"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"

    @property
    def body_bytes(self) -> bytes:
        return bytes(self.body) if self.body is not None else b""

    def body_json(self):
        try:
            return json.loads(self.body_bytes)
        except ValueError:
            return None


class DeliveryAttempt(models.Model):
    """One try at forwarding an event; rows are only ever added, never rewritten."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField(help_text="1-based, counting original tries and replays.")
    started_at = models.DateTimeField()
    duration_ms = models.FloatField()
    status_code = models.PositiveIntegerField(null=True, blank=True, help_text="Null on a network error.")
    error = models.TextField(blank=True, default="")
    response_excerpt = models.TextField(blank=True, default="")
    target_url = models.CharField(max_length=500, blank=True, default="")
    is_replay = models.BooleanField(default=False)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["event", "number"]
        constraints = [models.UniqueConstraint(fields=["event", "number"], name="attempt_event_number")]
        indexes = [
            # SLO rollups read attempts by minute.
            models.Index(fields=["started_at"], name="attempt_started_at"),
        ]

    def __str__(self) -> str:
        outcome = self.status_code if self.status_code is not None else "network error"
        return f"attempt {self.number} of {self.event_id}: {outcome}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code <= 299
