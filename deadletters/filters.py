"""The dead-letter filter: query string → validated parameters → queryset; and the list's
columns and capped counts.

One definition serves the list page, the counts, the bulk preview, the bulk runner
(which stores the parameters and rebuilds the queryset from them) and the command.
A bad value never raises: it is dropped and explained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms
from django.db.models import Q, QuerySet

from deadletters.models import DeadLetter

ANY = "any"
STATUS_CHOICES = [*DeadLetter.Status.choices, (ANY, "any status")]
HTTP_CHOICES = [("", "any"), ("5xx", "5xx"), ("4xx", "4xx"), ("3xx", "3xx (redirect)"), ("network", "network error")]
# Parameters in the order the page shows them; "after" (the page cursor) is not a filter.
FIELDS = ("status", "topic", "shop", "q", "http", "created_after", "created_before", "webhook_id")
# Counts shown beside the list and before a bulk action stop here, so they never walk a huge table.
COUNT_CAP = 10_000
# Columns the list rows need (the body and headers stay in the database).
LIST_FIELDS = (
    "pk",
    "status",
    "reason",
    "created_at",
    "topic",
    "shop_domain",
    "last_status_code",
    "last_error",
    "replay_count",
    "replay_requested_at",
    "event__webhook_id",
    "event__attempts",
    "event__synthetic",
)


class DeadLetterFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Status")
    topic = forms.CharField(required=False, max_length=100, strip=True, label="Topic")
    shop = forms.CharField(required=False, max_length=255, strip=True, label="Shop")
    q = forms.CharField(required=False, max_length=200, strip=True, label="Text in reason or last error")
    http = forms.ChoiceField(choices=HTTP_CHOICES, required=False, label="Last HTTP status")
    created_after = forms.DateTimeField(required=False, label="Created after (UTC)")
    created_before = forms.DateTimeField(required=False, label="Created before (UTC)")
    webhook_id = forms.CharField(required=False, max_length=255, strip=True, label="Webhook id")


@dataclass
class FilterResult:
    queryset: QuerySet
    # Only the valid, non-empty parameters, as strings: safe to put back in a URL or store.
    params: dict[str, str]
    errors: list[str] = field(default_factory=list)
    form: DeadLetterFilterForm | None = None

    @property
    def status(self) -> str:
        return self.params.get("status", DeadLetter.Status.OPEN)

    def describe(self) -> str:
        return describe(self.params)


def apply(data: Mapping[str, str], queryset: QuerySet | None = None) -> FilterResult:
    """Validate `data` (a QueryDict or a stored dict) and filter `queryset`.

    Status defaults to open; "any" lifts it. Invalid fields are dropped, each with a message.
    """
    raw = {name: (data.get(name) or "") for name in FIELDS}
    form = DeadLetterFilterForm(raw)
    form.is_valid()
    errors = []
    for name, messages in form.errors.items():
        label = form.fields[name].label
        errors.append(f"{label}: {' '.join(messages)} (ignored)")
    cleaned = {name: value for name, value in form.cleaned_data.items() if name not in form.errors}
    qs = DeadLetter.objects.all() if queryset is None else queryset
    params: dict[str, str] = {}

    status = cleaned.get("status") or DeadLetter.Status.OPEN
    if status != ANY:
        qs = qs.filter(status=status)
    if raw["status"] and "status" not in form.errors:
        params["status"] = status
    if cleaned.get("topic"):
        qs = qs.filter(topic=cleaned["topic"])
        params["topic"] = cleaned["topic"]
    if cleaned.get("shop"):
        qs = qs.filter(shop_domain=cleaned["shop"].lower())
        params["shop"] = cleaned["shop"].lower()
    if cleaned.get("q"):
        qs = qs.filter(Q(reason__icontains=cleaned["q"]) | Q(last_error__icontains=cleaned["q"]))
        params["q"] = cleaned["q"]
    http = cleaned.get("http")
    if http == "network":
        qs = qs.filter(last_status_code__isnull=True)
    elif http:
        low = int(http[0]) * 100
        qs = qs.filter(last_status_code__gte=low, last_status_code__lte=low + 99)
    if http:
        params["http"] = http
    after, before = cleaned.get("created_after"), cleaned.get("created_before")
    if after and before and after > before:
        errors.append("Created after is later than created before: nothing can match (dates ignored)")
        after = before = None
    if after:
        qs = qs.filter(created_at__gte=after)
        params["created_after"] = raw["created_after"].strip()
    if before:
        qs = qs.filter(created_at__lt=before)
        params["created_before"] = raw["created_before"].strip()
    if cleaned.get("webhook_id"):
        # The unique index on the event's webhook_id finds the one row; the join is to it alone.
        qs = qs.filter(event__webhook_id=cleaned["webhook_id"])
        params["webhook_id"] = cleaned["webhook_id"]
    return FilterResult(queryset=qs, params=params, errors=errors, form=form)


def describe(params: Mapping[str, str]) -> str:
    """ "status open · topic app/uninstalled" — for audit entries, the bulk page and the command."""
    status = params.get("status", DeadLetter.Status.OPEN)
    parts = ["any status" if status == ANY else f"status {status}"]
    labels = {
        "topic": "topic",
        "shop": "shop",
        "q": "text",
        "http": "last HTTP",
        "created_after": "created after",
        "created_before": "created before",
        "webhook_id": "webhook id",
    }
    for name, label in labels.items():
        if params.get(name):
            parts.append(f"{label} {params[name]}")
    return " · ".join(parts)


def capped_count(queryset: QuerySet, cap: int | None = None) -> int | None:
    """The number of rows, or None when there are more than `cap` (never counts past cap + 1)."""
    cap = COUNT_CAP if cap is None else cap
    found = queryset.order_by()[: cap + 1].count()
    return found if found <= cap else None
