"""Strict readers for environment variables.

Every reader names the variable in its error, so a misconfigured machine stops
at start-up with a message an operator can act on (settings.py is the consumer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads variables from a mapping (os.environ by default) with fallbacks.

    `defaults` supplies development values (var/dev.env) that the real
    environment always overrides.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ):
        self.environ = os.environ if environ is None else environ
        self.defaults = dict(defaults or {})

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value == "":
            value = self.defaults.get(name)
        if value is None or value == "":
            return None
        return value.strip()

    def str(self, name: str, default=_MISSING) -> str:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {value!r})")

    def int(self, name: str, default=_MISSING, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number (got {value!r})") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name} must be at least {minimum} (got {number})")
        return number

    def float(self, name: str, default=_MISSING, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number (got {value!r})") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name} must be at least {minimum} (got {number})")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def secret(self, name: str, default=_MISSING, *, min_length: int = 16) -> str:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set (it is a secret: generate one, e.g. `openssl rand -hex 32`)")
            return default
        if len(value) < min_length:
            raise ConfigError(f"{name} is too short: at least {min_length} characters are required")
        return value

    def url(self, name: str, default=_MISSING, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        check_url(name, value, schemes)
        return value

    def mapping(self, name: str) -> dict[str, str]:
        """`key=value,key2=value2` (used for per-topic target overrides)."""
        value = self.raw(name)
        if value is None:
            return {}
        result = {}
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, val = item.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise ConfigError(f"{name} must look like key=value,key2=value2 (bad item {item!r})")
            result[key.strip()] = val.strip()
        return result


def check_url(name: str, value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL (got {value!r})") from None
    if parts.scheme not in schemes or not parts.netloc:
        allowed = "/".join(schemes)
        raise ConfigError(f"{name} must be an absolute {allowed} URL (got {value!r})")
    return value


def read_env_file(path) -> dict[str, str]:
    """Parse a KEY=VALUE file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return values
