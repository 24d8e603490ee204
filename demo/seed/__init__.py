"""`manage.py seed_demo`: write a realistic week (demo.seed.plan) and everything that follows from it.

seed(now, seed, events, days) → one transaction, one writer per room, in this order:
 1. shops: the history's operators; shops and their tokens (shops.services.store_tokens);
 2. pipeline (receive, recover): the plan's events, delivery attempts, dead letters, the bulk replay, synthetic runs;
 3. telemetry: ingress and query telemetry per minute, through a Recorder and its flush;
 4. health: a probe run every minute, judged by the probes' own judges and stepped through
    ProbeState.advance into results, flips, hourly counters and states;
 5. logs (traffic): Fly-shaped log lines (records.row_from_record) and timedify-ops' own event lines;
 6. slo: the SLO rollups of every minute (rollups.rollup_range) and a daily report for each past day
    (report.write_report);
 7. retention: an operator's deletes (delete_dead_letter) and each night's retention run (run_retention);
 8. alerts: the rules replayed minute by minute, judged by the rules' own judges, into alerts;
 9. jobs: the schedules' runs, each result from the job's own result builder;
10. audit: the audit trail (record_audit); then every log line (ingest.insert_rows) and the rules' states.
Nothing notifies: alert history is written, never sent.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from dashboard.alerts.models import Alert, Notification, RuleState
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from dashboard.logs.models import LogEntry
from dashboard.retention.models import RetentionRun
from dashboard.slo.models import SloDailyReport, SloMinute
from deadletters.models import BulkAction, DeadLetter
from demo.seed import alerts, audit, health, jobs, logs, pipeline, retention, shops, slo, telemetry
from demo.seed.plan import make_plan
from demo.seed.world import World
from shops.models import Shop, SyntheticRun
from timedify_ops.audit.models import AuditEntry
from timedify_ops.jobs.models import JobRun
from timedify_ops.permissions import OPERATOR, VIEWER
from timedify_ops.telemetry import measure
from timedify_ops.telemetry.models import LatencyMinute, LatencyTotal, MetricCounter
from webhooks.models import DeliveryAttempt, WebhookEvent

DEMO_OPERATOR = "demo"
DEMO_VIEWER = "demo-viewer"


class SeedRefused(Exception):
    """The database has events already, or the seed cannot run here; the message says why."""


def has_events() -> bool:
    return WebhookEvent.objects.exists()


@contextlib.contextmanager
def _quiet_events():
    """The services called here log their events as they happen; the seed writes the week's
    own-event lines itself, at the times they happened, so the live ones are held back."""
    logger = logging.getLogger("timedify_ops.events")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


@contextlib.contextmanager
def _telemetry_held():
    """The seed's own queries are measured like any other, but flushed once it has committed:
    the recorder's thread would otherwise wait behind the seed's long transaction (SQLite's write lock)."""
    measure.recorder.stop()  # the seed's process ends after it: no more background flushes
    try:
        yield
    finally:
        measure.recorder.flush()


def seed(*, now: datetime | None = None, seed: int = 7, events: int = 12_000, days: int = 7) -> dict[str, int]:
    """Write the week ending `now`; returns what was written, by kind."""
    if not settings.TOKEN_ENCRYPTION_KEY:
        raise SeedRefused(
            "TOKEN_ENCRYPTION_KEY is not set: the demo shops' tokens are stored encrypted "
            "(`python3 scripts/dev.py demo` generates one in var/dev.env)"
        )
    now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
    plan = make_plan(now=now, seed=seed, events=events, days=days, budget=settings.DELIVERY_RETRY_BUDGET)
    world = World(plan, random.Random(seed + 1))
    with _quiet_events(), _telemetry_held(), transaction.atomic():
        shops.write_operators(world)
        shops.write(world)
        pipeline.write(world)
        telemetry.write(world)
        health.write(world)
        logs.write_traffic(world)
        slo.write(world)
        retention.write(world)
        alerts.write(world)
        jobs.write(world)
        audit.write(world)
        logs.write(world)
        alerts.write_rule_states(world)
    return dict(world.counts)


def wipe() -> dict[str, int]:
    """Delete what a seed writes (for --force), children first; users are kept."""
    deleted = {}
    with transaction.atomic():
        for model in (
            DeliveryAttempt,
            DeadLetter,
            BulkAction,
            WebhookEvent,
            LogEntry,
            ProbeResult,
            ProbeFlip,
            ProbeHour,
            ProbeState,
            SloMinute,
            SloDailyReport,
            LatencyMinute,
            LatencyTotal,
            MetricCounter,
            Notification,
            Alert,
            RuleState,
            JobRun,
            RetentionRun,
            AuditEntry,
            SyntheticRun,
            Shop,
        ):
            count, _ = model.objects.all().delete()
            deleted[model._meta.label] = count
    return deleted


@dataclass
class Login:
    username: str
    role: str
    created: bool


def ensure_logins(password: str | None = None) -> tuple[list[Login], str | None]:
    """The demo operator and viewer, created with `password` (or a generated one) if missing.

    Returns the logins and the password when one was set (None when both existed already).
    """
    User = get_user_model()
    password = password or secrets.token_urlsafe(9)
    used = None
    logins = []
    for username, role in ((DEMO_OPERATOR, OPERATOR), (DEMO_VIEWER, VIEWER)):
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            used = password
        logins.append(Login(username, role, created))
    return logins, used
