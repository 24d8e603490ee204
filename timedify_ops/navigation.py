"""The top bar. Sections appear as soon as their URL exists, so a room that is
not built yet simply does not show."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

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


def _sections():
    items = []
    for name, label in SECTIONS:
        try:
            items.append((name, label, reverse(name)))
        except NoReverseMatch:
            continue
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = ""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        current = match.view_name
    nav = []
    for name, label, url in _sections():
        prefix = name.split(":")[0]
        active = current == name or (":" in name and current.startswith(prefix + ":"))
        nav.append({"label": label, "url": url, "active": active})
    return {"nav_sections": nav, "user_is_operator": is_operator(user)}
