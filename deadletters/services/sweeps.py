"""The sweeps: nothing stays `replaying` or `running` forever, and replayed letters go in time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deadletters.models import BulkAction, DeadLetter
from deadletters.services import bulk as bulk_actions
from deadletters.services import letter
from timedify_ops.audit.services import record_audit

events_log = logging.getLogger("timedify_ops.events")


def sweep_stuck(batch: int = 500) -> dict[str, int]:
    """The "deadletters-sweep" job: nothing stays `replaying` or `running` forever.

    1. A replay claimed but never started once its lease ran out: its task was lost (or the
       queue is far behind): queue it again (a duplicate task finds the claim started and stops).
    2. A replay started but not finished by the end of its lease: the worker died mid-delivery.
       It is marked failed, not retried: the app may have received it, and an operator decides.
    3. A bulk runner whose lease ran out: a background one is resumed from its cursor; one run by
       the command (which has stopped) is marked failed; one waiting for replays that never
       reported is closed with what it has.
    """
    now = timezone.now()
    requeued = interrupted = resumed = closed = 0
    lost = DeadLetter.objects.lost_replays(now).values_list("pk", "replay_token", "bulk_action_id")
    for pk, token, bulk_id in lost[:batch]:
        with transaction.atomic():
            if DeadLetter.objects.requeue_lost(pk, token, now):
                letter.enqueue_replay(pk, token, bulk_id)
                requeued += 1
    dead = DeadLetter.objects.interrupted_replays(now).values_list("pk", "replay_token", "bulk_action_id")
    for pk, token, bulk_id in dead[:batch]:
        if DeadLetter.objects.fail_interrupted(pk, token, now):
            interrupted += 1
            events_log.warning("dead letter %s replay interrupted: its worker stopped", pk)
            if bulk_id is not None:
                bulk_actions.count_outcome(bulk_id, "failed")

    for bulk in BulkAction.objects.filter(status__in=BulkAction.ACTIVE, lease_until__lt=now)[:batch]:
        if bulk.dispatch_complete:
            if bulk_actions.finish_if_settled(bulk.pk, force=True):
                closed += 1
                if bulk.outstanding:
                    finished = BulkAction.objects.get(pk=bulk.pk)
                    finished.summary += f" ({bulk.outstanding} never reported back)"
                    finished.save(update_fields=["summary"])
        elif bulk.inline:
            with transaction.atomic():
                abandoned = BulkAction.objects.fail_abandoned(bulk.pk, now)
                if abandoned:
                    BulkAction.objects.get(pk=bulk.pk).write_summary()
            closed += abandoned
        else:
            with transaction.atomic():
                token = BulkAction.objects.resume_expired(bulk.pk, now, settings.DEADLETTER_REPLAY_LEASE_SECONDS)
                if token is not None:
                    bulk_actions.enqueue_runner(bulk, token)
                    resumed += 1
    summary = {"requeued": requeued, "interrupted": interrupted, "bulk_resumed": resumed, "bulk_closed": closed}
    if any(summary.values()):
        events_log.warning("dead-letter sweeper: %s", summary)
    return summary


def cleanup_replayed(older_than: timedelta, dry_run: bool, *, actor=None, now: datetime | None = None) -> int:
    """Delete dead letters replayed more than `older_than` ago; returns how many (or would).

    Only the dead-letter rows go: their events were delivered by the replay and stay, with
    every attempt, until retention removes old events. The partial index dl_replayed_at
    serves both the count and the batches.
    """
    cutoff = (now or timezone.now()) - older_than
    qs = DeadLetter.objects.filter(status=DeadLetter.Status.REPLAYED, replayed_at__lt=cutoff)
    if dry_run:
        return qs.count()
    total = 0
    while True:
        ids = list(qs.order_by("replayed_at").values_list("pk", flat=True)[:1000])
        if not ids:
            break
        deleted, _ = DeadLetter.objects.filter(pk__in=ids, status=DeadLetter.Status.REPLAYED).delete()
        total += deleted
    if total:
        record_audit(
            actor,
            "deadletter.cleanup",
            target_type="deadletter",
            count=total,
            summary=f"removed {total} dead letters replayed before {cutoff:%Y-%m-%d %H:%M} UTC",
            details={"older_than_s": older_than.total_seconds(), "cutoff": cutoff.isoformat()},
        )
    return total
