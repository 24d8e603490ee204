"""The receive and recover rooms: the plan's webhook events, their delivery attempts, the dead
letters, the bulk replay after the outage, and the synthetic runs after the deploys."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from deadletters import filters as dl_filters
from deadletters.models import BulkAction, DeadLetter
from demo import content
from demo.seed.plan import BULK_OPERATOR
from demo.seed.world import World
from shops.models import SyntheticRun
from shops.side_effects import ERASED_BODY, ERASED_TEXT
from timedify_ops.lib import synthetic
from timedify_ops.lib.shopify_headers import redact
from timedify_ops.lib.synthetic import SyntheticResult
from webhooks.models import DeliveryAttempt, WebhookEvent
from webhooks.services import target_url_for


def write(world: World) -> None:
    plan = world.plan
    redacted = {domain for domain, (_, redacted_at) in plan.churned.items() if redacted_at is not None}
    rows = []
    for event in plan.events:
        # shop/redact erased what timedify-ops held for the shop (shops.side_effects.shop_redact).
        erased = event.shop in redacted and event.topic != "shop/redact"
        rows.append(
            WebhookEvent(
                webhook_id=event.webhook_id,
                event_id=event.event_id,
                topic=event.topic,
                shop_domain=event.shop,
                api_version=content.API_VERSION,
                triggered_at=event.triggered_at,
                received_at=event.received_at,
                body=ERASED_BODY if erased else event.body,
                body_size=len(event.body),
                headers=redact(event.headers),
                status=event.status,
                attempts=len(event.attempts),
                delivered_at=event.delivered_at,
                synthetic=event.synthetic,
                duplicates=event.duplicates,
                last_duplicate_at=event.last_duplicate_at,
                enqueued_at=event.received_at,
            )
        )
    WebhookEvent.objects.bulk_create(rows, batch_size=1000)
    world.saved = {row.webhook_id: row for row in rows}
    if any(row.pk is None for row in rows):  # a backend without RETURNING from bulk inserts
        ids = dict(WebhookEvent.objects.values_list("webhook_id", "pk"))
        for row in rows:
            row.pk = row.id = ids[row.webhook_id]

    attempts = []
    for event in plan.events:
        saved = world.saved[event.webhook_id]
        erased = event.shop in redacted and event.topic != "shop/redact"
        for attempt in event.attempts:
            attempts.append(
                DeliveryAttempt(
                    event=saved,
                    number=attempt.number,
                    started_at=attempt.started_at,
                    duration_ms=round(attempt.duration_ms, 3),
                    status_code=attempt.status_code,
                    error=attempt.error,
                    response_excerpt="" if erased else attempt.excerpt,
                    target_url=target_url_for(event.topic)[:500],
                    is_replay=attempt.replayed_by is not None,
                    replayed_by=world.users.get(attempt.replayed_by),
                )
            )
    DeliveryAttempt.objects.bulk_create(attempts, batch_size=2000)

    bulk = _bulk_action(world)
    letters = []
    for event in plan.letters:
        letter = event.letter
        erased = event.shop in redacted and event.topic != "shop/redact"
        letters.append(
            DeadLetter(
                event=world.saved[event.webhook_id],
                status=letter.status,
                reason=letter.reason,
                created_at=letter.created_at,
                topic=event.topic,
                shop_domain=event.shop,
                last_status_code=letter.last_status_code,
                last_error=ERASED_TEXT if erased else letter.last_error,
                replayed_at=letter.replayed_at,
                replayed_by=world.users.get(letter.replayed_by),
                replay_count=letter.replay_count,
                replay_requested_at=letter.replay_requested_at,
                replay_requested_by=world.users.get(letter.replay_requested_by),
                replay_started_at=letter.replay_started_at,
                bulk_action=bulk if letter.in_bulk else None,
            )
        )
    DeadLetter.objects.bulk_create(letters, batch_size=500)
    world.letters = {letter.event.webhook_id: letter for letter in DeadLetter.objects.select_related("event").all()}
    if bulk is not None:
        BulkAction.objects.filter(pk=bulk.pk).update(
            cutoff_id=max(world.letters[event.webhook_id].pk for event in plan.bulk_letters)
        )
    _synthetic_runs(world)
    world.counts["webhook_events"] = len(rows)
    world.counts["delivery_attempts"] = len(attempts)
    world.counts["dead_letters"] = len(letters)


def _bulk_action(world: World) -> BulkAction | None:
    plan = world.plan
    if not plan.bulk_letters:
        return None
    by = world.users[BULK_OPERATOR]
    start, end = plan.outage
    params = {
        "http": "network",
        "created_after": (start - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M"),
        "created_before": (end + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M"),
    }
    letters = [event.letter for event in plan.bulk_letters]
    done = sum(1 for letter in letters if letter.status == "replayed")
    finished = max(letter.replayed_at or letter.replay_started_at for letter in letters) + timedelta(seconds=6)
    bulk = BulkAction(
        kind=BulkAction.Kind.REPLAY,
        status=BulkAction.Status.DONE,
        created_at=plan.bulk_at - timedelta(seconds=2),
        created_by=by,
        actor_name=by.username,
        filter=params,
        cutoff_at=plan.bulk_at - timedelta(seconds=2),
        expected=len(letters),
        rate=settings.DEADLETTER_BULK_RATE,
        seen=len(letters),
        done=done,
        failed=len(letters) - done,
        dispatch_complete=True,
        started_at=plan.bulk_at - timedelta(seconds=1),
        finished_at=finished,
    )
    bulk.summary = bulk.describe_outcome()
    bulk.save()
    scope = dl_filters.describe(params)
    world.audits.append(
        (
            bulk.created_at,
            {
                "actor": by,
                "action": "deadletter.bulk_replay",
                "target_type": "bulkaction",
                "target_id": bulk.pk,
                "count": len(letters),
                "summary": f"bulk replay of {len(letters)} dead letters ({scope}) at {bulk.rate:g}/s",
                "details": {
                    "bulk_action": bulk.pk,
                    "filter": params,
                    "ids": None,
                    "cutoff_at": bulk.cutoff_at.isoformat(),
                    "expected": len(letters),
                    "rate": bulk.rate,
                },
            },
        )
    )
    world.own_event(bulk.created_at, "INFO", f"bulk replay {bulk.pk} started by {by.username}: {len(letters)}")
    return bulk


def _synthetic_runs(world: World) -> None:
    base = (settings.SYNTHETIC_INGRESS_URL or "http://127.0.0.1:8000").rstrip("/")
    for run in world.plan.synthetic_runs:
        by = world.users[run.by]
        results = [
            SyntheticResult(
                topic=event.topic,
                url=synthetic.url_for(base, event.topic),
                status_code=200,
                ms=event.ingress_ms + world.rng.uniform(2, 8),
                webhook_id=event.webhook_id,
            ).as_dict()
            for event in run.events
        ]
        saved = SyntheticRun.objects.create(
            created_at=run.at - timedelta(seconds=1),
            requested_by=by,
            target=SyntheticRun.Target.INGRESS,
            base_url=base,
            path_style="topic",
            topics=[event.topic for event in run.events],
            status=SyntheticRun.Status.DONE,
            finished_at=run.events[-1].received_at + timedelta(milliseconds=200),
            ok=True,
            results=results,
        )
        world.audits.append(
            (
                saved.created_at,
                {
                    "actor": by,
                    "action": "shops.synthetic_send",
                    "target_type": "synthetic_run",
                    "target_id": saved.pk,
                    "count": len(results),
                    "summary": f"sent {len(results)} synthetic webhook(s) to this ingress",
                    "details": {
                        "target": "ingress",
                        "base_url": base,
                        "path_style": "topic",
                        "topics": saved.topics,
                    },
                },
            )
        )
        world.own_event(saved.finished_at, "INFO", f"synthetic webhooks ok: run={saved.pk} topics={len(results)}")
