"""The code-defined schedules: synced idempotently, run through run_job, recorded as JobRuns."""

import pytest
from django.core.management import call_command
from django.utils.module_loading import import_string
from django_q.models import Schedule

from timedify_ops.jobs import registry
from timedify_ops.jobs import services as jobs
from timedify_ops.jobs.models import JobRun

pytestmark = pytest.mark.django_db


def test_every_job_function_imports():
    for job in registry.JOBS:
        assert callable(import_string(job.func)), job.key


def test_syncing_twice_leaves_one_row_per_job():
    call_command("sync_schedules")
    call_command("sync_schedules")
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(job.key for job in registry.JOBS)
    assert all(row.func == registry.RUNNER for row in Schedule.objects.all())


def test_a_vanished_job_loses_its_schedule_and_a_paused_one_stays_paused():
    Schedule.objects.create(name="old-job", func=registry.RUNNER, args="'old-job'", schedule_type=Schedule.MINUTES)
    Schedule.objects.filter(name="sweep-stale-events").update(repeats=0)
    summary = jobs.sync_schedules()
    assert summary["deleted"] == 1
    assert not Schedule.objects.filter(name="old-job").exists()
    assert Schedule.objects.get(name="sweep-stale-events").repeats == 0


def test_a_schedule_changed_by_hand_is_put_back():
    Schedule.objects.filter(name="sweep-stale-events").update(func="webhooks.services.renamed_away", minutes=7)
    assert jobs.sync_schedules()["updated"] == 1
    row = Schedule.objects.get(name="sweep-stale-events")
    assert (row.func, row.minutes) == (registry.RUNNER, 1)


def test_run_job_records_a_run():
    result = jobs.run_job("sweep-stale-events")
    run = JobRun.objects.get(key="sweep-stale-events")
    assert run.ok is True
    assert run.duration_ms >= 0
    assert run.result == repr(result)


def test_run_job_records_a_failure_and_raises(monkeypatch):
    def explode():
        raise RuntimeError("kaput")

    monkeypatch.setattr(jobs, "import_string", lambda path: explode)
    with pytest.raises(RuntimeError):
        jobs.run_job("sweep-stale-events")
    run = JobRun.objects.get(key="sweep-stale-events")
    assert run.ok is False
    assert run.error == "RuntimeError: kaput"


def test_an_unknown_job_is_an_error():
    with pytest.raises(KeyError):
        jobs.run_job("nope")


def test_a_daily_job_first_runs_at_its_time():
    from datetime import UTC, datetime

    job = registry.Job(key="x", func="x.y", description="", daily_at="00:10")
    assert job.first_run(datetime(2026, 1, 1, 0, 5, tzinfo=UTC)) == datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    assert job.first_run(datetime(2026, 1, 1, 0, 15, tzinfo=UTC)) == datetime(2026, 1, 2, 0, 10, tzinfo=UTC)
    assert job.cadence == "daily at 00:10 UTC"
