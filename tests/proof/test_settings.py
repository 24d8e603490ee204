"""DELIVERY_LEASE_SECONDS: shorter leases for a faster recovery, never shorter than one retry run."""

import pytest

from tests.test_settings import PRODUCTION, check


def test_a_lease_shorter_than_one_retry_run_stops_start_up_naming_it():
    # The defaults' worst retry run is about 47 s (five 5 s attempts, four waits of up to 5.5 s).
    result = check({**PRODUCTION, "DELIVERY_LEASE_SECONDS": "30"})
    assert result.returncode == 2
    assert "DELIVERY_LEASE_SECONDS must be at least 52" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"DELIVERY_LEASE_SECONDS": "60"},
        # A short budget allows a short lease: 5 × 0.5 s attempts and 10 ms steps need at least 8 s.
        {
            "DELIVERY_LEASE_SECONDS": "8",
            "DELIVERY_TIMEOUT_S": "0.5",
            "DELIVERY_RETRY_BASE_MS": "10",
            "DELIVERY_RETRY_AFTER_CAP_S": "0.05",
        },
    ],
)
def test_a_lease_that_outlasts_the_retry_run_is_accepted(env):
    result = check({**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
