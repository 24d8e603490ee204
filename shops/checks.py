"""The shops app's checks.

- Settings (tagged SETTINGS): the Fernet keys that encrypt offline tokens at rest are well formed.
- Database (`token_key`): the configured keys against the tokens already stored. Django runs a
  database check where a database is named: `migrate` (the release command, so a deploy with the
  wrong key stops before its machines start) and `manage.py check --database default`; the
  `tokens` probe runs the same check every minute.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

from shops.crypto import GENERATE_HINT
from shops.services import token_key_check
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


@register(Tags.database)
def check_token_key_against_stored_tokens(app_configs=None, databases=None, **kwargs) -> list[Error]:
    if any(error.id == "shops.E001" for error in check_token_keys()):
        return []  # a malformed key is already reported; decrypting with it means nothing
    errors = []
    for alias in databases or ():
        try:
            found = token_key_check(using=alias)
        except DatabaseError:
            continue  # no shops table yet (a database `migrate` has still to create)
        if found.unreadable:
            errors.append(
                Error(
                    found.detail,
                    hint="Set the key these tokens were stored with as TOKEN_ENCRYPTION_KEY (or, during a "
                    "rotation, as TOKEN_ENCRYPTION_KEY_PREVIOUS); docs/SECRETS.md says how to check a copy.",
                    id="shops.E003",
                )
            )
    return errors
