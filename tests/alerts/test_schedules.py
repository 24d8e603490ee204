"""The alerting (every minute) and retention (daily) schedules: synced idempotently, run through run_job."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun

pytestmark = pytest.mark.django_db


def test_alerting_runs_every_minute_and_retention_daily():
    alerting, retention = registry.get_job("alerting"), registry.get_job("retention")
    assert (alerting.every_minutes, alerting.cadence) == (1, "every minute")
    assert retention.daily_at and retention.cadence.startswith("daily at")


def test_syncing_twice_leaves_one_row_each_pointing_at_the_stable_runner():
    call_command("sync_schedules")
    call_command("sync_schedules")
    for key, schedule_type in (("alerting", Schedule.MINUTES), ("retention", Schedule.DAILY)):
        (row,) = Schedule.objects.filter(name=key)
        assert (row.func, row.args, row.schedule_type) == (registry.RUNNER, repr(key), schedule_type)


def test_no_catch_up_storm_after_downtime(settings):
    assert settings.Q_CLUSTER["catch_up"] is False


def test_the_alerting_job_records_its_run():
    result = jobs.run_job("alerting")
    run = JobRun.objects.get(key="alerting")
    assert run.ok is True
    assert set(result) >= {"firing", "fired", "resolved", "notifications"}
    assert run.result == repr(result)


def test_the_retention_job_records_its_run():
    result = jobs.run_job("retention")
    run = JobRun.objects.get(key="retention")
    assert run.ok is True and result["complete"] is True
