"""Reading the log store: the filter, the tail's opening view and its poll.

Neither query ever scans the whole table:
- the opening view reads the last LOG_TAIL_WINDOW_MINUTES backwards on the (timestamp, id)
  index — or (app, timestamp, id) with an app filter — and stops at LIMIT;
- a poll reads ids in (cursor, newest id] on the primary key, and at most POLL_SCAN_IDS of
  them: a tail that fell further behind (or a hand-made `after=0`) jumps ahead and says how many
  lines it skipped, as Loki's live tail reports dropped lines.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, QuerySet

from dashboard.logs import records
from dashboard.logs.models import LogEntry
from timedify_ops.lib import errorlines


@dataclass(frozen=True)
class Preset:
    label: str
    pattern: str = ""  # a regular expression the message must match
    errors: bool = False  # error lines only (LogEntry.is_error, the one error-line matcher)

    @property
    def shown(self) -> str:
        """What the page shows beside the button: the pattern, or what an error line is."""
        return self.pattern or "webhook error · prisma … error · 429/5xx as a status · level ≥ error"


PRESETS = {
    "errors": Preset("Errors", errors=True),
    "topics": Preset("Webhook topics", r"(APP/|CUSTOMERS/|SHOP/)"),
}
MAX_REGEX_CHARS = 500
MAX_FIELD_CHARS = 200
POLL_LIMIT = 500  # lines per poll answer; the rest come with the next poll
POLL_SCAN_IDS = 20_000  # ids a poll examines at most
STATEMENT_TIMEOUT_MS = 5_000

LEVEL_CHOICES = [(str(value), label) for value, label in records.LEVEL_LABELS.items()]


class QueryFailed(Exception):
    """The database refused or gave up on a tail query; the message is for the page."""


@dataclass
class LogFilter:
    """The tail's filters, as they live in the query string. Invalid values are kept out
    and explained in `errors`; a filter with errors is not run."""

    app: str = ""
    instance: str = ""
    region: str = ""
    min_level: int | None = None
    text: str = ""
    regex: str = ""
    preset: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> LogFilter:
        def text(name: str) -> str:
            value = (query.get(name) or "").strip()
            if len(value) > MAX_FIELD_CHARS:
                found.errors.append(f"The {name} filter is longer than {MAX_FIELD_CHARS} characters.")
                return ""
            return value

        found = cls()
        found.app = text("app")
        found.instance = text("instance")
        found.region = text("region").lower()
        found.text = text("text")
        level = (query.get("level") or "").strip().lower()
        if level:
            parsed = records.normalise_level(int(level)) if level.isdigit() else records.normalise_level(level)
            if parsed is None:
                found.errors.append(f"Unknown level {level[:40]!r}: use debug, info, warning, error or critical.")
            else:
                found.min_level = parsed
        preset = (query.get("preset") or "").strip().lower()
        if preset:
            if preset in PRESETS:
                found.preset = preset
            else:
                found.errors.append(f"Unknown preset {preset[:40]!r}: use {' or '.join(PRESETS)}.")
        regex = query.get("regex") or ""
        if regex.strip():
            if len(regex) > MAX_REGEX_CHARS:
                found.errors.append(f"The regular expression is longer than {MAX_REGEX_CHARS} characters.")
            else:
                problem = regex_problem(regex)
                if problem:
                    found.errors.append(problem)
                else:
                    found.regex = regex
        return found

    @property
    def patterns(self) -> list[str]:
        """The regular expressions a line must match (all of them, case-insensitively)."""
        found = [PRESETS[self.preset].pattern] if self.preset and PRESETS[self.preset].pattern else []
        if self.regex:
            found.append(self.regex)
        return found

    @property
    def errors_only(self) -> bool:
        return bool(self.preset) and PRESETS[self.preset].errors

    @property
    def active(self) -> bool:
        return bool(
            self.app or self.instance or self.region or self.min_level or self.text or self.patterns or self.errors_only
        )

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.app:
            queryset = queryset.filter(app=self.app)
        if self.instance:
            # Fly instance ids are long; a prefix is what people copy from `fly logs`.
            queryset = queryset.filter(instance__startswith=self.instance)
        if self.region:
            queryset = queryset.filter(region=self.region)
        if self.min_level:
            queryset = queryset.filter(level__gte=self.min_level)
        if self.text:
            queryset = queryset.filter(message__icontains=self.text)
        if self.errors_only:
            # Decided at ingest; the partial index logentry_error_ts holds only these rows.
            queryset = queryset.filter(is_error=True)
        for pattern in self.patterns:
            # PostgreSQL: `message ~* pattern`; SQLite: Django's REGEXP, i.e. Python's re.
            queryset = queryset.filter(message__iregex=pattern)
        return queryset

    def compiled(self) -> list[re.Pattern]:
        return [re.compile(pattern, re.IGNORECASE) for pattern in self.patterns]

    def matches(self, *, app: str, instance: str, region: str, level: int, message: str) -> bool:
        """The same filter in Python, for lines that are not in the store (`logs_watch --source fly`)."""
        if self.app and app != self.app:
            return False
        if self.instance and not instance.startswith(self.instance):
            return False
        if self.region and region != self.region:
            return False
        if self.min_level and level < self.min_level:
            return False
        if self.text and self.text.lower() not in message.lower():
            return False
        if self.errors_only and not errorlines.is_error(message, level=level):
            return False
        return all(pattern.search(message) for pattern in self.compiled())

    def query_items(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs (for the poller's URL and shareable links)."""
        items = [
            ("app", self.app),
            ("instance", self.instance),
            ("region", self.region),
            ("level", records.LEVEL_LABELS.get(self.min_level, "") if self.min_level else ""),
            ("text", self.text),
            ("regex", self.regex),
            ("preset", self.preset),
        ]
        return [(name, value) for name, value in items if value]


def regex_problem(pattern: str) -> str | None:
    """Why a regular expression cannot be used, in words for the page, or None."""
    try:
        re.compile(pattern)
    except re.error as error:
        return f"The regular expression {pattern!r} is not valid: {error}."
    except (RecursionError, OverflowError):
        return f"The regular expression {pattern[:60]!r} is too complex."
    return None


# --------------------------------------------------------------------------- queries


@contextlib.contextmanager
def bounded_query() -> Iterator[None]:
    """Run tail queries under a statement timeout (PostgreSQL), and turn the database's refusal
    of a regular expression (its dialect differs a little from Python's) into a message."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            yield
    except DatabaseError as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "regular expression" in text:
            raise QueryFailed(f"The database could not use this regular expression: {text}.") from None
        if "statement timeout" in text or "canceling statement" in text:
            raise QueryFailed("The query took too long; narrow the filter (an app, a shorter pattern).") from None
        raise QueryFailed(f"The log store could not be read: {text}.") from None


def latest_id() -> int:
    """The newest id; every lower id is already visible or will never exist (see ingest.ADVISORY_LOCK_KEY)."""
    return LogEntry.objects.aggregate(newest=Max("id"))["newest"] or 0


@dataclass
class Opening:
    lines: list[LogEntry]
    cursor: int
    more: bool
    since: datetime


def opening_lines(log_filter: LogFilter, *, now: datetime, window_minutes: int, limit: int) -> Opening:
    """The last `limit` matching lines of the last `window_minutes`, oldest first, and the cursor
    the poll continues from (the newest id when the page was drawn, so no line shows twice)."""
    since = now - timedelta(minutes=window_minutes)
    with bounded_query():
        cursor = latest_id()
        queryset = log_filter.apply(LogEntry.objects.filter(timestamp__gte=since, id__lte=cursor))
        lines = list(queryset.order_by("-timestamp", "-id")[: limit + 1])
    more = len(lines) > limit
    lines = lines[:limit]
    lines.reverse()
    return Opening(lines=lines, cursor=cursor, more=more, since=since)


@dataclass
class Poll:
    lines: list[LogEntry]
    cursor: int
    skipped: int  # ids passed over unexamined because the tail fell too far behind


def poll(log_filter: LogFilter, after: int, *, scan_ids: int | None = None, limit: int | None = None) -> Poll:
    """Matching lines with id > `after`, in id order, and the cursor for the next poll.

    1. Read the newest id N. Nothing newer than the cursor → same cursor.
    2. If more than `scan_ids` ids arrived since the cursor, start at N - scan_ids and report
       the rest as skipped.
    3. Read matching rows with start < id ≤ N, at most `limit`; the next cursor is the last row
       returned when the limit was hit, else N (rows up to N that did not match are done with).
    """
    scan_ids = scan_ids or POLL_SCAN_IDS
    limit = limit or POLL_LIMIT
    with bounded_query():
        newest = latest_id()
        if newest <= after:
            # The cursor only moves forward, so a line can never be shown twice.
            return Poll(lines=[], cursor=after, skipped=0)
        start, skipped = after, 0
        if newest - after > scan_ids:
            start = newest - scan_ids
            skipped = start - after
        queryset = log_filter.apply(LogEntry.objects.filter(id__gt=start, id__lte=newest))
        lines = list(queryset.order_by("id")[:limit])
    cursor = lines[-1].id if len(lines) == limit else newest
    return Poll(lines=lines, cursor=cursor, skipped=skipped)
