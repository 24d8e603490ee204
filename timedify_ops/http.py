"""HTTP helpers shared by the token- or HMAC-protected endpoints (webhook ingress, log ingest)."""

from __future__ import annotations

from django.http import HttpRequest


def read_limited_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit`.

    A declared Content-Length over the limit is refused before reading; otherwise at
    most limit + 1 bytes are read, so an oversized body never sits in memory.
    """
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            pass
    body = request.read(limit + 1)
    if len(body) > limit:
        return None
    return body
