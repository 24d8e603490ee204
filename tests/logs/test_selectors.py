"""The tail's queries with every filter (run on SQLite and on PostgreSQL), and the poll cursor."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.logs import records, selectors
from dashboard.logs.selectors import LogFilter
from tests.logs.conftest import add_lines

pytestmark = pytest.mark.django_db


def messages(lines) -> list[str]:
    return [line.message for line in lines]


def opening(query: dict, *, limit: int = 200):
    log_filter = LogFilter.from_query(query)
    assert log_filter.errors == []
    return selectors.opening_lines(log_filter, now=timezone.now(), window_minutes=15, limit=limit)


@pytest.fixture
def mixed_lines():
    add_lines("GET /health 200", "Received APP/UNINSTALLED for a.myshopify.com", app="timedify", region="fra")
    add_lines("customers/redact queued", instance="0e286551c30586", app="timedify", region="iad")
    add_lines("webhook error: target answered 502", app="timedify", region="fra", level=records.ERROR)
    add_lines("proxy: could not find a good candidate", app="timedify-ops", region="ams", level=records.WARNING)
    add_lines("Prisma Client error P2002", app="timedify", region="fra")
    add_lines("rate limited: 429 Too Many Requests", app="timedify", region="fra")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, 7),
        ({"app": "timedify-ops"}, ["proxy: could not find a good candidate"]),
        ({"instance": "0e28"}, ["customers/redact queued"]),
        ({"region": "IAD"}, ["customers/redact queued"]),
        (
            {"level": "warning"},
            [
                "webhook error: target answered 502",
                "proxy: could not find a good candidate",
                "Prisma Client error P2002",
            ],
        ),
        ({"level": "error"}, ["webhook error: target answered 502", "Prisma Client error P2002"]),
        ({"text": "MYSHOPIFY"}, ["Received APP/UNINSTALLED for a.myshopify.com"]),
        ({"regex": r"answered 5\d\d$"}, ["webhook error: target answered 502"]),
        ({"regex": "^get "}, ["GET /health 200"]),
        (
            {"preset": "topics"},
            ["Received APP/UNINSTALLED for a.myshopify.com", "customers/redact queued"],
        ),
        (
            {"preset": "errors", "region": "fra"},
            [
                "webhook error: target answered 502",
                "Prisma Client error P2002",
                "rate limited: 429 Too Many Requests",
            ],
        ),
        ({"preset": "errors", "regex": "429"}, ["rate limited: 429 Too Many Requests"]),
        (
            {"app": "timedify", "region": "fra", "level": "error", "text": "webhook"},
            ["webhook error: target answered 502"],
        ),
    ],
)
def test_the_opening_view_applies_every_filter(mixed_lines, query, expected):
    found = messages(opening(query).lines)
    if isinstance(expected, int):
        assert len(found) == expected
    else:
        assert found == expected


def test_the_errors_preset_is_the_one_error_line_matcher_not_a_regex():
    assert selectors.PRESETS["errors"].errors and selectors.PRESETS["errors"].pattern == ""
    assert selectors.PRESETS["topics"].pattern == "(APP/|CUSTOMERS/|SHOP/)"


def test_the_errors_preset_leaves_out_numbers_that_are_not_statuses():
    add_lines(
        "GET /health 200 15ms",
        "listening on port 5432",
        "version 5.2.19",
        "shop 5 orders",
        '"POST /webhooks/orders/create HTTP/1.1" 200 512 0.004s',
        "took 503ms",
        "fly scale memory 512",
        "GET /products/512 200",
    )
    add_lines("Admin API responded 429 Too Many Requests", "upstream 5xx rate above 1 %", "status=502 path=/webhooks")
    found = opening({"preset": "errors"}).lines
    assert messages(found) == [
        "Admin API responded 429 Too Many Requests",
        "upstream 5xx rate above 1 %",
        "status=502 path=/webhooks",
    ]
    assert all(line.is_error for line in found)


def test_the_poll_with_the_errors_preset_returns_only_error_lines():
    cursor = selectors.latest_id()
    add_lines("GET /health 200 15ms", "HTTP 503 from the app", "took 503ms", "PrismaClientKnownRequestError: ")
    result = selectors.poll(LogFilter.from_query({"preset": "errors"}), cursor)
    assert messages(result.lines) == ["HTTP 503 from the app", "PrismaClientKnownRequestError: "]


def test_the_opening_view_shows_the_newest_lines_oldest_first_within_the_window():
    now = timezone.now()
    add_lines("too old", when=now - timedelta(minutes=20))
    add_lines("a", "b", "c", when=now - timedelta(minutes=1))
    result = opening({}, limit=2)
    assert messages(result.lines) == ["b", "c"]
    assert result.more is True
    assert result.cursor == max(line.id for line in result.lines)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"regex": "(unclosed"}, "is not valid: missing ), unterminated subpattern"),
        ({"regex": "*"}, "is not valid: nothing to repeat"),
        ({"level": "loud"}, "Unknown level 'loud'"),
        ({"preset": "nope"}, "Unknown preset 'nope'"),
        ({"regex": "a" * 501}, "longer than 500"),
    ],
)
def test_invalid_filters_are_explained(query, problem):
    log_filter = LogFilter.from_query(query)
    assert len(log_filter.errors) == 1 and problem in log_filter.errors[0]


def test_a_regex_python_accepts_but_the_database_refuses_is_explained(db, django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite evaluates regular expressions with Python's re")
    add_lines("x")
    log_filter = LogFilter.from_query({"regex": "(?P<name>x)"})
    assert log_filter.errors == []
    with pytest.raises(selectors.QueryFailed, match="could not use this regular expression"):
        selectors.opening_lines(log_filter, now=timezone.now(), window_minutes=15, limit=10)


def test_a_poll_returns_only_newer_matching_lines_and_moves_the_cursor_on():
    first = add_lines("one", "two")
    cursor = first[-1].id
    assert selectors.poll(LogFilter(), cursor).lines == []
    newer = add_lines("three", "webhook error four", "five")
    result = selectors.poll(LogFilter.from_query({"regex": "error"}), cursor)
    assert messages(result.lines) == ["webhook error four"]
    assert result.cursor == newer[-1].id, "lines that did not match are done with too"
    assert selectors.poll(LogFilter(), result.cursor).lines == []


def test_a_poll_hands_out_at_most_its_limit_and_continues_from_there():
    lines = add_lines(*[f"line {n}" for n in range(7)])
    start = lines[0].id - 1
    first = selectors.poll(LogFilter(), start, limit=3)
    second = selectors.poll(LogFilter(), first.cursor, limit=3)
    third = selectors.poll(LogFilter(), second.cursor, limit=3)
    assert messages(first.lines + second.lines + third.lines) == [f"line {n}" for n in range(7)]
    assert third.cursor == lines[-1].id


def test_a_tail_far_behind_jumps_ahead_and_says_how_much_it_skipped():
    lines = add_lines(*[f"line {n}" for n in range(10)])
    result = selectors.poll(LogFilter(), lines[0].id - 1, scan_ids=4)
    assert messages(result.lines) == ["line 6", "line 7", "line 8", "line 9"]
    assert result.skipped == 6


def test_the_cursor_never_goes_backwards():
    add_lines("only")
    assert selectors.poll(LogFilter(), 10**12).cursor == 10**12
