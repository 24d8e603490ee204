from datetime import timedelta

import pytest

from timedify_ops.lib.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("7d", timedelta(days=7)),
        ("30s", timedelta(seconds=30)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        (" 12 ", timedelta(hours=12)),
        ("0", timedelta(0)),
    ],
)
def test_it_reads_a_duration(text, expected):
    assert parse_duration(text) == expected


def test_a_bare_number_takes_the_given_unit():
    assert parse_duration("5", bare_unit="d") == timedelta(days=5)


@pytest.mark.parametrize("text", ["", "h", "-1h", "1y", "one day", "1h30m"])
def test_it_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
