"""Real processes for end-to-end tests: gunicorn and a django-q2 cluster on the test database."""

from __future__ import annotations

import contextlib
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

ROOT = Path(__file__).resolve().parent.parent


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
def qcluster(env: dict[str, str], *, log_path: Path | None = None) -> Iterator[subprocess.Popen]:
    """A real django-q2 cluster (`manage.py qcluster`)."""
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"qcluster exited with {process.returncode}")
        yield process
    finally:
        stop(process, timeout=20)
        log.close()
