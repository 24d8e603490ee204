"""manage.py logs_watch [SECONDS] [--filter REGEX] [--errors] [--lines N] [--app NAME] [--source db|fly]

A coloured, filtered tail that stops by itself: replaces
`timeout 15s fly logs --app timedify | grep -E "(APP/|CUSTOMERS/|SHOP/)"` and logs-watch.sh.
Like `fly logs` and `tail -f`, it shows the last N matching lines first (`--lines`, 10 by default,
from the last LOG_TAIL_WINDOW_MINUTES), then follows; `--lines 0` follows only.

Exit codes: 0 all good · 1 bad arguments, or the store / `fly logs` failed ·
2 with --errors, an error line was among the lines shown (timedify_ops.lib.errorlines: a signature,
a 429/5xx where a status is written, or level error or worse) · 3 `fly` is not installed.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.logs import records, selectors
from timedify_ops.lib import errorlines

EXIT_ERRORS_SEEN = 2
EXIT_FLY_MISSING = 3
DEFAULT_LINES = 10  # as tail(1) and `fly logs` show before they follow

RESET = "\x1b[0m"
DIM = "\x1b[2m"
LEVEL_COLOURS = {
    records.DEBUG: "\x1b[2m",
    records.WARNING: "\x1b[33m",
    records.ERROR: "\x1b[31m",
    records.CRITICAL: "\x1b[1;31m",
}
FAMILY_COLOURS = {"app": "\x1b[35m", "customers": "\x1b[36m", "shop": "\x1b[34m", "other": "\x1b[37m"}


@dataclass
class Line:
    timestamp_text: str
    app: str
    region: str
    instance: str
    level: int
    topic: str
    message: str
    is_error: bool = False

    @classmethod
    def from_entry(cls, entry) -> Line:
        return cls(
            entry.timestamp_text,
            entry.app,
            entry.region,
            entry.instance,
            entry.level,
            entry.topic,
            entry.message,
            entry.is_error,
        )


def format_line(line: Line, *, colour: bool) -> str:
    """`2026-11-26 10:00:00.123456789 timedify fra 148e453f ERROR [app/uninstalled] message`."""
    label = records.level_label(line.level).upper()
    source = " ".join(part for part in (line.app, line.region, line.instance[:8]) if part)
    topic = f"[{line.topic}] " if line.topic else ""
    if not colour:
        parts = [line.timestamp_text, source, f"{label:<8}", topic + line.message]
        return " ".join(part for part in parts if part)
    level_colour = LEVEL_COLOURS.get(min(records.CRITICAL, line.level // 10 * 10), "")
    if topic:
        topic = f"{FAMILY_COLOURS[records.topic_family(line.topic)]}{topic.rstrip()}{RESET} "
    message = f"{level_colour}{line.message}{RESET}" if level_colour else line.message
    level_text = f"{level_colour}{label:<8}{RESET}" if level_colour else f"{label:<8}"
    stamp = f"{DIM}{line.timestamp_text}{RESET}" if line.timestamp_text else ""
    return " ".join(part for part in (stamp, source, level_text, topic + message) if part)


class Command(BaseCommand):
    help = "Print matching log lines as they arrive, coloured, and stop after SECONDS (default 15)."

    def add_arguments(self, parser):
        parser.add_argument("seconds", nargs="?", type=float, default=15.0, help="stop after this long (default 15)")
        parser.add_argument("--filter", dest="regex", default="", help="regular expression (case-insensitive)")
        parser.add_argument("--preset", choices=sorted(selectors.PRESETS), help="errors or topics, as on /logs/")
        parser.add_argument(
            "--errors", action="store_true", help="exit 2 when an error line was seen (the one error-line matcher)"
        )
        parser.add_argument("--app", default="", help="only this app (required with --source fly)")
        parser.add_argument("--instance", default="", help="only instances starting with this")
        parser.add_argument("--region", default="")
        parser.add_argument("--level", default="", help="minimum level: debug, info, warning, error, critical")
        parser.add_argument("--text", default="", help="only lines containing this (case-insensitive)")
        parser.add_argument(
            "--source", choices=["db", "fly"], default="db", help="db: the log store (default); fly: `fly logs -a APP`"
        )
        parser.add_argument(
            "--lines",
            type=int,
            default=DEFAULT_LINES,
            help=f"first print the last N matching lines of the last {settings.LOG_TAIL_WINDOW_MINUTES} minutes "
            f"(default {DEFAULT_LINES}; 0: only what arrives from now on). The store only: `fly logs` shows its own",
        )
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls of the store")

    def handle(self, *args, **options):
        query = {name: options[name] for name in ("app", "instance", "region", "level", "text", "regex")}
        query["preset"] = options["preset"] or ""
        log_filter = selectors.LogFilter.from_query(query)
        if log_filter.errors:
            raise CommandError(" ".join(log_filter.errors))
        self.colour = options["force_color"] or (
            not options["no_color"] and "NO_COLOR" not in os.environ and self.stdout.isatty()
        )
        self.seen = self.errors_seen = 0
        seconds = max(0.0, options["seconds"])
        started = time.monotonic()
        try:
            if options["source"] == "fly":
                if not options["app"]:
                    raise CommandError("--source fly needs --app NAME (the Fly app whose logs to follow)")
                failure = self.watch_fly(log_filter, options["app"], seconds)
            else:
                failure = self.watch_store(log_filter, seconds, options["interval"], options["lines"])
        except KeyboardInterrupt:
            failure = None
        elapsed = time.monotonic() - started
        errors = f", {self.errors_seen} error line{'s' * (self.errors_seen != 1)}" if self.errors_seen else ""
        self.stderr.write(f"logs_watch: {self.seen} line{'s' * (self.seen != 1)} in {elapsed:.0f} s{errors}")
        if failure:
            raise CommandError(failure)
        if options["errors"] and self.errors_seen:
            sys.exit(EXIT_ERRORS_SEEN)

    def show(self, line: Line) -> None:
        self.seen += 1
        if line.is_error:
            self.errors_seen += 1
        self.stdout.write(format_line(line, colour=self.colour))
        self.stdout.flush()

    def note(self, text: str) -> None:
        self.stdout.write(f"{DIM}{text}{RESET}" if self.colour else text)

    # ------------------------------------------------------------------ the store

    def watch_store(self, log_filter: selectors.LogFilter, seconds: float, interval: float, backlog: int) -> str | None:
        deadline = time.monotonic() + seconds
        try:
            if backlog > 0:
                opening = selectors.opening_lines(
                    log_filter, now=timezone.now(), window_minutes=settings.LOG_TAIL_WINDOW_MINUTES, limit=backlog
                )
                for entry in opening.lines:
                    self.show(Line.from_entry(entry))
                cursor = opening.cursor
            else:
                cursor = selectors.latest_id()
            while True:
                result = selectors.poll(log_filter, cursor)
                if result.skipped:
                    self.note(f"… about {result.skipped} lines arrived faster than they could be read; skipped")
                for entry in result.lines:
                    self.show(Line.from_entry(entry))
                cursor = result.cursor
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if len(result.lines) < selectors.POLL_LIMIT:
                    time.sleep(min(interval, remaining))
        except selectors.QueryFailed as error:
            return str(error)

    # ------------------------------------------------------------------ `fly logs`

    def watch_fly(self, log_filter: selectors.LogFilter, app: str, seconds: float) -> str | None:
        executable = shutil.which("fly") or shutil.which("flyctl")
        if executable is None:
            self.stderr.write(
                "logs_watch: `fly` (flyctl) is not installed or not on PATH. Install it "
                "(https://fly.io/docs/flyctl/install/) and run `fly auth login`, or read the "
                "log store instead with --source db."
            )
            sys.exit(EXIT_FLY_MISSING)
        process = subprocess.Popen(
            [executable, "logs", "-a", app],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        lines: queue.Queue[str | None] = queue.Queue()
        stderr_tail: deque[str] = deque(maxlen=20)

        def pump(stream, sink) -> None:
            for text in stream:
                sink(text)
            if stream is process.stdout:
                lines.put(None)

        threading.Thread(target=pump, args=(process.stdout, lines.put), daemon=True).start()
        threading.Thread(target=pump, args=(process.stderr, stderr_tail.append), daemon=True).start()
        deadline = time.monotonic() + seconds
        ended = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    text = lines.get(timeout=remaining)
                except queue.Empty:
                    break
                if text is None:
                    ended = True
                    break
                self.show_fly_line(log_filter, app, text)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if ended and process.wait() != 0:
            detail = "".join(stderr_tail).strip() or "no output on stderr"
            return f"`fly logs -a {app}` exited with {process.returncode}: {detail}"
        return None

    def show_fly_line(self, log_filter: selectors.LogFilter, app: str, text: str) -> None:
        text = records.strip_ansi(text.rstrip("\r\n"))
        if not text.strip():
            return
        fields = records.parse_fly_cli_line(text)
        if fields is None:
            level = records.effective_level(None, text)
            line = Line("", app, "", "", level, records.derive_topic(text), text)
        else:
            message = fields["message"]
            try:
                stamp = records.format_ns(records.parse_timestamp_ns(fields["timestamp"]))
            except records.BadRecord:
                stamp = fields["timestamp"]
            line = Line(
                stamp,
                app,
                fields["fly"]["region"],
                fields["fly"]["app"]["instance"],
                records.effective_level(fields["log"]["level"], message),
                records.derive_topic(message, settings.WEBHOOK_TOPICS),
                message,
            )
        line.is_error = errorlines.is_error(line.message, level=line.level)
        if log_filter.matches(
            app=line.app, instance=line.instance, region=line.region, level=line.level, message=line.message
        ):
            self.show(line)
