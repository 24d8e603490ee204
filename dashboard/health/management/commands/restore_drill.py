"""manage.py restore_drill DUMP [--server-url URL] [--scratch NAME] [--keep] [--max-age 26h] …

Restores a pg_dump into a scratch database, migrates it, checks it (health_check against it, row
counts, the age of its newest row) and drops it. Exit 0 when every step passed, 1 on any failure.
The steps: dashboard.health.restore_drill.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dashboard.health import restore_drill
from timedify_ops.lib.durations import parse_duration


class Command(BaseCommand):
    help = "Restore a pg_dump into a scratch database, migrate and check it, then drop it; exit 1 on any failure."

    def add_arguments(self, parser):
        parser.add_argument("dump", help="a pg_dump file (custom -Fc, tar, plain SQL or .sql.gz) or a -Fd directory")
        parser.add_argument(
            "--server-url",
            help="the PostgreSQL server to restore on (default: timedify-ops' own DATABASE_URL's server); "
            "the role needs CREATEDB",
        )
        parser.add_argument("--scratch", help="the scratch database's name (default: <database>_drill_<UTC time>)")
        parser.add_argument("--keep", action="store_true", help="leave the scratch database for a look (drop it after)")
        parser.add_argument(
            "--probes",
            default=",".join(restore_drill.DEFAULT_PROBES),
            help="health probes to run against it (default: database,migrations,tokens)",
        )
        parser.add_argument(
            "--min-rows",
            action="append",
            default=[],
            metavar="TABLE=N",
            help="fail unless TABLE holds at least N rows (repeatable), e.g. webhooks_webhookevent=1",
        )
        parser.add_argument("--max-age", help="fail when the newest row is older than this (e.g. 26h for a nightly)")

    def handle(self, *args, **options):
        min_rows = {}
        for item in options["min_rows"]:
            table, sep, number = item.partition("=")
            if not sep or not number.strip().isdigit():
                raise CommandError(f"--min-rows {item!r}: use TABLE=N")
            min_rows[table.strip()] = int(number)
        try:
            max_age = parse_duration(options["max_age"]) if options["max_age"] else None
        except ValueError as error:
            raise CommandError(f"--max-age: {error}") from None
        try:
            server = (
                restore_drill.Server.from_url(options["server_url"])
                if options["server_url"]
                else restore_drill.server_from_settings()
            )
            scratch = options["scratch"] or restore_drill.default_scratch_name(server)
            probes = tuple(name.strip() for name in options["probes"].split(",") if name.strip())
            self.stdout.write(f"restore drill: {options['dump']} → {scratch}")
            drill = restore_drill.run_drill(
                Path(options["dump"]),
                server=server,
                scratch=scratch,
                keep=options["keep"],
                probes=probes,
                min_rows=min_rows,
                max_age=max_age,
                say=self.say,
            )
        except restore_drill.DrillFailed as error:
            self.stderr.write(f"restore drill failed: {error}")
            sys.exit(1)
        if drill.counts:
            width = max(len(table) for table in drill.counts)
            self.stdout.write("rows per table:")
            for table, count in drill.counts.items():
                self.stdout.write(f"  {table:<{width}}  {count:>10}")
        if drill.ok:
            self.stdout.write(self.style.SUCCESS("restore drill passed"))
            return
        failed = next(step for step in drill.steps if not step.ok)
        self.stderr.write(f"restore drill failed at {failed.name}: {failed.detail}")
        sys.exit(1)

    def say(self, step: restore_drill.Step) -> None:
        mark = self.style.SUCCESS("ok  ") if step.ok else self.style.ERROR("FAIL")
        self.stdout.write(f"{mark} {step.name:<8} {step.seconds:>7.2f} s  {step.detail}")
        self.stdout.flush()
