"""Ingress latency and outcomes are measured in memory and flushed with additive upserts."""

import multiprocessing
import os

import pytest
from django.db import connection

from tests.conftest import post_webhook
from timedify_ops.lib.telemetry import Batch
from timedify_ops.telemetry import measure
from timedify_ops.telemetry.models import LatencyMinute, MetricCounter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_recorder():
    measure.recorder.flush()
    LatencyMinute.objects.all().delete()
    MetricCounter.objects.all().delete()


def test_each_ingress_answer_is_timed_and_counted_by_outcome(client, empty_queue, django_assert_num_queries):
    post_webhook(client, webhook_id="t-1", topic="shop/redact")
    post_webhook(client, webhook_id="t-1", topic="shop/redact")
    post_webhook(client, webhook_id="t-2", secret="wrong")
    assert not LatencyMinute.objects.exists()  # nothing written on the request path
    measure.recorder.flush()

    rows = {row.labels: row for row in LatencyMinute.objects.filter(series="ingress")}
    assert set(rows) == {
        "outcome=accepted,synthetic=0",
        "outcome=duplicate,synthetic=0",
        "outcome=unauthorized,synthetic=0",
    }
    assert all(row.count == 1 and row.histogram().count == 1 for row in rows.values())
    counters = {(c.name, c.labels): c.value for c in MetricCounter.objects.all()}
    assert counters[("webhooks_ingress_total", "outcome=accepted,topic=shop/redact")] == 1
    assert counters[("webhooks_ingress_total", "outcome=duplicate,topic=shop/redact")] == 1


def test_the_ingress_makes_no_query_for_telemetry(client, empty_queue, django_assert_max_num_queries):
    # One savepoint-wrapped insert of the event and one of the queue row; telemetry adds none.
    with django_assert_max_num_queries(4):
        post_webhook(client, webhook_id="t-queries")


def test_flushes_add_up_instead_of_overwriting():
    for _ in range(3):
        measure.observe("ingress", 42, outcome="accepted", synthetic="0")
        measure.count("webhooks_ingress_total", outcome="accepted", topic="a/b")
        measure.recorder.flush()
    row = LatencyMinute.objects.get(series="ingress")
    assert row.count == 3 and row.sum_ms == 126
    assert row.histogram().fraction_le(50) == 1.0
    assert MetricCounter.objects.get().value == 3


def _flush_in_a_child(db_settings, n):
    """A separate process (as a gunicorn worker is) flushing its own batch."""
    import django
    from django.db import connections

    connections["default"].close()
    connections.settings["default"] = db_settings
    django.setup()
    batch = Batch()
    from timedify_ops.lib.histogram import Histogram

    histogram = Histogram()
    for _ in range(n):
        histogram.observe(80)
    batch.histograms[(0, "ingress", (("outcome", "accepted"),))] = histogram
    batch.counters[("webhooks_ingress_total", (("outcome", "accepted"),))] = n
    measure.flush_batch(batch)
    connections["default"].close()
    os._exit(0)


@pytest.mark.django_db(transaction=True)
def test_flushes_from_several_processes_add_up():
    ctx = multiprocessing.get_context("fork")
    connection.close()
    children = [ctx.Process(target=_flush_in_a_child, args=(connection.settings_dict, n)) for n in (5, 7, 11)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    row = LatencyMinute.objects.get(series="ingress")
    assert row.count == 23
    assert row.histogram().count_le(100) == 23
    assert MetricCounter.objects.get(name="webhooks_ingress_total").value == 23
