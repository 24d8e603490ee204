"""The checklist's groups as automation users copy: scripts/fly-manage.sh (a manage.py command on a
Fly machine, with that command's exit code), the after-deploy workflow and the make targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fly-manage.sh"

# flyctl cannot reach Fly from here: this stands in for `flyctl ssh console --app A --command C`, and —
# the case the script is for — exits 0 whatever C did. C is run either as a remote shell runs it, or
# split into words and executed without a shell (FAKE_FLY_MODE=words); the script must work both ways.
FAKE_FLYCTL = """#!/bin/sh
[ "$1 $2" = "ssh console" ] || { echo "unexpected: $*" >&2; exit 99; }
shift 2
while [ "$#" -gt 0 ]; do
  case "$1" in
    --app) echo "app=$2" >> "$FAKE_FLY_LOG"; shift 2 ;;
    --command) command="$2"; shift 2 ;;
    *) shift ;;
  esac
done
if [ "$FAKE_FLY_MODE" = words ]; then
  python -c 'import os, shlex, sys; words = shlex.split(sys.argv[1]); os.execvp(words[0], words)' "$command"
else
  eval "$command"
fi
exit 0
"""


@pytest.fixture(params=["shell", "words"])
def fake_fly(tmp_path, request):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    flyctl = bin_dir / "flyctl"
    flyctl.write_text(FAKE_FLYCTL)
    flyctl.chmod(0o755)
    python = bin_dir / "python"  # the machine's `python`: this test run's interpreter (and its virtualenv)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key in ("HOME", "LANG", "DJANGO_SETTINGS_MODULE")} | {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FLY_APP": "timedify-ops",
        "FLY_APP_DIR": str(ROOT),
        "FAKE_FLY_LOG": str(tmp_path / "fly.log"),
        "FAKE_FLY_MODE": request.param,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    return env, tmp_path / "fly.log"


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_it_exits_with_the_remote_commands_exit_code_not_flyctls(fake_fly, tmp_path):
    env, log = fake_fly
    ok = run(env, "secrets_inventory")
    assert ok.returncode == 0, ok.stderr
    assert "SHOPIFY_API_SECRET" in ok.stdout and "__timedify_exit__" not in ok.stdout
    assert log.read_text().strip() == "app=timedify-ops"

    unreadable = run(env, "secrets_inventory", "--env-file", str(tmp_path / "no such file.env"))
    assert unreadable.returncode == 2  # the command's own code, though the fake flyctl exited 0
    assert "cannot read" in unreadable.stderr or "cannot read" in unreadable.stdout


def test_arguments_reach_the_remote_command_quoted(fake_fly, tmp_path):
    env, _ = fake_fly
    backup = tmp_path / "it's a backup.env"
    backup.write_text("METRICS_TOKEN=x\n")
    result = run(env, "secrets_inventory", "--env-file", str(backup))
    assert f"secrets inventory of {backup}" in result.stdout
    assert result.returncode == 1  # the backup lacks variables start-up needs


def test_without_flyctl_it_says_so(tmp_path):
    result = subprocess.run(
        [str(SCRIPT), "health_check"],
        env={"PATH": "/usr/bin:/bin", "FLY_APP": "x"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3 and "flyctl is not installed" in result.stderr


def test_a_session_that_never_ran_the_command_fails(fake_fly, tmp_path):
    env, _ = fake_fly
    broken = Path(env["PATH"].split(":")[0]) / "flyctl"
    broken.write_text("#!/bin/sh\necho 'Error: ssh: handshake failed' >&2\nexit 0\n")
    result = run(env, "health_check")
    assert result.returncode == 1 and "did not report an exit code" in result.stderr


# --------------------------------------------------------------------------- the workflow and the make targets


def parses(command_line: list[str]) -> None:
    """The manage.py command exists and takes these arguments (its own parser decides)."""
    name, *args = command_line
    app = get_commands()[name]
    load_command_class(app, name).create_parser("manage.py", name).parse_args(args)


def test_the_workflow_deploys_then_runs_the_after_deploy_checks_in_order():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "fly-deploy.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[0].startswith("flyctl deploy")
    checks = [run.split() for run in runs[1:]]
    assert [check[0] for check in checks] == ["scripts/fly-manage.sh"] * 3
    names = [check[1] for check in checks]
    assert names == ["synthetic_webhook_test", "health_check", "logs_watch"]
    assert checks[2][1:5] == ["logs_watch", "30", "--errors", "--lines"]
    for check in checks:
        parses([word.strip('"') for word in check[1:]])
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML reads the `on:` key as True
    assert job["env"]["FLY_API_TOKEN"] == "${{ secrets.FLY_API_TOKEN }}"


def make_lines(target: str) -> list[list[str]]:
    result = subprocess.run(
        ["make", "-n", target, "MANAGE=manage.py", "URL=https://ops.example.com", "DUMP=backup.dump"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("manage.py ")]


@pytest.mark.parametrize(
    ("target", "commands"),
    [
        ("after-deploy", ["synthetic_webhook_test", "health_check", "logs_watch"]),
        ("daily", ["health_check", "alerting_check", "replay_deadletters", "slo_report", "secrets_inventory"]),
        ("check-health", ["health_check"]),
        ("check-alerts", ["alerting_check"]),
        ("logs-watch", ["logs_watch"]),
        ("deadletters", ["replay_deadletters"]),
        ("restore-drill", ["restore_drill"]),
        ("secrets", ["secrets_inventory"]),
    ],
)
def test_each_checklist_group_is_a_make_target_of_real_commands(target, commands):
    lines = make_lines(target)
    assert [line[0] for line in lines] == commands
    for line in lines:
        parses(line)
