"""/health (public, for Fly), /status/ (the board) and POST /heartbeats/<name> (outside jobs report in).

Heartbeat answers: 200 {"heartbeat", "kind", "status"} · 401 missing or wrong bearer token · 404 a
name HEARTBEATS does not list · 405 other methods · 413 a body over HEARTBEAT_MAX_BODY_BYTES.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from dashboard.health import heartbeats, services
from timedify_ops.http import client_ip, read_limited_body
from timedify_ops.lib import signing

# A heartbeat may carry the job's output; the first heartbeats.BODY_CHARS characters are kept.
HEARTBEAT_MAX_BODY_BYTES = 100_000


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


@csrf_exempt
@login_not_required
@never_cache
@require_POST
def heartbeat(request: HttpRequest, name: str, kind: str = "success") -> JsonResponse:
    """An outside job reports: `POST /heartbeats/<name>` (done), `/start`, `/fail`, bearer HEARTBEAT_TOKEN."""
    token = signing.bearer_token(request.headers.get("Authorization"))
    if not signing.constant_time_equals(token, settings.HEARTBEAT_TOKEN):
        response = JsonResponse(
            {"error": "missing or wrong bearer token (Authorization: Bearer <HEARTBEAT_TOKEN>)"}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="timedify-ops heartbeats"'
        return response
    # Names are checked only after the token, so they cannot be probed without it.
    if name not in settings.HEARTBEATS:
        return JsonResponse({"error": f"no heartbeat named {name!r}: add it to HEARTBEATS"}, status=404)
    body = read_limited_body(request, HEARTBEAT_MAX_BODY_BYTES)
    if body is None:
        return JsonResponse({"error": f"body larger than {HEARTBEAT_MAX_BODY_BYTES} bytes"}, status=413)
    heartbeats.record_ping(
        name, kind, body=body, remote_addr=client_ip(request) or "", user_agent=request.headers.get("User-Agent", "")
    )
    return JsonResponse({"heartbeat": name, "kind": kind, "status": heartbeats.state_of(name).status})
