"""The daily summary: figures, idempotence, the job, `slo_report` and the notification."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict
from werkzeug import Response

from dashboard.alerts import notify
from dashboard.alerts.models import Notification
from dashboard.slo import report as reports
from dashboard.slo import rollups
from dashboard.slo.models import SloDailyReport, SloMinute
from tests.slo.conftest import MINUTE, attempt, dead_letter, deliver, make_event, rollup_rows

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 19)
START = datetime(2026, 11, 19, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 11, 20, 0, 10, tzinfo=UTC)


def a_day_of_events(*, dead: int = 0, total: int = 200):
    """`total` events received through the day, `dead` of them dead-lettered, the rest delivered."""
    events = []
    for n in range(total):
        at = START + n * 7 * MINUTE
        event = make_event(
            received_at=at,
            topic="customers/redact" if n % 2 else "orders/create",
            shop_domain=f"s{n % 3}.myshopify.com",
        )
        attempt(event, at=at, duration_ms=30, status_code=500 if n < dead else 200)
        if n < dead:
            dead_letter(event, at=at + MINUTE)
        else:
            deliver(event, at=at + MINUTE)
        events.append(event)
    return events


def run(*args):
    """slo_report as cron runs it: (exit code, output)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("slo_report", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue()


def test_the_daily_job_rolls_the_day_up_and_writes_its_report():
    a_day_of_events(dead=0)
    result = notify.daily_slo_report(NEXT_MORNING)
    assert result == {"date": "2026-11-19", "all_met": True, "missed": [], "sent": [], "errors": []}
    report = SloDailyReport.objects.get(date=DAY)
    assert (report.received, report.delivered, report.dead_lettered) == (200, 200, 0)
    assert report.slos["error_rate"]["value"] == 1.0 and report.slos["error_rate"]["met"] is True
    assert report.slos["uptime"]["met"] is None  # no probe results: no data, not a miss
    assert SloMinute.objects.filter(minute__gte=START, minute__lt=START + timedelta(days=1)).count() == 1440


def test_writing_a_report_twice_gives_the_same_report():
    a_day_of_events(dead=3)
    reports.write_previous_day_report(NEXT_MORNING)
    first = model_to_dict(SloDailyReport.objects.get(date=DAY), exclude=["id", "computed_at"])
    reports.write_previous_day_report(NEXT_MORNING)
    second = model_to_dict(SloDailyReport.objects.get(date=DAY), exclude=["id", "computed_at"])
    assert first == second
    assert SloDailyReport.objects.count() == 1


def test_a_missed_slo_is_named_with_its_budget_consumed():
    a_day_of_events(dead=3)  # 1.5 % errors against a 0.5 % budget
    reports.write_previous_day_report(NEXT_MORNING)
    report = SloDailyReport.objects.get(date=DAY)
    figure = report.slos["error_rate"]
    assert report.all_met is False
    assert (figure["bad"], figure["total"], figure["met"]) == (3, 200, False)
    assert figure["value"] == pytest.approx(0.985)
    assert figure["burn_rate"] == pytest.approx(3.0)
    # The 28-day window ending that day holds only this day: 3 bad of an allowance of 1.
    assert figure["budget_consumed"] == pytest.approx(3 / (200 * 0.005))
    assert reports.missed_slos(report) == ["Error rate"]


def test_the_report_lists_replays_and_the_topics_and_shops_with_most_dead_letters():
    events = a_day_of_events(dead=5)
    attempt(events[0], at=START + 5 * MINUTE, duration_ms=20, is_replay=True)
    attempt(events[0], at=START + 6 * MINUTE, duration_ms=20, is_replay=True)
    attempt(events[1], at=START + 6 * MINUTE, duration_ms=20, is_replay=True)
    report = reports.write_report(DAY)
    assert report.replayed == 2  # two events, three replay attempts
    assert report.top_topics == [["orders/create", 3], ["customers/redact", 2]]
    assert report.top_shops[0] == ["s0.myshopify.com", 2]


def test_the_report_lists_the_incidents_of_the_day_from_the_health_board(settings):
    from dashboard.health.probes import Outcome
    from dashboard.health.services import record_results

    settings.HEALTH_DOWN_AFTER = 2
    for minute, state in [(190, "ok"), (191, "fail"), (192, "fail"), (199, "ok")]:
        record_results(
            [Outcome("app", state, 10.0, "HTTP 503" if state == "fail" else "HTTP 200")], at=START + minute * MINUTE
        )
    report = reports.write_report(DAY)
    assert report.incidents == [
        {"probe": "app", "at": "2026-11-19T03:12:00+00:00", "until": "2026-11-19T03:19:00+00:00", "detail": "HTTP 503"}
    ]
    assert "Incidents: app down 03:12–03:19" in reports.format_report(report)
    assert reports.write_report(date(2026, 11, 18)).incidents == []


def test_the_daily_job_counts_uptime_from_the_app_probe():
    from dashboard.health.probes import Outcome
    from dashboard.health.services import record_results

    for minute in range(100):
        record_results([Outcome("app", "fail" if minute < 1 else "ok", 10.0, "")], at=START + minute * MINUTE)
    reports.write_previous_day_report(NEXT_MORNING)
    figure = SloDailyReport.objects.get(date=DAY).slos["uptime"]
    assert (figure["bad"], figure["total"], figure["met"]) == (1, 100, False)
    assert figure["value"] == pytest.approx(0.99)


def test_the_report_reads_as_text():
    a_day_of_events(dead=3)
    rollups.rollup_range(START, START + timedelta(days=1))
    report = reports.write_report(DAY)
    text = reports.format_report(report)
    assert text.startswith("SLO report for 2026-11-19 (UTC): missed Error rate (1 of 1 SLOs with data)")
    assert "MISSED  Error rate" in text
    assert "200 received · 197 delivered · 3 dead-lettered · 0 replayed" in text
    assert "Most dead letters by topic: orders/create (2), customers/redact (1)" in text


# --------------------------------------------------------------------------- the command


def test_slo_report_prints_the_day_and_exits_0_when_every_slo_was_met():
    a_day_of_events(dead=0)
    code, output = run("--date", "2026-11-19")
    assert code == 0
    assert "every SLO with data met (1 of 3)" in output
    assert SloDailyReport.objects.filter(date=DAY).exists()


def test_slo_report_exits_1_when_an_slo_was_missed():
    a_day_of_events(dead=3)
    code, output = run("--date", "2026-11-19")
    assert code == 1
    assert "MISSED" in output


def test_slo_report_defaults_to_yesterday(monkeypatch):
    monkeypatch.setattr(reports, "today", lambda now=None: date(2026, 11, 20))
    code, output = run()
    assert code == 0
    assert "SLO report for 2026-11-19" in output


@pytest.mark.parametrize(("value", "message"), [("19/11/2026", "YYYY-MM-DD"), ("2999-01-01", "in the future")])
def test_slo_report_refuses_a_bad_date_with_exit_2(value, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("slo_report", "--date", value)
    assert error.value.returncode == 2


def test_slo_report_exits_2_from_the_command_line():
    import subprocess
    import sys

    from tests.live import subprocess_env

    result = subprocess.run(
        [sys.executable, "manage.py", "slo_report", "--date", "nope"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--date must be a day as YYYY-MM-DD" in result.stderr


def test_slo_report_fills_missing_minutes_but_keeps_rolled_up_ones():
    a_day_of_events(dead=0)
    rollup_rows(START, 1, received=1000)  # an existing rollup: kept, although the raw rows say 1
    code, output = run("--date", "2026-11-19")
    assert code == 0
    assert SloMinute.objects.get(minute=START).received == 1000
    assert SloDailyReport.objects.get(date=DAY).received == 1000 + 199
    assert SloMinute.objects.filter(minute__gte=START, minute__lt=START + timedelta(days=1)).count() == 1440


def test_today_is_reported_so_far_and_not_stored():
    rollup_rows(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0), 1, received=5)
    code, output = run("--date", reports.today().isoformat())
    assert code == 0
    assert "so far, the day is not over" in output
    assert not SloDailyReport.objects.exists()


# --------------------------------------------------------------------------- notification


@pytest.fixture
def slack(settings):
    """A real local HTTP server standing in for Slack's incoming webhook."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    settings.SLO_REPORT_SLACK_WEBHOOK_URL = server.url_for("/services/T000/B000/XXXX")
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def fast_notify(settings):
    """The notifications' real retry loop, with millisecond waits."""
    from timedify_ops.lib.retry import RetryBudget

    settings.ALERT_NOTIFY_RETRY_BUDGET = RetryBudget(base_ms=1, retries=2, retry_after_cap_s=0.01)


def test_the_report_is_sent_to_slack_once_through_the_alert_notifier(slack, fast_notify):
    slack.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_data("ok")
    a_day_of_events(dead=3)
    result = notify.daily_slo_report(NEXT_MORNING)
    assert result["sent"] == ["slack"] and result["errors"] == []
    request, _ = slack.log[0]
    text = json.loads(request.get_data())["text"]
    assert text.startswith("*[REPORT] SLO report 2026-11-19: missed: Error rate*\n```SLO report for 2026-11-19")
    assert text.endswith("```\n/slo/daily/2026-11-19/")
    notify.daily_slo_report(NEXT_MORNING)  # a second run of the job
    assert len(slack.log) == 1
    assert SloDailyReport.objects.get(date=DAY).notified_at is not None
    row = Notification.objects.get()
    assert (row.channel, row.event, row.ok, row.alert, row.target) == ("slack", "report", True, None, "127.0.0.1")


def test_a_failed_send_is_retried_recorded_without_the_secret_url_and_the_job_still_succeeds(
    slack, fast_notify, caplog
):
    slack.expect_request("/services/T000/B000/XXXX").respond_with_response(Response("down", status=503))
    result = notify.daily_slo_report(NEXT_MORNING)
    assert result["sent"] == [] and result["errors"] == ["slack: HTTP 503: down"]
    assert len(slack.log) == 3  # the notifications' retry budget: two retries
    assert SloDailyReport.objects.get(date=DAY).notified_at is None  # the next run tries again
    row = Notification.objects.get()
    assert (row.event, row.ok, row.attempts, row.status_code) == ("report", False, 3, 503)
    ours = " ".join(record.getMessage() for record in caplog.records if record.name == "timedify_ops.events")
    assert "channel=slack event=report rule=slo-daily-report attempts=3" in ours
    assert "XXXX" not in ours + row.error + row.target


def test_the_report_can_go_by_email(settings):
    settings.SLO_REPORT_EMAIL_TO = ["ops@example.com"]
    notify.daily_slo_report(NEXT_MORNING)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com"]
    assert message.subject == "[REPORT] SLO report 2026-11-19: all met"
    assert "SLO report for 2026-11-19" in message.body
    assert Notification.objects.get().target == "ops@example.com"


def test_the_report_goes_to_its_own_channels_not_the_alert_channels(settings):
    settings.ALERT_EMAIL_TO = ["alerts@example.com"]
    settings.SLO_REPORT_SLACK_WEBHOOK_URL = None
    settings.SLO_REPORT_EMAIL_TO = []
    assert notify.daily_slo_report(NEXT_MORNING)["sent"] == []
    assert mail.outbox == []
    assert not Notification.objects.exists()
