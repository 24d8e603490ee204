import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from dashboard.alerts import engine


class Command(BaseCommand):
    help = (
        "Evaluate every alert rule now and print them. Exit 0 when quiet, 1 when a health rule breaches "
        "(a probe down, a missed schedule, an old delivery backlog), 2 when error patterns or SLO burn do "
        "(health wins). Writes and notifies nothing unless --notify is given, so CI can call it freely."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--notify",
            action="store_true",
            help="do what the alerting schedule does: record rule states, fire/resolve alerts, send notifications",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON instead of a table")

    def handle(self, *args, notify=False, as_json=False, **options):
        now = timezone.now()
        if notify:
            results, summary = engine.alert_now(now)
        else:
            results, summary = engine.evaluate_all(now), None
        code = engine.exit_code(results)
        if as_json:
            payload = {"checked_at": now.isoformat(), "exit_code": code, "rules": [r.as_dict() for r in results]}
            if notify:
                payload["notified"] = summary
            self.stdout.write(json.dumps(payload, indent=2))
        else:
            self._table(results, code)
            if notify:
                sent = summary["notifications"]
                self.stdout.write(
                    f"notify: fired {summary['fired'] or '-'}, resolved {summary['resolved'] or '-'}, "
                    f"repeated {summary['repeated'] or '-'}; notifications sent {sent['sent']}, failed {sent['failed']}"
                )
        sys.exit(code)

    def _table(self, results, code):
        width = max(len(result.rule.key) for result in results)
        for result in results:
            value = result.evaluation.value if result.evaluation else None
            figure = "" if value is None else f"{value:g}{result.rule.unit}"
            if result.rule.threshold is not None and value is not None:
                figure += f" / {result.rule.threshold:g}{result.rule.unit}"
            detail = result.error or (result.evaluation.detail if result.evaluation else "")
            if result.state == "pending":
                detail = f"pending since {result.pending_since:%H:%M:%S} UTC (for {result.rule.for_duration}); {detail}"
            key, category, state = result.rule.key, result.rule.category, result.state.upper()
            line = f"{key:<{width}}  {category:<7} {state:<11} {figure:<16} {detail}"
            style = {"firing": self.style.ERROR, "error": self.style.ERROR, "pending": self.style.WARNING}.get(
                result.state, lambda text: text
            )
            self.stdout.write(style(line))
        verdict = {0: "quiet", 1: "health failing", 2: "error patterns or SLO burn"}[code]
        self.stdout.write(f"exit {code}: {verdict}")
