"""The token key against the stored tokens: at start-up (the release command's migrate) and by the
`tokens` probe at once, not at the next hourly token check."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from dashboard.health import probes
from shops import crypto
from shops.models import Shop
from shops.services import token_key_check
from tests.live import ROOT, subprocess_env
from tests.shops.conftest import TEST_KEY

OTHER_KEY = Fernet.generate_key().decode()


def store_shops(count: int = 2) -> None:
    for n in range(count):
        Shop.objects.create(
            domain=f"key-{n}.myshopify.com",
            access_token_encrypted=crypto.encrypt(f"shpat_{n}"),
            refresh_token_encrypted=crypto.encrypt(f"shprt_{n}") if n == 0 else "",
            last_check_ok=True,
        )


def tokens_probe() -> probes.Outcome:
    return probes.run_probe(next(probe for probe in probes.registry() if probe.name == "tokens"))


@pytest.mark.django_db
def test_with_the_right_key_every_stored_token_reads_and_the_probe_is_ok():
    store_shops()
    assert token_key_check().unreadable == []
    assert tokens_probe().state == "ok"


@pytest.mark.django_db
def test_with_another_key_the_tokens_probe_fails_at_once(settings):
    store_shops()
    settings.TOKEN_ENCRYPTION_KEY = OTHER_KEY
    outcome = tokens_probe()
    assert outcome.state == "fail"
    assert outcome.detail.startswith("2 of 2 stored token(s) cannot be decrypted with TOKEN_ENCRYPTION_KEY")
    assert "key-0.myshopify.com" in outcome.detail


@pytest.mark.django_db
def test_during_a_rotation_the_previous_key_still_reads(settings):
    store_shops()
    settings.TOKEN_ENCRYPTION_KEY, settings.TOKEN_ENCRYPTION_KEY_PREVIOUS = OTHER_KEY, TEST_KEY
    assert tokens_probe().state == "ok"


@pytest.mark.django_db
def test_without_a_key_stored_tokens_fail_the_probe(settings):
    store_shops(1)
    settings.TOKEN_ENCRYPTION_KEY = ""
    outcome = tokens_probe()
    assert outcome.state == "fail"
    assert outcome.detail.startswith("TOKEN_ENCRYPTION_KEY is not set, but 1 shop(s) have stored tokens")


@pytest.mark.django_db
def test_the_database_system_check_names_the_problem(settings):
    store_shops()
    call_command("check", "--database", "default")  # the right key: no error
    settings.TOKEN_ENCRYPTION_KEY = OTHER_KEY
    with pytest.raises(SystemCheckError, match=r"shops\.E003.*cannot be decrypted"):
        call_command("check", "--database", "default")


@pytest.mark.django_db(transaction=True)
def test_the_release_command_stops_on_a_wrong_key():
    store_shops()
    for key, code in ((OTHER_KEY, 1), (TEST_KEY, 0)):
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=subprocess_env(TOKEN_ENCRYPTION_KEY=key),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (migrate.returncode != 0) == bool(code), migrate.stderr
        assert ("shops.E003" in migrate.stderr) == bool(code)
