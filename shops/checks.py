"""The shops app's settings checks: the Fernet keys that encrypt offline tokens at rest."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register

from shops.crypto import GENERATE_HINT
from timedify_ops.checks import SETTINGS


@register(SETTINGS)
def check_token_keys(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in ("TOKEN_ENCRYPTION_KEY", "TOKEN_ENCRYPTION_KEY_PREVIOUS"):
        key = getattr(settings, name)
        if not key:
            continue
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"{name} is not a Fernet key (32 url-safe base64-encoded bytes; generate one with "
                    f"`{GENERATE_HINT}`)",
                    id="shops.E001",
                )
            )
    if settings.TOKEN_ENCRYPTION_KEY_PREVIOUS and not settings.TOKEN_ENCRYPTION_KEY:
        errors.append(
            Error(
                "TOKEN_ENCRYPTION_KEY is not set, but TOKEN_ENCRYPTION_KEY_PREVIOUS is (rotate to a new key)",
                id="shops.E002",
            )
        )
    return errors
