from __future__ import annotations

import time

from timedify_ops.telemetry import measure


class IngressTelemetryMiddleware:
    """Times every ingress request (request start → response ready) into the per-minute
    histogram and counts it by topic and outcome; memory only, flushed in the background.

    First in MIDDLEWARE so the time includes the rest of the stack. The view tells the outcome
    by setting `request.timedify_outcome` / `request.timedify_topic`; otherwise the status says.
    """

    PREFIX = "/webhooks/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        outcome = getattr(request, "timedify_outcome", None) or f"http_{response.status_code}"
        synthetic = "1" if request.headers.get("X-Timedify-Synthetic") == "1" else "0"
        measure.observe("ingress", elapsed_ms, outcome=outcome, synthetic=synthetic)
        measure.count(
            "webhooks_ingress_total", outcome=outcome, topic=getattr(request, "timedify_topic", "") or "unknown"
        )
        return response
