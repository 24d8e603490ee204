"""Number formats of the SLO pages: shares as percentages, burn rates as multiples."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 2) -> str:
    """0.99953 → "99.95 %"; None → "–" (no events to judge)."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.{int(digits)}f} %"


@register.filter
def burn(value) -> str:
    """A burn rate: 14.4 → "14.4×"; None → "–"."""
    if value is None:
        return "–"
    value = float(value)
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


@register.filter
def epoch(value) -> datetime | None:
    """Unix seconds (the charts' x values) → a UTC datetime for the |date filter."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
