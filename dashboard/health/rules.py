"""The two rules of the status board, as plain Python (unit-tested without a database).

1. The state machine: a probe flips to down after `down_after` consecutive failed
   checks and back after `up_after` consecutive passing ones, so a single blip does
   not page anyone (Uptime Kuma's "retries"). A passing check with a warning means
   degraded; up and degraded follow the latest check directly, down needs the streak.

2. Uptime: the share of checks in the window that did not fail (ok and warn both
   count as up), floored — never rounded up — to three decimals, so 1 failure in
   a million checks reads 99.999 %, not 100.000 %.
"""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "fail"
UNKNOWN, UP, DEGRADED, DOWN = "unknown", "up", "degraded", "down"


@dataclass(frozen=True)
class Machine:
    status: str = UNKNOWN
    failures: int = 0  # consecutive failed checks
    successes: int = 0  # consecutive passing checks


def step(machine: Machine, state: str, *, down_after: int, up_after: int) -> Machine:
    """The machine after one more check with outcome `state` (ok / warn / fail).

    Steps:
    1. Count the streak: a failure resets the passing streak and vice versa.
    2. A failure makes the probe down once the failing streak reaches `down_after`;
       before that the status is left as it was (up stays up, unknown stays unknown).
    3. A pass brings a down probe back only once the passing streak reaches `up_after`;
       any other probe simply follows the check: ok = up, warn = degraded.
    """
    if state == FAIL:
        failures, successes = machine.failures + 1, 0
        status = DOWN if failures >= down_after else machine.status
        return Machine(status=status, failures=failures, successes=successes)
    failures, successes = 0, machine.successes + 1
    passing = DEGRADED if state == WARN else UP
    if machine.status == DOWN and successes < up_after:
        return Machine(status=DOWN, failures=failures, successes=successes)
    return Machine(status=passing, failures=failures, successes=successes)


def uptime_millipercent(total: int, failed: int) -> int | None:
    """Uptime in thousandths of a percent, floored (99.987 % → 99987); None without checks."""
    if total <= 0:
        return None
    return (total - failed) * 100_000 // total


def format_uptime(millipercent: int | None) -> str:
    """99987 → "99.987"; None → "—" (no checks in the window)."""
    if millipercent is None:
        return "—"
    return f"{millipercent // 1000}.{millipercent % 1000:03d}"


def format_duration(seconds: float) -> str:
    """A down interval for people: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
