"""The logs room: the lines the Fly log shipper would have posted, read as POST /logs/ingest reads
them (records.row_from_record), and timedify-ops' own event lines, written through the ingest's insert."""

from __future__ import annotations

from datetime import timedelta

from dashboard.health.rules import FAIL
from dashboard.logs.ingest import insert_rows
from demo import content
from demo.seed.world import World, ns


def write_traffic(world: World) -> None:
    """The lines the app's Fly machines log: each request it saw, the probe's GET /health, the outage
    and the deploys; and timedify-ops' own lines about its side effects and dead letters."""
    plan, rng = world.plan, world.rng
    for event in plan.events:
        machine = rng.choice(content.APP_MACHINES)
        for attempt in event.attempts:
            if attempt.status_code is None:
                continue  # the app never saw it
            done = attempt.finished_at
            if attempt.ok:
                world.fly_line(
                    attempt.started_at + timedelta(milliseconds=2),
                    machine,
                    "info",
                    "app",
                    content.webhook_processing_line(event.topic, event.shop, event.webhook_id),
                )
            elif attempt is event.attempts[0] or attempt is event.attempts[-1]:
                level, message = content.webhook_failure_line(event.topic, event.shop, attempt.status_code)
                world.fly_line(done - timedelta(milliseconds=1), machine, level, "app", message)
            world.fly_line(
                done, machine, "info", "app", content.webhook_request_line(attempt.status_code, attempt.duration_ms)
            )
        if event.topic in ("app/uninstalled", "shop/redact", "app/scopes_update") and not event.synthetic:
            first = event.attempts[0].started_at - timedelta(milliseconds=5)
            outcome = {
                "app/uninstalled": "marked uninstalled, tokens wiped",
                "shop/redact": "tokens wiped, 1 event payload(s) erased",
                "app/scopes_update": f"scopes now {content.SCOPES}",
            }[event.topic]
            world.own_event(first, "INFO", f"webhook side effect: topic={event.topic} shop={event.shop} {outcome}")
        if event.letter is not None:
            world.own_event(
                event.letter.created_at,
                "WARNING",
                f"webhook dead-lettered: topic={event.topic} shop={event.shop} "
                f"webhook_id={event.webhook_id} reason={event.letter.reason}",
            )
    # The app probe's GET /health, and the everyday noise.
    for run in world.runs:
        app = next(outcome for outcome in run.outcomes if outcome.probe == "app")
        if app.state != FAIL:
            world.fly_line(
                run.at, rng.choice(content.APP_MACHINES), "info", "app", content.health_line(200, app.latency_ms / 8)
            )
        if rng.random() < 0.7:
            machine, level, provider, message = content.background_line(rng)
            world.fly_line(run.at + timedelta(seconds=rng.uniform(1, 58)), machine, level, provider, message)
    # The outage: the app cannot reach its database; Fly's proxy and health checks say so.
    moment = plan.outage[0]
    while moment < plan.outage[1]:
        for machine, level, provider, message in content.outage_lines(rng):
            world.fly_line(moment, machine, level, provider, message)
            moment += timedelta(seconds=rng.uniform(1, 4))
    for machine in content.APP_MACHINES:
        world.fly_line(
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
                world.fly_line(at, machine, "info", "runner", line)
                at += timedelta(seconds=rng.uniform(0.4, 3))


def write(world: World) -> None:
    """Every line gathered by the writers, in time order, through the ingest's own insert (ingest.insert_rows)."""
    world.logs.sort(key=lambda row: row.timestamp_ns)
    rows = [row for row in world.logs if row.timestamp_ns < ns(world.plan.now)]
    for index in range(0, len(rows), 5000):
        insert_rows(rows[index : index + 5000])
    world.counts["log_entries"] = len(rows)
