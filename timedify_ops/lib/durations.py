"""Human durations for settings and commands: "24h", "90m", "7d", "30s", or bare hours ("24").

Used by DEADLETTER_REPLAYED_GRACE and `replay_deadletters --since`.
"""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str, *, bare_unit: str = "h") -> timedelta:
    """A non-negative duration; a bare number is in `bare_unit`. Raises ValueError otherwise."""
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration (examples: 24h, 90m, 7d, 30s)")
    number, unit = match.groups()
    return timedelta(**{_UNITS[(unit or bare_unit).lower()]: float(number)})
