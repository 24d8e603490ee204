"""One dead letter: replay it (the button, the command, the task) or delete it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from deadletters.models import DeadLetter
from timedify_ops.audit.services import record_audit
from timedify_ops.queue import enqueue
from webhooks import services as webhook_services
from webhooks.models import WebhookEvent

events_log = logging.getLogger("timedify_ops.events")

REPLAY_HEADER = "X-Timedify-Replay"
REPLAY_TASK = "deadletters.tasks.replay"


def actor_name(actor) -> str:
    if actor is not None and getattr(actor, "pk", None):
        return actor.get_username()
    return str(actor) if actor else "system"


def enqueue_replay(dead_letter_id: int, token, bulk_id: int | None) -> None:
    """Queue the replay task with the claim it carries out (timedify_ops.queue.enqueue); a push that
    Redis refuses after the commit is queued again by the sweeper."""
    enqueue(
        REPLAY_TASK,
        dead_letter_id,
        str(token),
        bulk_id,
        task_name=f"replay-{dead_letter_id}",
        group="deadletters",
        save=False,
    )


def letter_facts(letter: DeadLetter) -> dict:
    """What the audit trail keeps about a dead letter (also after it is deleted)."""
    return {
        "id": letter.pk,
        "topic": letter.topic,
        "shop": letter.shop_domain,
        "webhook_id": letter.event.webhook_id,
        "status": letter.status,
    }


# --------------------------------------------------------------------------- replay


@dataclass
class ReplayResult:
    dead_letter_id: int
    status: str  # "replayed", "failed" or "skipped"
    message: str
    # This run moved the letter out of `replaying` (so it, and only it, reports to its bulk action).
    ended: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "replayed"


def _audit_replay(dead_letter_id: int, actor) -> DeadLetter:
    letter = DeadLetter.objects.select_related("event").get(pk=dead_letter_id)
    facts = letter_facts(letter)
    record_audit(
        actor,
        "deadletter.replay",
        target_type="deadletter",
        target_id=dead_letter_id,
        summary=f"replay requested: {letter.topic} for {letter.shop_domain} (webhook {facts['webhook_id']})",
        details=facts,
    )
    events_log.info("dead letter %s replay requested by %s", dead_letter_id, actor_name(actor))
    return letter


def request_replay(dead_letter_id: int, *, user) -> DeadLetter | None:
    """The Replay button: claim, queue the delivery, write the audit entry. None if not claimable."""
    with transaction.atomic():
        token = DeadLetter.objects.claim_replay(dead_letter_id, user=user)
        if token is None:
            return None
        enqueue_replay(dead_letter_id, token, None)
        return _audit_replay(dead_letter_id, user)


def replay_now(dead_letter_id: int, *, actor, sleep=time.sleep) -> ReplayResult:
    """`replay_deadletters --replay`: the same claim and audit, then the delivery in this process."""
    with transaction.atomic():
        token = DeadLetter.objects.claim_replay(dead_letter_id, user=actor)
        if token is None:
            status = DeadLetter.objects.filter(pk=dead_letter_id).values_list("status", flat=True).first()
            why = f"it is {status}" if status else "no such dead letter"
            return ReplayResult(dead_letter_id, "skipped", f"not replayed: {why}")
        _audit_replay(dead_letter_id, actor)
    return perform_replay(dead_letter_id, token, sleep=sleep)


def perform_replay(dead_letter_id: int, token: str | uuid.UUID, *, sleep=time.sleep) -> ReplayResult:
    """Deliver a claimed dead letter once more (the task and the command call this).

    1. Start the claim: only the token's holder, and only once (a duplicate task is a no-op).
    2. Run the retry budget with `X-Timedify-Replay: <id>`; every try is a DeliveryAttempt.
    3. 2xx → replayed, and the event delivered. Otherwise → failed, with the new reason.
    4. Say whether this run ended the claim (`ended`): only that run reports to a bulk action, so a
       duplicate task or a letter the sweeper already gave up on is never counted twice.
    """
    if not DeadLetter.objects.start_replay(dead_letter_id, token):
        return ReplayResult(dead_letter_id, "skipped", "not replayed: the claim was taken over, finished or deleted")

    letter = DeadLetter.objects.select_related("event", "replay_requested_by").get(pk=dead_letter_id)
    user = letter.replay_requested_by
    try:
        outcome = webhook_services.run_attempts(
            letter.event, replayed_by=user, extra_headers={REPLAY_HEADER: str(letter.pk)}, sleep=sleep
        )
    except Exception as error:  # a bug or a lost database must not leave the letter `replaying`
        events_log.exception("dead letter %s replay crashed", dead_letter_id)
        outcome = webhook_services.Outcome(
            delivered=False, attempts=0, last=None, reason=f"replay crashed: {type(error).__name__}: {error}"[:500]
        )

    finished_at = timezone.now()
    last = outcome.last
    if outcome.delivered:
        with transaction.atomic():
            ended = DeadLetter.objects.settle_replay(
                dead_letter_id,
                token,
                status=DeadLetter.Status.REPLAYED,
                replayed_at=finished_at,
                replayed_by=user,
                replay_count=F("replay_count") + 1,
                last_status_code=last.status_code,
                last_error="",
                replay_lease_until=None,
            )
            WebhookEvent.objects.mark_replayed(letter.event_id, finished_at)
        events_log.info(
            "dead letter %s replayed: topic=%s shop=%s webhook_id=%s",
            dead_letter_id,
            letter.topic,
            letter.shop_domain,
            letter.event.webhook_id,
        )
        return ReplayResult(dead_letter_id, "replayed", f"replayed: HTTP {last.status_code}", ended=ended)
    ended = DeadLetter.objects.settle_replay(
        dead_letter_id,
        token,
        status=DeadLetter.Status.FAILED,
        reason=outcome.reason,
        replay_count=F("replay_count") + 1,
        last_status_code=last.status_code if last else None,
        last_error=((last.error or last.excerpt[:500]) if last else outcome.reason)[:2000],
        replay_lease_until=None,
    )
    events_log.warning(
        "dead letter %s replay failed: topic=%s shop=%s webhook_id=%s reason=%s",
        dead_letter_id,
        letter.topic,
        letter.shop_domain,
        letter.event.webhook_id,
        outcome.reason,
    )
    return ReplayResult(dead_letter_id, "failed", f"failed: {outcome.reason}", ended=ended)


# --------------------------------------------------------------------------- delete


def delete_letters(ids: Iterable[int]) -> list[dict]:
    """Delete the dead letters among `ids` that may be deleted, with their events (the
    attempts cascade). Rows are locked and re-checked first, so a replay claimed meanwhile
    is left alone. Returns the facts of what was deleted, for the audit trail."""
    with transaction.atomic():
        letters = list(
            DeadLetter.objects.select_for_update(of=("self",))
            .select_related("event")
            .only("pk", "status", "topic", "shop_domain", "event__webhook_id")
            .filter(pk__in=list(ids), status__in=DeadLetter.DELETABLE)
            .order_by("pk")
        )
        if not letters:
            return []
        facts = [letter_facts(letter) for letter in letters]
        WebhookEvent.objects.filter(pk__in=[letter.event_id for letter in letters]).delete()
    return facts


def delete_dead_letter(dead_letter_id: int, *, user) -> dict | None:
    """Remove one dead letter and its event; None if it is gone or its replay is in flight."""
    with transaction.atomic():
        deleted = delete_letters([dead_letter_id])
        if not deleted:
            return None
        facts = deleted[0]
        record_audit(
            user,
            "deadletter.delete",
            target_type="deadletter",
            target_id=dead_letter_id,
            summary=f"deleted {facts['topic']} for {facts['shop']} (webhook {facts['webhook_id']})",
            details=facts,
        )
    events_log.info("dead letter %s deleted by %s", dead_letter_id, actor_name(user))
    return facts
