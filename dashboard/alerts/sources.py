"""What the rules read from the other rooms (health probes, logs, SLOs), in one place: when a
room's interface changes, this is the one file to rewire.

- health: dashboard.health.services.current_states() → {probe name: ProbeState}
  (status up | degraded | down | unknown, status_since, last_detail).
- logs: the LogEntry model (timestamp, message, provider); the app's lines only — timedify-ops'
  own events (provider "events") are left out, or a failing alert notification, which is
  logged, would count towards the error-pattern alert itself.
- SLOs: dashboard.slo.services.current_status(now) → {key: SloStatus} with a state
  ok | ticket | page, burn rates per window, budget remaining and the rules that fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.health.services import current_states
from dashboard.logs.handler import PROVIDER as OWN_EVENTS
from dashboard.logs.models import LogEntry
from dashboard.slo.services import current_status


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
    burn_rate: float | None = None  # the highest of its windows' burn rates
    budget_remaining: float | None = None
    fired: tuple[str, ...] = ()  # the burn-rate rules that fired, e.g. "page: 14.4× over 1h and 5m"


def probe_states() -> list[ProbeStatus]:
    return [
        ProbeStatus(probe=name, status=state.status, since=state.status_since, detail=state.last_detail)
        for name, state in current_states().items()
    ]


def error_lines(since: datetime, until: datetime):
    """The app's error lines (LogEntry.is_error, the one error-line matcher) logged in [since, until),
    oldest first; timedify-ops' own events are left out (they have rules of their own). Served by
    the partial index logentry_error_ts."""
    lines = LogEntry.objects.filter(is_error=True, timestamp__gte=since, timestamp__lt=until)
    return lines.exclude(provider=OWN_EVENTS).order_by("timestamp", "id")


def count_error_lines(since: datetime, until: datetime) -> int:
    return error_lines(since, until).count()


def slo_statuses(now: datetime | None = None) -> list[SloStatus]:
    result = []
    for key, status in current_status(now).items():
        rates = [rate for rate in status.burn_rates.values() if rate is not None]
        result.append(
            SloStatus(
                name=status.name or key,
                state=status.state,
                burn_rate=max(rates) if rates else None,
                budget_remaining=status.budget_remaining,
                fired=tuple(status.fired),
            )
        )
    return result
