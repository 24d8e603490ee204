from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class WebhookEventQuerySet(models.QuerySet):
    """The delivery state machine's moves, each one conditional UPDATE (WebhookEvent's docstring)."""

    def count_duplicate(self, webhook_id: str, at: datetime) -> bool:
        """A repeated Webhook-Id: counted on the stored event; False when there is none."""
        return self.filter(webhook_id=webhook_id).update(duplicates=F("duplicates") + 1, last_duplicate_at=at) == 1

    def claim_delivery(self, pk: int) -> uuid.UUID | None:
        """received → delivering, with this worker's token and lease; also a `delivering` event whose
        lease ran out (its worker died). None when another worker holds a live claim or it is done."""
        now = timezone.now()
        token = uuid.uuid4()
        claimed = (
            self.filter(pk=pk)
            .filter(Q(status=self.model.Status.RECEIVED) | Q(status=self.model.Status.DELIVERING, lease_until__lt=now))
            .update(
                status=self.model.Status.DELIVERING,
                claim_token=token,
                lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS),
            )
        )
        return token if claimed == 1 else None

    def finish_delivered(self, pk: int, token: uuid.UUID) -> bool:
        """delivering → delivered, by the claim's holder only (False: the claim had been taken over)."""
        return (
            self.filter(pk=pk, claim_token=token).update(
                status=self.model.Status.DELIVERED, delivered_at=timezone.now(), claim_token=None, lease_until=None
            )
            == 1
        )

    def finish_dead_lettered(self, pk: int, token: uuid.UUID) -> bool:
        """delivering → dead_lettered, by the claim's holder only."""
        return (
            self.filter(pk=pk, claim_token=token).update(
                status=self.model.Status.DEAD_LETTERED, claim_token=None, lease_until=None
            )
            == 1
        )

    def mark_replayed(self, pk: int, at: datetime) -> None:
        """dead_lettered → delivered: its dead letter's replay got through."""
        self.filter(pk=pk).update(status=self.model.Status.DELIVERED, delivered_at=at)

    def stale(self, now: datetime, stale_before: datetime) -> WebhookEventQuerySet:
        """Events that should be moving but are not: `received` and enqueued before `stale_before`
        (a lost enqueue), or `delivering` past the lease (a dead worker)."""
        return self.filter(
            Q(status=self.model.Status.RECEIVED, enqueued_at__lt=stale_before)
            | Q(status=self.model.Status.DELIVERING, lease_until__lt=now)
        )


class WebhookEvent(models.Model):
    """One Shopify webhook delivery, stored exactly as received (body bytes are re-signed
    on forwarding and replay, so they are never re-encoded).

    received ──claim_delivery──▶ delivering ──finish_delivered──▶ delivered
       ▲  (sweeper: enqueued again)  │ └──finish_dead_lettered──▶ dead_lettered ──mark_replayed──▶ delivered
       └──── lease ran out: claim_delivery takes it over (its worker died)
    """

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

    objects = WebhookEventQuerySet.as_manager()

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
