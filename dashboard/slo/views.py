"""/slo/ (the SLOs now and over time), /slo/daily/ and /slo/daily/<date>/ (the daily summaries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html import escape

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from dashboard.slo import report as reports
from dashboard.slo import services
from dashboard.slo.models import SloDailyReport
from dashboard.slo.templatetags.slo_format import percent
from timedify_ops.lib.slo import WINDOWS

DAYS_PER_PAGE = 31


def _time(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _number(value) -> str:
    return "–" if value is None else f"{value:g}"


def _rows(rows) -> str:
    """The chart tables' <tr>s from formatted cells (the time first), every cell escaped. Built
    here: a template loop, or format_html, over ~5,000 cells costs more than the rest of the page."""
    html = []
    for first, *rest in rows:
        cells = "".join(f'<td class="num">{escape(str(cell))}</td>' for cell in rest)
        html.append(f'<tr><td class="mono">{escape(first)}</td>{cells}</tr>')
    return mark_safe("\n".join(html))  # noqa: S308 - every cell is escaped above


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
    keys = [definition.key for definition in page["definitions"]]
    table = _rows(
        [
            _time(at),
            *(percent(charts["sli"][key][index], 3) for key in keys),
            *(charts["traffic"][name][index] for name in ("received", "delivered", "dead_lettered", "ingress_5xx")),
            *(_number(charts["latency"][name][index]) for name in ("ingress_p95", "app_p95")),
        ]
        for index, at in enumerate(charts["x"])
    )
    burn = charts["burn_down"]
    burn_table = _rows(
        [_time(at), *(percent(burn["remaining"][key][index], 1) for key in keys), percent(burn["ideal"][index], 1)]
        for index, at in enumerate(burn["x"])
    )
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
