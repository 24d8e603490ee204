"""The state machine and the uptime arithmetic, without a database."""

import pytest

from dashboard.health.rules import (
    DEGRADED,
    DOWN,
    UNKNOWN,
    UP,
    Machine,
    format_duration,
    format_uptime,
    step,
    uptime_millipercent,
)


def run(states: str, *, down_after: int = 2, up_after: int = 1, start: Machine | None = None) -> list[str]:
    names = {"o": "ok", "w": "warn", "f": "fail"}
    machine = start or Machine()
    seen = []
    for char in states:
        machine = step(machine, names[char], down_after=down_after, up_after=up_after)
        seen.append(machine.status)
    return seen


def test_a_first_passing_check_makes_a_probe_up_and_a_warning_degraded():
    assert run("o") == [UP]
    assert run("w") == [DEGRADED]


def test_one_failure_is_not_enough_to_go_down_with_the_default_of_two():
    assert run("ofo") == [UP, UP, UP]


def test_two_failures_in_a_row_make_it_down_and_one_pass_brings_it_back():
    assert run("offo") == [UP, UP, DOWN, UP]


def test_an_unchecked_probe_stays_unknown_until_it_is_down():
    assert run("ff") == [UNKNOWN, DOWN]


def test_the_thresholds_are_configurable():
    assert run("offfooo", down_after=3, up_after=3) == [UP, UP, UP, DOWN, DOWN, DOWN, UP]


def test_a_failure_in_the_recovery_streak_starts_it_again():
    assert run("ffofoo", up_after=2) == [UNKNOWN, DOWN, DOWN, DOWN, DOWN, UP]


def test_a_warning_counts_as_passing_for_recovery_and_lands_on_degraded():
    assert run("ffw") == [UNKNOWN, DOWN, DEGRADED]
    assert run("owo") == [UP, DEGRADED, UP]


def test_the_streaks_are_counted():
    machine = Machine()
    for state in ("fail", "fail", "fail"):
        machine = step(machine, state, down_after=2, up_after=1)
    assert (machine.failures, machine.successes) == (3, 0)
    machine = step(machine, "ok", down_after=2, up_after=1)
    assert (machine.status, machine.failures, machine.successes) == (UP, 0, 1)


@pytest.mark.parametrize(
    ("total", "failed", "text"),
    [
        (1440, 0, "100.000"),
        (1440, 3, "99.791"),  # 1437/1440 = 99.7916…: floored, not rounded up to 99.792
        (43200, 1, "99.997"),  # 99.99768…
        (1_000_000, 1, "99.999"),  # never 100.000 while anything failed
        (3, 1, "66.666"),
        (7, 7, "0.000"),
        (0, 0, "—"),
    ],
)
def test_uptime_is_the_share_of_passing_checks_floored_to_three_decimals(total, failed, text):
    assert format_uptime(uptime_millipercent(total, failed)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3660, "1 h 01 min"), (90000, "1 d 1 h")],
)
def test_durations_read_naturally(seconds, text):
    assert format_duration(seconds) == text
