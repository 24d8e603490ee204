"""Roles are Django groups (created by the migration timedify_ops/accounts/migrations/0001_roles.py).

viewer   reads everything.
operator may also replay, delete, run schedules now and acknowledge alerts.
Superusers are operators.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

VIEWER = "viewer"
OPERATOR = "operator"


def _groups(user) -> set[str]:
    cached = getattr(user, "_timedify_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._timedify_groups = cached
    return cached


def is_operator(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or OPERATOR in _groups(user)


def has_role(user) -> bool:
    """May read the console: viewers, operators and superusers."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(_groups(user) & {VIEWER, OPERATOR})


def operator_required(view):
    """403 for anyone but an operator (login is already enforced by middleware)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_operator(request.user):
            raise PermissionDenied("This action needs the operator role.")
        return view(request, *args, **kwargs)

    return wrapper
