"""manage.py slo_report [--date YYYY-MM-DD]: the daily SLO summary of one UTC day.

Without --date: the previous UTC day. Minutes of that day not rolled up yet are rolled up first
(existing rollups are kept). A finished day's report is written (or rewritten, the same row) as
the daily job does; today's is printed as "so far" and not stored.
Exit 0: every SLO met (or no data) · 1: an SLO was missed · 2: bad arguments.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.slo import report as reports
from dashboard.slo import rollups


class Command(BaseCommand):
    help = "Print the daily SLO summary of one UTC day (default: yesterday); exit 1 when an SLO was missed."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="the UTC day, YYYY-MM-DD (default: yesterday)")

    def handle(self, *args, day: str | None = None, **options):
        today = reports.today()
        if day is None:
            chosen = today - timedelta(days=1)
        else:
            try:
                chosen = date.fromisoformat(day)
            except ValueError:
                raise CommandError(f"--date must be a day as YYYY-MM-DD (got {day!r})", returncode=2) from None
        if chosen > today:
            raise CommandError(f"{chosen.isoformat()} is in the future; no report yet", returncode=2)
        start, end = reports.day_bounds(chosen)
        rollups.rollup_range(start, min(end, rollups.floor_minute(timezone.now())), only_missing=True)
        if chosen == today:
            report = reports.build_report(chosen)
            self.stdout.write(reports.format_report(report, partial=True))
        else:
            report = reports.write_report(chosen)
            self.stdout.write(reports.format_report(report))
        if reports.missed_slos(report):
            raise SystemExit(1)
