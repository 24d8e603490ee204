"""The stale-event sweeper: nothing stays undelivered because an enqueue or a worker was lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import post_webhook, queued_tasks, run_queued_tasks
from webhooks import services
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_it_redelivers_an_event_whose_worker_died_mid_delivery(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    post_webhook(client, webhook_id="wh-orphan")
    queued_tasks()  # the worker took the task …
    event = WebhookEvent.objects.get(webhook_id="wh-orphan")
    assert WebhookEvent.objects.claim_delivery(event.pk)  # … claimed the event, and was killed.

    assert services.sweep_stale_events() == {"requeued": 0}  # the lease is still running
    WebhookEvent.objects.filter(pk=event.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert services.sweep_stale_events() == {"requeued": 1}
    assert run_queued_tasks() == ["delivered"]
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DELIVERED
    assert len(target.log) == 1


def test_it_requeues_an_event_whose_enqueue_was_lost(client, target, settings, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    post_webhook(client, webhook_id="wh-lost")
    queued_tasks()  # lost
    WebhookEvent.objects.filter(webhook_id="wh-lost").update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_STALE_SECONDS + 1)
    )
    assert services.sweep_stale_events() == {"requeued": 1}
    assert services.sweep_stale_events() == {"requeued": 0}  # enqueued_at moved on
    assert run_queued_tasks() == ["delivered"]


def test_it_leaves_fresh_and_finished_events_alone(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    post_webhook(client, webhook_id="wh-fresh")
    assert services.sweep_stale_events() == {"requeued": 0}
    run_queued_tasks()
    WebhookEvent.objects.update(enqueued_at=timezone.now() - timedelta(days=1))
    assert services.sweep_stale_events() == {"requeued": 0}


def test_an_extra_task_for_a_moving_event_is_harmless(client, target, empty_queue):
    target.expect_request("/webhooks").respond_with_data("ok")
    post_webhook(client, webhook_id="wh-twice")
    event = WebhookEvent.objects.get(webhook_id="wh-twice")
    services.enqueue_delivery(event.pk)  # e.g. the sweeper and the original task both queued
    results = run_queued_tasks()
    assert sorted(results) == ["delivered", "skipped: already claimed or finished"]
    assert len(target.log) == 1
