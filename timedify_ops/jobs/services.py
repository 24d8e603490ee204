"""Running jobs and operating their schedules (the registry is timedify_ops.jobs.registry).

django-q2 Schedule → RUNNER (timedify_ops.schedules.run_job) → run_job: a JobRun per run
/schedules/ → schedule_rows(), run_schedule_now(), pause_schedule(), resume_schedule() (audited)
`manage.py sync_schedules` and every `migrate` → sync_schedules()
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from timedify_ops.audit.services import record_audit
from timedify_ops.jobs.models import JobRun
from timedify_ops.jobs.registry import JOBS, RUNNER, Job, get_job
from timedify_ops.queue import enqueue

logger = logging.getLogger(__name__)


def summarise(result) -> str:
    """A job's result as its JobRun keeps it."""
    if result is None:
        return ""
    text = result if isinstance(result, str) else repr(result)
    return text[:2000]


def run_job(key: str, *, trigger: str = "schedule", user=None, user_id: int | None = None):
    """Run one job now and record it as a JobRun (the scheduler, "Run now" and commands call this).

    A queued "Run now" passes `user_id` rather than the user: task arguments are pickled.
    """
    job = get_job(key)
    if user is None and user_id is not None:
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
    run.finish(ok=True, duration_ms=(time.perf_counter() - started) * 1000, result=summarise(result))
    return result


def sync_schedules(stdout=None) -> dict[str, int]:
    """Write one django-q2 Schedule per job (by name); delete rows for vanished jobs.

    Paused schedules (repeats == 0) stay paused; next_run is kept unless the
    cadence changed.
    """
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


# --------------------------------------------------------------------------- /schedules/


@dataclass
class ScheduleRow:
    job: Job
    schedule: Schedule | None
    last_run: JobRun | None

    @property
    def paused(self) -> bool:
        return self.schedule is not None and self.schedule.repeats == 0


def schedule_rows() -> list[ScheduleRow]:
    """Every job in JOBS with its django-q2 Schedule and its latest JobRun (one indexed lookup each)."""
    schedules = {row.name: row for row in Schedule.objects.filter(name__in=[job.key for job in JOBS])}
    rows = []
    for job in JOBS:
        last = JobRun.objects.filter(key=job.key).select_related("triggered_by").order_by("-started_at").first()
        rows.append(ScheduleRow(job=job, schedule=schedules.get(job.key), last_run=last))
    return rows


class ScheduleMissing(LookupError):
    pass


def run_schedule_now(key: str, user) -> str | None:
    """Queue one run of the job for the worker (trigger "manual", recorded as the user's); audited."""
    job = get_job(key)
    task_id = enqueue(RUNNER, job.key, trigger="manual", user_id=user.pk, task_name=f"run-now-{job.key}")
    record_audit(
        user,
        "schedule.run_now",
        target_type="schedule",
        target_id=job.key,
        summary=f"queued a run of {job.key}",
        details={"task_id": task_id},
    )
    return task_id


def _schedule_row(key: str) -> tuple[Job, Schedule]:
    job = get_job(key)
    row = Schedule.objects.select_for_update().filter(name=job.key).order_by("id").first()
    if row is None:
        raise ScheduleMissing(f"{job.key} has no django-q2 schedule yet: run manage.py sync_schedules")
    return job, row


def pause_schedule(key: str, user) -> bool:
    """Stop the scheduler from starting the job (repeats 0, which sync_schedules keeps); audited.

    Returns False when it was already paused (nothing recorded)."""
    with transaction.atomic():
        job, row = _schedule_row(key)
        if row.repeats == 0:
            return False
        row.repeats = 0
        row.save(update_fields=["repeats"])
        record_audit(user, "schedule.pause", target_type="schedule", target_id=job.key, summary=f"paused {job.key}")
    return True


def resume_schedule(key: str, user) -> bool:
    """Let the job run again from its next regular slot (repeats -1); audited.

    The schedules probe counts a resumed job's interval from this audit entry.
    Returns False when it was not paused (nothing recorded)."""
    with transaction.atomic():
        job, row = _schedule_row(key)
        if row.repeats != 0:
            return False
        row.repeats = -1
        row.next_run = job.first_run(timezone.now())
        row.save(update_fields=["repeats", "next_run"])
        record_audit(user, "schedule.resume", target_type="schedule", target_id=job.key, summary=f"resumed {job.key}")
    return True
