"""Dead-letter actions: replay, delete, bulk replay/delete, cleanup and the sweeper.

One action, one function; the views, the django-q2 tasks and `replay_deadletters` call these.

    view "Replay"        → request_replay (claim + enqueue) ─▶ task deadletters.tasks.replay → perform_replay
    command --replay ID  → claim_replay + perform_replay, in the command's process
    view bulk "Confirm"  → start_bulk ─▶ task deadletters.tasks.run_bulk → run_bulk (time slices, continues itself)
    command --replay-all → start_bulk(inline=True) + run_bulk(inline=True)
    view "Delete"        → delete_dead_letter
    schedule "deadletters-sweep" → sweep_stuck
    command --cleanup, retention → cleanup_replayed
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from deadletters import filters
from deadletters.models import BulkAction, DeadLetter
from timedify_ops.audit.services import record_audit
from timedify_ops.queue import enqueue
from webhooks import services as webhook_services
from webhooks.models import WebhookEvent

events_log = logging.getLogger("timedify_ops.events")

REPLAY_HEADER = "X-Timedify-Replay"
REPLAY_TASK = "deadletters.tasks.replay"
BULK_TASK = "deadletters.tasks.run_bulk"
# Counts shown before a bulk action stop here, so a preview never walks a huge table.
COUNT_CAP = 10_000
# One django-q2 task works on a bulk set this long, then hands over to a fresh task
# (django-q2 kills tasks after Q_TIMEOUT_S, and a long set may take hours at 10/s).
BULK_SLICE_S = 20.0
BULK_BATCH = 100
DELETE_BATCH = 200
MIN_RATE = 0.1
MAX_RATE = 100.0


def _actor_name(actor) -> str:
    if actor is not None and getattr(actor, "pk", None):
        return actor.get_username()
    return str(actor) if actor else "system"


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _enqueue(func: str, *args, task_name: str) -> None:
    """Queue a task with the claim it carries out (timedify_ops.queue.enqueue); a push that Redis
    refuses after the commit is queued again by the sweeper."""
    enqueue(func, *args, task_name=task_name, group="deadletters", save=False)


def capped_count(queryset: QuerySet, cap: int | None = None) -> int | None:
    """The number of rows, or None when there are more than `cap` (never counts past cap + 1)."""
    cap = COUNT_CAP if cap is None else cap
    found = queryset.order_by()[: cap + 1].count()
    return found if found <= cap else None


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

    @property
    def ok(self) -> bool:
        return self.status == "replayed"


def claim_replay(dead_letter_id: int, *, user=None, bulk: BulkAction | None = None) -> uuid.UUID | None:
    """open/failed → replaying in one conditional UPDATE; None when it is not replayable
    (already replaying or replayed, deleted): a double click or a second operator gets None."""
    now = timezone.now()
    token = uuid.uuid4()
    claimed = DeadLetter.objects.filter(pk=dead_letter_id, status__in=DeadLetter.REPLAYABLE).update(
        status=DeadLetter.Status.REPLAYING,
        replay_token=token,
        replay_requested_at=now,
        replay_requested_by=_user(user),
        replay_started_at=None,
        # Until a worker starts it; a lost task is enqueued again by the sweeper after this.
        replay_lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
        bulk_action=bulk,
    )
    return token if claimed == 1 else None


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
    events_log.info("dead letter %s replay requested by %s", dead_letter_id, _actor_name(actor))
    return letter


def request_replay(dead_letter_id: int, *, user) -> DeadLetter | None:
    """The Replay button: claim, queue the delivery, write the audit entry. None if not claimable."""
    with transaction.atomic():
        token = claim_replay(dead_letter_id, user=user)
        if token is None:
            return None
        _enqueue(REPLAY_TASK, dead_letter_id, str(token), None, task_name=f"replay-{dead_letter_id}")
        return _audit_replay(dead_letter_id, user)


def replay_now(dead_letter_id: int, *, actor, sleep=time.sleep) -> ReplayResult:
    """`replay_deadletters --replay`: the same claim and audit, then the delivery in this process."""
    with transaction.atomic():
        token = claim_replay(dead_letter_id, user=actor)
        if token is None:
            status = DeadLetter.objects.filter(pk=dead_letter_id).values_list("status", flat=True).first()
            why = f"it is {status}" if status else "no such dead letter"
            return ReplayResult(dead_letter_id, "skipped", f"not replayed: {why}")
        _audit_replay(dead_letter_id, actor)
    return perform_replay(dead_letter_id, token, sleep=sleep)


def perform_replay(
    dead_letter_id: int, token: str | uuid.UUID, *, bulk_id: int | None = None, sleep=time.sleep
) -> ReplayResult:
    """Deliver a claimed dead letter once more (the task and the command call this).

    1. Start the claim: only the token's holder, and only once (a duplicate task is a no-op).
    2. Run the retry budget with `X-Timedify-Replay: <id>`; every try is a DeliveryAttempt.
    3. 2xx → replayed, and the event delivered. Otherwise → failed, with the new reason.
    4. Report the outcome to the bulk action it belongs to, if any: only the run that moves
       the letter out of `replaying` reports, so a duplicate task or a letter the sweeper
       already gave up on is never counted twice.
    """
    now = timezone.now()
    started = DeadLetter.objects.filter(
        pk=dead_letter_id, status=DeadLetter.Status.REPLAYING, replay_token=token, replay_started_at__isnull=True
    ).update(replay_started_at=now, replay_lease_until=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS))
    if started != 1:
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
    mine = DeadLetter.objects.filter(pk=dead_letter_id, replay_token=token)

    def settle(**fields) -> bool:
        """Record the outcome; True if this run ended the claim (so it reports to the bulk).
        A letter the sweeper already marked failed (the run was merely slow) still gets the
        truth, but the sweeper has reported it."""
        if mine.filter(status=DeadLetter.Status.REPLAYING).update(**fields):
            return True
        mine.filter(status=DeadLetter.Status.FAILED).update(**fields)
        return False

    if outcome.delivered:
        with transaction.atomic():
            ended = settle(
                status=DeadLetter.Status.REPLAYED,
                replayed_at=finished_at,
                replayed_by=user,
                replay_count=F("replay_count") + 1,
                last_status_code=last.status_code,
                last_error="",
                replay_lease_until=None,
            )
            WebhookEvent.objects.filter(pk=letter.event_id).update(
                status=WebhookEvent.Status.DELIVERED, delivered_at=finished_at
            )
        result = ReplayResult(dead_letter_id, "replayed", f"replayed: HTTP {last.status_code}")
        events_log.info(
            "dead letter %s replayed: topic=%s shop=%s webhook_id=%s",
            dead_letter_id,
            letter.topic,
            letter.shop_domain,
            letter.event.webhook_id,
        )
    else:
        ended = settle(
            status=DeadLetter.Status.FAILED,
            reason=outcome.reason,
            replay_count=F("replay_count") + 1,
            last_status_code=last.status_code if last else None,
            last_error=((last.error or last.excerpt[:500]) if last else outcome.reason)[:2000],
            replay_lease_until=None,
        )
        result = ReplayResult(dead_letter_id, "failed", f"failed: {outcome.reason}")
        events_log.warning(
            "dead letter %s replay failed: topic=%s shop=%s webhook_id=%s reason=%s",
            dead_letter_id,
            letter.topic,
            letter.shop_domain,
            letter.event.webhook_id,
            outcome.reason,
        )
    if bulk_id is not None and ended:
        _report_to_bulk(bulk_id, "done" if outcome.delivered else "failed")
    return result


# --------------------------------------------------------------------------- delete


def _delete_letters(ids: Iterable[int]) -> list[dict]:
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
        deleted = _delete_letters([dead_letter_id])
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
    events_log.info("dead letter %s deleted by %s", dead_letter_id, _actor_name(user))
    return facts


# --------------------------------------------------------------------------- bulk


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
    count: int | None  # None: more than COUNT_CAP
    cutoff_id: int | None
    cutoff_at: datetime
    sample: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.count == 0

    @property
    def confirm_phrase(self) -> str:
        """What the operator types to confirm a bulk delete."""
        return str(self.count) if self.count is not None else f"{COUNT_CAP}+"


def preview_bulk(kind: str, *, params: dict | None = None, ids: list[int] | None = None) -> BulkPreview:
    """Count the set as it stands now and fix its bounds (the highest matching id, and now):
    confirming later acts on these rows only, whatever dies in between."""
    now = timezone.now()
    qs = set_queryset(kind, params=params, ids=ids, cutoff_at=now)
    cutoff_id = qs.order_by("-pk").values_list("pk", flat=True).first()
    if cutoff_id is None:
        return BulkPreview(kind=kind, count=0, cutoff_id=None, cutoff_at=now)
    bounded = qs.filter(pk__lte=cutoff_id)
    sample = list(bounded.select_related("event").only(*LIST_FIELDS).order_by("-created_at", "-pk")[:10])
    return BulkPreview(kind=kind, count=capped_count(bounded), cutoff_id=cutoff_id, cutoff_at=now, sample=sample)


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
    token = uuid.uuid4()
    with transaction.atomic():
        bulk = BulkAction.objects.create(
            kind=kind,
            created_by=_user(actor),
            actor_name=_actor_name(actor)[:150],
            inline=inline,
            filter=dict(params or {}) if ids is None else {},
            ids=sorted(set(ids)) if ids is not None else None,
            cutoff_id=cutoff_id,
            cutoff_at=cutoff_at,
            expected=expected,
            rate=rate,
            runner_token=token,
            lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
        )
        how_many = str(expected) if expected is not None else f"more than {COUNT_CAP}"
        scope = f"{len(bulk.ids)} selected" if bulk.ids is not None else filters.describe(bulk.filter)
        pace = f" at {rate:g}/s" if kind == BulkAction.Kind.REPLAY else ""
        record_audit(
            actor,
            f"deadletter.bulk_{kind}",
            target_type="bulkaction",
            target_id=bulk.pk,
            count=expected if expected is not None else COUNT_CAP,
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
            _enqueue(BULK_TASK, bulk.pk, str(token), task_name=f"bulk-{kind}-{bulk.pk}")
    events_log.info("bulk %s %s started by %s: %s", kind, bulk.pk, bulk.actor_name, how_many)
    return bulk


def cancel_bulk(bulk_id: int, *, user) -> bool:
    """Ask the runner to stop before its next item; replays already handed out still finish."""
    name = _actor_name(user)[:150]
    # Not started yet: cancelled outright (a runner arriving later finds nothing to do).
    if BulkAction.objects.filter(pk=bulk_id, status=BulkAction.Status.QUEUED).update(
        status=BulkAction.Status.CANCELLED,
        cancel_requested=True,
        cancelled_by_name=name,
        dispatch_complete=True,
        finished_at=timezone.now(),
        lease_until=None,
    ):
        _write_summary(bulk_id)
    elif not BulkAction.objects.filter(
        pk=bulk_id, status=BulkAction.Status.RUNNING, dispatch_complete=False, cancel_requested=False
    ).update(cancel_requested=True, cancelled_by_name=name):
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
    BulkAction.objects.filter(pk=bulk_id, status__in=BulkAction.ACTIVE).update(
        cancel_requested=True, cancelled_by_name=_actor_name(actor)[:150], dispatch_complete=True
    )
    _finish_if_settled(bulk_id, force=True)


def _take_bulk(bulk_id: int, token: str | None, span_s: float) -> BulkAction | None:
    """Become the bulk's runner: with the token it was handed, or after its lease ran out."""
    now = timezone.now()
    mine = uuid.uuid4()
    holder = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if token:
        holder |= Q(runner_token=token)
    taken = (
        BulkAction.objects.filter(pk=bulk_id, status__in=BulkAction.ACTIVE, dispatch_complete=False)
        .filter(holder)
        .update(
            status=BulkAction.Status.RUNNING,
            runner_token=mine,
            lease_until=now + timedelta(seconds=span_s),
        )
    )
    if taken != 1:
        return None
    BulkAction.objects.filter(pk=bulk_id, started_at__isnull=True).update(started_at=now)
    return BulkAction.objects.get(pk=bulk_id)


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
    bulk = _take_bulk(bulk_id, token, span_s)
    if bulk is None:
        return "skipped: another runner holds it, or it is finished"
    deadline = None if inline else clock() + slice_s
    try:
        if bulk.kind == BulkAction.Kind.REPLAY:
            complete = _replay_items(bulk, deadline, span_s, inline, sleep, clock, on_item)
        else:
            complete = _delete_items(bulk, deadline, span_s, clock)
    except Exception as error:
        BulkAction.objects.filter(pk=bulk_id).update(
            status=BulkAction.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
            lease_until=None,
        )
        _write_summary(bulk_id)
        events_log.exception("bulk %s failed", bulk_id)
        raise
    if not complete:
        handover = uuid.uuid4()
        with transaction.atomic():
            BulkAction.objects.filter(pk=bulk_id, runner_token=bulk.runner_token).update(
                runner_token=handover,
                lease_until=timezone.now() + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
            )
            _enqueue(BULK_TASK, bulk_id, str(handover), task_name=f"bulk-{bulk.kind}-{bulk_id}")
        return "continuing in a new task"
    BulkAction.objects.filter(pk=bulk_id).update(
        dispatch_complete=True, lease_until=timezone.now() + timedelta(seconds=_settle_span_s())
    )
    _finish_if_settled(bulk_id)
    return BulkAction.objects.get(pk=bulk_id).describe_outcome()


def _settle_span_s() -> int:
    # How long outstanding replays may take to report before the sweeper closes the bulk anyway.
    return 2 * (settings.DEADLETTER_REPLAY_LEASE_SECONDS + settings.DELIVERY_LEASE_SECONDS)


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
                token = claim_replay(pk, user=bulk.created_by, bulk=bulk)
                if token is not None and not inline:
                    _enqueue(REPLAY_TASK, pk, str(token), bulk.pk, task_name=f"replay-{pk}")
                BulkAction.objects.filter(pk=bulk.pk).update(
                    cursor_id=pk,
                    seen=F("seen") + 1,
                    skipped=F("skipped") + (1 if token is None else 0),
                    lease_until=timezone.now() + timedelta(seconds=span_s),
                )
            cursor = pk
            result = None
            if token is not None and inline:
                result = perform_replay(pk, token, bulk_id=bulk.pk, sleep=sleep)
            if on_item is not None:
                on_item(bulk, pk, result)


def _delete_items(bulk, deadline, span_s, clock) -> bool:
    base = bulk_queryset(bulk)
    cursor = bulk.cursor_id
    batch_number = 0
    while True:
        if _cancel_asked(bulk.pk):
            return True
        if deadline is not None and clock() >= deadline:
            return False
        batch = list(base.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True)[:DELETE_BATCH])
        if not batch:
            return True
        batch_number += 1
        with transaction.atomic():
            deleted = _delete_letters(batch)
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
            BulkAction.objects.filter(pk=bulk.pk).update(
                cursor_id=batch[-1],
                seen=F("seen") + len(batch),
                done=F("done") + len(deleted),
                skipped=F("skipped") + (len(batch) - len(deleted)),
                lease_until=timezone.now() + timedelta(seconds=span_s),
            )
        cursor = batch[-1]
        events_log.info("bulk delete %s: deleted %d dead letters", bulk.pk, len(deleted))


def _report_to_bulk(bulk_id: int, outcome: str) -> None:
    BulkAction.objects.filter(pk=bulk_id).update(**{outcome: F(outcome) + 1})
    # A finished dispatch waits for its outstanding replays; each report keeps that wait alive.
    BulkAction.objects.filter(pk=bulk_id, dispatch_complete=True, status__in=BulkAction.ACTIVE).update(
        lease_until=timezone.now() + timedelta(seconds=_settle_span_s())
    )
    _finish_if_settled(bulk_id)


def _finish_if_settled(bulk_id: int, *, force: bool = False) -> bool:
    """done/cancelled once the dispatch is complete and every item has an outcome.
    One conditional UPDATE, so the last reporter and the runner cannot both finish it."""
    qs = BulkAction.objects.filter(pk=bulk_id, status__in=BulkAction.ACTIVE, dispatch_complete=True)
    if not force:
        qs = qs.filter(seen=F("done") + F("failed") + F("skipped"))
    finished = qs.update(
        status=Case(
            When(cancel_requested=True, then=Value(BulkAction.Status.CANCELLED)),
            default=Value(BulkAction.Status.DONE),
        ),
        finished_at=timezone.now(),
        lease_until=None,
        runner_token=None,
    )
    if finished:
        bulk = _write_summary(bulk_id)
        events_log.info("bulk %s %s %s: %s", bulk.kind, bulk_id, bulk.status, bulk.summary)
    return bool(finished)


def _write_summary(bulk_id: int) -> BulkAction:
    bulk = BulkAction.objects.get(pk=bulk_id)
    bulk.summary = bulk.describe_outcome()
    if bulk.status == BulkAction.Status.FAILED and bulk.error:
        bulk.summary += f"; stopped by an error: {bulk.error}"
    bulk.save(update_fields=["summary"])
    return bulk


# --------------------------------------------------------------------------- sweep and cleanup


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
    replaying = DeadLetter.objects.filter(status=DeadLetter.Status.REPLAYING, replay_lease_until__lt=now)
    lost = replaying.filter(replay_started_at__isnull=True).values_list("pk", "replay_token", "bulk_action_id")
    for pk, token, bulk_id in lost[:batch]:
        with transaction.atomic():
            if DeadLetter.objects.filter(
                pk=pk, replay_token=token, replay_started_at__isnull=True, replay_lease_until__lt=now
            ).update(replay_lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS)):
                _enqueue(REPLAY_TASK, pk, str(token), bulk_id, task_name=f"replay-{pk}")
                requeued += 1
    dead = replaying.filter(replay_started_at__isnull=False).values_list("pk", "replay_token", "bulk_action_id")
    for pk, token, bulk_id in dead[:batch]:
        if DeadLetter.objects.filter(
            pk=pk, replay_token=token, status=DeadLetter.Status.REPLAYING, replay_lease_until__lt=now
        ).update(
            status=DeadLetter.Status.FAILED,
            last_error="replay interrupted: the worker stopped before it finished (lease expired); replay again",
            replay_lease_until=None,
        ):
            interrupted += 1
            events_log.warning("dead letter %s replay interrupted: its worker stopped", pk)
            if bulk_id is not None:
                _report_to_bulk(bulk_id, "failed")

    for bulk in BulkAction.objects.filter(status__in=BulkAction.ACTIVE, lease_until__lt=now)[:batch]:
        if bulk.dispatch_complete:
            if _finish_if_settled(bulk.pk, force=True):
                closed += 1
                if bulk.outstanding:
                    finished = BulkAction.objects.get(pk=bulk.pk)
                    finished.summary += f" ({bulk.outstanding} never reported back)"
                    finished.save(update_fields=["summary"])
        elif bulk.inline:
            if BulkAction.objects.filter(pk=bulk.pk, lease_until__lt=now).update(
                status=BulkAction.Status.FAILED,
                error="the command stopped before it finished",
                dispatch_complete=True,
                finished_at=now,
                lease_until=None,
            ):
                _write_summary(bulk.pk)
                closed += 1
        else:
            token = uuid.uuid4()
            with transaction.atomic():
                if BulkAction.objects.filter(pk=bulk.pk, lease_until__lt=now).update(
                    runner_token=token,
                    lease_until=now + timedelta(seconds=settings.DEADLETTER_REPLAY_LEASE_SECONDS),
                ):
                    _enqueue(BULK_TASK, bulk.pk, str(token), task_name=f"bulk-{bulk.kind}-{bulk.pk}")
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


# Columns the list rows need (the body and headers stay in the database).
LIST_FIELDS = (
    "pk",
    "status",
    "reason",
    "created_at",
    "topic",
    "shop_domain",
    "last_status_code",
    "last_error",
    "replay_count",
    "replay_requested_at",
    "event__webhook_id",
    "event__attempts",
    "event__synthetic",
)
