"""Shops and their offline tokens: store, read (refreshing), check. (Synthetic runs: shops.synthetic_runs.)

get_offline_token(shop)   → a usable token (refreshes an expiring one under a row lock)
admin_client(shop)        → an AdminClient whose 401 marks the token invalid
check_tokens()            → the hourly "check-shop-tokens" job: `{ shop { name } }` per installed shop
token_problems()          → installed shops whose token is missing, invalid, expired or failing
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shops import crypto
from shops.models import Shop
from timedify_ops.lib import shopify_admin
from timedify_ops.lib.shopify_admin import AdminAPIError, AdminClient, TokenGrant, TokenRefreshError

events_log = logging.getLogger("timedify_ops.events")

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
# A token check is one cost-1 query; a shop that does not answer within this is a failed check.
CHECK_TIMEOUT_S = 5.0
# Why a token is marked invalid when the Admin API answers 401 (shown on /shops/ and in the tokens probe).
UNAUTHORIZED = "401 Unauthorized from the Admin API"


class ShopTokenError(Exception):
    """No usable offline token for this shop."""


class ShopUninstalled(ShopTokenError):
    pass


class NoToken(ShopTokenError):
    pass


class TokenInvalid(ShopTokenError):
    pass


class TokenRefreshFailed(ShopTokenError):
    pass


def normalise_domain(domain: str) -> str:
    """`Demo-Shop.myshopify.com/` → `demo-shop.myshopify.com`; ValueError for anything else."""
    cleaned = (domain or "").strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not SHOP_DOMAIN_RE.match(cleaned):
        raise ValueError(f"not a myshopify.com shop domain: {domain!r}")
    return cleaned


def _shop(shop: Shop | str) -> Shop:
    if isinstance(shop, Shop):
        return Shop.objects.get(pk=shop.pk)
    return Shop.objects.get(domain=shop.lower())


def _after(now: datetime, seconds: int | None) -> datetime | None:
    return now + timedelta(seconds=seconds) if seconds else None


# --------------------------------------------------------------------------- store


@dataclass(frozen=True)
class Stored:
    shop: Shop
    created: bool


def store_tokens(
    domain: str,
    *,
    access_token: str,
    access_token_expires_at: datetime | None = None,
    refresh_token: str | None = None,
    refresh_token_expires_at: datetime | None = None,
    scopes: str | None = None,
    now: datetime | None = None,
) -> Stored:
    """Create or update the shop with a new token pair: installed, not invalid, encrypted at rest.

    Raises crypto.TokenKeyMissing (naming TOKEN_ENCRYPTION_KEY) before touching the database.
    """
    now = now or timezone.now()
    fields = {
        "access_token_encrypted": crypto.encrypt(access_token),
        "access_token_expires_at": access_token_expires_at,
        "refresh_token_encrypted": crypto.encrypt(refresh_token),
        "refresh_token_expires_at": refresh_token_expires_at,
        "token_stored_at": now,
        "token_invalid_at": None,
        "token_error": "",
        "installed": True,
        "uninstalled_at": None,
    }
    if scopes is not None:
        fields["scopes"] = scopes
        fields["scopes_updated_at"] = now
    shop, created = Shop.objects.update_or_create(domain=normalise_domain(domain), defaults=fields)
    return Stored(shop=shop, created=created)


def wipe_tokens(queryset) -> int:
    """Forget the tokens of every shop in `queryset` (uninstall, redact)."""
    return queryset.update(
        access_token_encrypted="",
        access_token_expires_at=None,
        refresh_token_encrypted="",
        refresh_token_expires_at=None,
    )


def mark_token_invalid(shop_pk: int, reason: str, *, only_if: str | None = None) -> bool:
    """Mark the stored token invalid (Shop.objects.mark_token_invalid), and say so."""
    marked = Shop.objects.mark_token_invalid(shop_pk, reason, only_if=only_if)
    if marked:
        domain = Shop.objects.filter(pk=shop_pk).values_list("domain", flat=True).first()
        events_log.warning("shop token invalid: shop=%s reason=%s", domain, reason)
    return marked


# --------------------------------------------------------------------------- read


def _refresh(locked: Shop, now: datetime, sleep) -> TokenGrant:
    if not settings.SHOPIFY_API_KEY:
        raise AdminAPIError("SHOPIFY_API_KEY is not set: it is needed to refresh expiring offline tokens")
    return shopify_admin.refresh_access_token(
        shop=locked.domain,
        refresh_token=crypto.decrypt(locked.refresh_token_encrypted),
        client_id=settings.SHOPIFY_API_KEY,
        client_secret=settings.SHOPIFY_API_SECRET,
        base_url_template=settings.SHOPIFY_ADMIN_BASE_URL,
        budget=settings.SHOPIFY_ADMIN_RETRY_BUDGET,
        timeout_s=settings.SHOPIFY_ADMIN_TIMEOUT_S,
        sleep=sleep,
    )


def _usable_now(shop: Shop, now: datetime) -> bool:
    return shop.access_token_expires_at is None or shop.access_token_expires_at > now


def get_offline_token(shop: Shop | str, *, allow_invalid: bool = False, sleep=time.sleep) -> str:
    """A usable offline access token for `shop`.

    1. Load the shop; refuse when it is uninstalled, has no token, or its token is marked invalid
       (unless `allow_invalid`, which the token check uses to notice a recovery).
    2. A non-expiring token, or one outside TOKEN_REFRESH_MARGIN_S of its expiry: return it.
    3. Otherwise lock the row (select_for_update in a transaction) and look again: a worker that
       waited for the lock finds the pair the first one stored and returns it without a request.
    4. Still due: the refresh-token grant, while holding the lock; the new access token, refresh
       token, their expiries and the scopes are stored in that same transaction.
    5. A refused refresh (`invalid_grant` …) marks the token invalid and raises TokenRefreshFailed.
       A refresh that could not get an answer returns the current token while it has not expired
       (the next call tries again), and raises once it has.
    On PostgreSQL only this shop's row is locked during the refresh; on the embedded SQLite the
    transaction holds the database's write lock for that one round trip (the retry budget at worst).
    """
    current = _shop(shop)
    _refuse_unusable(current, allow_invalid)
    now = timezone.now()
    if not current.needs_refresh(now):
        return crypto.decrypt(current.access_token_encrypted)

    refused: Exception | None = None
    failure: Exception | None = None
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=current.pk)
        _refuse_unusable(locked, allow_invalid)
        now = timezone.now()
        if not locked.needs_refresh(now):
            return crypto.decrypt(locked.access_token_encrypted)  # refreshed while we waited
        if not locked.has_refresh_token:
            failure = TokenRefreshFailed(f"the token of {locked.domain} expires and there is no refresh token")
        else:
            try:
                grant = _refresh(locked, now, sleep)
            except TokenRefreshError as error:
                refused = error
                locked.token_invalid_at = now
                locked.token_error = str(error)[:1000]
                locked.save(update_fields=["token_invalid_at", "token_error", "updated_at"])
            except AdminAPIError as error:
                failure = error
            else:
                locked.access_token_encrypted = crypto.encrypt(grant.access_token)
                locked.access_token_expires_at = _after(now, grant.expires_in)
                if grant.refresh_token:
                    locked.refresh_token_encrypted = crypto.encrypt(grant.refresh_token)
                    locked.refresh_token_expires_at = _after(now, grant.refresh_token_expires_in)
                if grant.scope:
                    locked.scopes = grant.scope
                locked.token_stored_at = locked.token_refreshed_at = now
                locked.token_invalid_at = None
                locked.token_error = ""
                locked.save()
                events_log.info(
                    "shop token refreshed: shop=%s expires_at=%s",
                    locked.domain,
                    locked.access_token_expires_at.isoformat() if locked.access_token_expires_at else "never",
                )
                return grant.access_token
    if refused is not None:
        events_log.error("shop token refresh refused: shop=%s error=%s", locked.domain, refused)
        raise TokenRefreshFailed(str(refused)) from refused
    if _usable_now(locked, timezone.now()):
        events_log.warning("shop token refresh failed, the current token is still valid: %s", failure)
        return crypto.decrypt(locked.access_token_encrypted)
    events_log.error("shop token expired and could not be refreshed: shop=%s error=%s", locked.domain, failure)
    raise TokenRefreshFailed(str(failure)) from failure


def _refuse_unusable(shop: Shop, allow_invalid: bool) -> None:
    if not shop.installed:
        raise ShopUninstalled(f"{shop.domain} has uninstalled the app")
    if not shop.has_token:
        raise NoToken(f"no offline token is stored for {shop.domain} (manage.py import_offline_tokens)")
    if shop.token_invalid_at is not None and not allow_invalid:
        raise TokenInvalid(f"the token of {shop.domain} is invalid: {shop.token_error or 'marked invalid'}")


def admin_client(
    shop: Shop | str, *, allow_invalid: bool = False, sleep=time.sleep, timeout_s: float | None = None
) -> AdminClient:
    """An Admin API client for the shop; a 401 marks this token invalid (not a newer one)."""
    current = _shop(shop)
    token = get_offline_token(current, allow_invalid=allow_invalid, sleep=sleep)
    used = Shop.objects.filter(pk=current.pk).values_list("access_token_encrypted", flat=True).first()
    return AdminClient(
        shop=current.domain,
        access_token=token,
        base_url_template=settings.SHOPIFY_ADMIN_BASE_URL,
        api_version=settings.SHOPIFY_API_VERSION,
        budget=settings.SHOPIFY_ADMIN_RETRY_BUDGET,
        timeout_s=timeout_s or settings.SHOPIFY_ADMIN_TIMEOUT_S,
        sleep=sleep,
        on_unauthorized=lambda: mark_token_invalid(current.pk, UNAUTHORIZED, only_if=used),
    )


# --------------------------------------------------------------------------- check


@dataclass(frozen=True)
class Check:
    shop: str
    ok: bool
    error: str = ""


def check_token(shop: Shop | str, *, sleep=time.sleep, timeout_s: float | None = None) -> Check:
    """One cheap authenticated query; records when, whether, and why not on the shop."""
    current = _shop(shop)
    error = ""
    try:
        client = admin_client(current, allow_invalid=True, sleep=sleep, timeout_s=timeout_s)
        try:
            client.check_token()
        finally:
            client.close()
    except (ShopTokenError, AdminAPIError, crypto.TokenDecryptError, crypto.TokenKeyMissing) as exc:
        error = str(exc) or type(exc).__name__
    ok = not error
    fields = {"last_check_at": timezone.now(), "last_check_ok": ok, "last_check_error": error[:1000]}
    if ok:
        fields.update(token_invalid_at=None, token_error="")
    Shop.objects.filter(pk=current.pk).update(**fields)
    if not ok:
        events_log.warning("shop token check failed: shop=%s error=%s", current.domain, error)
    return Check(shop=current.domain, ok=ok, error=error)


def reencrypt_tokens() -> int:
    """After a key rotation: re-encrypt every token still under TOKEN_ENCRYPTION_KEY_PREVIOUS with
    the current key, one locked row at a time. Returns how many shops were rewritten."""
    if not settings.TOKEN_ENCRYPTION_KEY_PREVIOUS:
        return 0
    rotated = 0
    for pk in Shop.objects.exclude(access_token_encrypted="", refresh_token_encrypted="").values_list("pk", flat=True):
        with transaction.atomic():
            shop = Shop.objects.select_for_update().get(pk=pk)
            fields = [
                name
                for name in ("access_token_encrypted", "refresh_token_encrypted")
                if crypto.needs_rotation(getattr(shop, name))
            ]
            for name in fields:
                setattr(shop, name, crypto.reencrypt(getattr(shop, name)))
            if fields:
                shop.save(update_fields=[*fields, "updated_at"])
                rotated += 1
    if rotated:
        events_log.info("re-encrypted the tokens of %d shop(s) with the current TOKEN_ENCRYPTION_KEY", rotated)
    return rotated


def check_tokens(*, budget_s: float | None = None) -> dict[str, int]:
    """The hourly job: re-encrypt tokens after a key rotation, then check installed shops' tokens.

    Shops are checked least recently checked first, until TOKEN_CHECK_BUDGET_S is spent, so the
    job stays well inside django-q2's task timeout however many shops there are; the shops it did
    not reach ("deferred") come first in the next run.
    """
    rotated = reencrypt_tokens()
    deadline = time.monotonic() + (settings.TOKEN_CHECK_BUDGET_S if budget_s is None else budget_s)
    checked = failed = deferred = 0
    shops = Shop.objects.filter(installed=True).order_by(F("last_check_at").asc(nulls_first=True), "pk")
    for pk in shops.values_list("pk", flat=True):
        if checked and time.monotonic() >= deadline:
            deferred += 1
            continue
        checked += 1
        if not check_token(Shop(pk=pk), timeout_s=CHECK_TIMEOUT_S).ok:
            failed += 1
    return check_summary(checked, failed, deferred=deferred, rotated=rotated)


def check_summary(checked: int, failed: int, *, deferred: int = 0, rotated: int = 0) -> dict[str, int]:
    """The hourly token check's result, as its JobRun keeps it."""
    summary = {"checked": checked, "ok": checked - failed, "failed": failed}
    if deferred:
        summary["deferred"] = deferred
    if rotated:
        summary["re_encrypted"] = rotated
    return summary


# The key check reads at most this many shops' tokens (newest first): a Fernet decrypt is about
# 20 µs, so the probe spends well under a second even at the cap.
TOKEN_KEY_CHECK_LIMIT = 10_000


@dataclass(frozen=True)
class KeyCheck:
    checked: int
    unreadable: list[str]  # shop domains whose stored token the configured keys cannot decrypt

    @property
    def detail(self) -> str:
        shown = ", ".join(self.unreadable[:3]) + (
            f" and {len(self.unreadable) - 3} more" if len(self.unreadable) > 3 else ""
        )
        if not settings.TOKEN_ENCRYPTION_KEY:
            return f"TOKEN_ENCRYPTION_KEY is not set, but {len(self.unreadable)} shop(s) have stored tokens: {shown}"
        return (
            f"{len(self.unreadable)} of {self.checked} stored token(s) cannot be decrypted with TOKEN_ENCRYPTION_KEY "
            f"or TOKEN_ENCRYPTION_KEY_PREVIOUS (a wrong or lost key?): {shown}"
        )


def token_key_check(using: str = "default", limit: int = TOKEN_KEY_CHECK_LIMIT) -> KeyCheck:
    """The configured token keys tried against the stored tokens, now (no Shopify call).

    The start-up system check (shops.checks, run by `migrate` in the release command) and the
    `tokens` probe call this, so a wrong key is found at the deploy and within a minute, not at
    the next hourly token check.
    """
    rows = (
        Shop.objects.using(using)
        .exclude(access_token_encrypted="", refresh_token_encrypted="")
        .order_by("-token_stored_at", "-id")
        .values_list("domain", "access_token_encrypted", "refresh_token_encrypted")[:limit]
    )
    checked, unreadable = 0, []
    for domain, access, refresh in rows.iterator(chunk_size=1000):
        checked += 1
        if not (crypto.readable(access) and crypto.readable(refresh)):
            unreadable.append(domain)
    return KeyCheck(checked=checked, unreadable=unreadable)


def token_problems(now: datetime | None = None) -> list[Shop]:
    """Installed shops whose token needs a human: missing, invalid, expired beyond refresh, or
    failing its last check. The tokens probe and its alert rule read this."""
    now = now or timezone.now()
    problems = Shop.objects.filter(installed=True).filter(
        Q(access_token_encrypted="")
        | Q(token_invalid_at__isnull=False)
        | Q(last_check_ok=False)
        | Q(access_token_expires_at__lte=now, refresh_token_encrypted="")
        | Q(refresh_token_expires_at__lte=now)
    )
    return list(problems.order_by("domain"))
