"""What the rules read from the other rooms (health probes, logs, SLOs), in one place.

Each reader returns None when its room is not installed yet (the rule then shows as
"unavailable" instead of failing), so alerting works on any branch; when a room's
interface changes, this is the one file to rewire.

- health (issue 4): dashboard.health.services.current_states() → {probe name: ProbeState}
  (status up | degraded | down | unknown, status_since, last_detail).
- logs (issue 5): the dashboard.LogEntry model (timestamp, message, provider); the app's lines
  only — timedify-ops' own events (provider "events") are left out, or a failing alert
  notification, which is logged, would count towards the error-pattern alert itself.
- SLOs (issue 6): dashboard.slo.services.current_status() → per SLO a state ok | ticket | page,
  burn rates and budget remaining (a mapping name → status, or a list of statuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps


@dataclass(frozen=True)
class ProbeStatus:
    probe: str
    status: str  # up | degraded | down | unknown
    since: datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class SloStatus:
    name: str
    state: str  # ok | ticket | page
    burn_rate: float | None = None
    budget_remaining: float | None = None


def _field(item, *names, default=None):
    for name in names:
        if isinstance(item, dict) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return default


def probe_states() -> list[ProbeStatus] | None:
    try:
        from dashboard.health.services import current_states
    except ImportError:
        return None
    return [
        ProbeStatus(probe=name, status=state.status, since=state.status_since, detail=state.last_detail)
        for name, state in current_states().items()
    ]


def log_model():
    try:
        return apps.get_model("dashboard", "LogEntry")
    except LookupError:
        return None


def count_log_lines(pattern: str, since: datetime, until: datetime) -> int | None:
    """Lines whose message matches `pattern` (case-insensitive) in [since, until)."""
    model = log_model()
    if model is None:
        return None
    from dashboard.logs.handler import PROVIDER as OWN_EVENTS

    lines = model.objects.filter(timestamp__gte=since, timestamp__lt=until).exclude(provider=OWN_EVENTS)
    return lines.filter(message__iregex=pattern).count()


def slo_statuses() -> list[SloStatus] | None:
    try:
        from dashboard.slo.services import current_status
    except ImportError:
        return None
    statuses = current_status()
    items = statuses.items() if isinstance(statuses, dict) else ((None, item) for item in statuses)
    result = []
    for name, item in items:
        burn = _field(item, "burn_rate", "fast_burn_rate", "burn_rates")
        if isinstance(burn, dict):
            burn = max((value for value in burn.values() if value is not None), default=None)
        result.append(
            SloStatus(
                name=str(name or _field(item, "name", "key", "slo", default="?")),
                state=str(_field(item, "state", "status", default="ok")),
                burn_rate=burn,
                budget_remaining=_field(item, "budget_remaining", "error_budget_remaining"),
            )
        )
    return result
