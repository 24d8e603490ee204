"""System checks of the shops room.

`token_key`: the configured TOKEN_ENCRYPTION_KEY (and _PREVIOUS) against the tokens already stored.
Tagged `database`, so Django runs it where a database is named: `migrate` (the release command, so
a deploy with the wrong key stops before its machines start) and `manage.py check --database default`.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.database)
def token_key(app_configs=None, databases=None, **kwargs):
    # Imported here: system checks are registered while the app registry is still loading.
    from shops.services import token_key_check

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
                    id="shops.E001",
                )
            )
    return errors
