"""Small request helpers shared by views and middleware."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
