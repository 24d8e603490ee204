from __future__ import annotations

import markdown
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard import metrics as metrics_module
from dashboard import selectors
from dashboard.retention.services import last_retention_summary
from timedify_ops.audit.models import AuditEntry
from timedify_ops.http import text_filter
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.registry import get_job
from timedify_ops.lib.signing import bearer_token, constant_time_equals
from timedify_ops.pagination import keyset_page_or_first
from timedify_ops.permissions import operator_required

AUDIT_PAGE_SIZE = 50


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    context = {
        "counts": selectors.today_counts(),
        "recent_events": selectors.recent_events(),
        "query_health": selectors.query_health(),
        "poll_seconds": settings.OVERVIEW_POLL_SECONDS,
    }
    template = "dashboard/overview.html#counts" if request.htmx else "dashboard/overview.html"
    return render(request, template, context)


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    errors = []
    action = text_filter(request.GET.get("action", ""), "action", errors)
    actor = text_filter(request.GET.get("actor", ""), "actor", errors)
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_name=actor)
    page = keyset_page_or_first(entries, cursor=request.GET.get("after"), page_size=AUDIT_PAGE_SIZE, errors=errors)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "dashboard/audit.html",
        {"page": page, "errors": errors, "action": action, "actor": actor, "base_query": query.urlencode()},
    )


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; `Authorization: Bearer <METRICS_TOKEN>`."""
    token = bearer_token(request.headers.get("Authorization"))
    if not constant_time_equals(token, settings.METRICS_TOKEN):
        response = HttpResponse("a bearer token (METRICS_TOKEN) is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_module.collect(), content_type="text/plain; version=0.0.4; charset=utf-8")


# The operating documents shown inside the app; links between them are rewritten to their pages.
DOCUMENTS = {
    "runbook": ("RUNBOOK.md", "Runbook"),
    "cron-jobs": ("CRON_JOBS.md", "Schedules and cron jobs"),
    "backups": ("BACKUPS.md", "Backups and restores"),
    "secrets": ("SECRETS.md", "Secrets"),
}


@require_GET
def runbook(request: HttpRequest, doc: str = "runbook") -> HttpResponse:
    """docs/RUNBOOK.md (and CRON_JOBS.md) rendered: our own files, so no sanitising is needed."""
    if doc not in DOCUMENTS:
        raise Http404("no such document")
    filename, title = DOCUMENTS[doc]
    path = settings.BASE_DIR / "docs" / filename
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Http404(f"docs/{filename} is missing from this installation") from None
    for key, (other, _title) in DOCUMENTS.items():
        text = text.replace(f"]({other})", f"]({reverse('runbook-doc', args=[key])})")
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "sane_lists"])
    documents = [(key, label, reverse("runbook-doc", args=[key])) for key, (_f, label) in DOCUMENTS.items()]
    return render(request, "dashboard/runbook.html", {"html": html, "title": title, "documents": documents, "doc": doc})


# --------------------------------------------------------------------------- /schedules/


@require_GET
def schedules(request: HttpRequest) -> HttpResponse:
    context = {
        "rows": jobs.schedule_rows(),
        "poll_seconds": settings.STATUS_POLL_SECONDS,
        "retention": last_retention_summary(),
    }
    template = "dashboard/health/schedules.html#table" if request.htmx else "dashboard/health/schedules.html"
    return render(request, template, context)


def _job_or_404(key: str):
    try:
        return get_job(key)
    except KeyError:
        raise Http404(f"no job named {key}") from None


@require_POST
@operator_required
def schedule_run(request: HttpRequest, key: str) -> HttpResponse:
    job = _job_or_404(key)
    jobs.run_schedule_now(job.key, request.user)
    messages.success(request, f"Queued a run of {job.key}; the worker picks it up within seconds.")
    return redirect("schedules")


def _switch_schedule(request: HttpRequest, key: str, switch, done: str, unchanged: str) -> HttpResponse:
    """Pause or resume (the service says whether anything changed), with a message either way."""
    job = _job_or_404(key)
    try:
        changed = switch(job.key, request.user)
    except jobs.ScheduleMissing as error:
        messages.error(request, str(error))
        return redirect("schedules")
    if changed:
        messages.success(request, done.format(job=job))
    else:
        messages.info(request, unchanged.format(job=job))
    return redirect("schedules")


@require_POST
@operator_required
def schedule_pause(request: HttpRequest, key: str) -> HttpResponse:
    return _switch_schedule(
        request,
        key,
        jobs.pause_schedule,
        "Paused {job.key}: the scheduler will not start it until it is resumed.",
        "{job.key} was already paused.",
    )


@require_POST
@operator_required
def schedule_resume(request: HttpRequest, key: str) -> HttpResponse:
    return _switch_schedule(
        request,
        key,
        jobs.resume_schedule,
        "Resumed {job.key}; next run at its next slot ({job.cadence}).",
        "{job.key} was not paused.",
    )
