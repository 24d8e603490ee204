"""manage.py alerting_check [--notify] [--json] | --any [--since DURATION]

Without --any: every alert rule now (exit 0 quiet, 1 health, 2 error patterns or SLO burn), with
the rules' thresholds — what pages. With --any: the checklist's
`fly logs | grep -Ei "(webhook error|prisma.*error|429|5..)" && exit 2` for CI and cron — exit 2 when
any error line of the app (timedify_ops.lib.errorlines) arrived in the last DURATION (default 5m),
printing them; no threshold, no "for".
"""

import json
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.alerts import engine, sources
from timedify_ops.lib import errorlines
from timedify_ops.lib.durations import parse_duration

ANY_WINDOW = timedelta(minutes=5)
SHOWN_LINES = 50


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
        parser.add_argument(
            "--any",
            action="store_true",
            help="exit 2 when any error line arrived in the window (--since), printing them; rules are not evaluated",
        )
        parser.add_argument(
            "--since",
            metavar="DURATION",
            help="with --any: the window, e.g. 5m, 1h, 24h (default 5m; a bare number is minutes)",
        )

    def handle(self, *args, notify=False, as_json=False, **options):
        now = timezone.now()
        if options["since"] and not options["any"]:
            raise CommandError("--since goes with --any (the rules keep their own windows)")
        if options["any"]:
            if notify:
                raise CommandError("--any only reads the logs; --notify is for the rules")
            try:
                window = parse_duration(options["since"], bare_unit="m") if options["since"] else ANY_WINDOW
            except ValueError as error:
                raise CommandError(f"--since: {error}") from None
            sys.exit(self._any(now, window, as_json))
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

    def _any(self, now, window: timedelta, as_json: bool) -> int:
        lines = sources.error_lines(now - window, now)
        found = list(lines[: SHOWN_LINES + 1]) if lines is not None else []
        total = len(found) if len(found) <= SHOWN_LINES else lines.count()
        found = found[:SHOWN_LINES]
        code = 2 if total else 0
        if as_json:
            payload = {
                "checked_at": now.isoformat(),
                "since": (now - window).isoformat(),
                "exit_code": code,
                "error_lines": total,
                "lines": [
                    {
                        "timestamp": line.timestamp_text,
                        "app": line.app,
                        "instance": line.instance,
                        "why": errorlines.classify(line.message, level=line.level, fields=line.extra),
                        "message": line.message[:1000],
                    }
                    for line in found
                ],
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return code
        for line in found:
            why = errorlines.classify(line.message, level=line.level, fields=line.extra) or "error"
            source = " ".join(part for part in (line.app, line.instance[:8]) if part)
            self.stdout.write(self.style.ERROR(f"{line.timestamp_text} {source} [{why}] {line.message[:500]}"))
        if total > len(found):
            self.stdout.write(f"… and {total - len(found)} more")
        minutes = window.total_seconds() / 60
        span = f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"
        verdict = (
            f"{total} error line{'s' * (total != 1)} in the last {span}"
            if total
            else f"no error line in the last {span}"
        )
        self.stdout.write(f"exit {code}: {verdict}")
        return code
