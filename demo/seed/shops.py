"""The shops room: the installed shops with their tokens (shops.services.store_tokens, encrypted),
the shops that left, and the operators whose actions the week records."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from demo import content
from demo.seed.plan import BULK_OPERATOR, REPLAY_OPERATOR, REVOKED_SHOP
from demo.seed.world import World
from shops.models import Shop
from shops.services import UNAUTHORIZED, store_tokens
from timedify_ops.lib.shopify_admin import Unauthorized
from timedify_ops.permissions import OPERATOR

# What the hourly check records for the revoked shop: the check's error, and why the token is invalid.
TOKEN_CHECK_ERROR = str(Unauthorized.from_shop(REVOKED_SHOP))


def write_operators(world: World) -> None:
    """The operators whose actions the week records; they cannot log in (no usable password)."""
    User = get_user_model()
    group = Group.objects.get_or_create(name=OPERATOR)[0]
    for name in (BULK_OPERATOR, REPLAY_OPERATOR):
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
        world.users[name] = user


def write(world: World) -> None:
    plan, rng, now = world.plan, world.rng, world.plan.now
    scopes_updates = {}
    for event in plan.events:
        if event.topic == "app/scopes_update":
            scopes_updates[event.shop] = event.triggered_at
    for index, shop in enumerate(content.SHOPS):
        expires = refresh_expires = None
        if shop.domain == "lumen-lighting.myshopify.com":
            expires = now + timedelta(minutes=2)  # inside the refresh margin: "refresh due"
        elif index % 3 == 1:
            expires = now + timedelta(minutes=rng.randint(15, 55))  # an expiring token, refreshed hourly
        if expires is not None:
            refresh_expires = now + timedelta(days=rng.randint(20, 89))
        stored_at = (expires - timedelta(hours=1)) if expires else now - timedelta(days=rng.randint(30, 200))
        stored = store_tokens(
            shop.domain,
            access_token=f"shpat_{rng.getrandbits(128):032x}",
            access_token_expires_at=expires,
            refresh_token=f"shprt_{rng.getrandbits(128):032x}" if expires else None,
            refresh_token_expires_at=refresh_expires,
            scopes=content.SCOPES,
            now=stored_at,
        ).shop
        last_check = now.replace(minute=17, second=4) - (timedelta(hours=1) if now.minute < 17 else timedelta())
        revoked = shop.domain == REVOKED_SHOP
        Shop.objects.filter(pk=stored.pk).update(
            created_at=now - timedelta(days=120 - index),
            token_refreshed_at=stored_at if expires else None,
            scopes_updated_at=scopes_updates.get(shop.domain, stored_at),
            last_check_at=last_check,
            last_check_ok=not revoked,
            last_check_error=TOKEN_CHECK_ERROR if revoked else "",
            token_invalid_at=plan.token_revoked_at if revoked else None,
            token_error=UNAUTHORIZED if revoked else "",
        )
    for domain, (uninstalled_at, redacted_at) in plan.churned.items():
        Shop.objects.create(
            domain=domain,
            installed=False,
            uninstalled_at=uninstalled_at,
            created_at=now - timedelta(days=rng.randint(130, 400)),
            scopes=content.SCOPES,
            redacted_at=redacted_at + timedelta(seconds=1) if redacted_at else None,
            last_check_at=uninstalled_at - timedelta(minutes=rng.randint(5, 55)),
            last_check_ok=True,
        )
    world.counts["shops"] = len(content.SHOPS) + len(plan.churned)
