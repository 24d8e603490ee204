"""Every row of every table, to prove a request changed nothing (or to search for secrets)."""

from __future__ import annotations

from django.apps import apps

# Rows a request may write without changing anything an operator acts on: the session store
# and the login throttle's own bookkeeping.
NOT_STATE = {"sessions.Session", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}


def snapshot(skip: set[str] = NOT_STATE) -> dict[str, list[dict]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label not in skip and model._meta.managed
    }


def differences(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]


def database_text() -> dict[str, str]:
    """Every table's rows as one text per table (binary columns decoded), session store included."""
    text = {}
    for label, rows in snapshot(skip=set()).items():
        parts = []
        for row in rows:
            for value in row.values():
                if isinstance(value, memoryview | bytes | bytearray):
                    value = bytes(value).decode("utf-8", errors="replace")
                parts.append(str(value))
        text[label] = "\n".join(parts)
    return text
