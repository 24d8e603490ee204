from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard import metrics as metrics_module
from dashboard import selectors
from dashboard.models import AuditEntry
from timedify_ops.http import text_filter
from timedify_ops.lib.signing import bearer_token, constant_time_equals
from timedify_ops.pagination import BadCursor, keyset_page

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
    try:
        page = keyset_page(entries, cursor=request.GET.get("after"), page_size=AUDIT_PAGE_SIZE)
    except BadCursor as error:
        errors.append(str(error))
        page = keyset_page(entries, cursor=None, page_size=AUDIT_PAGE_SIZE)
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
    import markdown
    from django.urls import reverse

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
