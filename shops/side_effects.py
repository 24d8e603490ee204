"""What a webhook changes inside timedify-ops itself (the app gets the event as always).

Called by the delivery worker (webhooks.services.deliver_event) right after it claims an
event, before forwarding. Each effect is idempotent, so a redelivery or a replay changes
nothing more; `apply_side_effects` never raises, so a failure here never blocks delivery.

app/uninstalled    the shop is marked uninstalled and its tokens are wiped.
app/scopes_update  the shop's scopes become the payload's `current` list.
shop/redact        what timedify-ops holds for the shop is erased: its tokens; the bodies of its
                   stored events (replaced by `{}`, which stays valid JSON for every page and for
                   a replay; topic, shop, ids, timestamps, size and status are kept); the response
                   excerpts of their delivery attempts; the last error text of their dead letters.
                   The redact event itself (only ids) and events still in flight are left alone,
                   so no delivery underway forwards an emptied body.

Synthetic events (X-Timedify-Synthetic, or the reserved synthetic shop domain) change nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deadletters.models import DeadLetter
from shops.models import Shop
from webhooks.models import DeliveryAttempt, WebhookEvent

events_log = logging.getLogger("timedify_ops.events")

ERASED_BODY = b"{}"
ERASED_TEXT = "[erased by shop/redact]"


def apply_side_effects(event) -> str | None:
    """Apply the effect of `event`'s topic, if it has one; returns what was done. Never raises."""
    handler = HANDLERS.get(event.topic)
    if handler is None:
        return None
    if event.synthetic or event.shop_domain == settings.SYNTHETIC_SHOP_DOMAIN:
        return "skipped: synthetic"
    try:
        with transaction.atomic():
            outcome = handler(event)
    except Exception:
        events_log.exception(
            "webhook side effect failed: topic=%s shop=%s webhook_id=%s",
            event.topic,
            event.shop_domain,
            event.webhook_id,
        )
        return "failed"
    if outcome:
        events_log.info("webhook side effect: topic=%s shop=%s %s", event.topic, event.shop_domain, outcome)
    return outcome


def _when(event) -> datetime:
    return event.triggered_at or event.received_at or timezone.now()


def uninstalled(event) -> str:
    """Mark the shop uninstalled and wipe its tokens, unless the shop stored a newer token since
    the uninstall happened (a reinstall overtaken by a late or replayed webhook)."""
    when = _when(event)
    shop, created = Shop.objects.select_for_update().get_or_create(
        domain=event.shop_domain, defaults={"installed": False, "uninstalled_at": when}
    )
    if created:
        return "recorded an uninstalled shop"
    if shop.token_stored_at and shop.token_stored_at > when:
        return "ignored: a newer token was stored after this uninstall"
    if not shop.installed and not shop.has_token:
        return "already uninstalled"
    shop.installed = False
    shop.uninstalled_at = shop.uninstalled_at or when
    shop.access_token_encrypted = shop.refresh_token_encrypted = ""
    shop.access_token_expires_at = shop.refresh_token_expires_at = None
    shop.save()
    return "marked uninstalled, tokens wiped"


def scopes_update(event) -> str:
    payload = event.body_json()
    current = payload.get("current") if isinstance(payload, dict) else None
    if not isinstance(current, list):
        return "ignored: no `current` scope list in the payload"
    when = _when(event)
    shop = Shop.objects.select_for_update().filter(domain=event.shop_domain).first()
    if shop is None:
        return "ignored: unknown shop"
    if shop.scopes_updated_at and shop.scopes_updated_at > when:
        return "ignored: newer scopes are stored"
    shop.scopes = ",".join(str(scope).strip() for scope in current if str(scope).strip())
    shop.scopes_updated_at = when
    shop.save(update_fields=["scopes", "scopes_updated_at", "updated_at"])
    return f"scopes now {shop.scopes or '(none)'}"


def shop_redact(event) -> str:
    domain = event.shop_domain
    now = timezone.now()
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    if shop is not None:
        shop.installed = False
        shop.uninstalled_at = shop.uninstalled_at or _when(event)
        shop.access_token_encrypted = shop.refresh_token_encrypted = ""
        shop.access_token_expires_at = shop.refresh_token_expires_at = None
        shop.redacted_at = shop.redacted_at or now
        shop.save()
    # Events of the shop, minus this one and those still being delivered.
    events = (
        WebhookEvent.objects.filter(shop_domain=domain)
        .exclude(pk=event.pk)
        .exclude(status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING])
    )
    erased = events.exclude(body=ERASED_BODY).update(body=ERASED_BODY)
    DeliveryAttempt.objects.filter(event__in=events).exclude(response_excerpt="").update(response_excerpt="")
    DeadLetter.objects.filter(event__in=events).exclude(last_error=ERASED_TEXT).update(last_error=ERASED_TEXT)
    in_flight = (
        WebhookEvent.objects.filter(shop_domain=domain)
        .exclude(pk=event.pk)
        .filter(status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.DELIVERING])
        .count()
    )
    summary = f"tokens wiped, {erased} event payload(s) erased"
    if in_flight:
        summary += f", {in_flight} in flight left alone"
    return summary


HANDLERS = {
    "app/uninstalled": uninstalled,
    "app/scopes_update": scopes_update,
    "shop/redact": shop_redact,
}
