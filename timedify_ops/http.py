"""Small request helpers shared by views and middleware."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def read_limited_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than `limit` (webhook ingress, log ingest).

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


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: Fly's proxy puts it in Fly-Client-IP (and overwrites any value a
    client sends), so that header is trusted when TRUSTED_CLIENT_IP_HEADER names it; otherwise
    the socket's peer address. Used by the login throttle (django-axes)."""
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "").strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR")


def text_filter(value: str, label: str, errors: list[str]) -> str:
    """A free-text filter from the query string, stripped; with a NUL character it is dropped and
    the page says why (PostgreSQL refuses NUL in text: the query would fail with a 500)."""
    value = value.strip()
    if "\x00" in value:
        errors.append(f"The {label} filter contains a NUL character, which cannot be searched for; it was ignored.")
        return ""
    return value
