"""The django-q2 schedule registry: every background job, defined in code, in one place.

Every Schedule row points at the stable `run_job` with the job's key, never at
the job function itself: renaming or moving a function only changes this file,
and `sync_schedules` (also run after `migrate`) rewrites the rows idempotently,
deleting rows for keys that no longer exist. `run_job` records a JobRun for each
run, which the schedules page and the dead-man's-switch probe read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

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
        func="deadletters.services.sweep_stuck",
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
        func="dashboard.slo.report.write_previous_day_report",
        description="Write the SLO summary of the previous UTC day (and send it when a channel is configured).",
        daily_at="00:10",
        grace_minutes=30,
    ),
]


def get_job(key: str) -> Job:
    for job in JOBS:
        if job.key == key:
            return job
    raise KeyError(f"no job named {key!r} in timedify_ops.schedules.JOBS")


def _summarise(result) -> str:
    if result is None:
        return ""
    text = result if isinstance(result, str) else repr(result)
    return text[:2000]


def run_job(key: str, *, trigger: str = "schedule", user=None, user_id: int | None = None):
    """Run one job now and record it as a JobRun (the scheduler, "Run now" and commands call this).

    A queued "Run now" passes `user_id` rather than the user: task arguments are pickled.
    """
    from dashboard.models import JobRun

    job = get_job(key)
    if user is None and user_id is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
    func = import_string(job.func)
    run = JobRun.objects.create(key=key, trigger=trigger, triggered_by=user if user and user.pk else None)
    started = time.perf_counter()
    try:
        result = func()
    except Exception as error:
        run.finish(
            ok=False, duration_ms=(time.perf_counter() - started) * 1000, error=f"{type(error).__name__}: {error}"
        )
        logger.exception("job %s failed", key)
        raise
    run.finish(ok=True, duration_ms=(time.perf_counter() - started) * 1000, result=_summarise(result))
    return result


def sync_schedules(stdout=None) -> dict[str, int]:
    """Write one django-q2 Schedule per job (by name); delete rows for vanished jobs.

    Paused schedules (repeats == 0) stay paused; next_run is kept unless the
    cadence changed.
    """
    from django_q.models import Schedule

    created = updated = deleted = 0
    now = timezone.now()
    with transaction.atomic():
        keys = {job.key for job in JOBS}
        stale = Schedule.objects.filter(func=RUNNER).exclude(name__in=keys)
        deleted += stale.count()
        stale.delete()
        for job in JOBS:
            rows = list(Schedule.objects.filter(name=job.key).order_by("id"))
            for extra in rows[1:]:
                extra.delete()
                deleted += 1
            wanted = {
                "func": RUNNER,
                "args": repr(job.key),
                "kwargs": None,
                "schedule_type": Schedule.MINUTES if job.every_minutes else Schedule.DAILY,
                "minutes": job.every_minutes,
            }
            if not rows:
                Schedule.objects.create(name=job.key, next_run=job.first_run(now), repeats=-1, **wanted)
                created += 1
                continue
            row = rows[0]
            changed = [field for field, value in wanted.items() if getattr(row, field) != value]
            if changed:
                cadence_changed = {"schedule_type", "minutes"} & set(changed)
                for field in changed:
                    setattr(row, field, wanted[field])
                if cadence_changed:
                    row.next_run = job.first_run(now)
                    changed.append("next_run")
                row.save(update_fields=changed)
                updated += 1
    summary = {"created": created, "updated": updated, "deleted": deleted, "total": len(JOBS)}
    if stdout is not None:
        stdout.write(f"schedules: {summary['total']} defined, {created} created, {updated} updated, {deleted} deleted")
    return summary
