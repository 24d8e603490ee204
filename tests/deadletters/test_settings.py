"""The dead-letter settings stop start-up, naming the variable, when malformed."""

import pytest

from tests.test_settings import PRODUCTION, check


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEADLETTER_REPLAYED_GRACE", "a day", "is not a duration"),
        ("DEADLETTER_BULK_RATE", "0", "must be at least 0.1"),
        ("DEADLETTER_REPLAY_LEASE_SECONDS", "ten", "must be a whole number"),
    ],
)
def test_a_malformed_dead_letter_setting_stops_start_up_naming_it(name, value, message):
    result = check({**PRODUCTION, name: value})
    assert result.returncode == 2
    assert name in result.stderr and message in result.stderr


def test_the_grace_reads_durations():
    assert check({**PRODUCTION, "DEADLETTER_REPLAYED_GRACE": "36h"}).returncode == 0
