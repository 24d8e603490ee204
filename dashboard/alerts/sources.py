"""What the rules read from the other rooms (health probes, logs, SLOs), in one place.

Each reader returns None when its room is not installed yet (the rule then shows as
"unavailable" instead of failing), so alerting works on any branch; when a room's
interface changes, this is the one file to rewire.

- health (issue 4): dashboard.health.services.current_states() → per probe a status
  up | degraded | down | unknown (objects or dicts with `probe`, `status`, `status_since`).
- logs (issue 5): the dashboard.LogEntry model (timestamp, message).
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
    states = current_states()
    if isinstance(states, dict):
        states = [
            {"probe": name, **(value if isinstance(value, dict) else {"status": value})}
            for name, value in states.items()
        ]
    result = []
    for item in states:
        probe = _field(item, "probe", "name", "key", default="?")
        result.append(
            ProbeStatus(
                probe=str(_field(probe, "name", "key", default=probe)),
                status=str(_field(item, "status", "state", default="unknown")),
                since=_field(item, "status_since", "since"),
            )
        )
    return result


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
    return model.objects.filter(timestamp__gte=since, timestamp__lt=until, message__iregex=pattern).count()


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
