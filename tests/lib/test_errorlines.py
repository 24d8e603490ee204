"""The one error-line matcher against a corpus of lines as the app, its proxies and its libraries
write them: Remix and morgan (remix-serve), Prisma's multi-line errors, the Shopify libraries,
gunicorn / nginx / Django / uvicorn access logs, axios and requests, and timedify-ops' own events."""

from __future__ import annotations

import pytest

from timedify_ops.lib import errorlines

# (line, why it is an error line). Levels are those the store would hold without the message's own
# announcement (Fly reports stdout as info), so what matches here matches on the text alone.
ERROR_LINES = [
    # The team's signatures.
    ("Webhook error: orders/create failed for shop demo.myshopify.com", "webhook error"),
    ("webhook_error topic=app/uninstalled reason=timeout", "webhook error"),
    ("handleWebhookError: webhookError while processing customers/redact", "webhook error"),
    # Prisma's errors, one log line each (Fly ships every line of a multi-line error on its own).
    ("PrismaClientKnownRequestError: ", "prisma error"),
    ("⨯ PrismaClientInitializationError: ", "prisma error"),
    ("prisma:error ", "prisma error"),
    ("  code: 'P2002',", "prisma error"),
    ('{"errorType":"Error","code":"P2002","clientVersion":"5.22.0","meta":{"target":["id"]}}', "prisma error"),
    ("Error: P1001: Can't reach database server at `timedify-app-db.flycast`:`5432`", "prisma error"),
    ("Error: P3009", "prisma error"),
    ("Error: P3018", "prisma error"),
    ("Invalid `prisma.session.findUnique()` invocation: error occurred in the engine", "prisma error"),
    # Statuses in the text, where a status is written.
    ("Admin API responded 429 Too Many Requests", "status 429"),
    ("[shopify-api/ERROR] Received an error response (500 Internal Server Error) from Shopify:", "status 500"),
    ("[shopify-api/INFO] Received 429 Too Many Requests, retrying in 2 seconds", "status 429"),
    ("Error: Request failed with status code 502", "status 502"),
    ("AxiosError: Request failed with status code 503", "status 503"),
    ("requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: https://x.test/", "status 503"),
    ("Completed 502 Bad Gateway in 31ms", "status 502"),
    ("upstream answered Bad Gateway (502)", "status 502"),
    ("HTTP/1.1 503 Service Unavailable", "status 503"),
    ("upstream prematurely closed: HTTP 503", "status 503"),
    ("HTTP status 429 from the Admin API", "status 429"),
    ("status=502 path=/webhooks", "status 502"),
    ("level=info msg=done status=504 took=30001ms", "status 504"),
    ("  status: 500,", "status 500"),
    ("statusText: 'Internal Server Error', statusCode: 500", "status 500"),
    ('{"msg":"request completed","res":{"statusCode":503},"responseTime":12}', "status 503"),
    ('{"level":"info","http.response.status_code":502,"url.path":"/webhooks"}', "status 502"),
    ("upstream_status=502 request_time=0.004", "status 502"),
    ("5xx rate above 1 % for 5 minutes", "status 5xx"),
    ("alert: app answered 5XX to 3 deliveries", "status 5xx"),
    # Access logs: gunicorn (this project's format), nginx, Django's runserver, uvicorn, morgan.
    ('172.16.5.2 "POST /webhooks/shopify HTTP/1.1" 503 47 0.012345s "Shopify-Captain-Hook"', "status 503"),
    ('10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] "GET /app HTTP/1.1" 502 157 "-" "Mozilla/5.0"', "status 502"),
    ('"POST /webhooks HTTP/1.1" 500 145', "status 500"),
    ('INFO:     127.0.0.1:52514 - "GET / HTTP/1.1" 503 Service Unavailable', "status 503"),
    ("POST /webhooks/app/uninstalled 500 - - 23.456 ms", "status 500"),
    ("GET /app/products?shop=demo.myshopify.com 504 5012.345 ms - 21", "status 504"),
    ("remix │ POST /api/graphql 429 - - 3.1 ms", "status 429"),
    # timedify-ops' own events.
    ("delivery attempt 2 failed: topic=orders/create shop=demo.myshopify.com webhook_id=abc HTTP 503", "status 503"),
    ("webhook dead-lettered: topic=app/uninstalled shop=x webhook_id=y reason=HTTP 500 after 5 attempts", "status 500"),
]

NOT_ERROR_LINES = [
    # The counter-examples the checklist's bare `429|5..` flags.
    "GET /health 200 15ms",
    "listening on port 5432",
    "version 5.2.19",
    "shop 5 orders",
    '"POST /webhooks/orders/create HTTP/1.1" 200 512 0.004s',
    "took 503ms",
    "fly scale memory 512",
    "GET /products/512 200",
    # More of the same kind: ids, durations, byte counts, versions, ports in ordinary lines.
    "GET /orders/429 200 12ms",
    "POST /webhooks/orders/create 200 - - 4.512 ms",
    '172.16.5.2 "GET /status/503 HTTP/1.1" 200 5120 0.503000s "curl/8.5.0"',
    '10.0.0.1 - - [26/Nov/2026:10:00:00 +0000] "GET /products/500 HTTP/1.1" 304 0 "-" "Mozilla/5.0"',
    "Listening on 0.0.0.0:8080",
    "[remix-serve] http://localhost:3000 (http://172.19.2.10:3000)",
    "Booting worker with pid: 503",
    "Starting gunicorn 23.0.0",
    "Listening at: http://0.0.0.0:8000 (503)",
    "duration=503ms bytes_sent=5120",
    "retrying in 500ms (attempt 2 of 5)",
    "Content-Length: 512",
    "order #5031 created for shop 5",
    "id=503 name=Summer sale",
    "status=200 duration=503ms",
    "HTTP 200 OK in 502ms",
    "node v20.11.1, Prisma 5.22.0",
    "Machine 148e453f2d4e89 memory 512 MB, cpu 1",
    "2026-05-29T10:05:00Z scheduled 5 jobs",
    # Prisma and Remix output that is not an error.
    "prisma:info Starting a postgresql pool with 3 connections.",
    'prisma:query SELECT "public"."ErrorLog"."id" FROM "public"."ErrorLog" WHERE 1=1 OFFSET $1',
    "Prisma schema loaded from prisma/schema.prisma",
    'Datasource "db": PostgreSQL database "app", schema "public" at "app-db.flycast:5432"',
    "No pending migrations to apply.",
    "Applying migration `20240101000000_init`",
    "[shopify-app/INFO] Authenticating admin request",
    # Counters that mention errors without being one.
    "webhook errors: 0",
    "webhook_errors_total 0",
    "Healthcheck: 0 errors in the last 5 minutes",
]


@pytest.mark.parametrize(("line", "reason"), ERROR_LINES)
def test_it_flags_an_error_line_and_says_why(line, reason):
    assert errorlines.classify(line, level=20) == reason
    assert errorlines.is_error(line, level=20)


@pytest.mark.parametrize("line", NOT_ERROR_LINES)
def test_it_leaves_an_ordinary_line_alone(line):
    assert errorlines.classify(line, level=20) is None
    assert not errorlines.is_error(line)


def test_a_level_of_error_or_worse_makes_any_line_an_error_line():
    assert errorlines.classify("ordinary text", level=40) == "level error"
    assert errorlines.classify("ordinary text", level=50) == "level critical"
    assert errorlines.classify("ordinary text", level=30) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"status": 503},
        {"status_code": "502"},
        {"http": {"response": {"status_code": 504}}},
        {"res": {"statusCode": 429}},
        {"request": {"upstream": {"status": 500}}},
    ],
)
def test_it_reads_the_status_field_of_a_structured_record(fields):
    assert errorlines.status_in_fields(fields) in errorlines.ERROR_STATUSES
    assert errorlines.classify("request finished", level=20, fields=fields).startswith("status ")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": 200},
        {"status": "ok"},
        {"exit_status": 1},
        {"bytes": 503, "port": 5432, "duration_ms": 512},  # numbers, but not in a status field
        {"status": True},
        {"a": {"b": {"c": {"d": {"status": 503}}}}},  # deeper than a record nests its status
    ],
)
def test_it_ignores_fields_that_are_not_an_error_status(fields):
    assert errorlines.classify("request finished", level=20, fields=fields) is None


def test_a_signature_or_a_status_past_the_scanned_head_of_a_huge_line_is_not_read():
    padding = "x" * errorlines.MAX_SCAN_CHARS
    assert errorlines.is_error("webhook error " + padding)
    assert not errorlines.is_error(padding + " webhook error")
    assert not errorlines.is_error(padding + " HTTP 503")


def test_status_in_text_answers_the_status_and_500_for_the_class():
    assert errorlines.status_in_text("HTTP 503") == 503
    assert errorlines.status_in_text("5xx from the app") == 500
    assert errorlines.status_in_text("GET /health 200 15ms") is None


def test_a_line_without_a_4_or_a_5_is_never_a_status_line():
    # The cheap gate in front of the patterns must not change the verdict.
    assert errorlines.status_in_text("HTTP 303 See Other") is None
    assert errorlines.status_in_text("status=201") is None
