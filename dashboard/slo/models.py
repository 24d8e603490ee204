"""SLO rollups: one row per UTC minute, and one report per UTC day.

Written by dashboard.slo.rollups (every minute) and dashboard.slo.report (daily); read by
/slo/, /slo/daily/, `slo_report` and the alerting room (dashboard.slo.services.current_status).

The tables are the ones the console app created (`db_table`): the models moved here without
copying a row.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from timedify_ops.lib.histogram import BUCKETS, Histogram

INGRESS_BUCKETS = [f"i{index:02d}" for index in range(BUCKETS)]
APP_BUCKETS = [f"a{index:02d}" for index in range(BUCKETS)]


class SloMinute(models.Model):
    """Every SLO input for one closed UTC minute, recomputed from the raw tables.

    Idempotent: recomputing a minute from the same raw rows writes the same row (the rollup
    overwrites, it never adds). Synthetic events and synthetic ingress answers are left out
    unless SLO_INCLUDE_SYNTHETIC is on. Histogram buckets use the edges of
    timedify_ops.lib.histogram.EDGES_MS (i00/a00 ≤ 1 ms … i15/a15 > 10 s), so the latency SLI
    works for any threshold that is an edge, without recomputing anything.
    """

    minute = models.DateTimeField(unique=True, help_text="Start of the UTC minute.")
    # Ingress answers counted for the latency SLI: every outcome but the 4xx ones (unsigned,
    # malformed, oversized or wrong-method requests are the sender's fault, not our latency).
    ingress_count = models.IntegerField(default=0)
    ingress_sum_ms = models.FloatField(default=0)
    i00 = models.IntegerField(default=0)
    i01 = models.IntegerField(default=0)
    i02 = models.IntegerField(default=0)
    i03 = models.IntegerField(default=0)
    i04 = models.IntegerField(default=0)
    i05 = models.IntegerField(default=0)
    i06 = models.IntegerField(default=0)
    i07 = models.IntegerField(default=0)
    i08 = models.IntegerField(default=0)
    i09 = models.IntegerField(default=0)
    i10 = models.IntegerField(default=0)
    i11 = models.IntegerField(default=0)
    i12 = models.IntegerField(default=0)
    i13 = models.IntegerField(default=0)
    i14 = models.IntegerField(default=0)
    i15 = models.IntegerField(default=0)
    # Ingress answers with a 5xx status (503 "could not store", or an unhandled 500).
    ingress_5xx = models.IntegerField(default=0)
    # Events stored (WebhookEvent.received_at in this minute) and dead-lettered (DeadLetter.created_at).
    received = models.IntegerField(default=0)
    dead_lettered = models.IntegerField(default=0)
    # Events delivered in this minute (delivered_at): on their first attempt or after more.
    delivered_first_try = models.IntegerField(default=0)
    delivered_after_retries = models.IntegerField(default=0)
    # The app's response times: every DeliveryAttempt started in this minute.
    attempts = models.IntegerField(default=0)
    attempts_failed = models.IntegerField(default=0)
    app_sum_ms = models.FloatField(default=0)
    a00 = models.IntegerField(default=0)
    a01 = models.IntegerField(default=0)
    a02 = models.IntegerField(default=0)
    a03 = models.IntegerField(default=0)
    a04 = models.IntegerField(default=0)
    a05 = models.IntegerField(default=0)
    a06 = models.IntegerField(default=0)
    a07 = models.IntegerField(default=0)
    a08 = models.IntegerField(default=0)
    a09 = models.IntegerField(default=0)
    a10 = models.IntegerField(default=0)
    a11 = models.IntegerField(default=0)
    a12 = models.IntegerField(default=0)
    a13 = models.IntegerField(default=0)
    a14 = models.IntegerField(default=0)
    a15 = models.IntegerField(default=0)
    # Checks of the uptime probe (SLO_UPTIME_PROBE, "app") in this minute; warn counts as up.
    probe_checks = models.IntegerField(default=0)
    probe_up = models.IntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "dashboard_slominute"
        ordering = ["minute"]
        # The unique index on `minute` serves every read: windows and chart ranges are minute ranges.

    def __str__(self) -> str:
        return f"SLO minute {self.minute:%Y-%m-%d %H:%M}"

    def ingress_histogram(self) -> Histogram:
        return Histogram.from_counts([getattr(self, name) for name in INGRESS_BUCKETS], self.ingress_sum_ms)

    def app_histogram(self) -> Histogram:
        return Histogram.from_counts([getattr(self, name) for name in APP_BUCKETS], self.app_sum_ms)


class SloDailyReportQuerySet(models.QuerySet):
    def claim_notification(self, pk: int, at) -> bool:
        """Take the report for sending: only the run that sets `notified_at` sends it."""
        return self.filter(pk=pk, notified_at__isnull=True).update(notified_at=at) == 1

    def release_notification(self, pk: int) -> None:
        """Nothing went out: the next run of the job tries again."""
        self.filter(pk=pk).update(notified_at=None)


class SloDailyReport(models.Model):
    """The daily SLO summary of one UTC day (written by the "slo-daily-report" job, idempotently).

    not sent (notified_at null) ──claim_notification──▶ sent ──release_notification──▶ not sent
    (released when every channel failed)
    """

    date = models.DateField(unique=True)
    computed_at = models.DateTimeField(default=timezone.now)
    # False when any SLO was missed, None when no SLO had data that day.
    all_met = models.BooleanField(null=True)
    # Per SLO key: name, objective, value, met, good, bad, total, budget_consumed, burn_rate.
    slos = models.JSONField(default=dict)
    received = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    dead_lettered = models.IntegerField(default=0)
    replayed = models.IntegerField(default=0)
    # [{"probe", "at", "until", "detail"}] from the health board's flips to down.
    incidents = models.JSONField(null=True, blank=True, default=list)
    # [[topic, dead letters], …] and [[shop, dead letters], …], most first.
    top_topics = models.JSONField(default=list)
    top_shops = models.JSONField(default=list)
    # Set when the notification went out, so re-running the job does not send it twice.
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = SloDailyReportQuerySet.as_manager()

    class Meta:
        db_table = "dashboard_slodailyreport"
        # /slo/daily/ lists the newest days first (the unique index on `date` serves it).
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"SLO report {self.date:%Y-%m-%d}"
