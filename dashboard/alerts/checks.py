"""A system check: per-rule overrides must name rules that exist (a typo would silently do nothing).

`manage.py check` and `migrate` (the release command) stop on it, naming the variable and the key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from dashboard.alerts.rules import RULES


@register()
def check_alert_rule_overrides(app_configs=None, **kwargs):
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
