"""/health (public, for Fly) and /status/ (the board)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from dashboard.health import services


@login_not_required
@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Fly's health check: database reachable and migrations applied, nothing more (see services.health_checks)."""
    checks = services.health_checks()
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    context = {
        "board": services.status_board(),
        "poll_seconds": settings.STATUS_POLL_SECONDS,
        "down_after": settings.HEALTH_DOWN_AFTER,
        "up_after": settings.HEALTH_UP_AFTER,
        # The poll swaps the table and, out of band, the incident list; the chart stays and is fed new data.
        "oob": bool(request.htmx),
    }
    template = "dashboard/health/status.html#poll" if request.htmx else "dashboard/health/status.html"
    return render(request, template, context)
