"""Fixed-bucket latency histograms.

Every SLO threshold is a bucket edge (100 ms is), so "fraction ≤ threshold" is exact and a
percentile is known to lie within one bucket. Counts add, so histograms from many processes
and many minutes merge by summing.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Upper bounds in milliseconds; the last bucket is everything above 10 s.
EDGES_MS: tuple[float, ...] = (1, 2.5, 5, 10, 25, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000)
BUCKETS = len(EDGES_MS) + 1


def bucket_index(value_ms: float, edges: Sequence[float] = EDGES_MS) -> int:
    """The bucket of `value_ms`: bucket i holds edges[i-1] < v ≤ edges[i] (Prometheus' `le`)."""
    return bisect.bisect_left(edges, value_ms)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    total_ms: float = 0.0
    edges: tuple[float, ...] = EDGES_MS

    @classmethod
    def from_counts(cls, counts: Iterable[int], total_ms: float = 0.0) -> Histogram:
        counts = list(counts)
        if len(counts) != BUCKETS:
            raise ValueError(f"expected {BUCKETS} bucket counts, got {len(counts)}")
        return cls(counts=counts, total_ms=total_ms)

    @property
    def count(self) -> int:
        return sum(self.counts)

    def observe(self, value_ms: float) -> None:
        self.counts[bucket_index(value_ms, self.edges)] += 1
        self.total_ms += value_ms

    def merge(self, other: Histogram) -> Histogram:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.total_ms += other.total_ms
        return self

    def count_le(self, threshold_ms: float) -> int:
        """Observations ≤ threshold; exact because the threshold must be an edge."""
        if threshold_ms not in self.edges:
            raise ValueError(f"{threshold_ms} ms is not a bucket edge; exact counts need one")
        return sum(self.counts[: self.edges.index(threshold_ms) + 1])

    def fraction_le(self, threshold_ms: float) -> float | None:
        total = self.count
        return None if total == 0 else self.count_le(threshold_ms) / total

    def quantile_bounds(self, q: float) -> tuple[float, float] | None:
        """The bucket (lower, upper] that holds the q-quantile (0 < q ≤ 1); upper may be inf."""
        total = self.count
        if total == 0:
            return None
        rank = math.ceil(q * total)
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                lower = 0.0 if index == 0 else self.edges[index - 1]
                upper = self.edges[index] if index < len(self.edges) else math.inf
                return lower, upper
        return None  # pragma: no cover - unreachable: seen reaches total

    def quantile(self, q: float) -> float | None:
        """An estimate inside the right bucket (linear interpolation), for charts."""
        bounds = self.quantile_bounds(q)
        if bounds is None:
            return None
        lower, upper = bounds
        if math.isinf(upper):
            return lower
        total = self.count
        rank = math.ceil(q * total)
        index = self.edges.index(upper)
        before = sum(self.counts[:index])
        inside = self.counts[index]
        return lower + (upper - lower) * ((rank - before) / inside if inside else 1.0)

    def cumulative(self) -> list[int]:
        """Counts ≤ each edge, then the total (the Prometheus `_bucket{le=…}` series)."""
        running, result = 0, []
        for count in self.counts:
            running += count
            result.append(running)
        return result
