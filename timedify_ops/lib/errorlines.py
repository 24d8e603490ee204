"""The one definition of an error line, Django-free.

The go-live checklist's check is `fly logs | grep -Ei "(webhook error|prisma.*error|429|5..)"`. Its
bare `429|5..` matches any "5" and two characters — `GET /health 200 15ms`, `version 5.2.19`, a
512-byte body, `took 503ms` — so this module keeps its intent and drops the accidents. A line is an
error line when any of these holds:

1. **Its level is error or worse** (40+ on the logging scale; the caller passes the stored level,
   which ingest already raised to what the message announces about itself).
2. **It carries a known signature**: `webhook error` (also `webhook_error`, `webhookError`), and
   Prisma's errors — `prisma … error` on one line (`PrismaClientKnownRequestError`, `prisma:error`;
   never a `prisma:query` SQL log line) or a Prisma error code (`Error: P1001`, `code: 'P2002'`).
3. **It reports an HTTP status 429 or 5xx where a status is written**:
   - the status field of a structured record (`status`, `status_code`, `statusCode`,
     `http.response.status_code` … in the record's own fields),
   - a status key in the text: `status=502`, `"status":503`, `status: 500`, `statusCode=504`,
     `status code 502` (axios' "Request failed with status code 502"),
   - after the protocol: `HTTP 503`, `HTTP/1.1 503 Service Unavailable`, `HTTP status 429`,
   - the status position of an access-log line: `"GET / HTTP/1.1" 503 …` (gunicorn, nginx, Django,
     uvicorn) or `POST /webhooks 500 - - 12.3 ms` (morgan, as remix-serve logs),
   - a status with its own reason phrase: `429 Too Many Requests`, `503 Service Unavailable`,
     `Bad Gateway (502)`, and requests' `503 Server Error`,
   - the class itself: `5xx`.

   Never a byte count, a port, a duration, a version or an id: a number is only read where one of
   the forms above puts a status.

Only the first MAX_SCAN_CHARS characters of a message are read (a status or a signature sits at the
start of a line; a 32 KB stack dump must not cost 32 KB of regex per line at ingest).

`classify` says why a line is an error line (for a reader: "status 503", "prisma error"), or None.
Its consumers: ingest stores the answer as LogEntry.is_error; the logs page's "Errors" preset, the
alert rule, `alerting_check --any` and `logs_watch --errors` all read that flag (or call this
module for lines that are not stored, as `logs_watch --source fly`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus

ERROR_LEVEL = 40  # logging.ERROR; the log store's levels are on the same scale
MAX_SCAN_CHARS = 4096

ERROR_STATUSES = frozenset([429, *range(500, 600)])


def is_error_status(status: int) -> bool:
    return status in ERROR_STATUSES


# --------------------------------------------------------------------------- signatures

_WEBHOOK_ERROR = re.compile(r"\bwebhook[ _-]?error\b", re.IGNORECASE)
_PRISMA_ERROR = re.compile(r"prisma.*error", re.IGNORECASE)
# Prisma's query log (`prisma:query SELECT … "ErrorLog" …`) is SQL text, not an error.
_PRISMA_QUERY_LOG = re.compile(r"\s*prisma:query\b", re.IGNORECASE)
# Prisma's codes: P1xxx connection and engine, P2xxx queries, P3xxx/P4xxx migrate and introspection,
# P5xxx/P6xxx Accelerate and Data Proxy. Written after "Error:" or as the error's `code`.
_PRISMA_CODE = re.compile(r"""(?:error|code)["']?\s*[:=]\s*["']?P[1-6]\d{3}\b""", re.IGNORECASE)


def signature(message: str) -> str | None:
    """The known error signature this text carries ("webhook error" or "prisma error"), else None."""
    head = message[:MAX_SCAN_CHARS]
    return _signature(head, head.lower())


def _signature(head: str, lowered: str) -> str | None:
    if "error" not in lowered and "code" not in lowered:
        return None
    if "webhook" in lowered and _WEBHOOK_ERROR.search(head):
        return "webhook error"
    if "prisma" in lowered and "error" in lowered and not _PRISMA_QUERY_LOG.match(head) and _PRISMA_ERROR.search(head):
        return "prisma error"
    if _PRISMA_CODE.search(head):
        return "prisma error"
    return None


# --------------------------------------------------------------------------- statuses in text

_STATUS = r"(\d{3})(?![\w.])"  # three digits, not the start of a longer number or a decimal

# status=502, "status":503, status: 500, statusCode=504, http.response.status_code=503,
# upstream_status=502, status 503, status code 502.
_KEYED = re.compile(r"""status(?:[ ._-]?code)?["']?(?:\s*[=:]\s*["']?|\s+)""" + _STATUS, re.IGNORECASE)
# HTTP 503, HTTP/1.1 503 Service Unavailable, HTTP status 429, HTTP error 500, HTTP: 502.
_AFTER_HTTP = re.compile(r"\bHTTP(?:/\d(?:\.\d)?)?(?:\s+(?:status|error|code))?(?:\s*:\s*|\s+)" + _STATUS)
# Access logs. Combined/common format, the status right after the quoted request line:
#   10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] "GET /health HTTP/1.1" 503 0 "-" "curl/8.5.0"
_ACCESS_QUOTED = re.compile(r'"[A-Z]{3,7} [^"]*HTTP/\d(?:\.\d)?" ' + _STATUS)
# morgan's formats (remix-serve, Express) and the like: method, target, status.
#   GET /app?shop=x.myshopify.com 500 - - 12.345 ms
_ACCESS_PLAIN = re.compile(r"(?:^|[\s\]|])(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?:/|https?://)\S* " + _STATUS)
_CLASS_5XX = re.compile(r"\b5xx\b", re.IGNORECASE)

_PHRASES = {status.phrase.lower(): status.value for status in HTTPStatus if is_error_status(status.value)}
_PHRASES["gateway time-out"] = 504  # nginx's spelling
_PHRASE_WORDS = "|".join(re.escape(phrase) for phrase in sorted(_PHRASES, key=len, reverse=True))
# 429 Too Many Requests, 503 - Service Unavailable, requests' "503 Server Error: Service Unavailable".
_BEFORE_PHRASE = re.compile(
    r"(?<![\w.])(\d{3})(?:\s*[-:]\s*|\s+)(" + _PHRASE_WORDS + r"|server error)\b", re.IGNORECASE
)
# Bad Gateway (502), Service Unavailable: 503
_AFTER_PHRASE = re.compile(r"\b(" + _PHRASE_WORDS + r")\s*(?:\(\s*|:\s*)" + _STATUS, re.IGNORECASE)


def _phrase_fits(status: int, phrase: str) -> bool:
    phrase = phrase.lower()
    return phrase == "server error" and 500 <= status <= 599 or _PHRASES.get(phrase) == status


# Every status form holds a 429 or a 5xx as a number of its own; most lines hold none, and this
# one search (about a microsecond) lets them skip the rest.
_CANDIDATE = re.compile(r"(?<!\d)(?:429|5\d\d)(?![\d])")
_METHODS = ("GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ")
_PHRASE_GATE = ("many", "server", "implemented", "gateway", "unavailable", "version", "variant", "insufficient",
                "loop", "extended", "authentication")  # fmt: skip


def _text_status(head: str, lowered: str) -> str | None:
    """The first 429/5xx written where a status is written, as text ("503", or "5xx" for the class).

    Each form is tried only when the text holds what the form needs (a literal it starts with),
    so the usual line costs one regex search.
    """
    if _CANDIDATE.search(head) is None:
        return "5xx" if ("5xx" in head or "5XX" in head) and _CLASS_5XX.search(head) else None
    if '"' in head and "HTTP/" in head:
        match = _ACCESS_QUOTED.search(head)
        if match and is_error_status(int(match.group(1))):
            return match.group(1)
    if any(method in head for method in _METHODS):
        match = _ACCESS_PLAIN.search(head)
        if match and is_error_status(int(match.group(1))):
            return match.group(1)
    gated = ((_KEYED, "status" in lowered), (_AFTER_HTTP, "HTTP" in head))
    for pattern, worth_trying in gated:
        if worth_trying:
            for match in pattern.finditer(head):
                if is_error_status(int(match.group(1))):
                    return match.group(1)
    if any(word in lowered for word in _PHRASE_GATE):
        for match in _BEFORE_PHRASE.finditer(head):
            if _phrase_fits(int(match.group(1)), match.group(2)):
                return match.group(1)
        for match in _AFTER_PHRASE.finditer(head):
            if _phrase_fits(int(match.group(2)), match.group(1)):
                return match.group(2)
    if "5xx" in lowered and _CLASS_5XX.search(head):
        return "5xx"
    return None


def status_in_text(message: str) -> int | None:
    """The first HTTP status 429/5xx the text writes where a status is written, else None
    (`5xx` on its own answers 500: the class, not a particular status)."""
    head = message[:MAX_SCAN_CHARS]
    found = _text_status(head, head.lower())
    return None if found is None else 500 if found == "5xx" else int(found)


# --------------------------------------------------------------------------- statuses in fields


def _status_value(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 100 <= value <= 599 else None
    if isinstance(value, str) and len(value.strip()) == 3 and value.strip().isdigit():
        return int(value.strip())
    return None


def _is_status_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return lowered.endswith(("status", "status_code", "statuscode"))


def status_in_fields(fields: Mapping | None, depth: int = 0) -> int | None:
    """The HTTP status 429/5xx in a structured record's own fields (`status`, `status_code`,
    `statusCode`, `http.response.status_code`, `res.statusCode` …; nested up to three levels)."""
    if not fields or depth > 3:
        return None
    for key, value in fields.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, Mapping):
            found = status_in_fields(value, depth + 1)
            if found is not None:
                return found
        elif _is_status_key(key):
            status = _status_value(value)
            if status is not None and is_error_status(status):
                return status
    return None


# --------------------------------------------------------------------------- the verdict


def classify(message: str, *, level: int | None = None, fields: Mapping | None = None) -> str | None:
    """Why this line is an error line, in a few words ("level error", "webhook error", "prisma
    error", "status 503", "status 5xx"), or None when it is not one."""
    if level is not None and level >= ERROR_LEVEL:
        return "level error" if level < 50 else "level critical"
    head = message[:MAX_SCAN_CHARS]
    lowered = head.lower()
    found = _signature(head, lowered)
    if found:
        return found
    status = status_in_fields(fields)
    if status is not None:
        return f"status {status}"
    text_status = _text_status(head, lowered)
    if text_status is not None:
        return f"status {text_status}"
    return None


def is_error(message: str, *, level: int | None = None, fields: Mapping | None = None) -> bool:
    return classify(message, level=level, fields=fields) is not None
