"""Evaluating the rules, and the alerting job that turns evaluations into alerts and notifications.

schedule "alerting" (every minute) → run_alerting → per rule: evaluate → RuleState / Alert → notify
`alerting_check` (without --notify) → evaluate_all: reads only, writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.alerts import notify
from dashboard.alerts.models import Alert, RuleState
from dashboard.alerts.rules import HEALTH, RULES, Evaluation, Rule

logger = logging.getLogger(__name__)
events_log = logging.getLogger("timedify_ops.events")


@dataclass
class RuleResult:
    rule: Rule
    state: str  # firing | pending | ok | error
    evaluation: Evaluation | None = None
    pending_since: datetime | None = None
    alert: Alert | None = None
    error: str = ""

    @property
    def breaching(self) -> bool:
        """The condition holds now (firing, or pending its "for" duration)."""
        return self.state in ("firing", "pending")

    @property
    def counts_against(self) -> bool:
        """For the exit code: a breach, or a rule that could not be evaluated."""
        return self.breaching or self.state == "error"

    def as_dict(self) -> dict:
        evaluation = self.evaluation
        return {
            "rule": self.rule.key,
            "title": self.rule.title,
            "category": self.rule.category,
            "state": self.state,
            "value": evaluation.value if evaluation else None,
            "threshold": self.rule.threshold,
            "for_minutes": self.rule.for_duration.total_seconds() / 60,
            "pending_since": self.pending_since.isoformat() if self.pending_since else None,
            "alert_id": self.alert.pk if self.alert else None,
            "detail": self.error or (evaluation.detail if evaluation else ""),
        }


def evaluate_rule(rule: Rule, now: datetime) -> tuple[Evaluation | None, str]:
    try:
        return rule.evaluate(rule, now), ""
    except Exception as error:
        logger.exception("alert rule %s failed to evaluate", rule.key)
        return None, f"{type(error).__name__}: {error}"[:500]


def _open_alerts() -> dict[str, Alert]:
    return {alert.rule_key: alert for alert in Alert.objects.filter(resolved_at__isnull=True)}


def _state_for(rule: Rule, evaluation: Evaluation | None, error: str, pending_since, alert, now) -> str:
    if error:
        return "error"
    if not evaluation.breaching:
        return "ok"
    if alert is not None or now - pending_since >= rule.for_duration:
        return "firing"
    return "pending"


def evaluate_all(now: datetime | None = None, rules: list[Rule] | None = None) -> list[RuleResult]:
    """Every rule now, without writing anything. A breach "fires" here when the alerting job
    would fire it: an open alert exists, or it has held (per RuleState) for its "for" duration."""
    now = now or timezone.now()
    stored = {state.key: state for state in RuleState.objects.all()}
    open_alerts = _open_alerts()
    results = []
    for rule in rules or RULES:
        evaluation, error = evaluate_rule(rule, now)
        alert = open_alerts.get(rule.key)
        pending_since = None
        if evaluation is not None and evaluation.breaching:
            previous = stored.get(rule.key)
            pending_since = (previous.pending_since if previous else None) or now
        state = _state_for(rule, evaluation, error, pending_since, alert, now)
        results.append(RuleResult(rule, state, evaluation, pending_since, alert, error))
    return results


def exit_code(results: list[RuleResult]) -> int:
    """0 quiet; 1 a health rule breaches (or cannot be evaluated); 2 a pattern or SLO rule does. Health wins."""
    against = [result for result in results if result.counts_against]
    if any(result.rule.category == HEALTH for result in against):
        return 1
    return max((result.rule.exit_code for result in against), default=0)


# --------------------------------------------------------------------------- the job


def _apply(rule: Rule, evaluation: Evaluation | None, error: str, now: datetime, outbox: list) -> RuleResult:
    """Record one evaluation; fire, update or resolve the rule's alert. Notifications go to `outbox`."""
    with transaction.atomic():
        state, _ = RuleState.objects.get_or_create(key=rule.key)
        alert = Alert.objects.filter(rule_key=rule.key, resolved_at__isnull=True).first()
        state.evaluated_at = now
        state.error = error
        if error:
            # Unknown is not "clear": keep the pending clock and any open alert as they are.
            state.save(update_fields=["evaluated_at", "error"])
            return RuleResult(rule, "error", None, state.pending_since, alert, error)
        state.breaching = evaluation.breaching
        state.value = evaluation.value
        state.detail = evaluation.detail
        if not evaluation.breaching:
            state.pending_since = None
        else:
            state.pending_since = state.pending_since or now
        state.save(update_fields=["evaluated_at", "error", "breaching", "value", "detail", "pending_since"])
        result_state = _state_for(rule, evaluation, "", state.pending_since, alert, now)

        if result_state == "firing" and alert is None:
            alert = _fire(rule, evaluation, state.pending_since, now)
            if alert is not None:
                outbox.append((alert, "fire"))
        elif result_state == "firing":
            _update(alert, evaluation, now)
            if _repeat_due(alert, now) and Alert.objects.claim_repeat(alert, now):
                alert.repeats += 1
                Alert.objects.filter(pk=alert.pk).update(repeats=alert.repeats)
                outbox.append((alert, "repeat"))
        elif result_state == "ok" and alert is not None and Alert.objects.resolve(alert, now, evaluation.value):
            events_log.info("alert resolved: %s after %s", alert.rule_key, now - alert.fired_at)
            outbox.append((alert, "resolve"))
    return RuleResult(rule, result_state, evaluation, state.pending_since, alert)


def _fire(rule: Rule, evaluation: Evaluation, pending_since: datetime, now: datetime) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule_key=rule.key,
                title=rule.title,
                category=rule.category,
                severity=rule.severity,
                pending_since=pending_since,
                fired_at=now,
                last_seen_at=now,
                value=evaluation.value,
                peak_value=evaluation.value,
                threshold=rule.threshold,
                unit=rule.unit,
                detail=evaluation.detail,
                last_notified_at=now,
            )
    except IntegrityError:
        # Another alerting run fired it a moment ago (the partial unique constraint): it notifies.
        return None
    events_log.warning("alert fired: %s (%s) value=%s %s", rule.key, rule.title, evaluation.value, evaluation.detail)
    return alert


def _update(alert: Alert, evaluation: Evaluation, now: datetime) -> None:
    alert.value = evaluation.value
    alert.detail = evaluation.detail
    alert.last_seen_at = now
    if evaluation.value is not None and (alert.peak_value is None or evaluation.value > alert.peak_value):
        alert.peak_value = evaluation.value
    alert.save(update_fields=["value", "detail", "last_seen_at", "peak_value"])


def _repeat_due(alert: Alert, now: datetime) -> bool:
    if not settings.ALERT_REPEAT_HOURS or alert.acknowledged_at is not None:
        return False
    last = alert.last_notified_at or alert.fired_at
    return now - last >= timedelta(hours=settings.ALERT_REPEAT_HOURS)


def run_alerting(now: datetime | None = None, rules: list[Rule] | None = None) -> dict:
    """The alerting job (every minute): see `alert_now`; returns its summary for the JobRun."""
    return alert_now(now, rules)[1]


def alert_now(now: datetime | None = None, rules: list[Rule] | None = None) -> tuple[list[RuleResult], dict]:
    """Evaluate, record, fire/resolve and notify (the job and `alerting_check --notify`).

    1. evaluate each rule (reads only, outside any transaction);
    2. per rule, in a short transaction: update its RuleState; fire an alert once the
       condition has held for the rule's "for" duration, update it while it holds
       (repeating the notification every ALERT_REPEAT_HOURS unless acknowledged),
       resolve it when the condition clears;
    3. after the writes, notify every channel of each fire, repeat and resolve.
    """
    now = now or timezone.now()
    outbox: list[tuple[Alert, str]] = []
    results = []
    for rule in rules or RULES:
        evaluation, error = evaluate_rule(rule, now)
        results.append(_apply(rule, evaluation, error, now, outbox))
    sent = failed = 0
    for alert, event in outbox:
        for row in notify.send_alert(alert, event):
            sent += row.ok
            failed += not row.ok
    return results, summary(
        firing=[result.rule.key for result in results if result.state == "firing"],
        pending=[result.rule.key for result in results if result.state == "pending"],
        fired=[alert.rule_key for alert, event in outbox if event == "fire"],
        resolved=[alert.rule_key for alert, event in outbox if event == "resolve"],
        repeated=[alert.rule_key for alert, event in outbox if event == "repeat"],
        errors=[result.rule.key for result in results if result.state == "error"],
        sent=sent,
        failed=failed,
    )


def summary(*, firing, pending, fired, resolved, repeated, errors, sent: int, failed: int) -> dict:
    """The alerting job's result, as its JobRun keeps it (rule keys per outcome)."""
    return {
        "firing": firing,
        "pending": pending,
        "fired": fired,
        "resolved": resolved,
        "repeated": repeated,
        "errors": errors,
        "notifications": {"sent": sent, "failed": failed},
    }


def acknowledge(alert_pk: int, user) -> bool:
    """An operator takes the alert: repeats stop (Alert.objects.acknowledge)."""
    return Alert.objects.acknowledge(alert_pk, user)
