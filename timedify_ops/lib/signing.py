"""Shopify webhook HMAC: base64(HMAC-SHA256(secret, raw body))."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, signature: str | None, secrets: list[str]) -> bool:
    """True when `signature` matches the body under any of `secrets`.

    Every secret is checked (no early exit) and each comparison is constant
    time, so timing does not tell which secret matched or how close a guess is.
    """
    if not signature:
        return False
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    matched = False
    for secret in secrets:
        if secret and hmac.compare_digest(sign(body, secret).encode("ascii"), given):
            matched = True
    return matched


def constant_time_equals(a: str | None, b: str | None) -> bool:
    """Compare two tokens (bearer tokens) without leaking their length of match."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
