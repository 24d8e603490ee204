"""The alert rules: a registry, like timedify_ops.jobs.registry.JOBS.

Each rule has a key, a threshold and a "for" duration (defaults here, overridden per key by
settings.ALERT_THRESHOLDS / ALERT_FOR_MINUTES), a category that decides `alerting_check`'s
exit code (health → 1; pattern and slo → 2; health wins), and an `evaluate(rule, now)`
that only reads. To add a rule, append a Rule to RULES; to rewire one, change its function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django_q.models import Schedule

from dashboard.alerts import sources
from deadletters.models import DeadLetter
from timedify_ops.jobs.models import JobRun
from timedify_ops.jobs.registry import JOBS
from webhooks.models import WebhookEvent

HEALTH = "health"
PATTERN = "pattern"
SLO = "slo"
EXIT_CODES = {HEALTH: 1, PATTERN: 2, SLO: 2}

ERROR_LOG_WINDOW = timedelta(minutes=5)
DEAD_LETTER_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Evaluation:
    breaching: bool
    value: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    description: str
    category: str  # HEALTH | PATTERN | SLO
    evaluate: Callable[[Rule, datetime], Evaluation]
    default_threshold: float | None = None  # None: the source decides (e.g. an SLO's own burn state)
    default_for_minutes: float = 0
    unit: str = ""
    severity: str = "warning"  # critical | warning (wording in notifications)

    @property
    def threshold(self) -> float | None:
        return settings.ALERT_THRESHOLDS.get(self.key, self.default_threshold)

    @property
    def for_duration(self) -> timedelta:
        return timedelta(minutes=settings.ALERT_FOR_MINUTES.get(self.key, self.default_for_minutes))

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.category]

    def above(self, value: float) -> bool:
        return value > (self.threshold or 0)


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}" + ("" if count == 1 else "s")


# --------------------------------------------------------------------------- health


def probe_down(rule: Rule, now: datetime) -> Evaluation:
    return judge_probes(rule, sources.probe_states())


def judge_probes(rule: Rule, states: list[sources.ProbeStatus]) -> Evaluation:
    down = [state for state in states if state.status == "down"]
    parts = []
    for state in down:
        part = state.probe + (f" since {state.since:%H:%M} UTC" if state.since else "")
        parts.append(part + (f" ({state.detail})" if state.detail else ""))
    detail = "down: " + "; ".join(parts) if down else f"{len(states)} probe(s), none down"
    return Evaluation(breaching=rule.above(len(down)), value=len(down), detail=detail)


def schedule_missed(rule: Rule, now: datetime) -> Evaluation:
    """A job is missed when its last scheduled run (or, before any, its first due time) is older
    than its interval plus grace. Paused schedules are skipped; a job with no schedule row is missed."""
    rows = {row.name: row for row in Schedule.objects.filter(name__in=[job.key for job in JOBS])}
    missed = []
    for job in JOBS:
        row = rows.get(job.key)
        if row is None:
            missed.append(f"{job.key} (no schedule: run sync_schedules)")
            continue
        if row.repeats == 0:
            continue
        grace = timedelta(minutes=job.grace_minutes)
        last = (
            JobRun.objects.filter(key=job.key, trigger=JobRun.Trigger.SCHEDULE)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        due = (last + job.interval) if last else row.next_run
        if due is not None and now > due + grace:
            missed.append(f"{job.key} (due {due:%Y-%m-%d %H:%M} UTC)")
    detail = "missed: " + ", ".join(missed) if missed else f"{len(JOBS)} job(s) on time"
    return Evaluation(breaching=rule.above(len(missed)), value=len(missed), detail=detail)


def delivery_backlog(rule: Rule, now: datetime) -> Evaluation:
    """Age of the oldest event still waiting for delivery (the partial index event_pending covers the filter)."""
    pending = WebhookEvent.objects.filter(status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING])
    oldest = pending.aggregate(oldest=Min("received_at"))["oldest"]
    if oldest is None:
        return Evaluation(breaching=False, value=0, detail="nothing waiting")
    age_minutes = max(0.0, (now - oldest).total_seconds() / 60)
    detail = f"{_plural(pending.count(), 'event')} waiting, oldest received {oldest:%Y-%m-%d %H:%M:%S} UTC"
    return Evaluation(breaching=rule.above(age_minutes), value=round(age_minutes, 1), detail=detail)


# --------------------------------------------------------------------------- patterns


def dead_letters_last_hour(rule: Rule, now: datetime) -> Evaluation:
    return judge_dead_letters_last_hour(
        rule, DeadLetter.objects.filter(created_at__gte=now - DEAD_LETTER_WINDOW, created_at__lte=now).count()
    )


def judge_dead_letters_last_hour(rule: Rule, count: int) -> Evaluation:
    return Evaluation(
        breaching=rule.above(count), value=count, detail=f"{_plural(count, 'dead letter')} in the last hour"
    )


def open_dead_letters(rule: Rule, now: datetime) -> Evaluation:
    return judge_open_dead_letters(rule, DeadLetter.objects.filter(status=DeadLetter.Status.OPEN).count())


def judge_open_dead_letters(rule: Rule, count: int) -> Evaluation:
    return Evaluation(breaching=rule.above(count), value=count, detail=f"{_plural(count, 'open dead letter')}")


def error_log_lines(rule: Rule, now: datetime) -> Evaluation:
    return judge_error_log_lines(rule, sources.count_error_lines(now - ERROR_LOG_WINDOW, now))


def judge_error_log_lines(rule: Rule, count: int) -> Evaluation:
    return Evaluation(
        breaching=rule.above(count),
        value=count,
        detail=f"{_plural(count, 'error line')} in the last 5 minutes",
    )


# --------------------------------------------------------------------------- SLOs


def _slo_state(state: str):
    def evaluate(rule: Rule, now: datetime) -> Evaluation:
        statuses = sources.slo_statuses(now)
        burning = [status for status in statuses if status.state == state]
        if not burning:
            return Evaluation(breaching=False, value=0, detail=f"{len(statuses)} SLO(s), none at {state}")
        parts = []
        for status in burning:
            part = status.name
            rules = [name for name in status.fired if name.startswith(state)]
            if rules:
                part += f" ({'; '.join(rules)})"
            if status.burn_rate is not None:
                part += f", burning {status.burn_rate:.1f}×"
            if status.budget_remaining is not None:
                part += f", {status.budget_remaining:.0%} budget left"
            parts.append(part)
        rates = [status.burn_rate for status in burning if status.burn_rate is not None]
        value = max(rates) if rates else len(burning)
        return Evaluation(breaching=True, value=round(value, 2), detail="; ".join(parts))

    return evaluate


RULES: list[Rule] = [
    Rule(
        key="probe-down",
        title="A health probe is down",
        description="Any probe of the status board in state down.",
        category=HEALTH,
        evaluate=probe_down,
        default_threshold=0,
        default_for_minutes=2,
        severity="critical",
    ),
    Rule(
        key="schedule-missed",
        title="A schedule missed its run",
        description="A background job's last scheduled run is older than its interval plus grace.",
        category=HEALTH,
        evaluate=schedule_missed,
        default_threshold=0,
        default_for_minutes=0,
    ),
    Rule(
        key="delivery-backlog",
        title="Delivery backlog is old",
        description="The oldest event waiting for delivery was received more than N minutes ago.",
        category=HEALTH,
        evaluate=delivery_backlog,
        default_threshold=10,
        default_for_minutes=0,
        unit=" min",
        severity="critical",
    ),
    Rule(
        key="slo-fast-burn",
        title="SLO fast burn",
        description='An SLO burns its error budget fast enough to page (its burn-rate state "page").',
        category=SLO,
        evaluate=_slo_state("page"),
        default_for_minutes=2,
        unit="×",
        severity="critical",
    ),
    Rule(
        key="slo-slow-burn",
        title="SLO slow burn",
        description='An SLO burns its error budget steadily (its burn-rate state "ticket").',
        category=SLO,
        evaluate=_slo_state("ticket"),
        default_for_minutes=15,
        unit="×",
    ),
    Rule(
        key="dead-letters-last-hour",
        title="Many dead letters in the last hour",
        description="Dead letters created in the last hour above N.",
        category=PATTERN,
        evaluate=dead_letters_last_hour,
        default_threshold=10,
        default_for_minutes=0,
    ),
    Rule(
        key="open-dead-letters",
        title="Many open dead letters",
        description="Dead letters waiting for an operator above N.",
        category=PATTERN,
        evaluate=open_dead_letters,
        default_threshold=25,
        default_for_minutes=5,
    ),
    Rule(
        key="error-log-lines",
        title="Error lines in the logs",
        description="The app's error lines (signatures, 429/5xx statuses, level ≥ error) in the last 5 min above N.",
        category=PATTERN,
        evaluate=error_log_lines,
        default_threshold=20,
        default_for_minutes=2,
    ),
]


def get_rule(key: str) -> Rule:
    for rule in RULES:
        if rule.key == key:
            return rule
    raise KeyError(f"no alert rule named {key!r} in dashboard.alerts.rules.RULES")
