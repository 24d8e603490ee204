"""The audit trail: the operators' replays, one by one and the bulk's, with their event lines, and
every action the other writers gathered, through record_audit (then dated when it happened)."""

from __future__ import annotations

from demo.seed.world import World
from timedify_ops.audit.models import AuditEntry
from timedify_ops.audit.services import record_audit


def write(world: World) -> None:
    """The replays (one by one and the bulk's), each with its audit entry and event lines."""
    for event in world.plan.letters:
        letter = event.letter
        if letter.replay_requested_at is None:
            continue
        saved = world.letters.get(event.webhook_id)
        pk = saved.pk if saved is not None else 0
        if not letter.in_bulk:
            by = world.users[letter.replay_requested_by]
            facts = {
                "id": pk,
                "topic": event.topic,
                "shop": event.shop,
                "webhook_id": event.webhook_id,
                "status": "replaying",
            }
            world.audits.append(
                (
                    letter.replay_requested_at,
                    {
                        "actor": by,
                        "action": "deadletter.replay",
                        "target_type": "deadletter",
                        "target_id": pk,
                        "summary": f"replay requested: {event.topic} for {event.shop} (webhook {event.webhook_id})",
                        "details": facts,
                    },
                )
            )
            world.own_event(letter.replay_requested_at, "INFO", f"dead letter {pk} replay requested by {by.username}")
        finished = event.attempts[-1].finished_at
        if letter.status == "replayed":
            world.own_event(
                finished,
                "INFO",
                f"dead letter {pk} replayed: topic={event.topic} shop={event.shop} webhook_id={event.webhook_id}",
            )
        else:
            world.own_event(
                finished,
                "WARNING",
                f"dead letter {pk} replay failed: topic={event.topic} shop={event.shop} "
                f"webhook_id={event.webhook_id} reason={letter.reason}",
            )
    for moment, entry in sorted(world.audits, key=lambda item: item[0]):
        world.redate_audit(record_audit(entry.pop("actor"), entry.pop("action"), **entry), moment)
    world.counts["audit_entries"] = AuditEntry.objects.count()
