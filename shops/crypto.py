"""Tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

TOKEN_ENCRYPTION_KEY encrypts; TOKEN_ENCRYPTION_KEY_PREVIOUS still decrypts during a
rotation (`manage.py import_offline_tokens` or any refresh re-encrypts with the current
key). A malformed key stops start-up (shops.checks); a missing key is only an error when
a token must be stored or read.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATE_HINT = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


class TokenKeyMissing(ImproperlyConfigured):
    pass


class TokenDecryptError(Exception):
    """The stored token was encrypted with a key that is neither the current nor the previous one."""


@lru_cache(maxsize=4)
def _cipher(current: str, previous: str) -> MultiFernet:
    keys = [Fernet(current)] + ([Fernet(previous)] if previous else [])
    return MultiFernet(keys)


def cipher() -> MultiFernet:
    if not settings.TOKEN_ENCRYPTION_KEY:
        raise TokenKeyMissing(
            "TOKEN_ENCRYPTION_KEY is not set: it is needed to store and read Shopify access tokens "
            f"(generate one with `{GENERATE_HINT}`)"
        )
    return _cipher(settings.TOKEN_ENCRYPTION_KEY, settings.TOKEN_ENCRYPTION_KEY_PREVIOUS)


def encrypt(value: str | None) -> str:
    if not value:
        return ""
    return cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str) -> str:
    if not value:
        return ""
    try:
        return cipher().decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise TokenDecryptError(
            "a stored token cannot be decrypted with TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEY_PREVIOUS"
        ) from None


def readable(value: str) -> bool:
    """Whether a stored token decrypts with the configured keys (False without any key)."""
    if not value:
        return True
    if not settings.TOKEN_ENCRYPTION_KEY:
        return False
    try:
        cipher().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def needs_rotation(value: str) -> bool:
    """True when `value` does not decrypt under the current key alone (it is under the previous one)."""
    if not value:
        return False
    try:
        Fernet(settings.TOKEN_ENCRYPTION_KEY).decrypt(value.encode("ascii"))
    except InvalidToken:
        return True
    return False


def reencrypt(value: str) -> str:
    """The same secret under the current key (MultiFernet.rotate)."""
    if not value:
        return ""
    try:
        return cipher().rotate(value.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise TokenDecryptError(
            "a stored token cannot be decrypted with TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEY_PREVIOUS"
        ) from None
