"""Production as Fly runs it: fly.toml's processes and checks, and the image's static files
(collected, hashed, compressed) served by gunicorn with DEBUG off."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.live import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "timedify_ops.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "p" * 50,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SHOPIFY_API_SECRET": "shpss_production_like",
    "WEBHOOK_TARGET_URL": "https://app.example.com/webhooks",
    "APP_HEALTH_URL": "https://app.example.com/health",
    "LOG_INGEST_TOKEN": "l" * 32,
    "METRICS_TOKEN": "m" * 32,
}


def test_fly_runs_web_and_worker_migrates_on_release_and_checks_health():
    config = tomllib.loads((ROOT / "fly.toml").read_text())
    assert "gunicorn" in config["processes"]["web"]
    assert config["processes"]["worker"] == "python manage.py qcluster"
    assert "migrate" in config["deploy"]["release_command"]
    assert "sync_schedules" in config["deploy"]["release_command"]
    (check,) = config["http_service"]["checks"]
    assert check["path"] == "/health"
    assert check["headers"]["X-Forwarded-Proto"] == "https"


@pytest.mark.e2e
def test_collected_static_files_are_served_hashed_with_debug_off(tmp_path):
    # From scratch: the test process's environment carries test settings (no HTTPS redirect …).
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(PRODUCTION, DJANGO_STATIC_ROOT=str(tmp_path / "static"), TIMEDIFY_VAR_DIR=str(tmp_path / "var"))
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    collected = run("collectstatic", "--noinput", "-v", "0")
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    migrated = run("migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "timedify_ops.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up():
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=30, message="gunicorn did not answer /health")
        # Behind Fly's proxy: HTTPS as far as Django knows, so no redirect.
        page = httpx.get(f"{base}/login/", headers={"X-Forwarded-Proto": "https"})
        assert page.status_code == 200
        assert "Strict-Transport-Security" in page.headers
        assert "Content-Security-Policy" in page.headers
        stylesheet = next(
            part.split('"')[0] for part in page.text.split('href="') if part.startswith("/static/css/app.")
        )
        assert stylesheet != "/static/css/app.css", "the hashed name is used"
        css = httpx.get(f"{base}{stylesheet}", headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})
        assert css.status_code == 200
        assert css.headers.get("Content-Encoding") == "gzip"
        assert "immutable" in css.headers.get("Cache-Control", "")
        # Plain HTTP is redirected to HTTPS, except /health (Fly probes it inside its network).
        assert httpx.get(f"{base}/login/").status_code == 301
        assert httpx.get(f"{base}/health").status_code == 200
    finally:
        stop(process)
