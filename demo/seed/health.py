"""The health room: a probe run every minute of the week, each outcome judged by the probes' own
judges (dashboard.health.probes.judge_…), stepped through ProbeState.advance (as
services.record_results does) into results, flips, hourly counters and the states now."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta

import httpx
from django.conf import settings

from dashboard.alerts.sources import ProbeStatus
from dashboard.health import probes
from dashboard.health.models import ProbeFlip, ProbeHour, ProbeResult, ProbeState
from dashboard.health.probes import Outcome
from dashboard.health.rules import FAIL
from demo import content
from demo.seed.plan import REVOKED_SHOP
from demo.seed.world import MINUTE, ProbeRun, World
from shops.models import Shop
from shops.services import UNAUTHORIZED
from timedify_ops.jobs.registry import JOBS

# What the app probe meets while the app cannot be reached.
UNREACHABLE = httpx.ConnectError("All connection attempts failed")


def _static_outcomes() -> dict[str, tuple[str, str, float]]:
    """Probes whose answer does not change over the week: run once, for real."""
    found = {}
    for probe in probes.registry():
        if probe.name in ("database", "migrations", "disk"):
            outcome = probes.run_probe(probe)
            found[probe.name] = (outcome.state, outcome.detail, max(outcome.latency_ms or 0.3, 0.3))
    return found


def write(world: World) -> None:
    plan, rng = world.plan, world.rng
    static = _static_outcomes()
    open_at = world.open_counter()
    names = [probe.name for probe in probes.registry()]
    slow_checks = {deploy.replace(second=0) + MINUTE for deploy in plan.deploys}
    revoked = [Shop(domain=REVOKED_SHOP, token_error=UNAUTHORIZED)]
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
                    ms = rng.uniform(0.6, 3.0)
                    state, detail = probes.judge_http_error(UNREACHABLE, settings.HEALTH_HTTP_TIMEOUT_S)
                else:
                    slow = name == "app" and minute in slow_checks
                    ms = rng.uniform(2100, 2900) if slow else rng.lognormvariate(math.log(38), 0.25)
                    state, detail = probes.judge_http(200, ms)
            elif name in static:
                state, detail, ms = static[name]
                ms *= rng.uniform(0.7, 1.6)
            elif name == "worker":
                ms = rng.uniform(1.5, 4)
                beat = at - timedelta(seconds=rng.randint(2, 50))
                state, detail = probes.judge_worker(at, beat=beat, queued=0, oldest=None, paused=False)
            elif name == "backlog":
                ms = rng.uniform(0.8, 2.5)
                state, detail = probes.judge_backlog(at, count=0, oldest=None)
            elif name == "deadletters":
                ms = rng.uniform(0.8, 2)
                state, detail = probes.judge_deadletters(open_at(at))
            elif name == "tokens":
                ms = rng.uniform(2, 5)
                problems = revoked if at > plan.token_revoked_at else []
                state, detail = probes.judge_tokens(problems, installed=installed)
            elif name == "schedules":
                ms = rng.uniform(3, 9)
                state, detail = probes.judge_schedules(on_time=len(JOBS), missed=[], failing=[], paused=[])
            else:
                ms, state, detail = rng.uniform(1, 3), "ok", "ok"
            outcome = Outcome(probe=name, state=state, latency_ms=round(ms, 3), detail=detail)
            outcomes.append(outcome)
            results.append(
                ProbeResult(probe=name, checked_at=at, state=state, latency_ms=outcome.latency_ms, detail=detail)
            )
        world.runs.append(ProbeRun(at, outcomes))
        minute += MINUTE
    ProbeResult.objects.bulk_create(results, batch_size=5000)
    _machines(world)
    world.counts["probe_results"] = len(results)


def _machines(world: World) -> None:
    """Each probe's state machine over the runs (ProbeState.advance), its flips, and its hours."""
    states: dict[str, ProbeState] = {}
    hours: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    open_flip = {}
    for run in world.runs:
        for outcome in run.outcomes:
            state = states.setdefault(outcome.probe, ProbeState(probe=outcome.probe))
            before = state.status
            flip = state.advance(outcome.state, at=run.at, latency_ms=outcome.latency_ms, detail=outcome.detail)
            if flip is not None:
                if outcome.probe in open_flip:
                    open_flip[outcome.probe].until = run.at
                world.flips.append(flip)
                open_flip[outcome.probe] = flip
                level = "WARNING" if flip.to_status in ("down", "degraded") else "INFO"
                world.own_event(
                    run.at, level, f"probe {outcome.probe} is {flip.to_status} (was {before}): {outcome.detail}", 0.3
                )
            counter = hours[(outcome.probe, run.at.replace(minute=0, second=0, microsecond=0))]
            counter[0] += 1
            counter[1] += 1 if outcome.state == FAIL else 0
        world.down_by_run.append(
            (
                run.at,
                [
                    ProbeStatus(probe=s.probe, status=s.status, since=s.status_since, detail=s.last_detail)
                    for s in states.values()
                ],
            )
        )
    ProbeFlip.objects.bulk_create(world.flips)
    ProbeHour.objects.bulk_create(
        [ProbeHour(probe=p, hour=h, checks=c, failures=f) for (p, h), (c, f) in hours.items()], batch_size=2000
    )
    fields = [field.name for field in ProbeState._meta.concrete_fields if field.name not in ("id", "probe")]
    for state in states.values():
        ProbeState.objects.update_or_create(probe=state.probe, defaults={name: getattr(state, name) for name in fields})
    world.counts["probe_flips"] = len(world.flips)
