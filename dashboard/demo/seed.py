"""`manage.py seed_demo`: write a realistic week (dashboard.demo.plan) and everything that follows from it.

seed(now, seed, events, days) → one transaction:
 1. shops and their tokens (shops.services.store_tokens), the history's operators;
 2. the plan's events, delivery attempts, dead letters, the bulk replay, synthetic runs (bulk_create);
 3. ingress and query telemetry per minute (dashboard.telemetry.flush_batch, as the recorder does);
 4. a probe run every minute, stepped through the probes' state machine (dashboard.health.rules.step,
    as services.record_results does) into results, flips, hourly counters and states;
 5. Fly-shaped log lines (dashboard.logs.records.row_from_record + ingest.insert_rows) and
    timedify-ops' own event lines;
 6. the SLO rollups of every minute (dashboard.slo.rollups.rollup_range) and a daily report for
    each past day (dashboard.slo.report.write_report);
 7. the daily retention runs (replayed dead letters older than their grace go), the alert rules
    replayed minute by minute into alerts, the schedules' job runs, the audit trail (record_audit).
Nothing notifies: alert history is written, never sent.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from dashboard.audit import record_audit
from dashboard.demo.plan import BULK_OPERATOR, REPLAY_OPERATOR, REVOKED_SHOP, Plan, make_plan
from dashboard.health import probes as probe_module
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from dashboard.health.rules import FAIL, OK, WARN, Machine, step
from dashboard.logs import handler as own_events
from dashboard.logs import records
from dashboard.logs.ingest import insert_rows
from dashboard.models import (
    Alert,
    AuditEntry,
    JobRun,
    LatencyMinute,
    LatencyTotal,
    LogEntry,
    MetricCounter,
    Notification,
    RetentionRun,
    RuleState,
    SloDailyReport,
    SloMinute,
)
from dashboard.slo import report as slo_report
from dashboard.slo import rollups
from deadletters import filters as dl_filters
from deadletters.models import BulkAction, DeadLetter
from shops.models import Shop, SyntheticRun
from shops.services import store_tokens
from timedify_ops.demo import content
from timedify_ops.lib.histogram import Histogram
from timedify_ops.lib.shopify_headers import redact
from timedify_ops.lib.telemetry import Batch
from timedify_ops.permissions import OPERATOR, VIEWER
from timedify_ops.schedules import JOBS
from webhooks.models import DeliveryAttempt, WebhookEvent

DEMO_OPERATOR = "demo"
DEMO_VIEWER = "demo-viewer"
MINUTE = timedelta(minutes=1)
OWN = content.FlyInstance(own_events.APP_NAME, "5683d9e4b6e408", "iad")
JOB_HISTORY = timedelta(hours=24)  # every-minute jobs keep a day of runs (the page shows the last)
RETENTION_AT = time(3, 30, 2)
REPORT_AT = time(0, 10, 1)
# What shops.services records when the Admin API answers 401 to the hourly check.
TOKEN_ERROR = "401 Unauthorized from the Admin API"  # noqa: S105 - an error message
TOKEN_CHECK_ERROR = f"401 Unauthorized from {REVOKED_SHOP}: the access token is invalid or revoked"


class SeedRefused(Exception):
    """The database has events already, or the seed cannot run here; the message says why."""


# --------------------------------------------------------------------------- entry points


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
    from dashboard.telemetry import recorder

    interval = recorder.interval
    recorder.stop()
    recorder.interval = 0
    try:
        yield
    finally:
        recorder.interval = interval
        recorder.flush()


def seed(*, now: datetime | None = None, seed: int = 7, events: int = 12_000, days: int = 7) -> dict[str, int]:
    """Write the week ending `now`; returns what was written, by kind."""
    if not settings.TOKEN_ENCRYPTION_KEY:
        raise SeedRefused(
            "TOKEN_ENCRYPTION_KEY is not set: the demo shops' tokens are stored encrypted "
            "(`python3 scripts/dev.py demo` generates one in var/dev.env)"
        )
    now = (now or timezone.now()).astimezone(UTC).replace(microsecond=0)
    plan = make_plan(now=now, seed=seed, events=events, days=days, budget=settings.DELIVERY_RETRY_BUDGET)
    with _quiet_events(), _telemetry_held(), transaction.atomic():
        return Writer(plan, random.Random(seed + 1)).write()


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


# --------------------------------------------------------------------------- the writer


def _ns(moment: datetime) -> int:
    return records.datetime_to_ns(moment)


@dataclass
class ProbeRun:
    at: datetime
    outcomes: list[tuple[str, str, float, str]]  # probe, state, latency ms, detail


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
class Writer:
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

    def write(self) -> dict[str, int]:
        self.users = self._history_operators()
        self._shops()
        self._events()
        self._telemetry()
        self._probes()
        self._traffic_logs()
        self._rollups_and_reports()
        self._deletions_and_retention()
        self._alerts()
        self._job_runs()
        self._audit()
        self._write_logs()
        self._rule_states()
        return dict(self.counts)

    # ------------------------------------------------------------------ people and shops

    def _history_operators(self) -> dict:
        """The operators whose actions the week records; they cannot log in (no usable password)."""
        User = get_user_model()
        group = Group.objects.get_or_create(name=OPERATOR)[0]
        users = {}
        for name in (BULK_OPERATOR, REPLAY_OPERATOR):
            user, created = User.objects.get_or_create(username=name)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
            users[name] = user
        return users

    def _shops(self) -> None:
        plan, rng, now = self.plan, self.rng, self.plan.now
        scopes_updates = {}
        for event in plan.events:
            if event.topic == "app/scopes_update":
                scopes_updates[event.shop] = event.triggered_at
        for index, shop in enumerate(content.SHOPS):
            expires = refresh_expires = None
            if shop.domain == "lumen-lighting.myshopify.com":
                expires = now + timedelta(minutes=2)  # inside the refresh margin: "refresh due"
            elif index % 3 == 1:
                expires = now + timedelta(minutes=rng.randint(15, 55))  # an expiring token, refreshed hourly
            if expires is not None:
                refresh_expires = now + timedelta(days=rng.randint(20, 89))
            stored_at = (expires - timedelta(hours=1)) if expires else now - timedelta(days=rng.randint(30, 200))
            stored = store_tokens(
                shop.domain,
                access_token=f"shpat_{rng.getrandbits(128):032x}",
                access_token_expires_at=expires,
                refresh_token=f"shprt_{rng.getrandbits(128):032x}" if expires else None,
                refresh_token_expires_at=refresh_expires,
                scopes=content.SCOPES,
                now=stored_at,
            ).shop
            last_check = now.replace(minute=17, second=4) - (timedelta(hours=1) if now.minute < 17 else timedelta())
            revoked = shop.domain == REVOKED_SHOP
            Shop.objects.filter(pk=stored.pk).update(
                created_at=now - timedelta(days=120 - index),
                token_refreshed_at=stored_at if expires else None,
                scopes_updated_at=scopes_updates.get(shop.domain, stored_at),
                last_check_at=last_check,
                last_check_ok=not revoked,
                last_check_error=TOKEN_CHECK_ERROR if revoked else "",
                token_invalid_at=plan.token_revoked_at if revoked else None,
                token_error=TOKEN_ERROR if revoked else "",
            )
        for domain, (uninstalled_at, redacted_at) in plan.churned.items():
            Shop.objects.create(
                domain=domain,
                installed=False,
                uninstalled_at=uninstalled_at,
                created_at=now - timedelta(days=rng.randint(130, 400)),
                scopes=content.SCOPES,
                redacted_at=redacted_at + timedelta(seconds=1) if redacted_at else None,
                last_check_at=uninstalled_at - timedelta(minutes=rng.randint(5, 55)),
                last_check_ok=True,
            )
        self.counts["shops"] = len(content.SHOPS) + len(plan.churned)

    # ------------------------------------------------------------------ events

    def _events(self) -> None:
        plan = self.plan
        redacted = {domain for domain, (_, redacted_at) in plan.churned.items() if redacted_at is not None}
        rows = []
        for event in plan.events:
            # shop/redact erased what timedify-ops held for the shop (shops.side_effects.shop_redact).
            erased = event.shop in redacted and event.topic != "shop/redact"
            rows.append(
                WebhookEvent(
                    webhook_id=event.webhook_id,
                    event_id=event.event_id,
                    topic=event.topic,
                    shop_domain=event.shop,
                    api_version=content.API_VERSION,
                    triggered_at=event.triggered_at,
                    received_at=event.received_at,
                    body=b"{}" if erased else event.body,
                    body_size=len(event.body),
                    headers=redact(event.headers),
                    status=event.status,
                    attempts=len(event.attempts),
                    delivered_at=event.delivered_at,
                    synthetic=event.synthetic,
                    duplicates=event.duplicates,
                    last_duplicate_at=event.last_duplicate_at,
                    enqueued_at=event.received_at,
                )
            )
        WebhookEvent.objects.bulk_create(rows, batch_size=1000)
        self.saved = {row.webhook_id: row for row in rows}
        if any(row.pk is None for row in rows):  # a backend without RETURNING from bulk inserts
            ids = dict(WebhookEvent.objects.values_list("webhook_id", "pk"))
            for row in rows:
                row.pk = row.id = ids[row.webhook_id]

        from webhooks.services import target_url_for

        attempts = []
        for event in plan.events:
            saved = self.saved[event.webhook_id]
            erased = event.shop in redacted and event.topic != "shop/redact"
            for attempt in event.attempts:
                attempts.append(
                    DeliveryAttempt(
                        event=saved,
                        number=attempt.number,
                        started_at=attempt.started_at,
                        duration_ms=round(attempt.duration_ms, 3),
                        status_code=attempt.status_code,
                        error=attempt.error,
                        response_excerpt="" if erased else attempt.excerpt,
                        target_url=target_url_for(event.topic)[:500],
                        is_replay=attempt.replayed_by is not None,
                        replayed_by=self.users.get(attempt.replayed_by),
                    )
                )
        DeliveryAttempt.objects.bulk_create(attempts, batch_size=2000)

        bulk = self._bulk_action()
        letters = []
        for event in plan.letters:
            letter = event.letter
            erased = event.shop in redacted and event.topic != "shop/redact"
            letters.append(
                DeadLetter(
                    event=self.saved[event.webhook_id],
                    status=letter.status,
                    reason=letter.reason,
                    created_at=letter.created_at,
                    topic=event.topic,
                    shop_domain=event.shop,
                    last_status_code=letter.last_status_code,
                    last_error="[erased by shop/redact]" if erased else letter.last_error,
                    replayed_at=letter.replayed_at,
                    replayed_by=self.users.get(letter.replayed_by),
                    replay_count=letter.replay_count,
                    replay_requested_at=letter.replay_requested_at,
                    replay_requested_by=self.users.get(letter.replay_requested_by),
                    replay_started_at=letter.replay_started_at,
                    bulk_action=bulk if letter.in_bulk else None,
                )
            )
        DeadLetter.objects.bulk_create(letters, batch_size=500)
        self.letters = {letter.event.webhook_id: letter for letter in DeadLetter.objects.select_related("event").all()}
        if bulk is not None:
            BulkAction.objects.filter(pk=bulk.pk).update(
                cutoff_id=max(self.letters[event.webhook_id].pk for event in plan.bulk_letters)
            )
        self._synthetic_runs()
        self.counts["webhook_events"] = len(rows)
        self.counts["delivery_attempts"] = len(attempts)
        self.counts["dead_letters"] = len(letters)

    def _bulk_action(self) -> BulkAction | None:
        plan = self.plan
        if not plan.bulk_letters:
            return None
        by = self.users[BULK_OPERATOR]
        start, end = plan.outage
        params = {
            "http": "network",
            "created_after": (start - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M"),
            "created_before": (end + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M"),
        }
        letters = [event.letter for event in plan.bulk_letters]
        done = sum(1 for letter in letters if letter.status == "replayed")
        finished = max(letter.replayed_at or letter.replay_started_at for letter in letters) + timedelta(seconds=6)
        bulk = BulkAction(
            kind=BulkAction.Kind.REPLAY,
            status=BulkAction.Status.DONE,
            created_at=plan.bulk_at - timedelta(seconds=2),
            created_by=by,
            actor_name=by.username,
            filter=params,
            cutoff_at=plan.bulk_at - timedelta(seconds=2),
            expected=len(letters),
            rate=settings.DEADLETTER_BULK_RATE,
            seen=len(letters),
            done=done,
            failed=len(letters) - done,
            dispatch_complete=True,
            started_at=plan.bulk_at - timedelta(seconds=1),
            finished_at=finished,
        )
        bulk.summary = bulk.describe_outcome()
        bulk.save()
        scope = dl_filters.describe(params)
        self.audits.append(
            (
                bulk.created_at,
                {
                    "actor": by,
                    "action": "deadletter.bulk_replay",
                    "target_type": "bulkaction",
                    "target_id": bulk.pk,
                    "count": len(letters),
                    "summary": f"bulk replay of {len(letters)} dead letters ({scope}) at {bulk.rate:g}/s",
                    "details": {
                        "bulk_action": bulk.pk,
                        "filter": params,
                        "ids": None,
                        "cutoff_at": bulk.cutoff_at.isoformat(),
                        "expected": len(letters),
                        "rate": bulk.rate,
                    },
                },
            )
        )
        self.own_event(bulk.created_at, "INFO", f"bulk replay {bulk.pk} started by {by.username}: {len(letters)}")
        return bulk

    def _synthetic_runs(self) -> None:
        base = (settings.SYNTHETIC_INGRESS_URL or "http://127.0.0.1:8000").rstrip("/")
        for run in self.plan.synthetic_runs:
            by = self.users[run.by]
            results = [
                {
                    "topic": event.topic,
                    "url": f"{base}/webhooks/{event.topic}",
                    "status_code": 200,
                    "ms": round(event.ingress_ms + self.rng.uniform(2, 8), 1),
                    "error": "",
                    "webhook_id": event.webhook_id,
                    "ok": True,
                }
                for event in run.events
            ]
            saved = SyntheticRun.objects.create(
                created_at=run.at - timedelta(seconds=1),
                requested_by=by,
                target=SyntheticRun.Target.INGRESS,
                base_url=base,
                path_style="topic",
                topics=[event.topic for event in run.events],
                status=SyntheticRun.Status.DONE,
                finished_at=run.events[-1].received_at + timedelta(milliseconds=200),
                ok=True,
                results=results,
            )
            self.audits.append(
                (
                    saved.created_at,
                    {
                        "actor": by,
                        "action": "shops.synthetic_send",
                        "target_type": "synthetic_run",
                        "target_id": saved.pk,
                        "count": len(results),
                        "summary": f"sent {len(results)} synthetic webhook(s) to this ingress",
                        "details": {
                            "target": "ingress",
                            "base_url": base,
                            "path_style": "topic",
                            "topics": saved.topics,
                        },
                    },
                )
            )
            self.own_event(saved.finished_at, "INFO", f"synthetic webhooks ok: run={saved.pk} topics={len(results)}")

    # ------------------------------------------------------------------ telemetry

    def _telemetry(self) -> None:
        """The ingress histogram per minute and the counters, as the web processes' recorders flush them."""
        from dashboard.telemetry import flush_batch

        batch = Batch()

        def observe(moment: datetime, series: str, ms: float, **labels: str) -> None:
            key = (int(moment.timestamp()) // 60 * 60, series, tuple(sorted(labels.items())))
            batch.histograms.setdefault(key, Histogram()).observe(ms)

        def count(name: str, **labels: str) -> None:
            key = (name, tuple(sorted(labels.items())))
            batch.counters[key] = batch.counters.get(key, 0) + 1

        for event in self.plan.events:
            synthetic = "1" if event.synthetic else "0"
            observe(event.received_at, "ingress", event.ingress_ms, outcome="accepted", synthetic=synthetic)
            count("webhooks_ingress_total", outcome="accepted", topic=event.topic)
            for ms in event.duplicate_ms:
                observe(event.last_duplicate_at, "ingress", ms, outcome="duplicate", synthetic=synthetic)
                count("webhooks_ingress_total", outcome="duplicate", topic=event.topic)
            first = event.attempts[0]
            if first.ok:
                count("deliveries_total", outcome="delivered_first_try")
            elif event.letter is None:
                count("deliveries_total", outcome="delivered_after_retries")
            else:
                count("deliveries_total", outcome="dead_lettered")
        for moment, ms in self.plan.unauthorized:
            observe(moment, "ingress", ms, outcome="unauthorized", synthetic="0")
            count("webhooks_ingress_total", outcome="unauthorized", topic="unknown")

        # timedify-ops' own queries over the last hours (the overview's query panel reads the last hour).
        rng = self.rng
        minute = (self.plan.now - timedelta(hours=6)).replace(second=0)
        while minute < self.plan.now - MINUTE:
            for kind, per_minute, median in (("select", 180, 0.5), ("insert", 45, 1.1), ("update", 30, 0.9)):
                for _ in range(int(per_minute * rng.uniform(0.7, 1.3))):
                    observe(minute, "db_query", rng.lognormvariate(math.log(median), 0.7), kind=kind, ok="1")
            if rng.random() < 0.1:
                observe(minute, "db_query", rng.uniform(0.2, 0.6), kind="delete", ok="1")
            if rng.random() < 0.01:
                observe(minute, "db_query", rng.uniform(1, 20), kind="insert", ok="0")
            minute += MINUTE
        flush_batch(batch)
        self.counts["latency_minutes"] = len(batch.histograms)

    # ------------------------------------------------------------------ probes

    def _open_counter(self):
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

    def _static_outcomes(self) -> dict[str, tuple[str, str, float]]:
        """Probes whose answer does not change over the week: run once, for real."""
        found = {}
        for probe in probe_module.registry():
            if probe.name in ("database", "migrations", "disk"):
                outcome = probe_module.run_probe(probe)
                found[probe.name] = (outcome.state, outcome.detail, max(outcome.latency_ms or 0.3, 0.3))
        return found

    def _probes(self) -> None:
        plan, rng = self.plan, self.rng
        static = self._static_outcomes()
        open_at = self._open_counter()
        names = [probe.name for probe in probe_module.registry()]
        warn_above = settings.HEALTH_DEADLETTERS_WARN
        backlog = settings.HEALTH_BACKLOG_AGE_S
        backlog_text = f"nothing undelivered for over {backlog // 60} min" if backlog % 60 == 0 else f"{backlog} s"
        slow_checks = {deploy.replace(second=0) + MINUTE for deploy in plan.deploys}
        installed = len(content.SHOPS)
        results = []
        minute = (plan.start + MINUTE).replace(second=0)
        while minute < plan.now:
            at = minute + timedelta(milliseconds=rng.randint(250, 900))
            if at >= plan.now:
                break
            outcomes = []
            for name in names:
                if name == "app" or name in settings.EXTRA_HTTP_PROBES:
                    if name == "app" and plan.outage[0] <= at < plan.outage[1]:
                        outcome = (FAIL, rng.uniform(0.6, 3.0), "ConnectError: All connection attempts failed")
                    elif name == "app" and minute in slow_checks:
                        ms = rng.uniform(2100, 2900)
                        slow = settings.HEALTH_HTTP_SLOW_MS
                        outcome = (WARN, ms, f"HTTP 200, slow: {ms:.0f} ms > {slow} ms")
                    else:
                        outcome = (OK, rng.lognormvariate(math.log(38), 0.25), "HTTP 200")
                elif name in static:
                    state, detail, ms = static[name]
                    outcome = (state, ms * rng.uniform(0.7, 1.6), detail)
                elif name == "worker":
                    outcome = (OK, rng.uniform(1.5, 4), f"heartbeat {rng.randint(2, 50)} s ago; 0 queued")
                elif name == "backlog":
                    outcome = (OK, rng.uniform(0.8, 2.5), backlog_text)
                elif name == "deadletters":
                    count = open_at(at)
                    if count > warn_above:
                        outcome = (
                            WARN,
                            rng.uniform(0.8, 2),
                            f"{count} open dead letter(s) (warning above {warn_above})",
                        )
                    else:
                        outcome = (OK, rng.uniform(0.8, 2), f"{count} open dead letter(s)")
                elif name == "tokens":
                    if at > plan.token_revoked_at:
                        outcome = (
                            FAIL,
                            rng.uniform(2, 5),
                            f"1 shop(s) need a new token: {REVOKED_SHOP}: {TOKEN_ERROR}",
                        )
                    else:
                        outcome = (OK, rng.uniform(2, 5), f"{installed} installed shop(s), every token usable")
                elif name == "schedules":
                    outcome = (OK, rng.uniform(3, 9), f"{len(JOBS)} of {len(JOBS)} on time")
                else:
                    outcome = (OK, rng.uniform(1, 3), "ok")
                state, ms, detail = outcome
                outcomes.append((name, state, round(ms, 3), detail))
                results.append(
                    ProbeResult(probe=name, checked_at=at, state=state, latency_ms=round(ms, 3), detail=detail)
                )
            self.runs.append(ProbeRun(at, outcomes))
            minute += MINUTE
        ProbeResult.objects.bulk_create(results, batch_size=5000)
        self._probe_machines()
        self.counts["probe_results"] = len(results)

    def _probe_machines(self) -> None:
        """Each probe's state machine over the runs, as services.record_results steps it."""
        machines: dict[str, Machine] = defaultdict(Machine)
        states: dict[str, dict] = {}
        hours: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
        open_flip: dict[str, ProbeFlip] = {}
        for run in self.runs:
            for probe, state, ms, detail in run.outcomes:
                before = machines[probe]
                after = step(before, state, down_after=settings.HEALTH_DOWN_AFTER, up_after=settings.HEALTH_UP_AFTER)
                record = states.setdefault(probe, {"probe": probe, "first_checked_at": run.at})
                if after.status != before.status and (before.status != "unknown" or after.status == "down"):
                    if probe in open_flip:
                        open_flip[probe].until = run.at
                    flip = ProbeFlip(
                        probe=probe, at=run.at, from_status=before.status, to_status=after.status, detail=detail[:500]
                    )
                    self.flips.append(flip)
                    open_flip[probe] = flip
                    level = "WARNING" if after.status in ("down", "degraded") else "INFO"
                    self.own_event(
                        run.at, level, f"probe {probe} is {after.status} (was {before.status}): {detail}", 0.3
                    )
                if after.status != before.status:
                    record["status_since"] = run.at
                machines[probe] = after
                record.update(
                    status=after.status,
                    consecutive_failures=after.failures,
                    consecutive_successes=after.successes,
                    last_checked_at=run.at,
                    last_state=state,
                    last_latency_ms=ms,
                    last_detail=detail[:500],
                )
                counter = hours[(probe, run.at.replace(minute=0, second=0, microsecond=0))]
                counter[0] += 1
                counter[1] += 1 if state == FAIL else 0
            down = [
                (probe, record["status_since"], record["last_detail"])
                for probe, record in states.items()
                if record["status"] == "down"
            ]
            self.down_by_run.append((run.at, down))
        ProbeFlip.objects.bulk_create(self.flips)
        ProbeHour.objects.bulk_create(
            [ProbeHour(probe=p, hour=h, checks=c, failures=f) for (p, h), (c, f) in hours.items()], batch_size=2000
        )
        for record in states.values():
            ProbeState.objects.update_or_create(probe=record.pop("probe"), defaults=record)
        self.counts["probe_flips"] = len(self.flips)

    # ------------------------------------------------------------------ logs

    def own_event(self, moment: datetime, level: str, message: str, delay_s: float = 0.05) -> None:
        """One of timedify-ops' own event lines (as dashboard.logs.handler writes them)."""
        self.logs.append(
            records.LogRow(
                timestamp_ns=_ns(moment + timedelta(seconds=delay_s)),
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
        record = content.fly_record(_ns(moment), message, machine, level=level, provider=provider)
        self.logs.append(records.row_from_record(record, now_ns=_ns(self.plan.now)))

    def _traffic_logs(self) -> None:
        plan, rng = self.plan, self.rng
        for event in plan.events:
            machine = rng.choice(content.APP_MACHINES)
            for attempt in event.attempts:
                if attempt.status_code is None:
                    continue  # the app never saw it
                done = attempt.finished_at
                if attempt.ok:
                    self.fly_line(
                        attempt.started_at + timedelta(milliseconds=2),
                        machine,
                        "info",
                        "app",
                        content.webhook_processing_line(event.topic, event.shop, event.webhook_id),
                    )
                elif attempt is event.attempts[0] or attempt is event.attempts[-1]:
                    level, message = content.webhook_failure_line(event.topic, event.shop, attempt.status_code)
                    self.fly_line(done - timedelta(milliseconds=1), machine, level, "app", message)
                self.fly_line(
                    done, machine, "info", "app", content.webhook_request_line(attempt.status_code, attempt.duration_ms)
                )
            if event.topic in ("app/uninstalled", "shop/redact", "app/scopes_update") and not event.synthetic:
                first = event.attempts[0].started_at - timedelta(milliseconds=5)
                outcome = {
                    "app/uninstalled": "marked uninstalled, tokens wiped",
                    "shop/redact": "tokens wiped, 1 event payload(s) erased",
                    "app/scopes_update": f"scopes now {content.SCOPES}",
                }[event.topic]
                self.own_event(first, "INFO", f"webhook side effect: topic={event.topic} shop={event.shop} {outcome}")
            if event.letter is not None:
                self.own_event(
                    event.letter.created_at,
                    "WARNING",
                    f"webhook dead-lettered: topic={event.topic} shop={event.shop} "
                    f"webhook_id={event.webhook_id} reason={event.letter.reason}",
                )
        # The app probe's GET /health, and the everyday noise.
        for run in self.runs:
            app = next(outcome for outcome in run.outcomes if outcome[0] == "app")
            if app[1] != FAIL:
                self.fly_line(
                    run.at, rng.choice(content.APP_MACHINES), "info", "app", content.health_line(200, app[2] / 8)
                )
            if rng.random() < 0.7:
                machine, level, provider, message = content.background_line(rng)
                self.fly_line(run.at + timedelta(seconds=rng.uniform(1, 58)), machine, level, provider, message)
        # The outage: the app cannot reach its database; Fly's proxy and health checks say so.
        moment = plan.outage[0]
        while moment < plan.outage[1]:
            for machine, level, provider, message in content.outage_lines(rng):
                self.fly_line(moment, machine, level, provider, message)
                moment += timedelta(seconds=rng.uniform(1, 4))
        for machine in content.APP_MACHINES:
            self.fly_line(
                plan.outage[1] + timedelta(seconds=rng.uniform(2, 20)),
                machine,
                "info",
                "runner",
                "Health check on port 3000 is now passing.",
            )
        for deploy in plan.deploys:
            tag = f"deployment-01J{rng.getrandbits(80):020X}"
            for offset, machine in enumerate(content.APP_MACHINES):
                at = deploy + timedelta(seconds=20 * offset)
                for line in (
                    f"Pulling container image registry.fly.io/timedify:{tag}",
                    "Configuring firecracker",
                    "Starting virtual machine",
                    "Preparing to run: `docker-entrypoint.sh npm run docker-start` as root",
                    "Health check on port 3000 is now passing.",
                ):
                    self.fly_line(at, machine, "info", "runner", line)
                    at += timedelta(seconds=rng.uniform(0.4, 3))

    def _write_logs(self) -> None:
        self.logs.sort(key=lambda row: row.timestamp_ns)
        rows = [row for row in self.logs if row.timestamp_ns < _ns(self.plan.now)]
        for index in range(0, len(rows), 5000):
            insert_rows(rows[index : index + 5000])
        self.counts["log_entries"] = len(rows)

    # ------------------------------------------------------------------ SLOs

    def _rollups_and_reports(self) -> None:
        """The rollup job's minutes and the daily job's reports, from the raw rows just written."""
        plan = self.plan
        start = rollups.floor_minute(plan.start)
        end = rollups.floor_minute(plan.now)
        written = 0
        cursor = start
        while cursor < end:
            chunk_end = min(end, cursor + timedelta(days=1))
            written += rollups.rollup_range(cursor, chunk_end)
            cursor = chunk_end
        self.counts["slo_minutes"] = written
        day = plan.start.date()
        while day < plan.now.date():
            report = slo_report.write_report(day)
            SloDailyReport.objects.filter(pk=report.pk).update(
                computed_at=datetime.combine(day + timedelta(days=1), REPORT_AT, tzinfo=UTC)
            )
            self.reports.append(report)
            missed = slo_report.missed_slos(report)
            if missed:
                self.own_event(
                    datetime.combine(day + timedelta(days=1), REPORT_AT, tzinfo=UTC),
                    "WARNING",
                    f"SLO report {day.isoformat()}: missed {', '.join(missed)}",
                    2.0,
                )
            day += timedelta(days=1)
        self.counts["slo_daily_reports"] = len(self.reports)

    # ------------------------------------------------------------------ deletions

    def _deletions_and_retention(self) -> None:
        """What happened after the rollups had counted them: an operator deleted a few dead letters
        (deadletters.services.delete_dead_letter), and each daily retention run removed the dead
        letters replayed more than DEADLETTER_REPLAYED_GRACE before it."""
        from dashboard.retention.policies import POLICIES
        from deadletters.services import delete_dead_letter

        plan = self.plan
        sam = self.users[REPLAY_OPERATOR]
        for event in plan.letters:
            letter = event.letter
            if letter.deleted_at is None:
                continue
            saved = self.letters.pop(event.webhook_id)
            facts = delete_dead_letter(saved.pk, user=sam)
            if facts:
                entry = AuditEntry.objects.filter(action="deadletter.delete", target_id=str(saved.pk)).latest("id")
                AuditEntry.objects.filter(pk=entry.pk).update(created_at=letter.deleted_at)
                self.own_event(letter.deleted_at, "INFO", f"dead letter {saved.pk} deleted by {sam.username}")
        grace = settings.DEADLETTER_REPLAYED_GRACE
        runs = 0
        day = plan.start.date()
        while day <= plan.now.date():
            at = datetime.combine(day, RETENTION_AT, tzinfo=UTC)
            day += timedelta(days=1)
            if not plan.start < at < plan.now:
                continue
            expired = DeadLetter.objects.filter(status=DeadLetter.Status.REPLAYED, replayed_at__lt=at - grace)
            removed = expired.count()
            expired.delete()
            deleted = {policy.kind: 0 for policy in POLICIES}
            deleted["dead_letters"] = removed
            duration = self.rng.uniform(400, 2500)
            RetentionRun.objects.create(
                started_at=at,
                finished_at=at + timedelta(milliseconds=duration),
                trigger="schedule",
                ok=True,
                complete=True,
                event_days=settings.RETENTION_EVENT_DAYS,
                deleted=deleted,
                duration_ms=duration,
            )
            JobRun.objects.create(
                key="retention",
                started_at=at - timedelta(milliseconds=40),
                finished_at=at + timedelta(milliseconds=duration + 10),
                duration_ms=round(duration + 50, 3),
                ok=True,
                result=repr({"deleted": {k: v for k, v in deleted.items() if v}, "complete": True, "continued": False}),
            )
            if removed:
                cutoff = at - grace
                self.audits.append(
                    (
                        at + timedelta(milliseconds=duration / 2),
                        {
                            "actor": None,
                            "action": "deadletter.cleanup",
                            "target_type": "deadletter",
                            "count": removed,
                            "summary": f"removed {removed} dead letters replayed before {cutoff:%Y-%m-%d %H:%M} UTC",
                            "details": {"older_than_s": grace.total_seconds(), "cutoff": cutoff.isoformat()},
                        },
                    )
                )
            runs += 1
        self.counts["retention_runs"] = runs

    # ------------------------------------------------------------------ alerts

    def _alert_minutes(self) -> list[datetime]:
        """When the every-minute alerting job ran."""
        plan = self.plan
        minute = (plan.start + MINUTE).replace(second=0)
        moments = []
        while minute + timedelta(seconds=1) < plan.now:
            moments.append(minute + timedelta(milliseconds=900))
            minute += MINUTE
        return moments

    def _alerts(self) -> None:
        """The alert rules that follow from the week's data, evaluated every minute as the alerting
        job does (dashboard.alerts.engine: pending, fire after the rule's "for", resolve when clear)."""
        from dashboard.alerts.rules import RULES

        rules = {rule.key: rule for rule in RULES}
        open_at = self._open_counter()
        created = sorted(event.letter.created_at for event in self.plan.letters)
        errors = sorted(row.timestamp_ns for row in self.logs if row.provider != own_events.PROVIDER and row.is_error)
        run_times = [at for at, _ in self.down_by_run]
        probe_names = [probe.name for probe in probe_module.registry()]

        def probe_down(moment):
            index = bisect.bisect_right(run_times, moment)
            down = self.down_by_run[index - 1][1] if index else []
            parts = [
                f"{probe} since {since:%H:%M} UTC" + (f" ({detail})" if detail else "") for probe, since, detail in down
            ]
            detail = "down: " + "; ".join(parts) if down else f"{len(probe_names)} probe(s), none down"
            return len(down), detail

        def dead_letters_last_hour(moment):
            count = bisect.bisect_right(created, moment) - bisect.bisect_left(created, moment - timedelta(hours=1))
            return count, f"{count:g} dead letter" + ("" if count == 1 else "s") + " in the last hour"

        def open_dead_letters(moment):
            count = open_at(moment)
            return count, f"{count:g} open dead letter" + ("" if count == 1 else "s")

        def error_log_lines(moment):
            count = bisect.bisect_left(errors, _ns(moment)) - bisect.bisect_left(
                errors, _ns(moment - timedelta(minutes=5))
            )
            return count, f"{count:g} error line" + ("" if count == 1 else "s") + " in the last 5 minutes"

        evaluators = {
            "probe-down": probe_down,
            "dead-letters-last-hour": dead_letters_last_hour,
            "open-dead-letters": open_dead_letters,
            "error-log-lines": error_log_lines,
        }
        for key, evaluate in evaluators.items():
            rule = rules[key]
            current: AlertEpisode | None = None
            pending = None
            for moment in self._alert_minutes():
                value, detail = evaluate(moment)
                if rule.above(value):
                    pending = pending or moment
                    if current is not None:
                        current.value, current.detail, current.last_seen_at = value, detail, moment
                        current.peak = max(current.peak, value)
                    elif moment - pending >= rule.for_duration:
                        current = AlertEpisode(
                            key, rule.title, rule.category, rule.severity, rule.threshold, rule.unit, pending,
                            fired_at=moment, last_seen_at=moment, value=value, peak=value, detail=detail,
                        )  # fmt: skip
                        self.episodes.append(current)
                        self.own_event(
                            moment, "WARNING", f"alert fired: {key} ({rule.title}) value={value} {detail}", 0.1
                        )
                else:
                    pending = None
                    if current is not None:
                        current.resolved_at = current.last_seen_at = moment
                        current.value = value
                        self.own_event(moment, "INFO", f"alert resolved: {key} after {moment - current.fired_at}", 0.1)
                        current = None
            self.pending[key] = pending
        repeat = timedelta(hours=settings.ALERT_REPEAT_HOURS) if settings.ALERT_REPEAT_HOURS else None
        sam = self.users[REPLAY_OPERATOR]
        for episode in self.episodes:
            acknowledged_at = None
            if episode.rule_key == "probe-down":
                moment = episode.fired_at + timedelta(seconds=75)
                if episode.resolved_at is None or moment < episode.resolved_at:
                    acknowledged_at = moment
            repeats = 0
            if episode.resolved_at is None and acknowledged_at is None and repeat:
                repeats = int((episode.last_seen_at - episode.fired_at) / repeat)
            alert = Alert.objects.create(
                rule_key=episode.rule_key,
                title=episode.title,
                category=episode.category,
                severity=episode.severity,
                pending_since=episode.pending_since,
                fired_at=episode.fired_at,
                last_seen_at=episode.last_seen_at,
                resolved_at=episode.resolved_at,
                value=episode.value,
                peak_value=episode.peak,
                threshold=episode.threshold,
                unit=episode.unit,
                detail=episode.detail,
                last_notified_at=episode.resolved_at
                or (episode.fired_at + repeats * repeat if repeats else episode.fired_at),
                repeats=repeats,
                acknowledged_at=acknowledged_at,
                acknowledged_by=sam if acknowledged_at else None,
            )
            if acknowledged_at:
                self.audits.append(
                    (
                        acknowledged_at,
                        {
                            "actor": sam,
                            "action": "alert.acknowledge",
                            "target_type": "alert",
                            "target_id": alert.pk,
                            "summary": f"acknowledged {alert.rule_key} (fired {alert.fired_at:%Y-%m-%d %H:%M} UTC)",
                            "details": {"rule": alert.rule_key},
                        },
                    )
                )
        self.counts["alerts"] = len(self.episodes)

    def _rule_states(self) -> None:
        """Each rule's stored state as the alerting job leaves it, from an evaluation of the data now
        (dashboard.alerts.engine.evaluate_all: reads only, notifies nobody)."""
        from dashboard.alerts.engine import evaluate_all

        evaluated_at = self._alert_minutes()[-1]
        for result in evaluate_all(self.plan.now):
            evaluation = result.evaluation
            breaching = bool(evaluation and evaluation.breaching)
            open_alert = Alert.objects.filter(rule_key=result.rule.key, resolved_at__isnull=True).first()
            if open_alert is not None and not breaching:
                Alert.objects.filter(pk=open_alert.pk).update(resolved_at=evaluated_at, last_seen_at=evaluated_at)
            pending = self.pending.get(result.rule.key) or (evaluated_at if breaching else None)
            RuleState.objects.update_or_create(
                key=result.rule.key,
                defaults={
                    "evaluated_at": evaluated_at,
                    "available": bool(evaluation and evaluation.available),
                    "breaching": breaching,
                    "pending_since": pending if breaching else None,
                    "value": evaluation.value if evaluation else None,
                    "detail": evaluation.detail if evaluation else "",
                    "error": result.error,
                },
            )

    # ------------------------------------------------------------------ job runs

    def _job_runs(self) -> None:
        plan, rng = self.plan, self.rng
        runs = []

        def add(key: str, at: datetime, ms: float, result, **extra) -> None:
            text = result if isinstance(result, str) else repr(result)
            runs.append(
                JobRun(
                    key=key,
                    started_at=at,
                    finished_at=at + timedelta(milliseconds=ms),
                    duration_ms=round(ms, 3),
                    ok=True,
                    result=text[:2000],
                    **extra,
                )
            )

        probe_runs = {run.at.replace(second=0, microsecond=0): run for run in self.runs}
        flips_at = defaultdict(list)
        for flip in self.flips:
            flips_at[flip.at.replace(second=0, microsecond=0)].append(flip)

        def probe_summary(minute: datetime) -> str:
            run = probe_runs.get(minute)
            if run is None:
                return ""
            counts = defaultdict(int)
            for _, state, _, _ in run.outcomes:
                counts[state] += 1
            text = ", ".join(f"{counts[state]} {state}" for state in (OK, WARN, FAIL) if counts[state])
            if flips_at.get(minute):
                text += "; " + ", ".join(f"{flip.probe} → {flip.to_status}" for flip in flips_at[minute])
            return text

        def firing(moment: datetime) -> list[str]:
            return [
                episode.rule_key
                for episode in self.episodes
                if episode.fired_at <= moment and (episode.resolved_at is None or moment < episode.resolved_at)
            ]

        minute = max(plan.start, plan.now - JOB_HISTORY).replace(second=0) + MINUTE
        while minute + timedelta(seconds=2) < plan.now:
            add(
                "sweep-stale-events",
                minute + timedelta(milliseconds=rng.randint(200, 700)),
                rng.uniform(3, 8),
                {"requeued": 0},
            )
            alerting_at = minute + timedelta(milliseconds=900)
            add(
                "alerting",
                alerting_at,
                rng.uniform(40, 90),
                {
                    "firing": firing(alerting_at),
                    "pending": [],
                    "fired": [e.rule_key for e in self.episodes if e.fired_at == alerting_at],
                    "resolved": [e.rule_key for e in self.episodes if e.resolved_at == alerting_at],
                    "repeated": [],
                    "errors": [],
                    "notifications": {"sent": 0, "failed": 0},
                },
            )
            if minute in probe_runs:
                add("health-probes", probe_runs[minute].at, rng.uniform(60, 140), probe_summary(minute))
            add("worker-heartbeat", minute + timedelta(milliseconds=rng.randint(200, 900)), rng.uniform(1, 2), "alive")
            add(
                "deadletters-sweep",
                minute + timedelta(milliseconds=rng.randint(200, 900)),
                rng.uniform(4, 10),
                {"requeued": 0, "interrupted": 0, "bulk_resumed": 0, "bulk_closed": 0},
            )
            end = minute
            add(
                "slo-rollup",
                minute + timedelta(milliseconds=rng.randint(200, 900)),
                rng.uniform(30, 80),
                {"minutes": 5, "from": (end - 5 * MINUTE).isoformat(), "to": end.isoformat()},
            )
            minute += MINUTE
        installed = len(content.SHOPS)
        hour = plan.start.replace(minute=17, second=4, microsecond=0)
        while hour < plan.now:
            failed = 1 if hour >= plan.token_revoked_at else 0
            if hour == plan.token_revoked_at:
                self.own_event(hour, "WARNING", f"shop token invalid: shop={REVOKED_SHOP} reason={TOKEN_ERROR}", 1.2)
            if failed:
                self.own_event(
                    hour, "WARNING", f"shop token check failed: shop={REVOKED_SHOP} error={TOKEN_CHECK_ERROR}", 1.3
                )
            summary = {"checked": installed, "ok": installed - failed, "failed": failed}
            add("check-shop-tokens", hour, rng.uniform(900, 2400), summary)
            hour += timedelta(hours=1)
        for report in self.reports:
            at = datetime.combine(report.date + timedelta(days=1), REPORT_AT, tzinfo=UTC)
            if at < plan.now:
                result = {
                    "date": report.date.isoformat(),
                    "all_met": report.all_met,
                    "missed": slo_report.missed_slos(report),
                    "sent": [],
                    "errors": [],
                }
                add("slo-daily-report", at, rng.uniform(300, 900), result)
        # During the outage an operator ran the probes by hand to see whether the app was back.
        if plan.outage[0] + timedelta(minutes=3) < plan.now:
            at = plan.outage[0] + timedelta(minutes=2, seconds=31)
            sam = self.users[REPLAY_OPERATOR]
            add(
                "health-probes",
                at + timedelta(seconds=1),
                rng.uniform(60, 140),
                probe_summary(at.replace(second=0)),
                trigger=JobRun.Trigger.MANUAL,
                triggered_by=sam,
            )
            self.audits.append(
                (
                    at,
                    {
                        "actor": sam,
                        "action": "schedule.run_now",
                        "target_type": "schedule",
                        "target_id": "health-probes",
                        "summary": "queued a run of health-probes",
                        "details": {"task_id": f"{rng.getrandbits(128):032x}"},
                    },
                )
            )
        JobRun.objects.bulk_create(runs, batch_size=2000)
        self.counts["job_runs"] = len(runs)

    # ------------------------------------------------------------------ audit

    def _audit(self) -> None:
        """The replays (one by one and the bulk's), each with its audit entry and event lines."""
        for event in self.plan.letters:
            letter = event.letter
            if letter.replay_requested_at is None:
                continue
            saved = self.letters.get(event.webhook_id)
            pk = saved.pk if saved is not None else 0
            if not letter.in_bulk:
                by = self.users[letter.replay_requested_by]
                facts = {
                    "id": pk,
                    "topic": event.topic,
                    "shop": event.shop,
                    "webhook_id": event.webhook_id,
                    "status": "replaying",
                }
                self.audits.append(
                    (
                        letter.replay_requested_at,
                        {
                            "actor": by,
                            "action": "deadletter.replay",
                            "target_type": "deadletter",
                            "target_id": pk,
                            "summary": f"replay requested: {event.topic} for {event.shop} (webhook {event.webhook_id})",
                            "details": facts,
                        },
                    )
                )
                self.own_event(
                    letter.replay_requested_at, "INFO", f"dead letter {pk} replay requested by {by.username}"
                )
            finished = event.attempts[-1].finished_at
            if letter.status == "replayed":
                self.own_event(
                    finished,
                    "INFO",
                    f"dead letter {pk} replayed: topic={event.topic} shop={event.shop} webhook_id={event.webhook_id}",
                )
            else:
                self.own_event(
                    finished,
                    "WARNING",
                    f"dead letter {pk} replay failed: topic={event.topic} shop={event.shop} "
                    f"webhook_id={event.webhook_id} reason={letter.reason}",
                )
        written = []
        for moment, entry in sorted(self.audits, key=lambda item: item[0]):
            saved = record_audit(entry.pop("actor"), entry.pop("action"), **entry)
            written.append((saved.pk, moment))
            who = saved.actor_name
            self.own_event(moment, "INFO", f"audit: {who} {saved.action} {saved.summary or saved.target_id}")
        for pk, moment in written:
            AuditEntry.objects.filter(pk=pk).update(created_at=moment)
        self.counts["audit_entries"] = len(written) + sum(1 for e in self.plan.letters if e.letter.deleted_at)
