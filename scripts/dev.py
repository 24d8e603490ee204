#!/usr/bin/env python3
"""One entry point for a fresh clone; needs nothing but Python 3.11+.

    python3 scripts/dev.py run     # the app on the embedded default (SQLite under var/)
    python3 scripts/dev.py test    # the test suite (extra arguments go to pytest)

Both create .venv and install the pinned requirements when they changed.
`run` also generates development secrets once (var/dev.env), migrates, creates a
first operator when there are no users (printing its password once), then starts
gunicorn and the django-q2 worker together and stops both on Ctrl-C.
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
        sys.path.insert(0, str(ROOT))
        from timedify_ops.devenv import DEV_ENV_FILE, ensure_dev_env

        generated = ensure_dev_env()
        if generated:
            say(f"generated development values for {', '.join(generated)} in {DEV_ENV_FILE.relative_to(ROOT)}")
        else:
            say(f"using development values from {DEV_ENV_FILE.relative_to(ROOT)}")
        env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "timedify_ops.settings")
    port = env.get("PORT", "8000")
    manage("migrate", "--noinput", env=env)
    if embedded:
        manage("create_first_operator", env=env)
    if env.get("DJANGO_DEBUG", "0").lower() not in ("1", "true", "yes", "on"):
        manage("collectstatic", "--noinput", "-v", "0", env=env)
    processes = {
        "web": subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "timedify_ops.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                env.get("WEB_CONCURRENCY", "2"),
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        ),
        # Own process groups: this script decides the shutdown order, and a stuck
        # worker's whole tree can be killed.
        "worker": subprocess.Popen([str(PYTHON), "manage.py", "qcluster"], cwd=ROOT, env=env, start_new_session=True),
    }
    say(f"timedify-ops is running on http://127.0.0.1:{port}/ (web + worker); Ctrl-C stops both")

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def interrupted(*_):
        say("stopping web and worker")
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
                    say(f"the {name} process exited with {code}; stopping the other one")
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


COMMANDS = {"run": run, "test": test}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
