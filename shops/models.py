from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class ShopQuerySet(models.QuerySet):
    def mark_token_invalid(self, pk: int, reason: str, *, only_if: str | None = None) -> bool:
        """The stored token is invalid (a 401, a refused refresh). `only_if` (the ciphertext that failed)
        keeps a 401 for an old token from condemning a pair another worker has stored meanwhile."""
        rows = self.filter(pk=pk)
        if only_if is not None:
            rows = rows.filter(access_token_encrypted=only_if)
        return rows.update(token_invalid_at=timezone.now(), token_error=reason[:1000]) == 1


class Shop(models.Model):
    """One installed (or once installed) shop and its offline access token.

    The tokens are stored only encrypted (shops.crypto, Fernet); read them through
    shops.services.get_offline_token, never from these fields.
    """

    class TokenState(models.TextChoices):
        OK = "ok", "ok"
        EXPIRING = "expiring", "refresh due"
        EXPIRED = "expired", "expired"
        INVALID = "invalid", "invalid"
        MISSING = "missing", "no token"
        UNINSTALLED = "uninstalled", "uninstalled"

    domain = models.CharField(max_length=255, unique=True, help_text="e.g. demo-shop.myshopify.com")
    installed = models.BooleanField(default=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    access_token_encrypted = models.TextField(blank=True, default="")
    # Null for a non-expiring offline token.
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_encrypted = models.TextField(blank=True, default="")
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    # When the current pair was stored (import, refresh); an older app/uninstalled is ignored.
    token_stored_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    # Set by a 401 or a refused refresh; cleared when a new token is stored or a check passes.
    token_invalid_at = models.DateTimeField(null=True, blank=True)
    token_error = models.TextField(blank=True, default="")

    scopes = models.TextField(blank=True, default="", help_text="Comma-separated, as Shopify lists them.")
    scopes_updated_at = models.DateTimeField(null=True, blank=True)

    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_error = models.TextField(blank=True, default="")

    redacted_at = models.DateTimeField(null=True, blank=True, help_text="When shop/redact erased its data.")

    objects = ShopQuerySet.as_manager()

    class Meta:
        indexes = [
            # /shops/ newest first with keyset pagination.
            models.Index(fields=["-created_at", "-id"], name="shop_created"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def has_token(self) -> bool:
        return bool(self.access_token_encrypted)

    @property
    def has_refresh_token(self) -> bool:
        return bool(self.refresh_token_encrypted)

    @property
    def expiring(self) -> bool:
        return self.access_token_expires_at is not None

    def needs_refresh(self, now=None) -> bool:
        """True when an expiring token is inside the refresh margin (or past its expiry)."""
        if self.access_token_expires_at is None:
            return False
        now = now or timezone.now()
        return self.access_token_expires_at - timedelta(seconds=settings.TOKEN_REFRESH_MARGIN_S) <= now

    def token_state(self, now=None) -> str:
        now = now or timezone.now()
        if not self.installed:
            return self.TokenState.UNINSTALLED
        if not self.has_token:
            return self.TokenState.MISSING
        if self.token_invalid_at is not None:
            return self.TokenState.INVALID
        if self.access_token_expires_at is not None and self.access_token_expires_at <= now:
            return self.TokenState.EXPIRED if not self.has_refresh_token else self.TokenState.EXPIRING
        if self.needs_refresh(now):
            return self.TokenState.EXPIRING
        return self.TokenState.OK

    def get_token_state_display(self) -> str:
        return self.TokenState(self.token_state()).label

    def scope_list(self) -> list[str]:
        return [scope.strip() for scope in self.scopes.split(",") if scope.strip()]


class SyntheticRunQuerySet(models.QuerySet):
    def claim(self, pk: int) -> bool:
        """pending → running: only one worker sends a run."""
        return self.filter(pk=pk, status=self.model.Status.PENDING).update(status=self.model.Status.RUNNING) == 1


class SyntheticRun(models.Model):
    """One set of synthetic webhooks sent from the dashboard (the worker sends them).

    pending ──claim──▶ running ──▶ done (ok or not, with a result per webhook)
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        DONE = "done", "done"

    class Target(models.TextChoices):
        INGRESS = "ingress", "this ingress"
        APP = "app", "the app directly"

    created_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=16, choices=Target.choices, default=Target.INGRESS)
    base_url = models.CharField(max_length=500, blank=True, default="")
    path_style = models.CharField(max_length=16, default="topic")
    topics = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True, blank=True)
    # One {topic, url, status_code, ms, error, webhook_id, ok} per webhook sent.
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")

    objects = SyntheticRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"synthetic run {self.pk} ({self.status})"

    @property
    def failures(self) -> int:
        return sum(1 for result in self.results if not result.get("ok"))
