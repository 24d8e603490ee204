"""Alerting's tables: the state of each rule, the alerts it fired, and every notification sent.

The tables are the ones the console app created (`db_table`): the models moved here without
copying a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RuleState(models.Model):
    """The last evaluation of one rule (one row per rule key), written by the alerting job.

    `pending_since` is when the condition started to hold: the rule fires once it has held
    for the rule's "for" duration, so a condition that comes and goes never notifies.
    """

    key = models.CharField(max_length=64, unique=True)
    evaluated_at = models.DateTimeField(default=timezone.now)
    breaching = models.BooleanField(default=False)
    pending_since = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="", help_text="Why the last evaluation failed, if it did.")

    class Meta:
        db_table = "dashboard_rulestate"

    def __str__(self) -> str:
        return f"{self.key}: {'breaching' if self.breaching else 'ok'}"


class AlertQuerySet(models.QuerySet):
    """An alert's moves, each one conditional UPDATE, so two alerting runs (the job and
    `alerting_check --notify` at once) never both notify, and two operators never both acknowledge."""

    def firing(self) -> AlertQuerySet:
        return self.filter(resolved_at__isnull=True)

    def claim_repeat(self, alert: Alert, now) -> bool:
        """Take the repeat notification: only the run that moves `last_notified_at` on sends it."""
        claimed = self.filter(pk=alert.pk, last_notified_at=alert.last_notified_at).update(last_notified_at=now) == 1
        if claimed:
            alert.last_notified_at = now
        return claimed

    def resolve(self, alert: Alert, now, value: float | None) -> bool:
        """firing → resolved, once."""
        resolved = (
            self.filter(pk=alert.pk, resolved_at__isnull=True).update(
                resolved_at=now, last_seen_at=now, value=value, last_notified_at=now
            )
            == 1
        )
        if resolved:
            alert.resolved_at = alert.last_seen_at = alert.last_notified_at = now
            alert.value = value
        return resolved

    def acknowledge(self, pk: int, user) -> bool:
        """firing → acknowledged (repeats stop); only an open, unacknowledged alert can be taken."""
        return (
            self.filter(pk=pk, resolved_at__isnull=True, acknowledged_at__isnull=True).update(
                acknowledged_at=timezone.now(), acknowledged_by=user
            )
            == 1
        )


class Alert(models.Model):
    """One firing episode of a rule: created when it fires, updated while it fires, resolved once.

    (fires: created, the one open alert of its rule) firing ──claim_repeat──▶ firing (notified again)
    firing ──acknowledge──▶ acknowledged (no more repeats) ──resolve──▶ resolved ◀──resolve── firing
    """

    rule_key = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=16, help_text="health (exit 1) or pattern/slo (exit 2)")
    severity = models.CharField(max_length=16, default="warning")
    pending_since = models.DateTimeField(help_text="When the condition started to hold.")
    fired_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    peak_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    last_notified_at = models.DateTimeField(null=True, blank=True)
    repeats = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        db_table = "dashboard_alert"
        ordering = ["-fired_at", "-id"]
        constraints = [
            # One open alert per rule: a second alerting run (the job and `alerting_check --notify`
            # at once) cannot fire the same rule twice. Also serves "firing now".
            models.UniqueConstraint(
                fields=["rule_key"], condition=Q(resolved_at__isnull=True), name="alert_one_open_per_rule"
            ),
        ]
        indexes = [
            # /alerts/ history, newest first, keyset on (fired_at, id).
            models.Index(fields=["-fired_at", "-id"], name="alert_fired"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_key} fired {self.fired_at:%Y-%m-%d %H:%M}"

    @property
    def is_firing(self) -> bool:
        return self.resolved_at is None

    @property
    def status(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at else "firing"

    @property
    def duration(self):
        return (self.resolved_at or timezone.now()) - self.fired_at


class Notification(models.Model):
    """One send to one channel, successful or not: a failed notification is shown on /alerts/."""

    class Channel(models.TextChoices):
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "webhook"
        EMAIL = "email", "email"

    class Event(models.TextChoices):
        FIRE = "fire", "fire"
        REPEAT = "repeat", "repeat"
        RESOLVE = "resolve", "resolve"
        TEST = "test", "test"
        REPORT = "report", "report"  # e.g. the daily SLO summary, when it is sent through these channels

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=16, choices=Event.choices)
    created_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True, help_text="Null on a network error or email.")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=1)
    duration_ms = models.FloatField(default=0)
    # Where it went, without credentials: a host name or the email addresses.
    target = models.CharField(max_length=300, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "dashboard_notification"
        ordering = ["-created_at", "-id"]
        indexes = [
            # /alerts/ "failed notifications" (partial: stays small) and retention by age.
            models.Index(fields=["-created_at"], name="notification_failed", condition=Q(ok=False)),
            models.Index(fields=["created_at"], name="notification_created"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} {'ok' if self.ok else 'failed'}"
