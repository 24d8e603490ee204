"""The schedule registry: every background job, defined in code, in one place.

Every django-q2 Schedule row points at the stable RUNNER with the job's key, never at the job
function itself: renaming or moving a function only changes this file, and `sync_schedules`
(also run after `migrate`) rewrites the rows idempotently, deleting rows for keys that no longer
exist. The runner records a JobRun for each run, which the schedules page and the dead-man's-switch
probe read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The task path stored in every Schedule row and queued run (timedify_ops/schedules.py); it never moves.
RUNNER = "timedify_ops.schedules.run_job"


@dataclass(frozen=True)
class Job:
    key: str
    func: str  # dotted path; imported when the job runs
    description: str
    every_minutes: int | None = None
    daily_at: str | None = None  # "HH:MM" UTC
    # How late a run may be before the schedules probe calls it missed.
    grace_minutes: int = 3

    @property
    def interval(self) -> timedelta:
        if self.every_minutes:
            return timedelta(minutes=self.every_minutes)
        return timedelta(days=1)

    @property
    def cadence(self) -> str:
        if self.every_minutes == 1:
            return "every minute"
        if self.every_minutes and self.every_minutes % 60 == 0:
            hours = self.every_minutes // 60
            return "hourly" if hours == 1 else f"every {hours} h"
        if self.every_minutes:
            return f"every {self.every_minutes} min"
        return f"daily at {self.daily_at} UTC"

    def first_run(self, now: datetime) -> datetime:
        if self.every_minutes:
            return now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        hour, minute = (int(part) for part in self.daily_at.split(":"))
        candidate = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= now:
            candidate += timedelta(days=1)
        return candidate


JOBS: list[Job] = [
    Job(
        key="sweep-stale-events",
        func="webhooks.services.sweep_stale_events",
        description="Re-enqueue events whose enqueue was lost or whose worker died mid-delivery.",
        every_minutes=1,
    ),
    Job(
        key="check-shop-tokens",
        func="shops.services.check_tokens",
        description="Check every installed shop's offline token with a cheap Admin API query (401 → invalid).",
        every_minutes=60,
        grace_minutes=10,
    ),
    Job(
        key="alerting",
        func="dashboard.alerts.engine.run_alerting",
        description="Evaluate the alert rules; fire, update and resolve alerts; send notifications.",
        every_minutes=1,
    ),
    Job(
        key="retention",
        func="dashboard.retention.services.retention_job",
        description="Delete expired rows per the retention policies, in bounded batches (a backlog continues at once).",
        daily_at="03:30",
        grace_minutes=30,
    ),
    Job(
        key="health-probes",
        func="dashboard.health.services.run_probes_job",
        description="Run every health probe (app, database, migrations, worker, backlog, dead letters, "
        "schedules, disk) and record the results, flips and uptime for /status/.",
        every_minutes=1,
    ),
    Job(
        key="worker-heartbeat",
        func="dashboard.health.services.heartbeat",
        description="Proof of life for the worker probe: its latest run says the django-q2 worker is executing tasks.",
        every_minutes=1,
    ),
    Job(
        key="deadletters-sweep",
        func="deadletters.services.sweeps.sweep_stuck",
        description="Re-enqueue lost replays, fail replays whose worker died, resume or close stuck bulk actions.",
        every_minutes=1,
    ),
    Job(
        key="slo-rollup",
        func="dashboard.slo.rollups.rollup_recent",
        description="Recompute the SLO rollups of the last few closed minutes (late telemetry flushes included).",
        every_minutes=1,
    ),
    Job(
        key="slo-daily-report",
        func="dashboard.alerts.notify.daily_slo_report",
        description="Write the SLO summary of the previous UTC day (and send it when a channel is configured).",
        daily_at="00:10",
        grace_minutes=30,
    ),
]


def get_job(key: str) -> Job:
    for job in JOBS:
        if job.key == key:
            return job
    raise KeyError(f"no job named {key!r} in timedify_ops.jobs.registry.JOBS")
