from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from deadletters.models import DeadLetter
from timedify_ops.lib.histogram import Histogram
from timedify_ops.telemetry.models import LatencyMinute
from webhooks.models import WebhookEvent


@dataclass
class TodayCounts:
    since: datetime
    received: int
    delivered: int
    dead_lettered: int
    open_dead_letters: int
    pending: int


def start_of_utc_day(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.astimezone(timezone.get_fixed_timezone(0)).replace(hour=0, minute=0, second=0, microsecond=0)


def today_counts(now: datetime | None = None) -> TodayCounts:
    """Counts since midnight UTC; each is a range scan on an indexed column, never the whole table."""
    since = start_of_utc_day(now)
    return TodayCounts(
        since=since,
        received=WebhookEvent.objects.filter(received_at__gte=since).count(),
        delivered=WebhookEvent.objects.filter(delivered_at__gte=since).count(),
        dead_lettered=DeadLetter.objects.filter(created_at__gte=since).count(),
        open_dead_letters=DeadLetter.objects.filter(status=DeadLetter.Status.OPEN).count(),
        pending=WebhookEvent.objects.filter(
            status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING]
        ).count(),
    )


def recent_events(limit: int = 10):
    return list(WebhookEvent.objects.order_by("-received_at", "-pk").defer("body", "headers")[:limit])


@dataclass
class QueryHealth:
    window_minutes: int
    queries: int
    errors: int
    p95_bounds: tuple[float, float] | None
    p95_estimate_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return None if not self.queries else self.errors / self.queries


def query_health(now: datetime | None = None, window_minutes: int = 60) -> QueryHealth:
    """The overview's query panel: timedify-ops' own database queries over the last hour."""
    now = now or timezone.now()
    since = now - timedelta(minutes=window_minutes)
    total = Histogram()
    errors = 0
    for row in LatencyMinute.objects.filter(series="db_query", minute__gte=since):
        histogram = row.histogram()
        total.merge(histogram)
        if row.label_dict().get("ok") == "0":
            errors += histogram.count
    return QueryHealth(
        window_minutes=window_minutes,
        queries=total.count,
        errors=errors,
        p95_bounds=total.quantile_bounds(0.95),
        p95_estimate_ms=total.quantile(0.95),
    )
