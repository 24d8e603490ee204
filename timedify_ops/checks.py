"""The rooms' checks of their settings, and the start-up that runs them where Django does not.

A setting that is well formed (timedify_ops.lib.env checks that, in settings.py) may still make
no sense to the room that uses it: a probe name taken by a built-in probe, an SLO threshold that is
not a histogram edge, a malformed Fernet key. Each room registers those checks as system checks
tagged SETTINGS (the health, slo, alerts and shops apps' checks.py). `manage.py check`, `migrate`
(the release command) and `qcluster` run them; gunicorn runs no system checks, so the WSGI entry
point calls `refuse_bad_settings()`.
"""

from __future__ import annotations

import sys

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

SETTINGS = "settings"


def refuse_bad_settings(stream=None) -> None:
    """Run the settings checks; any error is written naming its variable, and raised: the process
    does not start (gunicorn's worker fails to boot, so gunicorn stops instead of retrying it)."""
    problems = [message for message in checks.run_checks(tags=[SETTINGS]) if message.is_serious()]
    if not problems:
        return
    stream = stream or sys.stderr
    lines = []
    for message in problems:
        hint = f" ({message.hint})" if message.hint else ""
        lines.append(f"timedify-ops: configuration error: {message.msg}{hint} [{message.id}]")
    stream.write("\n".join(lines) + "\n")
    raise ImproperlyConfigured("; ".join(lines))
