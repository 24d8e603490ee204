"""The daily SLO summary of one UTC day.

schedule "slo-daily-report" (00:10 UTC) → dashboard.alerts.notify.daily_slo_report
    → write_previous_day_report (rollup_range + write_report) → sent through the alert notifier
manage.py slo_report [--date D] → build_report / write_report → format_report
/slo/daily/ and /slo/daily/<date>/ read the stored SloDailyReport rows.

Per SLO: the day's value, its target, met or not, and the budget consumed: the day's bad
events as a share of the error budget of the SLO window ending with that day (1/28 of it per
day is spending evenly over 28 days). The SLO figures and event counts come from the rollups,
so they follow the same rules (synthetic events left out); replays, incidents and the topics
and shops with most dead letters come from the raw tables for that day.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from dashboard.health.models import ProbeFlip
from dashboard.slo import rollups, services
from dashboard.slo.models import SloDailyReport, SloMinute
from deadletters.models import DeadLetter
from timedify_ops.lib import slo as slo_math
from webhooks.models import DeliveryAttempt

events_log = logging.getLogger("timedify_ops.events")

TOP = 5


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(UTC).date()


def _synthetic(field: str) -> Q:
    return Q() if settings.SLO_INCLUDE_SYNTHETIC else Q(**{field: False})


def _slo_figures(day: date) -> dict:
    start, end = day_bounds(day)
    counts = services.window_counts(end, {"day": timedelta(days=1), "window": services.slo_window()})
    figures = {}
    for definition in services.definitions():
        mine = counts[definition.key]
        day_counts, window = mine["day"], mine["window"]
        allowance = slo_math.allowed_bad(window.total, definition.objective)
        figures[definition.key] = {
            "name": definition.name,
            "objective": definition.objective,
            "target": definition.target,
            "value": day_counts.sli,
            "met": slo_math.met(day_counts, definition.objective),
            "good": day_counts.good,
            "bad": day_counts.bad,
            "total": day_counts.total,
            "budget_consumed": (day_counts.bad / allowance) if allowance > 0 else None,
            "burn_rate": slo_math.burn_rate(day_counts, definition.objective),
            "window_days": settings.SLO_WINDOW_DAYS,
        }
    return figures


def _incidents(day: date) -> list[dict]:
    start, end = day_bounds(day)
    flips = ProbeFlip.objects.filter(to_status="down", at__lt=end).filter(Q(until__isnull=True) | Q(until__gt=start))
    return [
        {
            "probe": flip.probe,
            "at": flip.at.isoformat(),
            "until": flip.until.isoformat() if flip.until else None,
            "detail": flip.detail,
        }
        for flip in flips.order_by("at")
    ]


def _top(field: str, day: date) -> list[list]:
    start, end = day_bounds(day)
    rows = (
        DeadLetter.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(_synthetic("event__synthetic"))
        .values(field)
        .annotate(n=Count("id"))
        .order_by("-n", field)[:TOP]
    )
    return [[row[field], row["n"]] for row in rows]


def build_report(day: date) -> SloDailyReport:
    """The report of `day` from the rollups and that day's raw rows; not saved."""
    start, end = day_bounds(day)
    slos = _slo_figures(day)
    verdicts = [figure["met"] for figure in slos.values() if figure["met"] is not None]
    sums = SloMinute.objects.filter(minute__gte=start, minute__lt=end).aggregate(
        received=Sum("received"),
        first=Sum("delivered_first_try"),
        later=Sum("delivered_after_retries"),
        dead=Sum("dead_lettered"),
    )
    replayed = (
        DeliveryAttempt.objects.filter(started_at__gte=start, started_at__lt=end, is_replay=True)
        .filter(_synthetic("event__synthetic"))
        .values("event_id")
        .distinct()
        .count()
    )
    return SloDailyReport(
        date=day,
        computed_at=timezone.now(),
        all_met=all(verdicts) if verdicts else None,
        slos=slos,
        received=sums["received"] or 0,
        delivered=(sums["first"] or 0) + (sums["later"] or 0),
        dead_lettered=sums["dead"] or 0,
        replayed=replayed,
        incidents=_incidents(day),
        top_topics=_top("topic", day),
        top_shops=_top("shop_domain", day),
    )


REPORT_FIELDS = [
    "computed_at",
    "all_met",
    "slos",
    "received",
    "delivered",
    "dead_lettered",
    "replayed",
    "incidents",
    "top_topics",
    "top_shops",
]


def write_report(day: date) -> SloDailyReport:
    """Build and store the report of a finished day; running it again rewrites the same row."""
    built = build_report(day)
    report, _ = SloDailyReport.objects.update_or_create(
        date=day, defaults={name: getattr(built, name) for name in REPORT_FIELDS}
    )
    return report


def write_previous_day_report(now: datetime | None = None) -> SloDailyReport:
    """The daily job's report (the job, which also sends it, is dashboard.alerts.notify.daily_slo_report).

    1. Recompute the previous UTC day's minute rollups (fills any gap the minute job left).
    2. Write that day's report (update_or_create by date).
    """
    day = today(now) - timedelta(days=1)
    start, end = day_bounds(day)
    rollups.rollup_range(start, end)
    report = write_report(day)
    missed = missed_slos(report)
    if missed:
        events_log.warning("SLO report %s: missed %s", day.isoformat(), ", ".join(missed))
    return report


def missed_slos(report: SloDailyReport) -> list[str]:
    return [figure["name"] for figure in report.slos.values() if figure.get("met") is False]


# --------------------------------------------------------------------------- text


def _percent(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    text = f"{value * 100:.{digits}f}".rstrip("0").rstrip(".")
    return f"{text} %"


def format_report(report: SloDailyReport, *, partial: bool = False) -> str:
    """Plain text for the terminal, Slack and e-mail."""
    missed = missed_slos(report)
    judged = [figure for figure in report.slos.values() if figure.get("met") is not None]
    if not judged:
        verdict = "no SLO had data"
    elif missed:
        verdict = f"missed {', '.join(missed)} ({len(missed)} of {len(judged)} SLOs with data)"
    else:
        verdict = f"every SLO with data met ({len(judged)} of {len(report.slos)})"
    lines = [
        f"SLO report for {report.date.isoformat()} (UTC){' so far, the day is not over' if partial else ''}: {verdict}"
    ]
    width = max((len(figure["name"]) for figure in report.slos.values()), default=10)
    for figure in report.slos.values():
        mark = {True: "met   ", False: "MISSED", None: "no data"}[figure.get("met")]
        consumed = figure.get("budget_consumed")
        lines.append(
            f"  {mark:7} {figure['name']:{width}}  {_percent(figure['value']):>10}  "
            f"target {figure['target']} ({_percent(figure['objective'])})"
            + (
                f", {_percent(consumed, 1)} of the {figure['window_days']}-day budget used"
                if consumed is not None
                else ""
            )
        )
    lines.append(
        f"Events: {report.received:,} received · {report.delivered:,} delivered · "
        f"{report.dead_lettered:,} dead-lettered · {report.replayed:,} replayed"
    )
    if report.incidents is not None:
        if report.incidents:
            described = []
            for incident in report.incidents:
                until = incident["until"][11:16] if incident["until"] else "ongoing"
                described.append(f"{incident['probe']} down {incident['at'][11:16]}–{until}")
            lines.append("Incidents: " + "; ".join(described))
        else:
            lines.append("Incidents: none")
    if report.top_topics:
        lines.append("Most dead letters by topic: " + ", ".join(f"{name} ({n})" for name, n in report.top_topics))
    if report.top_shops:
        lines.append("Most dead letters by shop: " + ", ".join(f"{name} ({n})" for name, n in report.top_shops))
    return "\n".join(lines)
