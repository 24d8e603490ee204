#!/usr/bin/env python3
"""One entry point for a fresh clone; needs nothing but Python 3.11+.

    python3 scripts/dev.py run     # the app on the embedded default (SQLite under var/)
    python3 scripts/dev.py test    # the test suite (extra arguments go to pytest)
    python3 scripts/dev.py demo    # a living demo: a seeded week, live webhooks and logs (var/demo/)

All create .venv and install the pinned requirements when they changed.
`run` also generates development secrets once (var/dev.env), migrates, creates a
first operator when there are no users (printing its password once), then starts
gunicorn and the django-q2 worker together and stops both on Ctrl-C.
`demo` does the same on its own database (var/demo/, or DATABASE_URL) under the demo's own
settings (demo.settings), seeds it with a week of history when it is empty (manage.py seed_demo),
and adds the demo's Shopify app on 127.0.0.1:8765 and a simulator sending signed webhooks and log
lines (demo/); it prints the URL and the login.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_venv(requirements: str) -> None:
    """Create .venv and (re)install `requirements` when its content changed since the last install."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells an older Python so
        sys.exit(f"timedify-ops needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PYTHON.exists():
        say(f"creating the virtualenv in {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {requirements}")
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(ROOT / requirements)],
        check=True,
        cwd=ROOT,
    )
    stamp.write_text(digest)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], check=True, cwd=ROOT, env=env)


def run(argv: list[str]) -> int:
    ensure_venv("requirements.txt")
    env = dict(os.environ)
    embedded = not env.get("DATABASE_URL")
    if embedded:
        dev_env()
        env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "timedify_ops.settings")
    port = env.get("PORT", "8000")
    manage("migrate", "--noinput", env=env)
    if embedded:
        manage("create_first_operator", env=env)
    return serve(
        env, port, started=f"timedify-ops is running on http://127.0.0.1:{port}/ (web + worker); Ctrl-C stops both"
    )


def dev_env() -> dict[str, str]:
    """var/dev.env, with any missing development secret generated first."""
    sys.path.insert(0, str(ROOT))
    from timedify_ops.devenv import DEV_ENV_FILE, ensure_dev_env
    from timedify_ops.lib.env import read_env_file

    generated = ensure_dev_env()
    if generated:
        say(f"generated development values for {', '.join(generated)} in {DEV_ENV_FILE.relative_to(ROOT)}")
    else:
        say(f"using development values from {DEV_ENV_FILE.relative_to(ROOT)}")
    return read_env_file(DEV_ENV_FILE)


DEMO_APP = "http://127.0.0.1:8765"  # the dev defaults of WEBHOOK_TARGET_URL and APP_HEALTH_URL point here
DEMO_PASSWORD_FILE = ROOT / "var" / "demo-password"


def demo(argv: list[str]) -> int:
    """The living demo: `run` on its own seeded database, plus the demo app and the simulator."""
    ensure_venv("requirements.txt")
    env = dict(os.environ)
    values = dev_env()
    env.setdefault("DJANGO_DEBUG", "1")
    # The demo is not the product: only its own settings install it (and its seed_demo command).
    env.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    if not env.get("DATABASE_URL"):
        env.setdefault("TIMEDIFY_VAR_DIR", str(ROOT / "var" / "demo"))  # its own SQLite file, never run's
    env.setdefault("WEBHOOK_TARGET_URL", f"{DEMO_APP}/webhooks")
    env.setdefault("APP_HEALTH_URL", f"{DEMO_APP}/health")
    # The hourly token check talks to the demo app's Admin API, never to Shopify.
    env.setdefault("SHOPIFY_ADMIN_BASE_URL", f"{DEMO_APP}/shopify/{{shop}}")
    env.setdefault("SHOPIFY_API_KEY", "demo-client-id")
    for name in ("SHOPIFY_API_SECRET", "LOG_INGEST_TOKEN"):  # the simulator signs and ships with these
        env.setdefault(name, values.get(name, ""))
    port = env.get("PORT", "8000")
    base = f"http://127.0.0.1:{port}"
    if not DEMO_PASSWORD_FILE.exists():
        import secrets

        DEMO_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
        DEMO_PASSWORD_FILE.write_text(secrets.token_urlsafe(9) + "\n")
        DEMO_PASSWORD_FILE.chmod(0o600)
    password = DEMO_PASSWORD_FILE.read_text().strip()
    manage("migrate", "--noinput", "-v", "0", env=env)
    say("seeding a week of demo history (only into an empty database)")
    manage("seed_demo", "--if-empty", "--password", password, env=env)
    extra = {
        "demo app": [str(PYTHON), "-m", "demo.receiver", "--port", DEMO_APP.rsplit(":", 1)[1],
                     "--ingest", f"{base}/logs/ingest"],
        "simulator": [str(PYTHON), "-m", "demo.simulator", "--ingress", base],
    }  # fmt: skip
    started = (
        f"the demo is running on {base}/ — log in as demo / {password} (operator) or demo-viewer / {password} "
        f"(viewer); the password is kept in {DEMO_PASSWORD_FILE.relative_to(ROOT)}. Ctrl-C stops everything"
    )
    return serve(env, port, extra=extra, access_log=False, started=started)


def serve(
    env: dict[str, str], port: str, *, extra: dict[str, list[str]] | None = None, access_log: bool = True, started: str
) -> int:
    """gunicorn, the django-q2 worker and any `extra` processes; all stop together (Ctrl-C, or one exits)."""
    if env.get("DJANGO_DEBUG", "0").lower() not in ("1", "true", "yes", "on"):
        manage("collectstatic", "--noinput", "-v", "0", env=env)
    web = [str(BIN / "gunicorn"), "timedify_ops.wsgi", "--bind", f"127.0.0.1:{port}",
           "--workers", env.get("WEB_CONCURRENCY", "2")]  # fmt: skip
    # gunicorn.conf.py (read from the working directory) logs every request; the demo's traffic would flood the console.
    web += ["--access-logfile", "-" if access_log else os.devnull]
    commands = {"web": web, "worker": [str(PYTHON), "manage.py", "qcluster"], **(extra or {})}
    # Own process groups: this script decides the shutdown order, and a stuck
    # process's whole tree can be killed.
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True) for name, command in commands.items()
    }
    say(started)

    def stop(*_):
        for process in reversed(processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def interrupted(*_):
        say(f"stopping {', '.join(processes)}")
        stop()
        sys.exit(0)

    # Installed explicitly: a shell may start this script with SIGINT ignored.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        while True:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    say(f"the {name} process exited with {code}; stopping the others")
                    stop()
                    return code or 1
            time.sleep(0.5)
    finally:
        stop()


def test(argv: list[str]) -> int:
    ensure_venv("requirements-dev.txt")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    return subprocess.run([str(PYTHON), "-m", "pytest", *argv], cwd=ROOT, env=env).returncode


COMMANDS = {"run": run, "test": test, "demo": demo}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
