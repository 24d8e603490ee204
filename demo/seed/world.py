"""What the writers share while they write one week: the plan, the rows written so far, the
log lines and audit entries gathered for the end, and the helpers several rooms use."""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashboard.health.models import ProbeFlip
from dashboard.logs import handler as own_events
from dashboard.logs import records
from dashboard.slo.models import SloDailyReport
from deadletters.models import DeadLetter
from demo import content
from demo.seed.plan import Plan
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.jobs.services import summarise
from webhooks.models import WebhookEvent

MINUTE = timedelta(minutes=1)
OWN = content.FlyInstance(own_events.APP_NAME, "5683d9e4b6e408", "iad")


def ns(moment: datetime) -> int:
    return records.datetime_to_ns(moment)


@dataclass
class ProbeRun:
    at: datetime
    outcomes: list  # dashboard.health.probes.Outcome, one per probe


@dataclass
class AlertEpisode:
    rule_key: str
    title: str
    category: str
    severity: str
    threshold: float | None
    unit: str
    pending_since: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_seen_at: datetime | None = None
    value: float | None = None
    peak: float | None = None
    detail: str = ""


@dataclass
class World:
    plan: Plan
    rng: random.Random
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    logs: list[records.LogRow] = field(default_factory=list)
    users: dict = field(default_factory=dict)
    saved: dict[str, WebhookEvent] = field(default_factory=dict)
    letters: dict[str, DeadLetter] = field(default_factory=dict)
    runs: list[ProbeRun] = field(default_factory=list)
    flips: list[ProbeFlip] = field(default_factory=list)
    episodes: list[AlertEpisode] = field(default_factory=list)
    audits: list[tuple[datetime, dict]] = field(default_factory=list)
    down_by_run: list[tuple[datetime, list]] = field(default_factory=list)
    reports: list[SloDailyReport] = field(default_factory=list)
    pending: dict[str, datetime | None] = field(default_factory=dict)  # each replayed rule's pending clock at the end
    job_runs: list[JobRun] = field(default_factory=list)

    def job_run(self, key: str, at: datetime, ms: float, result, **extra) -> None:
        """A run of a scheduled job, recorded as timedify_ops.jobs.services.run_job records one."""
        self.job_runs.append(
            JobRun(
                key=key,
                started_at=at,
                finished_at=at + timedelta(milliseconds=ms),
                duration_ms=round(ms, 3),
                ok=True,
                result=summarise(result),
                **extra,
            )
        )

    def redate_audit(self, entry: AuditEntry, moment: datetime) -> None:
        """An audit entry a service wrote now belongs at `moment`; its event line (as record_audit logs it) too."""
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=moment)
        self.own_event(moment, "INFO", f"audit: {entry.actor_name} {entry.action} {entry.summary or entry.target_id}")

    # ------------------------------------------------------------------ log lines, written at the end

    def own_event(self, moment: datetime, level: str, message: str, delay_s: float = 0.05) -> None:
        """One of timedify-ops' own event lines (as dashboard.logs.handler writes them)."""
        self.logs.append(
            records.LogRow(
                timestamp_ns=ns(moment + timedelta(seconds=delay_s)),
                message=message,
                app=OWN.app,
                instance=OWN.instance,
                region=OWN.region,
                level=records.normalise_level(level.lower()),
                provider=own_events.PROVIDER,
                host=OWN.host,
                topic=records.derive_topic(message),
                extra={"logger": "timedify_ops.events", "process": 412, "thread": "MainThread"},
            )
        )

    def fly_line(self, moment: datetime, machine, level: str, provider: str, message: str) -> None:
        """A line from the Fly log shipper, read the way POST /logs/ingest reads it."""
        record = content.fly_record(ns(moment), message, machine, level=level, provider=provider)
        self.logs.append(records.row_from_record(record, now_ns=ns(self.plan.now)))

    # ------------------------------------------------------------------ moments

    def open_counter(self) -> Callable[[datetime], int]:
        """open dead letters at any moment: +1 when created, -1 when a replay was claimed or it was deleted."""
        changes = []
        for event in self.plan.letters:
            letter = event.letter
            changes.append((letter.created_at, 1))
            ended = letter.open_until or letter.deleted_at
            if ended is not None:
                changes.append((ended, -1))
        changes.sort()
        moments = [moment for moment, _ in changes]
        totals = []
        running = 0
        for _, delta in changes:
            running += delta
            totals.append(running)

        def open_at(moment: datetime) -> int:
            index = bisect.bisect_right(moments, moment)
            return totals[index - 1] if index else 0

        return open_at

    def alert_minutes(self) -> list[datetime]:
        """When the every-minute alerting job ran."""
        minute = (self.plan.start + MINUTE).replace(second=0)
        moments = []
        while minute + timedelta(seconds=1) < self.plan.now:
            moments.append(minute + timedelta(milliseconds=900))
            minute += MINUTE
        return moments
