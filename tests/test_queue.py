"""enqueue(): a task never runs before its rows exist, on either broker."""

import pytest
from django.db import transaction

from tests.conftest import queued_tasks
from timedify_ops import queue
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.queue]


def make_event(webhook_id: str) -> WebhookEvent:
    return WebhookEvent.objects.create(webhook_id=webhook_id, topic="app/uninstalled", shop_domain="a.myshopify.com")


def test_a_task_queued_in_a_transaction_that_rolls_back_is_gone_with_its_rows(empty_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue("webhooks.tasks.deliver", make_event("rolled-back").pk, task_name="t-1")
        raise RuntimeError("the caller fails after queueing")
    assert not WebhookEvent.objects.exists()
    assert queued_tasks() == []


def test_a_task_queued_in_a_transaction_is_there_once_it_commits(empty_queue):
    with transaction.atomic():
        event = make_event("committed")
        queue.enqueue("webhooks.tasks.deliver", event.pk, task_name="t-2", group="deliveries")
    [task] = queued_tasks()
    assert (task["func"], task["args"], task["name"], task["group"]) == (
        "webhooks.tasks.deliver",
        (event.pk,),
        "t-2",
        "deliveries",
    )


def test_outside_a_transaction_it_is_pushed_at_once_and_says_its_id(empty_queue):
    task_id = queue.enqueue("timedify_ops.schedules.run_job", "worker-heartbeat", trigger="manual", user_id=None)
    [task] = queued_tasks()
    assert task["id"] == task_id
    assert task["kwargs"] == {"trigger": "manual", "user_id": None}


def test_with_redis_the_push_waits_for_the_commit(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    pushed = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **options: pushed.append(args) or "an-id")
    with transaction.atomic():
        assert queue.enqueue("webhooks.tasks.deliver", 7, task_name="t-3") is None
        assert pushed == []
    assert pushed == [(7,)]
    assert queue.enqueue("webhooks.tasks.deliver", 8, task_name="t-4") == "an-id"  # no transaction: at once
