"""What happened to the dead letters after the rollups had counted them: an operator deleted a few
(deadletters.services.letter.delete_dead_letter), and each night the retention job ran
(dashboard.retention.services.run_retention, at that night's time) and removed the dead letters
replayed longer ago than their grace."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dashboard.retention import services as retention
from deadletters.services.letter import delete_dead_letter
from demo.seed.plan import REPLAY_OPERATOR
from demo.seed.world import World
from timedify_ops.audit.models import AuditEntry

RETENTION_AT = time(3, 30, 2)


def write(world: World) -> None:
    plan = world.plan
    sam = world.users[REPLAY_OPERATOR]
    for event in plan.letters:
        letter = event.letter
        if letter.deleted_at is None:
            continue
        saved = world.letters.pop(event.webhook_id)
        if delete_dead_letter(saved.pk, user=sam):
            entry = AuditEntry.objects.filter(action="deadletter.delete", target_id=str(saved.pk)).latest("id")
            world.redate_audit(entry, letter.deleted_at)
            world.own_event(letter.deleted_at, "INFO", f"dead letter {saved.pk} deleted by {sam.username}")
    runs = 0
    day = plan.start.date()
    while day <= plan.now.date():
        at = datetime.combine(day, RETENTION_AT, tzinfo=UTC)
        day += timedelta(days=1)
        if not plan.start < at < plan.now:
            continue
        newest_entry = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        run, _ = retention.run_retention(now=at, trigger="schedule")
        for entry in AuditEntry.objects.filter(id__gt=newest_entry, action="deadletter.cleanup"):
            world.redate_audit(entry, at + timedelta(milliseconds=run.duration_ms / 2))
        world.job_run(
            "retention",
            at - timedelta(milliseconds=40),
            run.duration_ms + 50,
            retention.job_result(run, continued=False),
        )
        runs += 1
    world.counts["retention_runs"] = runs
