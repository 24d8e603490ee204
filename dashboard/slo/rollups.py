"""Per-minute SLO rollups, recomputed from the raw tables (never added to).

schedule "slo-rollup" (every minute) → rollup_recent → rollup_range → SloMinute rows
schedule "slo-daily-report" → rollup_range(the previous day) first, to fill any gap

Sources per minute [m, m + 1 min):
- ingress latency and 5xx: telemetry.LatencyMinute, series "ingress" (the telemetry flushes);
- events received: WebhookEvent.received_at; delivered: WebhookEvent.delivered_at;
- dead-lettered: by the minute its *event* was received (DeadLetter.event.received_at), so an
  event and its dead letter always fall in one minute and the error rate's bad events never
  exceed its total at a window's edge; a dead letter created after its event's minute was rolled
  up makes the rollup job recompute that minute (rollup_recent, step 4);
- the app's response times: DeliveryAttempt.started_at and duration_ms;
- uptime: the SLO_UPTIME_PROBE's ProbeResult rows, warn counting as up.
Synthetic events (and ingress answers marked synthetic) are left out unless SLO_INCLUDE_SYNTHETIC.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import TruncMinute
from django.utils import timezone

from dashboard.health.models import ProbeResult
from dashboard.slo.models import APP_BUCKETS, INGRESS_BUCKETS, SloMinute
from deadletters.models import DeadLetter
from timedify_ops.lib.histogram import BUCKETS, EDGES_MS, Histogram
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import DeliveryAttempt, WebhookEvent

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
# A first run, or a run after downtime, rolls up at most this far back (the daily job fills days).
CATCH_UP = timedelta(hours=24)

# Outcomes the ingress (webhooks.views) names, by status class; others are "http_<code>".
OUTCOME_CLASS = {
    "accepted": 2,
    "duplicate": 2,
    "unauthorized": 4,
    "bad_request": 4,
    "too_large": 4,
    "unavailable": 5,
}
SUM_FIELDS = [
    "ingress_count",
    "ingress_sum_ms",
    *INGRESS_BUCKETS,
    "ingress_5xx",
    "received",
    "dead_lettered",
    "delivered_first_try",
    "delivered_after_retries",
    "attempts",
    "attempts_failed",
    "app_sum_ms",
    *APP_BUCKETS,
    "probe_checks",
    "probe_up",
]


def status_class(outcome: str) -> int | None:
    if outcome in OUTCOME_CLASS:
        return OUTCOME_CLASS[outcome]
    if outcome.startswith("http_") and outcome[5:].isdigit():
        return int(outcome[5:]) // 100
    return None


def counts_for_latency(outcome: str) -> bool:
    """Every answer but a 4xx: unsigned, malformed, oversized or wrong-method requests are
    refused by design and are not what Shopify waits for."""
    return status_class(outcome) != 4


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _synthetic_filter(field: str = "synthetic") -> Q:
    return Q() if settings.SLO_INCLUDE_SYNTHETIC else Q(**{field: False})


def _bucket_case(field: str) -> Case:
    """The histogram bucket of a duration, in SQL: bucket i holds EDGES[i-1] < v ≤ EDGES[i]."""
    whens = [When(**{f"{field}__lte": edge}, then=Value(index)) for index, edge in enumerate(EDGES_MS)]
    return Case(*whens, default=Value(BUCKETS - 1), output_field=IntegerField())


def _ingress(rows: dict, start: datetime, end: datetime) -> None:
    include_synthetic = settings.SLO_INCLUDE_SYNTHETIC
    for latency in LatencyMinute.objects.filter(series="ingress", minute__gte=start, minute__lt=end):
        labels = latency.label_dict()
        if labels.get("synthetic") == "1" and not include_synthetic:
            continue
        outcome = labels.get("outcome", "")
        row = rows[floor_minute(latency.minute)]
        if status_class(outcome) == 5:
            row["ingress_5xx"] += latency.count
        if counts_for_latency(outcome):
            row["_ingress"].merge(latency.histogram())


def _received(rows: dict, start: datetime, end: datetime) -> None:
    # Range on the event_received_at index.
    received = (
        WebhookEvent.objects.filter(received_at__gte=start, received_at__lt=end)
        .filter(_synthetic_filter())
        .annotate(at=TruncMinute("received_at"))
        .values("at")
        .annotate(n=Count("id"))
    )
    for item in received:
        rows[floor_minute(item["at"])]["received"] = item["n"]


def _delivered(rows: dict, start: datetime, end: datetime) -> None:
    # Range on the event_delivered_at index.
    delivered = (
        WebhookEvent.objects.filter(delivered_at__gte=start, delivered_at__lt=end)
        .filter(_synthetic_filter())
        .annotate(at=TruncMinute("delivered_at"))
        .values("at")
        .annotate(first=Count("id", filter=Q(attempts__lte=1)), later=Count("id", filter=Q(attempts__gt=1)))
    )
    for item in delivered:
        row = rows[floor_minute(item["at"])]
        row["delivered_first_try"] = item["first"]
        row["delivered_after_retries"] = item["later"]


def _dead_lettered(rows: dict, start: datetime, end: datetime) -> None:
    # By the event's minute: a range on the event_received_at index, joined to each event's one
    # dead letter on its unique event_id.
    letters = (
        DeadLetter.objects.filter(event__received_at__gte=start, event__received_at__lt=end)
        .filter(_synthetic_filter("event__synthetic"))
        .annotate(at=TruncMinute("event__received_at"))
        .values("at")
        .annotate(n=Count("id"))
    )
    for item in letters:
        rows[floor_minute(item["at"])]["dead_lettered"] = item["n"]


def _attempts(rows: dict, start: datetime, end: datetime) -> None:
    # Range on the attempt_started_at index.
    failed = Q(status_code__isnull=True) | Q(status_code__lt=200) | Q(status_code__gt=299)
    attempts = (
        DeliveryAttempt.objects.filter(started_at__gte=start, started_at__lt=end)
        .filter(_synthetic_filter("event__synthetic"))
        .annotate(at=TruncMinute("started_at"), bucket=_bucket_case("duration_ms"))
        .values("at", "bucket")
        .annotate(n=Count("id"), failed=Count("id", filter=failed), ms=Sum("duration_ms"))
    )
    for item in attempts:
        row = rows[floor_minute(item["at"])]
        row["attempts"] += item["n"]
        row["attempts_failed"] += item["failed"]
        row["app_sum_ms"] += item["ms"] or 0.0
        row[APP_BUCKETS[item["bucket"]]] += item["n"]


def _uptime(rows: dict, start: datetime, end: datetime) -> None:
    # Range on the probe_result_probe_time index (probe, checked_at).
    checks = (
        ProbeResult.objects.filter(probe=settings.SLO_UPTIME_PROBE, checked_at__gte=start, checked_at__lt=end)
        .annotate(at=TruncMinute("checked_at"))
        .values("at")
        .annotate(n=Count("id"), up=Count("id", filter=Q(state__in=["ok", "warn"])))
    )
    for item in checks:
        row = rows[floor_minute(item["at"])]
        row["probe_checks"] = item["n"]
        row["probe_up"] = item["up"]


def compute_minutes(start: datetime, end: datetime) -> list[SloMinute]:
    """The rollup rows for every minute in [start, end), read from the raw tables; not saved."""
    start, end = floor_minute(start), floor_minute(end)

    def empty():
        row = dict.fromkeys(SUM_FIELDS, 0)
        row["_ingress"] = Histogram()
        return row

    rows: dict[datetime, dict] = defaultdict(empty)
    for source in (_ingress, _received, _delivered, _dead_lettered, _attempts, _uptime):
        source(rows, start, end)
    now = timezone.now()
    result = []
    minute = start
    while minute < end:
        values = rows[minute] if minute in rows else empty()
        histogram: Histogram = values.pop("_ingress")
        values["ingress_count"] = histogram.count
        values["ingress_sum_ms"] = round(histogram.total_ms, 3)
        values.update(zip(INGRESS_BUCKETS, histogram.counts, strict=True))
        values["app_sum_ms"] = round(values["app_sum_ms"], 3)
        result.append(SloMinute(minute=minute, computed_at=now, **values))
        minute += MINUTE
    return result


def rollup_range(start: datetime, end: datetime, *, only_missing: bool = False) -> int:
    """Recompute and store every minute in [start, end) (one upsert per row, by minute).

    only_missing: keep the minutes already rolled up and fill the others only (`slo_report`
    on an old day, whose raw rows retention may have deleted, must not overwrite them with zeros).
    """
    rows = compute_minutes(start, end)
    if only_missing:
        existing = set(SloMinute.objects.filter(minute__gte=start, minute__lt=end).values_list("minute", flat=True))
        rows = [row for row in rows if row.minute not in existing]
    if rows:
        SloMinute.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["minute"],
            update_fields=[*SUM_FIELDS, "computed_at"],
            batch_size=500,
        )
    return len(rows)


def rollup_recent(now: datetime | None = None) -> dict:
    """The "slo-rollup" job: the last SLO_ROLLUP_MINUTES closed minutes, and any gap before them.

    1. The newest closed minute ends at `now` floored to the minute (the current one is open).
    2. Recompute the last SLO_ROLLUP_MINUTES minutes: telemetry flushes and attempt rows
       can land a little after their minute closed.
    3. If the newest stored row is older than that (first run, scheduler downtime), start
       right after it instead, at most CATCH_UP back.
    4. Recompute the older minutes (at most CATCH_UP back) whose events were dead-lettered
       within the recomputed span: dead letters count in their event's minute, which was rolled
       up before the delivery gave up (a held event can be dead-lettered long after it arrived).
    """
    end = floor_minute(now or timezone.now())
    start = end - settings.SLO_ROLLUP_MINUTES * MINUTE
    newest = SloMinute.objects.filter(minute__lt=end).aggregate(newest=Max("minute"))["newest"]
    oldest_allowed = end - CATCH_UP
    if newest is None:
        start = oldest_allowed
    elif newest + MINUTE < start:
        start = max(newest + MINUTE, oldest_allowed)
    written = rollup_range(start, end)
    late = (
        DeadLetter.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(event__received_at__lt=start, event__received_at__gte=oldest_allowed)
        .annotate(at=TruncMinute("event__received_at"))
        .values_list("at", flat=True)
        .distinct()
    )
    for first, last in _runs(sorted({floor_minute(moment) for moment in late})):
        written += rollup_range(first, last + MINUTE)
    return summary(written, start, end)


def summary(written: int, start: datetime, end: datetime) -> dict:
    """The rollup job's result, as its JobRun keeps it."""
    return {"minutes": written, "from": start.isoformat(), "to": end.isoformat()}


def _runs(minutes: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive minutes as (first, last) pairs, so a run of them is one recompute."""
    found: list[tuple[datetime, datetime]] = []
    for minute in minutes:
        if found and minute - found[-1][1] == MINUTE:
            found[-1] = (found[-1][0], minute)
        else:
            found.append((minute, minute))
    return found
