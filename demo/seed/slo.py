"""The SLO room: the rollup job's minutes (rollups.rollup_range) and the daily job's reports
(report.write_report), computed from the raw rows just written, as the jobs compute them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dashboard.slo import report as slo_report
from dashboard.slo import rollups
from dashboard.slo.models import SloDailyReport
from demo.seed.world import World

REPORT_AT = time(0, 10, 1)


def write(world: World) -> None:
    plan = world.plan
    start = rollups.floor_minute(plan.start)
    end = rollups.floor_minute(plan.now)
    written = 0
    cursor = start
    while cursor < end:
        chunk_end = min(end, cursor + timedelta(days=1))
        written += rollups.rollup_range(cursor, chunk_end)
        cursor = chunk_end
    world.counts["slo_minutes"] = written
    day = plan.start.date()
    while day < plan.now.date():
        computed_at = datetime.combine(day + timedelta(days=1), REPORT_AT, tzinfo=UTC)
        report = slo_report.write_report(day)
        SloDailyReport.objects.filter(pk=report.pk).update(computed_at=computed_at)
        world.reports.append(report)
        missed = slo_report.missed_slos(report)
        if missed:
            world.own_event(computed_at, "WARNING", f"SLO report {day.isoformat()}: missed {', '.join(missed)}", 2.0)
        day += timedelta(days=1)
    world.counts["slo_daily_reports"] = len(world.reports)
