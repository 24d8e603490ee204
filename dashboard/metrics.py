"""GET /metrics: Prometheus text exposition, the same figures whichever gunicorn worker answers.

Everything comes from the database: cumulative counters and histograms that every process
adds to (timedify_ops.telemetry), and gauges read at scrape time. Rooms add collectors to
COLLECTORS; each yields MetricFamily objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Min
from django.utils import timezone

from deadletters.models import DeadLetter
from timedify_ops.lib.histogram import EDGES_MS, Histogram
from timedify_ops.telemetry.models import LatencyTotal, MetricCounter
from webhooks.models import WebhookEvent

PREFIX = "timedify_"


@dataclass
class MetricFamily:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((suffix, labels, value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(families: list[MetricFamily]) -> str:
    lines = []
    for family in families:
        name = PREFIX + family.name
        lines.append(f"# HELP {name} {family.help}")
        lines.append(f"# TYPE {name} {family.kind}")
        for suffix, labels, value in family.samples:
            label_text = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
            lines.append(
                f"{name}{suffix}{{{label_text}}} {_number(value)}" if label_text else f"{name}{suffix} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


def _labels(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def counter_family(counter: str, name: str, help_text: str) -> MetricFamily:
    family = MetricFamily(name, "counter", help_text)
    for row in MetricCounter.objects.filter(name=counter).order_by("labels"):
        family.add(row.value, **_labels(row.labels))
    return family


def histogram_family(series: str, name: str, help_text: str, keep: tuple[str, ...]) -> MetricFamily:
    """A cumulative histogram in seconds, summed over the label values not in `keep`."""
    family = MetricFamily(name, "histogram", help_text)
    grouped: dict[tuple, Histogram] = {}
    for row in LatencyTotal.objects.filter(series=series):
        labels = row.label_dict()
        key = tuple((label, labels.get(label, "")) for label in keep)
        grouped.setdefault(key, Histogram()).merge(row.histogram())
    for key, histogram in sorted(grouped.items()):
        labels = dict(key)
        for edge, cumulative in zip([*EDGES_MS, math.inf], histogram.cumulative(), strict=True):
            le = "+Inf" if math.isinf(edge) else _number(edge / 1000)
            family.add(cumulative, "_bucket", **labels, le=le)
        family.add(histogram.total_ms / 1000, "_sum", **labels)
        family.add(histogram.count, "_count", **labels)
    return family


def pipeline_metrics() -> Iterator[MetricFamily]:
    yield counter_family(
        "webhooks_ingress_total",
        "webhooks_ingress_total",
        "Webhook ingress requests by topic and outcome (accepted, duplicate, unauthorized, bad_request, …).",
    )
    yield histogram_family(
        "ingress", "ingress_duration_seconds", "Ingress response time, request start to response ready.", ("outcome",)
    )
    yield counter_family("deliveries_total", "deliveries_total", "Finished deliveries by outcome.")
    open_letters = MetricFamily("deadletters_open", "gauge", "Dead letters waiting for an operator.")
    open_letters.add(DeadLetter.objects.filter(status=DeadLetter.Status.OPEN).count())
    yield open_letters
    oldest = WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING]
    ).aggregate(oldest=Min("enqueued_at"))["oldest"]
    backlog = MetricFamily("backlog_oldest_age_seconds", "gauge", "Age of the oldest event not yet delivered.")
    backlog.add(max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0)
    yield backlog


def query_metrics() -> Iterator[MetricFamily]:
    family = histogram_family(
        "db_query", "db_query_duration_seconds", "Database query time of timedify-ops itself by kind.", ("kind",)
    )
    yield family
    totals = MetricFamily("db_queries_total", "counter", "Database queries by kind.")
    errors = MetricFamily("db_query_errors_total", "counter", "Database queries that raised, by kind.")
    by_kind: dict[tuple[str, str], int] = {}
    for row in LatencyTotal.objects.filter(series="db_query"):
        labels = row.label_dict()
        key = (labels.get("kind", "other"), labels.get("ok", "1"))
        by_kind[key] = by_kind.get(key, 0) + row.count
    for kind in sorted({kind for kind, _ in by_kind}):
        totals.add(by_kind.get((kind, "1"), 0) + by_kind.get((kind, "0"), 0), kind=kind)
        errors.add(by_kind.get((kind, "0"), 0), kind=kind)
    yield totals
    yield errors


def operations_metrics() -> Iterator[MetricFamily]:
    yield counter_family(
        "notifications_total", "notifications_total", "Alert notifications sent, by channel and ok (1) or failed (0)."
    )
    yield counter_family(
        "log_lines_ingested_total", "log_lines_ingested_total", "Lines posted to /logs/ingest, accepted or rejected."
    )


COLLECTORS: list[Callable[[], Iterator[MetricFamily]]] = [pipeline_metrics, query_metrics, operations_metrics]


def collect() -> str:
    families: list[MetricFamily] = []
    for collector in COLLECTORS:
        families.extend(collector())
    return render(families)
