"""The health probes: each checks one thing now and says ok, warn or fail with a short detail.

A probe never raises: `run_probe` times it and turns an exception into a failure. The
registry is built from settings each time, so EXTRA_HTTP_PROBES and thresholds changed
in a test or by a restart apply at once. Probes read live state only; storing results
and the up/down state machine live in dashboard.health.services. Each probe reads, then a
`judge_…` function (no I/O) turns what it read into (state, detail).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.timesince import timesince
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from dashboard.health import heartbeats
from dashboard.health.rules import FAIL, OK, WARN
from deadletters.models import DeadLetter
from shops.models import Shop
from shops.services import token_key_check, token_problems
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.jobs.registry import JOBS, RUNNER, get_job
from timedify_ops.lib import prisma_migrations
from webhooks.models import WebhookEvent

# The built-in probe names; EXTRA_HTTP_PROBES may not reuse them (dashboard.health.checks).
BUILTIN = ("app", "database", "migrations", "worker", "backlog", "deadletters", "schedules", "disk", "tokens")
APP_MIGRATIONS = "app-migrations"  # with APP_DATABASE_URL
HEARTBEAT_JOB = "worker-heartbeat"
USER_AGENT = "timedify-ops health probe"


@dataclass(frozen=True)
class Outcome:
    probe: str
    state: str  # ok / warn / fail
    latency_ms: float | None
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Probe:
    name: str
    check: Callable[[], tuple[str, str]]
    description: str
    # Drawn on the board's response-time chart (round trips worth comparing over a day).
    charted: bool = False


def registry() -> list[Probe]:
    """Every probe, in the order the board and the command list them."""
    timeout = settings.HEALTH_HTTP_TIMEOUT_S
    probes = [
        Probe("app", partial(check_http, settings.APP_HEALTH_URL, timeout), "GET APP_HEALTH_URL, 2xx expected", True),
    ]
    for name, url in settings.EXTRA_HTTP_PROBES.items():
        probes.append(Probe(name, partial(check_http, url, timeout), f"GET {name} (EXTRA_HTTP_PROBES)", True))
    probes += [
        Probe("database", check_database, "a round trip to the database", True),
        Probe("migrations", check_migrations, "every migration applied"),
        Probe("worker", check_worker, "django-q2 worker heartbeat and queue age"),
        Probe("backlog", check_backlog, "no webhook event stuck undelivered"),
        Probe("deadletters", check_deadletters, "open dead letters within the threshold"),
        Probe("schedules", check_schedules, "every schedule ran within its interval"),
        Probe("disk", check_disk, "free space where the embedded database lives"),
        Probe("tokens", check_tokens, "every installed shop has a usable offline token (hourly check)"),
    ]
    if settings.APP_DATABASE_URL:
        probes.append(
            Probe(APP_MIGRATIONS, check_app_migrations, "the app's Prisma migrations: none failed or unfinished")
        )
    for name, expectation in settings.HEARTBEATS.items():
        description = f"heartbeat: an outside job reports to /heartbeats/{name}, {expectation.cadence}"
        probes.append(Probe(name, partial(heartbeats.check, name), description))
    return probes


def run_probe(probe: Probe) -> Outcome:
    started = time.perf_counter()
    try:
        state, detail = probe.check()
    except Exception as error:  # a broken probe is a failed check, never a crashed run
        state, detail = FAIL, f"{type(error).__name__}: {error}"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return Outcome(probe=probe.name, state=state, latency_ms=latency_ms, detail=detail[:500])


def run_all() -> list[Outcome]:
    return [run_probe(probe) for probe in registry()]


# --------------------------------------------------------------------------- http


def check_http(url: str, timeout_s: float) -> tuple[str, str]:
    """GET `url`: 2xx is ok (a warning when slower than HEALTH_HTTP_SLOW_MS), anything else fails.

    Redirects are not followed (Shopify-style: a 3xx is not healthy). The URL is not
    repeated in the detail, as it may carry a token.
    """
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as error:
        return judge_http_error(error, timeout_s)
    return judge_http(response.status_code, (time.perf_counter() - started) * 1000)


def judge_http(status_code: int, elapsed_ms: float) -> tuple[str, str]:
    if not 200 <= status_code <= 299:
        return FAIL, f"HTTP {status_code}"
    if elapsed_ms > settings.HEALTH_HTTP_SLOW_MS:
        return WARN, f"HTTP {status_code}, slow: {elapsed_ms:.0f} ms > {settings.HEALTH_HTTP_SLOW_MS} ms"
    return OK, f"HTTP {status_code}"


def judge_http_error(error: httpx.HTTPError, timeout_s: float) -> tuple[str, str]:
    if isinstance(error, httpx.TimeoutException):
        return FAIL, f"no answer within {timeout_s:g} s"
    return FAIL, f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------------- database


def check_database(using: str = DEFAULT_DB_ALIAS) -> tuple[str, str]:
    """One round trip (SELECT 1); the latency is the probe's own timing."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK, f"{connection.vendor} answered"


def unapplied_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations `migrate` would apply now (reads the migration files and django_migrations)."""
    # Every node of the graph that is not recorded, not just the plan to the leaves: Django's plan
    # skips an unrecorded migration whose descendants are recorded.
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    applied = loader.applied_migrations
    return [f"{app}.{name}" for app, name in sorted(loader.graph.nodes) if (app, name) not in applied]


def check_migrations() -> tuple[str, str]:
    pending = unapplied_migrations()
    if pending:
        shown = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
        return FAIL, f"{len(pending)} unapplied: {shown}"
    return OK, "all applied"


# --------------------------------------------------------------------------- worker


def _ago(moment: datetime, now: datetime) -> str:
    if now - moment < timedelta(minutes=1):
        return f"{max(0, int((now - moment).total_seconds()))} s ago"
    return f"{timesince(moment, now)} ago"


def oldest_queued_task(now: datetime | None = None) -> tuple[int, datetime | None]:
    """(tasks waiting in the broker, when the oldest was enqueued).

    django-q2 stamps every task package with `started` when it is enqueued. The ORM
    broker's waiting rows are those not locked by a worker; the Redis broker's list
    head is the oldest.
    """
    broker = get_broker()
    size = broker.queue_size() or 0
    if not size:
        return 0, None
    if settings.REDIS_URL:
        head = broker.connection.lindex(broker.list_key, 0)
    else:
        row = (
            OrmQ.objects.filter(key=broker.list_key, lock__lte=now or timezone.now())
            .order_by("id")
            .only("payload")
            .first()
        )
        head = row.payload if row else None
    if head is None:
        return size, None
    try:
        return size, SignedPackage.loads(head).get("started")
    except Exception:  # an unreadable package still counts as queued
        return size, None


def check_worker() -> tuple[str, str]:
    """The worker is alive when its heartbeat job ran within its interval and grace.

    django-q2's own Stat heartbeat lives in the Django cache, which is per process
    here, so the worker proves itself by running the `worker-heartbeat` job (a JobRun
    every minute). The oldest queued task tells whether it keeps up.
    """
    now = timezone.now()
    beat = JobRun.objects.filter(key=HEARTBEAT_JOB).order_by("-started_at").values_list("started_at", flat=True).first()
    try:
        queued, oldest = oldest_queued_task(now)
    except Exception as error:
        return FAIL, f"broker unreachable: {type(error).__name__}: {error}"
    paused = Schedule.objects.filter(name=HEARTBEAT_JOB, repeats=0).exists()
    return judge_worker(now, beat=beat, queued=queued, oldest=oldest, paused=paused)


def judge_worker(
    now: datetime, *, beat: datetime | None, queued: int, oldest: datetime | None, paused: bool
) -> tuple[str, str]:
    job = get_job(HEARTBEAT_JOB)
    limit = job.interval + timedelta(minutes=job.grace_minutes)
    queue_text = f"{queued} queued" + (f", oldest enqueued {_ago(oldest, now)}" if oldest else "")
    if beat is None or now - beat > limit:
        seen = "no heartbeat recorded" if beat is None else f"last heartbeat {_ago(beat, now)}"
        if paused:
            return WARN, f"{seen}; the {HEARTBEAT_JOB} schedule is paused; {queue_text}"
        return FAIL, f"{seen}; {queue_text}"
    detail = f"heartbeat {_ago(beat, now)}; {queue_text}"
    if oldest and (now - oldest).total_seconds() > settings.HEALTH_QUEUE_MAX_AGE_S:
        return WARN, f"queue behind: {detail}"
    return OK, detail


# --------------------------------------------------------------------------- pipeline


BACKLOG_COUNT_CAP = 10_000


def check_backlog() -> tuple[str, str]:
    """Events still received/delivering long after they arrived (the sweeper should have moved them)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.HEALTH_BACKLOG_AGE_S)
    # status__in matches the partial index event_pending, which only holds undelivered events.
    stuck = WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING], received_at__lt=cutoff
    )
    count = stuck.values("pk")[: BACKLOG_COUNT_CAP + 1].count()
    oldest = stuck.order_by("received_at").values_list("received_at", flat=True).first() if count else None
    return judge_backlog(now, count=count, oldest=oldest)


def judge_backlog(now: datetime, *, count: int, oldest: datetime | None) -> tuple[str, str]:
    if not count:
        return OK, f"nothing undelivered for over {_minutes(settings.HEALTH_BACKLOG_AGE_S)}"
    shown = f"over {BACKLOG_COUNT_CAP}" if count > BACKLOG_COUNT_CAP else str(count)
    return FAIL, (
        f"{shown} event(s) undelivered for over {_minutes(settings.HEALTH_BACKLOG_AGE_S)}, "
        f"oldest received {_ago(oldest, now)}"
    )


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def check_deadletters() -> tuple[str, str]:
    return judge_deadletters(DeadLetter.objects.filter(status=DeadLetter.Status.OPEN).count())


def judge_deadletters(count: int) -> tuple[str, str]:
    threshold = settings.HEALTH_DEADLETTERS_WARN
    if count > threshold:
        return WARN, f"{count} open dead letter(s) (warning above {threshold})"
    return OK, f"{count} open dead letter(s)"


# --------------------------------------------------------------------------- tokens


def check_tokens() -> tuple[str, str]:
    """The configured token keys against the stored tokens (at once: a wrong key fails this run),
    then what the hourly `check-shop-tokens` job found (no Shopify call here)."""
    keys = token_key_check()
    if keys.unreadable:
        return FAIL, keys.detail
    return judge_tokens(token_problems(), installed=Shop.objects.filter(installed=True).count())


def judge_tokens(problems: list[Shop], *, installed: int) -> tuple[str, str]:
    if problems:
        shown = "; ".join(
            f"{shop.domain}: {shop.token_error or shop.last_check_error or 'no usable token'}" for shop in problems[:3]
        )
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        return FAIL, f"{len(problems)} shop(s) need a new token: {shown}{more}"
    return OK, f"{installed} installed shop(s), every token usable"


# --------------------------------------------------------------------------- the app's migrations


def check_app_migrations() -> tuple[str, str]:
    """The checklist's `prisma migrate status`: the app's `_prisma_migrations`, read-only."""
    status = prisma_migrations.check(settings.APP_DATABASE_URL, timeout_s=settings.HEALTH_HTTP_TIMEOUT_S)
    return (OK if status.ok else FAIL), status.detail


# --------------------------------------------------------------------------- schedules


def check_schedules() -> tuple[str, str]:
    """A dead-man's switch over every job in timedify_ops.jobs.registry.JOBS.

    Steps, per job:
    1. No django-q2 Schedule row: failed (sync_schedules has not run).
    2. Paused (repeats == 0): reported as paused, not failed.
    3. The job is missed when nothing ran for longer than its interval + grace,
       counted from its latest run, or from its latest resume if that is later
       (resuming a daily job must not make it "missed" until its next slot);
       a job that never ran is missed once its first slot (next_run) + grace passed.
    4. A job whose latest finished run raised is a warning.
    """
    now = timezone.now()
    rows = {row.name: row for row in Schedule.objects.filter(func=RUNNER)}
    missed, failing, paused, on_time = [], [], [], 0
    for job in JOBS:
        row = rows.get(job.key)
        if row is None:
            missed.append(f"{job.key} has no schedule (run sync_schedules)")
            continue
        if row.repeats == 0:
            paused.append(job.key)
            continue
        grace = timedelta(minutes=job.grace_minutes)
        last = JobRun.objects.filter(key=job.key).order_by("-started_at").values("started_at", "ok").first()
        resumed = (
            AuditEntry.objects.filter(target_type="schedule", target_id=job.key, action="schedule.resume")
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        moments = [moment for moment in (last["started_at"] if last else None, resumed) if moment]
        since = max(moments) if moments else None
        if since is None:
            if row.next_run and now > row.next_run + grace:
                missed.append(f"{job.key} never ran (due {_ago(row.next_run, now)})")
                continue
        elif now - since > job.interval + grace:
            what = "last ran" if last and since == last["started_at"] else "resumed"
            missed.append(f"{job.key} {what} {_ago(since, now)}, expected {job.cadence}")
            continue
        if last and last["ok"] is False:
            failing.append(job.key)
        on_time += 1
    return judge_schedules(on_time=on_time, missed=missed, failing=failing, paused=paused)


def judge_schedules(*, on_time: int, missed: list[str], failing: list[str], paused: list[str]) -> tuple[str, str]:
    parts = [f"{on_time} of {len(JOBS)} on time"]
    if missed:
        parts.append("missed: " + "; ".join(missed))
    if failing:
        parts.append("last run failed: " + ", ".join(failing))
    if paused:
        parts.append("paused: " + ", ".join(paused))
    state = FAIL if missed else WARN if failing else OK
    return state, "; ".join(parts)


# --------------------------------------------------------------------------- disk


def check_disk(path: Path | None = None) -> tuple[str, str]:
    """Free space on the filesystem of VAR_DIR (the embedded SQLite file, logs, generated secrets)."""
    path = Path(path or settings.VAR_DIR)
    usage = shutil.disk_usage(path)
    free_percent = usage.free * 100 / usage.total if usage.total else 0.0
    where = "var/" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "var/ (database elsewhere)"
    detail = f"{where}: {_bytes(usage.free)} free of {_bytes(usage.total)} ({free_percent:.1f} %)"
    if free_percent < settings.HEALTH_DISK_FAIL_PERCENT:
        return FAIL, f"{detail}, below {settings.HEALTH_DISK_FAIL_PERCENT} %"
    if free_percent < settings.HEALTH_DISK_WARN_PERCENT:
        return WARN, f"{detail}, below {settings.HEALTH_DISK_WARN_PERCENT} %"
    return OK, detail


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
