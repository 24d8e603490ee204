"""The SLOs: definitions from settings, window sums over the rollups, status and chart series.

/slo/ → dashboard.slo.views.slo → slo_page → current_status + chart_series + burn_down_series
the alerting room → current_status()
The arithmetic (burn rates, rules, budgets) is timedify_ops.lib.slo; this module only sums
SloMinute columns over minute ranges (the unique index on `minute` serves every query).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import NotSupportedError
from django.db.models import BigIntegerField, F, Func, Q, Sum
from django.utils import timezone

from dashboard.slo.models import APP_BUCKETS, INGRESS_BUCKETS, SloMinute
from timedify_ops.lib import slo as slo_math
from timedify_ops.lib.histogram import EDGES_MS, Histogram

LATENCY, ERROR_RATE, UPTIME = "latency", "error_rate", "uptime"

# Chart ranges offered on /slo/ (?range=…): span and the width of one point.
RANGES: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(minutes=5)),
    "7d": (timedelta(days=7), timedelta(minutes=30)),
    "28d": (timedelta(days=28), timedelta(hours=2)),
}
DEFAULT_RANGE = "24h"
# The burn-down chart has about this many points whatever the SLO window.
BURN_DOWN_POINTS = 336


@dataclass(frozen=True)
class SloDefinition:
    key: str
    name: str
    objective: float
    target: str  # how the page states the goal
    sli: str  # what is counted
    unit: str  # what one event is


def definitions() -> list[SloDefinition]:
    threshold = settings.SLO_LATENCY_THRESHOLD_MS
    return [
        SloDefinition(
            key=LATENCY,
            name="Webhook response time",
            objective=settings.SLO_LATENCY_OBJECTIVE,
            target=f"p{settings.SLO_LATENCY_OBJECTIVE * 100:g} < {threshold:g} ms",
            sli=f"share of ingress answers ready in ≤ {threshold:g} ms (4xx refusals not counted)",
            unit="answers",
        ),
        SloDefinition(
            key=ERROR_RATE,
            name="Error rate",
            objective=settings.SLO_ERROR_RATE_OBJECTIVE,
            target=f"< {(1 - settings.SLO_ERROR_RATE_OBJECTIVE) * 100:g} % errors",
            sli="1 − (ingress 5xx + dead-lettered events) / (events received + ingress 5xx)",
            unit="events",
        ),
        SloDefinition(
            key=UPTIME,
            name="Uptime",
            objective=settings.SLO_UPTIME_OBJECTIVE,
            target=f"> {settings.SLO_UPTIME_OBJECTIVE * 100:g} %",
            sli=f"share of successful `{settings.SLO_UPTIME_PROBE}` probe checks (warn counts as up)",
            unit="checks",
        ),
    ]


def get_definition(key: str) -> SloDefinition:
    for definition in definitions():
        if definition.key == key:
            return definition
    raise KeyError(key)


def _sum_of(names: list[str]):
    expression = F(names[0])
    for name in names[1:]:
        expression = expression + F(name)
    return expression


def bad_and_total(key: str):
    """SQL expressions for one minute's (bad, total) events of an SLO."""
    if key == LATENCY:
        good = _sum_of(INGRESS_BUCKETS[: EDGES_MS.index(settings.SLO_LATENCY_THRESHOLD_MS) + 1])
        return F("ingress_count") - good, F("ingress_count")
    if key == ERROR_RATE:
        return F("ingress_5xx") + F("dead_lettered"), F("received") + F("ingress_5xx")
    if key == UPTIME:
        return F("probe_checks") - F("probe_up"), F("probe_checks")
    raise KeyError(key)


def window_end(now: datetime | None = None) -> datetime:
    """Windows end at the start of the current (still open) minute."""
    return (now or timezone.now()).astimezone(UTC).replace(second=0, microsecond=0)


def slo_window() -> timedelta:
    return timedelta(days=settings.SLO_WINDOW_DAYS)


def window_counts(end: datetime, windows: dict[str, timedelta]) -> dict[str, dict[str, slo_math.Counts]]:
    """(bad, total) per SLO and per window ending at `end`.

    The longest window is summed without a filter; the others with filtered sums over the
    second-longest window's rows only (the 5 m…3 d burn windows read 3 days, not 28).
    """
    ordered = sorted(windows.items(), key=lambda item: item[1], reverse=True)
    longest_name, longest = ordered[0]
    shorter = ordered[1:]
    plain, filtered = {}, {}
    for definition in definitions():
        bad, total = bad_and_total(definition.key)
        plain[f"{definition.key}|{longest_name}|bad"] = Sum(bad)
        plain[f"{definition.key}|{longest_name}|total"] = Sum(total)
        for name, span in shorter:
            since = Q(minute__gte=end - span)
            filtered[f"{definition.key}|{name}|bad"] = Sum(bad, filter=since)
            filtered[f"{definition.key}|{name}|total"] = Sum(total, filter=since)
    sums = SloMinute.objects.filter(minute__gte=end - longest, minute__lt=end).aggregate(**plain)
    if shorter:
        sums.update(SloMinute.objects.filter(minute__gte=end - shorter[0][1], minute__lt=end).aggregate(**filtered))
    result: dict[str, dict[str, slo_math.Counts]] = {}
    for definition in definitions():
        result[definition.key] = {
            name: slo_math.Counts(
                bad=int(sums[f"{definition.key}|{name}|bad"] or 0),
                total=int(sums[f"{definition.key}|{name}|total"] or 0),
            )
            for name in windows
        }
    return result


# --------------------------------------------------------------------------- status


@dataclass
class SloStatus:
    """One SLO now: what the alerting room and the /slo/ cards read."""

    key: str
    name: str
    objective: float
    target: str
    state: str  # "ok" | "ticket" | "page"
    sli: float | None  # over the SLO window; None without events
    budget_remaining: float | None  # 1 = untouched, ≤ 0 = spent; None without events
    burn_rates: dict[str, float | None]  # "5m", "30m", "1h", "6h", "3d" → burn rate (None: no events)
    events: int  # in the SLO window
    bad: int
    fired: list[str] = field(default_factory=list)  # rule names, e.g. "page: 14.4× over 1h and 5m"
    held_back: list[str] = field(default_factory=list)  # would fire, but under SLO_MIN_EVENTS
    window_days: int = 28
    as_of: datetime | None = None  # the windows end here (the start of the current minute)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        return data


def current_status(now: datetime | None = None, *, window_rows: list[dict] | None = None) -> dict[str, SloStatus]:
    """Every SLO's state, burn rates and budget remaining, keyed "latency", "error_rate", "uptime".

    1. Sum (bad, total) per SLO over the SLO window and the five burn-rate windows, all
       ending at the start of the current minute (two queries over SloMinute; /slo/ passes the
       burn-down's `window_rows`, which already hold the SLO window's sums).
    2. timedify_ops.lib.slo.evaluate applies the multiwindow rules with SLO_MIN_EVENTS.
    """
    end = window_end(now)
    windows = {name: timedelta(minutes=minutes) for name, minutes in slo_math.WINDOWS.items()}
    if window_rows is None:
        counts = window_counts(end, {**windows, "slo": slo_window()})
    else:
        counts = window_counts(end, windows)
        for definition in definitions():
            counts[definition.key]["slo"] = slo_math.Counts(
                bad=sum(row[f"{definition.key}_bad"] for row in window_rows),
                total=sum(row[f"{definition.key}_total"] for row in window_rows),
            )
    statuses = {}
    for definition in definitions():
        mine = counts[definition.key]
        evaluation = slo_math.evaluate(mine, definition.objective, min_events=settings.SLO_MIN_EVENTS)
        statuses[definition.key] = SloStatus(
            key=definition.key,
            name=definition.name,
            objective=definition.objective,
            target=definition.target,
            state=evaluation.state,
            sli=mine["slo"].sli,
            budget_remaining=slo_math.budget_remaining(mine["slo"], definition.objective),
            burn_rates=evaluation.burn_rates,
            events=mine["slo"].total,
            bad=mine["slo"].bad,
            fired=[rule.name for rule in evaluation.fired],
            held_back=[rule.name for rule in evaluation.held_back],
            window_days=settings.SLO_WINDOW_DAYS,
            as_of=end,
        )
    return statuses


# --------------------------------------------------------------------------- series


class EpochBucket(Func):
    """The start (Unix seconds) of the `seconds`-wide bucket holding a timestamp; charts group by it."""

    output_field = BigIntegerField()

    def __init__(self, expression, seconds: int):
        super().__init__(expression)
        self.seconds = int(seconds)

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"EpochBucket is written for PostgreSQL and SQLite, not {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        # date_part is a double (EXTRACT a slower numeric); whole minutes cast to bigint exactly.
        return f"((date_part('epoch', {sql})::bigint / {self.seconds}) * {self.seconds})", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"((CAST(strftime('%%s', {sql}) AS INTEGER) / {self.seconds}) * {self.seconds})", params


SERIES_FIELDS = [
    "received",
    "dead_lettered",
    "ingress_5xx",
    "delivered_first_try",
    "delivered_after_retries",
    "attempts",
    "attempts_failed",
    *INGRESS_BUCKETS,
    *APP_BUCKETS,
]


def grouped_sums(start: datetime, end: datetime, step: timedelta, *, fields=SERIES_FIELDS, totals=True) -> list[dict]:
    """One dict per `step` from `start` to `end` (empty steps included, as zeros): the start
    ("at", Unix seconds), each SLO's bad (and total) events, and `fields` summed."""
    seconds = int(step.total_seconds())
    # Aliases get a prefix: an annotation named like a column would shadow it in the F()s below.
    aggregates = {f"sum_{name}": Sum(name) for name in fields}
    for definition in definitions():
        bad, total = bad_and_total(definition.key)
        aggregates[f"sum_{definition.key}_bad"] = Sum(bad)
        if totals:
            aggregates[f"sum_{definition.key}_total"] = Sum(total)
    rows = (
        SloMinute.objects.filter(minute__gte=start, minute__lt=end)
        .annotate(at=EpochBucket("minute", seconds))
        .values("at")
        .annotate(**aggregates)
        .order_by("at")
    )
    by_step = {row["at"]: row for row in rows}
    first = int(start.timestamp()) // seconds * seconds
    result = []
    for at in range(first, int(end.timestamp()), seconds):
        row = by_step.get(at, {})
        result.append({"at": at, **{alias[4:]: row.get(alias) or 0 for alias in aggregates}})
    return result


def _ratio(good: int, total: int) -> float | None:
    """An SLI point of the charts: slo_math.Counts' clamped SLI, so a chart never dips below 0 %."""
    return slo_math.Counts(bad=total - good, total=total).sli


def _p95(row: dict, buckets: list[str]) -> float | None:
    histogram = Histogram.from_counts([row[name] for name in buckets])
    value = histogram.quantile(0.95)
    if value is None:
        return None
    # Above the last edge the histogram knows only "more than 10 s".
    return round(value, 1) if not math.isinf(value) else None


def chart_series(range_key: str, end: datetime, rows: list[dict] | None = None) -> dict:
    """The SLI, traffic and response-time charts for one range (uPlot's column arrays)."""
    span, step = RANGES[range_key]
    if rows is None:
        rows = grouped_sums(end - span, end, step)
    xs = [row["at"] for row in rows]
    sli = {}
    for definition in definitions():
        sli[definition.key] = [
            _ratio(row[f"{definition.key}_total"] - row[f"{definition.key}_bad"], row[f"{definition.key}_total"])
            for row in rows
        ]
    return {
        "range": range_key,
        "step_seconds": int(step.total_seconds()),
        "x": xs,
        "sli": sli,
        "traffic": {
            "received": [row["received"] for row in rows],
            "delivered": [row["delivered_first_try"] + row["delivered_after_retries"] for row in rows],
            "dead_lettered": [row["dead_lettered"] for row in rows],
            "ingress_5xx": [row["ingress_5xx"] for row in rows],
        },
        "latency": {
            "ingress_p95": [_p95(row, INGRESS_BUCKETS) for row in rows],
            "app_p95": [_p95(row, APP_BUCKETS) for row in rows],
        },
    }


def burn_down_step() -> timedelta:
    return timedelta(minutes=max(1, math.ceil(slo_window().total_seconds() / 60 / BURN_DOWN_POINTS)))


def window_rows(end: datetime, fields=()) -> list[dict]:
    """The SLO window in burn-down steps: each SLO's bad and total events (and `fields`)."""
    return grouped_sums(end - slo_window(), end, burn_down_step(), fields=fields)


def burn_down_series(end: datetime, statuses: dict[str, SloStatus], rows: list[dict] | None = None) -> dict:
    """Budget remaining through the SLO window, per SLO, with the even-spending guide line."""
    step = burn_down_step()
    start = end - slo_window()
    if rows is None:
        rows = grouped_sums(start, end, step, fields=[], totals=False)
    step_s = int(step.total_seconds())
    start_s, end_s = start.timestamp(), end.timestamp()
    xs = [int(start_s)] + [min(row["at"] + step_s, int(end_s)) for row in rows]
    ideal = [round(slo_math.ideal_remaining((x - start_s) / (end_s - start_s)), 6) for x in xs]
    remaining = {}
    for definition in definitions():
        status = statuses[definition.key]
        window = slo_math.Counts(bad=status.bad, total=status.events)
        remaining[definition.key] = slo_math.burn_down(
            [row[f"{definition.key}_bad"] for row in rows], window, definition.objective
        )
    return {"x": xs, "ideal": ideal, "remaining": remaining}


# --------------------------------------------------------------------------- the page


def slo_page(range_key: str, now: datetime | None = None) -> dict:
    """Everything /slo/ shows: the status per SLO and the charts' columns."""
    end = window_end(now)
    span, step = RANGES[range_key]
    if (span, step) == (slo_window(), burn_down_step()):
        # The 28-day range and the burn-down group the same minutes the same way: one query.
        range_rows = steps = window_rows(end, fields=SERIES_FIELDS)
    else:
        range_rows, steps = None, window_rows(end)
    statuses = current_status(end, window_rows=steps)
    return {
        "as_of": end,
        "statuses": list(statuses.values()),
        "definitions": definitions(),
        "charts": {
            **chart_series(range_key, end, rows=range_rows),
            "burn_down": burn_down_series(end, statuses, rows=steps),
            "objectives": {key: status.objective for key, status in statuses.items()},
            "names": {key: status.name for key, status in statuses.items()},
            "threshold_ms": settings.SLO_LATENCY_THRESHOLD_MS,
        },
    }
