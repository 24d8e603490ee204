"""Heartbeats from outside jobs, Django-free: what is expected of each, and where it stands.

Healthchecks.io's idea: a job that runs somewhere else (the nightly `pg_dump`, the provider's backup
check, the app's own crons) reports in — `POST /heartbeats/<name>` when it succeeded, `/start` when
it begins, `/fail` when it failed — and silence is the alarm. Each heartbeat expects a report every
*period*, and allows a *grace* on top before it counts as missed:

    HEARTBEATS="nightly-backup=24h+2h,shopify-sync=15m+5m"     (grace optional: 10 % of the period)

`state()` follows Healthchecks' Check.get_status:
1. a run that started (`/start`) and has not reported its end is `started`, or `down` once it has
   run longer than the grace;
2. the last report was `/fail`: `down`;
3. never reported: `new` until the period + grace since the heartbeat was first configured, then
   `down` (a backup job that was never set up is found, not waited for forever);
4. otherwise from the last report: `up`, `late` past the period, `down` past period + grace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from timedify_ops.lib.durations import parse_duration

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
KINDS = ("success", "start", "fail")

NEW, UP, STARTED, LATE, DOWN = "new", "up", "started", "late", "down"


@dataclass(frozen=True)
class Expectation:
    name: str
    period: timedelta
    grace: timedelta

    @property
    def cadence(self) -> str:
        return f"every {format_duration(self.period)}, grace {format_duration(self.grace)}"


@dataclass(frozen=True)
class Beat:
    """What is stored of one heartbeat (timedify-ops keeps it in the health room's Heartbeat row)."""

    first_seen_at: datetime  # when timedify-ops first knew of it (the clock for a heartbeat that never reported)
    last_ping_at: datetime | None = None  # the last end of a run: success or fail
    last_kind: str = ""  # "success" or "fail"
    last_start_at: datetime | None = None  # a run started and not reported finished


@dataclass(frozen=True)
class State:
    status: str
    since: datetime | None  # when it went (or goes) into this status, where that is known
    detail: str


def parse(text: str) -> dict[str, Expectation]:
    """HEARTBEATS: `name=PERIOD[+GRACE]`, comma-separated; durations as `24h`, `90m`, `7d`, `30s`."""
    found: dict[str, Expectation] = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        name, sep, spec = (piece.strip() for piece in item.partition("="))
        if not sep or not spec:
            raise ValueError(f"{item!r} is not name=PERIOD[+GRACE] (e.g. nightly-backup=24h+2h)")
        if not NAME.fullmatch(name):
            raise ValueError(f"{name!r}: heartbeat names are letters, digits, - and _ (at most 64)")
        if name in found:
            raise ValueError(f"{name!r} is listed twice")
        period_text, _, grace_text = spec.partition("+")
        period = parse_duration(period_text, bare_unit="h")
        if period < timedelta(minutes=1):
            raise ValueError(f"{name}: the period must be at least a minute (got {period_text.strip()!r})")
        grace = parse_duration(grace_text, bare_unit="h") if grace_text.strip() else period / 10
        found[name] = Expectation(name=name, period=period, grace=grace)
    return found


def state(expectation: Expectation, beat: Beat, now: datetime) -> State:
    """Where a heartbeat stands now (see the module's steps)."""
    grace, period = expectation.grace, expectation.period
    if beat.last_start_at is not None:
        limit = beat.last_start_at + grace
        if now >= limit:
            return State(DOWN, limit, f"started {span(beat.last_start_at, now)} ago and never reported its end")
        return State(STARTED, beat.last_start_at, f"running, started {span(beat.last_start_at, now)} ago")
    if beat.last_ping_at is None:
        limit = beat.first_seen_at + period + grace
        if now >= limit:
            return State(DOWN, limit, f"never reported (expected {expectation.cadence})")
        return State(NEW, beat.first_seen_at, f"waiting for its first report, due within {span(now, limit)}")
    if beat.last_kind == "fail":
        return State(DOWN, beat.last_ping_at, f"reported a failure {span(beat.last_ping_at, now)} ago")
    last = f"last success {span(beat.last_ping_at, now)} ago"
    due, limit = beat.last_ping_at + period, beat.last_ping_at + period + grace
    if now >= limit:
        return State(DOWN, limit, f"missed: {last}, expected {expectation.cadence}")
    if now >= due:
        return State(LATE, due, f"late: {last}, down in {span(now, limit)}")
    return State(UP, beat.last_ping_at, f"{last}, next due in {span(now, due)}")


def format_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def span(earlier: datetime, later: datetime) -> str:
    """The time between two moments, rounded down to one unit: `42 s`, `17 min`, `5 h`, `3 d`."""
    seconds = max(0, int((later - earlier).total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
