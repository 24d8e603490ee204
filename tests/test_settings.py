"""Start-up configuration: a missing or malformed variable stops it, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def check(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(tuple(PRODUCTION)) and k != "DATABASE_URL"}
    clean.update(
        env, DJANGO_SETTINGS_MODULE="timedify_ops.settings", TIMEDIFY_VAR_DIR=str(ROOT / "var" / "settings-test")
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


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
