from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone


class DeadLetterQuerySet(models.QuerySet):
    """The replay's moves, each one conditional UPDATE, so a double click, two operators, a
    duplicate task or the sweeper never replay a letter twice at once (DeadLetter's docstring)."""

    def claim_replay(self, pk: int, user=None, bulk: BulkAction | None = None) -> uuid.UUID | None:
        """open/failed → replaying, with a fresh token; None when it is not replayable (replaying,
        replayed, deleted). The lease runs until a worker starts it: a lost task is queued again."""
        now = timezone.now()
        token = uuid.uuid4()
        claimed = self.filter(pk=pk, status__in=self.model.REPLAYABLE).update(
            status=self.model.Status.REPLAYING,
            replay_token=token,
            replay_requested_at=now,
            replay_requested_by=user if user is not None and getattr(user, "pk", None) else None,
            replay_started_at=None,
            replay_lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
            bulk_action=bulk,
        )
        return token if claimed == 1 else None

    def start_replay(self, pk: int, token) -> bool:
        """The claim's holder starts it, once (a duplicate task finds it started); the lease now
        covers a whole delivery."""
        now = timezone.now()
        return (
            self.filter(
                pk=pk, status=self.model.Status.REPLAYING, replay_token=token, replay_started_at__isnull=True
            ).update(replay_started_at=now, replay_lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS))
            == 1
        )

    def settle_replay(self, pk: int, token, **outcome) -> bool:
        """replaying → replayed/failed with the outcome's fields; True when this ended the claim. A
        letter the sweeper already marked failed (the run was merely slow) still gets the truth,
        but the sweeper has reported it."""
        mine = self.filter(pk=pk, replay_token=token)
        if mine.filter(status=self.model.Status.REPLAYING).update(**outcome):
            return True
        mine.filter(status=self.model.Status.FAILED).update(**outcome)
        return False

    def lost_replays(self, now: datetime) -> DeadLetterQuerySet:
        """Claimed, never started, lease over: the task was lost (or the queue is far behind)."""
        return self.filter(
            status=self.model.Status.REPLAYING, replay_lease_until__lt=now, replay_started_at__isnull=True
        )

    def requeue_lost(self, pk: int, token, now: datetime) -> bool:
        """Give a lost replay a new lease (the caller queues its task again)."""
        return (
            self.filter(pk=pk, replay_token=token, replay_started_at__isnull=True, replay_lease_until__lt=now).update(
                replay_lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS)
            )
            == 1
        )

    def interrupted_replays(self, now: datetime) -> DeadLetterQuerySet:
        """Started, not finished, lease over: the worker died mid-delivery."""
        return self.filter(
            status=self.model.Status.REPLAYING, replay_lease_until__lt=now, replay_started_at__isnull=False
        )

    def fail_interrupted(self, pk: int, token, now: datetime) -> bool:
        """replaying → failed, not retried: the app may have received it, and an operator decides."""
        return (
            self.filter(
                pk=pk, replay_token=token, status=self.model.Status.REPLAYING, replay_lease_until__lt=now
            ).update(
                status=self.model.Status.FAILED,
                last_error="replay interrupted: the worker stopped before it finished (lease expired); replay again",
                replay_lease_until=None,
            )
            == 1
        )


class DeadLetter(models.Model):
    """An event whose delivery budget was spent, or that the app refused for good.

    open ──claim_replay──▶ replaying ──start_replay, settle_replay──▶ replayed (the event is delivered)
    failed ◀──────────────────┘ └──settle_replay / fail_interrupted──▶ failed (the new attempts are
                                                                       kept; may be replayed again)
    A claim never started is queued again (requeue_lost); open, failed and replayed ones may be deleted.
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

    objects = DeadLetterQuerySet.as_manager()

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


class BulkActionQuerySet(models.QuerySet):
    """The bulk action's moves, each one conditional UPDATE (BulkAction's docstring)."""

    def take_slice(self, pk: int, token: str | None, span_s: float) -> BulkAction | None:
        """Become the runner of an active, not yet dispatched set: with the token it was handed, or
        once the lease ran out (the runner died or its task was lost). queued → running."""
        now = timezone.now()
        holder = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        if token:
            holder |= Q(runner_token=token)
        taken = (
            self.filter(pk=pk, status__in=self.model.ACTIVE, dispatch_complete=False)
            .filter(holder)
            .update(
                status=self.model.Status.RUNNING, runner_token=uuid.uuid4(), lease_until=now + timedelta(seconds=span_s)
            )
        )
        if taken != 1:
            return None
        self.filter(pk=pk, started_at__isnull=True).update(started_at=now)
        return self.get(pk=pk)

    def hand_over(self, pk: int, runner_token, lease_s: float) -> uuid.UUID | None:
        """The runner's slice is over: a new token for its successor (None: it was not the runner)."""
        handover = uuid.uuid4()
        moved = self.filter(pk=pk, runner_token=runner_token).update(
            runner_token=handover, lease_until=timezone.now() + timedelta(seconds=lease_s)
        )
        return handover if moved else None

    def resume_expired(self, pk: int, now: datetime, lease_s: float) -> uuid.UUID | None:
        """A background runner whose lease ran out: a token for a fresh runner (the sweeper's)."""
        token = uuid.uuid4()
        moved = self.filter(pk=pk, lease_until__lt=now).update(
            runner_token=token, lease_until=now + timedelta(seconds=lease_s)
        )
        return token if moved else None

    def progress(self, pk: int, *, cursor_id: int, lease_s: float, seen=0, done=0, failed=0, skipped=0) -> None:
        """Move the cursor and the counters with every item, so a successor resumes where it stopped."""
        self.filter(pk=pk).update(
            cursor_id=cursor_id,
            seen=F("seen") + seen,
            done=F("done") + done,
            failed=F("failed") + failed,
            skipped=F("skipped") + skipped,
            lease_until=timezone.now() + timedelta(seconds=lease_s),
        )

    def dispatched(self, pk: int, settle_s: float) -> None:
        """Every item handed out; the outstanding replays have `settle_s` to report back."""
        self.filter(pk=pk).update(dispatch_complete=True, lease_until=timezone.now() + timedelta(seconds=settle_s))

    def count_outcome(self, pk: int, outcome: str, settle_s: float) -> None:
        """One replay reported back ("done" or "failed"); a finished dispatch keeps waiting for the rest."""
        self.filter(pk=pk).update(**{outcome: F(outcome) + 1})
        self.filter(pk=pk, dispatch_complete=True, status__in=self.model.ACTIVE).update(
            lease_until=timezone.now() + timedelta(seconds=settle_s)
        )

    def finish_if_settled(self, pk: int, *, force: bool = False) -> bool:
        """running → done/cancelled once the dispatch is complete and every item has an outcome (or
        at once with `force`); the last reporter and the runner cannot both finish it."""
        qs = self.filter(pk=pk, status__in=self.model.ACTIVE, dispatch_complete=True)
        if not force:
            qs = qs.filter(seen=F("done") + F("failed") + F("skipped"))
        return (
            qs.update(
                status=Case(
                    When(cancel_requested=True, then=Value(self.model.Status.CANCELLED)),
                    default=Value(self.model.Status.DONE),
                ),
                finished_at=timezone.now(),
                lease_until=None,
                runner_token=None,
            )
            > 0
        )

    def cancel_queued(self, pk: int, name: str) -> bool:
        """queued → cancelled outright (a runner arriving later finds nothing to do)."""
        return (
            self.filter(pk=pk, status=self.model.Status.QUEUED).update(
                status=self.model.Status.CANCELLED,
                cancel_requested=True,
                cancelled_by_name=name,
                dispatch_complete=True,
                finished_at=timezone.now(),
                lease_until=None,
            )
            == 1
        )

    def request_cancel(self, pk: int, name: str) -> bool:
        """A running dispatch stops before its next item; replays already handed out still finish."""
        return (
            self.filter(
                pk=pk, status=self.model.Status.RUNNING, dispatch_complete=False, cancel_requested=False
            ).update(cancel_requested=True, cancelled_by_name=name)
            == 1
        )

    def stop_dispatch(self, pk: int, name: str) -> None:
        """The command running it inline was interrupted: what it reached stays counted."""
        self.filter(pk=pk, status__in=self.model.ACTIVE).update(
            cancel_requested=True, cancelled_by_name=name, dispatch_complete=True
        )

    def fail(self, pk: int, error: str) -> None:
        """running → failed: the runner raised."""
        self.filter(pk=pk).update(
            status=self.model.Status.FAILED, error=error, finished_at=timezone.now(), lease_until=None
        )

    def fail_abandoned(self, pk: int, now: datetime) -> bool:
        """An inline run whose lease ran out: the command stopped (the sweeper's)."""
        return (
            self.filter(pk=pk, lease_until__lt=now).update(
                status=self.model.Status.FAILED,
                error="the command stopped before it finished",
                dispatch_complete=True,
                finished_at=now,
                lease_until=None,
            )
            == 1
        )


class BulkAction(models.Model):
    """A replay or delete of a fixed set of dead letters, run in the background.

    queued ──take_slice──▶ running ──(slices: hand_over / resume_expired)──▶ dispatched ──finish_if_settled──▶ done
       └──cancel_queued──▶ cancelled ◀──finish_if_settled── (request_cancel / stop_dispatch)
    running ──fail / fail_abandoned──▶ failed

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

    objects = BulkActionQuerySet.as_manager()

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

    def write_summary(self) -> None:
        """The outcome sentence, stored once the action has ended (re-read first: counters move in SQL)."""
        self.refresh_from_db()
        self.summary = self.describe_outcome()
        if self.status == self.Status.FAILED and self.error:
            self.summary += f"; stopped by an error: {self.error}"
        self.save(update_fields=["summary"])
