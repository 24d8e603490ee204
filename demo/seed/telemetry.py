"""timedify-ops' own measurements: the ingress histograms and counters as the web processes record
them, and its database queries over the last hours, through a Recorder and its flush (the same
code the processes run), each at the moment it happened."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from demo.seed.world import MINUTE, World
from timedify_ops.lib.telemetry import Recorder
from timedify_ops.telemetry.measure import flush_batch


def write(world: World) -> None:
    flushed = []

    def flush(batch) -> None:
        flushed.append(len(batch.histograms))
        flush_batch(batch)

    recorder = Recorder(flush, interval=0)  # no thread: flushed once, below

    def observe(moment: datetime, series: str, ms: float, **labels: str) -> None:
        recorder.observe(series, ms, tuple(sorted(labels.items())), at=moment.timestamp())

    def count(name: str, **labels: str) -> None:
        recorder.count(name, tuple(sorted(labels.items())))

    for event in world.plan.events:
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
    for moment, ms in world.plan.unauthorized:
        observe(moment, "ingress", ms, outcome="unauthorized", synthetic="0")
        count("webhooks_ingress_total", outcome="unauthorized", topic="unknown")

    # timedify-ops' own queries over the last hours (the overview's query panel reads the last hour).
    rng = world.rng
    minute = (world.plan.now - timedelta(hours=6)).replace(second=0)
    while minute < world.plan.now - MINUTE:
        for kind, per_minute, median in (("select", 180, 0.5), ("insert", 45, 1.1), ("update", 30, 0.9)):
            for _ in range(int(per_minute * rng.uniform(0.7, 1.3))):
                observe(minute, "db_query", rng.lognormvariate(math.log(median), 0.7), kind=kind, ok="1")
        if rng.random() < 0.1:
            observe(minute, "db_query", rng.uniform(0.2, 0.6), kind="delete", ok="1")
        if rng.random() < 0.01:
            observe(minute, "db_query", rng.uniform(1, 20), kind="insert", ok="0")
        minute += MINUTE
    recorder.flush()
    world.counts["latency_minutes"] = sum(flushed)
