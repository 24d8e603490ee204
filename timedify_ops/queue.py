"""enqueue(): the one way a django-q2 task is queued, so it never runs before its rows exist.

ORM broker: the queue row is written at once, in the caller's transaction, so the rows and their
task exist together or not at all. Redis inside a transaction: the push waits for the commit (a
worker must find the rows), and a push that fails then is logged, not raised: the sweepers queue
deliveries, replays and bulk actions again. Redis outside a transaction: pushed at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task


def enqueue(func: str, *args, **options) -> str | None:
    """Queue `func(*args)` (django-q2 options such as task_name, group, save, and the task's own
    keyword arguments in `options`); returns the task id, or None while the push waits for the commit."""
    pushed: list[str] = []

    def push() -> None:
        pushed.append(async_task(func, *args, **options))

    if settings.REDIS_URL and transaction.get_connection().in_atomic_block:
        transaction.on_commit(push, robust=True)
    else:
        push()
    return pushed[0] if pushed else None
