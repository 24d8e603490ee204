"""The retry budget shared by webhook delivery, notifications and the Admin API client.

Defaults follow the checklist: exponential backoff 300 ms → 600 → 1200 → 2400 ms,
four retries (five attempts in all). Jitter may only lengthen a wait, never
shorten it, so the spacing is a guaranteed minimum.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class RetryBudget:
    base_ms: int = 300
    factor: float = 2.0
    retries: int = 4
    jitter: float = 0.1  # up to +10 % per wait
    retry_after_cap_s: float = 5.0

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    def backoff_ms(self, retry_number: int) -> float:
        """Base wait before retry `retry_number` (1-based): 300, 600, 1200, 2400 …"""
        return self.base_ms * (self.factor ** (retry_number - 1))

    def delay_s(self, retry_number: int, retry_after_s: float | None = None, rng=random.random) -> float:
        """Seconds to wait before retry `retry_number`.

        1. start from the exponential backoff;
        2. a server's Retry-After (capped) may lengthen it, never shorten it;
        3. jitter adds up to `jitter` × the wait.
        """
        wait = self.backoff_ms(retry_number) / 1000.0
        if retry_after_s is not None and retry_after_s > 0:
            wait = max(wait, min(retry_after_s, self.retry_after_cap_s))
        return wait * (1.0 + self.jitter * rng())

    def worst_case_s(self, attempt_timeout_s: float) -> float:
        """Longest a whole run of attempts can take (used to size leases and task timeouts)."""
        waits = sum(
            max(self.backoff_ms(n) / 1000.0, self.retry_after_cap_s) * (1 + self.jitter)
            for n in range(1, self.retries + 1)
        )
        return waits + self.max_attempts * attempt_timeout_s


def is_retryable_status(status: int) -> bool:
    """Network errors are retryable too; this answers for HTTP statuses only."""
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; HTTP dates ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds
