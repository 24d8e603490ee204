"""Replaying one dead letter: the claim, the re-signed delivery, the outcome, the sweeper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deadletters.models import DeadLetter
from deadletters.services import letter as letters
from deadletters.services import sweeps
from tests.conftest import queued_tasks, run_queued_tasks
from tests.deadletters.conftest import make_dead_letter
from timedify_ops.audit.models import AuditEntry
from timedify_ops.lib import signing
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_a_replay_is_claimed_once_queued_and_audited(operator, empty_queue):
    letter = make_dead_letter()
    assert letters.request_replay(letter.pk, user=operator) is not None
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYING
    assert letter.replay_requested_by == operator
    assert letter.replay_lease_until > timezone.now()
    # The second click finds it replaying: nothing more is queued or audited.
    assert letters.request_replay(letter.pk, user=operator) is None
    tasks = queued_tasks()
    assert [(t["func"], t["args"][0]) for t in tasks] == [(letters.REPLAY_TASK, letter.pk)]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type, entry.target_id, entry.actor) == (
        "deadletter.replay",
        "deadletter",
        str(letter.pk),
        operator,
    )
    assert entry.details["webhook_id"] == letter.event.webhook_id


def test_replayed_and_replaying_letters_cannot_be_claimed(operator):
    for status in (DeadLetter.Status.REPLAYING, DeadLetter.Status.REPLAYED):
        assert DeadLetter.objects.claim_replay(make_dead_letter(status=status).pk, user=operator) is None
    assert (
        DeadLetter.objects.claim_replay(make_dead_letter(status=DeadLetter.Status.FAILED).pk, user=operator) is not None
    )


def test_a_replay_redelivers_the_same_bytes_re_signed_with_the_replay_header(
    dead_letter_via_pipeline, target, operator, empty_queue
):
    letter = dead_letter_via_pipeline(webhook_id="wh-replay-me", topic="customers/redact")
    event = letter.event
    assert event.attempts == 5
    target.expect_request("/webhooks").respond_with_data("thanks")

    letters.request_replay(letter.pk, user=operator)
    assert run_queued_tasks() == ["replayed: HTTP 200"]

    request, _ = target.log[0]
    assert request.get_data() == event.body_bytes
    assert request.headers["X-Shopify-Hmac-Sha256"] == signing.sign(event.body_bytes, "shpss_test_current_secret")
    assert request.headers["X-Shopify-Topic"] == "customers/redact"
    assert request.headers["X-Shopify-Webhook-Id"] == "wh-replay-me"
    assert request.headers["X-Timedify-Replay"] == str(letter.pk)
    assert request.headers["X-Timedify-Attempt"] == "6"

    letter.refresh_from_db()
    event.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED
    assert letter.replayed_by == operator and letter.replayed_at is not None
    assert letter.replay_count == 1 and letter.last_status_code == 200
    assert event.status == WebhookEvent.Status.DELIVERED and event.delivered_at is not None
    attempts = list(event.delivery_attempts.order_by("number"))
    assert [a.is_replay for a in attempts] == [False] * 5 + [True]
    assert attempts[-1].replayed_by == operator


def test_a_failed_replay_keeps_every_new_attempt_and_can_be_replayed_again(
    dead_letter_via_pipeline, target, operator, empty_queue
):
    letter = dead_letter_via_pipeline()
    target.expect_request("/webhooks").respond_with_data("still broken", status=503)
    letters.request_replay(letter.pk, user=operator)
    assert run_queued_tasks() == ["failed: HTTP 503 after 5 attempts (retry budget spent)"]

    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.FAILED
    assert letter.last_status_code == 503
    assert letter.last_error == "still broken"
    assert letter.event.status == WebhookEvent.Status.DEAD_LETTERED
    assert letter.event.delivery_attempts.filter(is_replay=True).count() == 5
    assert letter.event.delivery_attempts.count() == 10

    target.clear()
    target.expect_request("/webhooks").respond_with_data("ok")
    assert DeadLetter.objects.claim_replay(letter.pk, user=operator) is not None


def test_a_permanent_refusal_fails_after_one_attempt(target, fast_budget, operator, empty_queue):
    letter = make_dead_letter(attempts=1)
    target.expect_request("/webhooks").respond_with_data("gone", status=410)
    result = letters.replay_now(letter.pk, actor=operator)
    assert result.status == "failed"
    assert "permanent" in result.message
    letter.refresh_from_db()
    assert letter.reason.startswith("HTTP 410")
    assert letter.event.delivery_attempts.count() == 2


def test_a_network_error_is_recorded_as_such(settings, fast_budget, operator):
    settings.WEBHOOK_TARGET_URL = "http://127.0.0.1:9/closed"
    letter = make_dead_letter()
    assert letters.replay_now(letter.pk, actor=operator).status == "failed"
    letter.refresh_from_db()
    assert letter.last_status_code is None
    assert letter.last_error
    assert letter.last_outcome == "network error"


def test_a_duplicate_task_for_one_claim_delivers_once(target, fast_budget, operator):
    letter = make_dead_letter()
    target.expect_request("/webhooks").respond_with_data("ok")
    token = DeadLetter.objects.claim_replay(letter.pk, user=operator)
    first = letters.perform_replay(letter.pk, token)
    second = letters.perform_replay(letter.pk, token)
    assert (first.status, second.status) == ("replayed", "skipped")
    assert len(target.log) == 1


def test_a_stale_token_cannot_start_a_replay(target, operator):
    letter = make_dead_letter()
    DeadLetter.objects.claim_replay(letter.pk, user=operator)
    assert letters.perform_replay(letter.pk, "00000000-0000-0000-0000-000000000000").status == "skipped"
    assert target.log == []


def test_a_crash_during_delivery_leaves_the_letter_failed_not_replaying(operator, monkeypatch):
    from webhooks import services as webhook_services

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(webhook_services, "run_attempts", explode)
    letter = make_dead_letter()
    result = letters.replay_now(letter.pk, actor=operator)
    assert result.status == "failed"
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.FAILED
    assert "replay crashed: RuntimeError" in letter.reason


def test_the_sweeper_requeues_a_claim_whose_task_was_lost(operator, empty_queue):
    letter = make_dead_letter()
    token = DeadLetter.objects.claim_replay(letter.pk, user=operator)  # claimed, but the enqueue never happened
    assert sweeps.sweep_stuck()["requeued"] == 0  # the lease still runs
    DeadLetter.objects.filter(pk=letter.pk).update(replay_lease_until=timezone.now() - timedelta(seconds=1))
    assert sweeps.sweep_stuck()["requeued"] == 1
    tasks = queued_tasks()
    assert [t["args"][:2] for t in tasks] == [(letter.pk, str(token))]
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYING
    assert letter.replay_lease_until > timezone.now()


def test_the_sweeper_fails_a_replay_whose_worker_died_mid_delivery(operator):
    letter = make_dead_letter()
    DeadLetter.objects.claim_replay(letter.pk, user=operator)
    past = timezone.now() - timedelta(seconds=1)
    DeadLetter.objects.filter(pk=letter.pk).update(replay_started_at=past, replay_lease_until=past)
    assert sweeps.sweep_stuck()["interrupted"] == 1
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.FAILED
    assert "replay interrupted" in letter.last_error
    assert letter.is_replayable


def test_the_sweeper_is_a_scheduled_job():
    from timedify_ops.jobs.registry import get_job

    assert get_job("deadletters-sweep").func == "deadletters.services.sweeps.sweep_stuck"
