"""record_audit: the one way operator actions are written to the audit trail."""

from __future__ import annotations

import logging

from timedify_ops.audit.models import AuditEntry

events_log = logging.getLogger("timedify_ops.events")


def record_audit(
    actor,
    action: str,
    *,
    target_type: str = "",
    target_id: str | int = "",
    count: int = 1,
    summary: str = "",
    details: dict | None = None,
) -> AuditEntry:
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    name = user.get_username() if user else (str(actor) if actor else "system")
    entry = AuditEntry.objects.create(
        actor=user,
        actor_name=name[:150],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        count=count,
        summary=summary,
        details=details or {},
    )
    events_log.info("audit: %s %s %s", name, action, summary or target_id)
    return entry
