"""Concurrent claims, each thread on its own database connection (meant for PostgreSQL; SQLite
serialises the same UPDATEs with its write lock and must give the same answers)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from deadletters.models import DeadLetter
from deadletters.services import letter as letters
from tests.conftest import queued_tasks
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def race_all(funcs: list) -> list:
    """Run each callable in its own thread, released together; each closes its own connection."""
    barrier = threading.Barrier(len(funcs))

    def one(func):
        try:
            barrier.wait(timeout=10)
            return func()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(funcs)) as pool:
        return list(pool.map(one, funcs))


def race(func, count: int = THREADS) -> list:
    return race_all([func] * count)


def test_eight_simultaneous_replay_clicks_queue_exactly_one_delivery(operator, empty_queue):
    letter = make_dead_letter()
    results = race(lambda: letters.request_replay(letter.pk, user=operator) is not None)
    assert results.count(True) == 1
    assert [t["args"][0] for t in queued_tasks()] == [letter.pk]
    assert AuditEntry.objects.filter(action="deadletter.replay").count() == 1
    assert DeadLetter.objects.get(pk=letter.pk).status == DeadLetter.Status.REPLAYING


def test_simultaneous_workers_with_the_same_claim_deliver_once(operator, target, fast_budget):
    target.expect_request("/webhooks").respond_with_data("ok")
    letter = make_dead_letter()
    token = DeadLetter.objects.claim_replay(letter.pk, user=operator)
    outcomes = race(lambda: letters.perform_replay(letter.pk, token).status, count=4)
    assert sorted(outcomes) == ["replayed", "skipped", "skipped", "skipped"]
    assert len(target.log) == 1
    assert DeadLetter.objects.get(pk=letter.pk).status == DeadLetter.Status.REPLAYED


def test_a_replay_and_a_delete_at_once_never_both_act(operator):
    for _ in range(5):
        pk = make_dead_letter().pk
        claimed, deleted = race_all(
            [
                lambda pk=pk: DeadLetter.objects.claim_replay(pk, user=operator) is not None,
                lambda pk=pk: letters.delete_dead_letter(pk, user=operator) is not None,
            ]
        )
        still_there = DeadLetter.objects.filter(pk=pk).exists()
        # Either the delete won (the claim then found nothing), or the claim won (and the
        # delete refused a letter whose replay is in flight): never a replay of a deleted row.
        assert (claimed, deleted, still_there) in [(False, True, False), (True, False, True)]
