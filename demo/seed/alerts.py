"""The alerting room: the rules replayed minute by minute over the week as the alerting job runs
them (pending, fire after the rule's "for", resolve when clear), each minute judged by the rule's
own judge; the alerts that follows, one acknowledged; and each rule's state as the job leaves it
(dashboard.alerts.engine.evaluate_all, reading the data now). Nothing notifies."""

from __future__ import annotations

import bisect
from datetime import timedelta

from django.conf import settings

from dashboard.alerts import rules as rules_module
from dashboard.alerts.engine import evaluate_all
from dashboard.alerts.models import Alert, RuleState
from dashboard.logs import handler as own_events
from demo.seed.plan import REPLAY_OPERATOR
from demo.seed.world import AlertEpisode, World, ns


def write(world: World) -> None:
    """The alert rules that follow from the week's data, evaluated every minute as the alerting
    job does (dashboard.alerts.engine: pending, fire after the rule's "for", resolve when clear)."""
    rules = {rule.key: rule for rule in rules_module.RULES}
    open_at = world.open_counter()
    created = sorted(event.letter.created_at for event in world.plan.letters)
    errors = sorted(row.timestamp_ns for row in world.logs if row.provider != own_events.PROVIDER and row.is_error)
    run_times = [at for at, _ in world.down_by_run]

    # What each rule read at a moment, judged by the rule's own judge (dashboard.alerts.rules).
    def probe_down(rule, moment):
        index = bisect.bisect_right(run_times, moment)
        return rules_module.judge_probes(rule, world.down_by_run[index - 1][1] if index else [])

    def dead_letters_last_hour(rule, moment):
        count = bisect.bisect_right(created, moment) - bisect.bisect_left(created, moment - timedelta(hours=1))
        return rules_module.judge_dead_letters_last_hour(rule, count)

    def open_dead_letters(rule, moment):
        return rules_module.judge_open_dead_letters(rule, open_at(moment))

    def error_log_lines(rule, moment):
        count = bisect.bisect_left(errors, ns(moment)) - bisect.bisect_left(errors, ns(moment - timedelta(minutes=5)))
        return rules_module.judge_error_log_lines(rule, count)

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
        for moment in world.alert_minutes():
            evaluation = evaluate(rule, moment)
            value, detail = evaluation.value, evaluation.detail
            if evaluation.breaching:
                pending = pending or moment
                if current is not None:
                    current.value, current.detail, current.last_seen_at = value, detail, moment
                    current.peak = max(current.peak, value)
                elif moment - pending >= rule.for_duration:
                    current = AlertEpisode(
                        key, rule.title, rule.category, rule.severity, rule.threshold, rule.unit, pending,
                        fired_at=moment, last_seen_at=moment, value=value, peak=value, detail=detail,
                    )  # fmt: skip
                    world.episodes.append(current)
                    world.own_event(moment, "WARNING", f"alert fired: {key} ({rule.title}) value={value} {detail}", 0.1)
            else:
                pending = None
                if current is not None:
                    current.resolved_at = current.last_seen_at = moment
                    current.value = value
                    world.own_event(moment, "INFO", f"alert resolved: {key} after {moment - current.fired_at}", 0.1)
                    current = None
        world.pending[key] = pending
    repeat = timedelta(hours=settings.ALERT_REPEAT_HOURS) if settings.ALERT_REPEAT_HOURS else None
    sam = world.users[REPLAY_OPERATOR]
    for episode in world.episodes:
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
            world.audits.append(
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
    world.counts["alerts"] = len(world.episodes)


def write_rule_states(world: World) -> None:
    """Each rule's stored state as the alerting job leaves it, from an evaluation of the data now
    (dashboard.alerts.engine.evaluate_all: reads only, notifies nobody)."""
    evaluated_at = world.alert_minutes()[-1]
    for result in evaluate_all(world.plan.now):
        evaluation = result.evaluation
        breaching = bool(evaluation and evaluation.breaching)
        open_alert = Alert.objects.filter(rule_key=result.rule.key, resolved_at__isnull=True).first()
        if open_alert is not None and not breaching:
            Alert.objects.resolve(open_alert, evaluated_at, evaluation.value if evaluation else None)
        pending = world.pending.get(result.rule.key) or (evaluated_at if breaching else None)
        RuleState.objects.update_or_create(
            key=result.rule.key,
            defaults={
                "evaluated_at": evaluated_at,
                "breaching": breaching,
                "pending_since": pending if breaching else None,
                "value": evaluation.value if evaluation else None,
                "detail": evaluation.detail if evaluation else "",
                "error": result.error,
            },
        )
