"""Log ingest: decode a posted batch into rows, and write rows fast.

The body formats (by Content-Type):
- `application/json`: what the Fly log shipper's HTTP sink (Vector, `codec=json`) sends, a JSON
  array of records per batch; a single JSON object is one record. A body that is NDJSON but
  labelled `application/json` (a common shipper setting) is read as NDJSON.
- `application/x-ndjson` (and the other JSON-lines names): one JSON record per line.
- `text/plain`: one message per line; a line in `fly logs` output format keeps its fields.
- no Content-Type: JSON when the body starts with `[` or `{`, else text.
`Content-Encoding: gzip` is accepted; the decompressed size is held to the same limit.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections, transaction

from dashboard.logs import records
from dashboard.logs.records import BadRecord, LogRow
from timedify_ops.lib.topics import DEFAULT_TOPICS

MAX_ERRORS = 10

JSON_TYPES = {"application/json", "text/json"}
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonl",
    "application/jsonlines",
    "application/x-jsonlines",
    "application/json-lines",
    "application/jsonstream",
}
TEXT_TYPES = {"text/plain"}

# The columns COPY writes, in order (the id comes from the sequence).
COLUMNS = (
    "timestamp",
    "timestamp_ns",
    "app",
    "instance",
    "region",
    "level",
    "provider",
    "host",
    "message",
    "topic",
    "extra",
    "is_error",
)

# Every writer of LogEntry takes this transaction-level advisory lock before its first insert,
# so rows are numbered and committed one writer at a time. Why: the live tail polls with
# `id > cursor`, and on PostgreSQL a sequence hands out ids at insert time while transactions
# commit in any order. Without the lock, writer A takes id 11, writer B takes id 12 and commits
# first; a poll then sees 12, moves the cursor past 11, and line 11 is never shown. With the
# lock, B cannot take an id until A has committed (PostgreSQL makes a commit visible before it
# releases the transaction's locks), so whenever a poll sees id N, every lower id is either
# visible or will never exist (rolled back). The cost is that writers queue for the length of a
# COPY (milliseconds per 1,000 lines); readers never wait. Considered and not taken: a time
# horizon ("only rows older than 2 s") adds that delay to every line and is still wrong for a
# transaction slower than the horizon; an xid8 horizon (pg_snapshot_xmin) is exact but makes the
# cursor a transaction id, which SQLite does not have. SQLite needs no lock: its single writer
# already numbers and commits rows in order (BEGIN IMMEDIATE).
ADVISORY_LOCK_KEY = 0x74696D6C6F677331  # "timlogs1"


class BadBody(ValueError):
    """The body as a whole cannot be read: 400 (not the declared format) or 415 (unknown format)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class BodyTooLarge(ValueError):
    pass


@dataclass
class Parsed:
    rows: list[LogRow] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{where}: {reason}")


# --------------------------------------------------------------------------- decoding


def decompress(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with `Content-Encoding: gzip`/`deflate` undone; never more than `limit` bytes."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadBody(f"Content-Encoding {encoding!r} is not supported (use gzip or none)", status=415)
    wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        data = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise BadBody(f"the body is not valid {encoding}: {error}") from None
    if len(data) > limit or decompressor.unconsumed_tail:
        raise BodyTooLarge
    return data


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(
    body: bytes,
    content_type: str | None,
    *,
    defaults: dict[str, str] | None = None,
    known_topics: Iterable[str] = DEFAULT_TOPICS,
    now_ns: int | None = None,
) -> Parsed:
    """Rows and rejections for one posted batch; raises BadBody when the body as a whole is unreadable."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    kind = media_type(content_type)
    if not kind:
        kind = "application/json" if body.lstrip()[:1] in (b"[", b"{") else "text/plain"
    options = {"defaults": defaults or {}, "known_topics": tuple(known_topics), "now_ns": now_ns}
    if kind in JSON_TYPES or kind.endswith("+json"):
        return _parse_json(body, **options)
    if kind in NDJSON_TYPES:
        return _parse_ndjson(body, **options)
    if kind in TEXT_TYPES:
        return _parse_text(body, **options)
    raise BadBody(
        f"Content-Type {kind!r} is not supported: send application/json, application/x-ndjson or text/plain",
        status=415,
    )


def _loads(data: bytes | str):
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _parse_json(body: bytes, **options) -> Parsed:
    try:
        data = _loads(body)
    except ValueError as error:
        lines = [line for line in body.splitlines() if line.strip()]
        if len(lines) > 1 and _parses(lines[0]):
            return _parse_ndjson(body, **options)
        raise BadBody(f"the body is not valid JSON: {error}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise BadBody("expected a JSON array of log records, or one JSON object")
    parsed = Parsed()
    for number, record in enumerate(data, start=1):
        _add(parsed, f"record {number}", record, **options)
    return parsed


def _parses(line: bytes) -> bool:
    try:
        _loads(line)
    except ValueError:
        return False
    return True


def _parse_ndjson(body: bytes, **options) -> Parsed:
    parsed = Parsed()
    lines = json_lines = 0
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        lines += 1
        try:
            record = _loads(line)
        except ValueError as error:
            parsed.reject(f"line {number}", f"not JSON ({error})")
            continue
        json_lines += 1
        _add(parsed, f"line {number}", record, **options)
    if lines and not json_lines:
        raise BadBody("the body is not NDJSON: no line is a JSON value")
    return parsed


def _parse_text(body: bytes, **options) -> Parsed:
    parsed = Parsed()
    text = body.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = records.parse_fly_cli_line(line) or {"message": line}
        _add(parsed, f"line {number}", record, **options)
    return parsed


def _add(parsed: Parsed, where: str, record, *, defaults, known_topics, now_ns) -> None:
    """One record into `parsed`; a record that cannot be mapped is counted, never fatal."""
    try:
        parsed.rows.append(records.row_from_record(record, now_ns=now_ns, defaults=defaults, known_topics=known_topics))
    except BadRecord as error:
        parsed.reject(where, str(error))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError) as error:
        parsed.reject(where, f"could not be read ({type(error).__name__})")


# --------------------------------------------------------------------------- writing


def insert_rows(rows: list[LogRow], *, using: str = "default") -> int:
    """Store rows in one transaction: PostgreSQL COPY, bulk_create elsewhere. Returns the count.

    Every insert into LogEntry must come through here (see ADVISORY_LOCK_KEY).
    """
    if not rows:
        return 0
    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            _copy(connection, rows)
        else:
            _bulk_create(rows, using)
    return len(rows)


def _copy(connection, rows: list[LogRow]) -> None:
    # Django start-up: LOGGING builds the log-store handler, which imports this module, before the
    # apps and their models are loaded.
    from dashboard.logs.models import LogEntry

    meta = LogEntry._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in COLUMNS)
    statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        # Django's cursor wraps psycopg's; COPY is psycopg's own API.
        with cursor.cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(copy_values(row))


def copy_values(row: LogRow) -> tuple:
    """One row in the column order of the COPY statement (bench/logs.py's raw baseline uses it too)."""
    return (
        row.timestamp,
        row.timestamp_ns,
        row.app,
        row.instance,
        row.region,
        row.level,
        row.provider,
        row.host,
        row.message,
        row.topic,
        json.dumps(row.extra, ensure_ascii=False) if row.extra else "{}",
        row.is_error,
    )


def _bulk_create(rows: list[LogRow], using: str) -> None:
    from dashboard.logs.models import LogEntry  # Django start-up, as in _copy

    LogEntry.objects.using(using).bulk_create(
        [
            LogEntry(
                timestamp=row.timestamp,
                timestamp_ns=row.timestamp_ns,
                app=row.app,
                instance=row.instance,
                region=row.region,
                level=row.level,
                provider=row.provider,
                host=row.host,
                message=row.message,
                topic=row.topic,
                extra=row.extra,
                is_error=row.is_error,
            )
            for row in rows
        ],
        batch_size=500,
    )
