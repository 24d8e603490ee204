"""Start-up configuration of the shops room (a bad Fernet key: tests/test_settings.py, REFUSED_BY_A_ROOM)."""

import pytest
from cryptography.fernet import Fernet

from tests.test_settings import PRODUCTION, check


def test_a_missing_token_key_is_allowed_at_start_up():
    result = check(PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_a_valid_key_and_a_previous_one_start():
    keys = {
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TOKEN_ENCRYPTION_KEY_PREVIOUS": Fernet.generate_key().decode(),
    }
    result = check({**PRODUCTION, **keys})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHOPIFY_ADMIN_BASE_URL": "{shop}/admin"}, "SHOPIFY_ADMIN_BASE_URL must be an absolute http/https URL"),
        ({"SYNTHETIC_INGRESS_URL": "ops.example.com"}, "SYNTHETIC_INGRESS_URL must be an absolute"),
    ],
)
def test_a_malformed_shops_setting_stops_start_up_naming_it(env, message):
    result = check({**PRODUCTION, **env})
    assert result.returncode == 2
    assert f"configuration error: {message}" in result.stderr
