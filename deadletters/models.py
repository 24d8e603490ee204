from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DeadLetter(models.Model):
    """An event whose delivery budget was spent, or that the app refused for good.

    open ──claim──▶ replaying ──▶ replayed (the event is delivered)
    failed ◀───────────┘ └──────▶ failed (the new attempts are kept; may be replayed again)
    """

    class Status(models.TextChoices):
        OPEN = "open", "open"
        REPLAYING = "replaying", "replaying"
        REPLAYED = "replayed", "replayed"
        FAILED = "failed", "failed"

    # A replay may be claimed from these; `replaying` and `replayed` may not.
    REPLAYABLE = (Status.OPEN, Status.FAILED)
    # Deleting a letter whose replay is in flight would race the delivery.
    DELETABLE = (Status.OPEN, Status.FAILED, Status.REPLAYED)

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

    # The current (or last) replay claim: the token makes the claim's owner the only one who
    # may start and finish it; the lease lets the sweeper free a claim whose worker died.
    replay_token = models.UUIDField(null=True, blank=True)
    replay_requested_at = models.DateTimeField(null=True, blank=True)
    replay_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replay_started_at = models.DateTimeField(null=True, blank=True)
    replay_lease_until = models.DateTimeField(null=True, blank=True)
    bulk_action = models.ForeignKey(
        "deadletters.BulkAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            # The dead-letter list: filter by status, newest first, keyset on (created_at, id);
            # also the sweeper's "replaying" scan.
            models.Index(fields=["status", "-created_at", "-id"], name="dl_status_created"),
            # Overview "dead-lettered today" and alerting "created in the last hour".
            models.Index(fields=["created_at"], name="dl_created_at"),
            # The list filtered by topic, and the capped per-topic counts of open dead letters.
            models.Index(fields=["status", "topic", "-created_at", "-id"], name="dl_status_topic_created"),
            # The list filtered by shop.
            models.Index(fields=["status", "shop_domain", "-created_at", "-id"], name="dl_status_shop_created"),
            # cleanup_replayed ("replayed more than DEADLETTER_REPLAYED_GRACE ago"); partial, so small.
            models.Index(fields=["replayed_at"], name="dl_replayed_at", condition=Q(status="replayed")),
        ]

    def __str__(self) -> str:
        return f"dead letter {self.pk} ({self.topic}, {self.status})"

    @property
    def is_replayable(self) -> bool:
        return self.status in self.REPLAYABLE

    @property
    def is_deletable(self) -> bool:
        return self.status in self.DELETABLE

    @property
    def last_outcome(self) -> str:
        """ "HTTP 500", "network error: …" — what the list shows in one cell."""
        if self.last_status_code is not None:
            return f"HTTP {self.last_status_code}"
        return "network error"


class BulkAction(models.Model):
    """A replay or delete of a fixed set of dead letters, run in the background.

    The set is fixed when the operator confirms: either explicit `ids`, or the filter
    bounded by `cutoff_id` and `cutoff_at` (rows that die afterwards have a higher id or a
    later created_at, so they are never swept in). The runner walks the set oldest first by
    id, remembering its place in `cursor_id`, and counts what it saw; each item ends as
    done, failed or skipped.
    """

    class Kind(models.TextChoices):
        REPLAY = "replay", "replay"
        DELETE = "delete", "delete"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        CANCELLED = "cancelled", "cancelled"
        FAILED = "failed", "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who asked, kept when the user is deleted; "… (replay_deadletters)" for the command.
    actor_name = models.CharField(max_length=150, blank=True, default="")
    # The command runs the set in its own process (`inline`); the page's runs in django-q2.
    inline = models.BooleanField(default=False)

    # The fixed set.
    filter = models.JSONField(default=dict, blank=True, help_text="The list filter, as in the query string.")
    ids = models.JSONField(null=True, blank=True, help_text="Explicitly selected dead letter ids.")
    cutoff_id = models.BigIntegerField(null=True, blank=True)
    cutoff_at = models.DateTimeField(null=True, blank=True)
    expected = models.PositiveIntegerField(null=True, blank=True, help_text="Counted at confirm; null if over the cap.")
    rate = models.FloatField(default=10.0, help_text="Replays started per second, at most.")

    # Progress.
    cursor_id = models.BigIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    dispatch_complete = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(default=False)
    cancelled_by_name = models.CharField(max_length=150, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The runner's claim: only the holder of `runner_token` (or anyone once `lease_until` has
    # passed: the runner died or its task was lost) may work on the set. The sweeper resumes it.
    runner_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bulk history page, newest first with keyset pagination.
            models.Index(fields=["-created_at", "-id"], name="bulk_created"),
            # The sweeper and the list page's "in progress" banner; partial, so it stays tiny.
            models.Index(fields=["lease_until"], name="bulk_active", condition=Q(status__in=["queued", "running"])),
        ]

    def __str__(self) -> str:
        return f"bulk {self.kind} {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def settled(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def outstanding(self) -> int:
        """Replays handed to the workers whose outcome has not come back yet."""
        return max(0, self.seen - self.settled)

    @property
    def percent(self) -> int:
        if not self.expected:
            return 100 if not self.is_active else 0
        return min(100, round(100 * self.settled / self.expected))

    def describe_outcome(self) -> str:
        """One sentence for the page, the audit trail and the command."""
        if self.kind == self.Kind.REPLAY:
            parts = [f"{self.done} replayed", f"{self.failed} failed"]
        else:
            parts = [f"{self.done} deleted"]
            if self.failed:
                parts.append(f"{self.failed} failed")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (changed meanwhile)")
        text = ", ".join(parts)
        if self.expected is not None and self.dispatch_complete and not self.cancel_requested:
            gone = self.expected - self.seen
            if gone > 0:
                text += f"; {gone} of the {self.expected} no longer matched when reached"
        if self.cancel_requested:
            who = f" by {self.cancelled_by_name}" if self.cancelled_by_name else ""
            text += f"; cancelled{who} after {self.seen} of {self.expected_label}"
        if self.outstanding and self.is_active:
            text += f"; {self.outstanding} still in flight"
        return text

    @property
    def expected_label(self) -> str:
        return str(self.expected) if self.expected is not None else "more than the count cap"
