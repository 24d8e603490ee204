"""A bulk set: replay or delete a fixed set of dead letters, paced, in the background (or in the
command's process), with a preview, progress, cancel, and an outcome that adds up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from deadletters.services import letter
from deadletters.services.letter import ReplayResult
from timedify_ops.audit.services import record_audit
from timedify_ops.queue import enqueue

events_log = logging.getLogger("timedify_ops.events")

BULK_TASK = "deadletters.tasks.run_bulk"
# One django-q2 task works on a bulk set this long, then hands over to a fresh task
# (django-q2 kills tasks after Q_TIMEOUT_S, and a long set may take hours at 10/s).
BULK_SLICE_S = 20.0
BULK_BATCH = 100
DELETE_BATCH = 200
MIN_RATE = 0.1
MAX_RATE = 100.0


def enqueue_runner(bulk: BulkAction, token) -> None:
    """Queue the set's runner with the token it takes the set with (timedify_ops.queue.enqueue)."""
    enqueue(BULK_TASK, bulk.pk, str(token), task_name=f"bulk-{bulk.kind}-{bulk.pk}", group="deadletters", save=False)


def settle_span_s() -> int:
    """How long outstanding replays may take to report before the sweeper closes the bulk anyway."""
    return 2 * (settings.DEADLETTER_REPLAY_LEASE_SECONDS + settings.DELIVERY_LEASE_SECONDS)


# --------------------------------------------------------------------------- the set


def set_queryset(
    kind: str,
    *,
    params: dict | None = None,
    ids: list[int] | None = None,
    cutoff_id: int | None = None,
    cutoff_at: datetime | None = None,
) -> QuerySet:
    """The dead letters a bulk action acts on: the selected ids, or the filter up to the cutoff;
    only those the action applies to (replay: open/failed; delete: anything not replaying)."""
    if ids is not None:
        qs = DeadLetter.objects.filter(pk__in=ids)
    else:
        qs = filters.apply(params or {}).queryset
        if cutoff_id is not None:
            qs = qs.filter(pk__lte=cutoff_id)
        if cutoff_at is not None:
            qs = qs.filter(created_at__lte=cutoff_at)
    statuses = DeadLetter.REPLAYABLE if kind == BulkAction.Kind.REPLAY else DeadLetter.DELETABLE
    return qs.filter(status__in=statuses)


def bulk_queryset(bulk: BulkAction) -> QuerySet:
    return set_queryset(bulk.kind, params=bulk.filter, ids=bulk.ids, cutoff_id=bulk.cutoff_id, cutoff_at=bulk.cutoff_at)


@dataclass
class BulkPreview:
    kind: str
    count: int | None  # None: more than filters.COUNT_CAP
    cutoff_id: int | None
    cutoff_at: datetime
    sample: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.count == 0

    @property
    def confirm_phrase(self) -> str:
        """What the operator types to confirm a bulk delete."""
        return str(self.count) if self.count is not None else f"{filters.COUNT_CAP}+"


def preview_bulk(kind: str, *, params: dict | None = None, ids: list[int] | None = None) -> BulkPreview:
    """Count the set as it stands now and fix its bounds (the highest matching id, and now):
    confirming later acts on these rows only, whatever dies in between."""
    now = timezone.now()
    qs = set_queryset(kind, params=params, ids=ids, cutoff_at=now)
    cutoff_id = qs.order_by("-pk").values_list("pk", flat=True).first()
    if cutoff_id is None:
        return BulkPreview(kind=kind, count=0, cutoff_id=None, cutoff_at=now)
    bounded = qs.filter(pk__lte=cutoff_id)
    sample = list(bounded.select_related("event").only(*filters.LIST_FIELDS).order_by("-created_at", "-pk")[:10])
    return BulkPreview(
        kind=kind, count=filters.capped_count(bounded), cutoff_id=cutoff_id, cutoff_at=now, sample=sample
    )


# --------------------------------------------------------------------------- start, cancel, finish


def start_bulk(
    kind: str,
    *,
    actor,
    params: dict | None = None,
    ids: list[int] | None = None,
    cutoff_id: int | None = None,
    cutoff_at: datetime | None = None,
    expected: int | None = None,
    rate: float | None = None,
    inline: bool = False,
) -> BulkAction:
    """Record the confirmed set, write the audit entry and (unless the caller runs it
    itself) queue the runner."""
    rate = min(MAX_RATE, max(MIN_RATE, rate or settings.DEADLETTER_BULK_RATE))
    now = timezone.now()
    with transaction.atomic():
        bulk = BulkAction.objects.create(
            kind=kind,
            created_by=actor if actor is not None and getattr(actor, "pk", None) else None,
            actor_name=letter.actor_name(actor)[:150],
            inline=inline,
            filter=dict(params or {}) if ids is None else {},
            ids=sorted(set(ids)) if ids is not None else None,
            cutoff_id=cutoff_id,
            cutoff_at=cutoff_at,
            expected=expected,
            rate=rate,
            runner_token=uuid4(),
            lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
        )
        how_many = str(expected) if expected is not None else f"more than {filters.COUNT_CAP}"
        scope = f"{len(bulk.ids)} selected" if bulk.ids is not None else filters.describe(bulk.filter)
        pace = f" at {rate:g}/s" if kind == BulkAction.Kind.REPLAY else ""
        record_audit(
            actor,
            f"deadletter.bulk_{kind}",
            target_type="bulkaction",
            target_id=bulk.pk,
            count=expected if expected is not None else filters.COUNT_CAP,
            summary=f"bulk {kind} of {how_many} dead letters ({scope}){pace}",
            details={
                "bulk_action": bulk.pk,
                "filter": bulk.filter,
                "ids": bulk.ids,
                "cutoff_id": cutoff_id,
                "cutoff_at": cutoff_at.isoformat() if cutoff_at else None,
                "expected": expected,
                "rate": rate,
            },
        )
        if not inline:
            enqueue_runner(bulk, bulk.runner_token)
    events_log.info("bulk %s %s started by %s: %s", kind, bulk.pk, bulk.actor_name, how_many)
    return bulk


def cancel_bulk(bulk_id: int, *, user) -> bool:
    """Ask the runner to stop before its next item; replays already handed out still finish."""
    name = letter.actor_name(user)[:150]
    with transaction.atomic():  # the page never shows a cancelled action without its summary
        cancelled = BulkAction.objects.cancel_queued(bulk_id, name)
        if cancelled:
            BulkAction.objects.get(pk=bulk_id).write_summary()
    if not cancelled and not BulkAction.objects.request_cancel(bulk_id, name):
        return False
    bulk = BulkAction.objects.get(pk=bulk_id)
    record_audit(
        user,
        f"deadletter.bulk_{bulk.kind}.cancel",
        target_type="bulkaction",
        target_id=bulk_id,
        count=bulk.seen,
        summary=f"cancelled bulk {bulk.kind} {bulk_id} after {bulk.seen} of {bulk.expected_label}",
        details={"bulk_action": bulk_id, "filter": bulk.filter},
    )
    return True


def stop_inline_bulk(bulk_id: int, *, actor) -> None:
    """The command was interrupted: what it reached stays counted, the rest is left alone."""
    BulkAction.objects.stop_dispatch(bulk_id, letter.actor_name(actor)[:150])
    finish_if_settled(bulk_id, force=True)


def finish_if_settled(bulk_id: int, *, force: bool = False) -> bool:
    """done/cancelled once the dispatch is complete and every item has an outcome (BulkAction.objects.
    finish_if_settled); the one run that finishes it writes the summary and says so."""
    with transaction.atomic():  # finished and summarised at once: the progress page never sees one alone
        if not BulkAction.objects.finish_if_settled(bulk_id, force=force):
            return False
        bulk = BulkAction.objects.get(pk=bulk_id)
        bulk.write_summary()
    events_log.info("bulk %s %s %s: %s", bulk.kind, bulk_id, bulk.status, bulk.summary)
    return True


def count_outcome(bulk_id: int, outcome: str) -> None:
    """A replay of the set reported back ("done" or "failed")."""
    BulkAction.objects.count_outcome(bulk_id, outcome, settle_span_s())
    finish_if_settled(bulk_id)


def replay_item(bulk_id: int, dead_letter_id: int, token, *, sleep=time.sleep) -> ReplayResult:
    """One replay of the set (its task, or the inline runner), reported to the set when it ended the claim."""
    result = letter.perform_replay(dead_letter_id, token, sleep=sleep)
    if result.ended:
        count_outcome(bulk_id, "done" if result.ok else "failed")
    return result


# --------------------------------------------------------------------------- the runner


def run_bulk(
    bulk_id: int,
    token: str | None = None,
    *,
    inline: bool = False,
    slice_s: float = BULK_SLICE_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_item: Callable[[BulkAction, int, ReplayResult | None], None] | None = None,
) -> str:
    """Work through a bulk action's fixed set, oldest first.

    1. Become its runner (the token it was handed, or an expired lease).
    2. Replay: for each item, stop if cancel was asked for; wait for the rate; claim it and
       queue its delivery (inline: deliver it here). Delete: batches of DELETE_BATCH.
       The cursor and counters move with every item, so a successor resumes where it stopped.
    3. After `slice_s` (background only): hand over to a fresh task with a new token.
    4. Set exhausted or cancelled: mark the dispatch complete; the bulk finishes when the
       last outstanding replay reports back (here at once for deletes and inline replays).
    """
    span_s = (settings.DELIVERY_LEASE_SECONDS if inline else 0) + slice_s + 60
    bulk = BulkAction.objects.take_slice(bulk_id, token, span_s)
    if bulk is None:
        return "skipped: another runner holds it, or it is finished"
    deadline = None if inline else clock() + slice_s
    try:
        if bulk.kind == BulkAction.Kind.REPLAY:
            complete = _replay_items(bulk, deadline, span_s, inline, sleep, clock, on_item)
        else:
            complete = _delete_items(bulk, deadline, span_s, clock)
    except Exception as error:
        with transaction.atomic():
            BulkAction.objects.fail(bulk_id, f"{type(error).__name__}: {error}"[:2000])
            BulkAction.objects.get(pk=bulk_id).write_summary()
        events_log.exception("bulk %s failed", bulk_id)
        raise
    if not complete:
        with transaction.atomic():
            handover = BulkAction.objects.hand_over(
                bulk_id, bulk.runner_token, settings.DEADLETTER_REPLAY_LEASE_SECONDS
            )
            if handover is not None:
                enqueue_runner(bulk, handover)
        return "continuing in a new task"
    BulkAction.objects.dispatched(bulk_id, settle_span_s())
    finish_if_settled(bulk_id)
    return BulkAction.objects.get(pk=bulk_id).describe_outcome()


def _cancel_asked(bulk_id: int) -> bool:
    return BulkAction.objects.filter(pk=bulk_id, cancel_requested=True).exists()


def _replay_items(bulk, deadline, span_s, inline, sleep, clock, on_item) -> bool:
    """True when the set is exhausted or cancelled, False when the time slice ran out."""
    base = bulk_queryset(bulk)
    interval = 1.0 / bulk.rate
    next_slot = clock()
    cursor = bulk.cursor_id
    while True:
        batch = list(base.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:BULK_BATCH])
        if not batch:
            return True
        for pk in batch:
            if _cancel_asked(bulk.pk):
                return True
            wait = next_slot - clock()
            if deadline is not None and clock() + max(wait, 0) >= deadline:
                return False  # the next item belongs to the next slice
            if wait > 0:
                sleep(wait)
            next_slot = clock() + interval
            with transaction.atomic():
                token = DeadLetter.objects.claim_replay(pk, user=bulk.created_by, bulk=bulk)
                if token is not None and not inline:
                    letter.enqueue_replay(pk, token, bulk.pk)
                BulkAction.objects.progress(
                    bulk.pk, cursor_id=pk, lease_s=span_s, seen=1, skipped=1 if token is None else 0
                )
            cursor = pk
            result = None
            if token is not None and inline:
                result = replay_item(bulk.pk, pk, token, sleep=sleep)
            if on_item is not None:
                on_item(bulk, pk, result)


def _delete_items(bulk, deadline, span_s, clock) -> bool:
    base = bulk_queryset(bulk)
    cursor = bulk.cursor_id
    while True:
        if _cancel_asked(bulk.pk):
            return True
        if deadline is not None and clock() >= deadline:
            return False
        batch = list(base.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:DELETE_BATCH])
        if not batch:
            return True
        with transaction.atomic():
            deleted = letter.delete_letters(batch)
            if deleted:
                record_audit(
                    bulk.created_by or bulk.actor_name,
                    "deadletter.bulk_delete.batch",
                    target_type="bulkaction",
                    target_id=bulk.pk,
                    count=len(deleted),
                    summary=f"bulk delete {bulk.pk}: deleted {len(deleted)} dead letters and their events",
                    details={"bulk_action": bulk.pk, "filter": bulk.filter, "deleted": deleted},
                )
            BulkAction.objects.progress(
                bulk.pk,
                cursor_id=batch[-1],
                lease_s=span_s,
                seen=len(batch),
                done=len(deleted),
                skipped=len(batch) - len(deleted),
            )
        cursor = batch[-1]
        events_log.info("bulk delete %s: deleted %d dead letters", bulk.pk, len(deleted))
