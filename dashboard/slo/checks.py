"""The SLO app's settings checks."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from timedify_ops.checks import SETTINGS
from timedify_ops.lib.histogram import EDGES_MS


@register(SETTINGS)
def check_latency_threshold(app_configs=None, **kwargs) -> list[Error]:
    """The latency SLI counts the histogram's buckets up to the threshold: exact only at an edge."""
    if settings.SLO_LATENCY_THRESHOLD_MS in EDGES_MS:
        return []
    edges = ", ".join(f"{edge:g}" for edge in EDGES_MS)
    return [
        Error(
            f"SLO_LATENCY_THRESHOLD_MS must be a histogram bucket edge so the SLI is exact; one of {edges} "
            f"(got {settings.SLO_LATENCY_THRESHOLD_MS:g})",
            id="slo.E001",
        )
    ]
