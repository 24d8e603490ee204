"""A django-q2 worker's last measurements reach the database when it stops, although worker
processes leave through os._exit() (no atexit): the one background flusher also flushes from
multiprocessing's exit hooks."""

import os
import signal

import pytest
from django_q.models import Task
from django_q.tasks import async_task

from tests.live import qcluster, subprocess_env, wait_for
from timedify_ops.telemetry.models import MetricCounter

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]


def test_a_workers_last_counters_survive_its_exit(tmp_path, empty_queue):
    # An hour between flushes: only the flush at the worker's exit can write the counter.
    env = subprocess_env(TELEMETRY_FLUSH_SECONDS="3600", Q_WORKERS="1")
    log = tmp_path / "qcluster.log"
    with qcluster(env, log_path=log) as cluster:
        async_task("tests.telemetry.tasks.count_once", "worker_exit_total", task_name="count-once")
        wait_for(
            lambda: Task.objects.filter(name="count-once", success=True).exists(),
            timeout=60,
            message=f"the worker did not run the task:\n{log.read_text(errors='replace')[-2000:]}",
        )
        assert not MetricCounter.objects.filter(name="worker_exit_total").exists()  # still in its memory
        os.kill(cluster.pid, signal.SIGTERM)  # a deploy stops the cluster; its workers exit
        cluster.wait(timeout=30)
    row = MetricCounter.objects.get(name="worker_exit_total")
    assert (row.labels, row.value) == ("source=worker", 1)
