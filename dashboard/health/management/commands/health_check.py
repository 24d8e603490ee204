"""manage.py health_check [--json]: run every probe now and say whether anything failed.

Exit 0 when no probe failed (warnings are printed but pass), 1 when one did, 2 for an
unknown probe name in --only. Nothing is stored: the board's history comes only from
the scheduled health-probes job.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from dashboard.health.probes import registry, run_probe
from dashboard.health.rules import FAIL, WARN
from dashboard.health.services import run_all_probes


class Command(BaseCommand):
    help = "Run every health probe now; print a table (or --json); exit 1 if any probe fails."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object for machines")
        parser.add_argument(
            "--only",
            metavar="NAMES",
            help="comma-separated probe names, e.g. --only migrations in CI before a deploy",
        )

    def handle(self, *args, **options):
        if options["only"]:
            wanted = [name.strip() for name in options["only"].split(",") if name.strip()]
            probes = {probe.name: probe for probe in registry()}
            unknown = [name for name in wanted if name not in probes]
            if unknown:
                raise CommandError(f"no probe named {', '.join(unknown)} (probes: {', '.join(probes)})", returncode=2)
            outcomes = [run_probe(probes[name]) for name in wanted]
        else:
            outcomes = run_all_probes()
        failed = [o.probe for o in outcomes if o.state == FAIL]
        if options["json"]:
            report = {"status": "fail" if failed else "ok", "probes": [o.as_dict() for o in outcomes]}
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._table(outcomes)
        if failed:
            raise CommandError(f"{len(failed)} probe(s) failed: {', '.join(failed)}", returncode=1)

    def _table(self, outcomes) -> None:
        width = max(len("probe"), *(len(o.probe) for o in outcomes))
        self.stdout.write(f"{'probe':<{width}}  {'state':<5}  {'latency':>10}  detail")
        for o in outcomes:
            latency = f"{o.latency_ms:.1f} ms" if o.latency_ms is not None else "—"
            style = (
                self.style.ERROR if o.state == FAIL else self.style.WARNING if o.state == WARN else self.style.SUCCESS
            )
            self.stdout.write(f"{o.probe:<{width}}  {style(f'{o.state:<5}')}  {latency:>10}  {o.detail}")
