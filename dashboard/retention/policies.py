"""Retention policies: which rows of which table expire, by which indexed timestamp.

Ages come from settings (RETENTION_*). To add one, append a Policy to POLICIES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_q.models import Task

from dashboard.alerts.models import Notification
from dashboard.health.models import ProbeFlip, ProbeResult
from dashboard.logs.models import LogEntry
from dashboard.slo.models import SloMinute
from deadletters.models import DeadLetter
from timedify_ops.jobs.models import JobRun
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import DeliveryAttempt, WebhookEvent


@dataclass(frozen=True)
class Policy:
    kind: str  # key in RetentionRun.deleted
    model: type[models.Model]
    field: str  # the timestamp rows expire by; batches are selected in its order
    max_age: Callable[[], timedelta]
    description: str
    # Narrows the expired rows (e.g. never an event with an open dead letter).
    keep: Callable[[QuerySet, datetime], QuerySet] | None = None

    def expired(self, now: datetime, max_age: timedelta | None = None) -> QuerySet:
        cutoff = now - (max_age or self.max_age())
        queryset = self.model._default_manager.filter(**{f"{self.field}__lt": cutoff})
        return self.keep(queryset, now) if self.keep else queryset


def _days(setting: str) -> Callable[[], timedelta]:
    return lambda: timedelta(days=getattr(settings, setting))


def replayed_dead_letter_age() -> timedelta:
    """DEADLETTER_REPLAYED_GRACE: the same grace as `replay_deadletters --cleanup`."""
    return settings.DEADLETTER_REPLAYED_GRACE


def keep_events_that_need_an_operator(queryset: QuerySet, now: datetime) -> QuerySet:
    """Retention never deletes an event that is still in flight, whose dead letter is open, failed
    or replaying, or whose dead letter was replayed too recently for its own policy to remove it."""
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
    WebhookEvent._meta.label: "webhook_events",
    DeliveryAttempt._meta.label: "delivery_attempts",
    DeadLetter._meta.label: "dead_letters",
}

POLICIES: list[Policy] = [
    Policy(
        "dead_letters",
        DeadLetter,
        "replayed_at",
        replayed_dead_letter_age,
        "dead letters replayed more than DEADLETTER_REPLAYED_GRACE ago",
        keep=only_replayed,
    ),
    Policy(
        "notifications",
        Notification,
        "created_at",
        _days("RETENTION_NOTIFICATION_DAYS"),
        "alert notifications",
    ),
    Policy("job_runs", JobRun, "started_at", _days("RETENTION_JOBRUN_DAYS"), "schedule runs"),
    Policy("task_results", Task, "stopped", _days("RETENTION_TASK_RESULT_DAYS"), "django-q2 task results"),
    Policy("probe_results", ProbeResult, "checked_at", _days("RETENTION_PROBE_RESULT_DAYS"), "probe results"),
    Policy("probe_flips", ProbeFlip, "at", _days("RETENTION_PROBE_FLIP_DAYS"), "probe status flips"),
    Policy("log_entries", LogEntry, "timestamp", _days("RETENTION_LOG_DAYS"), "log entries"),
    # The per-minute SLO rollups (the daily reports are kept).
    Policy("slo_minutes", SloMinute, "minute", _days("RETENTION_ROLLUP_DAYS"), "per-minute SLO rollups"),
    Policy(
        "latency_minutes",
        LatencyMinute,
        "minute",
        _days("RETENTION_ROLLUP_DAYS"),
        "per-minute latency histograms",
    ),
    # Last and largest: when a run's time budget ends here, everything smaller is already done.
    Policy(
        "webhook_events",
        WebhookEvent,
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
