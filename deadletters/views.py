"""The dead-letter console. Views stay thin: deadletters.filters reads the query string,
deadletters.services (letter, bulk) does every action (the same calls the tasks and the command make)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from deadletters.services import letter as letters
from timedify_ops.audit.models import AuditEntry
from timedify_ops.lib.shopify_headers import redact
from timedify_ops.pagination import keyset_page_or_first
from timedify_ops.permissions import operator_required

PAGE_SIZE = 50
BULK_PAGE_SIZE = 30
# Rows, the detail page and bulk progress poll this often while something is in flight.
POLL_SECONDS = 1
# Larger bodies are shown truncated; the whole body is one click away (raw download).
BODY_PREVIEW_BYTES = 64 * 1024


def _list_rows():
    return DeadLetter.objects.select_related("event").only(*filters.LIST_FIELDS)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _common(extra: dict | None = None) -> dict:
    return {"poll_seconds": POLL_SECONDS, "count_cap": filters.COUNT_CAP, **(extra or {})}


# --------------------------------------------------------------------------- list


@require_GET
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    result = filters.apply(request.GET)
    errors = list(result.errors)
    rows = result.queryset.select_related("event").only(*filters.LIST_FIELDS)
    page = keyset_page_or_first(rows, cursor=request.GET.get("after"), page_size=PAGE_SIZE, errors=errors)
    context = _common(
        {
            "page": page,
            "errors": errors,
            "values": {name: request.GET.get(name, "") for name in filters.FIELDS},
            "current_status": result.status,
            "status_choices": filters.STATUS_CHOICES,
            "http_choices": filters.HTTP_CHOICES,
            "topics": settings.WEBHOOK_TOPICS,
            "filter_query": urlencode(result.params),
            "filter_description": result.describe(),
            "next_url": request.get_full_path(),
            # Small: the partial index bulk_active holds only queued and running ones.
            "active_bulks": list(BulkAction.objects.filter(status__in=BulkAction.ACTIVE).order_by("lease_until")[:5]),
            "counted": False,
        }
    )
    return render(request, "deadletters/list.html", context)


@require_GET
def counts(request: HttpRequest) -> HttpResponse:
    """The counts beside the list, loaded after it (htmx): how many match this filter, and
    open dead letters per configured topic. Each is capped at COUNT_CAP, so each reads at
    most that many index entries however large the table is."""
    result = filters.apply(request.GET)
    by_topic = []
    for topic in settings.WEBHOOK_TOPICS:
        found = filters.capped_count(DeadLetter.objects.filter(status=DeadLetter.Status.OPEN, topic=topic))
        if found != 0:
            by_topic.append({"topic": topic, "count": found, "query": urlencode({"topic": topic})})
    context = _common(
        {
            "counted": True,
            "matching": filters.capped_count(result.queryset) if not result.errors else None,
            "filter_errors": bool(result.errors),
            "by_topic": by_topic,
            "filter_query": urlencode(result.params),
            "filter_description": result.describe(),
        }
    )
    return render(request, "deadletters/list.html#counts", context)


@require_GET
def row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row, polled while its replay is in flight; an empty answer removes a deleted row."""
    letter = _list_rows().filter(pk=pk).first()
    if letter is None:
        return HttpResponse("")
    return render(request, "deadletters/list.html#row", _common({"dl": letter, "poll_row": True}))


# --------------------------------------------------------------------------- detail


def body_preview(raw: bytes) -> tuple[str, bool, bool]:
    """(text, is_json, truncated): pretty-printed JSON when the body parses and is small enough."""
    if len(raw) <= BODY_PREVIEW_BYTES:
        try:
            text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
            is_json = True
        except ValueError:
            text, is_json = raw.decode("utf-8", "replace"), False
        if len(text) > 2 * BODY_PREVIEW_BYTES:  # indentation can make a small body long
            return text[: 2 * BODY_PREVIEW_BYTES], is_json, True
        return text, is_json, False
    return raw[:BODY_PREVIEW_BYTES].decode("utf-8", "replace"), False, True


def _detail_context(letter: DeadLetter, notice: str = "") -> dict:
    return _common(
        {
            "dl": letter,
            "event": letter.event,
            "attempts": list(letter.event.delivery_attempts.select_related("replayed_by").order_by("number")),
            "audit_entries": list(AuditEntry.objects.filter(target_type="deadletter", target_id=str(letter.pk))[:100]),
            "notice": notice,
        }
    )


def _get_letter(pk: int) -> DeadLetter:
    return get_object_or_404(
        DeadLetter.objects.select_related("event", "replayed_by", "replay_requested_by", "bulk_action"), pk=pk
    )


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    letter = _get_letter(pk)
    context = _detail_context(letter)
    if request.htmx:
        return render(request, "deadletters/detail.html#live", context)
    text, is_json, truncated = body_preview(letter.event.body_bytes)
    context.update(
        {
            "body_text": text,
            "body_is_json": is_json,
            "body_truncated": truncated,
            "body_size": len(letter.event.body_bytes),
            "headers": sorted(redact(letter.event.headers or {}).items(), key=lambda item: item[0].lower()),
        }
    )
    return render(request, "deadletters/detail.html", context)


@require_GET
def raw_body(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored body, byte for byte, as a download (never rendered by the browser)."""
    letter = get_object_or_404(DeadLetter.objects.select_related("event"), pk=pk)
    response = HttpResponse(letter.event.body_bytes, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="dead-letter-{letter.pk}-body.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- single actions


def _answer_in_place(request: HttpRequest, pk: int, notice: str = "") -> HttpResponse:
    """The htmx answer to an action: the detail's live section, or the list row."""
    if request.POST.get("partial") == "detail":
        return render(request, "deadletters/detail.html#live", _detail_context(_get_letter(pk), notice))
    letter = _list_rows().filter(pk=pk).first()
    if letter is None:
        return HttpResponse("")
    return render(
        request,
        "deadletters/list.html#row",
        # Only a row the operator just acted on polls: a page of 50 rows polling each second
        # (a bulk replay in flight) would be 50 requests a second per browser tab.
        _common({"dl": letter, "notice": notice, "next_url": _safe_next(request, ""), "poll_row": True}),
    )


@require_POST
@operator_required
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    letter = letters.request_replay(pk, user=request.user)
    notice = ""
    if letter is None:
        current = DeadLetter.objects.filter(pk=pk).first()
        if current is None:
            raise Http404("No such dead letter.")
        notice = f"Not replayed: it is {current.status}."
    if request.htmx:
        return _answer_in_place(request, pk, notice)
    if notice:
        messages.warning(request, f"Dead letter {pk}: {notice}")
    else:
        messages.success(request, f"Dead letter {pk}: replay queued.")
    return redirect(_safe_next(request, reverse("deadletters:detail", args=[pk])))


@require_POST
@operator_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(DeadLetter, pk=pk)
    facts = letters.delete_dead_letter(pk, user=request.user)
    if facts is None:
        notice = "Not deleted: its replay is in flight."
        if request.htmx:
            return _answer_in_place(request, pk, notice)
        messages.warning(request, f"Dead letter {pk}: {notice}")
        return redirect(reverse("deadletters:detail", args=[pk]))
    done = f"Deleted dead letter {pk} ({facts['topic']} for {facts['shop']}, webhook {facts['webhook_id']})."
    if request.htmx and request.POST.get("partial") != "detail":
        return HttpResponse("")  # the row disappears
    messages.success(request, done)
    list_url = reverse("deadletters:list")
    target = _safe_next(request, list_url)
    if target.startswith(reverse("deadletters:detail", args=[pk])):
        target = list_url
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


# --------------------------------------------------------------------------- bulk


def _selected_ids(data) -> tuple[list[int] | None, str]:
    """The ticked rows (None when the request is about the filter, not a selection)."""
    if "ids" not in data and "selection" not in data:
        return None, ""
    try:
        ids = sorted({int(value) for value in data.getlist("ids")})
    except ValueError:
        return [], "The selection is malformed."
    if not ids:
        return [], "Tick at least one row first."
    if len(ids) > 1000:
        return [], "Select at most 1,000 rows; use “all matching” for more."
    return ids, ""


def _preview_context(request: HttpRequest, kind: str, ids, result) -> dict:
    preview = bulk_actions.preview_bulk(kind, params=result.params if ids is None else None, ids=ids)
    scope = f"the {len(ids)} selected dead letter{'s' if len(ids) != 1 else ''}" if ids is not None else None
    return _common(
        {
            "kind": kind,
            "preview": preview,
            "ids": ids,
            "params": result.params if ids is None else {},
            "scope": scope,
            "filter_description": result.describe(),
            "filter_query": urlencode(result.params),
            "default_rate": settings.DEADLETTER_BULK_RATE,
            "min_rate": bulk_actions.MIN_RATE,
            "max_rate": bulk_actions.MAX_RATE,
        }
    )


@require_GET
@operator_required
def bulk_preview(request: HttpRequest) -> HttpResponse:
    """How many rows the action would touch; the confirm form fixes the set's bounds."""
    kind = request.GET.get("action", "")
    result = filters.apply(request.GET)
    back = f"{reverse('deadletters:list')}?{urlencode(result.params)}"
    if kind not in BulkAction.Kind.values:
        messages.error(request, "Choose replay or delete.")
        return redirect(back)
    ids, problem = _selected_ids(request.GET)
    if problem:
        messages.error(request, problem)
        return redirect(back)
    if ids is None and result.errors:
        # A dropped filter value would widen the set: refuse rather than act on more rows.
        for error in result.errors:
            messages.error(request, error)
        messages.error(request, "Fix the filter before acting on everything it matches.")
        return redirect(back)
    return render(request, "deadletters/bulk_preview.html", _preview_context(request, kind, ids, result))


class BulkConfirmForm(forms.Form):
    action = forms.ChoiceField(choices=BulkAction.Kind.choices)
    cutoff_id = forms.IntegerField(required=False, min_value=1)
    cutoff_at = forms.DateTimeField(required=False)
    expected = forms.IntegerField(required=False, min_value=0)
    rate = forms.FloatField(required=False, min_value=bulk_actions.MIN_RATE, max_value=bulk_actions.MAX_RATE)
    confirm = forms.CharField(required=False, max_length=32)


def _typed(text: str) -> str:
    return text.replace(",", "").replace(" ", "").replace("\u202f", "").strip()


@require_POST
@operator_required
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    form = BulkConfirmForm(request.POST)
    result = filters.apply(request.POST)
    ids, problem = _selected_ids(request.POST)
    if not form.is_valid() or problem or (ids is None and result.errors):
        messages.error(request, problem or "The confirmation was malformed; look at the preview again.")
        return redirect(f"{reverse('deadletters:list')}?{urlencode(result.params)}")
    data = form.cleaned_data
    kind, expected = data["action"], data["expected"]
    if expected == 0 or (data["cutoff_id"] is None and ids is None):
        messages.info(request, "Nothing matched, so nothing was done.")
        return redirect(f"{reverse('deadletters:list')}?{urlencode(result.params)}")
    if kind == BulkAction.Kind.DELETE:
        phrase = str(expected) if expected is not None else f"{filters.COUNT_CAP}+"
        if _typed(data["confirm"]) != phrase:
            context = _preview_context(request, kind, ids, result)
            context["confirm_error"] = f"Type {phrase} to confirm the delete."
            # 200, as Django re-renders a form with an error (a 4xx reads as a failed load in the console).
            return render(request, "deadletters/bulk_preview.html", context)
    bulk = bulk_actions.start_bulk(
        kind,
        actor=request.user,
        params=result.params if ids is None else None,
        ids=ids,
        cutoff_id=data["cutoff_id"] if ids is None else None,
        cutoff_at=data["cutoff_at"] if ids is None else None,
        expected=expected,
        rate=data["rate"],
    )
    return redirect("deadletters:bulk_detail", pk=bulk.pk)


@require_GET
def bulk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    bulk = get_object_or_404(BulkAction, pk=pk)
    context = _common({"bulk": bulk, "filter_description": filters.describe(bulk.filter)})
    template = "deadletters/bulk_detail.html#progress" if request.htmx else "deadletters/bulk_detail.html"
    return render(request, template, context)


@require_POST
@operator_required
def bulk_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(BulkAction, pk=pk)
    cancelled = bulk_actions.cancel_bulk(pk, user=request.user)
    if request.htmx:
        bulk = BulkAction.objects.get(pk=pk)
        notice = "" if cancelled else "It had already finished."
        return render(
            request,
            "deadletters/bulk_detail.html#progress",
            _common({"bulk": bulk, "filter_description": filters.describe(bulk.filter), "notice": notice}),
        )
    if cancelled:
        messages.success(request, f"Bulk action {pk}: cancel requested; it stops before its next item.")
    else:
        messages.warning(request, f"Bulk action {pk} had already finished.")
    return redirect("deadletters:bulk_detail", pk=pk)


@require_GET
def bulk_list(request: HttpRequest) -> HttpResponse:
    errors = []
    page = keyset_page_or_first(
        BulkAction.objects.all(), cursor=request.GET.get("after"), page_size=BULK_PAGE_SIZE, errors=errors
    )
    return render(request, "deadletters/bulk_list.html", {"page": page, "errors": errors})
