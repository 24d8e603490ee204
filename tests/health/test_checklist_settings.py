"""HEARTBEATS, HEARTBEAT_TOKEN and APP_DATABASE_URL: a malformed value stops start-up, naming it;
the app's migrations probe is there only with APP_DATABASE_URL."""

import pytest

from dashboard.health import probes
from tests.lib.test_prisma_migrations import FAILED, HEALTHY, sqlite_app_database
from tests.test_settings import PRODUCTION, check

TOKEN = "heartbeat-token-0123456789abcdef"


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        # Malformed as read (timedify_ops/settings.py): start-up stops at once.
        ({"HEARTBEATS": "nightly-backup"}, 2, "HEARTBEATS: 'nightly-backup' is not name=PERIOD[+GRACE]"),
        ({"HEARTBEAT_TOKEN": "short"}, 2, "HEARTBEAT_TOKEN is too short"),
        # Well formed but refused by the health room (a settings check: check, migrate, the web process).
        ({"HEARTBEATS": "nightly-backup=24h+2h"}, 1, "HEARTBEAT_TOKEN is not set, but HEARTBEATS is"),
        ({"HEARTBEATS": "tokens=1h", "HEARTBEAT_TOKEN": TOKEN}, 1, "'tokens' is already the name of a probe"),
        ({"APP_DATABASE_URL": "mysql://app@db/app"}, 1, "APP_DATABASE_URL must be a PostgreSQL URL"),
    ],
)
def test_a_setting_that_cannot_work_stops_start_up_naming_it(env, code, message):
    result = check({**PRODUCTION, **env})
    assert result.returncode == code
    assert message in result.stderr


def test_heartbeats_and_the_app_database_are_read():
    env = {
        **PRODUCTION,
        "HEARTBEATS": "nightly-backup=24h+2h,shopify-sync=15m",
        "HEARTBEAT_TOKEN": TOKEN,
        "APP_DATABASE_URL": "postgresql://readonly:pw@app-db.flycast:5432/app?schema=public",
    }
    assert check(env).returncode == 0


def names() -> list[str]:
    return [probe.name for probe in probes.registry()]


def test_the_app_migrations_probe_runs_only_with_app_database_url(settings, tmp_path):
    settings.APP_DATABASE_URL = ""
    assert "app-migrations" not in names()
    settings.APP_DATABASE_URL = sqlite_app_database(tmp_path, HEALTHY)
    probe = next(probe for probe in probes.registry() if probe.name == "app-migrations")
    outcome = probes.run_probe(probe)
    assert outcome.state == "ok" and outcome.detail.startswith("2 applied, latest 20240301000000_add_sessions")


def test_the_app_migrations_probe_fails_on_a_failed_migration(settings, tmp_path):
    settings.APP_DATABASE_URL = sqlite_app_database(tmp_path, FAILED)
    probe = next(probe for probe in probes.registry() if probe.name == "app-migrations")
    outcome = probes.run_probe(probe)
    assert outcome.state == "fail"
    assert "20241120000000_add_index failed" in outcome.detail
