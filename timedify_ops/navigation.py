"""The top bar: every section of the console, by URL name."""

from __future__ import annotations

from django.urls import reverse

from timedify_ops.permissions import is_operator

SECTIONS = [
    ("overview", "Overview"),
    ("deadletters:list", "Dead letters"),
    ("status", "Status"),
    ("slo", "SLO"),
    ("logs", "Logs"),
    ("alerts", "Alerts"),
    ("shops", "Shops"),
    ("schedules", "Schedules"),
    ("audit", "Audit"),
    ("runbook", "Runbook"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = ""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        current = match.view_name
    nav = []
    for name, label in SECTIONS:
        url = reverse(name)
        prefix = name.split(":")[0]
        active = current == name or (":" in name and current.startswith(prefix + ":"))
        nav.append({"label": label, "url": url, "active": active})
    return {"nav_sections": nav, "user_is_operator": is_operator(user)}
