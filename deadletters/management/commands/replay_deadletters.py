"""List, replay and clean up dead letters from a terminal or cron (the console's actions, same services).

    manage.py replay_deadletters --list [--topic T] [--shop S] [--status S] [--since 24h|2026-11-26]
    manage.py replay_deadletters --replay ID [ID …] [--dry-run]
    manage.py replay_deadletters --replay-all [filters] [--rate 10] [--dry-run]
    manage.py replay_deadletters --cleanup [--dry-run]

Exit 0 when everything asked for was done, 1 when a replay failed (or could not start).
"""

from __future__ import annotations

import getpass
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from deadletters.services import letter as letters
from deadletters.services import sweeps
from timedify_ops.lib.durations import parse_duration


def _since(value: str) -> str:
    """`--since 24h` (a duration back from now) or a date/datetime (UTC); as the filter reads it."""
    try:
        moment = timezone.now() - parse_duration(value, bare_unit="h")
    except ValueError:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise CommandError(f"--since {value!r}: give a duration (24h, 7d) or a date (2026-11-26)") from None
            return day.isoformat()
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment.isoformat()


def _cell(text, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(BaseCommand):
    help = "List, replay (one, many or all matching) and clean up dead letters. Exit 1 when a replay fails."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--list", action="store_true", help="print a table of dead letters, newest first")
        mode.add_argument("--replay", nargs="+", type=int, metavar="ID", help="replay these dead letters now")
        mode.add_argument("--replay-all", action="store_true", help="replay every open/failed one matching the filters")
        mode.add_argument(
            "--cleanup",
            action="store_true",
            help="delete dead letters replayed more than DEADLETTER_REPLAYED_GRACE ago (default 1h)",
        )
        parser.add_argument("--topic")
        parser.add_argument("--shop")
        parser.add_argument(
            "--status",
            choices=[*DeadLetter.Status.values, filters.ANY],
            help="default: open (failed too for --replay-all)",
        )
        parser.add_argument("--since", help="created since: a duration back from now (24h, 7d) or a UTC date/datetime")
        parser.add_argument(
            "--rate", type=float, help=f"--replay-all: replays per second (default {settings.DEADLETTER_BULK_RATE:g})"
        )
        parser.add_argument("--limit", type=int, default=50, help="--list / --dry-run: rows to print (default 50)")
        parser.add_argument("--dry-run", action="store_true", help="show what would happen; change nothing")

    def handle(self, *args, **options):
        self.actor = f"{self._os_user()} (replay_deadletters)"
        if options["list"]:
            return self.list(options)
        if options["replay"]:
            return self.replay(options["replay"], dry_run=options["dry_run"])
        if options["replay_all"]:
            return self.replay_all(options)
        return self.cleanup(dry_run=options["dry_run"])

    @staticmethod
    def _os_user() -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    def _params(self, options, *, default_status: str | None = None) -> dict:
        params = {}
        status = options.get("status") or default_status
        if status:
            params["status"] = status
        if options.get("topic"):
            params["topic"] = options["topic"]
        if options.get("shop"):
            params["shop"] = options["shop"]
        if options.get("since"):
            params["created_after"] = _since(options["since"])
        result = filters.apply(params)
        if result.errors:
            raise CommandError("; ".join(result.errors))
        return result.params

    def _table(self, letters, more: bool) -> None:
        columns = "{:>8}  {:<24}  {:<28}  {:<36}  {:>8}  {:<34}  {:<9}"
        self.stdout.write(columns.format("id", "topic", "shop", "webhook id", "attempts", "last error", "status"))
        for letter in letters:
            error = letter.last_outcome + (f": {letter.last_error}" if letter.last_error else "")
            self.stdout.write(
                columns.format(
                    letter.pk,
                    _cell(letter.topic, 24),
                    _cell(letter.shop_domain, 28),
                    _cell(letter.event.webhook_id, 36),
                    letter.event.attempts,
                    _cell(error, 34),
                    letter.status,
                )
            )
        if more:
            self.stdout.write("… more match: narrow the filters or raise --limit")

    def list(self, options) -> None:
        params = self._params(options)
        rows = list(
            filters.apply(params)
            .queryset.select_related("event")
            .only(*filters.LIST_FIELDS)
            .order_by("-created_at", "-pk")[: options["limit"] + 1]
        )
        self.stdout.write(f"dead letters ({filters.describe(params)}), newest first:")
        self._table(rows[: options["limit"]], more=len(rows) > options["limit"])

    def replay(self, ids: list[int], *, dry_run: bool) -> None:
        failures = 0
        found = DeadLetter.objects.in_bulk(ids)
        for pk in ids:
            letter = found.get(pk)
            if letter is None:
                self.stderr.write(f"{pk}: no such dead letter")
                failures += 1
                continue
            if dry_run:
                verdict = "would replay" if letter.is_replayable else f"would skip: it is {letter.status}"
                self.stdout.write(f"{pk}: {verdict} ({letter.topic}, {letter.shop_domain})")
                continue
            result = letters.replay_now(pk, actor=self.actor)
            (self.stdout if result.ok else self.stderr).write(f"{pk}: {result.message}")
            failures += 0 if result.ok else 1
        if failures:
            raise CommandError(f"{failures} of {len(ids)} replays failed", returncode=1)

    def replay_all(self, options) -> None:
        params = self._params(options, default_status=filters.ANY)
        preview = bulk_actions.preview_bulk(BulkAction.Kind.REPLAY, params=params)
        how_many = str(preview.count) if preview.count is not None else f"more than {filters.COUNT_CAP}"
        if preview.empty:
            self.stdout.write(f"nothing to replay ({filters.describe(params)}: no open or failed dead letters)")
            return
        if options["dry_run"]:
            self.stdout.write(
                f"would replay {how_many} open or failed dead letters ({filters.describe(params)}), oldest first; e.g.:"
            )
            self._table(preview.sample[: options["limit"]], more=False)
            return
        bulk = bulk_actions.start_bulk(
            BulkAction.Kind.REPLAY,
            actor=self.actor,
            params=params,
            cutoff_id=preview.cutoff_id,
            cutoff_at=preview.cutoff_at,
            expected=preview.count,
            rate=options["rate"],
            inline=True,
        )
        self.stdout.write(f"bulk replay {bulk.pk}: {how_many} open or failed dead letters, at most {bulk.rate:g}/s")

        def report(_bulk, pk, result):
            if result is None:
                self.stdout.write(f"{pk}: skipped (changed meanwhile)")
            else:
                (self.stdout if result.ok else self.stderr).write(f"{pk}: {result.message}")

        try:
            bulk_actions.run_bulk(bulk.pk, str(bulk.runner_token), inline=True, on_item=report)
        except KeyboardInterrupt:
            bulk_actions.stop_inline_bulk(bulk.pk, actor=self.actor)
            raise CommandError(f"interrupted; bulk replay {bulk.pk} stopped", returncode=1) from None
        bulk.refresh_from_db()
        self.stdout.write(f"bulk replay {bulk.pk} {bulk.status}: {bulk.summary}")
        if bulk.failed:
            raise CommandError(f"{bulk.failed} replays failed", returncode=1)

    def cleanup(self, *, dry_run: bool) -> None:
        grace = settings.DEADLETTER_REPLAYED_GRACE
        count = sweeps.cleanup_replayed(grace, dry_run, actor=self.actor)
        hours = grace / timedelta(hours=1)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {count} dead letters replayed more than {hours:g} h ago")
