"""Heartbeats: outside jobs (the nightly backup, the app's crons) report in; silence is the alarm.

Who calls what:
- POST /heartbeats/<name>, …/start, …/fail → views.heartbeat → record_ping()
- one health probe per heartbeat (probes.registry) → check(name): ok while up, new or running,
  warn when late, fail when missed (period + grace), failed or running past its grace. A failing
  probe goes down after HEALTH_DOWN_AFTER checks and the `probe-down` alert fires: no rule of its own.
What is expected of each comes from HEARTBEATS (timedify_ops.lib.heartbeats.parse); where each
stands is its Heartbeat row, judged by timedify_ops.lib.heartbeats.state.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dashboard.health.models import Heartbeat, HeartbeatPing
from dashboard.health.rules import FAIL, OK, WARN
from timedify_ops.lib import heartbeats as lib

events_log = logging.getLogger("timedify_ops.events")

PINGS_KEPT = 100  # per heartbeat; older pings are pruned every PRUNE_EVERY pings
PRUNE_EVERY = 10
BODY_CHARS = 1000
PROBE_STATES = {lib.UP: OK, lib.NEW: OK, lib.STARTED: OK, lib.LATE: WARN, lib.DOWN: FAIL}


def record_ping(
    name: str,
    kind: str,
    *,
    body: bytes = b"",
    remote_addr: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> Heartbeat:
    """Store one report and move the heartbeat on, under its row lock (two reports at once queue).

    1. `start` marks a run as started (Healthchecks' `/start`): the last end stays as it was.
    2. `success` / `fail` end a run: the last end and its kind, and the run's duration when a
       start came before it.
    3. Every report is kept as a HeartbeatPing (its first BODY_CHARS characters: the job's output);
       every PRUNE_EVERY reports, all but the newest PINGS_KEPT are deleted.
    """
    if kind not in lib.KINDS:
        raise ValueError(f"unknown heartbeat report {kind!r}")
    now = now or timezone.now()
    with transaction.atomic():
        Heartbeat.objects.get_or_create(name=name, defaults={"first_seen_at": now})
        beat = Heartbeat.objects.select_for_update().get(name=name)
        duration = None
        if kind == HeartbeatPing.Kind.START:
            beat.last_start_at = now
        else:
            if beat.last_start_at is not None:
                duration = max(0.0, (now - beat.last_start_at).total_seconds())
                beat.last_start_at = None
            beat.last_ping_at, beat.last_kind, beat.last_duration_s = now, kind, duration
        beat.pings += 1
        beat.save()
        HeartbeatPing.objects.create(
            heartbeat=beat,
            at=now,
            kind=kind,
            duration_s=duration,
            body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:BODY_CHARS],
            remote_addr=(remote_addr or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
        if beat.pings % PRUNE_EVERY == 0:
            keep = list(beat.ping_set.order_by("-at", "-id").values_list("id", flat=True)[:PINGS_KEPT])
            beat.ping_set.exclude(id__in=keep).delete()
    if kind == HeartbeatPing.Kind.FAIL:
        events_log.warning("heartbeat %s reported a failure", name)
    return beat


def _beat(row: Heartbeat) -> lib.Beat:
    return lib.Beat(
        first_seen_at=row.first_seen_at,
        last_ping_at=row.last_ping_at,
        last_kind=row.last_kind,
        last_start_at=row.last_start_at,
    )


def state_of(name: str, now: datetime | None = None) -> lib.State:
    """Where a configured heartbeat stands now; its row is made the first time it is looked at."""
    now = now or timezone.now()
    expectation = settings.HEARTBEATS[name]
    row, _ = Heartbeat.objects.get_or_create(name=name, defaults={"first_seen_at": now})
    return lib.state(expectation, _beat(row), now)


def check(name: str) -> tuple[str, str]:
    """The probe of one heartbeat: (ok | warn | fail, detail); a reported failure shows its output."""
    state = state_of(name)
    detail = state.detail
    if state.status == lib.DOWN:
        last = HeartbeatPing.objects.filter(heartbeat__name=name).order_by("-at", "-id").first()
        if last is not None and last.kind == HeartbeatPing.Kind.FAIL and last.body.strip():
            detail += f": {last.body.strip().splitlines()[0][:200]}"
    return PROBE_STATES[state.status], detail


def recent_pings(name: str, limit: int = 10) -> list[HeartbeatPing]:
    return list(HeartbeatPing.objects.filter(heartbeat__name=name).order_by("-at", "-id")[:limit])
