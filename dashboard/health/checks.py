"""The health app's settings checks: the names of EXTRA_HTTP_PROBES (their URLs are checked as
the setting is read)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from dashboard.health.probes import BUILTIN
from timedify_ops.checks import SETTINGS


@register(SETTINGS)
def check_extra_http_probes(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in settings.EXTRA_HTTP_PROBES:
        if name in BUILTIN:
            errors.append(
                Error(f"EXTRA_HTTP_PROBES: {name!r} is the name of a built-in probe; pick another", id="health.E001")
            )
        elif not name.replace("-", "").replace("_", "").isalnum() or len(name) > 64:
            errors.append(
                Error(f"EXTRA_HTTP_PROBES: probe names are letters, digits, - and _ (got {name!r})", id="health.E002")
            )
    return errors
