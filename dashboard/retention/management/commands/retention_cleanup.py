import sys

from django.core.management.base import BaseCommand, CommandError

from dashboard.retention.services import run_retention


class Command(BaseCommand):
    help = (
        "Delete expired rows per the retention policies (RETENTION_* settings), in bounded batches, and "
        "print per kind what was deleted. DAYS overrides the webhook-event age. --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "days", nargs="?", type=int, help="webhook events older than DAYS days (default: RETENTION_EVENT_DAYS)"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is not None and days < 1:
            raise CommandError("DAYS must be at least 1")
        verb = "would delete" if dry_run else "deleted"

        def on_kind(report):
            line = f"  {report.kind:<18} {verb} {report.rows}"
            if report.cascaded:
                line += " (with " + ", ".join(f"{count} {kind}" for kind, count in report.cascaded.items()) + ")"
            if not dry_run and report.rows:
                rows = report.rows + sum(report.cascaded.values())
                line += f" in {report.seconds:.1f} s, {rows / max(report.seconds, 1e-9):,.0f} rows/s"
            if dry_run and report.kind == "webhook_events":
                line += " (+ their attempts)"
            self.stdout.write(line)

        self.stdout.write(
            f"retention{' (dry run)' if dry_run else ''}: webhook events older than "
            f"{days or 'RETENTION_EVENT_DAYS'} days, per kind:"
        )
        try:
            run, _ = run_retention(dry_run=dry_run, event_days=days, trigger="command", on_kind=on_kind)
        except Exception as error:
            self.stderr.write(f"retention failed: {type(error).__name__}: {error}")
            sys.exit(1)
        self.stdout.write(f"total {verb}: {run.total} row(s) in {run.duration_ms / 1000:.1f} s")
