"""Health: run the probes, record results and flips, compute uptime.

Public helpers other rooms call:
- `run_all_probes()`  every probe now, nothing stored (health_check, alerting_check).
- `current_states()`  each probe's up / degraded / down from its stored state machine
                      (the alerting room's "a probe is down" rule).
- `ProbeResult` rows, indexed by (probe, checked_at): the SLO rollups' per-minute uptime of `app`.

URL → view → service: /status/ → status_board(); /health → health_checks().
Job "health-probes" → run_probes_job() → run_all_probes() + record_results().
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from dashboard.health import probes as probe_module
from dashboard.health.models import CheckState, ProbeFlip, ProbeHour, ProbeResult, ProbeState, Status
from dashboard.health.probes import Outcome
from dashboard.health.rules import format_uptime, uptime_millipercent

events_log = logging.getLogger("timedify_ops.events")

WINDOWS = (("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)))
HOUR = timedelta(hours=1)


# --------------------------------------------------------------------------- probes


def run_all_probes() -> list[Outcome]:
    """Run every probe now; nothing is stored."""
    return probe_module.run_all()


def record_results(outcomes: list[Outcome], at: datetime | None = None) -> list[ProbeFlip]:
    """Store one run's results and advance each probe's state machine; returns the new flips.

    Steps, in one transaction:
    1. Insert a ProbeResult per outcome, all stamped with the run's time `at`.
    2. Per probe (sorted, so concurrent runs lock in the same order): lock its
       ProbeState, step the machine (HEALTH_DOWN_AFTER / HEALTH_UP_AFTER), and on a
       status change close the previous flip (`until`) and write a new one. A new
       probe's first status is not a flip, unless it starts out down.
    3. Count the check in its ProbeHour (the uptime windows read these).
    """
    at = at or timezone.now()
    flips = []
    with transaction.atomic():
        ProbeResult.objects.bulk_create(
            ProbeResult(probe=o.probe, checked_at=at, state=o.state, latency_ms=o.latency_ms, detail=o.detail[:500])
            for o in outcomes
        )
        for outcome in sorted(outcomes, key=lambda o: o.probe):
            flip = _advance(outcome, at)
            if flip is not None:
                flips.append(flip)
            _count_hour(outcome, at)
    for flip in flips:
        level = logging.WARNING if flip.to_status in (Status.DOWN, Status.DEGRADED) else logging.INFO
        events_log.log(level, "probe %s is %s (was %s): %s", flip.probe, flip.to_status, flip.from_status, flip.detail)
    return flips


def _advance(outcome: Outcome, at: datetime) -> ProbeFlip | None:
    state, _ = ProbeState.objects.select_for_update().get_or_create(probe=outcome.probe)
    flip = state.advance(outcome.state, at=at, latency_ms=outcome.latency_ms, detail=outcome.detail)
    if flip is not None:
        ProbeFlip.objects.filter(probe=outcome.probe, until__isnull=True).update(until=at)
        flip.save()
    state.save()
    return flip


def _count_hour(outcome: Outcome, at: datetime) -> None:
    hour = floor_hour(at)
    failed = 1 if outcome.state == CheckState.FAIL else 0
    bumped = ProbeHour.objects.filter(probe=outcome.probe, hour=hour).update(
        checks=F("checks") + 1, failures=F("failures") + failed
    )
    if not bumped:
        # Serialised by the probe's ProbeState row lock taken in _advance.
        ProbeHour.objects.create(probe=outcome.probe, hour=hour, checks=1, failures=failed)


def run_probes_job() -> str:
    """The "health-probes" job (every minute): run every probe, record, summarise."""
    at = timezone.now()
    outcomes = run_all_probes()
    flips = record_results(outcomes, at=at)
    return run_summary(outcomes, flips)


def run_summary(outcomes: list[Outcome], flips: list[ProbeFlip]) -> str:
    """The probes job's result, as its JobRun keeps it: "8 ok, 1 fail; app → down"."""
    counts = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.state] += 1
    summary = ", ".join(f"{counts[state]} {state}" for state in ("ok", "warn", "fail") if counts[state])
    if flips:
        summary += "; " + ", ".join(f"{flip.probe} → {flip.to_status}" for flip in flips)
    return summary


def heartbeat() -> str:
    """The "worker-heartbeat" job: its JobRun is the worker probe's proof of life."""
    return "alive"


def current_states() -> dict[str, ProbeState]:
    """Each registered probe's state machine, by name (status unknown until its first check).

    The alerting room's "a probe is down" rule reads `.status`, `.status_since` and `.last_detail`.
    """
    names = [probe.name for probe in probe_module.registry()]
    stored = {state.probe: state for state in ProbeState.objects.filter(probe__in=names)}
    return {name: stored.get(name) or ProbeState(probe=name) for name in names}


# --------------------------------------------------------------------------- uptime


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


@dataclass
class Uptime:
    checks: int
    failures: int

    @property
    def millipercent(self) -> int | None:
        return uptime_millipercent(self.checks, self.failures)

    @property
    def text(self) -> str:
        return format_uptime(self.millipercent)


def uptime(
    now: datetime | None = None, probes: list[str] | None = None, windows=WINDOWS
) -> dict[str, dict[str, Uptime]]:
    """Uptime per probe over the rolling 24 h, 7 d and 30 d windows ending at `now`.

    Share of non-failed checks with `checked_at` in [now - window, now], exact:
    1. Whole UTC hours inside the window come from ProbeHour counters (one grouped query).
    2. The partial hours at the edges — [start, first whole hour) per window, and the
       current hour [current hour, now] shared by all — are counted from the raw
       ProbeResult rows, one small range query each, so every query is a plain range
       on an index.
    So the 30-day figure reads ~720 counter rows and at most ~120 results per probe.
    (The raw results must be kept for 30 days + 1 hour for the oldest edge.)
    """
    now = now or timezone.now()
    current_hour = floor_hour(now)
    totals: dict[str, dict[str, list[int]]] = defaultdict(lambda: {label: [0, 0] for label, _ in windows})

    def add(rows, labels):
        for row in rows:
            for label in labels:
                totals[row["probe"]][label][0] += row["checks"] or 0
                totals[row["probe"]][label][1] += row["failures"] or 0

    def only(queryset):
        return queryset if probes is None else queryset.filter(probe__in=probes)

    def raw(start: datetime, end: datetime, *, inclusive: bool, labels: list[str]) -> None:
        end_filter = {"checked_at__lte" if inclusive else "checked_at__lt": end}
        rows = only(ProbeResult.objects.filter(checked_at__gte=start, **end_filter)).order_by().values("probe")
        add(rows.annotate(checks=Count("id"), failures=Count("id", filter=Q(state=CheckState.FAIL))), labels)

    bucket_sums, whole_hour_windows, earliest_hour = {}, [], current_hour
    for label, span in windows:
        start = now - span
        if ceil_hour(start) >= current_hour:
            # Shorter than the hours left: all raw.
            raw(start, now, inclusive=True, labels=[label])
            continue
        first_hour = ceil_hour(start)
        raw(start, first_hour, inclusive=False, labels=[label])
        whole_hour_windows.append(label)
        earliest_hour = min(earliest_hour, first_hour)
        hours = Q(hour__gte=first_hour)
        bucket_sums[f"checks_{label}"] = Sum("checks", filter=hours)
        bucket_sums[f"failures_{label}"] = Sum("failures", filter=hours)
    if whole_hour_windows:
        raw(current_hour, now, inclusive=True, labels=whole_hour_windows)
        hour_rows = only(ProbeHour.objects.filter(hour__gte=earliest_hour, hour__lt=current_hour))
        for row in hour_rows.order_by().values("probe").annotate(**bucket_sums):
            for label in whole_hour_windows:
                totals[row["probe"]][label][0] += row[f"checks_{label}"] or 0
                totals[row["probe"]][label][1] += row[f"failures_{label}"] or 0

    names = probes if probes is not None else list(totals)
    return {
        name: {label: Uptime(*totals[name][label]) if name in totals else Uptime(0, 0) for label, _ in windows}
        for name in names
    }


# --------------------------------------------------------------------------- board


@dataclass
class BoardRow:
    probe: str
    description: str
    state: ProbeState
    uptime: dict[str, Uptime]


@dataclass
class Board:
    rows: list[BoardRow]
    incidents: list[ProbeFlip]
    chart: dict
    last_run_at: datetime | None
    stale: bool
    generated_at: datetime = field(default_factory=timezone.now)


def latency_series(now: datetime, names: list[str], *, hours: int = 24, bucket_minutes: int = 5) -> dict:
    """Mean latency per probe per `bucket_minutes` over the last `hours`, shaped for uPlot.

    {"x": [unix seconds…], "series": [{"name": probe, "values": [ms or null…]}]}; a bucket
    without checks is null, so the chart shows the gap.
    """
    step_s = bucket_minutes * 60
    end = int(now.timestamp()) // step_s * step_s
    start = end - hours * 3600 + step_s
    xs = list(range(start, end + step_s, step_s))
    sums: dict[str, dict[int, list[float]]] = {name: defaultdict(lambda: [0.0, 0]) for name in names}
    rows = (
        ProbeResult.objects.filter(
            probe__in=names, checked_at__gte=datetime.fromtimestamp(start, tz=UTC), latency_ms__isnull=False
        )
        .order_by()
        .values_list("probe", "checked_at", "latency_ms")
    )
    for probe, checked_at, latency in rows:
        bucket = int(checked_at.timestamp()) // step_s * step_s
        cell = sums[probe][bucket]
        cell[0] += latency
        cell[1] += 1
    series = []
    for name in names:
        values = []
        for x in xs:
            cell = sums[name].get(x)
            values.append(round(cell[0] / cell[1], 1) if cell else None)
        series.append({"name": name, "values": values})
    return {"x": xs, "series": series, "bucket_minutes": bucket_minutes}


def recent_incidents(limit: int = 20) -> list[ProbeFlip]:
    """Down intervals, newest first: each flip to down, closed by the probe's next flip."""
    return list(ProbeFlip.objects.filter(to_status=Status.DOWN).order_by("-at", "-id")[:limit])


def status_board(now: datetime | None = None) -> Board:
    now = now or timezone.now()
    registered = probe_module.registry()
    names = [probe.name for probe in registered]
    states = current_states()
    uptimes = uptime(now, names)
    rows = [BoardRow(p.name, p.description, states[p.name], uptimes[p.name]) for p in registered]
    checked = [row.state.last_checked_at for row in rows if row.state.last_checked_at]
    last_run_at = max(checked) if checked else None
    stale = last_run_at is None or now - last_run_at > timedelta(seconds=settings.HEALTH_STALE_AFTER_S)
    chart = latency_series(now, [p.name for p in registered if p.charted])
    return Board(
        rows=rows, incidents=recent_incidents(), chart=chart, last_run_at=last_run_at, stale=stale, generated_at=now
    )


# --------------------------------------------------------------------------- /health

_migrations_ok_until = 0.0  # time.monotonic() until which "migrations applied" is trusted


def reset_health_cache() -> None:
    global _migrations_ok_until
    _migrations_ok_until = 0.0


def health_checks() -> dict[str, str]:
    """What /health reports: only what the web process itself needs.

    1. database: a round trip on this process's connection.
    2. migrations: nothing left to apply. Loading the migration graph costs tens of
       milliseconds, so an "ok" is trusted for HEALTH_MIGRATIONS_CACHE_S in this
       process; a failure is never cached. Unreachable database = not checked = fail.
    """
    global _migrations_ok_until
    checks = {"database": "fail", "migrations": "fail"}
    try:
        probe_module.check_database()
    except DatabaseError:
        return checks
    checks["database"] = "ok"
    if time.monotonic() < _migrations_ok_until:
        checks["migrations"] = "ok"
        return checks
    try:
        pending = probe_module.unapplied_migrations()
    except DatabaseError:
        return checks
    if not pending:
        checks["migrations"] = "ok"
        _migrations_ok_until = time.monotonic() + settings.HEALTH_MIGRATIONS_CACHE_S
    return checks
