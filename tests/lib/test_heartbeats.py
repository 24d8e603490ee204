import re
from datetime import UTC, datetime, timedelta

import pytest

from timedify_ops.lib import heartbeats
from timedify_ops.lib.heartbeats import Beat, Expectation, parse, state

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NIGHTLY = Expectation("nightly-backup", period=timedelta(hours=24), grace=timedelta(hours=2))


def test_it_reads_heartbeats_with_their_period_and_grace():
    found = parse("nightly-backup=24h+2h, shopify-sync=15m+5m,reports=7d")
    assert found["nightly-backup"] == NIGHTLY
    assert found["shopify-sync"].grace == timedelta(minutes=5)
    assert found["reports"].grace == timedelta(days=7) / 10  # no grace given: 10 % of the period
    assert found["nightly-backup"].cadence == "every 1 d, grace 2 h"
    assert parse("") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nightly-backup", "is not name=PERIOD[+GRACE]"),
        ("bad name=1h", "heartbeat names are letters"),
        ("a=1h,a=2h", "listed twice"),
        ("a=soon", "is not a duration"),
        ("a=30s", "at least a minute"),
        ("a=1h+later", "is not a duration"),
    ],
)
def test_it_refuses_a_heartbeat_it_cannot_read(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse(text)


def at(**ago) -> datetime:
    return NOW - timedelta(**ago)


@pytest.mark.parametrize(
    ("beat", "status", "detail"),
    [
        (Beat(first_seen_at=at(hours=1)), "new", "waiting for its first report, due within 25 h"),
        (Beat(first_seen_at=at(hours=27)), "down", "never reported (expected every 1 d, grace 2 h)"),
        (
            Beat(first_seen_at=at(days=9), last_ping_at=at(hours=3), last_kind="success"),
            "up",
            "last success 3 h ago, next due in 21 h",
        ),
        (
            Beat(first_seen_at=at(days=9), last_ping_at=at(hours=25), last_kind="success"),
            "late",
            "late: last success 25 h ago, down in 60 min",
        ),
        (
            Beat(first_seen_at=at(days=9), last_ping_at=at(hours=26), last_kind="success"),
            "down",
            "missed: last success 26 h ago, expected every 1 d, grace 2 h",
        ),
        (
            Beat(first_seen_at=at(days=9), last_ping_at=at(minutes=5), last_kind="fail"),
            "down",
            "reported a failure 5 min ago",
        ),
        (
            Beat(
                first_seen_at=at(days=9), last_ping_at=at(hours=30), last_kind="success", last_start_at=at(minutes=10)
            ),
            "started",
            "running, started 10 min ago",
        ),
        (
            Beat(first_seen_at=at(days=9), last_ping_at=at(hours=30), last_kind="fail", last_start_at=at(hours=3)),
            "down",
            "started 3 h ago and never reported its end",
        ),
    ],
)
def test_a_heartbeat_stands_where_its_reports_put_it(beat, status, detail):
    found = state(NIGHTLY, beat, NOW)
    assert (found.status, found.detail) == (status, detail)


def test_it_says_when_a_heartbeat_went_down():
    missed = state(NIGHTLY, Beat(first_seen_at=at(days=9), last_ping_at=at(hours=30), last_kind="success"), NOW)
    assert missed.since == at(hours=30) + timedelta(hours=26)


def test_durations_read_as_people_write_them():
    assert heartbeats.format_duration(timedelta(minutes=90)) == "90 min"
    assert heartbeats.format_duration(timedelta(hours=36)) == "36 h"
    assert heartbeats.format_duration(timedelta(seconds=45)) == "45 s"
    assert heartbeats.span(NOW, NOW - timedelta(hours=1)) == "0 s"
