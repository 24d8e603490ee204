"""Start-up configuration: a missing or malformed variable stops it, naming the variable; so does a
well-formed one that the room reading it refuses (its settings check), in the release command, the
web process and the worker alike."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "ops.example.com",
    "SHOPIFY_API_SECRET": "shpss_0123456789",
    "WEBHOOK_TARGET_URL": "https://app.example.com/webhooks",
    "APP_HEALTH_URL": "https://app.example.com/health",
    "LOG_INGEST_TOKEN": "l" * 32,
    "METRICS_TOKEN": "m" * 32,
}


def run(env: dict[str, str], command: list[str]) -> subprocess.CompletedProcess:
    """`command` with the product's settings and exactly `env` for them (none of the test run's)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(tuple(PRODUCTION)) and k != "DATABASE_URL"}
    clean.update(
        env, DJANGO_SETTINGS_MODULE="timedify_ops.settings", TIMEDIFY_VAR_DIR=str(ROOT / "var" / "settings-test")
    )
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(env, [sys.executable, "manage.py", "check"])


def test_a_complete_production_environment_starts():
    result = check(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "name",
    [
        "DJANGO_SECRET_KEY",
        "ALLOWED_HOSTS",
        "SHOPIFY_API_SECRET",
        "WEBHOOK_TARGET_URL",
        "LOG_INGEST_TOKEN",
        "METRICS_TOKEN",
    ],
)
def test_a_missing_variable_stops_start_up_naming_it(name):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    result = check(env)
    assert result.returncode == 2
    assert f"configuration error: {name}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_TARGET_URL", "not-a-url", "must be an absolute http/https URL"),
        ("DJANGO_DEBUG", "perhaps", "must be one of"),
        ("WEBHOOK_MAX_BYTES", "5MB", "must be a whole number"),
        ("DJANGO_SECRET_KEY", "short", "too short"),
        ("REDIS_URL", "http://localhost", "must be an absolute redis/rediss/unix URL"),
        ("WEBHOOK_TARGET_OVERRIDES", "shop/redact", "must look like key=value"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(name, value, message):
    result = check({**PRODUCTION, name: value})
    assert result.returncode == 2
    assert name in result.stderr and message in result.stderr


def test_debug_uses_the_generated_development_values(tmp_path):
    result = check({"DJANGO_DEBUG": "1"})
    # Without var/dev.env (written by `scripts/dev.py run`) the secrets are still required …
    if not (ROOT / "var" / "dev.env").exists():
        assert result.returncode == 2
        assert "DJANGO_SECRET_KEY" in result.stderr
    else:
        assert result.returncode == 0, result.stderr


# A well-formed value that makes no sense to the room that reads it: that room's settings check.
REFUSED_BY_A_ROOM = [
    ("SLO_LATENCY_THRESHOLD_MS", "120", "SLO_LATENCY_THRESHOLD_MS must be a histogram bucket edge"),
    ("EXTRA_HTTP_PROBES", "database=https://db.example.com/ping", "'database' is the name of a built-in probe"),
    ("EXTRA_HTTP_PROBES", "bad name=https://x.example.com/", "probe names are letters, digits, - and _"),
    ("TOKEN_ENCRYPTION_KEY", "not-a-fernet-key", "TOKEN_ENCRYPTION_KEY is not a Fernet key"),
    ("TOKEN_ENCRYPTION_KEY_PREVIOUS", "short", "TOKEN_ENCRYPTION_KEY is not set, but TOKEN_ENCRYPTION_KEY_PREVIOUS is"),
    ("ALERT_THRESHOLDS", "open-deadletters=5", "ALERT_THRESHOLDS names an unknown alert rule 'open-deadletters'"),
]


@pytest.mark.parametrize(("name", "value", "message"), REFUSED_BY_A_ROOM)
def test_a_setting_a_room_refuses_stops_the_release_command_naming_it(name, value, message):
    """`manage.py check`; `migrate`, the release command, runs the same checks."""
    result = check({**PRODUCTION, name: value})
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize(("name", "value", "message"), REFUSED_BY_A_ROOM[:1] + REFUSED_BY_A_ROOM[3:4])
def test_the_web_process_refuses_it_too_although_gunicorn_runs_no_system_checks(name, value, message):
    port = str(free_port())
    command = [sys.executable, "-m", "gunicorn", "timedify_ops.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    result = run({**PRODUCTION, name: value}, command)
    assert result.returncode != 0
    assert f"timedify-ops: configuration error: {message}" in result.stderr


@pytest.mark.parametrize(("name", "value", "message"), REFUSED_BY_A_ROOM[-2:])
def test_the_worker_refuses_it_too(name, value, message):
    result = run({**PRODUCTION, name: value}, [sys.executable, "manage.py", "qcluster"])
    assert result.returncode == 1
    assert message in result.stderr
