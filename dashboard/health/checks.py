"""The health app's settings checks: the names of EXTRA_HTTP_PROBES (their URLs are checked as
the setting is read), HEARTBEATS and its token, and the kind of APP_DATABASE_URL."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from dashboard.health.probes import APP_MIGRATIONS, BUILTIN
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


@register(SETTINGS)
def check_heartbeats(app_configs=None, **kwargs) -> list[Error]:
    """HEARTBEATS (its format is read with the setting) needs its token, and names no probe twice."""
    errors = []
    if settings.HEARTBEATS and not settings.HEARTBEAT_TOKEN:
        errors.append(
            Error(
                "HEARTBEAT_TOKEN is not set, but HEARTBEATS is (the bearer token outside jobs report with)",
                id="health.E003",
            )
        )
    taken = {*BUILTIN, *settings.EXTRA_HTTP_PROBES, APP_MIGRATIONS}
    for name in settings.HEARTBEATS:
        if name in taken:
            errors.append(Error(f"HEARTBEATS: {name!r} is already the name of a probe; pick another", id="health.E004"))
    return errors


@register(SETTINGS)
def check_app_database_url(app_configs=None, **kwargs) -> list[Error]:
    url = settings.APP_DATABASE_URL
    if url and not url.startswith(("postgres://", "postgresql://", "file:", "sqlite:")):
        return [
            Error(
                "APP_DATABASE_URL must be a PostgreSQL URL (postgresql://…) or a Prisma SQLite URL (file:…)",
                id="health.E005",
            )
        ]
    return []
