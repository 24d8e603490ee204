"""django-q2 entry points; thin wrappers around services (the same calls the commands make)."""

from webhooks import services


def deliver(event_pk: int) -> str:
    return services.deliver_event(event_pk)
