"""Retention policies: which rows of which table expire, by which indexed timestamp.

Ages come from settings (RETENTION_*). A policy whose model is not installed (its room has
not merged yet) is skipped and reported as such. To add one, append a Policy to POLICIES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet


@dataclass(frozen=True)
class Policy:
    kind: str  # key in RetentionRun.deleted
    model: str  # "app_label.Model"
    field: str  # the timestamp rows expire by; batches are selected in its order
    max_age: Callable[[], timedelta]
    description: str
    # Narrows the expired rows (e.g. never an event with an open dead letter).
    keep: Callable[[QuerySet, datetime], QuerySet] | None = None

    def model_class(self):
        try:
            return apps.get_model(self.model)
        except LookupError:
            return None

    def expired(self, now: datetime, max_age: timedelta | None = None) -> QuerySet:
        model = self.model_class()
        cutoff = now - (max_age or self.max_age())
        queryset = model._default_manager.filter(**{f"{self.field}__lt": cutoff})
        return self.keep(queryset, now) if self.keep else queryset


def _days(setting: str) -> Callable[[], timedelta]:
    return lambda: timedelta(days=getattr(settings, setting))


def replayed_dead_letter_age() -> timedelta:
    """DEADLETTER_REPLAYED_GRACE: the same grace as `replay_deadletters --cleanup`."""
    return settings.DEADLETTER_REPLAYED_GRACE


def keep_events_that_need_an_operator(queryset: QuerySet, now: datetime) -> QuerySet:
    """Retention never deletes an event that is still in flight, whose dead letter is open, failed
    or replaying, or whose dead letter was replayed too recently for its own policy to remove it."""
    from deadletters.models import DeadLetter
    from webhooks.models import WebhookEvent

    DL = DeadLetter.Status
    needed = DeadLetter.objects.filter(event=OuterRef("pk")).filter(
        Q(status__in=[DL.OPEN, DL.FAILED, DL.REPLAYING])
        | Q(status=DL.REPLAYED, replayed_at__gte=now - replayed_dead_letter_age())
    )
    return queryset.exclude(status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING]).filter(
        ~Exists(needed)
    )


def only_replayed(queryset: QuerySet, now: datetime) -> QuerySet:
    return queryset.filter(status="replayed")


# Model label → kind, for rows deleted by cascade (an event takes its attempts along).
KIND_OF_MODEL = {
    "webhooks.WebhookEvent": "webhook_events",
    "webhooks.DeliveryAttempt": "delivery_attempts",
    "deadletters.DeadLetter": "dead_letters",
}

POLICIES: list[Policy] = [
    Policy(
        "dead_letters",
        "deadletters.DeadLetter",
        "replayed_at",
        replayed_dead_letter_age,
        "dead letters replayed more than DEADLETTER_REPLAYED_GRACE ago",
        keep=only_replayed,
    ),
    Policy(
        "notifications",
        "dashboard.Notification",
        "created_at",
        _days("RETENTION_NOTIFICATION_DAYS"),
        "alert notifications",
    ),
    Policy("job_runs", "dashboard.JobRun", "started_at", _days("RETENTION_JOBRUN_DAYS"), "schedule runs"),
    Policy("task_results", "django_q.Task", "stopped", _days("RETENTION_TASK_RESULT_DAYS"), "django-q2 task results"),
    Policy(
        "probe_results", "dashboard.ProbeResult", "checked_at", _days("RETENTION_PROBE_RESULT_DAYS"), "probe results"
    ),
    Policy("probe_flips", "dashboard.ProbeFlip", "at", _days("RETENTION_PROBE_FLIP_DAYS"), "probe status flips"),
    Policy("log_entries", "dashboard.LogEntry", "timestamp", _days("RETENTION_LOG_DAYS"), "log entries"),
    # Issue 6's per-minute SLO rollups (daily reports are kept): point this at its model when it merges.
    Policy("slo_minutes", "dashboard.SloMinute", "minute", _days("RETENTION_ROLLUP_DAYS"), "per-minute SLO rollups"),
    Policy(
        "latency_minutes",
        "dashboard.LatencyMinute",
        "minute",
        _days("RETENTION_ROLLUP_DAYS"),
        "per-minute latency histograms",
    ),
    # Last and largest: when a run's time budget ends here, everything smaller is already done.
    Policy(
        "webhook_events",
        "webhooks.WebhookEvent",
        "received_at",
        _days("RETENTION_EVENT_DAYS"),
        "webhook events with their attempts (never one an operator still needs)",
        keep=keep_events_that_need_an_operator,
    ),
]


def get_policy(kind: str) -> Policy:
    for policy in POLICIES:
        if policy.kind == kind:
            return policy
    raise KeyError(kind)
