"""POST /logs/ingest (the Fly log shipper) and GET /logs/ (the live tail and its htmx poll).

Ingest answers: 200 {"accepted", "rejected", "errors"} · 401 bad/missing token · 400 a body
that is not the declared format · 413 over LOG_INGEST_MAX_BYTES · 415 an unknown
Content-Type · 405 other methods · 503 the rows could not be stored (the shipper retries).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from dashboard.logs import ingest as ingest_service
from dashboard.logs import records, selectors
from timedify_ops.http import read_limited_body
from timedify_ops.lib import signing
from timedify_ops.telemetry import measure

logger = logging.getLogger(__name__)

TEMPLATE = "dashboard/logs/tail.html"
PAGE_MAX_LINES = 1000
# Query-string fields a text/plain or JSON batch may use for records that lack them.
DEFAULT_FIELDS = ("app", "instance", "region", "provider", "host")


# --------------------------------------------------------------------------- ingest


def _presented_token(request: HttpRequest) -> str | None:
    """The token from `Authorization: Bearer <token>`, or the password of Basic auth (the
    fly-log-shipper's stock HTTP sink config uses basic auth; any user name is accepted)."""
    authorization = request.headers.get("Authorization")
    token = signing.bearer_token(authorization)
    if token is not None:
        return token
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="timedify-ops logs"'
    return response


@csrf_exempt
@login_not_required
@require_POST
def ingest(request: HttpRequest) -> JsonResponse:
    if not signing.constant_time_equals(_presented_token(request), settings.LOG_INGEST_TOKEN):
        return _error(401, "missing or wrong bearer token (Authorization: Bearer <LOG_INGEST_TOKEN>)")
    limit = settings.LOG_INGEST_MAX_BYTES
    too_large = f"body larger than LOG_INGEST_MAX_BYTES ({limit} bytes)"
    body = read_limited_body(request, limit)
    if body is None:
        return _error(413, too_large)
    defaults = {name: request.GET[name] for name in DEFAULT_FIELDS if request.GET.get(name)}
    try:
        body = ingest_service.decompress(body, request.headers.get("Content-Encoding"), limit)
        parsed = ingest_service.parse_body(
            body, request.content_type, defaults=defaults, known_topics=settings.WEBHOOK_TOPICS
        )
    except ingest_service.BodyTooLarge:
        return _error(413, too_large + " once decompressed")
    except ingest_service.BadBody as error:
        return _error(error.status, str(error))
    try:
        accepted = ingest_service.insert_rows(parsed.rows)
    except DatabaseError:
        logger.exception("could not store a log batch of %d line(s)", len(parsed.rows))
        return _error(503, "the lines could not be stored; retry later")
    measure.count("log_lines_ingested_total", value=accepted, result="accepted")
    if parsed.rejected:
        measure.count("log_lines_ingested_total", value=parsed.rejected, result="rejected")
    return JsonResponse({"accepted": accepted, "rejected": parsed.rejected, "errors": parsed.errors})


# --------------------------------------------------------------------------- the live tail


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


def _url(log_filter: selectors.LogFilter, **extra) -> str:
    items = log_filter.query_items() + [(name, str(value)) for name, value in extra.items() if value is not None]
    query = urlencode(items)
    return reverse("logs") + (f"?{query}" if query else "")


def _tail_context(log_filter: selectors.LogFilter, *, cursor: int, started: float) -> dict:
    return {
        "cursor": cursor,
        "poll_url": _url(log_filter, after=cursor, started=int(started)),
        "resume_url": _url(log_filter, after=cursor),
        "page_url": _url(log_filter),
        "poll_seconds": f"{settings.LOG_TAIL_POLL_SECONDS:g}",
        "stop_at": datetime.fromtimestamp(started + settings.LOG_TAIL_MAX_SECONDS, tz=UTC),
    }


@require_GET
def tail(request: HttpRequest) -> HttpResponse:
    log_filter = selectors.LogFilter.from_query(request.GET)
    if request.htmx and "after" in request.GET:
        return _poll(request, log_filter)
    now = timezone.now()
    errors = list(log_filter.errors)
    opening = None
    if not errors:
        try:
            opening = selectors.opening_lines(
                log_filter,
                now=now,
                window_minutes=settings.LOG_TAIL_WINDOW_MINUTES,
                limit=settings.LOG_TAIL_INITIAL_LINES,
            )
        except selectors.QueryFailed as error:
            errors.append(str(error))
    other = [(name, value) for name, value in log_filter.query_items() if name != "preset"]
    context = {
        "filter": log_filter,
        "form": {
            "app": request.GET.get("app", ""),
            "instance": request.GET.get("instance", ""),
            "region": request.GET.get("region", ""),
            "level": (request.GET.get("level") or "").strip().lower(),
            "text": request.GET.get("text", ""),
            "regex": request.GET.get("regex", ""),
        },
        "levels": list(records.LEVEL_LABELS.values()),
        "presets": [
            {
                "key": key,
                "label": preset.label,
                "pattern": preset.shown,
                "active": log_filter.preset == key,
                "url": reverse("logs") + "?" + urlencode([*other, ("preset", key)]),
            }
            for key, preset in selectors.PRESETS.items()
        ],
        "errors": errors,
        "opening": opening,
        "lines": opening.lines if opening else [],
        "window_minutes": settings.LOG_TAIL_WINDOW_MINUTES,
        "initial_lines": settings.LOG_TAIL_INITIAL_LINES,
        "max_duration": _duration(settings.LOG_TAIL_MAX_SECONDS),
        "tail_config": {"maxLines": PAGE_MAX_LINES},
        "max_lines": PAGE_MAX_LINES,
    }
    if opening is not None:
        context.update(_tail_context(log_filter, cursor=opening.cursor, started=time.time()))
    return render(request, TEMPLATE, context)


def _number(value: str | None, kind=int):
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def _poll(request: HttpRequest, log_filter: selectors.LogFilter) -> HttpResponse:
    """One htmx poll: the new lines (appended out of band) and the poller carrying the cursor on."""
    now = time.time()
    after = _number(request.GET.get("after"))
    started = _number(request.GET.get("started"), float)
    started = now if started is None or started > now else started
    context = {
        "filter": log_filter,
        "lines": [],
        "skipped": 0,
        "max_duration": _duration(settings.LOG_TAIL_MAX_SECONDS),
    }
    if after is None or after < 0:
        context["stopped"] = "The tail's position is not a number; reload the page."
        context["page_url"] = _url(log_filter)
        return render(request, f"{TEMPLATE}#poll", context)
    context.update(_tail_context(log_filter, cursor=after, started=started))
    if log_filter.errors:
        context["stopped"] = " ".join(log_filter.errors)
        context["resume_url"] = None  # resuming would fail the same way: offer a reload
        return render(request, f"{TEMPLATE}#poll", context)
    if now - started >= settings.LOG_TAIL_MAX_SECONDS:
        context["stopped"] = (
            f"The live tail stopped by itself after {context['max_duration']}, "
            "so a forgotten tab does not poll for ever. Resume picks up where it stopped."
        )
        context["timed_out"] = True
        return render(request, f"{TEMPLATE}#poll", context)
    try:
        result = selectors.poll(log_filter, after)
    except selectors.QueryFailed as error:
        context["stopped"] = str(error)
        return render(request, f"{TEMPLATE}#poll", context)
    context.update(_tail_context(log_filter, cursor=result.cursor, started=started))
    # A full answer means more lines are waiting: the next poll comes at once, not in 1.5 s.
    context.update(
        {"lines": result.lines, "skipped": result.skipped, "catching_up": len(result.lines) >= selectors.POLL_LIMIT}
    )
    return render(request, f"{TEMPLATE}#poll", context)
