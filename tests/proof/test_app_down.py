"""Fault: the app down for a while. Its events dead-letter; once it is back, one bulk replay by
filter delivers every one of them exactly once."""

from __future__ import annotations

import uuid

import pytest

from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from tests.live import gunicorn, wait_for
from tests.proof.conftest import killable_qcluster, post_all, proof_env, tail
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.e2e, pytest.mark.queue, pytest.mark.django_db(transaction=True)]

COUNT = 40


def test_events_dead_lettered_while_the_app_was_down_are_delivered_once_by_one_bulk_replay(
    fake_app, operator, tmp_path
):
    run = uuid.uuid4().hex[:8]
    ids = [f"down-{run}-{n:03d}" for n in range(COUNT)]
    env = proof_env(fake_app, Q_WORKERS="2")
    q_log = tmp_path / "q.log"
    fake_app.down()  # connection refused from now on

    with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as base, killable_qcluster(env, q_log):
        answers = post_all(base, [(webhook_id, None) for webhook_id in ids], threads=8)
        assert {a.status for a in answers} == {200}
        wait_for(
            lambda: DeadLetter.objects.count() == COUNT,
            timeout=60,
            interval=0.25,
            message=f"the events did not all dead-letter:\n{tail(q_log)}",
        )
        assert fake_app.requests() == []
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"dead_lettered"}
        assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {5}
        assert all("network error" in reason for reason in DeadLetter.objects.values_list("reason", flat=True))

        fake_app.up()  # the same port again
        # What the console's "Replay all matching" does: preview (fixes the set), then confirm.
        preview = bulk_actions.preview_bulk(BulkAction.Kind.REPLAY, params={})
        assert preview.count == COUNT
        bulk = bulk_actions.start_bulk(
            BulkAction.Kind.REPLAY,
            actor=operator,
            params={},
            cutoff_id=preview.cutoff_id,
            cutoff_at=preview.cutoff_at,
            expected=preview.count,
            rate=100,
        )
        wait_for(
            lambda: BulkAction.objects.filter(pk=bulk.pk, status=BulkAction.Status.DONE).exists(),
            timeout=60,
            interval=0.25,
            message=f"the bulk replay did not finish:\n{tail(q_log)}",
        )

    bulk.refresh_from_db()
    assert (bulk.seen, bulk.done, bulk.failed, bulk.skipped) == (COUNT, COUNT, 0, 0)
    assert set(DeadLetter.objects.values_list("status", flat=True)) == {DeadLetter.Status.REPLAYED}
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert fake_app.ok_counts() == dict.fromkeys(ids, 1)  # every one, exactly once
    received = fake_app.requests()
    assert all(r.replay and r.signed for r in received)
    assert {r.attempt for r in received} == {"6"}  # the five lost tries stay on record; the replay is the sixth
