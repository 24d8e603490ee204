"""Log records, Django-free: what the Fly log shipper sends, turned into one flat row.

A Fly log shipper record (Vector, `codec=json`) looks like

    {"timestamp": "2026-11-26T10:00:00.123456789Z", "message": "…", "host": "a1b2",
     "log": {"level": "info"}, "event": {"provider": "app"},
     "fly": {"app": {"name": "timedify", "instance": "148e…"}, "region": "fra"}}

`row_from_record` maps those fields, keeps every other field in `extra`, normalises the
level to the logging scale (10 debug … 50 critical), keeps the timestamp to the
nanosecond, and derives the Shopify webhook topic from the message. Everything that
goes into the database is cleaned first: PostgreSQL refuses NUL characters and lone
surrogates, and a varchar over its length would fail the whole batch.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from timedify_ops.lib import errorlines
from timedify_ops.lib.topics import DEFAULT_TOPICS

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
LEVEL_LABELS = {DEBUG: "debug", INFO: "info", WARNING: "warning", ERROR: "error", CRITICAL: "critical"}

_LEVEL_NAMES = {
    "trace": DEBUG,
    "debug": DEBUG,
    "dbg": DEBUG,
    "info": INFO,
    "information": INFO,
    "informational": INFO,
    "notice": INFO,
    "log": INFO,
    "warn": WARNING,
    "warning": WARNING,
    "error": ERROR,
    "err": ERROR,
    "fatal": CRITICAL,
    "critical": CRITICAL,
    "crit": CRITICAL,
    "panic": CRITICAL,
    "alert": CRITICAL,
    "emerg": CRITICAL,
    "emergency": CRITICAL,
}

# Column sizes of logs.LogEntry; longer values are cut, never refused.
MAX_LENGTHS = {"app": 100, "instance": 64, "region": 32, "provider": 32, "host": 100, "topic": 100}
MAX_MESSAGE_CHARS = 32 * 1024

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# int64 nanoseconds since the epoch cover 1677-09-21 … 2262-04-11; stay inside with a margin.
_MIN_NS = -(2**63) + 10**18
_MAX_NS = 2**63 - 10**18


class BadRecord(ValueError):
    """One record that cannot be stored; the rest of its batch still is."""


# --------------------------------------------------------------------------- levels


def normalise_level(value) -> int | None:
    """A level name (`info`, `WARN`, `Error` …) or number on the 10…50 scale, else None."""
    if type(value) is str:
        return _LEVEL_NAMES.get(value) or _LEVEL_NAMES.get(value.strip().lower())
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return min(CRITICAL, max(DEBUG, int(value) // 10 * 10))
    if isinstance(value, str):
        return _LEVEL_NAMES.get(value.strip().lower())
    return None


def level_label(level: int) -> str:
    return LEVEL_LABELS.get(min(CRITICAL, max(DEBUG, level // 10 * 10)), "info")


# Where a level is written inside a message: `level=error`, `"level":"error"`, an upper-case
# level word (`ERROR:`, `[WARN]`, `… ERROR sink{…}`), a Python traceback, and the team's known
# error signatures (timedify_ops.lib.errorlines: `webhook error`, Prisma's errors).
# This runs for every ingested line: the patterns start with literals (the regex engine skips
# ahead to them) and the keyed and signature ones only run when a cheap substring test passes.
_MESSAGE_LEVEL_KEYED = re.compile(r"""level"?\s*[=:]\s*"?([a-zA-Z]+)""", re.I)
_MESSAGE_LEVEL_WORD = re.compile(r"(?:TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|FATAL|CRITICAL|PANIC)(?![\w-])")
_LEVEL_SCAN_CHARS = 200


def message_level(message: str) -> int | None:
    """The level a message announces about itself, if it does (only the first 200 characters are read)."""
    head = message[:_LEVEL_SCAN_CHARS]
    if "evel" in head or "EVEL" in head:
        for keyed in _MESSAGE_LEVEL_KEYED.finditer(head):
            start = keyed.start()
            if start and (head[start - 1].isalnum() or head[start - 1] == "_"):
                continue  # "sublevel=…" is not a level
            if (level := normalise_level(keyed.group(1))) is not None:
                return level
    for word in _MESSAGE_LEVEL_WORD.finditer(head):
        start = word.start()
        if start and (head[start - 1].isalnum() or head[start - 1] in "_-"):
            continue  # "MYERROR", "X-ERROR" are not level words
        return _LEVEL_NAMES[word.group().lower()]
    if head.startswith("Traceback (most recent") or errorlines.signature(head):
        return ERROR
    return None


def effective_level(declared, message: str) -> int:
    """The declared level, raised (never lowered) to what the message says about itself.

    Fly reports everything an app writes to stdout as `info`, so an `ERROR …` line would
    otherwise never pass a "minimum level: error" filter.
    """
    level = normalise_level(declared) or INFO
    announced = message_level(message)
    return max(level, announced) if announced is not None else level


# --------------------------------------------------------------------------- timestamps

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9})\d*)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?"
)


# The shipper's own spelling, `2026-11-26T10:00:00.123456789Z`: the seconds part is the same for
# many lines of a batch, so its conversion is cached.
_FLY_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z")


@functools.lru_cache(maxsize=4096)
def _epoch_seconds(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(seconds=1)


def parse_timestamp_ns(value) -> int:
    """Nanoseconds since the epoch from RFC 3339 text (up to 9 fractional digits kept; no
    offset means UTC) or from a number of seconds, milliseconds, microseconds or nanoseconds
    (told apart by magnitude)."""
    if isinstance(value, bool):
        raise BadRecord("timestamp is not a date")
    if isinstance(value, int | float):
        magnitude = abs(value)
        if magnitude < 1e11:
            ns = int(value * 1_000_000_000)
        elif magnitude < 1e14:
            ns = int(value * 1_000_000)
        elif magnitude < 1e17:
            ns = int(value * 1_000)
        else:
            ns = int(value)
    elif isinstance(value, str) and (fast := _FLY_TIMESTAMP.fullmatch(value)):
        try:
            seconds = _epoch_seconds(fast.group(1))
        except ValueError as error:
            raise BadRecord(f"timestamp {value[:40]!r}: {error}") from None
        fraction = fast.group(2)
        ns = seconds * 1_000_000_000 + (int(fraction.ljust(9, "0")) if fraction else 0)
    elif isinstance(value, str):
        match = _RFC3339.fullmatch(value.strip())
        if not match:
            raise BadRecord(f"timestamp {value[:40]!r} is not RFC 3339")
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        except ValueError as error:
            raise BadRecord(f"timestamp {value[:40]!r}: {error}") from None
        ns = (moment - EPOCH) // timedelta(microseconds=1) * 1000
        if fraction:
            ns += int(fraction.ljust(9, "0"))
        if offset and offset not in ("Z", "z", "UTC"):
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
            ns -= sign * minutes * 60 * 1_000_000_000
    else:
        raise BadRecord("timestamp is not a string or a number")
    if not _MIN_NS <= ns <= _MAX_NS:
        raise BadRecord("timestamp is out of range")
    return ns


def ns_to_datetime(ns: int) -> datetime:
    return EPOCH + timedelta(microseconds=ns // 1000)


def datetime_to_ns(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def format_ns(ns: int) -> str:
    """`2026-11-26 10:00:00.123456789` (UTC, all nine digits)."""
    moment = EPOCH + timedelta(seconds=ns // 1_000_000_000)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ns % 1_000_000_000:09d}"


# --------------------------------------------------------------------------- topics

# Shopify webhook topic families (the part before the slash); a message mentioning
# `<family>/<action>` in any case names a topic. `app_subscriptions` before `app`: the
# alternation takes the first that matches.
TOPIC_FAMILIES = (
    "app_subscriptions",
    "app_purchases_one_time",
    "app",
    "bulk_operations",
    "carts",
    "checkouts",
    "collections",
    "customers",
    "customer_groups",
    "draft_orders",
    "fulfillments",
    "fulfillment_orders",
    "inventory_items",
    "inventory_levels",
    "locations",
    "orders",
    "products",
    "refunds",
    "shop",
    "subscription_contracts",
    "themes",
)
_FAMILY_SET = frozenset(TOPIC_FAMILIES)
_FAMILY_TAIL = re.compile(r"[A-Za-z_]+\Z")
_TOPIC_ACTION = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z](?![\w/])")
_LONGEST_FAMILY = max(map(len, TOPIC_FAMILIES))


def _enum_pattern(topics: tuple[str, ...]) -> re.Pattern:
    # GraphQL spells topics as enums: APP_UNINSTALLED, CUSTOMERS_DATA_REQUEST. Ambiguous in
    # general (where does the family end?), so only the known topics are recognised this way.
    names = sorted((topic.upper().replace("/", "_") for topic in topics), key=len, reverse=True)
    return re.compile(r"(?<![A-Z0-9_])(" + "|".join(map(re.escape, names)) + r")(?![A-Z0-9_])")


_ENUM_CACHE: dict[tuple[str, ...], tuple[re.Pattern, dict[str, str]]] = {}


# What may stand right before a topic: `[shopify-app/INFO]` (a logger name) and `GET /app/settings`
# (a route) are not topics, but the app template's webhook routes (`POST /webhooks/app/uninstalled`) are.
_TOPIC_LEAD = frozenset(" \t\"'([{:=,;")


def _topic_may_start(message: str, begin: int) -> bool:
    if begin == 0 or message[begin - 1] in _TOPIC_LEAD:
        return True
    return message[:begin].endswith("/webhooks/")


def derive_topic(message: str, known_topics: Iterable[str] = DEFAULT_TOPICS) -> str:
    """The webhook topic a message mentions, normalised (`APP/UNINSTALLED` → `app/uninstalled`), else ""."""
    slash = message.find("/")
    while slash != -1:
        # The word before the slash (at most as long as the longest family, and not glued to
        # more word characters) must be a family; the word after it is the action.
        before = message[max(0, slash - _LONGEST_FAMILY - 1) : slash]
        family = _FAMILY_TAIL.search(before)
        if family and family.group().lower() in _FAMILY_SET:
            begin = slash - len(family.group())
            if _topic_may_start(message, begin):
                action = _TOPIC_ACTION.match(message, slash + 1)
                if action:
                    return f"{family.group()}/{action.group()}".lower()[: MAX_LENGTHS["topic"]]
        slash = message.find("/", slash + 1)
    if "_" not in message:
        return ""
    known = known_topics if isinstance(known_topics, tuple) else tuple(known_topics)
    cached = _ENUM_CACHE.get(known)
    if cached is None:
        topics = tuple(sorted(set(known) | set(DEFAULT_TOPICS)))
        cached = (_enum_pattern(topics), {topic.upper().replace("/", "_"): topic for topic in topics})
        _ENUM_CACHE[known] = cached
    pattern, topics = cached
    enum = pattern.search(message)
    return topics[enum.group(1)] if enum else ""


def topic_family(topic: str) -> str:
    """The colour family of a topic: app, customers, shop, or other ("" without a topic)."""
    if not topic:
        return ""
    family = topic.split("/", 1)[0]
    if family.startswith("app"):
        return "app"
    if family in ("customers", "shop"):
        return family
    return "other"


# --------------------------------------------------------------------------- cleaning


def clean_text(value, limit: int | None = None) -> str:
    """A str PostgreSQL accepts: no NUL, no lone surrogate, cut to `limit` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else str(value)
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():  # only non-ASCII text can hold a lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(value) > limit:
        value = value[:limit]
    return value


def clean_json(value, depth: int = 0):
    """`value` with every string cleaned (jsonb refuses \\u0000 and lone surrogates)."""
    if depth > 50:
        return clean_text(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(key): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item, depth + 1) for item in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None  # NaN and infinities: Python's json reads them, jsonb refuses them
    return value


# --------------------------------------------------------------------------- rows


@dataclass(slots=True)
class LogRow:
    """One line, ready for logs.LogEntry."""

    timestamp_ns: int
    message: str
    app: str = ""
    instance: str = ""
    region: str = ""
    level: int = INFO
    provider: str = ""
    host: str = ""
    topic: str = ""
    extra: dict = field(default_factory=dict)
    # The one definition of an error line (timedify_ops.lib.errorlines), decided once, at ingest:
    # the "Errors" preset, logs_watch --errors, the alert rule and alerting_check --any read it.
    is_error: bool | None = None

    def __post_init__(self) -> None:
        if self.is_error is None:
            self.is_error = errorlines.is_error(self.message, level=self.level, fields=self.extra)

    @property
    def timestamp(self) -> datetime:
        return ns_to_datetime(self.timestamp_ns)


# The fields row_from_record maps, as a tree: a leaf (None) is taken out of the record, a
# subtree is walked when the record has an object there. Whatever is left is `extra`.
_MAPPED = {
    "message": None,
    "timestamp": None,
    "host": None,
    "log": {"level": None},
    "event": {"provider": None},
    "fly": {"app": {"name": None, "instance": None}, "region": None},
}


def _split(record: dict, mapped: dict, found: dict, prefix: str = "") -> dict:
    """Put the mapped leaves of `record` in `found` (by dotted path); return the rest, without
    touching `record`. One pass, no copies of what is mapped away."""
    rest = {}
    for key, value in record.items():
        if key not in mapped:
            rest[key] = value
            continue
        below = mapped[key]
        if below is None:
            found[prefix + key] = value
        elif type(value) is dict:
            inner = _split(value, below, found, f"{prefix}{key}.")
            if inner:
                rest[key] = inner
        else:
            rest[key] = value
    return rest


_FLY_KEYS = frozenset(("timestamp", "message", "host", "log", "event", "fly"))


def _fly_fields(record: dict) -> dict | None:
    """The mapped fields of a record of exactly the shipper's shape (the usual case, so it gets
    this short path), else None."""
    if record.keys() != _FLY_KEYS:
        return None
    log, event, fly = record["log"], record["event"], record["fly"]
    if not (type(log) is dict and type(event) is dict and type(fly) is dict):
        return None
    app = fly.get("app")
    if not (len(log) == 1 and len(event) == 1 and len(fly) == 2 and type(app) is dict and len(app) == 2):
        return None
    try:
        return {
            "message": record["message"],
            "timestamp": record["timestamp"],
            "host": record["host"],
            "log.level": log["level"],
            "event.provider": event["provider"],
            "fly.app.name": app["name"],
            "fly.app.instance": app["instance"],
            "fly.region": fly["region"],
        }
    except KeyError:
        return None


def _short(value, name: str) -> str:
    if type(value) is str and value.isascii() and len(value) <= MAX_LENGTHS[name] and "\x00" not in value:
        return value
    if isinstance(value, dict | list):
        raise BadRecord(f"{name} is not a string")
    return clean_text(value, MAX_LENGTHS[name])


def row_from_record(
    record, *, now_ns: int, defaults: dict[str, str] | None = None, known_topics: Iterable[str] = DEFAULT_TOPICS
) -> LogRow:
    """Map one shipper record to a LogRow; raises BadRecord with the reason.

    1. It must be a JSON object with a `message` (any JSON value; non-strings are stored as JSON text).
    2. `timestamp` (RFC 3339 with nanoseconds, or epoch seconds/ms/µs/ns); missing means "now".
    3. Fly's fields are mapped: `fly.app.name`, `fly.app.instance`, `fly.region`, `log.level`,
       `event.provider`, `host`; `defaults` (from the query string) fill the ones missing.
    4. Everything else stays in `extra`.
    """
    if not isinstance(record, dict):
        raise BadRecord("not a JSON object")
    found = _fly_fields(record)
    if found is not None:
        rest = {}
    else:
        found = {}
        rest = _split(record, _MAPPED, found)
    if "message" not in found:
        raise BadRecord("no message")
    message = clean_text(found["message"], MAX_MESSAGE_CHARS)
    raw_timestamp = found.get("timestamp")
    timestamp_ns = now_ns if raw_timestamp in (None, "") else parse_timestamp_ns(raw_timestamp)
    defaults = defaults or {}
    app = found.get("fly.app.name")
    instance = found.get("fly.app.instance")
    region = found.get("fly.region")
    declared = found.get("log.level")
    if declared is None and isinstance(rest.get("level"), str):
        declared = rest.pop("level")  # not Fly's shape, but a common one
    provider = found.get("event.provider")
    host = found.get("host")
    return LogRow(
        timestamp_ns=timestamp_ns,
        message=message,
        app=_short(app if app is not None else defaults.get("app", ""), "app"),
        instance=_short(instance if instance is not None else defaults.get("instance", ""), "instance"),
        region=_short(region if region is not None else defaults.get("region", ""), "region"),
        level=effective_level(declared, message),
        provider=_short(provider if provider is not None else defaults.get("provider", ""), "provider"),
        host=_short(host if host is not None else defaults.get("host", ""), "host"),
        topic=derive_topic(message, known_topics),
        extra=clean_json(rest) if rest else {},
    )


# --------------------------------------------------------------------------- `fly logs` lines

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# 2026-11-26T10:00:00Z app[148e453f2d4e89] fra [info] message   (the space before the message is optional)
_FLY_CLI_LINE = re.compile(
    r"(?P<timestamp>\d{4}-\d\d-\d\d[T ]\S+)\s+(?P<provider>[\w.-]+)\[(?P<instance>[^\]]*)\]\s+"
    r"(?P<region>[a-z0-9-]+)\s+\[(?P<level>\w+)\]\s?(?P<message>.*)",
    re.S,
)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def parse_fly_cli_line(line: str) -> dict | None:
    """The fields of one `fly logs` output line, as a shipper-shaped record, else None."""
    match = _FLY_CLI_LINE.fullmatch(strip_ansi(line).rstrip("\r\n"))
    if not match:
        return None
    return {
        "timestamp": match["timestamp"],
        "message": match["message"],
        "log": {"level": match["level"]},
        "event": {"provider": match["provider"]},
        "fly": {"app": {"instance": match["instance"]}, "region": match["region"]},
    }
