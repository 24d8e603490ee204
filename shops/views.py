"""/shops/: shops and their token state; /shops/synthetic/: send synthetic webhooks."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from shops import services, synthetic_runs
from shops.models import Shop, SyntheticRun
from timedify_ops.audit.services import record_audit
from timedify_ops.http import text_filter
from timedify_ops.lib.synthetic import PATH_STYLES
from timedify_ops.pagination import keyset_page_or_first
from timedify_ops.permissions import operator_required

SHOPS_PAGE_SIZE = 50
RECENT_RUNS = 10
STATES = {
    "": "all",
    "problems": "token problems",
    "installed": "installed",
    "uninstalled": "uninstalled",
}


@require_GET
def shop_list(request: HttpRequest) -> HttpResponse:
    errors = []
    state = request.GET.get("state", "").strip()
    query = text_filter(request.GET.get("q", ""), "shop", errors).lower()
    shops = Shop.objects.all()
    if state not in STATES:
        errors.append(f"Unknown state {state!r}; showing all shops.")
        state = ""
    if state == "problems":
        shops = shops.filter(pk__in=[shop.pk for shop in services.token_problems()])
    elif state == "installed":
        shops = shops.filter(installed=True)
    elif state == "uninstalled":
        shops = shops.filter(installed=False)
    if query:
        shops = shops.filter(domain__contains=query)
    page = keyset_page_or_first(shops, cursor=request.GET.get("after"), page_size=SHOPS_PAGE_SIZE, errors=errors)
    params = request.GET.copy()
    params.pop("after", None)
    now = timezone.now()
    rows = [{"shop": shop, "state": shop.token_state(now)} for shop in page.items]
    return render(
        request,
        "shops/list.html",
        {
            "page": page,
            "rows": rows,
            "errors": errors,
            "state": state,
            "states": STATES,
            "q": query,
            "base_query": params.urlencode(),
            "problem_count": len(services.token_problems(now)),
            "refresh_margin_s": settings.TOKEN_REFRESH_MARGIN_S,
        },
    )


@require_POST
@operator_required
def shop_check(request: HttpRequest, pk: int) -> HttpResponse:
    shop = get_object_or_404(Shop, pk=pk)
    check = services.check_token(shop)
    record_audit(
        request.user,
        "shops.check_token",
        target_type="shop",
        target_id=shop.pk,
        summary=f"checked the token of {shop.domain}: {'ok' if check.ok else 'failed'}",
        details={"shop": shop.domain, "ok": check.ok},
    )
    if check.ok:
        messages.success(request, f"The token of {shop.domain} works.")
    else:
        messages.error(request, f"The token check for {shop.domain} failed: {check.error}")
    return redirect("shops")


# --------------------------------------------------------------------------- synthetic


def _ingress_base(request: HttpRequest) -> str:
    return settings.SYNTHETIC_INGRESS_URL or request.build_absolute_uri("/")


@require_GET
def synthetic_page(request: HttpRequest) -> HttpResponse:
    runs = list(SyntheticRun.objects.select_related("requested_by")[:RECENT_RUNS])
    return render(
        request,
        "shops/synthetic.html",
        {
            "runs": runs,
            "topics": settings.WEBHOOK_TOPICS,
            "targets": SyntheticRun.Target.choices,
            "path_styles": PATH_STYLES,
            "ingress_base": _ingress_base(request),
            "shop_domain": settings.SYNTHETIC_SHOP_DOMAIN,
        },
    )


@require_GET
def synthetic_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyntheticRun, pk=pk)
    if request.htmx:
        return render(request, "shops/synthetic.html#run", {"run": run})
    return render(request, "shops/synthetic_run.html", {"run": run})


@require_POST
@operator_required
def synthetic_send(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("target", SyntheticRun.Target.INGRESS)
    path_style = request.POST.get("path_style", "topic")
    topics = [topic for topic in request.POST.getlist("topics") if topic]
    problems = []
    if target not in SyntheticRun.Target.values:
        problems.append(f"unknown target {target!r}")
    if path_style not in PATH_STYLES:
        problems.append(f"unknown path style {path_style!r}")
    unknown = [topic for topic in topics if topic not in settings.WEBHOOK_TOPICS]
    if unknown:
        problems.append(f"not a configured topic: {', '.join(unknown)}")
    if not topics:
        problems.append("choose at least one topic")
    if problems:
        messages.error(request, "Nothing sent: " + "; ".join(problems) + ".")
        return redirect("shops_synthetic")
    base_url = _ingress_base(request)
    run = synthetic_runs.start_synthetic_run(
        user=request.user, target=target, base_url=base_url, topics=topics, path_style=path_style
    )
    record_audit(
        request.user,
        "shops.synthetic_send",
        target_type="synthetic_run",
        target_id=run.pk,
        count=len(topics),
        summary=f"sent {len(topics)} synthetic webhook(s) to {run.get_target_display()}",
        details={"target": target, "base_url": run.base_url, "path_style": path_style, "topics": topics},
    )
    messages.success(request, f"Synthetic run {run.pk} queued: {len(topics)} webhook(s); results appear below.")
    return redirect("shops_synthetic")
