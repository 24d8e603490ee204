"""/slo/ (the SLOs now and over time), /slo/daily/ and /slo/daily/<date>/ (the daily summaries)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.slo import report as reports
from dashboard.slo import services
from dashboard.slo.models import SloDailyReport
from timedify_ops.lib.slo import WINDOWS

DAYS_PER_PAGE = 31


def _duration(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


@require_GET
def slo(request: HttpRequest) -> HttpResponse:
    errors = []
    range_key = request.GET.get("range", services.DEFAULT_RANGE)
    if range_key not in services.RANGES:
        errors.append(f"Unknown range {range_key!r}; showing {services.DEFAULT_RANGE}. Pick one of the links.")
        range_key = services.DEFAULT_RANGE
    page = services.slo_page(range_key)
    charts = page["charts"]
    table = [
        {
            "at": at,
            "sli": [charts["sli"][definition.key][index] for definition in page["definitions"]],
            "received": charts["traffic"]["received"][index],
            "delivered": charts["traffic"]["delivered"][index],
            "dead_lettered": charts["traffic"]["dead_lettered"][index],
            "ingress_5xx": charts["traffic"]["ingress_5xx"][index],
            "ingress_p95": charts["latency"]["ingress_p95"][index],
            "app_p95": charts["latency"]["app_p95"][index],
        }
        for index, at in enumerate(charts["x"])
    ]
    burn_table = [
        {
            "at": at,
            "remaining": [charts["burn_down"]["remaining"][d.key][index] for d in page["definitions"]],
            "ideal": charts["burn_down"]["ideal"][index],
        }
        for index, at in enumerate(charts["burn_down"]["x"])
    ]
    return render(
        request,
        "dashboard/slo/slo.html",
        {
            **page,
            "errors": errors,
            "range_key": range_key,
            "step_label": _duration(charts["step_seconds"]),
            "ranges": list(services.RANGES),
            "windows": list(WINDOWS),
            "table": table,
            "burn_table": burn_table,
            "window_days": settings.SLO_WINDOW_DAYS,
            "min_events": settings.SLO_MIN_EVENTS,
            "flush_seconds": settings.TELEMETRY_FLUSH_SECONDS,
            "rollup_minutes": settings.SLO_ROLLUP_MINUTES,
            "include_synthetic": settings.SLO_INCLUDE_SYNTHETIC,
        },
    )


@require_GET
def slo_daily(request: HttpRequest) -> HttpResponse:
    errors = []
    reports_qs = SloDailyReport.objects.order_by("-date")
    before_text = request.GET.get("before", "").strip()
    if before_text:
        try:
            reports_qs = reports_qs.filter(date__lt=date.fromisoformat(before_text))
        except ValueError:
            errors.append(f"{before_text!r} is not a date (YYYY-MM-DD); showing the newest days.")
    rows = list(reports_qs[: DAYS_PER_PAGE + 1])
    older = rows[DAYS_PER_PAGE - 1].date.isoformat() if len(rows) > DAYS_PER_PAGE else None
    rows = rows[:DAYS_PER_PAGE]
    return render(
        request,
        "dashboard/slo/daily.html",
        {
            "reports": rows,
            "definitions": services.definitions(),
            "older": older,
            "errors": errors,
            "schedule_time": "00:10",
        },
    )


@require_GET
def slo_daily_detail(request: HttpRequest, day: str) -> HttpResponse:
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise Http404("not a date") from None
    report = SloDailyReport.objects.filter(date=parsed).first()
    if report is None:
        raise Http404("no report for that day")
    return render(
        request,
        "dashboard/slo/daily_detail.html",
        {
            "report": report,
            "figures": list(report.slos.values()),
            "missed": reports.missed_slos(report),
            "previous": SloDailyReport.objects.filter(date=parsed - timedelta(days=1)).exists()
            and (parsed - timedelta(days=1)).isoformat(),
            "next": SloDailyReport.objects.filter(date=parsed + timedelta(days=1)).exists()
            and (parsed + timedelta(days=1)).isoformat(),
        },
    )
