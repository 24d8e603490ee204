"""manage.py seed_demo: fill an empty database with a realistic week (demo.seed); needs demo.settings."""

import time

from django.core.management.base import BaseCommand, CommandError

from demo import seed as demo


class Command(BaseCommand):
    help = (
        "Fill an empty database with a realistic week for a demo: webhooks from several shops, delivery "
        "attempts, dead letters and replays, log lines, probe results with a short outage, SLO rollups and "
        "daily reports, alerts, schedule runs and the audit trail. Creates the logins `demo` (operator) "
        "and `demo-viewer` (viewer) when missing and prints their password. Refuses (exit 1) when webhook "
        "events exist already, unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed writes the same week")
        parser.add_argument("--events", type=int, default=12_000, help="webhook events to invent (default 12000)")
        parser.add_argument("--days", type=int, default=7, help="days of history ending now (default 7)")
        parser.add_argument("--password", help="password for the demo logins when they are created (default: random)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="delete what is there first (events, dead letters, logs, probe history, rollups, reports, "
            "alerts, job runs, audit entries, shops; users are kept), then seed. Never on real data.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only an empty database; otherwise only make sure the demo logins exist (exit 0)",
        )

    def handle(self, *args, seed, events, days, password, force, if_empty, **options):
        if events < 100 or days < 2:
            raise CommandError("--events must be at least 100 and --days at least 2")
        existing = demo.has_events()
        if existing and if_empty:
            self.stdout.write("The database has webhook events already; not seeding.")
            self._logins(password)
            return
        if existing and not force:
            raise CommandError(
                "The database has webhook events already: seed_demo only fills an empty database. "
                "Use a fresh database, or --force to delete the existing history first (never on real data).",
                returncode=1,
            )
        if existing:
            deleted = demo.wipe()
            self.stdout.write(f"Deleted the existing history ({sum(deleted.values()):,} rows).")
        started = time.monotonic()
        try:
            counts = demo.seed(seed=seed, events=events, days=days)
        except demo.SeedRefused as error:
            raise CommandError(str(error), returncode=1) from None
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Seeded {days} days of demo history in {elapsed:.1f} s (seed {seed}):"))
        for kind, count in counts.items():
            self.stdout.write(f"  {kind.replace('_', ' ')}: {count:,}")
        self._logins(password)

    def _logins(self, password):
        logins, used = demo.ensure_logins(password)
        for login in logins:
            if login.created:
                self.stdout.write(self.style.SUCCESS(f"Created the {login.role} login: {login.username} / {used}"))
            else:
                self.stdout.write(f"The {login.role} login {login.username} exists already (password unchanged).")
