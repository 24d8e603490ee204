"""Load: thousands of signed webhooks, concurrently, through gunicorn (4 workers) and a real
django-q2 cluster, to an app that fails 1 % of deliveries with 500 and is sometimes slow.

What it proves: every 200 has a stored event; every event ends delivered or dead-lettered; no
webhook id is delivered successfully twice; a duplicate posted at the same moment as its original
produces one event and one delivery.

Size: 2,000 webhooks plus 100 duplicate pairs on PostgreSQL. On SQLite (one writer at a time,
the embedded default) the same proof runs with 400 plus 20, to keep the suite's time in bounds.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db.models import Count, Q

from deadletters.models import DeadLetter
from tests.live import gunicorn, wait_for
from tests.proof.conftest import is_postgresql, killable_qcluster, post_all, proof_env, tail
from webhooks.models import DeliveryAttempt, WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]

SENDER_ROUNDS = 5


def test_nothing_is_lost_or_delivered_twice_under_load(fake_app, tmp_path):
    unique, pairs = (2000, 100) if is_postgresql() else (400, 20)
    run = uuid.uuid4().hex[:8]
    ids = [f"load-{run}-{n:05d}" for n in range(unique)]
    poison = set(ids[::100])  # 1 %: always answered 500, so dead-lettered after five attempts
    duplicated = [f"dup-{run}-{n:04d}" for n in range(pairs)]
    fake_app.fail_ids = poison
    fake_app.fail_rate = 0.01  # and 1 % of all other answers: retried, then delivered
    fake_app.slow_rate, fake_app.slow_s = 0.02, 0.2

    jobs: list[tuple[str, threading.Barrier | None]] = [(webhook_id, None) for webhook_id in ids]
    for k, webhook_id in enumerate(duplicated):
        barrier = threading.Barrier(2)
        position = (k * len(ids)) // pairs + 2 * k
        jobs[position:position] = [(webhook_id, barrier), (webhook_id, barrier)]

    # Attempts get Shopify's 5 s, so a delivery the app answered is never timed out by a busy
    # machine (which would rightly send it again: at least once); the lease keeps its default.
    env = proof_env(fake_app, Q_WORKERS="4", DELIVERY_TIMEOUT_S="5", DELIVERY_LEASE_SECONDS="")
    q_log, web_log = tmp_path / "q.log", tmp_path / "gunicorn.log"
    with gunicorn(env, workers=4, log_path=web_log) as base, killable_qcluster(env, q_log):
        answers = post_all(base, jobs)
        # Shopify retries whatever did not get a 200; so does this sender, a few rounds.
        for _ in range(SENDER_ROUNDS):
            missing = sorted({a.webhook_id for a in answers} - {a.webhook_id for a in answers if a.status == 200})
            if not missing:
                break
            answers += post_all(base, [(webhook_id, None) for webhook_id in missing])

        def settled():
            return not WebhookEvent.objects.filter(status__in=["received", "delivering"]).exists()

        wait_for(settled, timeout=180, interval=0.5, message=f"events still moving; qcluster log:\n{tail(q_log)}")

    statuses = {a.status for a in answers}
    assert statuses <= {200, 503}, f"unexpected answers {statuses}; gunicorn log:\n{tail(web_log)}"
    everything = set(ids) | set(duplicated)
    accepted = {a.webhook_id for a in answers if a.status == 200}
    assert accepted == everything

    # Every 200 has a stored event, and nothing else was stored.
    stored = set(WebhookEvent.objects.values_list("webhook_id", flat=True))
    assert stored == everything

    # Every event ended delivered or dead-lettered; exactly the poisoned ones are dead letters.
    by_status = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")))
    assert set(by_status) <= {"delivered", "dead_lettered"}
    dead = set(WebhookEvent.objects.filter(status="dead_lettered").values_list("webhook_id", flat=True))
    assert dead == poison
    assert set(DeadLetter.objects.values_list("event__webhook_id", flat=True)) == poison
    assert set(WebhookEvent.objects.filter(status="dead_lettered").values_list("attempts", flat=True)) == {5}

    # No webhook id was delivered successfully twice: by timedify-ops' record (one 2xx attempt
    # at most per event) and by the app's own count of the 2xx it answered per Webhook-Id.
    ok_attempts = (
        DeliveryAttempt.objects.filter(status_code__gte=200, status_code__lte=299)
        .values("event")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(ok_attempts) == []
    ok = fake_app.ok_counts()
    assert {webhook_id for webhook_id, n in ok.items() if n == 1} == everything - poison
    doubled = {webhook_id for webhook_id, n in ok.items() if n > 1}
    # A second delivery is only legitimate when the first answer never reached the forwarder
    # (a timeout after the app had processed it: at least once). With 5 s attempts there are none.
    timed_out = set(
        DeliveryAttempt.objects.filter(Q(status_code__isnull=True)).values_list("event__webhook_id", flat=True)
    )
    assert doubled <= timed_out
    assert not doubled

    # Duplicates posted concurrently: one accepted, one answered "duplicate", one event, one delivery.
    for webhook_id in duplicated:
        outcomes = sorted(a.outcome for a in answers if a.webhook_id == webhook_id and a.status == 200)
        assert outcomes == ["accepted", "duplicate"], webhook_id
    assert set(WebhookEvent.objects.filter(webhook_id__in=duplicated).values_list("duplicates", flat=True)) == {1}

    # The app saw every forward re-signed, and the transient 500s were retried, not dead-lettered.
    received = fake_app.requests()
    assert all(r.signed for r in received)
    assert any(r.status == 500 and r.webhook_id not in poison for r in received)
