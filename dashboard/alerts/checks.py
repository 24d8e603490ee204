"""The alerts app's settings checks: overrides must name rules that exist (a typo would silently
do nothing), and the email channels need one way of encrypting."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from dashboard.alerts.rules import RULES
from timedify_ops.checks import SETTINGS


@register(SETTINGS)
def check_alert_rule_overrides(app_configs=None, **kwargs) -> list[Error]:
    known = {rule.key for rule in RULES}
    errors = []
    for name in ("ALERT_THRESHOLDS", "ALERT_FOR_MINUTES"):
        for key in sorted(set(getattr(settings, name, {})) - known):
            errors.append(
                Error(
                    f"{name} names an unknown alert rule {key!r}",
                    hint=f"known rules: {', '.join(sorted(known))}",
                    id="alerts.E001",
                )
            )
    return errors


@register(SETTINGS)
def check_email_encryption(app_configs=None, **kwargs) -> list[Error]:
    if settings.EMAIL_USE_TLS and settings.EMAIL_USE_SSL:
        return [Error("EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive", id="alerts.E003")]
    return []
