"""manage.py health_check: every probe now, a table or JSON, exit 1 only when a probe fails."""

import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from dashboard.health.models import ProbeResult
from dashboard.health.probes import BUILTIN
from deadletters.models import DeadLetter
from tests.live import ROOT, subprocess_env
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("health_check", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_it_prints_a_table_and_exits_0_when_everything_passes(healthy):
    code, output = run()
    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == ["probe", "state", "latency", "detail"]
    assert [line.split()[0] for line in lines[1:]] == list(BUILTIN)
    assert all(line.split()[1] == "ok" for line in lines[1:])
    assert not ProbeResult.objects.exists()  # runs the probes, stores nothing


def test_a_warning_is_printed_but_exits_0(healthy):
    event = WebhookEvent.objects.create(webhook_id="w", topic="t", shop_domain="s", body=b"{}", status="dead_lettered")
    DeadLetter.objects.create(event=event, reason="HTTP 500", topic="t", shop_domain="s")
    code, output = run()
    assert code == 0
    assert "deadletters  warn" in output


def test_a_failing_probe_exits_1_naming_it(healthy):
    healthy.clear()
    healthy.expect_request("/health").respond_with_data("boom", status=500)
    code, output = run()
    assert code == 1
    assert "HTTP 500" in output
    assert output.endswith("1 probe(s) failed: app")


def test_json_for_machines(healthy, settings):
    settings.HEALTH_DISK_FAIL_PERCENT = 100
    code, output = run("--json")
    assert code == 1
    report = json.loads(output.split("\n1 probe(s) failed")[0])
    assert report["status"] == "fail"
    assert {p["probe"]: p["state"] for p in report["probes"]}["disk"] == "fail"
    assert set(report["probes"][0]) == {"probe", "state", "latency_ms", "detail"}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_real_command_exits_1_when_the_app_refuses():
    env = subprocess_env(APP_HEALTH_URL="http://127.0.0.1:9/health", HEALTH_DISK_FAIL_PERCENT="0")
    result = subprocess.run(
        [sys.executable, "manage.py", "health_check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert "probe(s) failed: app" in result.stderr
    assert result.stdout.splitlines()[1].split()[:2] == ["app", "fail"]
