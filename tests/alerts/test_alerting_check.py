"""manage.py alerting_check [--notify] [--json]: exit 0 quiet, 1 health, 2 patterns or SLO burn (health wins)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard.alerts.models import Alert, Notification, RuleState
from dashboard.health.models import ProbeState
from dashboard.logs.ingest import insert_rows
from dashboard.logs.records import LogRow, datetime_to_ns
from tests.alerts.conftest import make_dead_letters, on_schedule

pytestmark = pytest.mark.django_db


def check(*args: str) -> tuple[int, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("alerting_check", *args, stdout=out)
    return exit_info.value.code, out.getvalue()


@pytest.fixture
def quiet(db):
    on_schedule(timezone.now())


def test_a_quiet_system_exits_0_and_prints_every_rule(quiet):
    code, out = check()
    assert code == 0
    assert "exit 0: quiet" in out
    for key in ("probe-down", "schedule-missed", "delivery-backlog", "open-dead-letters", "slo-fast-burn"):
        assert key in out
    assert "UNAVAILABLE" not in out and "FIRING" not in out


def test_a_down_probe_exits_1(quiet):
    ProbeState.objects.create(probe="app", status="down", status_since=timezone.now())
    code, out = check()
    assert code == 1
    assert "exit 1: health failing" in out


def test_error_patterns_exit_2(quiet, settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 2}
    make_dead_letters(3)
    code, out = check()
    assert code == 2
    # Its "for" (5 minutes) has not passed: the condition holds now, so it counts, shown as pending.
    assert "PENDING" in out


def test_health_wins_when_both_fire(quiet, settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    make_dead_letters(1)
    ProbeState.objects.create(probe="database", status="down")
    assert check()[0] == 1


def test_a_missed_schedule_is_a_health_failure(db):
    # No JobRun at all and the schedules' first runs long past: the scheduler is not running.
    from django_q.models import Schedule

    from timedify_ops.jobs.services import sync_schedules

    sync_schedules()
    Schedule.objects.update(next_run=timezone.now() - timezone.timedelta(hours=1))
    code, out = check()
    assert code == 1
    assert "schedule-missed" in out and "missed: " in out


def test_without_notify_it_writes_and_sends_nothing(quiet, settings, receiver):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    make_dead_letters(1)
    code, out = check()
    assert code == 2
    assert "FIRING" in out
    assert not Alert.objects.exists() and not RuleState.objects.exists() and not Notification.objects.exists()
    assert receiver.log == []


def test_with_notify_it_fires_and_notifies(quiet, settings, receiver):
    receiver.expect_request("/slack/T000/B000/sekrit-token").respond_with_data("ok")
    receiver.expect_request("/hook").respond_with_data("")
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    settings.ALERT_FOR_MINUTES = {"open-dead-letters": 0}
    make_dead_letters(1)
    code, out = check("--notify")
    assert code == 2
    assert "notify: fired ['open-dead-letters']" in out
    assert Alert.objects.get().rule_key == "open-dead-letters"
    assert len(receiver.log) == 2
    assert RuleState.objects.count() == 8
    # Run again: already firing, nothing new is sent.
    assert check("--notify")[0] == 2
    assert len(receiver.log) == 2


def test_json_output_is_machine_readable(quiet, settings):
    settings.ALERT_THRESHOLDS = {"open-dead-letters": 0}
    make_dead_letters(1)
    code, out = check("--json")
    payload = json.loads(out)
    assert payload["exit_code"] == code == 2
    rules = {rule["rule"]: rule for rule in payload["rules"]}
    assert rules["open-dead-letters"]["state"] == "pending"
    assert rules["open-dead-letters"]["value"] == 1
    assert rules["open-dead-letters"]["threshold"] == 0
    assert rules["slo-fast-burn"]["state"] == "ok"
    assert "notified" not in payload


@pytest.mark.django_db(transaction=True)
def test_it_runs_as_a_real_process_with_the_exit_status_cron_and_ci_read():
    import subprocess
    import sys

    from tests.live import ROOT, subprocess_env

    on_schedule(timezone.now())
    make_dead_letters(1)
    result = subprocess.run(
        [sys.executable, "manage.py", "alerting_check", "--json"],
        cwd=ROOT,
        env=subprocess_env(ALERT_THRESHOLDS="open-dead-letters=0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["exit_code"] == 2


# --------------------------------------------------------------------------- --any: the checklist's grep


def app_lines(*messages: str, minutes_ago: float = 1, provider: str = "app") -> None:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    insert_rows(
        [
            LogRow(timestamp_ns=datetime_to_ns(when) + n, message=m, app="timedify", provider=provider)
            for n, m in enumerate(messages)
        ]
    )


def test_any_exits_2_on_a_single_error_line_and_prints_it(db):
    app_lines("GET /health 200 15ms", "Admin API responded 429 Too Many Requests", "took 503ms")
    code, out = check("--any")
    assert code == 2
    assert "[status 429] Admin API responded 429 Too Many Requests" in out
    assert "took 503ms" not in out and "GET /health" not in out
    assert "exit 2: 1 error line in the last 5 min" in out


def test_any_is_quiet_without_error_lines_in_the_window(db):
    app_lines("webhook error: from an hour ago", minutes_ago=60)
    app_lines("listening on port 5432", "version 5.2.19", "fly scale memory 512")
    code, out = check("--any")
    assert code == 0 and "exit 0: no error line in the last 5 min" in out
    code, out = check("--any", "--since", "2h")
    assert code == 2 and "[webhook error] webhook error: from an hour ago" in out


def test_any_leaves_timedify_ops_own_events_to_their_own_rules(db):
    app_lines("alert notification failed: HTTP 500", provider="events")
    assert check("--any")[0] == 0


def test_any_speaks_json_for_ci(db):
    app_lines("PrismaClientKnownRequestError: ", "status=502 path=/webhooks")
    code, out = check("--any", "--since", "10m", "--json")
    payload = json.loads(out)
    assert code == payload["exit_code"] == 2
    assert payload["error_lines"] == 2
    assert [line["why"] for line in payload["lines"]] == ["prisma error", "status 502"]


def test_any_ignores_the_rules_thresholds(quiet, settings):
    # The paging rule needs more than 20 lines held for 2 minutes; the check needs one.
    settings.ALERT_THRESHOLDS = {"error-log-lines": 1000}
    app_lines("5xx from the checkout route")
    assert check("--any")[0] == 2
    assert check()[0] == 0


def test_since_without_any_is_refused(db):
    with pytest.raises(CommandError, match="--since goes with --any"):
        call_command("alerting_check", "--since", "5m", stdout=StringIO())
