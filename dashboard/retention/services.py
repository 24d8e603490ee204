"""Retention: delete expired rows in bounded batches, record what each run deleted.

schedule "retention" (daily) → retention_job → run_retention (time-boxed; a follow-up task
continues a large backlog) · `manage.py retention_cleanup [DAYS] [--dry-run]` → run_retention
· /schedules/ → last_retention_summary()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import signals
from django.utils import timezone

from dashboard.retention.models import RetentionRun
from dashboard.retention.policies import KIND_OF_MODEL, POLICIES, Policy
from deadletters.services.sweeps import cleanup_replayed
from timedify_ops.jobs.registry import RUNNER
from timedify_ops.queue import enqueue

events_log = logging.getLogger("timedify_ops.events")


@dataclass
class KindReport:
    kind: str
    description: str
    rows: int = 0  # deleted, or (dry run) that would be
    cascaded: dict[str, int] = field(default_factory=dict)  # other kinds deleted along (attempts …)
    batches: int = 0
    complete: bool = True  # False: the time budget ended with rows left
    seconds: float = 0.0


def delete_expired(
    policy: Policy,
    now: datetime,
    *,
    max_age: timedelta | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    duty: float | None = None,
    deadline: float | None = None,
) -> KindReport:
    """Delete one policy's expired rows.

    1. select up to `batch_size` expired ids in the order of the policy's timestamp (an index
       range scan), starting where the previous batch ended;
    2. delete them (and what cascades with them) in one short transaction;
    3. rest, so the ingress gets the database and the CPU: `duty` is the share of time spent
       deleting (RETENTION_DUTY_PERCENT), so the rest after a batch is as long as the batch took
       times (1 / duty - 1): longer when the database is busy, which is when it matters;
    4. stop when a batch comes back short, or at the deadline (time.monotonic()) with
       `complete=False`.
    A dry run only counts.
    """
    report = KindReport(policy.kind, policy.description)
    model = policy.model
    started = time.monotonic()
    expired = policy.expired(now, max_age)
    if dry_run:
        report.rows = expired.count()
        report.seconds = time.monotonic() - started
        return report
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    duty = settings.RETENTION_DUTY_PERCENT / 100 if duty is None else duty
    label = model._meta.label
    cursor = None
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            report.complete = False
            break
        batch_started = time.monotonic()
        batch_query = expired if cursor is None else expired.filter(**{f"{policy.field}__gte": cursor})
        batch = list(batch_query.order_by(policy.field).values_list("pk", policy.field)[:batch_size])
        if not batch:
            break
        per_model = delete_rows(model, [pk for pk, _ in batch])
        batch_seconds = time.monotonic() - batch_started
        report.batches += 1
        for model_label, count in per_model.items():
            if model_label == label:
                report.rows += count
            elif count:
                kind = KIND_OF_MODEL.get(model_label, model_label.lower())
                report.cascaded[kind] = report.cascaded.get(kind, 0) + count
        cursor = batch[-1][1]
        if len(batch) < batch_size:
            break
        if duty < 1:
            time.sleep(batch_seconds * (1 / duty - 1))
    report.seconds = time.monotonic() - started
    return report


def _cascade_plan(model) -> list[tuple[type, str]] | None:
    """The child tables to empty first when every relation to `model` is a plain CASCADE from a
    model nothing else points at, and no delete signal listens; None when Django's collector must
    do it (deeper cascades, SET_NULL, PROTECT, many-to-many, signals: e.g. a room adds one later)."""
    if model._meta.many_to_many or _has_delete_signals(model):
        return None
    plan = []
    for relation in model._meta.related_objects:
        child = relation.related_model
        if relation.on_delete is not models.CASCADE or relation.many_to_many:
            return None
        if child._meta.related_objects or child._meta.many_to_many or _has_delete_signals(child):
            return None
        plan.append((child, relation.field.column))
    return plan


def _has_delete_signals(model) -> bool:
    return signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model)


def _delete_where(cursor, model, column: str, ids: list) -> int:
    # Identifiers come from model metadata; the ids are parameters (one array on PostgreSQL).
    table, column = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [ids])
        return cursor.rowcount
    deleted = 0
    for start in range(0, len(ids), 500):  # SQLite's limit on parameters per statement
        chunk = ids[start : start + 500]
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})", chunk)
        deleted += cursor.rowcount
    return deleted


def delete_rows(model, ids: list) -> dict[str, int]:
    """Delete rows `ids` of `model` and what cascades with them, in one short transaction; per model label.

    A simple shape (an event and its attempts) is deleted with one statement per table, which is
    several times faster than Django's collector loading every row first; anything else goes
    through the collector, so a relation added later is still honoured.
    """
    plan = _cascade_plan(model)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The commit need not wait for its WAL to reach disk: a crash can only bring back
            # rows the next run deletes again, and the ingress' own commits queue behind less.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if plan is None:
            _, per_model = model._default_manager.filter(pk__in=ids).only("pk").delete()
            return per_model
        per_model = {}
        with connection.cursor() as cursor:
            for child, column in plan:
                per_model[child._meta.label] = _delete_where(cursor, child, column, ids)
            per_model[model._meta.label] = _delete_where(cursor, model, model._meta.pk.column, ids)
    return per_model


def _run_policy(policy: Policy, now: datetime, *, event_days: int, dry_run: bool, deadline: float | None) -> KindReport:
    if policy.kind == "dead_letters":
        # The dead-letter room's own cleanup (audited, as `replay_deadletters --cleanup`); their
        # events stay until their own policy.
        report = KindReport(policy.kind, policy.description)
        started = time.monotonic()
        report.rows = cleanup_replayed(policy.max_age(), dry_run, now=now)
        report.seconds = time.monotonic() - started
        return report
    max_age = timedelta(days=event_days) if policy.kind == "webhook_events" else None
    return delete_expired(policy, now, max_age=max_age, dry_run=dry_run, deadline=deadline)


def run_retention(
    *,
    dry_run: bool = False,
    event_days: int | None = None,
    now: datetime | None = None,
    max_seconds: float | None = None,
    trigger: str = "command",
    on_kind: Callable[[KindReport], None] | None = None,
) -> tuple[RetentionRun, list[KindReport]]:
    """Apply every installed policy; record the run (dry runs too) as a RetentionRun."""
    now = now or timezone.now()
    event_days = event_days or settings.RETENTION_EVENT_DAYS
    run = RetentionRun.objects.create(started_at=now, trigger=trigger, dry_run=dry_run, event_days=event_days)
    started = time.monotonic()
    deadline = started + max_seconds if max_seconds else None
    reports: list[KindReport] = []
    deleted: dict[str, int] = {}
    try:
        for policy in POLICIES:
            report = _run_policy(policy, now, event_days=event_days, dry_run=dry_run, deadline=deadline)
            reports.append(report)
            deleted[report.kind] = deleted.get(report.kind, 0) + report.rows
            for kind, count in report.cascaded.items():
                deleted[kind] = deleted.get(kind, 0) + count
            if on_kind:
                on_kind(report)
    except Exception as error:
        _finish(run, started, deleted, reports, ok=False, error=f"{type(error).__name__}: {error}"[:2000])
        raise
    _finish(run, started, deleted, reports, ok=True)
    if not dry_run and run.total:
        events_log.info("retention deleted %d row(s): %s", run.total, _describe(deleted))
    return run, reports


def _finish(run: RetentionRun, started: float, deleted: dict, reports: list[KindReport], *, ok: bool, error=""):
    elapsed_s = time.monotonic() - started
    run.finished_at = run.started_at + timedelta(seconds=elapsed_s)  # on the run's own clock (`now`)
    run.duration_ms = round(elapsed_s * 1000, 3)
    run.ok = ok
    run.complete = ok and all(report.complete for report in reports)
    run.deleted = deleted
    run.error = error
    run.save(update_fields=["finished_at", "duration_ms", "ok", "complete", "deleted", "error"])


def _describe(deleted: dict[str, int]) -> str:
    # Sorted: a JSON column on PostgreSQL (jsonb) does not keep the keys' order.
    return ", ".join(f"{kind} {count}" for kind, count in sorted(deleted.items()) if count) or "nothing"


def retention_job() -> dict:
    """The daily schedule. Time-boxed below the task timeout; when rows are left (a large backlog),
    a follow-up run is queued at once, so a backlog never waits a day per time box."""
    run, _ = run_retention(trigger="schedule", max_seconds=settings.RETENTION_MAX_SECONDS)
    continued = not run.complete and run.total > 0
    if continued:
        enqueue(RUNNER, "retention", group="retention")
    return job_result(run, continued)


def job_result(run: RetentionRun, continued: bool) -> dict:
    """The daily job's result, as its JobRun keeps it."""
    return {"deleted": {k: v for k, v in run.deleted.items() if v}, "complete": run.complete, "continued": continued}


def last_retention_summary() -> dict | None:
    """The newest real (not dry) run, for /schedules/: when, what per kind, complete or not."""
    run = RetentionRun.objects.filter(dry_run=False).order_by("-started_at", "-id").first()
    if run is None:
        return None
    return {
        "id": run.pk,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "trigger": run.trigger,
        "ok": run.ok,
        "complete": run.complete,
        "event_days": run.event_days,
        "deleted": dict(run.deleted),
        "total": run.total,
        "duration_s": round(run.duration_ms / 1000, 1) if run.duration_ms is not None else None,
        "error": run.error,
        "text": _describe(run.deleted),
    }
