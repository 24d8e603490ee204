"""The jobs room: the schedules' runs over the last day (every-minute jobs) and the week (the hourly
token check, the daily report), each result built by the job's own result builder, as run_job records it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from dashboard.alerts import engine
from dashboard.alerts.notify import daily_report_result
from dashboard.health import services as health
from dashboard.slo import rollups
from deadletters.services.sweeps import sweep_stuck
from demo import content
from demo.seed.plan import REPLAY_OPERATOR, REVOKED_SHOP
from demo.seed.shops import TOKEN_CHECK_ERROR
from demo.seed.slo import REPORT_AT
from demo.seed.world import MINUTE, World
from shops.services import UNAUTHORIZED, check_summary
from timedify_ops.jobs.models import JobRun
from webhooks.services import sweep_stale_events

JOB_HISTORY = timedelta(hours=24)  # every-minute jobs keep a day of runs (the page shows the last)


def write(world: World) -> None:
    plan, rng = world.plan, world.rng
    # The sweepers find nothing stuck in the seeded week: their real result, once, stands for every minute.
    swept, stuck = sweep_stale_events(), sweep_stuck()
    probe_runs = {run.at.replace(second=0, microsecond=0): run for run in world.runs}
    flips_at = defaultdict(list)
    for flip in world.flips:
        flips_at[flip.at.replace(second=0, microsecond=0)].append(flip)

    def probe_summary(minute: datetime) -> str:
        run = probe_runs.get(minute)
        return health.run_summary(run.outcomes, flips_at.get(minute, [])) if run else ""

    def alerting_summary(moment: datetime) -> dict:
        return engine.summary(
            firing=[
                episode.rule_key
                for episode in world.episodes
                if episode.fired_at <= moment and (episode.resolved_at is None or moment < episode.resolved_at)
            ],
            pending=[],
            fired=[e.rule_key for e in world.episodes if e.fired_at == moment],
            resolved=[e.rule_key for e in world.episodes if e.resolved_at == moment],
            repeated=[],
            errors=[],
            sent=0,
            failed=0,
        )

    minute = max(plan.start, plan.now - JOB_HISTORY).replace(second=0) + MINUTE
    while minute + timedelta(seconds=2) < plan.now:
        world.job_run(
            "sweep-stale-events", minute + timedelta(milliseconds=rng.randint(200, 700)), rng.uniform(3, 8), swept
        )
        alerting_at = minute + timedelta(milliseconds=900)
        world.job_run("alerting", alerting_at, rng.uniform(40, 90), alerting_summary(alerting_at))
        if minute in probe_runs:
            world.job_run("health-probes", probe_runs[minute].at, rng.uniform(60, 140), probe_summary(minute))
        world.job_run(
            "worker-heartbeat",
            minute + timedelta(milliseconds=rng.randint(200, 900)),
            rng.uniform(1, 2),
            health.heartbeat(),
        )
        world.job_run(
            "deadletters-sweep", minute + timedelta(milliseconds=rng.randint(200, 900)), rng.uniform(4, 10), stuck
        )
        world.job_run(
            "slo-rollup",
            minute + timedelta(milliseconds=rng.randint(200, 900)),
            rng.uniform(30, 80),
            rollups.summary(5, minute - 5 * MINUTE, minute),
        )
        minute += MINUTE
    installed = len(content.SHOPS)
    hour = plan.start.replace(minute=17, second=4, microsecond=0)
    while hour < plan.now:
        failed = 1 if hour >= plan.token_revoked_at else 0
        if hour == plan.token_revoked_at:
            world.own_event(hour, "WARNING", f"shop token invalid: shop={REVOKED_SHOP} reason={UNAUTHORIZED}", 1.2)
        if failed:
            world.own_event(
                hour, "WARNING", f"shop token check failed: shop={REVOKED_SHOP} error={TOKEN_CHECK_ERROR}", 1.3
            )
        world.job_run("check-shop-tokens", hour, rng.uniform(900, 2400), check_summary(installed, failed))
        hour += timedelta(hours=1)
    for report in world.reports:
        at = datetime.combine(report.date + timedelta(days=1), REPORT_AT, tzinfo=UTC)
        if at < plan.now:
            world.job_run("slo-daily-report", at, rng.uniform(300, 900), daily_report_result(report, [], []))
    # During the outage an operator ran the probes by hand to see whether the app was back.
    if plan.outage[0] + timedelta(minutes=3) < plan.now:
        at = plan.outage[0] + timedelta(minutes=2, seconds=31)
        sam = world.users[REPLAY_OPERATOR]
        world.job_run(
            "health-probes",
            at + timedelta(seconds=1),
            rng.uniform(60, 140),
            probe_summary(at.replace(second=0)),
            trigger=JobRun.Trigger.MANUAL,
            triggered_by=sam,
        )
        world.audits.append(
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
    JobRun.objects.bulk_create(world.job_runs, batch_size=2000)
    world.counts["job_runs"] = len(world.job_runs)
