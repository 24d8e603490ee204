"""Real processes for end-to-end tests: gunicorn and a django-q2 cluster on the test database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from django.db import connection

from timedify_ops.lib import signing

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "shpss_test_current_secret"  # SHOPIFY_API_SECRET in tests/settings.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The environment for a process that must use this test run's database and settings."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONUNBUFFERED"] = "1"
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env.pop("DATABASE_URL", None)
        env["TIMEDIFY_TEST_SQLITE_NAME"] = str(db["NAME"])
    else:
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.1, message: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


def stop(process: subprocess.Popen, timeout: float = 15, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int = 2, port: int | None = None, log_path: Path | None = None
) -> Iterator[str]:
    """Serve the project with gunicorn; yields the base URL once it answers."""
    port = port or free_port()
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "timedify_ops.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def answers():
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            return httpx.get(f"{base}/login/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=30, message="gunicorn did not start")
        yield base
    finally:
        stop(process)
        log.close()


@contextlib.contextmanager
def qcluster(env: dict[str, str], log_path: Path | None = None) -> Iterator[subprocess.Popen]:
    """A real django-q2 cluster (`manage.py qcluster`) in a process group of its own, so the whole
    cluster (sentinel, pusher, workers, monitor) can be killed at once with `kill_cluster`."""
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # A cluster that cannot start (bad settings, no database) exits at once: wait for that,
        # not for readiness; queued tasks wait in the broker until the workers are up.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise RuntimeError(f"qcluster exited with {process.returncode}: {tail}")
        yield process
    finally:
        if process.poll() is None:
            # SIGTERM to the main process only: it stops its children in order (a SIGTERM to the
            # whole group leaves the main process waiting for a sentinel that is already gone).
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        kill_cluster(process)  # whatever is left of the group
        log.close()


def kill_cluster(process: subprocess.Popen) -> None:
    """SIGKILL to every process of the cluster: nothing gets to clean up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        process.wait(timeout=10)


def signed_webhook(
    webhook_id: str, *, topic: str = "customers/data_request", shop: str = "proof.myshopify.com", n: int = 0
) -> tuple[bytes, dict]:
    """A webhook as Shopify sends it over HTTP (raw body and headers), signed with the test secret."""
    body = json.dumps({"id": n, "webhook": webhook_id, "domain": shop}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": f"event-{webhook_id}",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Hmac-Sha256": signing.sign(body, TEST_SECRET),
    }
