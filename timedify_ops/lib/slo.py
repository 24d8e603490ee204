"""Error budgets and burn rates, the SRE workbook's way (chapter 5, "Alerting on SLOs").

Plain arithmetic on (bad, total) counts; dashboard.slo feeds it counts summed from the
per-minute rollups. Definitions used throughout:

- SLI          good / total over a window (None when the window saw no events).
- error budget 1 − objective: the share of events that may be bad (0.5 % for 99.5 %).
- burn rate    (bad / total) / (1 − objective): 1 spends the budget exactly over the SLO
               window, 14.4 spends a 28-day budget in under two days.
- budget remaining over the SLO window = 1 − burn rate over that window (negative once overspent).

Multiwindow, multi-burn-rate alerting: a rule fires when the burn rate is at least its factor
over both its long window (enough to matter) and its short window (still happening now). A rule
is held back while its long window has fewer than `min_events` events, so one failure at low
traffic does not page anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Burn-rate windows in minutes, shortest first; the keys are what the pages and the alert rules show.
WINDOWS: dict[str, int] = {"5m": 5, "30m": 30, "1h": 60, "6h": 360, "3d": 3 * 24 * 60}

OK, TICKET, PAGE = "ok", "ticket", "page"
_SEVERITY_ORDER = {OK: 0, TICKET: 1, PAGE: 2}

# A burn rate computed as 0.072 / 0.005 may come out as 14.399999999999999; a rule's factor is
# meant as an exact boundary, so compare with a relative tolerance far below any real signal.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Counts:
    """Bad and total events in one window."""

    bad: int = 0
    total: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.bad + other.bad, self.total + other.total)

    @property
    def good(self) -> int:
        return self.total - self.bad

    @property
    def error_ratio(self) -> float | None:
        # Clamped to [0, 1]: counts read from different tables can disagree at a window's edge
        # (more bad events than the total they belong to); an SLI is never below 0 % or above 100 %.
        return None if self.total <= 0 else min(1.0, max(0.0, self.bad / self.total))

    @property
    def sli(self) -> float | None:
        ratio = self.error_ratio
        return None if ratio is None else 1.0 - ratio


def check_objective(objective: float) -> float:
    if not 0 < objective < 1:
        raise ValueError(f"an SLO objective is a fraction strictly between 0 and 1 (got {objective})")
    return objective


def error_budget(objective: float) -> float:
    """The share of events allowed to be bad."""
    return 1 - check_objective(objective)


def burn_rate(counts: Counts, objective: float) -> float | None:
    ratio = counts.error_ratio
    return None if ratio is None else ratio / error_budget(objective)


def budget_remaining(window: Counts, objective: float) -> float | None:
    """1 = untouched, 0 = spent, negative = overspent; over the whole SLO window."""
    burn = burn_rate(window, objective)
    return None if burn is None else 1 - burn


def allowed_bad(total: int, objective: float) -> float:
    """How many bad events a window of `total` events may hold and still meet the objective."""
    return total * error_budget(objective)


def met(counts: Counts, objective: float) -> bool | None:
    """Whether the SLI reached the objective; None without events (no data is not a miss)."""
    sli = counts.sli
    if sli is None:
        return None
    # Same tolerance as the rules: exactly 99.5 % meets a 99.5 % objective.
    return sli >= objective - _TOLERANCE


@dataclass(frozen=True)
class BurnRule:
    severity: str  # PAGE or TICKET
    long_window: str  # a key of WINDOWS
    short_window: str
    factor: float

    def __post_init__(self):
        for window in (self.long_window, self.short_window):
            if window not in WINDOWS:
                raise ValueError(f"unknown window {window!r}; known: {', '.join(WINDOWS)}")
        if self.severity not in (PAGE, TICKET):
            raise ValueError(f"a rule's severity is {PAGE!r} or {TICKET!r} (got {self.severity!r})")

    @property
    def name(self) -> str:
        return f"{self.severity}: {self.factor:g}× over {self.long_window} and {self.short_window}"

    def budget_share(self, window_days: float) -> float:
        """How much of the SLO window's budget the long window spends at this burn rate."""
        return self.factor * WINDOWS[self.long_window] / (window_days * 24 * 60)


# The workbook's recommendation for a 30-day (here 28-day) window: 2 % of the budget in 1 h or
# 5 % in 6 h pages; 10 % in 3 days opens a ticket.
DEFAULT_RULES: tuple[BurnRule, ...] = (
    BurnRule(PAGE, "1h", "5m", 14.4),
    BurnRule(PAGE, "6h", "30m", 6.0),
    BurnRule(TICKET, "3d", "6h", 1.0),
)


def at_least(value: float | None, threshold: float) -> bool:
    return value is not None and value >= threshold * (1 - _TOLERANCE)


@dataclass
class Evaluation:
    """What the rules say about one SLO right now."""

    state: str
    burn_rates: dict[str, float | None]
    fired: list[BurnRule] = field(default_factory=list)
    # Rules whose burn rates were high enough but whose long window had too few events.
    held_back: list[BurnRule] = field(default_factory=list)


def evaluate(
    windows: Mapping[str, Counts],
    objective: float,
    rules: Iterable[BurnRule] = DEFAULT_RULES,
    min_events: int = 0,
) -> Evaluation:
    """The multiwindow status of one SLO.

    1. The burn rate of every window (None for an empty window: nothing to judge).
    2. A rule fires when both its long and short window burn at ≥ its factor,
       and its long window holds at least `min_events` events.
    3. The state is the most severe fired rule: page > ticket > ok.
    """
    burns = {name: burn_rate(windows.get(name, Counts()), objective) for name in WINDOWS}
    fired, held_back = [], []
    for rule in rules:
        if not (at_least(burns[rule.long_window], rule.factor) and at_least(burns[rule.short_window], rule.factor)):
            continue
        if windows.get(rule.long_window, Counts()).total < min_events:
            held_back.append(rule)
        else:
            fired.append(rule)
    state = max((rule.severity for rule in fired), key=_SEVERITY_ORDER.__getitem__, default=OK)
    return Evaluation(state=state, burn_rates=burns, fired=fired, held_back=held_back)


def worst_state(states: Iterable[str]) -> str:
    return max(states, key=_SEVERITY_ORDER.__getitem__, default=OK)


def burn_down(bad_per_step: Sequence[int], window: Counts, objective: float) -> list[float | None]:
    """Budget remaining at the window's start and after each step, spending `bad_per_step` in order.

    The budget is the whole window's allowance (its total × (1 − objective)), so the last point
    equals budget_remaining(window). None throughout when the window has no events.
    """
    allowance = allowed_bad(window.total, objective)
    if window.total <= 0 or allowance <= 0:
        return [None] * (len(bad_per_step) + 1)
    remaining, spent = [1.0], 0
    for bad in bad_per_step:
        spent += bad
        remaining.append(1 - spent / allowance)
    return remaining


def ideal_remaining(elapsed: float) -> float:
    """The chart's guide line: spending evenly leaves 1 − elapsed of the budget (elapsed in 0…1)."""
    return 1 - min(max(elapsed, 0.0), 1.0)
