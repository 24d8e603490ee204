"""The retry budget and the one retry loop, shared by webhook delivery, notifications and the
Admin API client.

Defaults follow the checklist: exponential backoff 300 ms → 600 → 1200 → 2400 ms,
four retries (five attempts in all). Jitter may only lengthen a wait, never
shorten it, so the spacing is a guaranteed minimum.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

RETRYABLE_STATUS = frozenset({408, 429})

# The longest wait a Retry-After is believed for: one hour. A server asking for more (or an HTTP date
# further out, or a clock far off) is read as this. A budget sleeps in its retry loop only up to its
# own `retry_after_cap_s` (seconds); a longer Retry-After is the caller's cue to reschedule the work
# for then instead of retrying early (`RetryBudget.waits_for`), and this ceiling bounds how far out.
RETRY_AFTER_CEILING_S = 3600.0


class Outcome(Protocol):
    """What one try tells the loop."""

    @property
    def ok(self) -> bool: ...

    @property
    def retryable(self) -> bool: ...

    @property
    def retry_after_s(self) -> float | None: ...  # a server's hint (Retry-After, a throttle)


T = TypeVar("T", bound=Outcome)


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

    def waits_for(self, retry_after_s: float | None) -> bool:
        """Whether this budget's loop waits out a Retry-After (within `retry_after_cap_s`).

        False means the server asked for longer than the loop may sleep: `delay_s` would still only
        wait the cap, so a caller that can should reschedule the work for `retry_after_s` from now
        rather than retry early.
        """
        return retry_after_s is None or retry_after_s <= self.retry_after_cap_s

    def worst_case_s(self, attempt_timeout_s: float) -> float:
        """Longest a whole run of attempts can take (used to size leases and task timeouts)."""
        waits = sum(
            max(self.backoff_ms(n) / 1000.0, self.retry_after_cap_s) * (1 + self.jitter)
            for n in range(1, self.retries + 1)
        )
        return waits + self.max_attempts * attempt_timeout_s

    def run(
        self, try_once: Callable[[int], T], *, sleep: Callable[[float], None] = time.sleep, rng=random.random
    ) -> list[T]:
        """The retry loop: try until one try is ok, one fails for good, or the budget is spent.

        1. call try_once(1); an outcome that is ok, or not retryable, ends the run;
        2. otherwise wait delay_s(n, its retry_after_s) and call try_once(n + 1), at most
           `retries` more times.
        Returns every outcome, oldest first (the last is what the run ended with). try_once may
        raise to stop at once, e.g. on an answer that must not be retried or recorded as a try.
        """
        outcomes: list[T] = []
        for number in range(1, self.max_attempts + 1):
            if outcomes:
                sleep(self.delay_s(number - 1, outcomes[-1].retry_after_s, rng=rng))
            outcome = try_once(number)
            outcomes.append(outcome)
            if outcome.ok or not outcome.retryable:
                break
        return outcomes


def is_retryable_status(status: int) -> bool:
    """Network errors are retryable too; this answers for HTTP statuses only."""
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, ceiling_s: float = RETRY_AFTER_CEILING_S
) -> float | None:
    """Seconds to wait from a Retry-After header, in either of its forms (RFC 9110 §10.2.3):

    - delay-seconds (`120`; a decimal is accepted too),
    - an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, and the obsolete RFC 850 and asctime forms,
      read as GMT): the seconds from `now` until then, 0 when it has passed.

    At most `ceiling_s` (RETRY_AFTER_CEILING_S, an hour); None when the header is absent or unreadable.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, now)
        if seconds is None:
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, ceiling_s)


def _seconds_until(text: str, now: datetime | None) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # asctime carries no zone; HTTP dates are always GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
